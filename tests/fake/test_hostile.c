/*
 * Hostile and broken servers against the public API (broken replies,
 * resource exhaustion, bad greetings and tags, what reaches the server):
 * what the application sees through imclient(3) when a scripted server
 * misbehaves.  Every failure must close the connection with a readable
 * reason, give each pending command EOF exactly once, make later events
 * return -1 and later sends complete with EOF at once; everything a
 * server may legally (or harmlessly) send arrives byte for byte and leaves
 * the connection usable.  Memory bounds are read from the session inside
 * the connection.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "check.h"
#include "cyrus/imclient.h"
#include "fakeserver.h"
#include "replylog.h"
#include "imclient_internal.h"
#include "util/buf.h"

/* ---- the connection and the server ------------------------------------- */

static struct imclient *connect_to(struct fakeserver *fs, int listen)
{
    struct imclient *c = NULL;
    if (listen)
        return open_logged("127.0.0.1", fake_port(fs));
    if (imclient_connect(&c, "127.0.0.1", fake_port(fs)) != 0)
        return NULL;
    return c;
}

static void run_until_closed(struct imclient *c)
{
    for (int i = 0; i < 100000; i++)
        if (imclient_processoneevent_timeout(c, 5000) < 0)
            break;
}

/* Join the server thread; its own verdict is ignored where it may have
 * been cut short by the client hanging up (its writes then fail). */
static void server_join(struct fakeserver *fs)
{
    char err[600];
    fake_wait(fs, err, sizeof err);
}

#define SERVER_OK(fs) CHECK_SERVER(fake_wait, fs)

/* Close, and the script must have run to its end. */
#define CLOSE_AND_FINISH(c, fs) \
    do {                        \
        imclient_close(c);      \
        SERVER_OK(fs);          \
        fake_free(fs);          \
    } while (0)

/* The state every failure must leave: closed, the reason as given, no more
 * events, and a new command answered with EOF on the spot. */
#define CHECK_CLOSED(c, reason)                                              \
    do {                                                                     \
        CHECK(!imclient_isopen(c));                                          \
        CHECK_STR(imclient_error(c), (reason));                              \
        CHECK_INT(imclient_processoneevent_timeout((c), 10), -1);            \
        int before_ = finished_count();                                      \
        imclient_send((c), finished, "late", "NOOP");                        \
        CHECK_INT(finished_count(), before_ + 1);                            \
        CHECK(log_ends_with("late|EOF|-1|\n"));                              \
        int fd_ = 0, ww_ = 1;                                                \
        imclient_getselectinfo((c), &fd_, &ww_);                             \
        CHECK_INT(fd_, -1);                                                  \
        CHECK_INT(ww_, 0);                                                   \
    } while (0)

static struct fake_step step_send(const char *p, size_t n, int slow)
{
    struct fake_step st = { slow ? FAKE_SEND_SLOW : FAKE_SEND, p, n, 0 };
    return st;
}

/* ---- greetings and tags ------------------------------------------------ */

/* Greetings that are not IMAP: closed with a reason before anything of
 * theirs reaches a callback; the command the application already sent gets
 * EOF once. */
static void bad_greetings(void)
{
    static const char *const greet[] = {
        "1Gdo00V4 wFaIW2WP\r\n",
        "Ac3cXIo1 rJzgnVlo\r\n* OK DHYw9lXw\r\n",
        "XYZ OK 6Iy0xHRr\r\n",
        "HTTP/1.0 200 OK\r\n\r\n",
        "\r\n* OK hi\r\n",
        "+OK POP3 ready\r\n",
    };
    static const char *const why[] = {
        "protocol error: unknown tag: \"1Gdo00V4 wFaIW2WP\"",
        "protocol error: unknown tag: \"Ac3cXIo1 rJzgnVlo\"",
        "protocol error: unknown tag: \"XYZ OK 6Iy0xHRr\"",
        "protocol error: unknown tag: \"HTTP/1.0 200 OK\"",
        "protocol error: unknown tag: \"\"",
        "protocol error: malformed continuation request: \"+OK POP3 ready\"",
    };
    for (size_t i = 0; i < sizeof greet / sizeof greet[0]; i++) {
        for (int slow = 0; slow < 2; slow++) {
            reset();
            struct fake_step steps[] = {
                F_EXPECT("1 NOOP\r\n"),
                step_send(greet[i], strlen(greet[i]), slow),
                F_DRAIN(),
            };
            struct fakeserver *fs = fake_start(steps, 3);
            struct imclient *c = connect_to(fs, 1);
            CHECK(c != NULL);
            imclient_send(c, finished, "a", "NOOP");
            run_until_closed(c);
            CHECK_STR(log_text(), "a|EOF|-1|\n");
            CHECK_CLOSED(c, why[i]);
            imclient_close(c);
            CHECK_INT(finished_count(), 2);
            server_join(fs);
            fake_free(fs);
        }
    }
}

/* "* BYE" as greeting, then the close: the BYE is delivered, the command
 * gets EOF, and the reason is the close. */
static void bye_greeting(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_EXPECT("1 NOOP\r\n"),
        F_SEND("* BYE X0n0fCj9\r\n"),
        F_CLOSE()));
    struct imclient *c = connect_to(fs, 1);
    CHECK(c != NULL);
    imclient_send(c, finished, "a", "NOOP");
    run_until_closed(c);
    CHECK_STR(log_text(), "u|BYE|-1|X0n0fCj9\na|EOF|-1|\n");
    CHECK_CLOSED(c, "connection closed by 127.0.0.1");
    CLOSE_AND_FINISH(c, fs);
}

