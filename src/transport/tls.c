#include "transport/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cyrus/xmalloc.h"
#include "transport/tls_config.h"
#include "transport/tls_ctx_share.h"

struct tls_layer {
    struct imc_transport base; /* first: callers hold a struct imc_transport * */
    struct imc_tls_ctx_share *share; /* holds ctx, perhaps for other layers too */
    SSL_CTX *ctx;
    SSL *ssl;
    BIO_METHOD *method;
    char *host;  /* as sent and checked (A-label form) */
    char *given; /* as the application gave it */
    int verify;
    /* What the last blocked call of each kind waits for (IMC_WANT_*).  Kept
     * apart because a write can wait on the socket while a read succeeds. */
    int handshake_want, read_want, write_want;
    int lower_errno; /* the lower layer failed during the current call */
    int lower_eof;   /* the lower layer reported the end of the stream */
    int fatal;       /* the session is dead: no close_notify on destroy */
    /* The first complaint of certificate verification, for the error text. */
    int verify_err, verify_depth, leaf_has_san;
    char verify_subject[80];
};

/* ---- the BIO: OpenSSL's records go through the lower layer -------------- */

static int bio_write(BIO *b, const char *data, int len)
{
    struct tls_layer *l = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n = imc_transport_write(l->base.lower, data, (size_t)len);
    if (n > 0)
        return (int)n;
    if (n < 0 && errno == EAGAIN) {
        BIO_set_retry_write(b);
        return -1;
    }
    l->lower_errno = n < 0 ? errno : EPIPE;
    return -1;
}

static int bio_read(BIO *b, char *buf, int len)
{
    struct tls_layer *l = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n = imc_transport_read(l->base.lower, buf, (size_t)len);
    if (n > 0)
        return (int)n;
    if (n == 0) {
        l->lower_eof = 1;
        return 0;
    }
    if (errno == EAGAIN) {
        BIO_set_retry_read(b);
        return -1;
    }
    l->lower_errno = errno;
    return -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    /* OpenSSL flushes after each flight; the lower layer has taken (or
     * refused) every byte already, so there is nothing left to push. */
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* One method table per layer: OpenSSL allocates them, and a shared one
 * would be process-wide state with its own lifetime questions. */
static int attach_bio(struct tls_layer *l)
{
    l->method = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "imclient lower layer");
    if (!l->method || !BIO_meth_set_write(l->method, bio_write) ||
        !BIO_meth_set_read(l->method, bio_read) ||
        !BIO_meth_set_ctrl(l->method, bio_ctrl) ||
        !BIO_meth_set_create(l->method, bio_create))
        return -1;
    BIO *bio = BIO_new(l->method);
    if (!bio)
        return -1;
    BIO_set_data(bio, l);
    SSL_set_bio(l->ssl, bio, bio);
    return 0;
}

/* ---- errors ---------------------------------------------------------- */

static int setup_error(char *err, size_t errlen, const char *what, const char *file)
{
    const char *why = imc_tls_openssl_reason(NULL);
    snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "", file ? file : "",
             why ? why : "failed");
    return -1;
}

/* An internationalized name is shown also in the A-label form that was
 * checked, since that is what a certificate holds. */
static int is_unicode(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 1;
    return 0;
}

/* Verification stopped the handshake: say which certificate and why, in
 * words a user can act on. */
static void describe_verify(struct tls_layer *l)
{
    char *out = l->base.error;
    size_t cap = sizeof l->base.error;
    const char *why = X509_verify_cert_error_string(l->verify_err);
    int idn = is_unicode(l->given);
    if (l->verify_err == X509_V_ERR_HOSTNAME_MISMATCH ||
        l->verify_err == X509_V_ERR_IP_ADDRESS_MISMATCH)
        snprintf(out, cap, "certificate verify failed: %s: the certificate does not "
                 "name \"%s\"%s%s%s%s", why, idn ? l->given : l->host, idn ? " (" : "",
                 idn ? l->host : "", idn ? ")" : "",
                 l->leaf_has_san ? "" : " (it has no subjectAltName; its CN is not used)");
    else
        snprintf(out, cap, "certificate verify failed: %s (depth %d: %s)", why,
                 l->verify_depth, l->verify_subject);
}

static void describe_failure(struct tls_layer *l, int sslerr)
{
    char *out = l->base.error;
    size_t cap = sizeof l->base.error;
    unsigned long code;
    const char *why = imc_tls_openssl_reason(&code);
    if (l->verify_err)
        describe_verify(l);
    else if (l->lower_errno)
        snprintf(out, cap, "%s", l->base.lower->error[0] ? l->base.lower->error
                                                          : strerror(l->lower_errno));
    else if (l->lower_eof)
        snprintf(out, cap, "the server closed the connection");
    else if (why && (ERR_GET_REASON(code) == SSL_R_WRONG_VERSION_NUMBER ||
                     ERR_GET_REASON(code) == SSL_R_PACKET_LENGTH_TOO_LONG))
        snprintf(out, cap, "%s (the server's bytes are not TLS)", why);
    else if (why)
        snprintf(out, cap, "%s", why);
    else
        snprintf(out, cap, "OpenSSL error %d", sslerr);
}

