/*
 * imclient_authenticate() against real Dovecot 2.3 and Cyrus imapd 3.6 from
 * tests/servers/all.sh: every mechanism each server offers, with good and
 * bad credentials; GSSAPI with a ticket fetched by kinit into a private
 * credential cache; the SASL security layer (Cyrus's GSSAPI and DIGEST-MD5
 * negotiate one) carrying SELECT, APPEND and FETCH, bytes compared;
 * EXTERNAL with the client certificate over STARTTLS.
 *
 * Each scenario runs once per server, as a test of its own.  A mechanism a
 * server does not advertise is recorded as "not offered" and passes.  At
 * the end the program prints the mechanism x server x layer matrix.
 *
 * Without the variables (load DIR/env of all.sh) it prints "skipped: no
 * servers" and succeeds, unless IMC_REQUIRE_SERVERS=1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr */
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "realenv.h"
#include <cyrus/imclient.h>

/* ---- servers ------------------------------------------------------------ */

struct server {
    const char *name;
    const char *prefix; /* IMC_<prefix>_PORT ... */
    const char *host, *port, *user, *pass, *user2, *pass2;
    int gssapi;         /* the server was started with the KDC */
    int present;
    char caps[4096];    /* its CAPABILITY before login */
};

static struct server servers[] = {
    { "dovecot", "DOVECOT", NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, "" },
    { "cyrus", "CYRUS", NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, "" },
};

static void load_server(struct server *s)
{
    const char *host = realenv_var(s->prefix, "HOST");
    const char *gssapi = realenv_var(s->prefix, "GSSAPI");
    s->host = host ? host : "127.0.0.1";
    s->port = realenv_var(s->prefix, "PORT");
    s->user = realenv_var(s->prefix, "USER");
    s->pass = realenv_var(s->prefix, "PASS");
    s->user2 = realenv_var(s->prefix, "USER2");
    s->pass2 = realenv_var(s->prefix, "PASS2");
    s->gssapi = gssapi && strcmp(gssapi, "1") == 0;
    s->present = s->port && s->user && s->pass;
}

static int is_cyrus(const struct server *s)
{
    return strcmp(s->name, "cyrus") == 0;
}

/* ---- the matrix ---------------------------------------------------------- */

struct row {
    const char *server;
    char mech[24];
    char layer[24];
    char what[48];
    const char *result; /* "passed", "FAILED", "not offered" */
};

static struct row rows[256];
static int nrows;

/* A row that reads FAILED until the scenario reaches its end. */
static struct row *row(const struct server *s, const char *mech, const char *layer,
                       const char *what)
{
    if (nrows == (int)(sizeof rows / sizeof rows[0]))
        abort();
    struct row *r = &rows[nrows++];
    r->server = s->name;
    snprintf(r->mech, sizeof r->mech, "%s", mech);
    snprintf(r->layer, sizeof r->layer, "%s", layer);
    snprintf(r->what, sizeof r->what, "%s", what);
    r->result = "FAILED";
    return r;
}

static void print_matrix(void)
{
    if (nrows == 0)
        return;
    printf("\n%-8s %-14s %-20s %-34s %s\n", "server", "mechanism", "layer", "case", "result");
    for (int i = 0; i < nrows; i++)
        printf("%-8s %-14s %-20s %-34s %s\n", rows[i].server, rows[i].mech, rows[i].layer,
               rows[i].what, rows[i].result);
}

/* ---- a connection and what it saw --------------------------------------- */

struct conn {
    struct imclient *c;
    const struct server *srv;
    int done;            /* completions seen */
    char keyword[16];    /* of the last completion */
    char text[256];
    long exists;         /* last EXISTS */
    char *fetched;       /* text of the last FETCH */
    size_t fetchedlen;
    const char *authname, *password;
    char caps[4096];
};

static const char *secret(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)c;
    (void)mech;
    struct conn *x = rock;
    if (what == IMCLIENT_SECRET_AUTHNAME)
        return x->authname;
    if (what == IMCLIENT_SECRET_PASSWORD)
        return x->password;
    return NULL;
}

static void on_done(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct conn *x = rock;
    snprintf(x->keyword, sizeof x->keyword, "%s", r->keyword);
    snprintf(x->text, sizeof x->text, "%s", r->text);
    x->done++;
}

static void on_exists(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    ((struct conn *)rock)->exists = r->msgno;
}