/* A tagged OK before the client wrote anything, with nothing pending. */
static void early_tagged_ok(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n1 OK begin TLS now\r\n"),
        F_DRAIN()));
    struct imclient *c = connect_to(fs, 1);
    CHECK(c != NULL);
    run_until_closed(c);
    CHECK_STR(log_text(), "u|OK|-1|hi\n");
    CHECK_CLOSED(c, "protocol error: reply for tag 1, which is not in flight");
    imclient_close(c);
    SERVER_OK(fs);
    size_t n;
    fake_received(fs, &n);
    CHECK_INT(n, 0);
    fake_free(fs);
}

/* An early tagged OK with a command queued behind a literal that waits
 * for "+": its tag is not in flight, and neither its bytes nor the
 * literal ever go out. */
static void tagged_ok_for_unsent_command(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 LOGIN alice {6}\r\n"),
        F_SEND("2 OK Authenticated\r\n"),
        F_DRAIN()));
    struct imclient *c = connect_to(fs, 1);
    CHECK(c != NULL);
    imclient_send(c, finished, "login", "LOGIN alice %s", "se\"cr\n");
    imclient_send(c, finished, "select", "SELECT INBOX");
    run_until_closed(c);
    CHECK_STR(log_text(), "u|OK|-1|hi\nlogin|EOF|-1|\nselect|EOF|-1|\n");
    CHECK_CLOSED(c, "protocol error: reply for tag 2, which is not in flight");
    imclient_close(c);
    SERVER_OK(fs);
    size_t n;
    const char *wire = fake_received(fs, &n);
    CHECK_BYTES(wire, n, "1 LOGIN alice {6}\r\n");
    fake_free(fs);
}

/* BAD to the command, then completions for tags never issued. */
static void pipelined_completions(void)
{
    for (int slow = 0; slow < 2; slow++) {
        reset();
        static const char reply[] =
            "1 BAD currently unavailable\r\n2 OK Authenticated\r\n3 OK Accepted\r\n";
        struct fake_step steps[] = {
            F_SEND("* OK hi\r\n"),
            F_EXPECT("1 STARTTLS\r\n"),
            step_send(reply, sizeof reply - 1, slow),
            F_DRAIN(),
        };
        struct fakeserver *fs = fake_start(steps, 4);
        struct imclient *c = connect_to(fs, 1);
        CHECK(c != NULL);
        imclient_send(c, finished, "tls", "STARTTLS");
        run_until_closed(c);
        CHECK_STR(log_text(), "u|OK|-1|hi\ntls|BAD|-1|currently unavailable\n");
        CHECK_CLOSED(c, "protocol error: reply for tag 2, which is not in flight");
        imclient_close(c);
        server_join(fs);
        size_t n;
        const char *wire = fake_received(fs, &n);
        CHECK_BYTES(wire, n, "1 STARTTLS\r\n");
        fake_free(fs);
    }
}

/* ---- framing violations ------------------------------------------------- */

struct violation {
    const char *name;
    const char *bytes;
    size_t len;
    struct imclient_limits limits;
    const char *log; /* the callbacks after the greeting's */
    const char *error;
};

static char long_line[300], big_reply[400];

static void violation_case(const struct violation *v, int slow)
{
    reset();
    struct fake_step steps[] = {
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 NOOP\r\n2 FETCH 1 BODY[]\r\n"),
        step_send(v->bytes, v->len, slow),
        F_DRAIN(),
    };
    struct fakeserver *fs = fake_start(steps, 4);
    struct imclient *c = connect_to(fs, 1);
    CHECK(c != NULL);
    imclient_setlimits(c, &v->limits);
    imclient_send(c, finished, "a", "NOOP");
    imclient_send(c, finished, "b", "FETCH 1 %a", "BODY[]");
    run_until_closed(c);
    char want[400];
    snprintf(want, sizeof want, "u|OK|-1|hi\n%s", v->log);
    CHECK_STR(log_text(), want);
    int completions = finished_count();
    CHECK_CLOSED(c, v->error);
    /* Nothing of the bad reply is kept. */
    CHECK_INT(c->session.reply.cap, 0);
    imclient_close(c);
    /* Each command completed once (a and b), plus "late". */
    CHECK_INT(completions, 2);
    CHECK_INT(finished_count(), 3);
    server_join(fs);
    size_t n;
    const char *wire = fake_received(fs, &n);
    CHECK_BYTES(wire, n, "1 NOOP\r\n2 FETCH 1 BODY[]\r\n");
    fake_free(fs);
}

#define V(s) (s), sizeof(s) - 1
#define EOFS "a|EOF|-1|\nb|EOF|-1|\n"

