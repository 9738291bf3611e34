/*
 * A program written for Cyrus IMAP 3.x's <cyrus/imclient.h>, the way its
 * users (Cyrus::IMAP, cyradm) write one: SASL callbacks at connect, a
 * mechanism list and SSF bounds at authenticate, %B, imclient_write() to
 * answer a continuation, IMCLIENT_CONN_INITIALRESPONSE, and the 3.x URL
 * functions.  It builds unchanged with IMCLIENT_CYRUS3 defined and runs
 * against the Dovecot and Cyrus of tests/servers (IMC_DOVECOT_* and
 * IMC_CYRUS_* in the environment).
 *
 * Where 3.x and this library differ on purpose, it asserts this
 * library's side: PLAIN is refused until TLS is on, and TLS verifies the
 * server (against IMC_CA_FILE).
 *
 * Without servers it prints "skipped: no servers" and succeeds, unless
 * IMC_REQUIRE_SERVERS=1.
 */
#define IMCLIENT_CYRUS3
#include <cyrus/imclient.h>
#include <cyrus/imapurl.h>
#include <sasl/saslutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cyrus's library calls the application's fatal(). */
void fatal(const char *msg, int code);
void fatal(const char *msg, int code)
{
    fprintf(stderr, "fatal: %s\n", msg);
    exit(code ? code : 1);
}

struct server {
    const char *name, *prefix;
    const char *host, *port, *user, *pass;
    int gssapi;
};

static const char *cafile;
static int passed, failed;

