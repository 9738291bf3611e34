/*
 * imclient_starttls() and imclient_begintls() against tlsfake, a scripted
 * server that switches to TLS at a step.  The hostile cases come first
 * (STARTTLS refused, ignored or answered wrongly; bytes injected around the
 * OK; untagged data before TLS), then certificates refused and accepted,
 * and the TLS session itself: exact bytes both ways, a large response, a
 * stalled handshake.
 *
 * A failure must leave the connection closed with a readable reason, and
 * the server must have received nothing after STARTTLS in the clear.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cyrus/imclient.h"
#include "imclient_internal.h"
#include "replylog.h"
#include "tlsfake.h"
#include "util/buf.h"

static char certdir[64];

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

/* ---- the server and the connection ------------------------------------- */

static struct tlsfake *serve(const char *cert, const struct tlsfake_step *steps, size_t n)
{
    struct tlsfake_config cfg = { path(cert), path("leaf.key"), NULL, 0 };
    return tlsfake_start(&cfg, steps, n);
}

static struct imclient *open_conn(struct tlsfake *fs, const char *host)
{
    return open_logged(host, tlsfake_port(fs));
}

static int starttls(struct imclient *c)
{
    return imclient_starttls(c, NULL, NULL, (char *)path("ca.pem"), NULL);
}

static void set_timeout(struct imclient *c, int ms)
{
    struct imclient_limits l = { 0, 0, 0, ms, 0 };
    imclient_setlimits(c, &l);
}

#define SERVER_OK(fs) CHECK_SERVER(tlsfake_wait, fs)

/* Close, and the script must have run to its end. */
#define CLOSE_AND_FINISH(c, fs) \
    do {                        \
        imclient_close(c);      \
        SERVER_OK(fs);          \
        tlsfake_free(fs);       \
    } while (0)

/* Everything the client sent, and where in it the handshake began. */
#define CHECK_SERVER_SAW(fs, wire, tls_offset)               \
    do {                                                     \
        size_t len_;                                         \
        const char *got_ = tlsfake_received(fs, &len_);      \
        CHECK_BYTES(got_, len_, wire);                       \
        CHECK_INT(tlsfake_tls_offset(fs), tls_offset);       \
    } while (0)

#define CHECK_PREFIX(got, prefix)                                            \
    do {                                                                     \
        const char *g_ = (got), *p_ = (prefix);                              \
        if (strncmp(g_, p_, strlen(p_)) != 0) {                              \
            check_fail(__FILE__, __LINE__, "%s: got \"%s\", want \"%s...\"", \
                       #got, g_, p_);                                        \
            return;                                                          \
        }                                                                    \
    } while (0)

/* The client sent exactly these bytes, all in the clear. */
#define CHECK_SENT_CLEAR(fs, want)                                 \
    do {                                                           \
        size_t n_;                                                 \
        const char *got_ = tlsfake_received(fs, &n_);              \
        CHECK_BYTES(got_, n_, want);                               \
        CHECK(tlsfake_tls_offset(fs) == (size_t)-1);               \
    } while (0)

#define GREETING "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"

/*
 * imclient_starttls() must fail on this script: non-zero, the connection
 * closed, an error starting with error_prefix, and the client must have
 * sent exactly `sent` (plaintext, no TLS).
 */
static void expect_refusal(struct tlsfake *fs, int timeout_ms, const char *error_prefix,
                           const char *sent)
{
    reset();
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    if (timeout_ms)
        set_timeout(c, timeout_ms);
    CHECK(starttls(c) != 0);
    CHECK(!imclient_isopen(c));
    CHECK_PREFIX(imclient_error(c), error_prefix);
    /* A command after the failure gets EOF at once; nothing goes out. */
    imclient_send(c, finished, "after", "LOGIN %s %s", "alice", "secret");
    CHECK_INT(finished_count(), 1);
    imclient_close(c);
    SERVER_OK(fs);
    if (sent)
        CHECK_SENT_CLEAR(fs, sent);
    tlsfake_free(fs);
}

/* ---- STARTTLS refused, ignored or answered wrongly --------------------- */

static void server_ignores_starttls(void)
{
    /* No STARTTLS capability, and no answer to the command: time out. */
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"),
                                             T_EXPECT("1 STARTTLS\r\n"), T_SLEEP(800))),
                   300, "STARTTLS failed: timed out: no reply from localhost in 300 ms",
                   "1 STARTTLS\r\n");
    /* ... or it hangs up. */
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                             T_CUT())),
                   0, "STARTTLS failed: connection closed by localhost", "1 STARTTLS\r\n");
}

static void starttls_unknown_command(void)
{
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"),
                                             T_SEND("1 BAD unknown command.\r\n"))),
                   0, "STARTTLS refused by localhost: BAD unknown command.", "1 STARTTLS\r\n");
}

static void starttls_refused_with_no(void)
{
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                             T_SEND("1 NO do not begin TLS now.\r\n"))),
                   0, "STARTTLS refused by localhost: NO do not begin TLS now.",
                   "1 STARTTLS\r\n");
    /* Control bytes of the server's text do not reach the error string. */
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                             T_SEND("1 NO \x1b]0;owned\x07\x1b[2J\r\n"))),
                   0, "STARTTLS refused by localhost: NO ?]0;owned??[2J", "1 STARTTLS\r\n");
    /* Byte by byte, and with no text at all. */
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                             T_SLOW("1 NO\r\n"))),
                   0, "STARTTLS refused by localhost: NO", "1 STARTTLS\r\n");
}

static void bad_with_pipelined_tags(void)
{
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                             T_SEND("1 BAD currently unavailable\r\n"
                                                    "2 OK Authenticated\r\n3 OK Accepted\r\n"))),
                   0, "STARTTLS refused by localhost: BAD currently unavailable",
                   "1 STARTTLS\r\n");
    /* Tags not in flight before the reply: a protocol error. */
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                             T_SEND("2 OK Authenticated\r\n1 OK begin\r\n"))),
                   0, "STARTTLS failed: protocol error: reply for tag 2, which is not in flight",
                   "1 STARTTLS\r\n");
}

