/* The sans-I/O session: replies in, callbacks and bytes out, fed whole and
 * one byte at a time. */
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>

#include "check.h"
#include "core/encoder.h"
#include "core/session.h"

static struct imc_buf logbuf;

static void logf_(const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    imc_buf_append(&logbuf, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Logs "rock|KEYWORD|msgno|textlen|text" per callback. */
static void record(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    logf_("%s|%s|%ld|%zu|", (const char *)rock, r->keyword, r->msgno, r->textlen);
    imc_buf_append(&logbuf, r->text, r->textlen);
    imc_buf_appendc(&logbuf, '\n');
    CHECK(r->text[r->textlen] == '\0');
    /* The page lets callbacks overwrite the text. */
    if (r->textlen)
        r->text[0] = '#';
}

static const char *log_text(void)
{
    return imc_buf_cstr(&logbuf);
}

static void send_(struct imc_session *s, const char *rock, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    imc_session_send(s, record, (void *)rock, fmt, ap);
    va_end(ap);
}

/* Pretend the transport took everything writable. */
static struct imc_buf wire;
static void drain(struct imc_session *s)
{
    size_t len;
    const char *p = imc_session_output(s, &len);
    imc_buf_append(&wire, p, len);
    imc_session_written(s, len);
}

static void setup(struct imc_session *s)
{
    imc_buf_free(&logbuf);
    imc_buf_free(&wire);
    imc_session_init(s, NULL);
}

static int feed_str(struct imc_session *s, const char *in)
{
    return imc_session_feed(s, in, strlen(in));
}

static void feed_split(struct imc_session *s, const char *in, size_t step)
{
    size_t len = strlen(in);
    for (size_t off = 0; off < len; off += step)
        imc_session_feed(s, in + off, len - off < step ? len - off : step);
}

static void untagged_routing(void)
{
    struct imc_session s;
    setup(&s);
    imc_callbacks_set(&s.callbacks, "EXISTS", CALLBACK_NUMBERED, record, "exists");
    imc_callbacks_set(&s.callbacks, "fetch", CALLBACK_NUMBERED, record, "fetch");
    imc_callbacks_set(&s.callbacks, "", 0, record, "default");
    imc_callbacks_set(&s.callbacks, "FLAGS", 0, NULL, NULL);
    CHECK_INT(feed_str(&s, "* 3 exists\r\n* 4 FETCH (UID 9)\r\n* FLAGS (\\Seen)\r\n"
                                   "* EXISTS\r\n* OK [ALERT] hi\r\n* 5 RECENT\r\n"), 0);
    CHECK_STR(log_text(), "exists|EXISTS|3|0|\nfetch|FETCH|4|7|(UID 9)\n"
                          "default|EXISTS|-1|0|\ndefault|OK|-1|10|[ALERT] hi\n"
                          "default|RECENT|5|0|\n");
    imc_session_free(&s);
}

static void literal_inline_with_length(void)
{
    struct imc_session s;
    setup(&s);
    imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, record, "f");
    const char in[] = "* 1 FETCH (BODY[] {5}\r\na\0b\r\n FLAGS ())\r\n";
    CHECK_INT(imc_session_feed(&s, in, sizeof in - 1), 0);
    const char want[] = "f|FETCH|1|28|(BODY[] {5}\r\na\0b\r\n FLAGS ())\n";
    CHECK_MEM(logbuf.data, logbuf.len, want, sizeof want - 1);
    imc_session_free(&s);
}

static void noliteral_gets_first_line_only(void)
{
    struct imc_session s;
    setup(&s);
    imc_callbacks_set(&s.callbacks, "CAPABILITY", CALLBACK_NOLITERAL, record, "cap");
    imc_callbacks_set(&s.callbacks, "", 0, record, "default");
    /* The literal holds something shaped like a reply: it must stay data. */
    CHECK_INT(feed_str(&s, "* CAPABILITY X {9}\r\n* BYE x\r\n rest\r\n* OK after\r\n"), 0);
    CHECK_STR(log_text(), "cap|CAPABILITY|-1|5|X {9}\ndefault|OK|-1|5|after\n");
    imc_session_free(&s);
}

static void tagged_completion_once(void)
{
    struct imc_session s;
    setup(&s);
    send_(&s, "a", "NOOP");
    send_(&s, "b", "CHECK");
    drain(&s);
    CHECK_BYTES(wire.data, wire.len, "1 NOOP\r\n2 CHECK\r\n");
    CHECK_INT(feed_str(&s, "2 ok done\r\n1 NO\r\n"), 0);
    CHECK_STR(log_text(), "b|OK|-1|4|done\na|NO|-1|0|\n");
    CHECK_INT(imc_session_inflight(&s), 0);
    /* A second completion for a finished tag is a protocol error. */
    CHECK_INT(feed_str(&s, "1 OK again\r\n"), -1);
    CHECK(strstr(s.error, "not in flight") != NULL);
    imc_session_free(&s);
}

static void reply_before_command_sent_is_refused(void)
{
    struct imc_session s;
    setup(&s);
    send_(&s, "a", "STARTTLS");
    /* Nothing written yet: an "OK" for tag 1 cannot be a reply to it. */
    CHECK_INT(feed_str(&s, "1 OK begin TLS now\r\n"), -1);
    CHECK_STR(log_text(), "a|EOF|-1|0|\n");
    imc_session_free(&s);
}

static void unknown_tag_fails_everything_once(void)
{
    struct imc_session s;
    setup(&s);
    send_(&s, "a", "NOOP");
    send_(&s, "b", "NOOP");
    drain(&s);
    CHECK_INT(feed_str(&s, "9 OK x\r\n"), -1);
    CHECK_STR(log_text(), "a|EOF|-1|0|\nb|EOF|-1|0|\n");
    CHECK_INT(feed_str(&s, "1 OK x\r\n"), -1);
    send_(&s, "c", "NOOP");
    CHECK_STR(log_text(), "a|EOF|-1|0|\nb|EOF|-1|0|\nc|EOF|-1|0|\n");
    imc_session_free(&s);
}

static void synchronizing_literal_waits(void)
{
    struct imc_session s;
    setup(&s);
    send_(&s, "a", "LOGIN %s %s", "alice", "pw\"\r\n");
    send_(&s, "b", "NOOP");
    drain(&s);
    CHECK_BYTES(wire.data, wire.len, "1 LOGIN alice {5}\r\n");
    CHECK_INT(feed_str(&s, "+ go\r\n"), 0);
    drain(&s);
    CHECK_BYTES(wire.data, wire.len, "1 LOGIN alice {5}\r\npw\"\r\n\r\n2 NOOP\r\n");
    CHECK_STR(log_text(), "");
    imc_session_free(&s);
}

static void tagged_reply_instead_of_continuation(void)
{
    struct imc_session s;
    setup(&s);
    send_(&s, "a", "APPEND INBOX %s %s", "x\r\n", "y\r\n");
    send_(&s, "b", "NOOP");
    drain(&s);
    CHECK_BYTES(wire.data, wire.len, "1 APPEND INBOX {3}\r\n");
    CHECK_INT(feed_str(&s, "1 NO [TOOBIG] no\r\n"), 0);
    CHECK_STR(log_text(), "a|NO|-1|11|[TOOBIG] no\n");
    drain(&s);
    CHECK_BYTES(wire.data, wire.len, "1 APPEND INBOX {3}\r\n2 NOOP\r\n");
    CHECK_INT(feed_str(&s, "2 OK\r\n"), 0);
    CHECK_STR(log_text(), "a|NO|-1|11|[TOOBIG] no\nb|OK|-1|0|\n");
    imc_session_free(&s);
}

static void nonsync_literal_does_not_wait(void)
{
    struct imc_session s;
    setup(&s);
    s.flags |= IMCLIENT_CONN_NONSYNCLITERAL;
    send_(&s, "a", "LOGIN %s %s", "alice", "p\nw");
    drain(&s);
    CHECK_BYTES(wire.data, wire.len, "1 LOGIN alice {3+}\r\np\nw\r\n");
    imc_session_free(&s);
}

/* The greeting's [CAPABILITY] code picks the literal form; LOGIN, STARTTLS
 * and AUTHENTICATE forget it as they are queued; a tagged OK's code and a
 * CAPABILITY reply teach it again; the application's own flag wins. */
static void literal_form_follows_capabilities(void)
{
    struct imc_session s;
    setup(&s);
    CHECK_INT(feed_str(&s, "* OK [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n"), 0);
    send_(&s, "a", "X %s", "p\nw");
    send_(&s, "b", "LOGIN %s %s", "u", "p\nw");
    send_(&s, "c", "X %s", "p\nw");
    drain(&s);
    CHECK_BYTES(wire.data, wire.len, "1 X {3+}\r\np\nw\r\n2 LOGIN u {3+}\r\np\nw\r\n3 X {3}\r\n");
    CHECK_INT(feed_str(&s, "1 OK\r\n2 OK [CAPABILITY IMAP4rev1 LITERAL-] in\r\n+ go\r\n"), 0);
    CHECK_INT(imc_caps_has(&s.caps, "LITERAL-", 8), 1);
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[0] = '\n';
    big[sizeof big - 1] = '\0';
    send_(&s, "d", "X %s %s", "p\nw", big);
    imc_buf_free(&wire);
    drain(&s);
    CHECK_BYTES(wire.data, 20, "p\nw\r\n4 X {3+}\r\np\nw {");
    CHECK(memcmp(wire.data + 20, "4999}\r\n", 7) == 0 && wire.len == 27);
    CHECK_INT(feed_str(&s, "3 OK\r\n+\r\n4 OK\r\n* CAPABILITY IMAP4rev1\r\n"), 0);
    CHECK_INT(imc_caps_has(&s.caps, "LITERAL-", 8), 0);
    /* The application's choice wins over the list either way. */
    s.chosen = s.flags = IMCLIENT_CONN_NONSYNCLITERAL;
    CHECK_INT(imc_session_literal_caps(&s), IMC_LIT_PLUS);
    CHECK_INT(feed_str(&s, "* CAPABILITY LITERAL+\r\n"), 0);
    s.flags = 0;
    CHECK_INT(imc_session_literal_caps(&s), 0);
    s.chosen = 0;
    CHECK_INT(imc_session_literal_caps(&s), IMC_LIT_PLUS);
    /* A NO's code and an untagged BAD's are not the server's word. */
    send_(&s, "e", "STARTTLS");
    drain(&s);
    CHECK_INT(imc_caps_has(&s.caps, "LITERAL+", 8), -1);
    CHECK_INT(feed_str(&s, "* BAD [CAPABILITY LITERAL+] x\r\n5 NO [CAPABILITY LITERAL+] no\r\n"), 0);
    CHECK_INT(imc_session_literal_caps(&s), 0);
    imc_session_free(&s);
}

/* Untagged CAPABILITY replies before one tagged reply make one list; the
 * next command's replace it. */
static void capability_replies_merge_until_tagged(void)
{
    struct imc_session s;
    setup(&s);
    send_(&s, "a", "CAPABILITY");
    drain(&s);
    CHECK_INT(feed_str(&s, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n* CAPABILITY LITERAL+\r\n"), 0);
    CHECK_INT(imc_caps_has(&s.caps, "AUTH=PLAIN", 10), 1);
    CHECK_INT(imc_caps_has(&s.caps, "LITERAL+", 8), 1);
    CHECK_INT(feed_str(&s, "1 OK\r\n* CAPABILITY IMAP4rev1\r\n"), 0);
    CHECK_INT(imc_caps_has(&s.caps, "AUTH=PLAIN", 10), 0);
    CHECK_INT(imc_session_literal_caps(&s), 0);
    imc_session_free(&s);
}

/* UTF-8 goes quoted only after the server's ENABLED, and stays so. */
static void utf8_after_enabled(void)
{
    struct imc_session s;
    setup(&s);
    CHECK_INT(feed_str(&s, "* OK [CAPABILITY IMAP4rev1 UTF8=ACCEPT] hi\r\n"), 0);
    send_(&s, "a", "ENABLE UTF8=ACCEPT");
    send_(&s, "b", "SELECT %s", "Entw\xc3\xbcrfe");
    drain(&s);
    CHECK_BYTES(wire.data, wire.len, "1 ENABLE UTF8=ACCEPT\r\n2 SELECT {9}\r\n");
    CHECK_INT(feed_str(&s, "* ENABLED UTF8=ACCEPT\r\n1 OK\r\n"), 0);
    send_(&s, "c", "SELECT %s", "Entw\xc3\xbcrfe");
    CHECK_INT(feed_str(&s, "+\r\n"), 0);
    imc_buf_free(&wire);
    drain(&s);
    CHECK_BYTES(wire.data, wire.len, "Entw\xc3\xbcrfe\r\n3 SELECT \"Entw\xc3\xbcrfe\"\r\n");
    imc_session_free(&s);
}

/* A large collected literal read in place gives the callback the same
 * text as the same bytes fed; spots are offered only for such literals. */
static void literal_read_in_place(void)
{
    struct imc_session s;
    setup(&s);
    imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, record, "f");
    size_t cap = 0;
    CHECK(imc_session_read_spot(&s, &cap) == NULL); /* between responses */
    const size_t size = 100000;
    char head[64];
    snprintf(head, sizeof head, "* 1 FETCH (BODY[] {%zu}\r\n", size);
    CHECK_INT(feed_str(&s, head), 0);
    size_t got = 0;
    while (got < size) {
        char *spot = imc_session_read_spot(&s, &cap);
        if (size - got < 16 * 1024) {
            CHECK(spot == NULL); /* the tail is too small to be worth it */
            break;
        }
        CHECK(spot != NULL && cap == (size - got < 65536 ? size - got : 65536));
        size_t n = cap < 7000 ? cap : 7000;
        for (size_t i = 0; i < n; i++)
            spot[i] = (char)('a' + (got + i) % 26);
        CHECK_INT(imc_session_feed_in_place(&s, n), 0);
        got += n;
    }
    char *tail = malloc(size - got + 32);
    size_t t = 0;
    for (; got < size; got++)
        tail[t++] = (char)('a' + got % 26);
    memcpy(tail + t, " UID 7)\r\n", 10);
    CHECK_INT(imc_session_feed(&s, tail, t + 10), 0);
    free(tail);
    CHECK(imc_session_read_spot(&s, &cap) == NULL);
    const char *log = log_text();
    size_t want_len = strlen(head) - strlen("* 1 FETCH ") + size + strlen(" UID 7)");
    char prefix[64];
    snprintf(prefix, sizeof prefix, "f|FETCH|1|%zu|(BODY[] {%zu}\r\n", want_len, size);
    CHECK(strncmp(log, prefix, strlen(prefix)) == 0);
    const char *body = log + strlen(prefix);
    int same = 1;
    for (size_t i = 0; i < size; i++)
        same &= body[i] == (char)('a' + i % 26);
    CHECK(same);
    CHECK(strcmp(body + size, " UID 7)\n") == 0);
    imc_session_free(&s);
}

/* No spot for a literal that is streamed, skipped, or over the limit. */
static void no_spot_unless_collected(void)
{
    struct imc_session s;
    setup(&s);
    size_t cap;
    CHECK_INT(feed_str(&s, "* 1 FETCH (BODY[] {100000}\r\n"), 0); /* nobody listens */
    CHECK(imc_session_read_spot(&s, &cap) == NULL);
    imc_session_free(&s);

    setup(&s);
    imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, record, "f");
    struct imclient_limits l = { 0 };
    l.max_reply = 50000;
    imc_session_setlimits(&s, &l);
    CHECK_INT(feed_str(&s, "* 1 FETCH (BODY[] {100000}\r\n"), 0);
    CHECK(imc_session_read_spot(&s, &cap) == NULL);
    imc_session_free(&s);
}

static void unsolicited_continuation(void)
{
    struct imc_session s;
    setup(&s);
    imc_callbacks_set(&s.callbacks, "", 0, record, "default");
    CHECK_INT(feed_str(&s, "+ idling\r\n"), 0);
    CHECK_STR(log_text(), "");
    imc_callbacks_set(&s.callbacks, "+", 0, record, "plus");
    CHECK_INT(feed_str(&s, "+ idling\r\n+\r\n"), 0);
    CHECK_STR(log_text(), "plus|+|-1|6|idling\nplus|+|-1|0|\n");
    imc_session_free(&s);
}

static void refused_command_reports_bad(void)
{
    struct imc_session s;
    setup(&s);
    send_(&s, "a", "SELECT %a", "INBOX\r\n2 DELETE x");
    drain(&s);
    CHECK_INT(wire.len, 0);
    CHECK(strncmp(log_text(), "a|BAD|-1|", 9) == 0);
    CHECK(strstr(log_text(), "[CLIENTBUG]") != NULL);
    CHECK_INT(imc_session_inflight(&s), 0);
    CHECK(!s.failed);
    imc_session_free(&s);
}

static void reply_limit(void)
{
    struct imc_session s;
    setup(&s);
    struct imclient_limits l = { 0, 0, 64, 0, 0 };
    imc_session_setlimits(&s, &l);
    imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, record, "f");
    send_(&s, "a", "FETCH 1 BODY[]");
    drain(&s);
    const char in[] = "* 1 FETCH (BODY[] {100}\r\n";
    CHECK_INT(imc_session_feed(&s, in, sizeof in - 1), 0);
    char body[100];
    memset(body, 'x', sizeof body);
    CHECK_INT(imc_session_feed(&s, body, sizeof body), -1);
    CHECK(strstr(s.error, "reply larger than the limit") != NULL);
    CHECK_STR(log_text(), "a|EOF|-1|0|\n");
    imc_session_free(&s);
}

