/*
 * The documented imclient(3) API against real Dovecot 2.3 and Cyrus imapd
 * 3.6, started by tests/servers/all.sh, which writes their addresses and
 * accounts to DIR/env.  Every scenario runs once per server, as a test of
 * its own, so a failure names the server.  Only <cyrus/imclient.h> is used:
 * what a program linking the library can do, it is tested doing.
 *
 * Without the variables the program prints "skipped: no servers" and
 * succeeds, unless IMC_REQUIRE_SERVERS=1 says the servers must be there.
 * IMC_REAL_SHOW=1 prints the servers' reply texts, to compare them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "realenv.h"
#include <cyrus/imclient.h>
#include "util/buf.h"

/* ---- servers --------------------------------------------------------- */

struct server {
    const char *name;   /* as in the test names */
    const char *prefix; /* of its variables: IMC_<prefix>_PORT ... */
    const char *port, *user, *pass;
    int present;
};

static struct server servers[] = {
    { "dovecot", "DOVECOT", NULL, NULL, NULL, 0 },
    { "cyrus", "CYRUS", NULL, NULL, NULL, 0 },
};

static void load_server(struct server *s)
{
    s->port = realenv_var(s->prefix, "PORT");
    s->user = realenv_var(s->prefix, "USER");
    s->pass = realenv_var(s->prefix, "PASS");
    s->present = s->port && s->user && s->pass;
}

static int is_cyrus(const struct server *s)
{
    return strcmp(s->name, "cyrus") == 0;
}

/* ---- what a test saw ------------------------------------------------- */

/* One delivery to a callback, copied: the library's text is only valid
 * while the callback runs. */
struct seen {
    const char *label; /* which callback or command */
    int id;
    char keyword[32];
    long msgno;
    char *text;
    size_t len;
};

struct ctx;

/* The rock of every callback: names the delivery in the log. */
struct tap {
    struct ctx *x;
    const char *label;
    int id;
    int finish; /* a command's completion, which must run exactly once */
    int calls;
};

#define MAX_TAPS 400
#define NOOP_BURST 200

struct ctx {
    const struct server *srv;
    struct imclient *c;
    struct seen *log; /* every delivery, in arrival order */
    size_t nlog, caplog;
    struct tap taps[MAX_TAPS];
    int ntaps;
    char mailbox[96]; /* made by this test, "" when none */
};

static void record(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct tap *t = rock;
    struct ctx *x = t->x;
    t->calls++;
    if (x->nlog == x->caplog) {
        x->caplog = x->caplog ? x->caplog * 2 : 64;
        x->log = realloc(x->log, x->caplog * sizeof *x->log);
        if (!x->log)
            abort();
    }
    struct seen *s = &x->log[x->nlog++];
    s->label = t->label;
    s->id = t->id;
    snprintf(s->keyword, sizeof s->keyword, "%s", r->keyword);
    s->msgno = r->msgno;
    s->len = r->textlen;
    s->text = malloc(r->textlen + 1);
    if (!s->text)
        abort();
    memcpy(s->text, r->text, r->textlen);
    s->text[r->textlen] = '\0';
}

static struct tap *tap(struct ctx *x, const char *label, int id, int finish)
{
    if (x->ntaps == MAX_TAPS)
        abort();
    struct tap *t = &x->taps[x->ntaps++];
    *t = (struct tap){ x, label, id, finish, 0 };
    return t;
}

static void listen_for(struct ctx *x, const char *keyword, int flags, const char *label)
{
    imclient_addcallback(x->c, keyword, flags, record, tap(x, label, 0, 0), NULL);
}

static int count(const struct ctx *x, const char *label)
{
    int n = 0;
    for (size_t i = 0; i < x->nlog; i++)
        n += strcmp(x->log[i].label, label) == 0;
    return n;
}

/* The nth delivery under label, or NULL. */
static const struct seen *nth(const struct ctx *x, const char *label, int n)
{
    for (size_t i = 0; i < x->nlog; i++)
        if (strcmp(x->log[i].label, label) == 0 && n-- == 0)
            return &x->log[i];
    return NULL;
}

static const struct seen *last(const struct ctx *x, const char *label)
{
    int n = count(x, label);
    return n ? nth(x, label, n - 1) : NULL;
}