static void continuation_instead_of_reply(void)
{
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                             T_SEND("+ continue with something.\r\n"))),
                   0, "STARTTLS failed: the server asked for more (\"+ continue with "
                      "something.\") instead of answering", "1 STARTTLS\r\n");
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                             T_SLOW_UNTIL_CLOSED("+\r\n1 OK begin\r\n"))),
                   0, "STARTTLS failed: the server asked for more", "1 STARTTLS\r\n");
}

static void unknown_status(void)
{
    static const char *const replies[] = { "1 PREAUTH hi\r\n", "1 XYZ\r\n", "1 OKAY go\r\n",
                                           "1\r\n", "1 ok\r\n" };
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        struct tlsfake_step steps[] = { T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                        { TF_SEND, replies[i], strlen(replies[i]), 0 } };
        /* "ok" in lower case is a valid OK (RFC 3501 is case-insensitive),
         * after which the fake does not speak TLS. */
        int lower_ok = strcmp(replies[i], "1 ok\r\n") == 0;
        expect_refusal(tlsfake_start(&(struct tlsfake_config){ path("good.pem"),
                                                               path("leaf.key"), NULL, 0 },
                                     steps, 3),
                       0, lower_ok ? "TLS handshake with localhost failed"
                                   : "STARTTLS failed: protocol error",
                       lower_ok ? NULL : "1 STARTTLS\r\n");
        if (check_failed_now) {
            fprintf(stderr, "  reply %zu\n", i);
            return;
        }
    }
}

/* The tagged OK arrives before STARTTLS was written. */
static void early_tagged_ok(void)
{
    /* Read before the command exists: not in flight, the connection closes
     * and STARTTLS can only fail. */
    for (int tag = 1; tag <= 2; tag++) {
        reset();
        struct tlsfake *fs = tag == 1
            ? serve("good.pem", TLSFAKE(T_SEND("* OK hi\r\n1 OK begin TLS now\r\n")))
            : serve("good.pem", TLSFAKE(T_SEND("* OK hi\r\n2 OK begin TLS now\r\n")));
        struct imclient *c = open_conn(fs, "localhost");
        CHECK(c != NULL);
        for (int i = 0; i < 100 && imclient_isopen(c); i++)
            imclient_processoneevent_timeout(c, 5000);
        CHECK(!imclient_isopen(c));
        CHECK(starttls(c) != 0);
        CHECK(strstr(imclient_error(c), "which is not in flight") != NULL);
        imclient_close(c);
        SERVER_OK(fs);
        CHECK_SENT_CLEAR(fs, "");
        tlsfake_free(fs);
    }
    /* Sent ahead of the command, read after it: the next tag is not in
     * flight. */
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND("* OK hi\r\n2 OK begin TLS now\r\n"),
                                             T_EXPECT("1 STARTTLS\r\n"))),
                   0, "STARTTLS failed: protocol error: reply for tag 2", "1 STARTTLS\r\n");
    /* "1 OK" sent ahead and read after the command looks like a fast
     * server; only a verified handshake can make it success, and this
     * server cannot do one. */
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND("* OK hi\r\n1 OK begin TLS now\r\n"),
                                             T_EXPECT("1 STARTTLS\r\n"),
                                             T_SLEEP(100), T_SEND("* 1 EXISTS\r\n"))),
                   0, "TLS handshake with localhost failed", NULL);
}

static void preauth(void)
{
    static const char *const greetings[] = {
        "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] IMAP server ready.\r\n",
        "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN LOGINDISABLED] ready\r\n",
        "* PREAUTH [CAPABILITY IMAP4rev1 MAILBOX-REFERRALS] ready\r\n",
    };
    for (size_t i = 0; i < sizeof greetings / sizeof greetings[0]; i++) {
        struct tlsfake_step steps[] = { { TF_SEND, greetings[i], strlen(greetings[i]), 0 },
                                        T_EXPECT("1 STARTTLS\r\n"),
                                        T_SEND("1 BAD Already in authenticated state\r\n") };
        expect_refusal(tlsfake_start(&(struct tlsfake_config){ path("good.pem"),
                                                               path("leaf.key"), NULL, 0 },
                                     steps, 3),
                       0, "STARTTLS refused by localhost: BAD", "1 STARTTLS\r\n");
        if (check_failed_now)
            return;
        /* The greeting was delivered as untagged PREAUTH, and nothing else. */
        char want[200];
        snprintf(want, sizeof want, "u|PREAUTH|-1|%.*s\nafter|EOF|-1|\n",
                 (int)strlen(greetings[i]) - 12, greetings[i] + 10);
        CHECK_STR(log_text(), want);
    }
    /* A PREAUTH server that says OK and stays in the clear. */
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND(
                                                 "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
                                             T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK\r\n"),
                                             T_SLEEP(100), T_SEND("* 3 EXISTS\r\n"))),
                   0, "TLS handshake with localhost failed", NULL);
}

static void bad_greetings(void)
{
    static const char *const greetings[] = {
        "1Gdo00V4 wFaIW2WP\r\n",
        "Ac3cXIo1 rJzgnVlo\r\n* OK DHYw9lXw\r\n",
        "XYZ OK 6Iy0xHRr\r\n",
    };
    for (size_t i = 0; i < sizeof greetings / sizeof greetings[0]; i++) {
        for (int slow = 0; slow < 2; slow++) {
            struct tlsfake_step steps[] = {
                { slow ? TF_SLOW : TF_SEND, greetings[i], strlen(greetings[i]),
                  TF_CLIENT_MAY_CLOSE },
            };
            expect_refusal(tlsfake_start(&(struct tlsfake_config){ path("good.pem"),
                                                                   path("leaf.key"), NULL, 0 },
                                         steps, 1),
                           /* When the client hangs up in the middle, what it
                            * sent may be lost in the reset. */
                           0, "STARTTLS failed: protocol error",
                           slow ? NULL : "1 STARTTLS\r\n");
            if (check_failed_now) {
                fprintf(stderr, "  greeting %zu slow %d\n", i, slow);
                return;
            }
            CHECK_STR(log_text(), "after|EOF|-1|\n");
        }
    }
    /* BYE as the greeting: delivered, then the end. */
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND("* BYE X0n0fCj9\r\n"),
                                             T_EXPECT("1 STARTTLS\r\n"), T_CUT())), 0,
                   "STARTTLS failed: connection closed by localhost", NULL);
    CHECK_STR(log_text(), "u|BYE|-1|X0n0fCj9\nafter|EOF|-1|\n");
}