static void unwatched_replies_are_not_buffered(void)
{
    struct imc_session s;
    setup(&s);
    struct imclient_limits l = { 0, 0, 64, 0, 0 };
    imc_session_setlimits(&s, &l);
    const char in[] = "* 1 FETCH (BODY[] {100}\r\n";
    CHECK_INT(imc_session_feed(&s, in, sizeof in - 1), 0);
    char body[100];
    memset(body, 'x', sizeof body);
    CHECK_INT(imc_session_feed(&s, body, sizeof body), 0);
    CHECK_INT(feed_str(&s, ")\r\n"), 0);
    CHECK_INT(s.reply.cap, 0);
    imc_session_free(&s);
}

/* One script, every split: the callbacks must see the same thing.  The
 * server answers the command only after its literal went out, so the
 * script comes in two parts with a write between them. */
static const char script[] =
    "* OK [CAPABILITY IMAP4rev1] ready\r\n"
    "* 2 EXISTS\n"
    "* 1 FETCH (BODY[] {7}\r\n1 OK x\n)\r\n"
    "* 2 FETCH (BODY[HEADER] {0}\r\n BODY[TEXT] {3}\r\n\r\n\r)\r\n"
    "+ ready\r\n";
static const char script2[] =
    "1 OK LOGIN done\r\n"
    "* CAPABILITY A {2}\r\nzz\r\n"
    "2 BAD\r\n";

