/*
 * TLS against real Dovecot 2.3 and Cyrus imapd 3.6 started by
 * tests/servers/all.sh: STARTTLS on the plain port and implicit TLS on the
 * imaps port, verified against the throwaway CA, by name ("localhost",
 * checked against the DNS subjectAltName) and by address (127.0.0.1,
 * against the IP one); then LOGIN, a mailbox, APPEND of a message larger
 * than many TLS records, SELECT and a byte-exact FETCH over TLS.  A CA that
 * did not sign the server's certificate is refused; the explicit opt-out
 * accepts it.  A client certificate authenticates with EXTERNAL.
 *
 * Without the variables of DIR/env the program prints "skipped: no servers"
 * and succeeds, unless IMC_REQUIRE_SERVERS=1.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "realenv.h"
#include "cyrus/imclient.h"
#include "tlsfake.h"
#include "util/buf.h"

struct server {
    const char *name, *prefix;
    const char *port, *imaps_port, *user, *pass;
    int present;
};

static struct server servers[] = {
    { "dovecot", "DOVECOT", NULL, NULL, NULL, NULL, 0 },
    { "cyrus", "CYRUS", NULL, NULL, NULL, NULL, 0 },
};

static const char *ca_file;
static char otherdir[64]; /* a CA of our own, which signed nothing there */
static char other_ca[128];

static void load(struct server *s)
{
    s->port = realenv_var(s->prefix, "PORT");
    s->imaps_port = realenv_var(s->prefix, "IMAPS_PORT");
    s->user = realenv_var(s->prefix, "USER");
    s->pass = realenv_var(s->prefix, "PASS");
    s->present = s->port && s->imaps_port && s->user && s->pass && ca_file;
}

/* ---- one connection and what it saw ------------------------------------ */

struct ctx {
    const struct server *srv;
    struct imclient *c;
    struct imc_buf log; /* "label|KEYWORD|text\n" per delivery */
    int done;
    char last_kw[16];
    struct imc_buf last_text;
    struct imc_buf fetched; /* text of the last FETCH reply */
};

static void on_untagged(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct ctx *x = rock;
    imc_buf_appendstr(&x->log, "u|");
    imc_buf_appendstr(&x->log, r->keyword);
    imc_buf_appendc(&x->log, '|');
    imc_buf_append(&x->log, r->text, r->textlen);
    imc_buf_appendc(&x->log, '\n');
}

static void on_fetch(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct ctx *x = rock;
    x->fetched.len = 0;
    imc_buf_append(&x->fetched, r->text, r->textlen);
}

static void on_done(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct ctx *x = rock;
    snprintf(x->last_kw, sizeof x->last_kw, "%s", r->keyword);
    x->last_text.len = 0;
    imc_buf_append(&x->last_text, r->text, r->textlen);
    x->done++;
}

static int open_ctx(struct ctx *x, const struct server *s, const char *host, int imaps)
{
    memset(x, 0, sizeof *x);
    x->srv = s;
    if (imclient_connect(&x->c, host, imaps ? s->imaps_port : s->port) != 0)
        return -1;
    imclient_addcallback(x->c, "", 0, on_untagged, x, "FETCH", CALLBACK_NUMBERED, on_fetch,
                         x, NULL);
    return 0;
}

static void close_ctx(struct ctx *x)
{
    if (x->c)
        imclient_close(x->c);
    x->c = NULL;
    imc_buf_free(&x->log);
    imc_buf_free(&x->last_text);
    imc_buf_free(&x->fetched);
}

/* Events until the greeting (any untagged reply) or the connection ends. */
static int greeted(struct ctx *x)
{
    for (int i = 0; i < 200 && x->log.len == 0; i++)
        if (imclient_processoneevent_timeout(x->c, 10000) < 0)
            break;
    return x->log.len > 0;
}

/* Send a command and wait for its completion; returns its keyword. */
static const char *run(struct ctx *x, const char *fmt, const char *a, const char *b)
{
    int want = x->done + 1;
    x->last_kw[0] = '\0';
    imclient_send(x->c, on_done, x, fmt, a, b);
    for (int i = 0; i < 10000 && x->done < want; i++)
        if (imclient_processoneevent_timeout(x->c, 10000) < 0)
            break;
    return x->done >= want ? x->last_kw : "(none)";
}

#define CHECK_RUN(x, want, fmt, a, b)                                          \
    do {                                                                       \
        const char *k_ = run(x, fmt, a, b);                                    \
        if (strcmp(k_, want) != 0) {                                           \
            check_fail(__FILE__, __LINE__, "[%s] %s: %s %s (error \"%s\")",    \
                       (x)->srv->name, fmt, k_, imc_buf_cstr(&(x)->last_text), \
                       imclient_error((x)->c));                                \
            close_ctx(x);                                                      \
            return;                                                            \
        }                                                                      \
    } while (0)