static void framing_violations(void)
{
    memcpy(long_line, "* OK ", 5);
    memset(long_line + 5, 'x', 200);
    memcpy(long_line + 205, "\r\n1 OK\r\n", 8);
    memcpy(big_reply, "* 1 FETCH (BODY[] {200}\r\n", 25);
    memset(big_reply + 25, 'y', 200);
    memcpy(big_reply + 225, ")\r\n2 OK\r\n", 9);
    const struct violation cases[] = {
        { "literal over the default limit", V("* 1 FETCH (BODY[] {99999999999}\r\n1 OK\r\n"),
          { 0, 0, 0, 0, 0 }, EOFS,
          "protocol error: literal larger than the limit of 67108864 bytes" },
        { "literal over a set limit", V("* 1 FETCH (BODY[] {1001}\r\n"), { 0, 1000, 0, 0, 0 }, EOFS,
          "protocol error: literal larger than the limit of 1000 bytes" },
        { "literal over 64 bits", V("* 1 FETCH (BODY[] {18446744073709551616}\r\n)\r\n1 OK\r\n"),
          { 0, 0, 0, 0, 0 }, EOFS, "protocol error: literal larger than the limit of 67108864 bytes" },
        { "literal of 2^32-1", V("* STATUS {4294967295}\r\nINBOX (MESSAGES 1)\r\n"),
          { 0, 0, 0, 0, 0 }, EOFS, "protocol error: literal larger than the limit of 67108864 bytes" },
        { "line too long", long_line, 213, { 100, 0, 0, 0, 0 }, EOFS,
          "protocol error: line longer than the limit" },
        { "reply too large", big_reply, 234, { 0, 0, 100, 0, 0 }, EOFS,
          "reply larger than the limit of 100 bytes" },
        { "unparsable head", V("* 1 EXISTS\r\n)(*&^ OK\r\n1 OK\r\n"), { 0, 0, 0, 0, 0 },
          "u|EXISTS|1|\n" EOFS, "protocol error: unknown tag: \")(*&^ OK\"" },
        { "tagged PREAUTH", V("1 PREAUTH hi\r\n"), { 0, 0, 0, 0, 0 }, EOFS,
          "protocol error: tagged response is not OK, NO or BAD: \"1 PREAUTH hi\"" },
        { "tagged XYZ", V("1 OK\r\n2 XYZ\r\n"), { 0, 0, 0, 0, 0 }, "a|OK|-1|\nb|EOF|-1|\n",
          "protocol error: tagged response is not OK, NO or BAD: \"2 XYZ\"" },
        { "tag not in flight", V("3 OK\r\n"), { 0, 0, 0, 0, 0 }, EOFS,
          "protocol error: reply for tag 3, which is not in flight" },
        { "message number overflow", V("* 99999999999999999999 EXISTS\r\n"), { 0, 0, 0, 0, 0 }, EOFS,
          "protocol error: message number out of range: \"* 99999999999999999999 EXISTS\"" },
        { "malformed continuation", V("+OK\r\n"), { 0, 0, 0, 0, 0 }, EOFS,
          "protocol error: malformed continuation request: \"+OK\"" },
        { "untagged without keyword", V("* 12\r\n"), { 0, 0, 0, 0, 0 }, EOFS,
          "protocol error: malformed untagged response: \"* 12\"" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int slow = 0; slow < 2; slow++) {
            violation_case(&cases[i], slow);
            if (check_failed_now) {
                fprintf(stderr, "  case: %s (%s)\n", cases[i].name, slow ? "slow" : "fast");
                return;
            }
        }
    }
}

/* ---- the end of the stream ---------------------------------------------- */

/* "* BYE" and a close with commands pending: each gets EOF exactly once. */
static void bye_then_close_with_pending(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 NOOP\r\n2 SELECT INBOX\r\n3 IDLE\r\n"),
        F_SEND("1 OK\r\n* BYE going away\r\n"),
        F_CLOSE()));
    struct imclient *c = connect_to(fs, 1);
    CHECK(c != NULL);
    imclient_send(c, finished, "a", "NOOP");
    imclient_send(c, finished, "b", "SELECT INBOX");
    imclient_send(c, finished, "c", "IDLE");
    run_until_closed(c);
    CHECK_STR(log_text(), "u|OK|-1|hi\na|OK|-1|\nu|BYE|-1|going away\nb|EOF|-1|\nc|EOF|-1|\n");
    CHECK_CLOSED(c, "connection closed by 127.0.0.1");
    imclient_close(c);
    CHECK_INT(finished_count(), 4);
    SERVER_OK(fs);
    fake_free(fs);
}

/* The server hangs up inside a literal, a line, or between CR and LF:
 * nothing partial is delivered. */
static void close_mid_reply(void)
{
    static const char *const tails[] = {
        "* 1 FETCH (BODY[] {100}\r\nabc",
        "* 1 FETCH (BODY[] {3}\r\nabc",
        "* 1 FETCH (BODY[] {3}\r\nabc)",
        "* OK partial",
        "1 OK\r",
        "1 OK [BADCHARSET ({2}\r\nx",
        "+ go",
    };
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        for (int slow = 0; slow < 2; slow++) {
            reset();
            struct fake_step steps[] = {
                F_SEND("* OK hi\r\n"),
                F_EXPECT("1 FETCH 1 BODY[]\r\n"),
                step_send(tails[i], strlen(tails[i]), slow),
                F_CLOSE(),
            };
            struct fakeserver *fs = fake_start(steps, 4);
            struct imclient *c = connect_to(fs, 1);
            CHECK(c != NULL);
            imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED, record, "f", NULL);
            imclient_send(c, finished, "a", "FETCH 1 %a", "BODY[]");
            run_until_closed(c);
            CHECK_STR(log_text(), "u|OK|-1|hi\na|EOF|-1|\n");
            CHECK_CLOSED(c, "connection closed by 127.0.0.1");
            CLOSE_AND_FINISH(c, fs);
        }
    }
}

/* ---- things a server may send that must arrive exactly ------------------- */

