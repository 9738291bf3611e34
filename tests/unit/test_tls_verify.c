/*
 * The TLS layer by itself (src/transport/tls.c) over a socket layer,
 * against tlsfake: which certificates it accepts for which names, what it
 * sends as SNI, the protocol floor, and the I/O contract the façade relies
 * on (buffered() after a short read, EAGAIN and wants() when the socket is
 * full, EOF with or without close_notify).  The name checked is given to
 * the layer directly, so names that do not resolve can be tested too.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include "check.h"
#include "tlsfake.h"
#include "transport/socket.h"
#include "transport/tls.h"

static char certdir[64];

/* The full name of a file in certdir; the pointer stays valid. */
static const char *path(const char *name)
{
    static struct {
        const char *name;
        char full[200];
    } known[32];
    size_t i;
    for (i = 0; i < 32 && known[i].name; i++)
        if (strcmp(known[i].name, name) == 0)
            return known[i].full;
    if (i == 32)
        abort();
    known[i].name = name;
    snprintf(known[i].full, sizeof known[i].full, "%s/%s", certdir, name);
    return known[i].full;
}

static struct tlsfake *serve(const char *certfile, const struct tlsfake_step *steps,
                             size_t n)
{
    struct tlsfake_config cfg = { path(certfile), path("leaf.key"), NULL, 0 };
    return tlsfake_start(&cfg, steps, n);
}

#define SERVER_DONE(fs)                                          \
    do {                                                         \
        char err_[600];                                          \
        int r_ = tlsfake_wait(fs, err_, sizeof err_);            \
        if (r_ != 0)                                             \
            check_fail(__FILE__, __LINE__, "server: %s", err_);  \
        CHECK(r_ == 0);                                          \
    } while (0)

/* Poll the socket the way the layer asks, at most ms. */
static int wait_ready(struct imc_transport *t, int ms)
{
    int want = imc_transport_wants(t);
    struct pollfd p = { t->fd, POLLIN, 0 };
    if (want & IMC_WANT_WRITE)
        p.events |= POLLOUT;
    return poll(&p, 1, ms);
}

/* Connect to the fake and complete the handshake as host, within 5 s.
 * Returns the layer, or NULL with the reason in err. */
static struct imc_transport *open_tls(struct tlsfake *fs, const struct imc_tls_options *o,
                                      char *err, size_t errlen)
{
    int fd;
    if (imc_socket_connect("127.0.0.1", tlsfake_port(fs), 5000, &fd, err, errlen) != 0)
        return NULL;
    struct imc_transport *lower = imc_socket_transport_new(fd);
    struct imc_transport *t = imc_tls_new(lower, o, err, errlen);
    if (!t) {
        imc_transport_destroy(lower);
        return NULL;
    }
    for (int i = 0; i < 100; i++) {
        int r = imc_tls_handshake(t);
        if (r > 0)
            return t;
        if (r < 0)
            break;
        if (wait_ready(t, 5000) <= 0) {
            snprintf(t->error, sizeof t->error, "test: handshake stalled");
            break;
        }
    }
    snprintf(err, errlen, "%s", t->error);
    imc_transport_destroy(t);
    return NULL;
}

/* Read exactly n bytes (bounded), polling only when the layer holds none. */
static int read_exact(struct imc_transport *t, char *buf, size_t n)
{
    size_t got = 0;
    for (int i = 0; i < 10000 && got < n; i++) {
        if (imc_transport_buffered(t) == 0 && wait_ready(t, 5000) <= 0)
            return -1;
        ssize_t r = imc_transport_read(t, buf + got, n - got);
        if (r == 0 || (r < 0 && errno != EAGAIN))
            return -1;
        if (r > 0)
            got += (size_t)r;
    }
    return got == n ? 0 : -1;
}

static int write_all(struct imc_transport *t, const char *buf, size_t n)
{
    size_t off = 0;
    for (int i = 0; i < 100000 && off < n; i++) {
        ssize_t w = imc_transport_write(t, buf + off, n - off);
        if (w > 0)
            off += (size_t)w;
        else if (errno != EAGAIN || wait_ready(t, 5000) <= 0)
            return -1;
    }
    return off == n ? 0 : -1;
}

/* ---- which certificate for which name ------------------------------------ */