static long position(const struct ctx *x, const struct seen *s)
{
    return s ? (long)(s - x->log) : -1;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void note(const struct ctx *x, const char *what, const struct seen *s)
{
    if (!getenv("IMC_REAL_SHOW") || !s)
        return;
    fprintf(stderr, "[%s] %s: %s %.*s\n", x->srv->name, what, s->keyword,
            (int)(s->len > 300 ? 300 : s->len), s->text);
}

static void free_log(struct ctx *x)
{
    for (size_t i = 0; i < x->nlog; i++)
        free(x->log[i].text);
    free(x->log);
    x->log = NULL;
    x->nlog = x->caplog = 0;
}

/* Every command sent so far completed exactly once. */
static int finished_once(const struct ctx *x)
{
    int ok = 1;
    for (int i = 0; i < x->ntaps; i++) {
        const struct tap *t = &x->taps[i];
        if (t->finish && t->calls != 1) {
            fprintf(stderr, "  command %s#%d finished %d times\n", t->label, t->id,
                    t->calls);
            ok = 0;
        }
    }
    return ok;
}

/* ---- driving the connection ------------------------------------------ */

#define STEP_MS 1000
#define PATIENCE_MS 30000

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Run events until label has n deliveries, the connection ends or the
 * patience runs out; returns how many it has. */
static int wait_count(struct ctx *x, const char *label, int n)
{
    long deadline = now_ms() + PATIENCE_MS;
    while (count(x, label) < n && now_ms() < deadline)
        if (imclient_processoneevent_timeout(x->c, STEP_MS) < 0)
            break;
    return count(x, label);
}

/* Run events until the connection ends (bounded); returns the last result
 * of imclient_processoneevent_timeout(). */
static int run_to_end(struct ctx *x)
{
    long deadline = now_ms() + PATIENCE_MS;
    int r = 0;
    while (now_ms() < deadline)
        if ((r = imclient_processoneevent_timeout(x->c, STEP_MS)) < 0)
            break;
    return r;
}

/* Send a command named label and wait for its completion, which is
 * returned (NULL if none came).  A macro because imclient_send() has no
 * va_list form. */
#define RUN(x, label, ...)                                                     \
    (imclient_send((x)->c, record, tap((x), (label), 0, 1), __VA_ARGS__),      \
     wait_count((x), (label), 1), last((x), (label)))

/* A completion with this keyword, text starting with prefix. */
#define CHECK_DONE(s, kw, prefix)                                              \
    do {                                                                       \
        const struct seen *d_ = (s);                                           \
        CHECK(d_ != NULL);                                                     \
        if (strcmp(d_->keyword, kw) != 0 || !starts(d_->text, prefix))         \
            fprintf(stderr, "  %s: got %s \"%s\"\n", d_->label, d_->keyword,   \
                    d_->text);                                                 \
        CHECK_STR(d_->keyword, kw);                                            \
        CHECK(starts(d_->text, prefix));                                       \
        CHECK_INT(d_->msgno, -1);                                              \
    } while (0)

/* Connect and take every untagged reply: "OK" ones under "ok" (the
 * greeting among them), the rest under "untagged". */
static int open_connection(struct ctx *x)
{
    int r = imclient_connect(&x->c, "127.0.0.1", x->srv->port);
    if (r != 0) {
        fprintf(stderr, "  connect to %s port %s: %d\n", x->srv->name, x->srv->port, r);
        x->c = NULL;
        return 0;
    }
    /* A dead server fails the test in seconds, not the 2 minutes default. */
    struct imclient_limits lim = { 0, 0, 0, 20000, 0 };
    imclient_setlimits(x->c, &lim);
    listen_for(x, "", 0, "untagged");
    listen_for(x, "OK", 0, "ok");
    return 1;
}

static int greeted(struct ctx *x)
{
    const struct seen *ok = wait_count(x, "ok", 1) == 1 ? nth(x, "ok", 0) : NULL;
    return ok && strcmp(ok->keyword, "OK") == 0;
}

static void log_in(struct ctx *x)
{
    CHECK(open_connection(x));
    CHECK(greeted(x));
    const struct seen *d = RUN(x, "login", "LOGIN %s %s", x->srv->user, x->srv->pass);
    CHECK_DONE(d, "OK", "");
}

/* Run a helper that CHECKs; stop the scenario if it failed. */
#define STEP(call)                                                             \
    do {                                                                       \
        call;                                                                  \
        if (check_failed_now)                                                  \
            return;                                                            \
    } while (0)

/* ---- the test mailbox ------------------------------------------------ */

static void make_mailbox(struct ctx *x)
{
    static int serial;
    /* The space forces a quoted string on the wire. */
    snprintf(x->mailbox, sizeof x->mailbox, "imc test %ld-%ld-%d", (long)getpid(),
             (long)time(NULL), ++serial);
    CHECK_DONE(RUN(x, "create", "CREATE %s", x->mailbox), "OK", "");
}

/* The LIST entries naming the mailbox: `(flags) "sep" "name"`. */
static int listed(const struct ctx *x, const char *label, const char *mailbox)
{
    char tail[128];
    snprintf(tail, sizeof tail, " \"%s\"", mailbox);
    int n = 0;
    for (int i = 0; i < count(x, label); i++) {
        const struct seen *s = nth(x, label, i);
        size_t tl = strlen(tail);
        n += s->len > tl && s->text[0] == '(' && strcmp(s->text + s->len - tl, tail) == 0;
    }
    return n;
}

static void drop_mailbox(struct ctx *x)
{
    CHECK_DONE(RUN(x, "delete", "DELETE %s", x->mailbox), "OK", "");
    x->mailbox[0] = '\0';
}

/* A test that failed half way leaves its mailbox behind: remove it over a
 * fresh connection so runs stay repeatable. */
static void remove_leftover(const struct server *srv, const char *mailbox)
{
    struct ctx y = { .srv = srv };
    log_in(&y);
    if (y.c && imclient_isopen(y.c)) {
        const struct seen *d = RUN(&y, "delete", "DELETE %s", mailbox);
        if (!d || strcmp(d->keyword, "OK") != 0)
            fprintf(stderr, "  could not remove \"%s\" from %s\n", mailbox, srv->name);
    }
    if (y.c)
        imclient_close(y.c);
    free_log(&y);
}

/* ---- test messages --------------------------------------------------- */

/* Names this run in messages, so a search of a server's log finds them
 * and nothing from earlier runs. */
static const char *run_stamp(void)
{
    static char stamp[48];
    if (!stamp[0])
        snprintf(stamp, sizeof stamp, "%ld-%ld", (long)getpid(), (long)time(NULL));
    return stamp;
}

/* A message whose body looks like protocol to a careless reader: tagged
 * completions for the tags a test uses, untagged replies, continuation
 * requests, literal headers, plus 8-bit bytes and ~50 KB of lines. */
static char *make_message(int variant, size_t *len)
{
    size_t cap = 64 * 1024, n = 0;
    char *m = malloc(cap);
    if (!m)
        abort();
#define ADD(...) (n += (size_t)snprintf(m + n, cap - n, __VA_ARGS__))
    ADD("From: imclient tests <alice@localhost>\r\n"
        "To: alice@localhost\r\n"
        "Subject: real-server message %d\r\n"
        "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
        "Message-ID: <imc-%d-%s@localhost>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n",
        variant, variant, run_stamp());
    for (int tag = 1; tag <= 40; tag++)
        ADD("%d OK this line only looks like a completion\r\n", tag);
    ADD("* 1 EXISTS\r\n* BYE not really\r\n+ go ahead\r\n{5}\r\n{12+}\r\n)\r\n");
    ADD("caf\xe9 \xfc\xf1\xee\xe7\xf8" "d\xe9 \xa0\xff\x80 8-bit\r\n");
    /* Sizes differ by variant, so each APPEND's literal header is unique
     * in Cyrus's protocol log. */
    for (int i = 0; n < 50 * 1024 + (size_t)variant * 100; i++)
        ADD("variant %d line %05d: the quick brown fox jumps over the lazy dog \xe6\xf8\xe5\r\n",
            variant, i);
    ADD("1 OK last line of message %d-%s\r\n", variant, run_stamp());
#undef ADD
    *len = n;
    return m;
}

/* ---- Cyrus's protocol log -------------------------------------------- */

/*
 * Cyrus writes what a logged-in user's connection reads and writes to
 * CONFIGDIR/log/USER/PID when that folder exists (tests/servers makes it).
 * It is the only view of the client's bytes on the wire through a real
 * server.  Returns how often needle occurs in those logs, or -1 when they
 * cannot be read.
 */
static int count_in_file(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    /* A server process serves many connections: its log can grow large. */
    size_t cap = 1 << 20, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0)
        if ((n += got) == cap)
            buf = realloc(buf, cap *= 2);
    fclose(f);
    if (!buf)
        abort();
    size_t nl = strlen(needle);
    int hits = 0;
    for (const char *p = buf; (p = memmem(p, n - (size_t)(p - buf), needle, nl)) != NULL;
         p += nl)
        hits++;
    free(buf);
    return hits;
}