static const char odd_but_framed[] =
    "* OK [CAPABILITY IMAP4rev1] hi\r\n"
    "* OK a\r\r\n"
    "* OK bare\n"
    "* OK nul\0inside\r\n"
    "+\r\n"
    "+ idling\r\n"
    "* 1 FETCH (BODY[] {0}\r\n)\r\n"
    "* 2 FETCH (BODY[] {7}\r\na\0\r\n\0\r\n FLAGS (\\Seen))\r\n"
    "* 3 FETCH (BODY[] {12}\r\n* BYE fake\r\n)\r\n"
    "* LIST () \"/\" \"\xff\xfe\"\r\n"
    "* OK [ALERT] \xc0\xaf\r\n"
    "* LIST () \"/\" \"../../.ssh\"\r\n"
    "* 1 FETCH (RFC822.SIZE 99999999999999999999)\r\n"
    "* VANISHED 1:4294967295\r\n"
    "* STATUS \"RUU\" ()\r\n"
    "* ID ({4}\r\nab\r\n)\r\n"
    "* 4294967295 EXISTS\r\n"
    "* 0 EXPUNGE\r\n"
    "* CAPABILITY\r\n"
    "1 NO\r\n";

static const char odd_but_framed_log[] =
    "u|OK|-1|[CAPABILITY IMAP4rev1] hi\n"
    "u|OK|-1|a\\r\n"
    "u|OK|-1|bare\n"
    "u|OK|-1|nul\\0inside\n"
    "u|FETCH|1|(BODY[] {0}\\r\\n)\n"
    "u|FETCH|2|(BODY[] {7}\\r\\na\\0\\r\\n\\0\\r\\n FLAGS (\\Seen))\n"
    "u|FETCH|3|(BODY[] {12}\\r\\n* BYE fake\\r\\n)\n"
    "u|LIST|-1|() \"/\" \"\\xff\\xfe\"\n"
    "u|OK|-1|[ALERT] \\xc0\\xaf\n"
    "u|LIST|-1|() \"/\" \"../../.ssh\"\n"
    "u|FETCH|1|(RFC822.SIZE 99999999999999999999)\n"
    "u|VANISHED|-1|1:4294967295\n"
    "u|STATUS|-1|\"RUU\" ()\n"
    "u|ID|-1|({4}\\r\\nab\\r\\n)\n"
    "u|EXISTS|4294967295|\n"
    "u|EXPUNGE|0|\n"
    "u|CAPABILITY|-1|\n"
    "a|NO|-1|\n"
    "b|OK|-1|\n";

static void odd_replies_arrive_exactly(void)
{
    for (int slow = 0; slow < 2; slow++) {
        reset();
        struct fake_step steps[] = {
            F_EXPECT("1 NOOP\r\n"),
            step_send(odd_but_framed, sizeof odd_but_framed - 1, slow),
            F_EXPECT("2 NOOP\r\n"),
            F_SEND("2 OK\r\n"),
            F_DRAIN(),
        };
        struct fakeserver *fs = fake_start(steps, 5);
        struct imclient *c = connect_to(fs, 1);
        CHECK(c != NULL);
        imclient_send(c, finished, "a", "NOOP");
        run_until(c, 1);
        imclient_send(c, finished, "b", "NOOP");
        run_until(c, 2);
        size_t loglen;
        const char *logged = log_bytes(&loglen);
        CHECK_MEM(logged, loglen, odd_but_framed_log, sizeof odd_but_framed_log - 1);
        CHECK(imclient_isopen(c));
        CHECK_STR(imclient_error(c), "");
        CLOSE_AND_FINISH(c, fs);
    }
}

/* ---- resource exhaustion ----------------------------------------------- */

/* A line that never ends, 1 MiB of it in 64 KiB writes against a 4 KiB
 * limit: the client stops at the limit, holding about that much. */
static void endless_line(void)
{
    static char chunk[65536];
    memset(chunk, 'A', sizeof chunk);
    reset();
    struct fake_step steps[20];
    size_t n = 0;
    steps[n++] = (struct fake_step)F_SEND("* OK hi\r\n");
    steps[n++] = (struct fake_step)F_EXPECT("1 NOOP\r\n");
    steps[n++] = (struct fake_step)F_SEND("* OK ");
    for (int i = 0; i < 16; i++)
        steps[n++] = (struct fake_step)F_SEND_BUF(chunk, sizeof chunk);
    steps[n++] = (struct fake_step)F_DRAIN();
    struct fakeserver *fs = fake_start(steps, n);
    struct imclient *c = connect_to(fs, 1);
    CHECK(c != NULL);
    struct imclient_limits l = { 4096, 0, 0, 0, 0 };
    imclient_setlimits(c, &l);
    imclient_send(c, finished, "a", "NOOP");
    run_until_closed(c);
    CHECK_STR(log_text(), "u|OK|-1|hi\na|EOF|-1|\n");
    CHECK(c->session.framer.partial.cap <= 16384);
    CHECK_CLOSED(c, "protocol error: line longer than the limit");
    imclient_close(c);
    server_join(fs);
    fake_free(fs);
}

/* A million "* 1 EXISTS" with a command pending and no callback: not
 * stored at all, and the command completes afterwards.  With a callback,
 * each one arrives. */
static int exists_calls;
static void count_exists(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)rock;
    if (r->msgno == 1 && r->textlen == 0)
        exists_calls++;
}