static int tls_on(struct ctx *x, int imaps, const char *ca)
{
    return imaps ? imclient_begintls(x->c, NULL, NULL, (char *)ca, NULL)
                 : imclient_starttls(x->c, NULL, NULL, (char *)ca, NULL);
}

/* ---- the scenarios ----------------------------------------------------- */

/* A message of ~100 KiB: many TLS records in each direction. */
static void make_message(struct imc_buf *m)
{
    imc_buf_appendstr(m, "From: TLS Test <tls@localhost>\r\nTo: alice@localhost\r\n"
                         "Subject: over TLS\r\n\r\n");
    for (int line = 0; line < 1600; line++) {
        char l[80];
        snprintf(l, sizeof l, "%05d the quick brown fox jumps over the lazy dog %05d\r\n",
                 line, 1600 - line);
        imc_buf_appendstr(m, l);
    }
}

/* After TLS: the capabilities the server shows over TLS, LOGIN, then a
 * mailbox round trip with a large message, compared byte for byte. */
static void mailbox_over_tls(struct ctx *x)
{
    CHECK_RUN(x, "OK", "CAPABILITY", NULL, NULL);
    /* Both servers drop STARTTLS from the list once TLS is on: this list
     * came from a server that knows it speaks TLS. */
    const char *log = imc_buf_cstr(&x->log);
    const char *cap = strstr(log, "u|CAPABILITY|");
    CHECK(cap != NULL);
    CHECK(strstr(cap, "IMAP4rev1") != NULL);
    CHECK(strstr(cap, "STARTTLS") == NULL);
    CHECK_RUN(x, "OK", "LOGIN %s %s", x->srv->user, x->srv->pass);

    /* Unique per run and per scenario: Cyrus keeps deleted mailboxes
     * under their name and the second, so a name is never reused. */
    static int serial;
    char mailbox[80];
    snprintf(mailbox, sizeof mailbox, "imc tls %ld-%ld-%d", (long)getpid(), (long)time(NULL),
             ++serial);
    struct imc_buf m;
    imc_buf_init(&m);
    make_message(&m);
    CHECK_RUN(x, "OK", "CREATE %s", mailbox, NULL);
    const char *appended = run(x, "APPEND %s %s", mailbox, imc_buf_cstr(&m));
    const char *selected = run(x, "SELECT %s", mailbox, NULL);
    x->fetched.len = 0;
    const char *fetched = run(x, "FETCH 1 BODY.PEEK[]", NULL, NULL);
    int same = x->fetched.len > m.len &&
               memcmp(x->fetched.data + x->fetched.len - m.len - 1, m.data, m.len) == 0 &&
               x->fetched.data[x->fetched.len - 1] == ')';
    CHECK_RUN(x, "OK", "CLOSE", NULL, NULL);
    CHECK_RUN(x, "OK", "DELETE %s", mailbox, NULL);
    CHECK_STR(appended, "OK");
    CHECK_STR(selected, "OK");
    CHECK_STR(fetched, "OK");
    CHECK(same);
    imc_buf_free(&m);
    CHECK_RUN(x, "OK", "LOGOUT", NULL, NULL);
}

static void verified_session(const struct server *s, const char *host, int imaps)
{
    struct ctx x;
    CHECK(open_ctx(&x, s, host, imaps) == 0);
    if (!imaps)
        CHECK(greeted(&x));
    int r = tls_on(&x, imaps, ca_file);
    if (r != 0)
        fprintf(stderr, "  [%s] %s: %s\n", s->name, host, imclient_error(x.c));
    CHECK_INT(r, 0);
    if (imaps) {
        /* The greeting comes through TLS. */
        CHECK(greeted(&x));
        CHECK(strncmp(imc_buf_cstr(&x.log), "u|OK|", 5) == 0);
    }
    x.log.len = 0;
    mailbox_over_tls(&x);
    close_ctx(&x);
}

static void refused_session(const struct server *s, int imaps, const char *ca)
{
    struct ctx x;
    CHECK(open_ctx(&x, s, "localhost", imaps) == 0);
    if (!imaps)
        CHECK(greeted(&x));
    CHECK(tls_on(&x, imaps, ca) != 0);
    CHECK(!imclient_isopen(x.c));
    /* The servers send the CA with their certificate, so the chain ends
     * in a root nobody here trusts. */
    const char *e = imclient_error(x.c);
    if (strncmp(e, "TLS handshake with localhost failed: certificate verify failed: ", 64) != 0 ||
        (!strstr(e, "self-signed certificate in certificate chain") &&
         !strstr(e, "unable to get local issuer certificate"))) {
        check_fail(__FILE__, __LINE__, "[%s] error \"%s\"", s->name, e);
        close_ctx(&x);
        return;
    }
    /* Nothing more can be sent: a LOGIN gets EOF at once. */
    CHECK_STR(run(&x, "LOGIN %s %s", s->user, s->pass), "EOF");
    close_ctx(&x);
}

