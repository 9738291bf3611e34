/*
 * The TLS options checked and made into an SSL_CTX, with no I/O, so that
 * settings that cannot work are refused before a STARTTLS is sent.  Every
 * error names the argument at fault by its name in imclient_starttls().
 */
#include "transport/tls_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>

#include "cyrus/xmalloc.h"
#include "transport/idn.h"
#include "transport/tls_ctx_share.h"
#include "transport/trust_store.h"

const char *imc_tls_openssl_reason(unsigned long *code)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0)
        last = e;
    if (code)
        *code = last;
    return last ? ERR_reason_error_string(last) : NULL;
}

/* "<what>: <OpenSSL's reason>"; what is already formatted. */
static int openssl_error(char *err, size_t errlen, const char *what)
{
    const char *why = imc_tls_openssl_reason(NULL);
    snprintf(err, errlen, "%s: %s", what, why ? why : "failed");
    return -1;
}

/* ---- the files named ------------------------------------------------------ */

/* OpenSSL's own message for a file it cannot open is "system lib"; the
 * errno says what the user can fix.  O_NONBLOCK: a FIFO must not hang the
 * check. */
static int check_file(const char *arg, const char *file, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    int e = fd < 0 ? errno : fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (fd >= 0)
        close(fd);
    if (e)
        snprintf(err, errlen, "%s \"%s\": %s", arg, file, strerror(e));
    return e ? -1 : 0;
}

/* OpenSSL takes any CApath and only searches it while verifying, so a
 * missing directory would surface as an unknown issuer, after STARTTLS. */
static int check_dir(const char *arg, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s \"%s\": %s", arg, dir, strerror(errno));
        return -1;
    }
    closedir(d);
    return 0;
}

/* "" once meant the system's store, silently widening trust to every CA
 * the system knows when a configured name came out empty. */
static int check_ca_args(const struct imc_tls_options *o, char *err, size_t errlen)
{
    if (o->ca_file && !o->ca_file[0]) {
        snprintf(err, errlen, "CAfile is \"\": name a file of trusted CAs, or pass NULL "
                              "(with CApath NULL) for the system's");
        return -1;
    }
    if (o->ca_path && !o->ca_path[0]) {
        snprintf(err, errlen, "CApath is \"\": name a directory of trusted CAs, or pass "
                              "NULL");
        return -1;
    }
    if (o->ca_file && check_file("CAfile", o->ca_file, err, errlen) < 0)
        return -1;
    if (o->ca_path && check_dir("CApath", o->ca_path, err, errlen) < 0)
        return -1;
    return 0;
}

static int load_trust(SSL_CTX *ctx, const struct imc_tls_options *o, char *err,
                      size_t errlen)
{
    if (check_ca_args(o, err, errlen) < 0)
        return -1;
    if (!o->ca_file && !o->ca_path) {
        X509_STORE *shared = imc_system_trust_store();
        if (!shared)
            return openssl_error(err, errlen, "cannot load the system's trusted CAs");
        SSL_CTX_set1_cert_store(ctx, shared);
        return 0;
    }
    if (SSL_CTX_load_verify_locations(ctx, o->ca_file, o->ca_path) != 1) {
        char what[300];
        snprintf(what, sizeof what, "%s \"%s\": cannot load trusted CAs",
                 o->ca_file ? "CAfile" : "CApath", o->ca_file ? o->ca_file : o->ca_path);
        return openssl_error(err, errlen, what);
    }
    return 0;
}

/* "" for either means none, as it always has: unlike an empty CAfile it
 * cannot widen what is trusted. */
static const char *given(const char *s)
{
    return s && *s ? s : NULL;
}

static int use_key(SSL_CTX *ctx, const char *cert, const char *key, char *err,
                   size_t errlen)
{
    char what[300];
    if (key && check_file("key_file", key, err, errlen) < 0)
        return -1;
    if (SSL_CTX_use_PrivateKey_file(ctx, key ? key : cert, SSL_FILETYPE_PEM) != 1) {
        if (key)
            snprintf(what, sizeof what, "key_file \"%s\": cannot use the client key", key);
        else
            snprintf(what, sizeof what, "cert_file \"%s\" holds no usable key (key_file "
                     "is NULL)", cert);
        return openssl_error(err, errlen, what);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(what, sizeof what, "key_file \"%s\" does not match cert_file \"%s\"",
                 key ? key : cert, cert);
        return openssl_error(err, errlen, what);
    }
    return 0;
}

static int load_client_cert(SSL_CTX *ctx, const struct imc_tls_options *o, char *err,
                            size_t errlen)
{
    const char *cert = given(o->cert_file), *key = given(o->key_file);
    if (!cert && key) {
        snprintf(err, errlen, "key_file \"%s\" given without cert_file", key);
        return -1;
    }
    if (!cert)
        return 0;
    if (check_file("cert_file", cert, err, errlen) < 0)
        return -1;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        char what[300];
        snprintf(what, sizeof what, "cert_file \"%s\": cannot use the client certificate",
                 cert);
        return openssl_error(err, errlen, what);
    }
    return use_key(ctx, cert, key, err, errlen);
}

/* ---- the context and the name ------------------------------------------- */

static SSL_CTX *make_ctx(const struct imc_tls_options *o, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        openssl_error(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Renegotiation could change the peer mid-session; nothing IMAP needs. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    /* A write returns once a whole record has reached the lower layer, and
     * the queue it was given may move between retries (the output buffer
     * grows).  An idle connection gives its record buffers (about 34 KiB)
     * back to OpenSSL's allocator until the next record. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    /* The layer sets its own verify callback on each SSL (tls.c). */
    SSL_CTX_set_verify(ctx, o->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    /* CAfile and CApath are not used without verification, so not checked. */
    if ((o->verify && load_trust(ctx, o, err, errlen) < 0) ||
        load_client_cert(ctx, o, err, errlen) < 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* The name as sent and checked: its A-label form, without the one trailing
 * dot of an absolute DNS name, which certificates and SNI do not carry. */
static char *wire_host(const char *host, char *err, size_t errlen)
{
    char *h;
    if (imc_idn_ascii(host ? host : "", &h, err, errlen) < 0)
        return NULL;
    size_t n = strlen(h);
    if (n > 1 && h[n - 1] == '.')
        h[n - 1] = '\0';
    return h;
}

struct imc_tls_config *imc_tls_config_new(const struct imc_tls_options *o, char *err,
                                          size_t errlen)
{
    ERR_clear_error();
    char *host = wire_host(o->host, err, errlen);
    if (!host)
        return NULL;
    struct imc_tls_ctx_share *share = imc_tls_ctx_obtain(o, make_ctx, err, errlen);
    if (!share) {
        free(host);
        return NULL;
    }
    struct imc_tls_config *cfg = xzmalloc(sizeof *cfg);
    cfg->share = share;
    cfg->ctx = share->ctx;
    cfg->host = host;
    cfg->given = xstrdup(o->host ? o->host : "");
    cfg->verify = o->verify;
    return cfg;
}

void imc_tls_config_free(struct imc_tls_config *cfg)
{
    if (!cfg)
        return;
    imc_tls_ctx_release(cfg->share);
    free(cfg->host);
    free(cfg->given);
    free(cfg);
}