/* ---- bytes around the OK ------------------------------------------------- */

static void suffix_injection_same_segment(void)
{
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                             T_SEND("1 OK begin TLS now.\r\n"
                                                    "* CAPABILITY IMAP4REV1 AUTH=PLAIN AUTH=LOGIN\r\n"
                                                    "2 OK capability done.\r\n"))),
                   0, "STARTTLS failed: localhost sent 69 byte(s) after its OK, before TLS began",
                   "1 STARTTLS\r\n");
    /* The injected replies were never parsed. */
    CHECK_STR(log_text(), "u|OK|-1|[CAPABILITY IMAP4rev1 STARTTLS] ready\nafter|EOF|-1|\n");
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                             T_SEND("1 OK begin TLS now.\r\n"
                                                    "* BYE close the connection please.\r\n"))),
                   0, "STARTTLS failed: localhost sent 36 byte(s) after its OK", "1 STARTTLS\r\n");
    CHECK_STR(log_text(), "u|OK|-1|[CAPABILITY IMAP4rev1 STARTTLS] ready\nafter|EOF|-1|\n");
    /* One byte is enough. */
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                             T_SEND("1 OK begin TLS now.\r\n*"))),
                   0, "STARTTLS failed: localhost sent 1 byte(s) after its OK", "1 STARTTLS\r\n");
}

/* The injection in a second segment reaches the client after its
 * ClientHello went out: the handshake reads it, and fails. */
static void suffix_injection_second_segment(void)
{
    static const char *const tails[] = {
        "* CAPABILITY IMAP4REV1 AUTH=PLAIN AUTH=LOGIN\r\n2 OK capability done.\r\n",
        "* BYE close the connection please.\r\n",
    };
    for (size_t i = 0; i < 2; i++) {
        for (int slow = 0; slow < 2; slow++) {
            struct tlsfake_step steps[] = {
                T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK begin TLS now.\r\n"),
                /* The client gives up at the first byte that is no TLS
                 * record and closes: the rest may meet a reset. */
                T_SLEEP(100),
                { slow ? TF_SLOW : TF_SEND, tails[i], strlen(tails[i]), TF_CLIENT_MAY_CLOSE },
            };
            reset();
            struct tlsfake *fs = tlsfake_start(&(struct tlsfake_config){ path("good.pem"),
                                                                         path("leaf.key"),
                                                                         NULL, 0 },
                                               steps, 5);
            struct imclient *c = open_conn(fs, "localhost");
            CHECK(c != NULL);
            CHECK(starttls(c) != 0);
            CHECK(!imclient_isopen(c));
            CHECK_STR(imclient_error(c), "TLS handshake with localhost failed: wrong version "
                                         "number (the server's bytes are not TLS)");
            imclient_close(c);
            SERVER_OK(fs);
            /* Only the greeting reached a callback. */
            CHECK_STR(log_text(), "u|OK|-1|[CAPABILITY IMAP4rev1 STARTTLS] ready\n");
            size_t n;
            const char *got = tlsfake_received(fs, &n);
            CHECK(n > 12 && memcmp(got, "1 STARTTLS\r\n\x16\x03", 14) == 0); /* ClientHello */
            tlsfake_free(fs);
        }
    }
}

/* An ALERT before the OK is delivered before TLS; nothing of it reaches
 * the TLS session.  One after the handshake is delivered after it. */
static void prefix_alert(void)
{
    reset();
    struct tlsfake *fs = serve("good.pem", TLSFAKE(
        T_SEND("* OK IMAP4rev1 ready\r\n"), T_EXPECT("1 STARTTLS\r\n"),
        T_SEND("* OK [ALERT] prefix.\r\n1 OK begin STARTTLS now.\r\n"), T_TLS(),
        T_SEND("* OK [ALERT] after TLS.\r\n"), T_EXPECT("2 NOOP\r\n"),
        T_SEND("2 OK done\r\n")));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    CHECK_INT(starttls(c), 0);
    mark("starttls=0");
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    imclient_close(c);
    SERVER_OK(fs);
    CHECK_STR(log_text(), "u|OK|-1|IMAP4rev1 ready\n"
                          "u|OK|-1|[ALERT] prefix.\n"
                          "starttls=0\n"
                          "u|OK|-1|[ALERT] after TLS.\n"
                          "noop|OK|-1|done\n");
    tlsfake_free(fs);
}

/* ---- untagged data before the OK ---------------------------------------- */

struct before {
    const char *sent;   /* before "1 OK" */
    const char *logged; /* what the callbacks saw of it */
};