static int cyrus_wire_count(const struct ctx *x, const char *needle)
{
    const char *logdir = getenv("IMC_CYRUS_LOGDIR");
    if (!logdir)
        return -1;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", logdir, x->srv->user);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int hits = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        hits += count_in_file(path, needle);
    }
    closedir(d);
    return hits;
}

static int cyrus_wire_has(const struct ctx *x, const char *needle)
{
    int n = cyrus_wire_count(x, needle);
    return n < 0 ? -1 : n > 0;
}

/* ---- scenarios ------------------------------------------------------- */

/* 1. The greeting arrives before anything is sent; CAPABILITY's untagged
 *    reply reaches its NOLITERAL callback; the command completes OK. */
static void greeting_capability(struct ctx *x)
{
    CHECK(open_connection(x));
    CHECK_STR(imclient_servername(x->c), "127.0.0.1");
    int fd = -1, wantwrite = -1;
    imclient_getselectinfo(x->c, &fd, &wantwrite);
    CHECK(fd >= 0);
    CHECK_INT(wantwrite, 0);
    CHECK(greeted(x));
    CHECK_INT(x->nlog, 1);
    const struct seen *g = nth(x, "ok", 0);
    note(x, "greeting", g);
    CHECK_INT(g->msgno, -1);
    CHECK_INT(g->len, strlen(g->text));
    CHECK(starts(g->text, "[CAPABILITY IMAP4rev1 "));
    CHECK(strstr(g->text, " LITERAL+") != NULL);

    listen_for(x, "CAPABILITY", CALLBACK_NOLITERAL, "capability");
    const struct seen *d = RUN(x, "cap-done", "CAPABILITY");
    note(x, "CAPABILITY done", d);
    CHECK_DONE(d, "OK", "");
    CHECK_INT(count(x, "capability"), 1);
    const struct seen *cap = nth(x, "capability", 0);
    note(x, "CAPABILITY", cap);
    CHECK_INT(cap->msgno, -1);
    CHECK(starts(cap->text, "IMAP4rev1 "));
    /* Exactly: greeting, capability, completion. */
    CHECK_INT(x->nlog, 3);
    CHECK_INT(position(x, cap), 1);
    CHECK_INT(position(x, d), 2);
    CHECK(finished_once(x));
}

/* 2. LOGIN with a wrong password gets NO, with the right one OK, each
 *    completion exactly once. */
static void login_no_then_ok(struct ctx *x)
{
    CHECK(open_connection(x));
    CHECK(greeted(x));
    /* Quotes and a space: the password goes out as a quoted string. */
    const struct seen *bad =
        RUN(x, "bad-login", "LOGIN %s %s", x->srv->user, "wrong \"pw\"");
    note(x, "LOGIN wrong password", bad);
    CHECK_DONE(bad, "NO", "");
    const struct seen *good = RUN(x, "login", "LOGIN %s %s", x->srv->user, x->srv->pass);
    note(x, "LOGIN", good);
    CHECK_DONE(good, "OK", "");
    /* Only Cyrus names its capabilities in the LOGIN completion. */
    if (is_cyrus(x->srv))
        CHECK(starts(good->text, "[CAPABILITY IMAP4rev1 "));
    const struct seen *noop = RUN(x, "noop", "NOOP");
    note(x, "NOOP", noop);
    CHECK_DONE(noop, "OK", "");
    CHECK(position(x, bad) < position(x, good));
    CHECK(position(x, good) < position(x, noop));
    CHECK(finished_once(x));
}

/* The SELECT of the test mailbox, its untagged replies under "exists",
 * "recent" and "flags". */
static const struct seen *select_mailbox(struct ctx *x)
{
    listen_for(x, "EXISTS", CALLBACK_NUMBERED, "exists");
    listen_for(x, "RECENT", CALLBACK_NUMBERED, "recent");
    listen_for(x, "FLAGS", 0, "flags");
    return RUN(x, "select", "SELECT %s", x->mailbox);
}

/* 3 and 9. CREATE a mailbox named with a space, LIST sees it, SELECT it
 *    (EXISTS 0, RECENT 0, FLAGS), CLOSE and DELETE it, LIST no longer
 *    sees it. */