struct verdict {
    const char *cert;
    const char *host;
    int verify;
    const char *error; /* NULL: accepted; else a piece of the error */
};

static const struct verdict verdicts[] = {
    /* accepted */
    { "good.pem", "localhost", 1, NULL },
    { "good.pem", "LocalHost", 1, NULL },
    { "good.pem", "localhost.", 1, NULL },
    { "chain.pem", "localhost", 1, NULL },
    { "ip.pem", "127.0.0.1", 1, NULL },
    { "both.pem", "localhost", 1, NULL },
    { "both.pem", "127.0.0.1", 1, NULL },
    { "wrong.pem", "mail.example.org", 1, NULL },
    { "wild.pem", "imap.example.org", 1, NULL },
    /* a name in Unicode is checked in its A-label form (UTS #46 maps case
     * and fullwidth letters); an A-label given as such is plain ASCII */
    { "idn.pem", "bücher.example", 1, NULL },
    { "idn.pem", "BÜCHER.example", 1, NULL },
    { "idn.pem", "bücher.example.", 1, NULL },
    { "idn.pem", "xn--bcher-kva.example", 1, NULL },
    { "good.pem", "ｌｏｃａｌｈｏｓｔ", 1, NULL },
    /* refused: the name */
    { "good.pem", "127.0.0.1", 1, "IP address mismatch" },
    { "ip.pem", "localhost", 1, "hostname mismatch: the certificate does not name \"localhost\"" },
    { "wrong.pem", "localhost", 1, "hostname mismatch" },
    { "good.pem", "localhost.localdomain", 1, "hostname mismatch" },
    { "good.pem", "ocalhost", 1, "hostname mismatch" },
    { "cnonly.pem", "localhost", 1, "(it has no subjectAltName; its CN is not used)" },
    { "cnonly-ip.pem", "127.0.0.1", 1, "IP address mismatch" },
    { "wild.pem", "example.org", 1, "hostname mismatch" },
    { "wild.pem", "a.imap.example.org", 1, "hostname mismatch" },
    { "partial.pem", "mail.example.org", 1, "hostname mismatch" },
    { "idn.pem", "bucher.example", 1, "hostname mismatch" },
    { "idn.pem", "bücher.example.org", 1, "hostname mismatch" },
    { "wrong.pem", "bücher.example", 1, "hostname mismatch: the certificate does not name "
                                        "\"bücher.example\" (xn--bcher-kva.example)" },
    /* refused: the chain or the dates */
    { "expired.pem", "localhost", 1, "certificate has expired" },
    { "future.pem", "localhost", 1, "certificate is not yet valid" },
    { "self.pem", "localhost", 1, "self-signed certificate" },
    { "untrusted.pem", "localhost", 1, "unable to get local issuer certificate" },
    /* the explicit opt-out takes them all */
    { "self.pem", "localhost", 0, NULL },
    { "expired.pem", "localhost", 0, NULL },
    { "wrong.pem", "localhost", 0, NULL },
    { "cnonly.pem", "localhost", 0, NULL },
    { "untrusted.pem", "127.0.0.1", 0, NULL },
};

/* Accepted: data flows both ways.  Refused: the handshake fails with the
 * reason, and the server saw the client abort it. */
static int try_verdict(const struct verdict *v)
{
    struct tlsfake *fs =
        v->error ? serve(v->cert, TLSFAKE(T_TLS_MAYFAIL(), T_EXPECT("ping"), T_SEND("pong")))
                 : serve(v->cert, TLSFAKE(T_TLS(), T_EXPECT("ping"), T_SEND("pong")));
    struct imc_tls_options o = { v->host, v->verify, NULL, NULL, path("ca.pem"), NULL };
    char err[300] = "";
    struct imc_transport *t = open_tls(fs, &o, err, sizeof err);
    int ok = 1;
    char pong[4];
    if (t && (write_all(t, "ping", 4) < 0 || read_exact(t, pong, 4) < 0 ||
              memcmp(pong, "pong", 4) != 0)) {
        fprintf(stderr, "  %s as %s: no data after the handshake\n", v->cert, v->host);
        ok = 0;
    }
    imc_transport_destroy(t);
    char serr[600];
    int sr = tlsfake_wait(fs, serr, sizeof serr);
    if (!v->error && (!t || sr != 0)) {
        fprintf(stderr, "  %s as %s (verify %d): refused: %s / server: %s\n", v->cert,
                v->host, v->verify, err, sr ? serr : "ok");
        ok = 0;
    }
    if (v->error && (t || !strstr(err, v->error) || !tlsfake_handshake_error(fs)[0])) {
        fprintf(stderr, "  %s as %s: want refusal with \"%s\", got %s \"%s\" (server: \"%s\")\n",
                v->cert, v->host, v->error, t ? "success" : "error", err,
                tlsfake_handshake_error(fs));
        ok = 0;
    }
    tlsfake_free(fs);
    return ok;
}

