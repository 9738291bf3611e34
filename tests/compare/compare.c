/*
 * One client program, compiled twice: against our libcyrus (default) and
 * against Debian's Cyrus 3.6.1 libcyrus.so.0 (-DUSE_CYRUS).  Both export the
 * same imclient_* names, so they cannot share a process.
 *
 * Usage: compare SCENARIO HOST PORT
 * It plays one scenario's client side against tests/compare/driver.py and
 * prints, one line each, what it did ("> ...") and every callback that
 * fired.  Only the page's API is used (plus one clearly marked ours-only
 * scenario), so differences come from the libraries, not from the harness.
 * Output is unbuffered: when the Cyrus side hangs and `timeout` kills it,
 * everything up to the hang has already been printed.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef USE_CYRUS
/* Cyrus 3.x ships no header for these; its signatures, declared here. */
struct imclient;
struct imclient_reply {
    char *keyword;
    long msgno;
    char *text;
};
typedef void imclient_proc_t(struct imclient *, void *, struct imclient_reply *);
#define CALLBACK_NUMBERED 1
#define CALLBACK_NOLITERAL 2
int imclient_connect(struct imclient **, const char *host, const char *port,
                     void *sasl_callbacks);
void imclient_close(struct imclient *);
void imclient_addcallback(struct imclient *, ...);
void imclient_send(struct imclient *, imclient_proc_t *, void *, const char *, ...);
void imclient_processoneevent(struct imclient *);
void imclient_setflags(struct imclient *, int);
#define IMCLIENT_CONN_NONSYNCLITERAL 1
#define CONNECT(c, h, p) imclient_connect((c), (h), (p), NULL)
#define LIBNAME "cyrus"
static size_t text_len(const struct imclient_reply *r)
{
    return r->text ? strlen(r->text) : 0;
}
#else
#include <cyrus/imclient.h>
#define CONNECT(c, h, p) imclient_connect((c), (h), (p))
#define LIBNAME "ours"
static size_t text_len(const struct imclient_reply *r)
{
    return r->textlen;
}
#endif

/* Cyrus calls the program's fatal(); ours lets the program replace its own. */
void fatal(const char *msg, int code);
void fatal(const char *msg, int code)
{
    printf("FATAL(%d) %s\n", code, msg);
    exit(code ? code : 1);
}

static int sent, finished;

static void show(const char *s, size_t len)
{
    size_t shown = len > 90 ? 60 : len;
    putchar('"');
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\r')
            fputs("\\r", stdout);
        else if (ch == '\n')
            fputs("\\n", stdout);
        else if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < ' ' || ch >= 0x7f)
            printf("\\x%02x", ch);
        else
            putchar(ch);
    }
    putchar('"');
    if (shown < len)
        printf("...(%zu bytes)", len);
}

static void print_reply(const char *what, void *rock, struct imclient_reply *r)
{
    printf("%s %s: %s %ld ", what, (const char *)rock, r->keyword ? r->keyword : "(null)",
           r->msgno);
    size_t len = text_len(r);
    if (r->text)
        show(r->text, len);
    else
        fputs("(null)", stdout);
    /* Ours can say how long text really is; a NUL inside shows up here. */
    if (r->text && len != strlen(r->text))
        printf(" [strlen %zu, textlen %zu]", strlen(r->text), len);
    putchar('\n');
}

static void on_untagged(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    print_reply("cb", rock, r);
}

static void on_finish(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    print_reply("fin", rock, r);
    finished++;
}

#define SEND(c, name, ...)                                   \
    do {                                                     \
        printf("> send %s\n", (name));                       \
        sent++;                                              \
        imclient_send((c), on_finish, (void *)(name), __VA_ARGS__); \
    } while (0)

/* Run events until every command sent has finished (bounded). */
static void run(struct imclient *c)
{
    int events = 0;
    while (finished < sent && events < 200) {
        imclient_processoneevent(c);
        events++;
    }
    if (finished < sent)
        printf("! gave up after %d events, %d of %d finished\n", events, finished, sent);
}