static void untagged_flood(void)
{
    enum { N = 1000000 };
    const char line[] = "* 1 EXISTS\r\n";
    size_t ll = sizeof line - 1;
    char *flood = malloc(N * ll);
    for (size_t i = 0; i < N; i++)
        memcpy(flood + i * ll, line, ll);
    for (int listen = 0; listen < 2; listen++) {
        reset();
        exists_calls = 0;
        struct fakeserver *fs = fake_start(FAKE(
            F_SEND("* OK hi\r\n"),
            F_EXPECT("1 NOOP\r\n"),
            F_SEND_BUF(flood, N * ll),
            F_SEND("1 OK flood over\r\n"),
            F_DRAIN()));
        struct imclient *c = connect_to(fs, 0);
        CHECK(c != NULL);
        if (listen)
            imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, count_exists, NULL, NULL);
        imclient_send(c, finished, "a", "NOOP");
        /* The largest reply buffer seen while only the flood had come (the
         * tagged reply, once it is there, is held like any reply). */
        size_t most = 0;
        for (int i = 0; i < 1000000 && finished_count() < 1; i++) {
            if (imclient_processoneevent_timeout(c, 5000) < 0)
                break;
            if (finished_count() == 0 && c->session.reply.cap > most)
                most = c->session.reply.cap;
        }
        CHECK_STR(log_text(), "a|OK|-1|flood over\n");
        CHECK_INT(exists_calls, listen ? N : 0);
        CHECK(most <= (listen ? 256u : 0u));
        CHECK(c->session.framer.partial.cap <= 256);
        CHECK(imclient_isopen(c));
        CLOSE_AND_FINISH(c, fs);
    }
    free(flood);
}

/* A server that floods untagged replies and never completes the
 * command is never silent, so only the command deadline can end it: the
 * pending command gets EOF once and the reason names it. */
static void flood_meets_command_deadline(void)
{
    reset();
    enum { CHUNKS = 40, LINES = 2000 };
    const char line[] = "* 1 EXISTS\r\n";
    size_t ll = sizeof line - 1;
    char *chunk = malloc(LINES * ll);
    for (size_t i = 0; i < LINES; i++)
        memcpy(chunk + i * ll, line, ll);
    struct fake_step steps[3 + 2 * CHUNKS];
    size_t n = 0;
    steps[n++] = (struct fake_step)F_SEND("* OK hi\r\n");
    steps[n++] = (struct fake_step)F_EXPECT("1 NOOP\r\n");
    for (int k = 0; k < CHUNKS; k++) {
        steps[n++] = (struct fake_step)F_SEND_BUF(chunk, LINES * ll);
        steps[n++] = (struct fake_step)F_SLEEP(25);
    }
    steps[n++] = (struct fake_step)F_DRAIN();
    struct fakeserver *fs = fake_start(steps, n);
    struct imclient *c = connect_to(fs, 0);
    CHECK(c != NULL);
    /* Silence never lasts 25 ms here, so the 200 ms silence limit cannot
     * fire; the 300 ms command deadline must. */
    struct imclient_limits l = { 0, 0, 0, 200, 300 };
    imclient_setlimits(c, &l);
    imclient_send(c, finished, "a", "NOOP");
    run_until_closed(c);
    CHECK_STR(log_text(), "a|EOF|-1|\n");
    CHECK_CLOSED(c, "timed out: command 1 got no reply from 127.0.0.1 in 300 ms");
    imclient_close(c);
    server_join(fs);
    fake_free(fs);
    free(chunk);
}

/* 100 000 one-byte literals in one reply, and a 1 MiB literal in
 * small writes: both arrive whole and exact, and the connection goes on. */
static struct imc_buf expect_text;
static int text_ok, text_calls;
static void check_text(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)rock;
    text_calls++;
    text_ok = r->textlen == expect_text.len &&
              memcmp(r->text, expect_text.data, r->textlen) == 0 && r->text[r->textlen] == 0;
}