static void on_fetch(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct conn *x = rock;
    free(x->fetched);
    x->fetched = malloc(r->textlen + 1);
    if (!x->fetched)
        abort();
    memcpy(x->fetched, r->text, r->textlen);
    x->fetched[r->textlen] = '\0';
    x->fetchedlen = r->textlen;
}

static void on_capability(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct conn *x = rock;
    snprintf(x->caps, sizeof x->caps, "%s", r->text);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Run events until n completions were seen (30 s at most). */
static int wait_done(struct conn *x, int n)
{
    long deadline = now_ms() + 30000;
    while (x->done < n && now_ms() < deadline)
        if (imclient_processoneevent_timeout(x->c, 1000) < 0)
            break;
    return x->done >= n;
}

/* Send, wait, and give the completion's keyword ("" if none came). */
#define RUN(x, ...)                                                    \
    (imclient_send((x)->c, on_done, (x), __VA_ARGS__),                 \
     wait_done((x), (x)->done + 1) ? (x)->keyword : "")

static int open_conn(struct conn *x, const struct server *srv, const char *host)
{
    memset(x, 0, sizeof *x);
    x->srv = srv;
    x->exists = -1;
    if (imclient_connect(&x->c, host, srv->port) != 0) {
        x->c = NULL;
        return 0;
    }
    struct imclient_limits lim = { 0, 0, 0, 20000, 0 };
    imclient_setlimits(x->c, &lim);
    imclient_setsecretproc(x->c, secret, x);
    imclient_addcallback(x->c, "EXISTS", CALLBACK_NUMBERED, on_exists, x, "FETCH",
                         CALLBACK_NUMBERED, on_fetch, x, NULL);
    return 1;
}

static void close_conn(struct conn *x)
{
    if (x->c)
        imclient_close(x->c);
    x->c = NULL;
    free(x->fetched);
    x->fetched = NULL;
}

/* The server's capabilities before login, learnt once per server. */
static void learn_caps(struct server *srv)
{
    struct conn x;
    if (!open_conn(&x, srv, srv->host))
        return;
    imclient_addcallback(x.c, "CAPABILITY", 0, on_capability, &x, NULL);
    if (strcmp(RUN(&x, "CAPABILITY"), "OK") == 0)
        snprintf(srv->caps, sizeof srv->caps, "%s", x.caps);
    close_conn(&x);
}

static int offered(const struct server *srv, const char *mech)
{
    char want[64];
    snprintf(want, sizeof want, "AUTH=%s", mech);
    size_t n = strlen(want);
    for (const char *p = srv->caps; (p = strcasestr(p, want)) != NULL; p += n)
        if ((p == srv->caps || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

static const char *layer_name(int prot)
{
    switch (prot) {
    case SASL_PROT_NONE:
        return "NONE";
    case SASL_PROT_INTEGRITY:
        return "INTEGRITY";
    case SASL_PROT_PRIVACY:
        return "PRIVACY";
    case SASL_PROT_ANY:
        return "ANY";
    }
    return "?";
}

#define CHECK_AUTH(x, call, want)                                               \
    do {                                                                        \
        int got_ = (call);                                                      \
        if (got_ != (want)) {                                                   \
            check_fail(__FILE__, __LINE__, "%s: got %d, want %d (error: %s)",    \
                       #call, got_, (want), imclient_error((x)->c));            \
            close_conn(x);                                                      \
            return;                                                             \
        }                                                                       \
    } while (0)

#define CHECK_X(x, cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            check_fail(__FILE__, __LINE__, "%s (last reply: %s %s; error: %s)", \
                       #cond, (x)->keyword, (x)->text,                          \
                       (x)->c ? imclient_error((x)->c) : "");                   \
            close_conn(x);                                                      \
            return;                                                             \
        }                                                                       \
    } while (0)

static int authenticate(struct conn *x, const char *mech, const char *user, int prot)
{
    struct sasl_client m = { mech, 0 };
    struct sasl_client *list[] = { &m, NULL };
    return imclient_authenticate(x->c, list, "imap", user, prot);
}

/* SELECT INBOX; APPEND a message of size bytes; FETCH it back whole and
 * compare.  With a security layer on, all of it goes through the layer. */
static void select_append_fetch(struct conn *x, size_t size)
{
    CHECK_X(x, strcmp(RUN(x, "SELECT INBOX"), "OK") == 0);
    char *msg = malloc(size + 1);
    if (!msg)
        abort();
    int head = snprintf(msg, size + 1,
                        "From: alice@localhost\r\nSubject: imc auth %ld-%ld\r\n\r\n",
                        (long)getpid(), now_ms());
    for (size_t i = (size_t)head; i < size; i++)
        msg[i] = (char)('A' + i % 26);
    for (size_t i = (size_t)head + 70; i + 1 < size; i += 72) {
        msg[i] = '\r';
        msg[i + 1] = '\n';
    }
    msg[size - 2] = '\r';
    msg[size - 1] = '\n';
    msg[size] = '\0';
    int appended = strcmp(RUN(x, "APPEND INBOX %s", msg), "OK") == 0;
    if (!appended)
        free(msg);
    CHECK_X(x, appended);
    x->exists = -1;
    if (strcmp(RUN(x, "NOOP"), "OK") != 0 || x->exists < 1)
        RUN(x, "SELECT INBOX");
    if (x->exists < 1)
        free(msg);
    CHECK_X(x, x->exists >= 1);
    int fetched = strcmp(RUN(x, "FETCH %d BODY.PEEK[]", (int)x->exists), "OK") == 0;
    char want[64];
    snprintf(want, sizeof want, "{%zu}\r\n", size);
    const char *body = fetched && x->fetched ? strstr(x->fetched, want) : NULL;
    int same = body && (size_t)(x->fetched + x->fetchedlen - body) >= strlen(want) + size &&
               memcmp(body + strlen(want), msg, size) == 0;
    free(msg);
    CHECK_X(x, fetched);
    CHECK_X(x, same);
}

/* ---- password mechanisms -------------------------------------------------- */

static const char *password_mechs[] = {
    "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5",
};

static void password_good(const struct server *srv, const char *mech)
{
    if (!offered(srv, mech)) {
        row(srv, mech, "-", "good password")->result = "not offered";
        return;
    }
    struct row *r = row(srv, mech, "NONE", "good password, SELECT");
    struct conn x;
    CHECK(open_conn(&x, srv, srv->host));
    /* Every mechanism in turn, over plain text on purpose: PLAIN and LOGIN
     * must be allowed for that (plaintext_refused shows the default). */
    imclient_setflags(x.c, IMCLIENT_CONN_ALLOWPLAINTEXT);
    x.authname = srv->user;
    x.password = srv->pass;
    CHECK_AUTH(&x, authenticate(&x, mech, NULL, SASL_PROT_NONE), 0);
    CHECK_X(&x, imclient_getssf(x.c) == 0);
    CHECK_X(&x, strcmp(RUN(&x, "SELECT INBOX"), "OK") == 0);
    close_conn(&x);
    r->result = "passed";
}

static void password_bad(const struct server *srv, const char *mech)
{
    if (!offered(srv, mech)) {
        row(srv, mech, "-", "bad password")->result = "not offered";
        return;
    }
    struct row *r = row(srv, mech, "NONE", "bad password -> 1");
    struct conn x;
    CHECK(open_conn(&x, srv, srv->host));
    imclient_setflags(x.c, IMCLIENT_CONN_ALLOWPLAINTEXT);
    x.authname = srv->user;
    x.password = "not-the-password";
    CHECK_AUTH(&x, authenticate(&x, mech, NULL, SASL_PROT_NONE), 1);
    CHECK_X(&x, strstr(imclient_error(x.c), "the server said NO") != NULL);
    CHECK_X(&x, imclient_getssf(x.c) == -1);
    /* Still connected and not logged in. */
    CHECK_X(&x, strcmp(RUN(&x, "SELECT INBOX"), "OK") != 0);
    close_conn(&x);
    r->result = "passed";
}

/* The second account, by the page's user argument instead of AUTHNAME. */
static void password_second_user(const struct server *srv)
{
    const char *mech = offered(srv, "SCRAM-SHA-256") ? "SCRAM-SHA-256" : "PLAIN";
    struct row *r = row(srv, mech, "NONE", "user argument = bob");
    if (!srv->user2) {
        r->result = "not offered";
        return;
    }
    struct conn x;
    CHECK(open_conn(&x, srv, srv->host));
    imclient_setflags(x.c, IMCLIENT_CONN_ALLOWPLAINTEXT);
    x.password = srv->pass2;
    CHECK_AUTH(&x, authenticate(&x, mech, srv->user2, SASL_PROT_ANY), 0);
    CHECK_X(&x, strcmp(RUN(&x, "SELECT INBOX"), "OK") == 0);
    close_conn(&x);
    r->result = "passed";
}

/* Preference order: a mechanism that is not offered is skipped, the first
 * offered one that works wins. */
static void password_preference(const struct server *srv)
{
    struct row *r = row(srv, "X-NONE,CRAM,PLAIN", "ANY", "first offered wins");
    struct conn x;
    CHECK(open_conn(&x, srv, srv->host));
    x.authname = srv->user;
    x.password = srv->pass;
    struct sasl_client bogus = { "X-NOT-A-MECHANISM", 0 };
    struct sasl_client *list[] = { &bogus, &imclient_sasl_cram_md5, &imclient_sasl_plain, NULL };
    CHECK_AUTH(&x, imclient_authenticate(x.c, list, "imap", NULL, SASL_PROT_ANY), 0);
    CHECK_X(&x, strcmp(RUN(&x, "SELECT INBOX"), "OK") == 0);
    close_conn(&x);
    r->result = "passed";
}

/* Without TLS, mechanisms that send the password itself are refused by
 * default, and the preference list goes on to the next one: a server
 * (or whoever rewrote its CAPABILITY) offering only PLAIN gets nothing. */
static void plaintext_refused(const struct server *srv)
{
    struct row *r = row(srv, "PLAIN,LOGIN", "ANY", "no TLS: refused, nothing sent");
    struct conn x;
    CHECK(open_conn(&x, srv, srv->host));
    x.authname = srv->user;
    x.password = srv->pass;
    struct sasl_client *list[] = { &imclient_sasl_plain, &imclient_sasl_login, NULL };
    CHECK_AUTH(&x, imclient_authenticate(x.c, list, "imap", NULL, SASL_PROT_ANY), 1);
    CHECK_X(&x, strstr(imclient_error(x.c), "PLAIN refused: it sends the password itself") != NULL);
    CHECK_X(&x, imclient_getssf(x.c) == -1);
    /* Still connected, and not logged in. */
    CHECK_X(&x, strcmp(RUN(&x, "SELECT INBOX"), "OK") != 0);
    close_conn(&x);
    r->result = "passed";
}

/* DIGEST-MD5 negotiates a layer on Cyrus when one is allowed. */
static void digest_layer(const struct server *srv, int prot)
{
    const char *mech = "DIGEST-MD5";
    if (!offered(srv, mech)) {
        row(srv, mech, layer_name(prot), "layer")->result = "not offered";
        return;
    }
    struct row *r = row(srv, mech, layer_name(prot), "SELECT+APPEND+FETCH 100 KB");
    struct conn x;
    /* DIGEST-MD5's digest-uri names the host; Cyrus knows itself as localhost. */
    CHECK(open_conn(&x, srv, "localhost"));
    x.authname = srv->user;
    x.password = srv->pass;
    CHECK_AUTH(&x, authenticate(&x, mech, NULL, prot), 0);
    int ssf = imclient_getssf(x.c);
    if (prot == SASL_PROT_INTEGRITY)
        CHECK_X(&x, ssf == 1);
    else
        CHECK_X(&x, ssf > 1);
    snprintf(r->layer, sizeof r->layer, "%s (ssf %d)", layer_name(prot), ssf);
    select_append_fetch(&x, 100000);
    if (check_failed_now)
        return;
    close_conn(&x);
    r->result = "passed";
}

/* ---- GSSAPI --------------------------------------------------------------- */

/* GSSAPI to service imap on host localhost, with protallowed prot. */
static void gssapi_layer(const struct server *srv, int prot)
{
    const char *mech = "GSSAPI";
    if (!offered(srv, mech)) {
        row(srv, mech, layer_name(prot), "ticket")->result = "not offered";
        return;
    }
    /* Cyrus gives whatever layer is allowed; Dovecot gives none, so a
     * caller who insists on one must fail there. */
    int layers = is_cyrus(srv);
    int must_fail = !layers && !(prot & SASL_PROT_NONE);
    struct row *r = row(srv, mech, layer_name(prot),
                        must_fail ? "no layer offered -> 1"
                                  : (layers && prot != SASL_PROT_NONE)
                                        ? "SELECT+APPEND+FETCH 100 KB"
                                        : "SELECT");
    CHECK(realenv_has_ticket());
    struct conn x;
    CHECK(open_conn(&x, srv, getenv("IMC_KRB5_HOST") ? getenv("IMC_KRB5_HOST") : "localhost"));
    if (must_fail) {
        CHECK_AUTH(&x, authenticate(&x, mech, NULL, prot), 1);
        CHECK_X(&x, strncmp(imclient_error(x.c), "GSSAPI", 6) == 0);
        close_conn(&x);
        r->result = "passed";
        return;
    }
    CHECK_AUTH(&x, authenticate(&x, mech, NULL, prot), 0);
    int ssf = imclient_getssf(x.c);
    snprintf(r->layer, sizeof r->layer, "%s (ssf %d)", layer_name(prot), ssf);
    if (!layers || prot == SASL_PROT_NONE)
        CHECK_X(&x, ssf == 0);
    else if (prot == SASL_PROT_INTEGRITY)
        CHECK_X(&x, ssf == 1);
    else
        CHECK_X(&x, ssf > 1);
    if (ssf > 0) {
        select_append_fetch(&x, 100000);
        if (check_failed_now)
            return;
    } else {
        CHECK_X(&x, strcmp(RUN(&x, "SELECT INBOX"), "OK") == 0);
    }
    close_conn(&x);
    r->result = "passed";
}

/* The user argument is the authorization identity for GSSAPI. */
static void gssapi_authzid(const struct server *srv, const char *user, int want)
{
    if (!offered(srv, "GSSAPI")) {
        row(srv, "GSSAPI", "-", "authzid")->result = "not offered";
        return;
    }
    char what[48];
    snprintf(what, sizeof what, "authzid %s -> %d", user, want);
    struct row *r = row(srv, "GSSAPI", "NONE", what);
    CHECK(realenv_has_ticket());
    struct conn x;
    CHECK(open_conn(&x, srv, getenv("IMC_KRB5_HOST") ? getenv("IMC_KRB5_HOST") : "localhost"));
    CHECK_AUTH(&x, authenticate(&x, "GSSAPI", user, SASL_PROT_NONE), want);
    if (want == 0)
        CHECK_X(&x, strcmp(RUN(&x, "SELECT INBOX"), "OK") == 0);
    close_conn(&x);
    r->result = "passed";
}

/* Without a ticket GSSAPI fails here; nothing is sent for it. */
static void gssapi_no_ticket(const struct server *srv)
{
    if (!offered(srv, "GSSAPI")) {
        row(srv, "GSSAPI", "-", "no ticket")->result = "not offered";
        return;
    }
    struct row *r = row(srv, "GSSAPI", "ANY", "no ticket -> 1 (local)");
    char empty[96];
    snprintf(empty, sizeof empty, "FILE:/tmp/imc-auth-test-empty-%ld", (long)getpid());
    char *ticket = strdup(getenv("KRB5CCNAME") ? getenv("KRB5CCNAME") : "");
    setenv("KRB5CCNAME", empty, 1);
    struct conn x;
    int opened = open_conn(&x, srv, "localhost");
    int res = opened ? authenticate(&x, "GSSAPI", NULL, SASL_PROT_ANY) : -1;
    setenv("KRB5CCNAME", ticket ? ticket : "", 1);
    free(ticket);
    CHECK(opened);
    CHECK_X(&x, res == 1);
    CHECK_X(&x, strncmp(imclient_error(x.c), "GSSAPI: ", 8) == 0);
    CHECK_X(&x, imclient_isopen(x.c));
    close_conn(&x);
    r->result = "passed";
}

/* ---- EXTERNAL --------------------------------------------------------------- */

static void external(const struct server *srv, int with_cert)
{
    struct row *r = row(srv, "EXTERNAL", "NONE (TLS below)",
                        with_cert ? "STARTTLS + client cert" : "STARTTLS, no cert -> 1");
    const char *ca = getenv("IMC_CA_FILE");
    const char *cert = getenv("IMC_CLIENT_CERT"), *key = getenv("IMC_CLIENT_KEY");
    if (!imclient_havetls() || !ca || !cert || !key) {
        r->result = "not offered";
        return;
    }
    struct conn x;
    CHECK(open_conn(&x, srv, srv->host));
    char *ca_copy = strdup(ca), *cert_copy = strdup(cert), *key_copy = strdup(key);
    int tls = imclient_starttls(x.c, with_cert ? cert_copy : NULL, with_cert ? key_copy : NULL,
                                ca_copy, NULL);
    free(ca_copy);
    free(cert_copy);
    free(key_copy);
    CHECK_X(&x, tls == 0);
    /* Authenticate asks for capabilities itself, after TLS. */
    int res = authenticate(&x, "EXTERNAL", NULL, SASL_PROT_NONE);
    if (with_cert) {
        CHECK_AUTH(&x, res, 0);
        CHECK_X(&x, strcmp(RUN(&x, "SELECT INBOX"), "OK") == 0);
    } else {
        CHECK_AUTH(&x, res, 1);
    }
    close_conn(&x);
    r->result = "passed";
}

/* ---- the tests, one per scenario and server -------------------------------- */

#define PER_SERVER(name, body)                                                   \
    static void name##_on(const struct server *srv) body                        \
    static void dovecot_##name(void) { name##_on(&servers[0]); }                 \
    static void cyrus_##name(void) { name##_on(&servers[1]); }

PER_SERVER(password_mechanisms_good, {
    for (size_t i = 0; i < sizeof password_mechs / sizeof password_mechs[0]; i++) {
        password_good(srv, password_mechs[i]);
        if (check_failed_now)
            return;
    }
})
PER_SERVER(password_mechanisms_bad, {
    for (size_t i = 0; i < sizeof password_mechs / sizeof password_mechs[0]; i++) {
        password_bad(srv, password_mechs[i]);
        if (check_failed_now)
            return;
    }
})
PER_SERVER(second_user, { password_second_user(srv); })
PER_SERVER(preference_order, { password_preference(srv); })
PER_SERVER(plaintext_refused, { plaintext_refused(srv); })
PER_SERVER(digest_integrity, { digest_layer(srv, SASL_PROT_INTEGRITY); })
PER_SERVER(digest_any, { digest_layer(srv, SASL_PROT_ANY); })
PER_SERVER(gssapi_none, { gssapi_layer(srv, SASL_PROT_NONE); })
PER_SERVER(gssapi_integrity, { gssapi_layer(srv, SASL_PROT_INTEGRITY); })
PER_SERVER(gssapi_privacy, { gssapi_layer(srv, SASL_PROT_PRIVACY); })
PER_SERVER(gssapi_any, { gssapi_layer(srv, SASL_PROT_ANY); })
PER_SERVER(gssapi_authzid_self, { gssapi_authzid(srv, "alice", 0); })
PER_SERVER(gssapi_authzid_other, { gssapi_authzid(srv, "bob", 1); })
PER_SERVER(gssapi_without_ticket, { gssapi_no_ticket(srv); })
PER_SERVER(external_with_cert, { external(srv, 1); })
PER_SERVER(external_without_cert, { external(srv, 0); })

#define BOTH(name) TEST(dovecot_##name), TEST(cyrus_##name)

static const struct check_test all_tests[] = {
    BOTH(password_mechanisms_good),
    BOTH(password_mechanisms_bad),
    BOTH(second_user),
    BOTH(preference_order),
    BOTH(plaintext_refused),
    BOTH(digest_integrity),
    BOTH(digest_any),
    BOTH(gssapi_none),
    BOTH(gssapi_integrity),
    BOTH(gssapi_privacy),
    BOTH(gssapi_any),
    BOTH(gssapi_authzid_self),
    BOTH(gssapi_authzid_other),
    BOTH(gssapi_without_ticket),
    BOTH(external_with_cert),
    BOTH(external_without_cert),
};

int main(int argc, char **argv)
{
    size_t n = 0;
    struct check_test chosen[sizeof all_tests / sizeof all_tests[0]];
    for (int s = 0; s < 2; s++)
        load_server(&servers[s]);
    for (size_t i = 0; i < sizeof all_tests / sizeof all_tests[0]; i++) {
        const struct server *srv = &servers[strncmp(all_tests[i].name, "cyrus_", 6) == 0];
        if (srv->present)
            chosen[n++] = all_tests[i];
    }
    if (n == 0)
        return realenv_none(argv[0]);
    for (int s = 0; s < 2; s++)
        if (servers[s].present)
            learn_caps(&servers[s]);
    realenv_kinit();
    int r = check_main(argc, argv, chosen, n);
    realenv_kdestroy();
    print_matrix();
    return r;
}