static void certificate_verdicts(void)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++)
        bad += !try_verdict(&verdicts[i]);
    CHECK_INT(bad, 0);
}

/* The error names the certificate that failed and how deep in the chain. */
static void error_names_subject(void)
{
    struct tlsfake *fs = serve("expired.pem", TLSFAKE(T_TLS_MAYFAIL()));
    struct imc_tls_options o = { "localhost", 1, NULL, NULL, path("ca.pem"), NULL };
    char err[300];
    struct imc_transport *t = open_tls(fs, &o, err, sizeof err);
    SERVER_DONE(fs);
    tlsfake_free(fs);
    CHECK(t == NULL);
    CHECK_STR(err, "certificate verify failed: certificate has expired "
                   "(depth 0: /O=imclient tlsfake/CN=localhost)");
}

/* The system's store is used when no CA is given: it does not know our
 * throwaway CA. */
static void default_store_refuses_test_ca(void)
{
    struct tlsfake *fs = serve("good.pem", TLSFAKE(T_TLS_MAYFAIL()));
    struct imc_tls_options o = { "localhost", 1, NULL, NULL, NULL, NULL };
    char err[300];
    struct imc_transport *t = open_tls(fs, &o, err, sizeof err);
    SERVER_DONE(fs);
    tlsfake_free(fs);
    CHECK(t == NULL);
    CHECK(strstr(err, "unable to get local issuer certificate") != NULL);
}

/* A CA given as a directory of hashed names (CApath). */
static void ca_path_directory(void)
{
    char link[300], target[300];
    snprintf(target, sizeof target, "%s/ca.pem", certdir);
    /* The hash of the CA's subject names the file OpenSSL looks for. */
    FILE *f = fopen(target, "r");
    CHECK(f != NULL);
    X509 *ca = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    CHECK(ca != NULL);
    snprintf(link, sizeof link, "%s/%08lx.0", certdir, X509_subject_name_hash(ca));
    X509_free(ca);
    CHECK(symlink(target, link) == 0);
    struct tlsfake *fs = serve("good.pem", TLSFAKE(T_TLS()));
    struct imc_tls_options o = { "localhost", 1, NULL, NULL, NULL, certdir };
    char err[300];
    struct imc_transport *t = open_tls(fs, &o, err, sizeof err);
    imc_transport_destroy(t);
    unlink(link);
    SERVER_DONE(fs);
    tlsfake_free(fs);
    if (!t)
        fprintf(stderr, "  %s\n", err);
    CHECK(t != NULL);
}

/* ---- what goes on the wire ------------------------------------------------ */