static void defaults(struct imclient *c)
{
    imclient_addcallback(c, "", 0, on_untagged, (void *)"u", "", CALLBACK_NUMBERED,
                         on_untagged, (void *)"u#", (char *)NULL);
}

static void logout_and_close(struct imclient *c)
{
    SEND(c, "LOGOUT", "LOGOUT");
    run(c);
    printf("> close\n");
    imclient_close(c);
}

/* Each scenario gets a fresh connection with the two default entries
 * installed; the driver plays the matching server script. */

static void s01_capability(struct imclient *c)
{
    imclient_addcallback(c, "CAPABILITY", 0, on_untagged, (void *)"cap", (char *)NULL);
    SEND(c, "CAPABILITY", "CAPABILITY");
    run(c);
}

static void s_exists(struct imclient *c)
{
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, on_untagged, (void *)"exists",
                         (char *)NULL);
    SEND(c, "NOOP", "NOOP");
    run(c);
}

static void s05_literal(struct imclient *c)
{
    SEND(c, "APPEND", "APPEND INBOX %s", "line1\r\nline2\r\n");
    run(c);
}

static void s06_idle(struct imclient *c)
{
    imclient_addcallback(c, "+", 0, on_untagged, (void *)"plus", (char *)NULL);
    SEND(c, "IDLE", "IDLE");
    run(c);
}

static void s07_fetch(struct imclient *c)
{
    imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED, on_untagged, (void *)"fetch",
                         (char *)NULL);
    SEND(c, "FETCH", "FETCH 1 BODY[]");
    run(c);
}

static void s08_noliteral(struct imclient *c)
{
    imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED | CALLBACK_NOLITERAL, on_untagged,
                         (void *)"fetchNL", "EXPUNGE", CALLBACK_NUMBERED, on_untagged,
                         (void *)"expunge", (char *)NULL);
    SEND(c, "FETCH", "FETCH 1 BODY[]");
    run(c);
}

static void s09_atom(struct imclient *c)
{
    SEND(c, "SELECT", "SELECT %a", "INBOX\r\n2 DELETE x");
    run(c);
}

static void s10_strings(struct imclient *c)
{
    static char big[1031];
    memset(big, 'x', sizeof big - 1);
    SEND(c, "quote", "X1 %s", "a\"b");
    SEND(c, "backslash", "X2 %s", "a\\b");
    SEND(c, "8bit", "X3 %s", "caf\xc3\xa9");
    SEND(c, "1030x", "X4 %s", big);
    SEND(c, "empty", "X5 %s", "");
    SEND(c, "space", "X6 %s", "a b");
    SEND(c, "NIL", "X7 %s", "NIL");
    run(c);
}

static void s11_literal_no(struct imclient *c)
{
    SEND(c, "APPEND", "APPEND INBOX %s", "hello\r\n");
    SEND(c, "NOOP", "NOOP");
    run(c);
}

static void s12_eof(struct imclient *c)
{
    SEND(c, "A", "NOOP");
    SEND(c, "B", "NOOP");
    SEND(c, "C", "NOOP");
    run(c);
    /* A command after EOF: does it finish, and how? */
    SEND(c, "after-EOF", "NOOP");
    run(c);
    printf("> close\n");
    imclient_close(c);
}

static void s16_silent(struct imclient *c)
{
    printf("> processoneevent (nothing pending, server silent)\n");
    imclient_processoneevent(c);
    printf("< processoneevent returned\n");
}

static void s16_silent_pending(struct imclient *c)
{
    SEND(c, "NOOP", "NOOP");
    run(c);
}

static void s17_two_literals(struct imclient *c)
{
    SEND(c, "X", "X %s %s", "a\r\n", "b\r\n");
    run(c);
}

static void s22_no_between(struct imclient *c)
{
    SEND(c, "X", "X %s %s", "a\r\n", "b\r\n");
    SEND(c, "NOOP", "NOOP");
    run(c);
}

static void s18_literal_plus(struct imclient *c)
{
    imclient_setflags(c, IMCLIENT_CONN_NONSYNCLITERAL);
    SEND(c, "X", "X %s %s", "a\r\n", "b\r\n");
    run(c);
}

/* The page: "proc may be a null pointer, in which case no function is
 * invoked". */