/* Each split of a script, fed by run(step), must log what the whole did. */
static void same_at_every_split(char *(*run)(size_t step), const char *whole, size_t len)
{
    for (size_t step = 1; step < len; step++) {
        char *got = run(step);
        int same = strcmp(got, whole) == 0;
        if (!same)
            fprintf(stderr, "step %zu:\n%s\n", step, got);
        free(got);
        CHECK(same);
    }
}

static char *run_script(size_t step)
{
    struct imc_session s;
    setup(&s);
    imc_callbacks_set(&s.callbacks, "", 0, record, "d");
    imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, record, "f");
    imc_callbacks_set(&s.callbacks, "CAPABILITY", CALLBACK_NOLITERAL, record, "c");
    send_(&s, "t1", "LOGIN %s %s", "me", "p\r\nw");
    send_(&s, "t2", "NOOP");
    drain(&s);
    feed_split(&s, script, step);
    drain(&s);
    feed_split(&s, script2, step);
    imc_buf_appendstr(&logbuf, "wire:");
    imc_buf_append(&logbuf, wire.data, wire.len);
    char *out = strdup(log_text());
    imc_session_free(&s);
    return out;
}

static void any_split_same_result(void)
{
    char *whole = run_script(sizeof script);
    CHECK_STR(whole,
              "d|OK|-1|28|[CAPABILITY IMAP4rev1] ready\n"
              "d|EXISTS|2|0|\n"
              "f|FETCH|1|21|(BODY[] {7}\r\n1 OK x\n)\n"
              "f|FETCH|2|40|(BODY[HEADER] {0}\r\n BODY[TEXT] {3}\r\n\r\n\r)\n"
              "t1|OK|-1|10|LOGIN done\n"
              "c|CAPABILITY|-1|5|A {2}\n"
              "t2|BAD|-1|0|\n"
              "wire:1 LOGIN me {4}\r\np\r\nw\r\n2 NOOP\r\n");
    same_at_every_split(run_script, whole, sizeof script);
    free(whole);
}

