/*
 * The TLS layer: OpenSSL on top of whatever layer lies below it.
 *
 * OpenSSL never sees the socket: its records go through a BIO whose read and
 * write are imc_transport calls on the lower layer, so the layer works the
 * same over the socket or over any other layer stacked there later.
 * Every layer has its own SSL_CTX: trust, client certificates and
 * verification settings belong to one connection, and nothing is shared
 * between threads.
 */
#ifndef IMC_TLS_H
#define IMC_TLS_H

#include "transport/transport.h"

struct imc_tls_options {
    const char *host;      /* the name or address the application connected
                              to: sent as SNI (names only) and checked against
                              the certificate */
    int verify;            /* nonzero: the chain and the host must verify */
    const char *cert_file; /* client certificate chain (PEM), or NULL */
    const char *key_file;  /* its key; NULL: in cert_file */
    const char *ca_file;   /* trusted CAs; both NULL: the system's store */
    const char *ca_path;
};

/*
 * Put a TLS layer on lower.  Returns the layer, which then owns lower; or
 * NULL with the reason in err (lower untouched) when the options cannot be
 * used: an unreadable CA or certificate file, a key that does not match.
 * No byte is exchanged until imc_tls_handshake().
 */
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

#endif