static void many_literals_and_a_big_one(void)
{
    static struct imc_buf many, big;
    imc_buf_free(&many);
    imc_buf_free(&big);
    imc_buf_free(&expect_text);
    imc_buf_appendstr(&expect_text, "(");
    for (int i = 0; i < 100000; i++) {
        char part[40];
        snprintf(part, sizeof part, "%sBODY[%d] {1}\r\n%c", i ? " " : "", i, 'a' + i % 26);
        imc_buf_appendstr(&expect_text, part);
    }
    imc_buf_appendstr(&expect_text, ")");
    imc_buf_appendstr(&many, "* 1 FETCH ");
    imc_buf_append(&many, expect_text.data, expect_text.len);
    imc_buf_appendstr(&many, "\r\n1 OK\r\n");

    reset();
    text_calls = text_ok = 0;
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 FETCH 1 BODY[]\r\n"),
        F_SEND_BUF(many.data, many.len),
        F_EXPECT("2 NOOP\r\n"),
        F_SEND("2 OK\r\n"),
        F_DRAIN()));
    struct imclient *c = connect_to(fs, 1);
    CHECK(c != NULL);
    imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED, check_text, NULL, NULL);
    imclient_send(c, finished, "a", "FETCH 1 %a", "BODY[]");
    run_until(c, 1);
    imclient_send(c, finished, "b", "NOOP");
    run_until(c, 2);
    CHECK_INT(text_calls, 1);
    CHECK(text_ok);
    CHECK_STR(log_text(), "u|OK|-1|hi\na|OK|-1|\nb|OK|-1|\n");
    CLOSE_AND_FINISH(c, fs);

    /* 1 MiB in 256 writes of 4 KiB with pauses between some of them. */
    imc_buf_free(&expect_text);
    imc_buf_appendstr(&expect_text, "(BODY[] {1048576}\r\n");
    for (size_t i = 0; i < 1048576; i++)
        imc_buf_appendc(&expect_text, (char)(i * 7 % 251));
    imc_buf_appendstr(&expect_text, ")");
    imc_buf_appendstr(&big, "* 1 FETCH ");
    imc_buf_append(&big, expect_text.data, expect_text.len);
    imc_buf_appendstr(&big, "\r\n1 OK\r\n");
    struct fake_step steps[600];
    size_t n = 0;
    steps[n++] = (struct fake_step)F_SEND("* OK hi\r\n");
    steps[n++] = (struct fake_step)F_EXPECT("1 FETCH 1 BODY[]\r\n");
    for (size_t off = 0; off < big.len; off += 4096) {
        steps[n++] = (struct fake_step)F_SEND_BUF(big.data + off,
                                                  big.len - off < 4096 ? big.len - off : 4096);
        if (off % (64 * 4096) == 0)
            steps[n++] = (struct fake_step)F_SLEEP(5);
    }
    steps[n++] = (struct fake_step)F_DRAIN();
    reset();
    text_calls = text_ok = 0;
    fs = fake_start(steps, n);
    c = connect_to(fs, 1);
    CHECK(c != NULL);
    imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED, check_text, NULL, NULL);
    imclient_send(c, finished, "a", "FETCH 1 %a", "BODY[]");
    run_until(c, 1);
    CHECK_INT(text_calls, 1);
    CHECK(text_ok);
    CHECK_STR(log_text(), "u|OK|-1|hi\na|OK|-1|\n");
    /* The megabyte is not kept once delivered (the small tagged reply
     * after it is). */
    CHECK(c->session.reply.cap <= 256);
    CLOSE_AND_FINISH(c, fs);
    imc_buf_free(&many);
    imc_buf_free(&big);
    imc_buf_free(&expect_text);
}

/* A million '(' is one line of text for the library: delivered under
 * the default line limit, refused under a smaller one. */
static void deep_nesting(void)
{
    enum { N = 1000000 };
    static struct imc_buf in;
    imc_buf_free(&in);
    imc_buf_free(&expect_text);
    imc_buf_appendstr(&expect_text, "(BODYSTRUCTURE ");
    for (int i = 0; i < N; i++)
        imc_buf_appendc(&expect_text, '(');
    imc_buf_appendstr(&in, "* 1 FETCH ");
    imc_buf_append(&in, expect_text.data, expect_text.len);
    imc_buf_appendstr(&in, "\r\n1 OK\r\n");
    for (int small = 0; small < 2; small++) {
        reset();
        text_calls = text_ok = 0;
        struct fakeserver *fs = fake_start(FAKE(
            F_SEND("* OK hi\r\n"),
            F_EXPECT("1 FETCH 1 BODYSTRUCTURE\r\n"),
            F_SEND_BUF(in.data, in.len),
            F_DRAIN()));
        struct imclient *c = connect_to(fs, 1);
        CHECK(c != NULL);
        if (small) {
            struct imclient_limits l = { 65536, 0, 0, 0, 0 };
            imclient_setlimits(c, &l);
        }
        imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED, check_text, NULL, NULL);
        imclient_send(c, finished, "a", "FETCH 1 BODYSTRUCTURE");
        if (small) {
            run_until_closed(c);
            CHECK_INT(text_calls, 0);
            CHECK_STR(log_text(), "u|OK|-1|hi\na|EOF|-1|\n");
            CHECK_CLOSED(c, "protocol error: line longer than the limit");
        } else {
            run_until(c, 1);
            CHECK_INT(text_calls, 1);
            CHECK(text_ok);
            CHECK_STR(log_text(), "u|OK|-1|hi\na|OK|-1|\n");
        }
        imclient_close(c);
        server_join(fs);
        fake_free(fs);
    }
    imc_buf_free(&in);
    imc_buf_free(&expect_text);
}

/* ---- slow and silent servers ---------------------------------------------- */

/* A server that accepts and never greets: the wait for the greeting is
 * bounded by the same limit as a command's, so even a caller with nothing
 * pending is not left waiting for ever. */
static void silent_server(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(F_DRAIN()));
    struct imclient *c = connect_to(fs, 1);
    CHECK(c != NULL);
    struct imclient_limits l = { 0, 0, 0, 200, 0 };
    imclient_setlimits(c, &l);
    int zeros = 0, r = 0;
    for (int i = 0; i < 100 && (r = imclient_processoneevent_timeout(c, 50)) == 0; i++)
        zeros++;
    CHECK_INT(r, -1);
    CHECK(zeros >= 2);
    CHECK_CLOSED(c, "timed out: no reply from 127.0.0.1 in 200 ms");
    CLOSE_AND_FINISH(c, fs);
}

/* Greeted, then silent: with nothing pending, bounded waits return 0 and
 * the connection stays; commands then time out, each with EOF once. */