static const struct before befores[] = {
    { "* LIST () \"/\" 7XiYhgS7\r\n", "u|LIST|-1|() \"/\" 7XiYhgS7\n" },
    { "* LSUB () \"/\" jcaZji2A\r\n", "u|LSUB|-1|() \"/\" jcaZji2A\n" },
    { "* STATUS INBOX (MESSAGES 718001 RECENT 718002 UIDNEXT 718003 UNSEEN 718004 "
      "UIDVALIDITY 718005)\r\n",
      "u|STATUS|-1|INBOX (MESSAGES 718001 RECENT 718002 UIDNEXT 718003 UNSEEN 718004 "
      "UIDVALIDITY 718005)\n" },
    { "* SEARCH 1 2 3\r\n", "u|SEARCH|-1|1 2 3\n" },
    { "* FLAGS (\\Flagged)\r\n", "u|FLAGS|-1|(\\Flagged)\n" },
    { "* 54321 EXISTS\r\n", "u|EXISTS|54321|\n" },
    { "* 12345 RECENT\r\n", "u|RECENT|12345|\n" },
    { "* 1 EXPUNGE\r\n* 2 EXPUNGE\r\n", "u|EXPUNGE|1|\nu|EXPUNGE|2|\n" },
    { "* 1 FETCH (BODY[] {28}\r\nFrom: Injected\r\n\r\nInjected\r\n)\r\n",
      "u|FETCH|1|(BODY[] {28}\r\nFrom: Injected\r\n\r\nInjected\r\n)\n" },
    { "* CAPABILITY IDLE\r\n", "u|CAPABILITY|-1|IDLE\n" },
};

static void untagged_before_ok(void)
{
    for (size_t i = 0; i < sizeof befores / sizeof befores[0]; i++) {
        for (int slow = 0; slow < 2; slow++) {
            const struct before *b = &befores[i];
            struct tlsfake_step steps[] = {
                T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"),
                { slow ? TF_SLOW : TF_SEND, b->sent, strlen(b->sent), 0 },
                T_SEND("1 OK ready for starttls\r\n"), T_TLS(),
                T_EXPECT("2 NOOP\r\n"), T_SEND("2 OK done\r\n"),
            };
            reset();
            struct tlsfake *fs = tlsfake_start(&(struct tlsfake_config){ path("good.pem"),
                                                                         path("leaf.key"),
                                                                         NULL, 0 },
                                               steps, 7);
            struct imclient *c = open_conn(fs, "localhost");
            CHECK(c != NULL);
            CHECK_INT(starttls(c), 0);
            mark("starttls=0");
            imclient_send(c, finished, "noop", "NOOP");
            run_until(c, 1);
            imclient_close(c);
            SERVER_OK(fs);
            char want[600];
            snprintf(want, sizeof want, "u|OK|-1|ready\n%sstarttls=0\nnoop|OK|-1|done\n",
                     b->logged);
            CHECK_STR(log_text(), want);
            CHECK_SERVER_SAW(fs, "1 STARTTLS\r\n2 NOOP\r\n", 12);
            tlsfake_free(fs);
        }
    }
}

/* A reply left half read when the OK comes (here the OK is inside a
 * literal): the STARTTLS reply never arrives, and the wait is bounded. */
static void partial_reply_before_ok(void)
{
    expect_refusal(serve("good.pem", TLSFAKE(T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"),
                                             T_SEND("* 1 FETCH (BODY[] {100}\r\n"
                                                    "1 OK begin TLS\r\n"),
                                             T_SLEEP(800))),
                   300, "STARTTLS failed: timed out", "1 STARTTLS\r\n");
}

/* LITERAL+ learnt before TLS is forgotten: after the handshake a literal
 * waits for "+" again (RFC 3501 6.2.1). */
static void capabilities_forgotten(void)
{
    reset();
    struct tlsfake *fs = serve("good.pem", TLSFAKE(
        T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"),
        T_SEND("* CAPABILITY IMAP4rev1 IDLE LITERAL+\r\n1 OK ready for starttls\r\n"), T_TLS(),
        T_EXPECT("2 APPEND INBOX {4}\r\n"), T_SEND("+ go on\r\n"), T_EXPECT("a\r\nb\r\n"),
        T_SEND("2 OK appended\r\n")));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    imclient_setflags(c, IMCLIENT_CONN_NONSYNCLITERAL);
    CHECK_INT(starttls(c), 0);
    imclient_send(c, finished, "append", "APPEND INBOX %s", "a\r\nb");
    run_until(c, 1);
    imclient_close(c);
    SERVER_OK(fs);
    CHECK_STR(log_text(), "u|OK|-1|ready\nu|CAPABILITY|-1|IMAP4rev1 IDLE LITERAL+\n"
                          "append|OK|-1|appended\n");
    tlsfake_free(fs);
}

/* The same when nobody set a flag: LITERAL+ from the greeting and from
 * the code of STARTTLS's own OK is forgotten once TLS is up. */
static void learnt_capabilities_forgotten(void)
{
    reset();
    struct tlsfake *fs = serve("good.pem", TLSFAKE(
        T_SEND("* OK [CAPABILITY IMAP4rev1 STARTTLS LITERAL+] ready\r\n"), T_EXPECT("1 STARTTLS\r\n"),
        T_SEND("1 OK [CAPABILITY IMAP4rev1 LITERAL+] ready for starttls\r\n"), T_TLS(),
        T_EXPECT("2 APPEND INBOX {4}\r\n"), T_SEND("+ go on\r\n"), T_EXPECT("a\r\nb\r\n"),
        T_SEND("2 OK appended\r\n")));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    CHECK_INT(imclient_hascapability(c, "literal+"), -1); /* no greeting read yet */
    imclient_processoneevent(c);
    CHECK_INT(imclient_hascapability(c, "literal+"), 1);
    CHECK_INT(imclient_hascapability(c, "IDLE"), 0);
    CHECK_INT(starttls(c), 0);
    CHECK_INT(imclient_hascapability(c, "LITERAL+"), -1);
    imclient_send(c, finished, "append", "APPEND INBOX %s", "a\r\nb");
    run_until(c, 1);
    imclient_close(c);
    SERVER_OK(fs);
    tlsfake_free(fs);
}

/* ---- success ------------------------------------------------------------- */