/* Only watches: the verdict stays OpenSSL's, so a certificate it rejects
 * is never accepted here.  It keeps the first complaint for the message. */
static int note_verify(int ok, X509_STORE_CTX *store)
{
    if (ok)
        return ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct tls_layer *l = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!l || l->verify_err)
        return ok;
    l->verify_err = X509_STORE_CTX_get_error(store);
    l->verify_depth = X509_STORE_CTX_get_error_depth(store);
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    if (cert) {
        X509_NAME_oneline(X509_get_subject_name(cert), l->verify_subject,
                          sizeof l->verify_subject);
        l->leaf_has_san = X509_get_ext_by_NID(cert, NID_subject_alt_name, -1) >= 0;
    }
    return ok;
}

/* ---- setting up ---------------------------------------------------------- */

static int is_ip_literal(const char *host)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* RFC 6125 as OpenSSL implements it: DNS names in subjectAltName only, no
 * fallback to the subject CN, wildcards only as a whole left-most label.
 * Addresses match iPAddress entries.  SNI carries names, never addresses
 * (RFC 6066 section 3). */
static int setup_host(struct tls_layer *l, char *err, size_t errlen)
{
    X509_VERIFY_PARAM *param = SSL_get0_param(l->ssl);
    if (is_ip_literal(l->host)) {
        if (l->verify && X509_VERIFY_PARAM_set1_ip_asc(param, l->host) != 1)
            return setup_error(err, errlen, "cannot check the address", l->host);
        return 0;
    }
    if (!l->host[0]) {
        if (!l->verify)
            return 0;
        snprintf(err, errlen, "no server name to verify the certificate against");
        return -1;
    }
    if (SSL_set_tlsext_host_name(l->ssl, l->host) != 1)
        return setup_error(err, errlen, "cannot send the server name", l->host);
    if (!l->verify)
        return 0;
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
                                               X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_host(param, l->host, 0) != 1)
        return setup_error(err, errlen, "cannot check the name", l->host);
    return 0;
}

static int setup_ssl(struct tls_layer *l, char *err, size_t errlen)
{
    l->ssl = SSL_new(l->ctx);
    if (!l->ssl)
        return setup_error(err, errlen, "cannot create a TLS session", NULL);
    SSL_set_app_data(l->ssl, l);
    if (l->verify)
        SSL_set_verify(l->ssl, SSL_VERIFY_PEER, note_verify);
    if (attach_bio(l) < 0)
        return setup_error(err, errlen, "cannot create the TLS I/O channel", NULL);
    if (setup_host(l, err, errlen) < 0)
        return -1;
    SSL_set_connect_state(l->ssl);
    return 0;
}

/* Everything but the lower layer. */
static void free_layer(struct tls_layer *l)
{
    SSL_free(l->ssl); /* and its BIO */
    imc_tls_ctx_release(l->share);
    BIO_meth_free(l->method);
    ERR_clear_error();
    free(l->host);
    free(l->given);
    free(l);
}

/* ---- the layer ------------------------------------------------------------ */

static int want_of(int sslerr)
{
    if (sslerr == SSL_ERROR_WANT_READ)
        return IMC_WANT_READ;
    if (sslerr == SSL_ERROR_WANT_WRITE)
        return IMC_WANT_WRITE;
    return 0;
}

static void begin_call(struct tls_layer *l)
{
    l->lower_errno = 0;
    ERR_clear_error();
}

static ssize_t io_failure(struct tls_layer *l, int sslerr)
{
    l->fatal = 1;
    if (sslerr == SSL_ERROR_SYSCALL && l->lower_errno) {
        ERR_clear_error();
        snprintf(l->base.error, sizeof l->base.error, "%s", l->base.lower->error);
        errno = l->lower_errno;
        return -1;
    }
    describe_failure(l, sslerr);
    errno = EPROTO;
    return -1;
}

static ssize_t tls_read(struct imc_transport *t, char *buf, size_t len)
{
    struct tls_layer *l = (struct tls_layer *)t;
    size_t n = 0;
    begin_call(l);
    int r = SSL_read_ex(l->ssl, buf, len, &n);
    if (r == 1) {
        l->read_want = 0;
        return (ssize_t)n;
    }
    int e = SSL_get_error(l->ssl, r);
    l->read_want = want_of(e);
    if (l->read_want) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    /* A close without close_notify: for IMAP, whose replies carry their own
     * ends, that is the end of the stream; pending commands get EOF. */
    if (l->lower_eof && !l->lower_errno) {
        l->fatal = 1;
        ERR_clear_error();
        return 0;
    }
    return io_failure(l, e);
}