/* Whole one-line untagged replies take a shorter path than split ones:
 * both must deliver the same, including at the edges of the short path
 * (a keyword ending the line, a long or lower-case keyword, LF alone, a
 * line ending in "}", a literal, capabilities learnt, a reply nobody
 * takes, a line at the length limit and one past it). */
static const char small_script[] =
    "* 1 FETCH (UID 1)\r\n"
    "* 12345678 fetch (UID 2)\r\n"
    "* 123456789 FETCH (UID 3)\n"
    "* 4 EXISTS\r\n"
    "* XSTREAM 0123456789012345678901234567890123456789\r\n"
    "* CAPABILITY IMAP4rev1 LITERAL+\r\n"
    "* XLONGKEYWORD x\r\n"
    "* XLONGKEYWORX y\r\n"
    "* OK text {5}\r\n"
    "* 5 FETCH (BODY[] {2}\r\nab)\r\n"
    "* 6 FLAGS nobody\r\n"
    "* SEARCH 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24\r\n"
    "* 7 FETCH (UID 7)\r\n"
    "* 8 FETCH (UID 8 FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)))\r\n";

static void ignore_pieces(struct imclient *c, void *rock, const struct imclient_literal *p)
{
    (void)c;
    (void)rock;
    (void)p;
}

static char *run_small_limits(size_t step, size_t max_line, size_t max_reply)
{
    struct imc_session s;
    setup(&s);
    struct imclient_limits l = { 0 };
    l.max_line = max_line;
    l.max_reply = max_reply;
    imc_session_setlimits(&s, &l);
    /* Listening with a literal streamer alone: the line is still held to
     * max_reply. */
    imc_callbacks_setliteral(&s.callbacks, "XSTREAM", 0, ignore_pieces, NULL);
    imc_callbacks_set(&s.callbacks, "", 0, record, "d");
    imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, record, "f");
    imc_callbacks_set(&s.callbacks, "XLONGKEYWORX", 0, record, "x");
    imc_callbacks_set(&s.callbacks, "FLAGS", CALLBACK_NUMBERED, NULL, NULL);
    feed_split(&s, small_script, step);
    logf_("caps:%u failed:%d %s", s.caps.bits & IMC_CAP_LITERALPLUS, s.failed, s.error);
    char *out = strdup(log_text());
    imc_session_free(&s);
    return out;
}

