#include "tlsfake.h"
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define STEP_TIMEOUT_MS 10000

struct tlsfake {
    int listen_fd;
    int fd;
    char port[16];
    struct tlsfake_step *steps;
    size_t nsteps;
    SSL_CTX *ctx;
    SSL *ssl; /* non-NULL once TLS is on */
    pthread_t thread;
    char *received;
    size_t rlen, rcap;
    size_t tls_at;
    char sni[256];
    char peer_cn[128];
    char hs_error[256];
    int stopped; /* the client left where the script allows it: the end */
    char error[512];
};

static void record(struct tlsfake *fs, const char *p, size_t n)
{
    if (fs->rlen + n > fs->rcap) {
        fs->rcap = (fs->rlen + n) * 2 + 256;
        fs->received = realloc(fs->received, fs->rcap);
    }
    memcpy(fs->received + fs->rlen, p, n);
    fs->rlen += n;
}

static void set_timeout(int fd, int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static const char *ssl_reason(void)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0)
        last = e;
    const char *r = last ? ERR_reason_error_string(last) : NULL;
    return r ? r : "no OpenSSL reason";
}

/* Read up to cap bytes within ms: > 0 bytes, 0 the client closed, -2 timeout,
 * -1 error. */
static int read_some(struct tlsfake *fs, char *buf, size_t cap, int ms)
{
    if (!fs->ssl) {
        struct pollfd p = { fs->fd, POLLIN, 0 };
        if (poll(&p, 1, ms) <= 0)
            return -2;
        ssize_t n = read(fs->fd, buf, cap);
        if (n > 0)
            record(fs, buf, (size_t)n);
        return n < 0 ? -1 : (int)n;
    }
    set_timeout(fs->fd, ms);
    size_t n = 0;
    ERR_clear_error();
    int r = SSL_read_ex(fs->ssl, buf, cap, &n);
    if (r == 1) {
        record(fs, buf, n);
        return (int)n;
    }
    int e = SSL_get_error(fs->ssl, r);
    if (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))
        return -2;
    ERR_clear_error();
    /* close_notify, a close without it, or an alert: the client is gone. */
    return 0;
}