static void mailbox_lifecycle(struct ctx *x)
{
    STEP(log_in(x));
    STEP(make_mailbox(x));
    listen_for(x, "LIST", 0, "list");
    CHECK_DONE(RUN(x, "list", "LIST %s %s", "", "*"), "OK", "");
    CHECK_INT(listed(x, "list", x->mailbox), 1);
    note(x, "LIST", nth(x, "list", 0));

    const struct seen *sel = select_mailbox(x);
    note(x, "SELECT", sel);
    CHECK_DONE(sel, "OK", "[READ-WRITE]");
    CHECK_INT(count(x, "exists"), 1);
    CHECK_INT(nth(x, "exists", 0)->msgno, 0);
    CHECK_STR(nth(x, "exists", 0)->text, "");
    CHECK_INT(count(x, "recent"), 1);
    CHECK_INT(nth(x, "recent", 0)->msgno, 0);
    CHECK_INT(count(x, "flags"), 1);
    const struct seen *fl = nth(x, "flags", 0);
    note(x, "FLAGS", fl);
    CHECK_INT(fl->msgno, -1);
    CHECK(fl->text[0] == '(' && fl->text[fl->len - 1] == ')');
    CHECK(strstr(fl->text, "\\Seen") && strstr(fl->text, "\\Deleted"));
    /* The counts are answers to this SELECT: they precede its completion. */
    CHECK(position(x, nth(x, "exists", 0)) < position(x, sel));

    CHECK_DONE(RUN(x, "close", "CLOSE"), "OK", "");
    char name[sizeof x->mailbox];
    snprintf(name, sizeof name, "%s", x->mailbox);
    STEP(drop_mailbox(x));
    listen_for(x, "LIST", 0, "list-after");
    CHECK_DONE(RUN(x, "list-after-done", "LIST %s %s", "", "*"), "OK", "");
    CHECK(count(x, "list-after") >= 1); /* INBOX at least */
    CHECK_INT(listed(x, "list-after", name), 0);
    CHECK(finished_once(x));
}