static char *run_small(size_t step, size_t max_line)
{
    return run_small_limits(step, max_line, 0);
}

static char *run_small_reply_limited(size_t step)
{
    return run_small_limits(step, 1u << 20, 40);
}

static char *run_small_unlimited(size_t step)
{
    return run_small(step, 1u << 20);
}

static char *run_small_limited(size_t step)
{
    return run_small(step, 70);
}

static void small_replies_any_split(void)
{
    char *whole = run_small_unlimited(sizeof small_script);
    CHECK_STR(whole,
              "f|FETCH|1|7|(UID 1)\n"
              "f|FETCH|12345678|7|(UID 2)\n"
              "f|FETCH|123456789|7|(UID 3)\n"
              "d|EXISTS|4|0|\n"
              "d|CAPABILITY|-1|18|IMAP4rev1 LITERAL+\n"
              "d|XLONGKEYWORD|-1|1|x\n"
              "x|XLONGKEYWORX|-1|1|y\n"
              "d|OK|-1|8|text {5}\n"
              "f|FETCH|5|16|(BODY[] {2}\r\nab)\n"
              "d|SEARCH|-1|62|1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24\n"
              "f|FETCH|7|7|(UID 7)\n"
              "f|FETCH|8|57|(UID 8 FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)))\n"
              "caps:1 failed:0 ");
    same_at_every_split(run_small_unlimited, whole, sizeof small_script);
    free(whole);
    /* The longest line ("* SEARCH ...") is 71 bytes: at a limit of 71 all
     * pass; at 70 it is refused, the same way whole or split. */
    char *at = run_small(sizeof small_script, 71);
    CHECK(strstr(at, "failed:0") != NULL);
    free(at);
    char *past = run_small_limited(sizeof small_script);
    CHECK(strstr(past, "failed:1 protocol error: line longer than the limit") != NULL);
    same_at_every_split(run_small_limited, past, 80);
    free(past);
    /* The XSTREAM line, the first over 40 bytes, is refused whole or split,
     * though only a literal streamer listens to it. */
    char *big = run_small_reply_limited(sizeof small_script);
    CHECK(strstr(big, "d|EXISTS|4|0|\ncaps:0 failed:1 reply larger than the limit of 40 "
                      "bytes") != NULL);
    same_at_every_split(run_small_reply_limited, big, sizeof small_script);
    free(big);
}