static void starttls_then_commands(void)
{
    reset();
    struct tlsfake *fs = serve("good.pem", TLSFAKE(
        T_SEND(GREETING), T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK Begin TLS negotiation now\r\n"),
        T_TLS(), T_EXPECT("2 CAPABILITY\r\n"),
        T_SEND("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n2 OK done\r\n"),
        T_EXPECT("3 SELECT INBOX\r\n"),
        T_SEND("* 2 EXISTS\r\n* FLAGS (\\Seen)\r\n3 OK [READ-WRITE] selected\r\n"),
        T_EXPECT("4 LOGOUT\r\n"), T_SEND("* BYE bye\r\n4 OK bye\r\n"), T_CLOSE()));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    CHECK_INT(starttls(c), 0);
    CHECK_STR(imclient_error(c), "");
    CHECK(imclient_isopen(c));
    mark("tls");
    imclient_send(c, finished, "cap", "CAPABILITY");
    imclient_send(c, finished, "select", "SELECT %s", "INBOX");
    run_until(c, 2);
    imclient_send(c, finished, "logout", "LOGOUT");
    run_until(c, 3);
    imclient_close(c);
    SERVER_OK(fs);
    CHECK_STR(log_text(), "u|OK|-1|[CAPABILITY IMAP4rev1 STARTTLS] ready\n"
                          "tls\n"
                          "u|CAPABILITY|-1|IMAP4rev1 AUTH=PLAIN\n"
                          "cap|OK|-1|done\n"
                          "u|EXISTS|2|\n"
                          "u|FLAGS|-1|(\\Seen)\n"
                          "select|OK|-1|[READ-WRITE] selected\n"
                          "u|BYE|-1|bye\n"
                          "logout|OK|-1|bye\n");
    CHECK_SERVER_SAW(fs, "1 STARTTLS\r\n2 CAPABILITY\r\n3 SELECT INBOX\r\n4 LOGOUT\r\n", 12);
    CHECK_STR(tlsfake_sni(fs), "localhost");
    tlsfake_free(fs);
}

/* An address: checked against the iPAddress SAN, and no SNI. */
static void starttls_ip_address(void)
{
    reset();
    struct tlsfake *fs = serve("ip.pem", TLSFAKE(
        T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK go\r\n"), T_TLS(),
        T_EXPECT("2 NOOP\r\n"), T_SEND("2 OK done\r\n")));
    struct imclient *c = open_conn(fs, "127.0.0.1");
    CHECK(c != NULL);
    CHECK_INT(starttls(c), 0);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    imclient_close(c);
    SERVER_OK(fs);
    CHECK_STR(log_text(), "u|OK|-1|ready\nnoop|OK|-1|done\n");
    CHECK(tlsfake_sni(fs) == NULL);
    tlsfake_free(fs);
}

/* A host given in Unicode: connected to, sent as SNI and verified in its
 * A-label form; imclient_servername() keeps the caller's spelling.  A
 * name with no A-label form is an unknown host. */
static void starttls_unicode_host(void)
{
    reset();
    struct tlsfake *fs = serve("good.pem", TLSFAKE(
        T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK go\r\n"), T_TLS(),
        T_EXPECT("2 NOOP\r\n"), T_SEND("2 OK done\r\n")));
    struct imclient *c = open_conn(fs, "ｌｏｃａｌｈｏｓｔ");
    CHECK(c != NULL);
    CHECK_STR(imclient_servername(c), "ｌｏｃａｌｈｏｓｔ");
    CHECK_INT(starttls(c), 0);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    imclient_close(c);
    SERVER_OK(fs);
    CHECK_STR(tlsfake_sni(fs), "localhost");
    tlsfake_free(fs);

    struct imclient *none = (struct imclient *)&none;
    CHECK_INT(imclient_connect(&none, "☃.example", "143"), -1);
    CHECK(none == NULL);
}

/* The trace hook sees the conversation in the clear on both sides of the
 * switch, never TLS records. */
static struct imc_buf tracebuf;
static void trace(struct imclient *c, void *rock, int dir, const char *data, size_t len)
{
    (void)c;
    (void)rock;
    imc_buf_appendc(&tracebuf, (char)dir);
    imc_buf_appendc(&tracebuf, ':');
    imc_buf_append(&tracebuf, data, len);
}

static void trace_is_plaintext(void)
{
    reset();
    imc_buf_free(&tracebuf);
    struct tlsfake *fs = serve("good.pem", TLSFAKE(
        T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK go\r\n"), T_TLS(),
        T_EXPECT("2 NOOP\r\n"), T_SEND("2 OK done\r\n")));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    imclient_settrace(c, trace, NULL);
    CHECK_INT(starttls(c), 0);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CLOSE_AND_FINISH(c, fs);
    const char *t = imc_buf_cstr(&tracebuf);
    /* The greeting and the OK may come in one read or two. */
    const char *want1 = "C:1 STARTTLS\r\nS:* OK ready\r\n1 OK go\r\nC:2 NOOP\r\nS:2 OK done\r\n";
    const char *want2 = "C:1 STARTTLS\r\nS:* OK ready\r\nS:1 OK go\r\nC:2 NOOP\r\nS:2 OK done\r\n";
    if (strcmp(t, want1) != 0)
        CHECK_STR(t, want2);
    imc_buf_free(&tracebuf);
}

/* A response far larger than a TLS record, sent in one burst: the client
 * reads it all without stalling, and delivers it byte for byte. */
static void large_response_over_tls(void)
{
    size_t body = 200000;
    struct imc_buf resp;
    imc_buf_init(&resp);
    char head[64];
    snprintf(head, sizeof head, "* 1 FETCH (BODY[] {%zu}\r\n", body);
    imc_buf_appendstr(&resp, head);
    for (size_t i = 0; i < body; i++)
        imc_buf_appendc(&resp, (char)(i % 251 == 250 ? '\n' : 'A' + i % 26));
    imc_buf_appendstr(&resp, ")\r\n2 OK fetched\r\n");
    reset();
    struct tlsfake *fs = serve("good.pem", TLSFAKE(
        T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK go\r\n"), T_TLS(),
        T_EXPECT("2 FETCH 1 BODY[]\r\n"), T_SEND_BUF(resp.data, resp.len)));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    CHECK_INT(starttls(c), 0);
    imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED, record, "fetch", NULL);
    imclient_send(c, finished, "fetch", "FETCH 1 BODY[]");
    run_until(c, 1);
    CLOSE_AND_FINISH(c, fs);
    struct imc_buf want;
    imc_buf_init(&want);
    imc_buf_appendstr(&want, "u|OK|-1|ready\nfetch|FETCH|1|");
    imc_buf_append(&want, resp.data + 10, resp.len - 10 - strlen("\r\n2 OK fetched\r\n"));
    imc_buf_appendstr(&want, "\nfetch|OK|-1|fetched\n");
    size_t loglen;
    const char *logged = log_bytes(&loglen);
    CHECK_MEM(logged, loglen, want.data, want.len);
    imc_buf_free(&want);
    imc_buf_free(&resp);
}