static int write_all(struct tlsfake *fs, const char *p, size_t n)
{
    if (fs->ssl) {
        set_timeout(fs->fd, STEP_TIMEOUT_MS);
        size_t w = 0;
        return n == 0 || SSL_write_ex(fs->ssl, p, n, &w) == 1 ? 0 : -1;
    }
    while (n > 0) {
        ssize_t w = send(fs->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int expect(struct tlsfake *fs, const struct tlsfake_step *st, size_t i)
{
    size_t start = fs->rlen;
    char buf[16384];
    while (fs->rlen - start < st->len) {
        size_t want = st->len - (fs->rlen - start);
        int n = read_some(fs, buf, want < sizeof buf ? want : sizeof buf, STEP_TIMEOUT_MS);
        if (n <= 0) {
            snprintf(fs->error, sizeof fs->error,
                     "step %zu: %s after %zu of %zu expected bytes: \"%.*s\"", i,
                     n == -2 ? "timeout" : "client closed", fs->rlen - start, st->len,
                     (int)(fs->rlen - start > 200 ? 200 : fs->rlen - start),
                     fs->received + start);
            return -1;
        }
    }
    if (memcmp(fs->received + start, st->data, st->len) != 0) {
        snprintf(fs->error, sizeof fs->error, "step %zu: got \"%.*s\" want \"%.*s\"", i,
                 (int)(st->len > 200 ? 200 : st->len), fs->received + start,
                 (int)(st->len > 200 ? 200 : st->len), st->data);
        return -1;
    }
    return 0;
}

static void note_peer(struct tlsfake *fs)
{
    const char *sni = SSL_get_servername(fs->ssl, TLSEXT_NAMETYPE_host_name);
    if (sni)
        snprintf(fs->sni, sizeof fs->sni, "%s", sni);
    X509 *peer = SSL_get0_peer_certificate(fs->ssl);
    if (peer)
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName,
                                  fs->peer_cn, sizeof fs->peer_cn);
}

static int start_tls(struct tlsfake *fs, size_t i, int mayfail)
{
    fs->ssl = SSL_new(fs->ctx);
    SSL_set_fd(fs->ssl, fs->fd);
    set_timeout(fs->fd, STEP_TIMEOUT_MS);
    fs->tls_at = fs->rlen;
    ERR_clear_error();
    if (SSL_accept(fs->ssl) == 1) {
        note_peer(fs);
        return 0;
    }
    snprintf(fs->hs_error, sizeof fs->hs_error, "%s", ssl_reason());
    SSL_free(fs->ssl);
    fs->ssl = NULL;
    if (mayfail) {
        fs->stopped = 1;
        return 0;
    }
    snprintf(fs->error, sizeof fs->error, "step %zu: handshake failed: %s", i,
             fs->hs_error);
    return -1;
}

static void close_conn(struct tlsfake *fs, int notify)
{
    if (fs->ssl) {
        if (notify)
            SSL_shutdown(fs->ssl);
        SSL_free(fs->ssl);
        fs->ssl = NULL;
    }
    if (fs->fd >= 0)
        close(fs->fd);
    fs->fd = -1;
}

static int drain(struct tlsfake *fs, int ms, size_t i)
{
    char buf[4096];
    for (;;) {
        int n = read_some(fs, buf, sizeof buf, ms ? ms : 5000);
        if (n == 0 || n == -1)
            return 0;
        if (n == -2) {
            snprintf(fs->error, sizeof fs->error, "step %zu: client did not close", i);
            return -1;
        }
    }
}

static int send_step(struct tlsfake *fs, const struct tlsfake_step *st)
{
    size_t chunk = st->op == TF_SLOW ? 1 : st->len;
    for (size_t k = 0; k < st->len; k += chunk) {
        if (write_all(fs, st->data + k, chunk) < 0) {
            if (st->ms != TF_CLIENT_MAY_CLOSE)
                return -1;
            fs->stopped = 1;
            return 0;
        }
        if (chunk == 1)
            usleep(200);
    }
    return 0;
}

static int run_step(struct tlsfake *fs, const struct tlsfake_step *st, size_t i)
{
    switch (st->op) {
    case TF_SEND:
    case TF_SLOW:
        return send_step(fs, st);
    case TF_EXPECT:
        return expect(fs, st, i);
    case TF_SLEEP:
        usleep((useconds_t)st->ms * 1000);
        return 0;
    case TF_CLOSE:
    case TF_CUT:
        close_conn(fs, st->op == TF_CLOSE);
        return 0;
    case TF_DRAIN:
        return drain(fs, st->ms, i);
    case TF_TLS:
    case TF_TLS_MAYFAIL:
        return start_tls(fs, i, st->op == TF_TLS_MAYFAIL);
    }
    return -1;
}

static void *serve(void *arg)
{
    struct tlsfake *fs = arg;
    /* OpenSSL writes to the socket with write(): a client that hung up
     * must give this thread EPIPE, not kill the test with SIGPIPE. */
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, NULL);
    fs->fd = accept_within(fs->listen_fd, STEP_TIMEOUT_MS);
    if (fs->fd == -2) {
        fs->fd = -1;
        snprintf(fs->error, sizeof fs->error, "no client connected");
        return NULL;
    }
    for (size_t i = 0; i < fs->nsteps && fs->fd >= 0 && !fs->stopped; i++) {
        if (run_step(fs, &fs->steps[i], i) < 0) {
            if (!fs->error[0])
                snprintf(fs->error, sizeof fs->error, "step %zu failed: %s", i,
                         strerror(errno));
            break;
        }
    }
    if (fs->fd >= 0 && !fs->stopped) {
        /* Collect whatever the client still sends until it goes away. */
        char buf[4096];
        while (read_some(fs, buf, sizeof buf, 3000) > 0)
            ;
    }
    close_conn(fs, 0);
    ERR_clear_error();
    return NULL;
}

static SSL_CTX *server_ctx(const struct tlsfake_config *cfg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return NULL;
    if (cfg->cert_file &&
        (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1 ||
         SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1)) {
        fprintf(stderr, "tlsfake: %s: %s\n", cfg->cert_file, ssl_reason());
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (cfg->client_ca) {
        SSL_CTX_load_verify_locations(ctx, cfg->client_ca, NULL);
        SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(cfg->client_ca));
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    if (cfg->max_version) {
        /* Old protocols need the lowest security level in OpenSSL 3. */
        SSL_CTX_set_security_level(ctx, 0);
        SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
        SSL_CTX_set_min_proto_version(ctx, 0);
        SSL_CTX_set_max_proto_version(ctx, cfg->max_version);
    }
    return ctx;
}

struct tlsfake *tlsfake_start(const struct tlsfake_config *cfg,
                              const struct tlsfake_step *steps, size_t n)
{
    struct tlsfake *fs = calloc(1, sizeof *fs);
    fs->fd = -1;
    fs->tls_at = (size_t)-1;
    fs->steps = malloc(n * sizeof *steps);
    memcpy(fs->steps, steps, n * sizeof *steps);
    fs->nsteps = n;
    fs->ctx = server_ctx(cfg);
    if (!fs->ctx)
        abort();
    fs->listen_fd = listen_loopback(4, fs->port, sizeof fs->port);
    if (fs->listen_fd < 0) {
        perror("tlsfake");
        abort();
    }
    pthread_create(&fs->thread, NULL, serve, fs);
    return fs;
}

const char *tlsfake_port(const struct tlsfake *fs)
{
    return fs->port;
}

int tlsfake_wait(struct tlsfake *fs, char *err, size_t errlen)
{
    pthread_join(fs->thread, NULL);
    if (fs->error[0]) {
        snprintf(err, errlen, "%s", fs->error);
        return -1;
    }
    return 0;
}

const char *tlsfake_received(const struct tlsfake *fs, size_t *len)
{
    *len = fs->rlen;
    return fs->received ? fs->received : "";
}

size_t tlsfake_tls_offset(const struct tlsfake *fs)
{
    return fs->tls_at;
}

const char *tlsfake_sni(const struct tlsfake *fs)
{
    return fs->sni[0] ? fs->sni : NULL;
}

const char *tlsfake_peer_cn(const struct tlsfake *fs)
{
    return fs->peer_cn[0] ? fs->peer_cn : NULL;
}

const char *tlsfake_handshake_error(const struct tlsfake *fs)
{
    return fs->hs_error;
}

void tlsfake_free(struct tlsfake *fs)
{
    close(fs->listen_fd);
    SSL_CTX_free(fs->ctx);
    free(fs->steps);
    free(fs->received);
    free(fs);
}

/* ---- certificates ------------------------------------------------------ */

#define DAY (24L * 3600)

struct issuer {
    X509 *cert;
    EVP_PKEY *key;
};

static int add_ext(X509 *x, X509V3_CTX *v, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v, nid, value);
    if (!e)
        return -1;
    int r = X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return r == 1 ? 0 : -1;
}

struct spec {
    const char *cn;
    const char *san;    /* NULL: none */
    int ca, client;
    long from, to;      /* seconds from now */
};

/* A certificate for key, signed by by (NULL: self-signed). */
static X509 *make_cert(const struct spec *s, EVP_PKEY *key, const struct issuer *by)
{
    static const long base_serial = 0x5e11a1;
    X509 *x = X509_new();
    unsigned char rnd[3];
    RAND_bytes(rnd, sizeof rnd);
    long serial = base_serial + ((long)rnd[0] << 16 | rnd[1] << 8 | rnd[2]);
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), s->from);
    X509_gmtime_adj(X509_getm_notAfter(x), s->to);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               (const unsigned char *)"imclient tlsfake", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)s->cn,
                               -1, -1, 0);
    X509_set_issuer_name(x, by ? X509_get_subject_name(by->cert) : name);
    X509V3_CTX v;
    X509V3_set_ctx(&v, by ? by->cert : x, x, NULL, NULL, 0);
    int bad = add_ext(x, &v, NID_basic_constraints, s->ca ? "critical,CA:TRUE"
                                                          : "critical,CA:FALSE");
    bad |= add_ext(x, &v, NID_key_usage, s->ca ? "critical,keyCertSign,cRLSign"
                                               : "critical,digitalSignature");
    if (!s->ca)
        bad |= add_ext(x, &v, NID_ext_key_usage, s->client ? "clientAuth" : "serverAuth");
    bad |= add_ext(x, &v, NID_subject_key_identifier, "hash");
    if (by)
        bad |= add_ext(x, &v, NID_authority_key_identifier, "keyid");
    if (s->san)
        bad |= add_ext(x, &v, NID_subject_alt_name, s->san);
    if (bad || !X509_sign(x, by ? by->key : key, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static FILE *open_in(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return fopen(path, "w");
}

/* Write certificates and optionally a key into one PEM file. */
static int write_pem(const char *dir, const char *name, X509 *a, X509 *b, EVP_PKEY *key)
{
    FILE *f = open_in(dir, name);
    if (!f)
        return -1;
    int ok = (!a || PEM_write_X509(f, a)) && (!b || PEM_write_X509(f, b)) &&
             (!key || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
    return fclose(f) == 0 && ok ? 0 : -1;
}

static const char *const cert_files[] = {
    "ca.pem",      "other-ca.pem",  "leaf.key",      "good.pem",   "ip.pem",
    "both.pem",    "expired.pem",   "future.pem",    "self.pem",   "cnonly.pem",
    "cnonly-ip.pem", "untrusted.pem", "wrong.pem",   "wild.pem",   "partial.pem",
    "chain.pem",   "client.pem",    "client.key",    "client-all.pem", "idn.pem",
};

/* The server certificates: file, spec, issuer (0 ca, 1 other CA, 2 self). */
struct leaf {
    const char *file;
    struct spec s;
    int by;
};

static const struct leaf leaves[] = {
    { "good.pem", { "localhost", "DNS:localhost", 0, 0, -3600, 30 * DAY }, 0 },
    { "ip.pem", { "ip test", "IP:127.0.0.1", 0, 0, -3600, 30 * DAY }, 0 },
    { "both.pem", { "localhost", "DNS:localhost,IP:127.0.0.1", 0, 0, -3600, 30 * DAY }, 0 },
    { "expired.pem", { "localhost", "DNS:localhost", 0, 0, -2 * DAY, -DAY }, 0 },
    { "future.pem", { "localhost", "DNS:localhost", 0, 0, DAY, 2 * DAY }, 0 },
    { "self.pem", { "localhost", "DNS:localhost", 0, 0, -3600, 30 * DAY }, 2 },
    { "cnonly.pem", { "localhost", NULL, 0, 0, -3600, 30 * DAY }, 0 },
    { "cnonly-ip.pem", { "127.0.0.1", NULL, 0, 0, -3600, 30 * DAY }, 0 },
    { "untrusted.pem", { "localhost", "DNS:localhost", 0, 0, -3600, 30 * DAY }, 1 },
    { "wrong.pem", { "mail.example.org", "DNS:mail.example.org", 0, 0, -3600, 30 * DAY }, 0 },
    { "wild.pem", { "wildcard", "DNS:*.example.org", 0, 0, -3600, 30 * DAY }, 0 },
    { "partial.pem", { "partial wildcard", "DNS:m*.example.org", 0, 0, -3600, 30 * DAY }, 0 },
    { "idn.pem", { "bucher", "DNS:xn--bcher-kva.example", 0, 0, -3600, 30 * DAY }, 0 },
};

static int make_all(const char *dir, struct issuer *ca, struct issuer *other,
                    EVP_PKEY *leafkey, EVP_PKEY *clientkey)
{
    static const struct spec ca_spec = { "tlsfake test CA", NULL, 1, 0, -DAY, 365 * DAY };
    static const struct spec other_spec = { "tlsfake other CA", NULL, 1, 0, -DAY, 365 * DAY };
    static const struct spec client_spec = { "alice", "email:alice@localhost", 0, 1,
                                             -3600, 30 * DAY };
    ca->cert = make_cert(&ca_spec, ca->key, NULL);
    other->cert = make_cert(&other_spec, other->key, NULL);
    if (!ca->cert || !other->cert || write_pem(dir, "ca.pem", ca->cert, NULL, NULL) ||
        write_pem(dir, "other-ca.pem", other->cert, NULL, NULL) ||
        write_pem(dir, "leaf.key", NULL, NULL, leafkey))
        return -1;
    for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
        const struct leaf *l = &leaves[i];
        X509 *x = make_cert(&l->s, leafkey, l->by == 0 ? ca : l->by == 1 ? other : NULL);
        int bad = !x || write_pem(dir, l->file, x, NULL, NULL);
        if (!bad && strcmp(l->file, "good.pem") == 0)
            bad = write_pem(dir, "chain.pem", x, ca->cert, NULL);
        X509_free(x);
        if (bad)
            return -1;
    }
    X509 *client = make_cert(&client_spec, clientkey, ca);
    int bad = !client || write_pem(dir, "client.pem", client, NULL, NULL) ||
              write_pem(dir, "client.key", NULL, NULL, clientkey) ||
              write_pem(dir, "client-all.pem", client, NULL, clientkey);
    X509_free(client);
    return bad ? -1 : 0;
}

int tlsfake_certs_make(const char *dir)
{
    struct issuer ca = { NULL, EVP_EC_gen("P-256") };
    struct issuer other = { NULL, EVP_EC_gen("P-256") };
    EVP_PKEY *leafkey = EVP_EC_gen("P-256");
    EVP_PKEY *clientkey = EVP_EC_gen("P-256");
    int r = -1;
    if (ca.key && other.key && leafkey && clientkey)
        r = make_all(dir, &ca, &other, leafkey, clientkey);
    if (r < 0)
        fprintf(stderr, "tlsfake_certs_make(%s): %s\n", dir, ssl_reason());
    X509_free(ca.cert);
    X509_free(other.cert);
    EVP_PKEY_free(ca.key);
    EVP_PKEY_free(other.key);
    EVP_PKEY_free(leafkey);
    EVP_PKEY_free(clientkey);
    return r;
}

void tlsfake_certs_remove(const char *dir)
{
    char path[512];
    for (size_t i = 0; i < sizeof cert_files / sizeof cert_files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, cert_files[i]);
        unlink(path);
    }
    rmdir(dir);
}