static void pause_after_tag_leaves_rest_unread(void)
{
    struct imc_session s;
    setup(&s);
    imc_callbacks_set(&s.callbacks, "", 0, record, "d");
    send_(&s, "a", "STARTTLS");
    imc_session_pause_after(&s, imc_session_last_tag(&s));
    drain(&s);
    const char in[] = "* OK x\r\n1 OK begin\r\n* CAPABILITY IMAP4rev1\r\n";
    CHECK_INT(imc_session_feed(&s, in, sizeof in - 1), 0);
    CHECK(s.paused);
    CHECK_INT(s.leftover, 24);
    CHECK_STR(log_text(), "d|OK|-1|1|x\na|OK|-1|5|begin\n");
    CHECK(imc_session_at_boundary(&s));
    CHECK_INT(feed_str(&s, "* X\r\n"), 0);
    CHECK_INT(s.leftover, 5);
    imc_session_resume(&s);
    CHECK_INT(feed_str(&s, "* X\r\n"), 0);
    CHECK_STR(log_text(), "d|OK|-1|1|x\na|OK|-1|5|begin\nd|X|-1|0|\n");
    imc_session_free(&s);
}

/* IMAP case rules are ASCII: under a Turkish locale "exists" must still
 * match "EXISTS", and "nil" must still be quoted. */