static ssize_t tls_write(struct imc_transport *t, const char *buf, size_t len)
{
    struct tls_layer *l = (struct tls_layer *)t;
    size_t n = 0;
    begin_call(l);
    int r = SSL_write_ex(l->ssl, buf, len, &n);
    if (r == 1) {
        l->write_want = 0;
        return (ssize_t)n;
    }
    int e = SSL_get_error(l->ssl, r);
    l->write_want = want_of(e);
    if (l->write_want) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        snprintf(t->error, sizeof t->error, "the server ended the TLS session");
        errno = EPIPE;
        return -1;
    }
    return io_failure(l, e);
}

/* Decrypted bytes OpenSSL holds (the rest of a record larger than the last
 * read) never show up on the socket, so the caller must read them without
 * waiting.  Records not yet taken from below are the lower layer's to
 * report: without read-ahead OpenSSL reads no further than one record. */
static size_t tls_buffered(const struct imc_transport *t)
{
    const struct tls_layer *l = (const struct tls_layer *)t;
    int n = SSL_pending(l->ssl);
    return (n > 0 ? (size_t)n : 0) + imc_transport_buffered(t->lower);
}

static int tls_wants(const struct imc_transport *t)
{
    const struct tls_layer *l = (const struct tls_layer *)t;
    return l->handshake_want | l->read_want | l->write_want |
           imc_transport_wants(t->lower);
}

static void tls_destroy(struct imc_transport *t)
{
    struct tls_layer *l = (struct tls_layer *)t;
    struct imc_transport *lower = t->lower;
    /* One attempt at close_notify, never waiting for the peer's. */
    if (!l->fatal && SSL_is_init_finished(l->ssl)) {
        ERR_clear_error();
        SSL_shutdown(l->ssl);
    }
    free_layer(l);
    imc_transport_destroy(lower);
}

static const struct imc_transport_ops tls_ops = {
    "tls", tls_read, tls_write, tls_buffered, tls_wants, tls_destroy,
};

struct imc_transport *imc_tls_new_from(struct imc_transport *lower,
                                       const struct imc_tls_config *cfg, char *err,
                                       size_t errlen)
{
    struct tls_layer *l = xzmalloc(sizeof *l);
    l->base.ops = &tls_ops;
    l->base.lower = lower;
    l->base.fd = lower->fd;
    l->share = imc_tls_ctx_hold(cfg->share);
    l->ctx = cfg->ctx;
    l->host = xstrdup(cfg->host);
    l->given = xstrdup(cfg->given);
    l->verify = cfg->verify;
    ERR_clear_error();
    if (setup_ssl(l, err, errlen) < 0) {
        free_layer(l);
        return NULL;
    }
    return &l->base;
}

struct imc_transport *imc_tls_new(struct imc_transport *lower,
                                  const struct imc_tls_options *o, char *err,
                                  size_t errlen)
{
    struct imc_tls_config *cfg = imc_tls_config_new(o, err, errlen);
    if (!cfg)
        return NULL;
    struct imc_transport *t = imc_tls_new_from(lower, cfg, err, errlen);
    imc_tls_config_free(cfg);
    return t;
}

/* Belt and braces: SSL_VERIFY_PEER already aborts on a bad certificate, but
 * success must also mean there was a certificate and it passed. */
static int verified(struct tls_layer *l)
{
    if (!l->verify)
        return 1;
    long r = SSL_get_verify_result(l->ssl);
    if (r == X509_V_OK && SSL_get0_peer_certificate(l->ssl))
        return 1;
    l->fatal = 1;
    snprintf(l->base.error, sizeof l->base.error, "certificate verify failed: %s",
             r == X509_V_OK ? "the server sent no certificate"
                            : X509_verify_cert_error_string(r));
    return 0;
}

int imc_tls_handshake(struct imc_transport *t)
{
    struct tls_layer *l = (struct tls_layer *)t;
    begin_call(l);
    int r = SSL_connect(l->ssl);
    if (r == 1) {
        l->handshake_want = 0;
        return verified(l) ? 1 : -1;
    }
    int e = SSL_get_error(l->ssl, r);
    l->handshake_want = want_of(e);
    if (l->handshake_want)
        return 0;
    l->fatal = 1;
    describe_failure(l, e);
    return -1;
}

const char *imc_tls_protocol(const struct imc_transport *t)
{
    const struct tls_layer *l = (const struct tls_layer *)t;
    return SSL_is_init_finished(l->ssl) ? SSL_get_version(l->ssl) : "";
}

const void *imc_tls_trust_store(const struct imc_transport *t)
{
    const struct tls_layer *l = (const struct tls_layer *)t;
    return SSL_CTX_get_cert_store(l->ctx);
}