static void greeted_then_silent(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_DRAIN()));
    struct imclient *c = connect_to(fs, 1);
    CHECK(c != NULL);
    struct imclient_limits l = { 0, 0, 0, 200, 0 };
    imclient_setlimits(c, &l);
    for (int i = 0; i < 100 && strstr(log_text(), "hi") == NULL; i++)
        CHECK(imclient_processoneevent_timeout(c, 50) >= 0);
    for (int i = 0; i < 6; i++)
        CHECK_INT(imclient_processoneevent_timeout(c, 50), 0);
    CHECK(imclient_isopen(c));
    imclient_send(c, finished, "a", "NOOP");
    imclient_send(c, finished, "b", "NOOP");
    run_until_closed(c);
    CHECK_STR(log_text(), "u|OK|-1|hi\na|EOF|-1|\nb|EOF|-1|\n");
    CHECK_CLOSED(c, "timed out: no reply from 127.0.0.1 in 200 ms");
    CLOSE_AND_FINISH(c, fs);
}

/* One byte every 200 ms while the limit on silence is 100 ms: the command
 * times out at the first gap.  The reply is never finished, so the outcome
 * does not depend on scheduling. */
static void trickling_server(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 NOOP\r\n"),
        F_SEND("1"), F_SLEEP(200), F_SEND(" "), F_SLEEP(200), F_SEND("O"),
        F_SLEEP(200), F_SEND("K"), F_SLEEP(200), F_SEND("\r"), F_SLEEP(200),
        F_DRAIN()));
    struct imclient *c = connect_to(fs, 1);
    CHECK(c != NULL);
    struct imclient_limits l = { 0, 0, 0, 100, 0 };
    imclient_setlimits(c, &l);
    imclient_send(c, finished, "a", "NOOP");
    run_until_closed(c);
    CHECK_STR(log_text(), "u|OK|-1|hi\na|EOF|-1|\n");
    CHECK_CLOSED(c, "timed out: no reply from 127.0.0.1 in 100 ms");
    imclient_close(c);
    server_join(fs);
    fake_free(fs);
}

/* The limit is on silence, not on a slow reply: bytes every 50 ms with a
 * 2 s limit complete normally. */
static void slow_but_alive_server(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 NOOP\r\n"),
        F_SEND("1"), F_SLEEP(50), F_SEND(" "), F_SLEEP(50), F_SEND("O"),
        F_SLEEP(50), F_SEND("K"), F_SLEEP(50), F_SEND("\r"), F_SLEEP(50),
        F_SEND("\n"),
        F_DRAIN()));
    struct imclient *c = connect_to(fs, 1);
    CHECK(c != NULL);
    struct imclient_limits l = { 0, 0, 0, 2000, 0 };
    imclient_setlimits(c, &l);
    imclient_send(c, finished, "a", "NOOP");
    run_until(c, 1);
    CHECK_STR(log_text(), "u|OK|-1|hi\na|OK|-1|\n");
    CHECK(imclient_isopen(c));
    CLOSE_AND_FINISH(c, fs);
}

/* ---- callbacks and a dying connection ------------------------------------- */

/* A callback whose imclient_send() finds the socket dead: the connection
 * fails inside the callback, which must still be able to read its reply;
 * the new command and the pending one get EOF once each. */
static char seen_after_send[128];
static void send_on_dead_socket(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)rock;
    int fd = -1, ww = 0;
    imclient_getselectinfo(c, &fd, &ww);
    shutdown(fd, SHUT_WR);
    imclient_send(c, finished, "fromcb", "NOOP");
    snprintf(seen_after_send, sizeof seen_after_send, "%s|%ld|%.*s", r->keyword, r->msgno,
             (int)r->textlen, r->text);
}

static void failure_inside_callback(void)
{
    reset();
    seen_after_send[0] = '\0';
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 FETCH 1 BODY[]\r\n"),
        F_SEND("* 1 FETCH (BODY[] {11}\r\nhello world)\r\n* 2 EXISTS\r\n1 OK\r\n"),
        F_DRAIN()));
    struct imclient *c = connect_to(fs, 1);
    CHECK(c != NULL);
    imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED, send_on_dead_socket, NULL, NULL);
    imclient_send(c, finished, "a", "FETCH 1 %a", "BODY[]");
    run_until_closed(c);
    CHECK_STR(seen_after_send, "FETCH|1|(BODY[] {11}\r\nhello world)");
    CHECK_STR(log_text(), "u|OK|-1|hi\na|EOF|-1|\nfromcb|EOF|-1|\n");
    CHECK(strncmp(imclient_error(c), "writing to 127.0.0.1: ", 22) == 0);
    CHECK_INT(finished_count(), 2);
    imclient_close(c);
    CHECK_INT(finished_count(), 2);
    server_join(fs);
    fake_free(fs);
}

/* A callback that tries to run the event loop itself is refused (-1) at
 * once: a nested read would overwrite the input the outer feed is still
 * walking.  Nothing is lost and the outer reply stays intact. */
static int nested_depth;
static char outer_after[128];
static void nest_on_first(struct imclient *c, void *rock, struct imclient_reply *r)
{
    record(c, rock, r);
    if (r->msgno == 1 && nested_depth == 0) {
        nested_depth++;
        int nested = imclient_processoneevent_timeout(c, 500);
        nested_depth--;
        snprintf(outer_after, sizeof outer_after, "%d|%s|%ld|%.*s", nested, r->keyword,
                 r->msgno, (int)r->textlen, r->text);
    }
}