/* The page's own loop: getselectinfo, select, processoneevent.  Nothing
 * may stay decrypted inside the library while select waits on the socket. */
static void page_loop_over_tls(void)
{
    static char big[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    struct imc_buf resp;
    imc_buf_init(&resp);
    imc_buf_appendstr(&resp, "* 1 FETCH (BODY[] {70000}\r\n");
    imc_buf_append(&resp, big, sizeof big);
    imc_buf_appendstr(&resp, ")\r\n* 2 EXISTS\r\n2 OK fetched\r\n");
    reset();
    struct tlsfake *fs = serve("good.pem", TLSFAKE(
        T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK go\r\n"), T_TLS(),
        T_EXPECT("2 FETCH 1 BODY[]\r\n"), T_SEND_BUF(resp.data, resp.len)));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    CHECK_INT(starttls(c), 0);
    imclient_send(c, finished, "fetch", "FETCH 1 BODY[]");
    int stalls = 0;
    for (int i = 0; i < 10000 && finished_count() < 1 && stalls == 0; i++) {
        int fd, wr;
        imclient_getselectinfo(c, &fd, &wr);
        fd_set rfds, wfds;
        FD_ZERO(&rfds);
        FD_ZERO(&wfds);
        FD_SET(fd, &rfds);
        if (wr)
            FD_SET(fd, &wfds);
        struct timeval tv = { 5, 0 };
        if (select(fd + 1, &rfds, &wfds, NULL, &tv) == 0)
            stalls++;
        else
            imclient_processoneevent(c);
    }
    CLOSE_AND_FINISH(c, fs);
    CHECK_INT(stalls, 0);
    CHECK_INT(finished_count(), 1);
    imc_buf_free(&resp);
}

/* ---- certificates through imclient_starttls() ------------------------- */

struct certcase {
    const char *cert, *host;
    int noverify;
    const char *error; /* NULL: accepted */
};

static const struct certcase certcases[] = {
    { "good.pem", "localhost", 0, NULL },
    { "ip.pem", "127.0.0.1", 0, NULL },
    { "expired.pem", "localhost", 0,
      "TLS handshake with localhost failed: certificate verify failed: certificate has "
      "expired (depth 0: /O=imclient tlsfake/CN=localhost)" },
    { "self.pem", "localhost", 0,
      "TLS handshake with localhost failed: certificate verify failed: self-signed "
      "certificate (depth 0: /O=imclient tlsfake/CN=localhost)" },
    { "wrong.pem", "localhost", 0,
      "TLS handshake with localhost failed: certificate verify failed: hostname mismatch: "
      "the certificate does not name \"localhost\"" },
    { "cnonly.pem", "localhost", 0,
      "TLS handshake with localhost failed: certificate verify failed: hostname mismatch: "
      "the certificate does not name \"localhost\" (it has no subjectAltName; its CN is "
      "not used)" },
    { "cnonly-ip.pem", "127.0.0.1", 0,
      "TLS handshake with 127.0.0.1 failed: certificate verify failed: IP address "
      "mismatch: the certificate does not name \"127.0.0.1\" (it has no subjectAltName; "
      "its CN is not used)" },
    { "good.pem", "127.0.0.1", 0,
      "TLS handshake with 127.0.0.1 failed: certificate verify failed: IP address mismatch" },
    { "untrusted.pem", "localhost", 0,
      "TLS handshake with localhost failed: certificate verify failed: unable to get local "
      "issuer certificate (depth 0: /O=imclient tlsfake/CN=localhost)" },
    { "self.pem", "localhost", 1, NULL },
    { "wrong.pem", "127.0.0.1", 1, NULL },
    /* Unicode: resolved and checked by its A-label form ("localhost") */
    { "good.pem", "ｌｏｃａｌｈｏｓｔ", 0, NULL },
    { "wrong.pem", "ｌｏｃａｌｈｏｓｔ", 0,
      "TLS handshake with ｌｏｃａｌｈｏｓｔ failed: certificate verify failed: hostname "
      "mismatch: the certificate does not name \"ｌｏｃａｌｈｏｓｔ\" (localhost)" },
};

/* Capture what goes to a descriptor while f runs. */
static size_t captured(int fd, int (*f)(void *), void *arg, int *ret)
{
    char name[] = "/tmp/imc-capture.XXXXXX";
    int tmp = mkstemp(name);
    unlink(name);
    fflush(stdout);
    fflush(stderr);
    int saved = dup(fd);
    dup2(tmp, fd);
    *ret = f(arg);
    fflush(stdout);
    fflush(stderr);
    dup2(saved, fd);
    close(saved);
    struct stat st;
    fstat(tmp, &st);
    close(tmp);
    return (size_t)st.st_size;
}

static int starttls_thunk(void *arg)
{
    return starttls(arg);
}

static void certificates(void)
{
    for (size_t i = 0; i < sizeof certcases / sizeof certcases[0]; i++) {
        const struct certcase *k = &certcases[i];
        reset();
        struct tlsfake *fs = k->error
            ? serve(k->cert, TLSFAKE(T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"),
                                     T_SEND("1 OK go\r\n"), T_TLS_MAYFAIL()))
            : serve(k->cert, TLSFAKE(T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"),
                                     T_SEND("1 OK go\r\n"), T_TLS(), T_EXPECT("2 NOOP\r\n"),
                                     T_SEND("2 OK done\r\n")));
        struct imclient *c = open_conn(fs, k->host);
        CHECK(c != NULL);
        if (k->noverify)
            imclient_settlsverify(c, IMCLIENT_TLS_NOVERIFY);
        int r;
        size_t out = captured(1, starttls_thunk, c, &r);
        if (k->error) {
            if (r == 0 || strncmp(imclient_error(c), k->error, strlen(k->error)) != 0)
                fprintf(stderr, "  %s as %s: got %d \"%s\"\n", k->cert, k->host, r,
                        imclient_error(c));
            CHECK(r != 0);
            CHECK(!imclient_isopen(c));
            CHECK_PREFIX(imclient_error(c), k->error);
        } else {
            if (r != 0)
                fprintf(stderr, "  %s as %s: %s\n", k->cert, k->host, imclient_error(c));
            CHECK_INT(r, 0);
            imclient_send(c, finished, "noop", "NOOP");
            run_until(c, 1);
            CHECK_STR(log_text(), "u|OK|-1|ready\nnoop|OK|-1|done\n");
        }
        /* Nothing on stdout, whatever the outcome, NOVERIFY included. */
        CHECK_INT(out, 0);
        imclient_close(c);
        SERVER_OK(fs);
        if (k->error)
            CHECK(tlsfake_handshake_error(fs)[0] != '\0');
        tlsfake_free(fs);
    }
}

/* Trust comes from the CA given; the default store does not know ours. */
static void wrong_ca(void)
{
    for (int which = 0; which < 2; which++) {
        reset();
        struct tlsfake *fs = serve("good.pem", TLSFAKE(
            T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK go\r\n"),
            T_TLS_MAYFAIL()));
        struct imclient *c = open_conn(fs, "localhost");
        CHECK(c != NULL);
        CHECK(imclient_starttls(c, NULL, NULL, which ? NULL : (char *)path("other-ca.pem"),
                                NULL) != 0);
        CHECK_PREFIX(imclient_error(c), "TLS handshake with localhost failed: certificate "
                                        "verify failed: unable to get local issuer certificate");
        CLOSE_AND_FINISH(c, fs);
    }
}

static void client_certificate(void)
{
    reset();
    struct tlsfake_config cfg = { path("good.pem"), path("leaf.key"), path("ca.pem"), 0 };
    struct tlsfake *fs = tlsfake_start(&cfg, TLSFAKE(
        T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK go\r\n"), T_TLS(),
        T_EXPECT("2 AUTHENTICATE EXTERNAL =\r\n"), T_SEND("2 OK hello alice\r\n")));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    CHECK_INT(imclient_starttls(c, (char *)path("client-all.pem"), NULL,
                                (char *)path("ca.pem"), NULL), 0);
    imclient_send(c, finished, "auth", "AUTHENTICATE EXTERNAL =");
    run_until(c, 1);
    imclient_close(c);
    SERVER_OK(fs);
    CHECK_STR(tlsfake_peer_cn(fs), "alice");
    CHECK_STR(log_text(), "u|OK|-1|ready\nauth|OK|-1|hello alice\n");
    tlsfake_free(fs);
}

/* Settings that cannot work are refused before STARTTLS is sent: see
 * test_tls_args.c. */

/* ---- when STARTTLS may not begin ---------------------------------------- */

static void refused_with_commands_pending(void)
{
    reset();
    struct tlsfake *fs = serve("good.pem", TLSFAKE(T_SEND("* OK ready\r\n"),
                                                    T_EXPECT("1 NOOP\r\n")));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    imclient_send(c, finished, "noop", "NOOP");
    CHECK(starttls(c) != 0);
    CHECK(!imclient_isopen(c));
    CHECK_STR(imclient_error(c), "STARTTLS refused: 1 command(s) still wait for their "
                                 "replies, which would cross into TLS");
    CHECK_STR(log_text(), "noop|EOF|-1|\n");
    imclient_close(c);
    SERVER_OK(fs);
    CHECK_SENT_CLEAR(fs, "1 NOOP\r\n");
    tlsfake_free(fs);
}

static int inner_result = 99;
static void starttls_from_callback(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)rock;
    (void)r;
    inner_result = starttls(c);
}