static void opt_out_session(const struct server *s, int imaps)
{
    struct ctx x;
    CHECK(open_ctx(&x, s, "localhost", imaps) == 0);
    if (!imaps)
        CHECK(greeted(&x));
    imclient_settlsverify(x.c, IMCLIENT_TLS_NOVERIFY);
    CHECK_INT(tls_on(&x, imaps, other_ca), 0);
    CHECK_RUN(&x, "OK", "NOOP", NULL, NULL);
    close_ctx(&x);
}

/* EXTERNAL with the client certificate from tests/servers/ca.sh (CN=alice):
 * the certificate reached the server through our layer. */
static void client_cert_session(const struct server *s)
{
    const char *cert = getenv("IMC_CLIENT_CERT"), *key = getenv("IMC_CLIENT_KEY");
    if (!cert || !key) {
        fprintf(stderr, "  [%s] no IMC_CLIENT_CERT/KEY: client certificate not tried\n",
                s->name);
        return;
    }
    struct ctx x;
    /* The control: without the certificate, EXTERNAL is refused. */
    CHECK(open_ctx(&x, s, "localhost", 0) == 0);
    CHECK(greeted(&x));
    CHECK_INT(imclient_starttls(x.c, NULL, NULL, (char *)ca_file, NULL), 0);
    const char *k = run(&x, "AUTHENTICATE EXTERNAL =", NULL, NULL);
    if (strcmp(k, "NO") != 0 && strcmp(k, "BAD") != 0)
        check_fail(__FILE__, __LINE__, "[%s] EXTERNAL without a certificate: %s", s->name, k);
    close_ctx(&x);
    if (check_failed_now)
        return;

    CHECK(open_ctx(&x, s, "localhost", 0) == 0);
    CHECK(greeted(&x));
    CHECK_INT(imclient_starttls(x.c, (char *)cert, (char *)key, (char *)ca_file, NULL), 0);
    /* SASL-IR with an empty response: "act as the certificate's name". */
    CHECK_RUN(&x, "OK", "AUTHENTICATE EXTERNAL =", NULL, NULL);
    CHECK_RUN(&x, "OK", "SELECT INBOX", NULL, NULL);
    close_ctx(&x);
}

/* ---- one test per scenario and server ---------------------------------- */

static void starttls_by_name(const struct server *s) { verified_session(s, "localhost", 0); }
static void starttls_by_address(const struct server *s) { verified_session(s, "127.0.0.1", 0); }
static void imaps_by_name(const struct server *s) { verified_session(s, "localhost", 1); }
static void imaps_by_address(const struct server *s) { verified_session(s, "127.0.0.1", 1); }
static void starttls_wrong_ca(const struct server *s) { refused_session(s, 0, other_ca); }
static void imaps_wrong_ca(const struct server *s) { refused_session(s, 1, other_ca); }
static void starttls_system_store(const struct server *s) { refused_session(s, 0, NULL); }
static void starttls_noverify(const struct server *s) { opt_out_session(s, 0); }
static void imaps_noverify(const struct server *s) { opt_out_session(s, 1); }
static void starttls_client_cert(const struct server *s) { client_cert_session(s); }

#define SCENARIOS(X)                                                           \
    X(starttls_by_name)                                                        \
    X(starttls_by_address)                                                     \
    X(imaps_by_name)                                                           \
    X(imaps_by_address)                                                        \
    X(starttls_wrong_ca)                                                       \
    X(imaps_wrong_ca)                                                          \
    X(starttls_system_store)                                                   \
    X(starttls_noverify)                                                       \
    X(imaps_noverify)                                                          \
    X(starttls_client_cert)

#define PER_SERVER(sc)                                                         \
    static void dovecot_##sc(void) { sc(&servers[0]); }                        \
    static void cyrus_##sc(void) { sc(&servers[1]); }
SCENARIOS(PER_SERVER)

#define ENTRY(sc) { { "dovecot_" #sc, dovecot_##sc }, { "cyrus_" #sc, cyrus_##sc } },
static const struct check_test all_tests[][2] = { SCENARIOS(ENTRY) };

int main(int argc, char **argv)
{
    ca_file = getenv("IMC_CA_FILE");
    if (ca_file && !*ca_file)
        ca_file = NULL;
    size_t nsc = sizeof all_tests / sizeof all_tests[0];
    struct check_test chosen[2 * sizeof all_tests / sizeof all_tests[0]];
    size_t n = 0;
    for (int s = 0; s < 2; s++) {
        load(&servers[s]);
        for (size_t i = 0; servers[s].present && i < nsc; i++)
            chosen[n++] = all_tests[i][s];
    }
    if (n == 0)
        return realenv_none(argv[0]);
    snprintf(otherdir, sizeof otherdir, "/tmp/imc-realtls.XXXXXX");
    if (!mkdtemp(otherdir) || tlsfake_certs_make(otherdir) < 0)
        return 1;
    snprintf(other_ca, sizeof other_ca, "%s/ca.pem", otherdir);
    int r = check_main(argc, argv, chosen, n);
    tlsfake_certs_remove(otherdir);
    return r;
}