static void keywords_ignore_the_locale(void)
{
    if (!setlocale(LC_CTYPE, "tr_TR.UTF-8")) {
        check_fail(__FILE__, __LINE__, "tr_TR.UTF-8 locale missing (scripts/install-deps.sh makes it)");
        return;
    }
    struct imc_session s;
    setup(&s);
    imc_callbacks_set(&s.callbacks, "exists", CALLBACK_NUMBERED, record, "e");
    imc_callbacks_set(&s.callbacks, "LIST", 0, record, "l");
    CHECK_INT(feed_str(&s, "* 3 EXISTS\r\n* list () \"/\" x\r\n"), 0);
    send_(&s, "a", "SELECT %s", "nil");
    drain(&s);
    setlocale(LC_CTYPE, "C");
    CHECK_STR(log_text(), "e|EXISTS|3|0|\nl|LIST|-1|8|() \"/\" x\n");
    CHECK_BYTES(wire.data, wire.len, "1 SELECT \"nil\"\r\n");
    imc_session_free(&s);
}

/* Streamed literals: pieces in order with their offsets and the reply so
 * far; the reply callback then gets the text without the literal's bytes;
 * the reply buffer never holds the literal. */
static struct imc_buf streamed;
static void stream(struct imclient *c, void *rock, const struct imclient_literal *p)
{
    (void)c;
    (void)rock;
    char head[160];
    if (p->offset == 0) {
        snprintf(head, sizeof head, "[%ld %llu ", p->msgno, p->size);
        imc_buf_appendstr(&streamed, head);
        imc_buf_append(&streamed, p->before, p->beforelen);
        imc_buf_appendstr(&streamed, "]");
    }
    imc_buf_append(&streamed, p->data, p->len);
    if (p->offset + p->len == p->size)
        imc_buf_appendstr(&streamed, "|");
}