static void refused_inside_callback(void)
{
    reset();
    struct tlsfake *fs = serve("good.pem", TLSFAKE(T_SEND("* OK ready\r\n")));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    imclient_addcallback(c, "OK", 0, starttls_from_callback, NULL, NULL);
    for (int i = 0; i < 100 && inner_result == 99; i++)
        imclient_processoneevent_timeout(c, 5000);
    CHECK(inner_result != 0 && inner_result != 99);
    CHECK(!imclient_isopen(c));
    CHECK_STR(imclient_error(c), "STARTTLS refused: it cannot run inside a callback");
    imclient_close(c);
    SERVER_OK(fs);
    CHECK_SENT_CLEAR(fs, "");
    tlsfake_free(fs);
}

static void refused_twice(void)
{
    reset();
    struct tlsfake *fs = serve("good.pem", TLSFAKE(
        T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK go\r\n"), T_TLS()));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    CHECK_INT(starttls(c), 0);
    CHECK(starttls(c) != 0);
    CHECK(!imclient_isopen(c));
    CHECK_STR(imclient_error(c), "STARTTLS refused: TLS is already active");
    CLOSE_AND_FINISH(c, fs);
}

/* ---- time -------------------------------------------------------------- */

static void handshake_stall_times_out(void)
{
    reset();
    struct tlsfake *fs = serve("good.pem", TLSFAKE(
        T_SEND("* OK ready\r\n"), T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK go\r\n"),
        T_SLEEP(800)));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    set_timeout(c, 300);
    CHECK(starttls(c) != 0);
    CHECK(!imclient_isopen(c));
    CHECK_STR(imclient_error(c), "TLS handshake with localhost timed out after 300 ms");
    CLOSE_AND_FINISH(c, fs);
}

/* ---- implicit TLS ------------------------------------------------------ */

static void implicit_tls(void)
{
    reset();
    struct tlsfake *fs = serve("good.pem", TLSFAKE(
        T_TLS(), T_SEND("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] imaps ready\r\n"),
        T_EXPECT("1 NOOP\r\n"), T_SEND("1 OK done\r\n")));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    CHECK_INT(imclient_begintls(c, NULL, NULL, (char *)path("ca.pem"), NULL), 0);
    mark("tls");
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    imclient_close(c);
    SERVER_OK(fs);
    CHECK_STR(log_text(), "tls\nu|OK|-1|[CAPABILITY IMAP4rev1 AUTH=PLAIN] imaps ready\n"
                          "noop|OK|-1|done\n");
    CHECK_SERVER_SAW(fs, "1 NOOP\r\n", 0);
    CHECK_STR(tlsfake_sni(fs), "localhost");
    tlsfake_free(fs);
}

static void implicit_tls_refusals(void)
{
    /* A certificate that does not verify. */
    reset();
    struct tlsfake *fs = serve("self.pem", TLSFAKE(T_TLS_MAYFAIL()));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    CHECK(imclient_begintls(c, NULL, NULL, (char *)path("ca.pem"), NULL) != 0);
    CHECK(!imclient_isopen(c));
    CHECK_PREFIX(imclient_error(c), "TLS handshake with localhost failed: certificate "
                                    "verify failed: self-signed certificate");
    CLOSE_AND_FINISH(c, fs);

    /* A server greeting in the clear. */
    fs = serve("good.pem", TLSFAKE(T_SEND("* OK plain ready\r\n")));
    c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    CHECK(imclient_begintls(c, NULL, NULL, (char *)path("ca.pem"), NULL) != 0);
    CHECK_STR(imclient_error(c), "TLS handshake with localhost failed: wrong version number "
                                 "(the server's bytes are not TLS)");
    CLOSE_AND_FINISH(c, fs);

    /* Plaintext already read: too late for implicit TLS. */
    fs = serve("good.pem", TLSFAKE(T_SEND("* OK plain ready\r\n")));
    c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    for (int i = 0; i < 100 && !strstr(log_text(), "plain ready"); i++)
        imclient_processoneevent_timeout(c, 5000);
    CHECK(imclient_begintls(c, NULL, NULL, (char *)path("ca.pem"), NULL) != 0);
    CHECK_STR(imclient_error(c), "implicit TLS refused: localhost already sent bytes in "
                                 "the clear");
    imclient_close(c);
    SERVER_OK(fs);
    CHECK_SENT_CLEAR(fs, "");
    tlsfake_free(fs);

    /* A server that never answers the ClientHello. */
    fs = serve("good.pem", TLSFAKE(T_SLEEP(800)));
    c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    set_timeout(c, 300);
    CHECK(imclient_begintls(c, NULL, NULL, (char *)path("ca.pem"), NULL) != 0);
    CHECK_STR(imclient_error(c), "TLS handshake with localhost timed out after 300 ms");
    CLOSE_AND_FINISH(c, fs);
}

/* ---- the façade hook STARTTLS relies on ------------------------------------ */

/* imc_run_until_paused() returns 0 for the read that delivered the awaited
 * reply, with the connection open and paused (it once returned -1). */
static void run_until_paused_returns_success(void)
{
    reset();
    struct tlsfake *fs = serve("good.pem", TLSFAKE(T_SEND("* OK ready\r\n"),
                                                    T_EXPECT("1 NOOP\r\n"),
                                                    T_SEND("1 OK done\r\n")));
    struct imclient *c = open_conn(fs, "localhost");
    CHECK(c != NULL);
    imclient_send(c, finished, "noop", "NOOP");
    imc_session_pause_after(&c->session, imc_session_last_tag(&c->session));
    int r = imc_run_until_paused(c);
    int paused = c->session.paused, open = imclient_isopen(c);
    imc_session_resume(&c->session);
    CLOSE_AND_FINISH(c, fs);
    CHECK(paused && open);
    CHECK_INT(r, 0); /* got -1 */
}

static void havetls(void)
{
    CHECK_INT(imclient_havetls(), 1);
}

int main(int argc, char **argv)
{
    snprintf(certdir, sizeof certdir, "/tmp/imc-starttls.XXXXXX");
    if (!mkdtemp(certdir) || tlsfake_certs_make(certdir) < 0)
        return 1;
    static const struct check_test tests[] = {
        TEST(havetls),
        TEST(server_ignores_starttls),
        TEST(starttls_unknown_command),
        TEST(starttls_refused_with_no),
        TEST(bad_with_pipelined_tags),
        TEST(continuation_instead_of_reply),
        TEST(unknown_status),
        TEST(early_tagged_ok),
        TEST(preauth),
        TEST(bad_greetings),
        TEST(suffix_injection_same_segment),
        TEST(suffix_injection_second_segment),
        TEST(prefix_alert),
        TEST(untagged_before_ok),
        TEST(partial_reply_before_ok),
        TEST(capabilities_forgotten), TEST(learnt_capabilities_forgotten),
        TEST(starttls_then_commands),
        TEST(starttls_ip_address),
        TEST(starttls_unicode_host),
        TEST(trace_is_plaintext),
        TEST(large_response_over_tls),
        TEST(page_loop_over_tls),
        TEST(certificates),
        TEST(wrong_ca),
        TEST(client_certificate),
        TEST(refused_with_commands_pending),
        TEST(refused_inside_callback),
        TEST(refused_twice),
        TEST(handshake_stall_times_out),
        TEST(implicit_tls),
        TEST(implicit_tls_refusals),
        TEST(run_until_paused_returns_success),
    };
    int r = check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
    reset();
    tlsfake_certs_remove(certdir);
    return r;
}