#define EXPECT(s, cond)                                                            \
    do {                                                                           \
        if (cond) {                                                                \
            passed++;                                                              \
        } else {                                                                   \
            failed++;                                                              \
            fprintf(stderr, "%s: FAILED %s:%d: %s\n", (s)->name, __FILE__, __LINE__, \
                    #cond);                                                        \
        }                                                                          \
    } while (0)

static const char *env(const char *prefix, const char *what)
{
    char name[64];
    snprintf(name, sizeof name, "IMC_%s_%s", prefix, what);
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* ---- the callbacks, as Cyrus::IMAP keeps them ---- */

struct login {
    const char *authname;
    sasl_secret_t *password;
};

static int get_username(void *context, int id, const char **result, unsigned *len)
{
    struct login *l = context;
    *result = id == SASL_CB_AUTHNAME ? l->authname : "";
    if (len)
        *len = (unsigned)strlen(*result);
    return SASL_OK;
}

static int get_password(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
    struct login *l = context;
    (void)conn;
    if (id != SASL_CB_PASS)
        return SASL_FAIL;
    *psecret = l->password;
    return SASL_OK;
}

/* ---- waiting for a command, the 3.x way ---- */

struct result {
    int done;
    char keyword[16];
    char text[256];
};

static void finish(struct imclient *c, void *rock, struct imclient_reply *reply)
{
    struct result *r = rock;
    (void)c;
    snprintf(r->keyword, sizeof r->keyword, "%s", reply->keyword);
    snprintf(r->text, sizeof r->text, "%s", reply->text);
    r->done = 1;
}

static int run(struct imclient *c, struct result *r)
{
    while (!r->done)
        imclient_processoneevent(c);
    return strcmp(r->keyword, "OK") == 0;
}

static int select_inbox(struct imclient *c)
{
    struct result r = { 0, "", "" };
    imclient_send(c, finish, &r, "SELECT %s", "INBOX");
    return run(c, &r);
}

static int logout(struct imclient *c)
{
    struct result r = { 0, "", "" };
    imclient_send(c, finish, &r, "LOGOUT");
    return run(c, &r);
}

/* PLAIN's message, "\0user\0password". */
static size_t plain_message(const struct server *s, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%c%s%c%s", 0, s->user, 0, s->pass);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* ---- the scenarios ---- */

/* Callbacks at connect; PLAIN refused before TLS, accepted after, with
 * the initial response inline. */
static void callbacks_and_mechlist(const struct server *s)
{
    size_t plen = strlen(s->pass);
    struct login l = { s->user, malloc(sizeof(sasl_secret_t) + plen) };
    l.password->len = (unsigned)plen;
    memcpy(l.password->data, s->pass, plen); /* no NUL, as Cyrus::IMAP */
    sasl_callback_t cbs[] = {
        { SASL_CB_USER, (int (*)(void))(void (*)(void))get_username, &l },
        { SASL_CB_AUTHNAME, (int (*)(void))(void (*)(void))get_username, &l },
        { SASL_CB_PASS, (int (*)(void))(void (*)(void))get_password, &l },
        { SASL_CB_LIST_END, NULL, NULL },
    };
    struct imclient *c;
    int rc = imclient_connect(&c, s->host, s->port, cbs);
    EXPECT(s, rc == 0);
    if (rc != 0) {
        free(l.password);
        return;
    }
    EXPECT(s, imclient_authenticate(c, "PLAIN", "imap", NULL, 0, 256) == 1);
    EXPECT(s, imclient_starttls(c, NULL, NULL, (char *)cafile, NULL) == 0);
    imclient_setflags(c, IMCLIENT_CONN_INITIALRESPONSE);
    EXPECT(s, imclient_authenticate(c, "AUTH=PLAIN AUTH=LOGIN", "imap", NULL, 0, 10000) == 0);
    EXPECT(s, select_inbox(c));
    EXPECT(s, logout(c));
    imclient_close(c);
    free(l.password);
}

/* A connection with TLS verified against the test CA, no callbacks. */
static struct imclient *open_tls(const struct server *s)
{
    struct imclient *c = NULL;
    EXPECT(s, imclient_connect(&c, s->host, s->port, NULL) == 0);
    EXPECT(s, c && imclient_starttls(c, NULL, NULL, (char *)cafile, NULL) == 0);
    return c;
}

/* AUTHENTICATE PLAIN written by hand: the response through %B. */
static void percent_b(const struct server *s)
{
    struct imclient *c = open_tls(s);
    if (!c)
        return;
    char msg[512];
    size_t n = plain_message(s, msg, sizeof msg);
    struct result r = { 0, "", "" };
    imclient_send(c, finish, &r, "AUTHENTICATE PLAIN %B", (int)n, msg);
    EXPECT(s, run(c, &r));
    EXPECT(s, select_inbox(c));
    imclient_close(c);
}

struct continuation {
    char line[1024];
    int answered;
};

static void on_continuation(struct imclient *c, void *rock, struct imclient_reply *reply)
{
    struct continuation *k = rock;
    (void)reply;
    imclient_write(c, k->line, strlen(k->line));
    k->answered++;
}

/* The server's "+" answered by the application through imclient_write(). */
static void write_answers_continuation(const struct server *s)
{
    struct imclient *c = open_tls(s);
    if (!c)
        return;
    char msg[512];
    size_t n = plain_message(s, msg, sizeof msg);
    struct continuation k = { "", 0 };
    unsigned len = 0;
    EXPECT(s, sasl_encode64(msg, (unsigned)n, k.line, sizeof k.line - 2, &len) == SASL_OK);
    strcpy(k.line + len, "\r\n");
    imclient_addcallback(c, "+", 0, on_continuation, &k, (char *)NULL);
    struct result r = { 0, "", "" };
    imclient_send(c, finish, &r, "AUTHENTICATE PLAIN");
    EXPECT(s, run(c, &r));
    EXPECT(s, k.answered == 1);
    EXPECT(s, select_inbox(c));
    imclient_close(c);
}

/* Kerberos from the credential cache (KRB5CCNAME), no callbacks needed;
 * any layer from none to privacy, as Cyrus::IMAP asks. */
static void gssapi(const struct server *s)
{
    const char *host = getenv("IMC_KRB5_HOST");
    struct imclient *c;
    EXPECT(s, imclient_connect(&c, host ? host : "localhost", s->port, NULL) == 0);
    EXPECT(s, imclient_authenticate(c, "GSSAPI", "imap", NULL, 0, 10000) == 0);
    EXPECT(s, select_inbox(c));
    imclient_close(c);
}

/* Server and mailbox to a URL and back, as Cyrus::IMAP's toURL/fromURL. */
static void urls(const struct server *s)
{
    char server[300], out[1024];
    snprintf(server, sizeof server, "%s:%s", s->host, s->port);
    struct imapurl url;
    memset(&url, 0, sizeof(struct imapurl));
    url.server = server;
    url.mailbox = "Archive/&ZeVnLIqe-";
    imapurl_toURL(out, &url);
    const char *path = "/Archive/%E6%97%A5%E6%9C%AC%E8%AA%9E";
    EXPECT(s, strlen(out) > strlen(path) && strcmp(out + strlen(out) - strlen(path), path) == 0);
    EXPECT(s, imapurl_fromURL(&url, out) == 0);
    EXPECT(s, url.server && strcmp(url.server, server) == 0);
    EXPECT(s, url.mailbox && strcmp(url.mailbox, "Archive/&ZeVnLIqe-") == 0);
    free(url.freeme);
}

int main(void)
{
    struct server servers[] = {
        { "dovecot", "DOVECOT", NULL, NULL, NULL, NULL, 0 },
        { "cyrus", "CYRUS", NULL, NULL, NULL, NULL, 0 },
    };
    cafile = getenv("IMC_CA_FILE");
    int present = 0;
    for (size_t i = 0; i < sizeof servers / sizeof servers[0]; i++) {
        struct server *s = &servers[i];
        s->host = env(s->prefix, "HOST") ? env(s->prefix, "HOST") : "127.0.0.1";
        s->port = env(s->prefix, "PORT");
        s->user = env(s->prefix, "USER");
        s->pass = env(s->prefix, "PASS");
        s->gssapi = env(s->prefix, "GSSAPI") && getenv("KRB5CCNAME");
        if (!s->port || !s->user || !s->pass || !cafile)
            continue;
        present++;
        callbacks_and_mechlist(s);
        percent_b(s);
        write_answers_continuation(s);
        if (s->gssapi)
            gssapi(s);
        urls(s);
        printf("%s: done\n", s->name);
    }
    if (!present) {
        const char *require = getenv("IMC_REQUIRE_SERVERS");
        if (require && strcmp(require, "1") == 0) {
            fprintf(stderr, "IMC_REQUIRE_SERVERS=1 but no server variables\n");
            return 1;
        }
        printf("skipped: no servers\n");
        return 0;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