static void sni_for_names_not_addresses(void)
{
    static const struct { const char *host, *sni; } cases[] = {
        { "localhost", "localhost" },
        { "mail.example.org.", "mail.example.org" },
        { "bücher.example", "xn--bcher-kva.example" },
        { "Bücher.Example.", "xn--bcher-kva.example" },
        /* non-transitional: ß is kept, not mapped to "ss" */
        { "faß.example", "xn--fa-hia.example" },
        { "127.0.0.1", NULL },
        { "::1", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tlsfake *fs = serve("both.pem", TLSFAKE(T_TLS()));
        struct imc_tls_options o = { cases[i].host, 0, NULL, NULL, NULL, NULL };
        char err[300];
        struct imc_transport *t = open_tls(fs, &o, err, sizeof err);
        imc_transport_destroy(t);
        SERVER_DONE(fs);
        const char *sni = tlsfake_sni(fs);
        int same = cases[i].sni ? sni && strcmp(sni, cases[i].sni) == 0 : sni == NULL;
        if (!same)
            fprintf(stderr, "  %s: SNI \"%s\"\n", cases[i].host, sni ? sni : "(none)");
        tlsfake_free(fs);
        CHECK(t != NULL);
        CHECK(same);
    }
}

static void protocol_floor_is_tls12(void)
{
    struct tlsfake_config old = { path("good.pem"), path("leaf.key"), NULL, TLS1_1_VERSION };
    struct tlsfake *fs = tlsfake_start(&old, TLSFAKE(T_TLS_MAYFAIL()));
    struct imc_tls_options o = { "localhost", 1, NULL, NULL, path("ca.pem"), NULL };
    char err[300];
    struct imc_transport *t = open_tls(fs, &o, err, sizeof err);
    SERVER_DONE(fs);
    tlsfake_free(fs);
    CHECK(t == NULL);
    fprintf(stderr, "  TLS 1.1 server: %s\n", err);

    struct tlsfake_config v12 = { path("good.pem"), path("leaf.key"), NULL, TLS1_2_VERSION };
    fs = tlsfake_start(&v12, TLSFAKE(T_TLS()));
    t = open_tls(fs, &o, err, sizeof err);
    if (!t)
        fprintf(stderr, "  TLS 1.2 server: %s\n", err);
    CHECK(t != NULL);
    CHECK_STR(imc_tls_protocol(t), "TLSv1.2");
    imc_transport_destroy(t);
    SERVER_DONE(fs);
    tlsfake_free(fs);

    fs = serve("good.pem", TLSFAKE(T_TLS()));
    t = open_tls(fs, &o, err, sizeof err);
    CHECK(t != NULL);
    CHECK_STR(imc_tls_protocol(t), "TLSv1.3");
    imc_transport_destroy(t);
    SERVER_DONE(fs);
    tlsfake_free(fs);
}

/* A server answering in the clear: the handshake fails, and says why. */
static void plaintext_server(void)
{
    struct tlsfake *fs = serve("good.pem", TLSFAKE(T_SEND("* OK IMAP4rev1 ready\r\n"),
                                                    T_DRAIN()));
    struct imc_tls_options o = { "localhost", 1, NULL, NULL, path("ca.pem"), NULL };
    char err[300];
    struct imc_transport *t = open_tls(fs, &o, err, sizeof err);
    SERVER_DONE(fs);
    tlsfake_free(fs);
    CHECK(t == NULL);
    CHECK_STR(err, "wrong version number (the server's bytes are not TLS)");
}

/* ---- settings that cannot work are refused before any byte ------------- */

/* A file or directory name: absolute as given, else in certdir, "" as "". */
static const char *arg_path(const char *name)
{
    return !name ? NULL : name[0] == '/' || !name[0] ? name : path(name);
}

/* imc_tls_new() over one end of a socketpair must refuse o with a reason
 * holding want, leave the lower layer to the caller, and send nothing. */
static int refused_quietly(const struct imc_tls_options *o, const char *want)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        return 0;
    struct imc_transport *lower = imc_socket_transport_new(fds[0]);
    char err[300] = "";
    struct imc_transport *t = imc_tls_new(lower, o, err, sizeof err);
    char byte;
    int sent = recv(fds[1], &byte, 1, MSG_DONTWAIT) >= 0;
    /* The lower layer is still ours: freeing it twice would show. */
    imc_transport_destroy(t ? t : lower);
    close(fds[1]);
    int ok = !t && strstr(err, want) && !sent;
    if (!ok)
        fprintf(stderr, "  host \"%s\": want \"%s\", got %s \"%s\"%s\n",
                o->host ? o->host : "(null)", want, t ? "a layer" : "error", err,
                sent ? ", bytes sent" : "");
    return ok;
}