static void s19_null_proc(struct imclient *c)
{
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, (imclient_proc_t *)NULL,
                         (void *)NULL, (char *)NULL);
    SEND(c, "NOOP", "NOOP");
    run(c);
}

static void s20_close_pending(struct imclient *c)
{
    SEND(c, "NOOP", "NOOP");
    printf("> close (NOOP still pending)\n");
    imclient_close(c);
}

static void s21_formats(struct imclient *c)
{
    static char *list[] = { "a", "b c", "", "d\"e", NULL };
    SEND(c, "X", "X %d %u %v %% 100%%", -5, 4294967295u, list);
    run(c);
}

#ifndef USE_CYRUS
/* Ours only: the same silent server, with the timeout extension set. */
static void s16_timeout_ext(struct imclient *c)
{
    struct imclient_limits l = { 0, 0, 0, 1000, 0 };
    imclient_setlimits(c, &l);
    SEND(c, "NOOP", "NOOP");
    run(c);
    printf("imclient_error: %s\n", imclient_error(c));
}
#endif

struct scenario {
    const char *name;
    void (*play)(struct imclient *);
    int closes; /* the scenario closes the connection itself */
};

static const struct scenario scenarios[] = {
    { "01-capability", s01_capability, 0 },
    { "02-bare-lf", s_exists, 0 },
    { "03-lowercase", s_exists, 0 },
    { "04-tagged-status", s_exists, 0 },
    { "05-plus-nospace", s05_literal, 0 },
    { "05b-plus-text-nospace", s05_literal, 0 },
    { "06-unsolicited-plus", s06_idle, 0 },
    { "07-literal-nul", s07_fetch, 0 },
    { "08-noliteral", s08_noliteral, 0 },
    { "09-atom-crlf", s09_atom, 0 },
    { "10-astrings", s10_strings, 0 },
    { "11-literal-then-no", s11_literal_no, 0 },
    { "12-eof-pending", s12_eof, 1 },
    { "13-literal-99999999999", s_exists, 0 },
    { "13b-literal-4294967296", s_exists, 0 },
    { "14-tag-not-in-flight", s_exists, 0 },
    { "14b-tag-wraps-2^64+1", s_exists, 0 },
    { "16-silent-idle", s16_silent, 0 },
    { "16b-silent-pending", s16_silent_pending, 0 },
#ifndef USE_CYRUS
    { "16c-silent-timeout-ext", s16_timeout_ext, 0 },
#endif
    { "17-two-literals", s17_two_literals, 0 },
    { "18-literal-plus", s18_literal_plus, 0 },
    { "19-null-proc", s19_null_proc, 0 },
    { "20-close-pending", s20_close_pending, 1 },
    { "21-formats", s21_formats, 0 },
    { "22-no-between-literals", s22_no_between, 0 },
};

/* 15: connect failures; no server involved. */
static int connect_only(const char *name)
{
    struct imclient *c = NULL;
    int r = -99;
    if (strcmp(name, "15-unknown-service") == 0)
        r = CONNECT(&c, "127.0.0.1", "no-such-service-xyz");
    else if (strcmp(name, "15b-unknown-host") == 0)
        r = CONNECT(&c, "no-such-host.invalid", "143");
    else
        return 0;
    printf("connect=%d\n", r);
    if (r == 0 && c)
        imclient_close(c);
    return 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
            printf("%s\n", scenarios[i].name);
        return 0;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: %s SCENARIO HOST PORT | list\n", argv[0]);
        return 2;
    }
    if (connect_only(argv[1]))
        return 0;
    const struct scenario *sc = NULL;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(scenarios[i].name, argv[1]) == 0)
            sc = &scenarios[i];
    if (!sc) {
        printf("n/a for %s\n", LIBNAME);
        return 0;
    }
    struct imclient *c = NULL;
    int r = CONNECT(&c, argv[2], argv[3]);
    printf("connect=%d\n", r);
    if (r != 0)
        return 0;
    defaults(c);
    sc->play(c);
    if (!sc->closes)
        logout_and_close(c);
    printf("end\n");
    return 0;
}
