/* What tls_config.c hands the TLS layer (tls.c); no one else looks inside. */
#ifndef IMC_TLS_CONFIG_H
#define IMC_TLS_CONFIG_H

#include <openssl/ssl.h>

#include "transport/tls.h"

struct imc_tls_config {
    struct imc_tls_ctx_share *share; /* holds ctx, maybe with other connections */
    SSL_CTX *ctx;
    char *host;  /* as sent and checked: A-label form, no trailing dot */
    char *given; /* as the application gave it, for messages */
    int verify;
};

/* The reason OpenSSL gave last, or NULL; the queue is left empty so that
 * stale entries never explain a later failure.  code: its error code. */
const char *imc_tls_openssl_reason(unsigned long *code);

#endif