static void setup_errors(void)
{
    static const struct {
        const char *cert, *key, *ca, *capath, *error;
    } cases[] = {
        { NULL, NULL, "/nonexistent/ca.pem", NULL,
          "CAfile \"/nonexistent/ca.pem\": No such file or directory" },
        { NULL, NULL, "", NULL, "CAfile is \"\": name a file of trusted CAs, or pass NULL" },
        { NULL, NULL, NULL, "", "CApath is \"\": name a directory" },
        { NULL, NULL, "", "", "CAfile is \"\"" },
        { NULL, NULL, NULL, "/nonexistent/certs", "CApath \"/nonexistent/certs\": No such "
                                                  "file or directory" },
        { NULL, NULL, NULL, "ca.pem", "\": Not a directory" },
        { NULL, NULL, "ca.pem", "/nonexistent/certs", "CApath \"/nonexistent/certs\"" },
        { NULL, NULL, "/", NULL, "CAfile \"/\": Is a directory" },
        { NULL, NULL, "leaf.key", NULL, "leaf.key\": cannot load trusted CAs: " },
        { "/nonexistent/client.pem", NULL, "ca.pem", NULL,
          "cert_file \"/nonexistent/client.pem\": No such file or directory" },
        { "client.key", NULL, "ca.pem", NULL, "client.key\": cannot use the client "
                                              "certificate: " },
        { "client.pem", "/nonexistent/client.key", "ca.pem", NULL,
          "key_file \"/nonexistent/client.key\": No such file or directory" },
        { "client.pem", "ca.pem", "ca.pem", NULL, "ca.pem\": cannot use the client key: " },
        { "client.pem", "leaf.key", "ca.pem", NULL, "leaf.key\": cannot use the client key: "
                                                "key values mismatch" },
        { "client.pem", NULL, "ca.pem", NULL, "client.pem\" holds no usable key (key_file "
                                              "is NULL)" },
        { NULL, "client.key", "ca.pem", NULL, "client.key\" given without cert_file" },
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct imc_tls_options o = { "localhost",           1,
                                     arg_path(cases[i].cert), arg_path(cases[i].key),
                                     arg_path(cases[i].ca), arg_path(cases[i].capath) };
        bad += !refused_quietly(&o, cases[i].error);
    }
    CHECK_INT(bad, 0);
}

/* Without verification CAfile and CApath are not used, so not checked;
 * "" still means no client certificate, as it always did. */
