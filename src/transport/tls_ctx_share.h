/*
 * TLS contexts shared between connections made with the same TLS
 * arguments, so that 10,000 connections hold one SSL_CTX, not 10,000.
 */
#ifndef IMC_TLS_CTX_SHARE_H
#define IMC_TLS_CTX_SHARE_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "transport/tls.h"

/* A held context; the holder uses only ctx. */
struct imc_tls_ctx_share {
    SSL_CTX *ctx;
};

typedef SSL_CTX *imc_tls_ctx_make_fn(const struct imc_tls_options *o, char *err, size_t errlen);

/*
 * The context for o's arguments (verify, CAfile, CApath, cert_file,
 * key_file; never the host, which lives on each SSL): one already held by
 * another connection when the files named are the very same files,
 * unchanged since (device, inode, size, modification time), or else a new
 * one from make(), shared from now on.  NULL when make() failed (its
 * reason in err) or a file named cannot be looked at (its reason in err).
 * Release each one obtained exactly once.
 */
struct imc_tls_ctx_share *imc_tls_ctx_obtain(const struct imc_tls_options *o,
                                             imc_tls_ctx_make_fn *make, char *err,
                                             size_t errlen);
void imc_tls_ctx_release(struct imc_tls_ctx_share *share);
/* One more holder of share, which it returns; release it as well. */
struct imc_tls_ctx_share *imc_tls_ctx_hold(struct imc_tls_ctx_share *share);

/* Contexts other connections could share now, for tests. */
size_t imc_tls_ctx_shared_count(void);

#endif