static char *run_stream(size_t step)
{
    struct imc_session s;
    setup(&s);
    imc_buf_free(&streamed);
    struct imclient_limits l = { 0, 0, 64, 0, 0 };
    imc_session_setlimits(&s, &l);
    imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, record, "f");
    imc_callbacks_setliteral(&s.callbacks, "FETCH", CALLBACK_NUMBERED, stream, NULL);
    static char in[400];
    char body[200];
    memset(body, 'b', sizeof body);
    size_t n = (size_t)snprintf(in, sizeof in, "* 7 FETCH (BODY[1] {200}\r\n%.200s BODY[2] {0}\r\n"
                                               " BODY[3] {3}\r\nx\r\n)\r\n* 8 FETCH (UID 1)\r\n", body);
    for (size_t off = 0; off < n; off += step)
        imc_session_feed(&s, in + off, n - off < step ? n - off : step);
    imc_buf_appendstr(&logbuf, "streamed:");
    imc_buf_append(&logbuf, streamed.data, streamed.len);
    imc_buf_appendstr(&logbuf, s.failed ? " failed" : "");
    if (s.reply.cap > 256)
        imc_buf_appendstr(&logbuf, " reply buffer grew");
    char *out = strdup(log_text());
    imc_session_free(&s);
    return out;
}

static void streamed_literals(void)
{
    char body[201];
    memset(body, 'b', 200);
    body[200] = '\0';
    char want[1024];
    snprintf(want, sizeof want,
             "f|FETCH|7|45|(BODY[1] {200}\r\n BODY[2] {0}\r\n BODY[3] {3}\r\n)\n"
             "f|FETCH|8|7|(UID 1)\n"
             "streamed:[7 200 (BODY[1] {200}\r\n]%s|[7 0 (BODY[1] {200}\r\n BODY[2] {0}\r\n]|"
             "[7 3 (BODY[1] {200}\r\n BODY[2] {0}\r\n BODY[3] {3}\r\n]x\r\n|",
             body);
    for (size_t step = 1; step < 300; step += 7) {
        char *got = run_stream(step);
        int same = strcmp(got, want) == 0;
        if (!same)
            fprintf(stderr, "step %zu:\n%s\nwant:\n%s\n", step, got, want);
        free(got);
        CHECK(same);
    }
    imc_buf_free(&streamed);
}

/* ---- the continuation hook AUTHENTICATE relies on ------------------------ */

static int refuse_with_reason(void *rock, const char *text, size_t len)
{
    struct imc_session *s = rock;
    (void)text;
    (void)len;
    imc_session_explain(s, "my reason");
    return -1;
}

/* A hook that sets s->error and returns -1, as session.h documents, keeps
 * its reason: dispatch_continuation() in core/session.c once failed the
 * session with imc_session_fail(s, "%s", s->error), which formats the
 * buffer into itself (overlapping vsnprintf; glibc leaves ""). */
static void continuation_hook_reason_kept(void)
{
    struct imc_session s;
    imc_session_init(&s, NULL);
    imc_session_set_continuation(&s, refuse_with_reason, &s);
    CHECK_INT(imc_session_sendf(&s, NULL, NULL, "AUTHENTICATE X"), 0);
    size_t len;
    imc_session_output(&s, &len);
    imc_session_written(&s, len);
    imc_session_feed(&s, "+ x\r\n", 5);
    CHECK(s.failed);
    CHECK_STR(s.error, "my reason");
    imc_session_free(&s);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(untagged_routing), TEST(literal_inline_with_length),
        TEST(noliteral_gets_first_line_only), TEST(tagged_completion_once),
        TEST(reply_before_command_sent_is_refused), TEST(unknown_tag_fails_everything_once),
        TEST(synchronizing_literal_waits), TEST(tagged_reply_instead_of_continuation),
        TEST(nonsync_literal_does_not_wait), TEST(unsolicited_continuation),
        TEST(literal_form_follows_capabilities), TEST(utf8_after_enabled),
        TEST(literal_read_in_place), TEST(no_spot_unless_collected),
        TEST(capability_replies_merge_until_tagged),
        TEST(refused_command_reports_bad), TEST(reply_limit),
        TEST(unwatched_replies_are_not_buffered), TEST(any_split_same_result), TEST(small_replies_any_split),
        TEST(pause_after_tag_leaves_rest_unread), TEST(keywords_ignore_the_locale),
        TEST(streamed_literals), TEST(continuation_hook_reason_kept),
    };
    int r = check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
    imc_buf_free(&logbuf);
    imc_buf_free(&wire);
    return r;
}
