/*
 * The TLS layer: OpenSSL on top of whatever layer lies below it.
 *
 * OpenSSL never sees the socket: its records go through a BIO whose read and
 * write are imc_transport calls on the lower layer, so the layer works the
 * same over the socket or over any other layer stacked there later.
 * Layers made with the same arguments share one SSL_CTX, never modified
 * once made (transport/tls_ctx_share.c); what belongs to one connection
 * (the host to check, the verify callback) is set on its SSL.  Contexts
 * that verify against the system's CAs share one store of them, loaded
 * once per process (transport/trust_store.c).
 */
#ifndef IMC_TLS_H
#define IMC_TLS_H

#include "transport/transport.h"

struct imc_tls_options {
    const char *host;      /* the name or address the application connected
                              to: sent as SNI (names only, in A-label form)
                              and checked against the certificate */
    int verify;            /* nonzero: the chain and the host must verify */
    const char *cert_file; /* client certificate chain (PEM), or NULL */
    const char *key_file;  /* its key; NULL: in cert_file */
    const char *ca_file;   /* trusted CAs; both NULL: the system's store */
    const char *ca_path;
};

/* Options checked and turned into an OpenSSL context, before any I/O. */
struct imc_tls_config;

/*
 * Check every option and build the context: the host name must have an
 * ASCII form; when verifying, CAfile must be a readable file of CAs and
 * CApath a readable directory ("" is neither; NULL for both means the
 * system's store); cert_file and key_file must load and match.  Returns
 * the config, or NULL with the reason in err, naming the argument.
 */
struct imc_tls_config *imc_tls_config_new(const struct imc_tls_options *o, char *err,
                                          size_t errlen);
void imc_tls_config_free(struct imc_tls_config *cfg);

/*
 * Put a TLS layer made from cfg on lower (cfg may be freed afterwards).
 * Returns the layer, which then owns lower; or NULL with the reason in err
 * (lower untouched).  No byte is exchanged until imc_tls_handshake().
 */
struct imc_transport *imc_tls_new_from(struct imc_transport *lower,
                                       const struct imc_tls_config *cfg, char *err,
                                       size_t errlen);

/* imc_tls_config_new() and imc_tls_new_from() in one call. */
struct imc_transport *imc_tls_new(struct imc_transport *lower,
                                  const struct imc_tls_options *o, char *err,
                                  size_t errlen);

/*
 * Advance the handshake without blocking.  Returns 1 once it is complete
 * (and, when verifying, the certificate verified); 0 when it waits for the
 * socket (wants() says which way); -1 when it failed, with the reason in
 * t->error.  read() and write() are only for after it returned 1.
 */
int imc_tls_handshake(struct imc_transport *t);

/* "TLSv1.3" and the like once the handshake is done, else "". */
const char *imc_tls_protocol(const struct imc_transport *t);

/* The X509_STORE the layer verifies against, for tests that check which
 * layers share one; compare it, never use it. */
const void *imc_tls_trust_store(const struct imc_transport *t);

#endif