static void reentrant_event_loop_from_callback(void)
{
    reset();
    outer_after[0] = '\0';
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 NOOP\r\n"),
        F_SEND("* 1 EXISTS\r\n* 2 EXISTS\r\n"),
        F_SLEEP(100),
        F_SEND("* 3 RECENT\r\n1 OK\r\n"),
        F_DRAIN()));
    struct imclient *c = connect_to(fs, 0);
    CHECK(c != NULL);
    imclient_addcallback(c, "", 0, nest_on_first, "u", NULL);
    imclient_send(c, finished, "a", "NOOP");
    run_until(c, 1);
    CHECK_STR(imclient_error(c), "");
    CHECK_STR(outer_after, "-1|EXISTS|1|");
    CHECK(strstr(log_text(), "u|EXISTS|2|\n") != NULL);
    CHECK(strstr(log_text(), "u|RECENT|3|\n") != NULL);
    CHECK(log_ends_with("a|OK|-1|\n"));
    imclient_close(c);
    server_join(fs);
    fake_free(fs);
}

/* ---- what reaches the server ---------------------------------------------- */

static void outgoing_injection(void)
{
    reset();
    static char long_arg[1500], long_tail[1502];
    memset(long_arg, 'L', sizeof long_arg - 1);
    long_arg[10] = ' ';
    memcpy(long_tail, long_arg, sizeof long_arg - 1);
    memcpy(long_tail + sizeof long_arg - 1, "\r\n", 2);
    struct fake_step tail = { FAKE_EXPECT, long_tail, sizeof long_tail - 1, 0 };
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        /* %a refusals never reach the wire; their tags are spent. */
        F_EXPECT("4 SELECT {17}\r\n"),
        F_SEND("4 NO not with a literal\r\n"),
        F_EXPECT("5 SELECT {17+}\r\nINBOX\r\n2 DELETE x\r\n"),
        F_SEND("5 NO [NONEXISTENT] no such mailbox\r\n"),
        F_EXPECT("6 X \"a\\\"b\" \"c\\\\d\" {3}\r\n"),
        F_SEND("+ go\r\n"),
        F_EXPECT("e\rf {2}\r\n"),
        F_SEND("+ go\r\n"),
        F_EXPECT("\xc3\xa9 {1499}\r\n"),
        F_SEND("+ go\r\n"),
        tail,
        F_SEND("6 OK\r\n"),
        F_DRAIN()));
    struct imclient *c = connect_to(fs, 1);
    CHECK(c != NULL);
    imclient_send(c, finished, "r1", "SELECT %a", "INBOX\r\n2 DELETE x");
    imclient_send(c, finished, "r2", "SELECT %a", "INBOX\n");
    imclient_send(c, finished, "r3", "SELECT %a", "\xc3\xa9");
    CHECK_INT(finished_count(), 3);
    CHECK(strstr(imclient_error(c), "not an atom") != NULL);
    CHECK(imclient_isopen(c));
    imclient_send(c, finished, "sync", "SELECT %s", "INBOX\r\n2 DELETE x");
    run_until(c, 4);
    imclient_setflags(c, IMCLIENT_CONN_NONSYNCLITERAL);
    imclient_send(c, finished, "nonsync", "SELECT %s", "INBOX\r\n2 DELETE x");
    run_until(c, 5);
    imclient_clearflags(c, IMCLIENT_CONN_NONSYNCLITERAL);
    imclient_send(c, finished, "mixed", "X %s %s %s %s %s", "a\"b", "c\\d", "e\rf", "\xc3\xa9",
                  long_arg);
    run_until(c, 6);
    imclient_close(c);
    SERVER_OK(fs);
    size_t n;
    const char *wire = fake_received(fs, &n);
    /* The whole wire: the injected "2 DELETE x" only ever inside a literal. */
    struct imc_buf want;
    imc_buf_init(&want);
    imc_buf_appendstr(&want, "4 SELECT {17}\r\n5 SELECT {17+}\r\nINBOX\r\n2 DELETE x\r\n"
                             "6 X \"a\\\"b\" \"c\\\\d\" {3}\r\ne\rf {2}\r\n\xc3\xa9 {1499}\r\n");
    imc_buf_append(&want, long_arg, sizeof long_arg - 1);
    imc_buf_appendstr(&want, "\r\n");
    CHECK_MEM(wire, n, want.data, want.len);
    imc_buf_free(&want);
    CHECK(strstr(log_text(), "sync|NO|-1|not with a literal\n") != NULL);
    CHECK(strstr(log_text(), "nonsync|NO|-1|[NONEXISTENT] no such mailbox\n") != NULL);
    CHECK(strstr(log_text(), "mixed|OK|-1|\n") != NULL);
    fake_free(fs);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(bad_greetings),
        TEST(bye_greeting),
        TEST(early_tagged_ok),
        TEST(tagged_ok_for_unsent_command),
        TEST(pipelined_completions),
        TEST(framing_violations),
        TEST(bye_then_close_with_pending),
        TEST(close_mid_reply),
        TEST(odd_replies_arrive_exactly),
        TEST(endless_line),
        TEST(untagged_flood),
        TEST(flood_meets_command_deadline),
        TEST(many_literals_and_a_big_one),
        TEST(deep_nesting),
        TEST(silent_server),
        TEST(greeted_then_silent),
        TEST(trickling_server),
        TEST(slow_but_alive_server),
        TEST(failure_inside_callback),
        TEST(outgoing_injection),
        TEST(reentrant_event_loop_from_callback),
    };

    log_escape_text(1);
    int r = check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
    reset();
    return r;
}