static int has_capability(const struct seen *cap, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = cap->text; (p = strstr(p, name)) != NULL; p += n)
        if ((p == cap->text || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

/* The numbers the "exists" callback has seen, in order, as "0 1 2". */
static void exists_trail(const struct ctx *x, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < count(x, "exists") && n < outlen; i++)
        n += (size_t)snprintf(out + n, outlen - n, "%s%ld", i ? " " : "",
                              nth(x, "exists", i)->msgno);
}

/* What the client wrote, for scenarios that look at the wire. */
static void keep_written(struct imclient *c, void *rock, int direction, const char *data, size_t len)
{
    (void)c;
    if (direction == 'C')
        imc_buf_append(rock, data, len);
}

/* Nobody sets IMCLIENT_CONN_NONSYNCLITERAL: the list the server sends
 * (the LOGIN OK's code, or CAPABILITY) makes literals {n+}; LOGIN forgets
 * the list as it is sent; the application's cleared flag wins. */
static void learnt_literal_form(struct ctx *x)
{
    STEP(log_in(x));
    /* Both put the new list in LOGIN's OK (its [CAPABILITY] code). */
    CHECK_INT(imclient_hascapability(x->c, "LITERAL+"), 1);
    /* A bare CAPABILITY teaches the same list again. */
    CHECK_DONE(RUN(x, "cap-done", "CAPABILITY"), "OK", "");
    CHECK_INT(imclient_hascapability(x->c, "LITERAL+"), 1);
    CHECK_INT(imclient_hascapability(x->c, "imap4REV1"), 1);
    CHECK_INT(imclient_hascapability(x->c, "X-NO-SUCH-CAPABILITY"), 0);
    STEP(make_mailbox(x));

    struct imc_buf wire;
    imc_buf_init(&wire);
    imclient_settrace(x->c, keep_written, &wire);
    size_t len1, len2;
    /* Variants of their own: Cyrus's protocol log is searched for the
     * other scenarios' literal headers by size. */
    char *m1 = make_message(7, &len1), *m2 = make_message(8, &len2);
    CHECK_DONE(RUN(x, "append-learnt", "APPEND %s %s", x->mailbox, m1), "OK", "[APPENDUID ");
    char head[32];
    snprintf(head, sizeof head, "{%zu+}\r\n", len1);
    CHECK(strstr(imc_buf_cstr(&wire), head) != NULL);
    imc_buf_truncate(&wire, 0);
    imclient_clearflags(x->c, IMCLIENT_CONN_NONSYNCLITERAL);
    CHECK_DONE(RUN(x, "append-sync", "APPEND %s %s", x->mailbox, m2), "OK", "[APPENDUID ");
    snprintf(head, sizeof head, "{%zu}\r\n", len2);
    CHECK(strstr(imc_buf_cstr(&wire), head) != NULL);
    imclient_settrace(x->c, NULL, NULL);
    imc_buf_free(&wire);
    free(m1);
    free(m2);
    STEP(drop_mailbox(x));
}

/* 4. APPEND with a synchronizing literal, then with LITERAL+; the EXISTS
 *    callback sees the count rise to 1 and then 2. */
static void append_literals(struct ctx *x)
{
    STEP(log_in(x));
    listen_for(x, "CAPABILITY", CALLBACK_NOLITERAL, "capability");
    CHECK_DONE(RUN(x, "cap-done", "CAPABILITY"), "OK", "");
    CHECK_INT(count(x, "capability"), 1);
    CHECK(has_capability(nth(x, "capability", 0), "LITERAL+"));
    STEP(make_mailbox(x));
    CHECK_DONE(select_mailbox(x), "OK", "[READ-WRITE]");

    size_t len1, len2;
    char *m1 = make_message(1, &len1), *m2 = make_message(2, &len2);
    imclient_clearflags(x->c, IMCLIENT_CONN_NONSYNCLITERAL);
    const struct seen *a1 = RUN(x, "append-sync", "APPEND %s (\\Seen) %s", x->mailbox, m1);
    note(x, "APPEND {n}", a1);
    const struct seen *n1 = RUN(x, "noop1", "NOOP");
    imclient_setflags(x->c, IMCLIENT_CONN_NONSYNCLITERAL);
    const struct seen *a2 = RUN(x, "append-nonsync", "APPEND %s %s", x->mailbox, m2);
    note(x, "APPEND {n+}", a2);
    const struct seen *n2 = RUN(x, "noop2", "NOOP");
    imclient_clearflags(x->c, IMCLIENT_CONN_NONSYNCLITERAL);
    free(m1);
    free(m2);

    CHECK_DONE(a1, "OK", "[APPENDUID ");
    CHECK_DONE(n1, "OK", "");
    CHECK_DONE(a2, "OK", "[APPENDUID ");
    CHECK_DONE(n2, "OK", "");
    char trail[64];
    exists_trail(x, trail, sizeof trail);
    CHECK_STR(trail, "0 1 2");
    CHECK(position(x, nth(x, "exists", 1)) < position(x, n1));
    CHECK(position(x, nth(x, "exists", 2)) < position(x, n2));

    /* MULTIAPPEND: two synchronizing literals in one command, each sent
     * only after its own continuation request. */
    size_t len3, len4;
    char *m3 = make_message(3, &len3), *m4 = make_message(4, &len4);
    const struct seen *a3 = RUN(x, "multiappend", "APPEND %s %s %s", x->mailbox, m3, m4);
    note(x, "MULTIAPPEND", a3);
    free(m3);
    free(m4);
    CHECK_DONE(a3, "OK", "[APPENDUID ");
    CHECK_DONE(RUN(x, "noop3", "NOOP"), "OK", "");
    exists_trail(x, trail, sizeof trail);
    CHECK_STR(trail, "0 1 2 4");

    if (is_cyrus(x->srv)) {
        char sync[160], nonsync[160];
        snprintf(sync, sizeof sync, "APPEND \"%s\" (\\Seen) {%zu}\r\n", x->mailbox, len1);
        snprintf(nonsync, sizeof nonsync, "APPEND \"%s\" {%zu+}\r\n", x->mailbox, len2);
        char nonsync_as_sync[160], multi[200];
        snprintf(nonsync_as_sync, sizeof nonsync_as_sync, "{%zu}\r\n", len2);
        snprintf(multi, sizeof multi, "APPEND \"%s\" {%zu}\r\n", x->mailbox, len3);
        int s = cyrus_wire_count(x, sync);
        if (s < 0)
            fprintf(stderr, "  note: Cyrus protocol log unreadable, wire not checked\n");
        else {
            CHECK_INT(s, 1);
            CHECK_INT(cyrus_wire_count(x, nonsync), 1);
            CHECK_INT(cyrus_wire_count(x, nonsync_as_sync), 0);
            CHECK_INT(cyrus_wire_count(x, multi), 1);
            /* The second literal's header follows the first's bytes. */
            snprintf(multi, sizeof multi, "message 3-%s\r\n {%zu}\r\n", run_stamp(), len4);
            CHECK_INT(cyrus_wire_count(x, multi), 1);
        }
    }
    CHECK_DONE(RUN(x, "close", "CLOSE"), "OK", "");
    STEP(drop_mailbox(x));
    CHECK(finished_once(x));
}

/* 4. APPEND to a mailbox that does not exist, with a synchronizing
 *    literal: the server answers NO instead of "+", so the literal must
 *    never be written (its lines, "1 OK ..." among them, would otherwise be
 *    read as commands and answered under tags the library never used). */
static void append_refused_before_literal(struct ctx *x)
{
    STEP(log_in(x));
    char name[96];
    snprintf(name, sizeof name, "imc missing %ld-%ld", (long)getpid(), (long)time(NULL));
    size_t len;
    char *m = make_message(99, &len);
    char marker[80];
    snprintf(marker, sizeof marker, "<imc-99-%s@", run_stamp());
    imclient_clearflags(x->c, IMCLIENT_CONN_NONSYNCLITERAL);
    const struct seen *a = RUN(x, "append", "APPEND %s %s", name, m);
    note(x, "APPEND to a missing mailbox, {n}", a);
    const struct seen *n = RUN(x, "noop", "NOOP");
    imclient_setflags(x->c, IMCLIENT_CONN_NONSYNCLITERAL);
    /* With LITERAL+ the server has to read the bytes and then refuse. */
    const struct seen *b = RUN(x, "append+", "APPEND %s %s", name, m);
    note(x, "APPEND to a missing mailbox, {n+}", b);
    imclient_clearflags(x->c, IMCLIENT_CONN_NONSYNCLITERAL);
    const struct seen *n2 = RUN(x, "noop2", "NOOP");
    free(m);
    CHECK_DONE(a, "NO", "[TRYCREATE]");
    CHECK_DONE(n, "OK", "");
    CHECK_DONE(b, "NO", "[TRYCREATE]");
    CHECK_DONE(n2, "OK", "");
    CHECK(imclient_isopen(x->c));
    if (is_cyrus(x->srv)) {
        char sync[160];
        snprintf(sync, sizeof sync, "APPEND \"%s\" {%zu}\r\n", name, len);
        int s = cyrus_wire_has(x, sync);
        if (s < 0)
            fprintf(stderr, "  note: Cyrus protocol log unreadable, wire not checked\n");
        else {
            CHECK_INT(s, 1);
            /* Sent once, with the {n+} APPEND; the {n} one never went. */
            CHECK_INT(cyrus_wire_count(x, marker), 1);
        }
    }
    CHECK(finished_once(x));
}

/* The literal of a FETCH reply `(ITEM {n}\r\n<n bytes>)` must be want. */
static int fetched_literal_is(const struct seen *f, const char *item, const char *want,
                              size_t wantlen)
{
    char head[64];
    int hl = snprintf(head, sizeof head, "(%s {%zu}\r\n", item, wantlen);
    if (f->len != (size_t)hl + wantlen + 1 || memcmp(f->text, head, (size_t)hl) != 0 ||
        f->text[f->len - 1] != ')') {
        fprintf(stderr, "  FETCH text: %zu bytes, starts \"%.40s\"\n", f->len, f->text);
        return 0;
    }
    if (memcmp(f->text + hl, want, wantlen) != 0) {
        for (size_t i = 0; i < wantlen; i++)
            if (f->text[hl + i] != want[i]) {
                fprintf(stderr, "  literal differs at byte %zu\n", i);
                break;
            }
        return 0;
    }
    return 1;
}

static int has_token(const char *text, const char *token)
{
    const char *p = strstr(text, token);
    size_t n = strlen(token);
    return p && (p[n] == ' ' || p[n] == ')');
}

/* 5. The literal of FETCH BODY.PEEK[] equals the appended bytes, through
 *    synchronizing and non-synchronizing APPEND alike; RFC822.SIZE agrees;
 *    FETCH 1:* gives one callback per message, numbered; a NOLITERAL
 *    callback gets the first line only, and the stream stays in step. */
static void fetch_exact_bytes(struct ctx *x)
{
    STEP(log_in(x));
    STEP(make_mailbox(x));
    size_t len1, len2;
    char *m1 = make_message(11, &len1), *m2 = make_message(12, &len2);
    const char *m3 = "Subject: small\r\n\r\nthird\r\n";
    const struct seen *a1 = RUN(x, "append1", "APPEND %s (\\Seen) %s", x->mailbox, m1);
    imclient_setflags(x->c, IMCLIENT_CONN_NONSYNCLITERAL);
    const struct seen *a2 = RUN(x, "append2", "APPEND %s (\\Flagged) %s", x->mailbox, m2);
    /* Short, but its CRLFs still make it a literal: here a {n+} one. */
    const struct seen *a3 = RUN(x, "append3", "APPEND %s %s", x->mailbox, m3);
    imclient_clearflags(x->c, IMCLIENT_CONN_NONSYNCLITERAL);
    if (!a1 || !a2 || !a3 || strcmp(a1->keyword, "OK") || strcmp(a2->keyword, "OK") ||
        strcmp(a3->keyword, "OK")) {
        free(m1);
        free(m2);
        CHECK(!"an APPEND failed");
    }

    listen_for(x, "FETCH", CALLBACK_NUMBERED, "fetch");
    const struct seen *sel = select_mailbox(x);
    const struct seen *f1d = RUN(x, "fetch1", "FETCH 1 BODY.PEEK[]");
    const struct seen *f1 = last(x, "fetch");
    int body1 = f1 && fetched_literal_is(f1, "BODY[]", m1, len1);
    long f1msg = f1 ? f1->msgno : 0;
    int nf1 = count(x, "fetch");
    const struct seen *f2d = RUN(x, "fetch2", "FETCH 2 BODY.PEEK[]");
    const struct seen *f2 = last(x, "fetch");
    int body2 = f2 && fetched_literal_is(f2, "BODY[]", m2, len2);
    long f2msg = f2 ? f2->msgno : 0;
    /* Both literals in one response stream, one callback each. */
    listen_for(x, "FETCH", CALLBACK_NUMBERED, "fetch-both");
    const struct seen *fbd = RUN(x, "fetch-both-done", "FETCH 1:2 BODY.PEEK[]");
    int nboth = count(x, "fetch-both");
    int both = nboth == 2 && nth(x, "fetch-both", 0)->msgno == 1 &&
               nth(x, "fetch-both", 1)->msgno == 2 &&
               fetched_literal_is(nth(x, "fetch-both", 0), "BODY[]", m1, len1) &&
               fetched_literal_is(nth(x, "fetch-both", 1), "BODY[]", m2, len2);
    listen_for(x, "FETCH", CALLBACK_NUMBERED, "fetch");
    free(m1);
    free(m2);

    CHECK_DONE(sel, "OK", "[READ-WRITE]");
    CHECK_INT(count(x, "exists"), 1);
    CHECK_INT(nth(x, "exists", 0)->msgno, 3);
    CHECK_DONE(f1d, "OK", "");
    note(x, "FETCH BODY.PEEK[] done", f1d);
    CHECK_INT(nf1, 1);
    CHECK_INT(f1msg, 1);
    CHECK(body1);
    CHECK_DONE(f2d, "OK", "");
    CHECK_INT(count(x, "fetch"), 2);
    CHECK_INT(f2msg, 2);
    CHECK(body2);
    CHECK_DONE(fbd, "OK", "");
    CHECK_INT(nboth, 2);
    CHECK(both);

    CHECK_DONE(RUN(x, "size", "FETCH 1 RFC822.SIZE"), "OK", "");
    CHECK_INT(count(x, "fetch"), 3);
    char want[64];
    snprintf(want, sizeof want, "(RFC822.SIZE %zu)", len1);
    CHECK_STR(last(x, "fetch")->text, want);
    CHECK_INT(last(x, "fetch")->msgno, 1);

    CHECK_DONE(RUN(x, "all", "FETCH 1:* (FLAGS UID)"), "OK", "");
    CHECK_INT(count(x, "fetch"), 6);
    for (int i = 0; i < 3; i++) {
        const struct seen *f = nth(x, "fetch", 3 + i);
        note(x, "FETCH (FLAGS UID)", f);
        CHECK_INT(f->msgno, i + 1);
        char uid[16];
        snprintf(uid, sizeof uid, "UID %d", i + 1);
        CHECK(has_token(f->text, uid));
        CHECK_INT(strstr(f->text, "\\Seen") != NULL, i == 0);
        CHECK_INT(strstr(f->text, "\\Flagged") != NULL, i == 1);
    }

    /* NOLITERAL: the line up to the literal's header, nothing after; the
     * skipped literal (whose lines look like completions) must not be
     * read as replies. */
    listen_for(x, "FETCH", CALLBACK_NUMBERED | CALLBACK_NOLITERAL, "fetch-line");
    CHECK_DONE(RUN(x, "fetch-noliteral", "FETCH 3 BODY.PEEK[]"), "OK", "");
    CHECK_INT(count(x, "fetch-line"), 1);
    snprintf(want, sizeof want, "(BODY[] {%zu}", strlen(m3));
    CHECK_STR(nth(x, "fetch-line", 0)->text, want);
    CHECK_INT(nth(x, "fetch-line", 0)->msgno, 3);
    CHECK_DONE(RUN(x, "noop", "NOOP"), "OK", "");
    CHECK_DONE(RUN(x, "close", "CLOSE"), "OK", "");
    STEP(drop_mailbox(x));
    CHECK(finished_once(x));
}

/* Streaming: a message four times larger than max_reply arrives through
 * imclient_addliteralcallback() in pieces, byte-exact and in order, while
 * the FETCH callback gets the reply with the literal's header only. */
struct assembled {
    char *buf;
    size_t len, cap;
    unsigned long long size;
    int pieces, misordered;
};

static void collect_piece(struct imclient *c, void *rock, const struct imclient_literal *p)
{
    (void)c;
    struct assembled *a = rock;
    if (p->offset != a->len || p->msgno != 1)
        a->misordered = 1;
    if (a->len + p->len > a->cap) {
        a->cap = (a->len + p->len) * 2;
        a->buf = realloc(a->buf, a->cap);
        if (!a->buf)
            abort();
    }
    memcpy(a->buf + a->len, p->data, p->len);
    a->len += p->len;
    a->size = p->size;
    a->pieces++;
}

static void fetch_streamed(struct ctx *x)
{
    STEP(log_in(x));
    STEP(make_mailbox(x));
    size_t part;
    char *m = make_message(13, &part);
    size_t len = part * 5;
    char *big = malloc(len + 1);
    if (!big)
        abort();
    for (int i = 0; i < 5; i++)
        memcpy(big + part * (size_t)i, m, part);
    big[len] = '\0'; /* %s takes a C string */
    free(m);
    imclient_setflags(x->c, IMCLIENT_CONN_NONSYNCLITERAL);
    const struct seen *ap = RUN(x, "append", "APPEND %s %s", x->mailbox, big);
    imclient_clearflags(x->c, IMCLIENT_CONN_NONSYNCLITERAL);
    int appended = ap && strcmp(ap->keyword, "OK") == 0;

    const struct seen *sel = select_mailbox(x);
    struct imclient_limits lim = { 0, 0, 64 * 1024, 0, 0 };
    imclient_setlimits(x->c, &lim);
    struct assembled a = { 0 };
    listen_for(x, "FETCH", CALLBACK_NUMBERED, "fetch");
    imclient_addliteralcallback(x->c, "FETCH", CALLBACK_NUMBERED, collect_piece, &a);
    const struct seen *fd = RUN(x, "fetch-done", "FETCH 1 BODY.PEEK[]");
    imclient_addliteralcallback(x->c, "FETCH", CALLBACK_NUMBERED, NULL, NULL);
    int same = a.len == len && a.buf && memcmp(a.buf, big, len) == 0;
    free(a.buf);
    free(big);

    CHECK(appended);
    CHECK_DONE(sel, "OK", "[READ-WRITE]");
    CHECK_DONE(fd, "OK", "");
    CHECK(len > 4 * lim.max_reply);
    CHECK_INT(a.size, len);
    CHECK(same);
    CHECK(!a.misordered);
    CHECK(a.pieces > 1);
    CHECK_INT(count(x, "fetch"), 1);
    char want[64];
    snprintf(want, sizeof want, "(BODY[] {%zu}\r\n)", len);
    CHECK_STR(last(x, "fetch")->text, want);
    CHECK_DONE(RUN(x, "close", "CLOSE"), "OK", "");
    STEP(drop_mailbox(x));
    CHECK(finished_once(x));
}

/* 6. 200 NOOPs written back to back before any reply is read: each
 *    completes OK exactly once, in the order of their tags. */
static void pipelined_noops(struct ctx *x)
{
    STEP(log_in(x));
    for (int i = 0; i < NOOP_BURST; i++)
        imclient_send(x->c, record, tap(x, "noop", i, 1), "NOOP");
    CHECK_INT(wait_count(x, "noop", NOOP_BURST), NOOP_BURST);
    for (int i = 0; i < NOOP_BURST; i++) {
        const struct seen *s = nth(x, "noop", i);
        if (s->id != i || strcmp(s->keyword, "OK") != 0)
            fprintf(stderr, "  completion %d: NOOP #%d %s \"%s\"\n", i, s->id, s->keyword,
                    s->text);
        CHECK_INT(s->id, i);
        CHECK_STR(s->keyword, "OK");
    }
    note(x, "NOOP (pipelined)", nth(x, "noop", 0));
    CHECK_DONE(RUN(x, "after", "NOOP"), "OK", "");
    CHECK(finished_once(x));
}

/* 7. An atom holding CRLF and a second command is refused before it is
 *    written; the connection goes on as if it had not been tried. */
static void refused_locally(struct ctx *x)
{
    STEP(log_in(x));
    struct tap *t = tap(x, "injected", 0, 1);
    imclient_send(x->c, record, t, "SELECT %a", "INBOX\r\n2 DELETE x");
    /* Refused inside imclient_send, with nothing queued for the server. */
    CHECK_INT(t->calls, 1);
    const struct seen *d = nth(x, "injected", 0);
    CHECK_STR(d->keyword, "BAD");
    CHECK(starts(d->text, "[CLIENTBUG]"));
    CHECK(imclient_error(x->c)[0] != '\0');
    int fd, wantwrite = -1;
    imclient_getselectinfo(x->c, &fd, &wantwrite);
    CHECK_INT(wantwrite, 0);
    /* Had "2 DELETE x" gone out, its reply would carry a tag the library
     * never used and the connection would fail here. */
    CHECK_DONE(RUN(x, "noop", "NOOP"), "OK", "");
    /* For contrast, a command the server refuses. */
    const struct seen *bad = RUN(x, "unknown", "XYZZY");
    note(x, "XYZZY", bad);
    CHECK_DONE(bad, "BAD", "");
    listen_for(x, "EXISTS", CALLBACK_NUMBERED, "exists");
    CHECK_DONE(RUN(x, "select", "SELECT %a", "INBOX"), "OK", "[READ-WRITE]");
    CHECK_INT(count(x, "exists"), 1);
    CHECK(imclient_isopen(x->c));
    CHECK(finished_once(x));
}

/* 8. LOGOUT: BYE to its callback, then LOGOUT's OK, then the end of the
 *    connection; afterwards every command gets EOF at once. */
static void logout(struct ctx *x)
{
    STEP(log_in(x));
    listen_for(x, "BYE", 0, "bye");
    const struct seen *d = RUN(x, "logout", "LOGOUT");
    note(x, "LOGOUT", d);
    CHECK_DONE(d, "OK", "");
    CHECK_INT(count(x, "bye"), 1);
    note(x, "BYE", nth(x, "bye", 0));
    CHECK(position(x, nth(x, "bye", 0)) < position(x, d));
    CHECK_INT(run_to_end(x), -1);
    CHECK(!imclient_isopen(x->c));
    CHECK_INT(imclient_processoneevent_timeout(x->c, 0), -1);
    struct tap *t = tap(x, "late", 0, 1);
    imclient_send(x->c, record, t, "NOOP");
    CHECK_INT(t->calls, 1);
    CHECK_STR(nth(x, "late", 0)->keyword, "EOF");
    CHECK_STR(nth(x, "late", 0)->text, "");
    CHECK_INT(imclient_processoneevent_timeout(x->c, 0), -1);
    CHECK(finished_once(x));
}

/* 8. A command behind LOGOUT when the server hangs up: it completes
 *    exactly once (EOF, or OK if the server answered it first), and
 *    neither more events nor imclient_close() complete it again. */
static void logout_with_pending(struct ctx *x)
{
    STEP(log_in(x));
    struct tap *out = tap(x, "logout", 0, 1), *noop = tap(x, "noop", 0, 1);
    imclient_send(x->c, record, out, "LOGOUT");
    imclient_send(x->c, record, noop, "NOOP");
    CHECK_INT(run_to_end(x), -1);
    CHECK_INT(out->calls, 1);
    CHECK_INT(noop->calls, 1);
    const struct seen *o = nth(x, "logout", 0), *n = nth(x, "noop", 0);
    CHECK(o && n);
    CHECK_STR(o->keyword, "OK");
    note(x, "NOOP behind LOGOUT", n);
    CHECK(strcmp(n->keyword, "EOF") == 0 || strcmp(n->keyword, "OK") == 0);
    CHECK(position(x, o) < position(x, n));
    CHECK_INT(imclient_processoneevent_timeout(x->c, 0), -1);
    imclient_close(x->c);
    x->c = NULL;
    CHECK(finished_once(x));
}

/* 8. imclient_close() with a command in flight completes it with EOF,
 *    once. */
static void close_with_pending(struct ctx *x)
{
    STEP(log_in(x));
    struct tap *t = tap(x, "noop", 0, 1);
    imclient_send(x->c, record, t, "NOOP");
    imclient_close(x->c);
    x->c = NULL;
    CHECK_INT(t->calls, 1);
    CHECK_STR(nth(x, "noop", 0)->keyword, "EOF");
    CHECK(finished_once(x));
}

/* ---- one test per scenario and server -------------------------------- */

static void run(struct server *srv, void (*scenario)(struct ctx *))
{
    struct ctx *x = calloc(1, sizeof *x);
    if (!x)
        abort();
    x->srv = srv;
    scenario(x);
    if (x->c)
        imclient_close(x->c);
    if (x->mailbox[0])
        remove_leftover(srv, x->mailbox);
    free_log(x);
    free(x);
}

#define SCENARIOS(X)                                                           \
    X(greeting_capability)                                                     \
    X(login_no_then_ok)                                                        \
    X(mailbox_lifecycle)                                                       \
    X(append_literals)                                                         \
    X(learnt_literal_form)                                                     \
    X(append_refused_before_literal)                                           \
    X(fetch_exact_bytes)                                                       \
    X(fetch_streamed)                                                          \
    X(pipelined_noops)                                                         \
    X(refused_locally)                                                         \
    X(logout)                                                                  \
    X(logout_with_pending)                                                     \
    X(close_with_pending)

#define PER_SERVER(sc)                                                         \
    static void dovecot_##sc(void) { run(&servers[0], sc); }                   \
    static void cyrus_##sc(void) { run(&servers[1], sc); }
SCENARIOS(PER_SERVER)

#define ENTRY(sc) { { "dovecot_" #sc, dovecot_##sc }, { "cyrus_" #sc, cyrus_##sc } },
static const struct check_test all_tests[][2] = { SCENARIOS(ENTRY) };

int main(int argc, char **argv)
{
    size_t nsc = sizeof all_tests / sizeof all_tests[0];
    struct check_test chosen[2 * sizeof all_tests / sizeof all_tests[0]];
    size_t n = 0;
    for (int s = 0; s < 2; s++) {
        load_server(&servers[s]);
        if (!servers[s].present)
            continue;
        for (size_t i = 0; i < nsc; i++)
            chosen[n++] = all_tests[i][s];
    }
    if (n == 0)
        return realenv_none(argv[0]);
    return check_main(argc, argv, chosen, n);
}