static void unused_arguments_unchecked(void)
{
    int fds[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    struct imc_transport *lower = imc_socket_transport_new(fds[0]);
    struct imc_tls_options o = { "localhost", 0, "", "", "", "/nonexistent/certs" };
    char err[300] = "";
    struct imc_transport *t = imc_tls_new(lower, &o, err, sizeof err);
    if (!t)
        fprintf(stderr, "  %s\n", err);
    imc_transport_destroy(t ? t : lower);
    close(fds[1]);
    CHECK(t != NULL);
}

/* A name with no A-label form is refused, verifying or not (it would go
 * out as SNI), and the reason says what is wrong with it. */
static void idn_without_alabel_refused(void)
{
    static const struct {
        const char *host, *error;
    } cases[] = {
        { "\xff.example", "has no A-label form (IDNA2008): string encoding error" },
        { "☃.example", "has no A-label form (IDNA2008): string contains a disallowed "
                       "character" },
        { "bücher.-x.example", "has no A-label form" },
        { "bücher..example", "\"bücher..example\" is not a host name (its A-label form is "
                             "\"xn--bcher-kva..example\")" },
        { "a b.bücher.example", "is not a host name" },
        { "bücher.example:143", "is not a host name" },
    };
    int bad = 0;
    for (int verify = 0; verify < 2; verify++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            struct imc_tls_options o = { cases[i].host, verify, NULL, NULL,
                                         path("ca.pem"), NULL };
            bad += !refused_quietly(&o, cases[i].error);
        }
    CHECK_INT(bad, 0);
}

/* ---- client certificates ------------------------------------------------ */

static void client_certificate(void)
{
    struct tlsfake_config cfg = { path("good.pem"), path("leaf.key"), path("ca.pem"), 0 };
    const char *const combos[][2] = {
        { "client-all.pem", NULL }, /* key in the same file */
        { "client.pem", "client.key" },
    };
    for (size_t i = 0; i < 2; i++) {
        struct tlsfake *fs = tlsfake_start(&cfg, TLSFAKE(T_TLS(), T_EXPECT("hi")));
        struct imc_tls_options o = { "localhost", 1, path(combos[i][0]),
                                     combos[i][1] ? path(combos[i][1]) : NULL,
                                     path("ca.pem"), NULL };
        char err[300];
        struct imc_transport *t = open_tls(fs, &o, err, sizeof err);
        CHECK(t != NULL);
        CHECK(write_all(t, "hi", 2) == 0);
        imc_transport_destroy(t);
        SERVER_DONE(fs);
        CHECK_STR(tlsfake_peer_cn(fs), "alice");
        tlsfake_free(fs);
    }
}

/* TLS 1.3 lets the client finish before the server judges its certificate:
 * the refusal then arrives on the first read, as an error with a reason. */
static void client_certificate_missing(void)
{
    struct tlsfake_config cfg = { path("good.pem"), path("leaf.key"), path("ca.pem"), 0 };
    struct tlsfake *fs = tlsfake_start(&cfg, TLSFAKE(T_TLS_MAYFAIL()));
    struct imc_tls_options o = { "localhost", 1, NULL, NULL, path("ca.pem"), NULL };
    char err[300] = "";
    struct imc_transport *t = open_tls(fs, &o, err, sizeof err);
    if (t) {
        char c;
        ssize_t r = -1;
        for (int i = 0; i < 100; i++) {
            r = imc_transport_read(t, &c, 1);
            if (!(r < 0 && errno == EAGAIN) || wait_ready(t, 5000) <= 0)
                break;
        }
        CHECK(r < 0);
        snprintf(err, sizeof err, "%s", t->error);
        imc_transport_destroy(t);
    }
    SERVER_DONE(fs);
    tlsfake_free(fs);
    CHECK(strstr(err, "certificate required") != NULL);
}

/* ---- the I/O contract ---------------------------------------------------- */

/* Cyrus read 4096 bytes at a time and then waited on the socket, while the
 * rest of a 9 KiB record sat decrypted inside OpenSSL. */
static void buffered_reports_decrypted_bytes(void)
{
    static char big[9000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    struct tlsfake *fs = serve("good.pem", TLSFAKE(T_TLS(), T_SEND_BUF(big, sizeof big),
                                                    T_EXPECT("done")));
    struct imc_tls_options o = { "localhost", 1, NULL, NULL, path("ca.pem"), NULL };
    char err[300];
    struct imc_transport *t = open_tls(fs, &o, err, sizeof err);
    CHECK(t != NULL);
    char got[sizeof big];
    ssize_t n = -1;
    for (int i = 0; i < 100 && n < 0; i++) {
        CHECK(wait_ready(t, 5000) > 0);
        n = imc_transport_read(t, got, 4096);
        CHECK(n > 0 || errno == EAGAIN);
    }
    CHECK_INT(n, 4096);
    CHECK_INT(imc_transport_buffered(t), sizeof big - 4096);
    /* The socket is silent: only buffered() can tell the caller to read. */
    struct pollfd p = { t->fd, POLLIN, 0 };
    CHECK_INT(poll(&p, 1, 0), 0);
    CHECK_INT(imc_transport_read(t, got + 4096, 4096), 4096);
    CHECK_INT(imc_transport_read(t, got + 8192, 4096), sizeof big - 8192);
    CHECK_INT(imc_transport_buffered(t), 0);
    CHECK_MEM(got, sizeof got, big, sizeof big);
    CHECK(write_all(t, "done", 4) == 0);
    imc_transport_destroy(t);
    SERVER_DONE(fs);
    tlsfake_free(fs);
}

/* A writer faster than the reader: write() takes whole records or says
 * EAGAIN with wants() WRITE; every byte arrives once, in order. */
static void write_backpressure(void)
{
    size_t len = 16u << 20;
    char *big = malloc(len);
    for (size_t i = 0; i < len; i++)
        big[i] = (char)(i * 7 + i / 4099);
    struct tlsfake *fs = serve("good.pem", TLSFAKE(T_TLS(), T_SLEEP(300),
                                                    T_EXPECT_BUF(big, len), T_SEND("ok")));
    struct imc_tls_options o = { "localhost", 1, NULL, NULL, path("ca.pem"), NULL };
    char err[300];
    struct imc_transport *t = open_tls(fs, &o, err, sizeof err);
    CHECK(t != NULL);
    size_t off = 0;
    int blocked = 0, wanted_write = 1, overlong = 0;
    for (int i = 0; i < 1000000 && off < len; i++) {
        ssize_t w = imc_transport_write(t, big + off, len - off);
        if (w > 0) {
            overlong |= (size_t)w > len - off;
            off += (size_t)w;
            continue;
        }
        if (errno != EAGAIN)
            break;
        blocked++;
        wanted_write &= (imc_transport_wants(t) & IMC_WANT_WRITE) != 0;
        struct pollfd p = { t->fd, POLLOUT, 0 };
        if (poll(&p, 1, 10000) <= 0)
            break;
    }
    CHECK(off == len);
    CHECK(!overlong);
    CHECK(blocked > 0);
    CHECK(wanted_write);
    /* Wait for the server's word: closing a socket with unread input (the
     * session tickets) resets it, and the reset can overtake our data. */
    char ok[2];
    CHECK(read_exact(t, ok, 2) == 0);
    imc_transport_destroy(t);
    SERVER_DONE(fs);
    tlsfake_free(fs);
    free(big);
}

static void end_of_stream(void)
{
    /* With close_notify, and cut without it: both are the end. */
    for (int cut = 0; cut < 2; cut++) {
        struct tlsfake *fs = cut ? serve("good.pem", TLSFAKE(T_TLS(), T_SEND("bye"), T_CUT()))
                                 : serve("good.pem", TLSFAKE(T_TLS(), T_SEND("bye"), T_CLOSE()));
        struct imc_tls_options o = { "localhost", 1, NULL, NULL, path("ca.pem"), NULL };
        char err[300];
        struct imc_transport *t = open_tls(fs, &o, err, sizeof err);
        CHECK(t != NULL);
        char buf[3];
        CHECK(read_exact(t, buf, 3) == 0);
        ssize_t r = -1;
        for (int i = 0; i < 100; i++) {
            r = imc_transport_read(t, buf, 3);
            if (!(r < 0 && errno == EAGAIN) || wait_ready(t, 5000) <= 0)
                break;
        }
        CHECK_INT(r, 0);
        imc_transport_destroy(t);
        SERVER_DONE(fs);
        tlsfake_free(fs);
    }
}

/* A stalled server: the handshake keeps saying "wait for reading". */
static void handshake_waits_for_reading(void)
{
    struct tlsfake *fs = serve("good.pem", TLSFAKE(T_SLEEP(300), T_TLS()));
    int fd;
    char err[300];
    CHECK(imc_socket_connect("127.0.0.1", tlsfake_port(fs), 5000, &fd, err, sizeof err) == 0);
    struct imc_tls_options o = { "localhost", 1, NULL, NULL, path("ca.pem"), NULL };
    struct imc_transport *t = imc_tls_new(imc_socket_transport_new(fd), &o, err, sizeof err);
    CHECK(t != NULL);
    CHECK_INT(imc_tls_handshake(t), 0);
    CHECK_INT(imc_transport_wants(t) & IMC_WANT_READ, IMC_WANT_READ);
    CHECK_STR(imc_tls_protocol(t), "");
    int r = 0;
    for (int i = 0; i < 100 && r == 0; i++) {
        CHECK(wait_ready(t, 5000) > 0);
        r = imc_tls_handshake(t);
    }
    CHECK_INT(r, 1);
    CHECK_INT(imc_transport_wants(t), 0);
    imc_transport_destroy(t);
    SERVER_DONE(fs);
    tlsfake_free(fs);
}

int main(int argc, char **argv)
{
    snprintf(certdir, sizeof certdir, "/tmp/imc-tlsunit.XXXXXX");
    if (!mkdtemp(certdir) || tlsfake_certs_make(certdir) < 0)
        return 1;
    static const struct check_test tests[] = {
        TEST(certificate_verdicts),
        TEST(error_names_subject),
        TEST(default_store_refuses_test_ca),
        TEST(ca_path_directory),
        TEST(sni_for_names_not_addresses),
        TEST(protocol_floor_is_tls12),
        TEST(plaintext_server),
        TEST(setup_errors),
        TEST(unused_arguments_unchecked),
        TEST(idn_without_alabel_refused),
        TEST(client_certificate),
        TEST(client_certificate_missing),
        TEST(buffered_reports_decrypted_bytes),
        TEST(write_backpressure),
        TEST(end_of_stream),
        TEST(handshake_waits_for_reading),
    };
    int r = check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
    tlsfake_certs_remove(certdir);
    return r;
}
