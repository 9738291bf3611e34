/*
 * Hostile and broken servers against the sans-I/O session: replies the
 * parser must survive, resources a server tries to exhaust, the core's
 * share of what happens around STARTTLS and a SASL layer, and the bytes
 * that go out.
 *
 * Most cases are scenarios: server bytes fed to a session with commands in
 * flight, described as a transcript of callbacks, the session's state and a
 * follow-up command that shows whether the connection is still usable.  The
 * transcript must be the same whether the bytes arrive in one piece, one
 * byte at a time, in pieces of every size up to 40, or cut in two at every
 * position, since a server (or an attacker) picks the segment boundaries.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "core/encoder.h"
#include "core/session.h"

/* ---- recording -------------------------------------------------------- */

static struct imc_buf logbuf;
static int bad_reply; /* a callback got a reply that broke the page's promises */

static void logs(const char *s)
{
    imc_buf_appendstr(&logbuf, s);
}

/* Text goes into the log escaped, so NUL, CR, LF and 8-bit bytes are visible
 * in expectations, and every byte up to textlen shows. */
static void log_escaped(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        char tmp[8];
        if (c == '\r')
            logs("\\r");
        else if (c == '\n')
            logs("\\n");
        else if (c == '\0')
            logs("\\0");
        else if (c < ' ' || c >= 0x7f) {
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
            logs(tmp);
        } else
            imc_buf_appendc(&logbuf, (char)c);
    }
}

/* Logs "rock|KEYWORD|msgno|text" and checks the reply is well formed. */
static void record(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    char head[96];
    snprintf(head, sizeof head, "%s|%s|%ld|", (const char *)rock, r->keyword, r->msgno);
    logs(head);
    log_escaped(r->text, r->textlen);
    imc_buf_appendc(&logbuf, '\n');
    if (r->text[r->textlen] != '\0')
        bad_reply = 1;
    for (const char *k = r->keyword; *k; k++)
        if (*k >= 'a' && *k <= 'z')
            bad_reply = 1;
    /* The page lets a callback write into what it is given. */
    if (r->textlen)
        r->text[0] ^= 1;
    r->keyword[0] ^= 1;
}

static void send_(struct imc_session *s, const char *rock, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    imc_session_send(s, record, (void *)rock, fmt, ap);
    va_end(ap);
}

/* Take everything writable, as a transport that never blocks would. */
static void drain(struct imc_session *s, struct imc_buf *wire)
{
    size_t len;
    const char *p = imc_session_output(s, &len);
    imc_buf_append(wire, p, len);
    imc_session_written(s, len);
}

/* ---- scenarios ---------------------------------------------------------- */

struct scen {
    const char *in;
    size_t len;
    int ncmds;       /* NOOPs c1..cN sent and written before the input */
    int unsent;      /* NOOPs q1..qN queued behind them, never written */
    struct imclient_limits limits; /* zero fields: defaults */
    int quiet;       /* no callbacks installed at all */
    int no_after;    /* input ends mid-response: skip the follow-up */
};
#define IN(s) (s), sizeof(s) - 1

static const char *const crock[] = { "c1", "c2", "c3", "c4" };
static const char *const qrock[] = { "q1", "q2" };

static void setup(struct imc_session *s, const struct scen *sc)
{
    imc_buf_free(&logbuf);
    bad_reply = 0;
    imc_session_init(s, NULL);
    imc_session_setlimits(s, &sc->limits);
    if (!sc->quiet)
        imc_callbacks_set(&s->callbacks, "", 0, record, "u");
}

/* The cases that drive a session by hand: default limits, the catch-all
 * callback, and an empty wire for drain() unless wire is NULL. */
static void setup_default(struct imc_session *s, struct imc_buf *wire)
{
    static const struct scen defaults = { 0 };
    if (wire)
        imc_buf_init(wire);
    setup(s, &defaults);
}

static void teardown(struct imc_session *s, struct imc_buf *wire)
{
    if (wire)
        imc_buf_free(wire);
    imc_session_free(s);
}

/* After the input: the state, then a NOOP.  On a healthy session the NOOP
 * goes out alone and completes; on a failed one it gets EOF at once. */
static void follow_up(struct imc_session *s, const struct scen *sc)
{
    char line[400];
    snprintf(line, sizeof line, "=%s%s inflight=%zu\n", s->failed ? "fail " : "ok",
             s->failed ? s->error : "", imc_session_inflight(s));
    logs(line);
    if (sc->no_after)
        return;
    struct imc_buf wire;
    imc_buf_init(&wire);
    send_(s, s->failed ? "late" : "next", "NOOP");
    drain(s, &wire);
    logs("wire:");
    log_escaped(wire.data, wire.len);
    imc_buf_appendc(&logbuf, '\n');
    imc_buf_free(&wire);
    if (!s->failed) {
        snprintf(line, sizeof line, "%llu OK\r\n",
                 (unsigned long long)imc_session_last_tag(s));
        imc_session_feed(s, line, strlen(line));
    }
}

/* Feed sc->in cut at the given positions (ascending, within the input). */
static char *play(const struct scen *sc, size_t step, size_t cut, size_t *outlen)
{
    struct imc_session s;
    struct imc_buf wire;
    imc_buf_init(&wire);
    setup(&s, sc);
    for (int i = 0; i < sc->ncmds; i++)
        send_(&s, crock[i], "NOOP");
    drain(&s, &wire);
    for (int i = 0; i < sc->unsent; i++)
        send_(&s, qrock[i], "NOOP");
    imc_buf_free(&wire);

    if (cut) {
        imc_session_feed(&s, sc->in, cut);
        imc_session_feed(&s, sc->in + cut, sc->len - cut);
    } else {
        for (size_t off = 0; off < sc->len; off += step)
            imc_session_feed(&s, sc->in + off, sc->len - off < step ? sc->len - off : step);
    }
    follow_up(&s, sc);
    if (bad_reply)
        logs("!malformed reply\n");
    imc_session_free(&s);
    char *out = malloc(logbuf.len + 1);
    memcpy(out, logbuf.data ? logbuf.data : "", logbuf.len);
    *outlen = logbuf.len;
    return out;
}

static int same_everywhere(const char *file, int line, const struct scen *sc,
                           const char *want, size_t wantlen)
{
    size_t n;
    char *got = play(sc, sc->len ? sc->len : 1, 0, &n);
    int ok = check_mem_equal(file, line, "whole", got, n, want, wantlen);
    free(got);
    for (size_t step = 1; ok && step <= 40 && step < sc->len; step++) {
        got = play(sc, step, 0, &n);
        ok = check_mem_equal(file, line, "in pieces", got, n, want, wantlen);
        if (!ok)
            fprintf(stderr, "  (pieces of %zu bytes)\n", step);
        free(got);
    }
    for (size_t cut = 1; ok && cut < sc->len && sc->len <= 2000; cut++) {
        got = play(sc, 0, cut, &n);
        ok = check_mem_equal(file, line, "cut in two", got, n, want, wantlen);
        if (!ok)
            fprintf(stderr, "  (cut at %zu)\n", cut);
        free(got);
    }
    return ok;
}

#define EXPECT(sc, want)                                                            \
    do {                                                                            \
        if (!same_everywhere(__FILE__, __LINE__, (sc), (want), sizeof(want) - 1)) \
            return;                                                                 \
    } while (0)

/* Follow-ups that recur: the session is fine and the next NOOP (tag n)
 * completes; or it failed and the NOOP got EOF without touching the wire. */
#define NEXT_OK(n) "wire:" #n " NOOP\\r\\n\nnext|OK|-1|\n"
#define LATE_EOF "late|EOF|-1|\nwire:\n"

/* ---- parser robustness ------------------------------------------------- */

/* A status without text completes with empty text. */
static void completion_without_text(void)
{
    EXPECT(&((struct scen){ IN("1 NO\r\n"), .ncmds = 1 }),
           "c1|NO|-1|\n=ok inflight=0\n" NEXT_OK(2));
    EXPECT(&((struct scen){ IN("1 NO \r\n"), .ncmds = 1 }),
           "c1|NO|-1|\n=ok inflight=0\n" NEXT_OK(2));
    EXPECT(&((struct scen){ IN("1 OK\r\n2 BAD\n3 no \n4 Ok  \r\n"), .ncmds = 4 }),
           "c1|OK|-1|\nc2|BAD|-1|\nc3|NO|-1|\nc4|OK|-1| \n=ok inflight=0\n" NEXT_OK(5));
    /* In any order. */
    EXPECT(&((struct scen){ IN("3 BAD\r\n1 NO\r\n2 OK\r\n"), .ncmds = 3 }),
           "c3|BAD|-1|\nc1|NO|-1|\nc2|OK|-1|\n=ok inflight=0\n" NEXT_OK(4));
}

/* STATUS with broken contents is not the library's to judge: it is
 * delivered as sent and nothing else happens. */
static void status_malformed(void)
{
    EXPECT(&((struct scen){ IN("* STATUS \"RUU\" ()\r\n"
                               "* STATUS INBOX (MESSAGES)\r\n"
                               "* STATUS\r\n"
                               "* STATUS INBOX (MESSAGES 1\r\n"
                               "* STATUS INBOX (MESSAGES 1))))\r\n"
                               "* STATUS \"INBOX (MESSAGES 2)\r\n"
                               "1 OK\r\n"), .ncmds = 1 }),
           "u|STATUS|-1|\"RUU\" ()\n"
           "u|STATUS|-1|INBOX (MESSAGES)\n"
           "u|STATUS|-1|\n"
           "u|STATUS|-1|INBOX (MESSAGES 1\n"
           "u|STATUS|-1|INBOX (MESSAGES 1))))\n"
           "u|STATUS|-1|\"INBOX (MESSAGES 2)\n"
           "c1|OK|-1|\n=ok inflight=0\n" NEXT_OK(2));
}

/* The one command in flight ended by a literal the default limit refuses. */
#define C1_LITERAL_REFUSED                                                         \
    "c1|EOF|-1|\n"                                                                 \
    "=fail protocol error: literal larger than the limit of 67108864 bytes inflight=0\n" \
    LATE_EOF

/* A literal size beyond the limit or beyond 64 bits ends the connection
 * at its header; the bytes after it are never read as replies,
 * and an overflow is not taken for a small number. */
/* Data has no free text: a line of it ending in "{...}" that is no literal
 * size leaves the client unable to know where the server's data ends, so
 * the connection fails and every command in flight gets EOF.  A status
 * response's text stays text. */
#define C1_C2_MALFORMED                                                               \
    "c1|EOF|-1|\nc2|EOF|-1|\n=fail protocol error: the line ends in \"{...}\" that is " \
    "not a literal's size inflight=0\n" LATE_EOF

static void malformed_literal_header_in_data(void)
{
    EXPECT(&((struct scen){ IN("* 1 FETCH (BODY[] {12a}\r\n1 OK\r\n"), .ncmds = 2 }),
           C1_C2_MALFORMED);
    EXPECT(&((struct scen){ IN("* 1 FETCH (BODY[] {}\r\n1 OK\r\n"), .ncmds = 2 }),
           C1_C2_MALFORMED);
    EXPECT(&((struct scen){ IN("* LIST () \"/\" {foo}\r\n1 OK\r\n"), .ncmds = 2 }),
           C1_C2_MALFORMED);
    EXPECT(&((struct scen){ IN("* 1 FETCH (BINARY[1] ~{x}\r\n1 OK\r\n"), .ncmds = 2 }),
           C1_C2_MALFORMED);
    /* An atom may end in "}": a mailbox "c}" after a quoted "x{" is data
     * the library delivers, not a literal it cannot size. */
    EXPECT(&((struct scen){ IN("* LIST () \"x{\" c}\r\n1 OK\r\n"), .ncmds = 1 }),
           "u|LIST|-1|() \"x{\" c}\nc1|OK|-1|\n=ok inflight=0\n" NEXT_OK(2));
    /* On a line after a literal, too. */
    EXPECT(&((struct scen){ IN("* 1 FETCH (BODY[] {2}\r\nhi BODY[1] {-1}\r\n1 OK\r\n"),
                            .ncmds = 2 }),
           C1_C2_MALFORMED);
    /* Status text, tagged or untagged, may end as it likes. */
    EXPECT(&((struct scen){ IN("* OK [ALERT] see {here}\r\n* BYE {}\r\n1 NO {x}\r\n"),
                            .ncmds = 1, .no_after = 1 }),
           "u|OK|-1|[ALERT] see {here}\nu|BYE|-1|{}\nc1|NO|-1|{x}\n=ok inflight=0\n");
}

static void literal_sizes_refused_at_the_header(void)
{
    EXPECT(&((struct scen){ IN("* STATUS {4294967295}\r\nINBOX (MESSAGES 1)\r\n1 OK\r\n"),
                            .ncmds = 2 }),
           "c1|EOF|-1|\nc2|EOF|-1|\n"
           "=fail protocol error: literal larger than the limit of 67108864 bytes inflight=0\n"
           LATE_EOF);
    EXPECT(&((struct scen){ IN("* 1 FETCH (BODY[] {99999999999}\r\n1 OK\r\n"), .ncmds = 1 }),
           C1_LITERAL_REFUSED);
    /* 2^64 - 1 fits 64 bits and is refused by size; 2^64 and beyond would
     * wrap to a small number in careless code ({18446744073709551616} to 0,
     * {18446744073709551621} to 5), so the "5 OK" would be read as data. */
    EXPECT(&((struct scen){ IN("* 1 FETCH (BODY[] {18446744073709551615}\r\nx\r\n1 OK\r\n"),
                            .ncmds = 1 }),
           C1_LITERAL_REFUSED);
    EXPECT(&((struct scen){ IN("* 1 FETCH (BODY[] {18446744073709551616}\r\n)\r\n1 OK\r\n"),
                            .ncmds = 1 }),
           C1_LITERAL_REFUSED);
    EXPECT(&((struct scen){ IN("* 1 FETCH (X {18446744073709551621}\r\n1 OK\r\n)\r\n"),
                            .ncmds = 1 }),
           C1_LITERAL_REFUSED);
    EXPECT(&((struct scen){ IN("* 1 FETCH (X {000000000000000000000000000000006}\r\n"
                               "1 OK\r\n)\r\n"), .ncmds = 1 }),
           "u|FETCH|1|(X {000000000000000000000000000000006}\\r\\n1 OK\\r\\n)\n"
           "=ok inflight=1\n" NEXT_OK(2));
    /* At the limit is fine, one more is not; the tagged reply's own literal
     * counts too. */
    EXPECT(&((struct scen){ IN("* 1 FETCH (X {16}\r\n0123456789abcdef)\r\n"), .ncmds = 1,
                            .limits = { 0, 16, 0, 0, 0 } }),
           "u|FETCH|1|(X {16}\\r\\n0123456789abcdef)\n=ok inflight=1\n" NEXT_OK(2));
    EXPECT(&((struct scen){ IN("1 OK {17}\r\n0123456789abcdefg\r\n"), .ncmds = 1,
                            .limits = { 0, 16, 0, 0, 0 } }),
           "c1|EOF|-1|\n"
           "=fail protocol error: literal larger than the limit of 16 bytes inflight=0\n"
           LATE_EOF);
    /* A continuation request announcing a literal is framed the same way. */
    EXPECT(&((struct scen){ IN("+ {17}\r\n"), .ncmds = 1, .limits = { 0, 16, 0, 0, 0 } }),
           "c1|EOF|-1|\n"
           "=fail protocol error: literal larger than the limit of 16 bytes inflight=0\n"
           LATE_EOF);
}

/* Long fields need no fixed buffer, numbers inside replies are not
 * the library's to convert; the message number it does convert must fit. */
static void long_fields_and_numbers(void)
{
    static char in[10100], want[10300];
    int n = snprintf(in, sizeof in, "* 1 FETCH (INTERNALDATE \"%0*d\")\r\n1 OK\r\n", 10000, 0);
    snprintf(want, sizeof want,
             "u|FETCH|1|(INTERNALDATE \"%0*d\")\nc1|OK|-1|\n=ok inflight=0\n" NEXT_OK(2),
             10000, 0);
    size_t got_len;
    struct scen sc = { in, (size_t)n, .ncmds = 1 };
    char *got = play(&sc, (size_t)n, 0, &got_len);
    CHECK_MEM(got, got_len, want, strlen(want));
    free(got);
    got = play(&sc, 1, 0, &got_len);
    CHECK_MEM(got, got_len, want, strlen(want));
    free(got);

    EXPECT(&((struct scen){ IN("* 1 FETCH (RFC822.SIZE 99999999999999999999)\r\n"
                               "* 1 FETCH (UID -1 MODSEQ (18446744073709551616))\r\n"), .ncmds = 1 }),
           "u|FETCH|1|(RFC822.SIZE 99999999999999999999)\n"
           "u|FETCH|1|(UID -1 MODSEQ (18446744073709551616))\n"
           "=ok inflight=1\n" NEXT_OK(2));
    EXPECT(&((struct scen){ IN("* 9223372036854775807 EXISTS\r\n"), .ncmds = 1 }),
           "u|EXISTS|9223372036854775807|\n=ok inflight=1\n" NEXT_OK(2));
    EXPECT(&((struct scen){ IN("* 9223372036854775808 EXISTS\r\n1 OK\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: message number out of range: "
           "\"* 9223372036854775808 EXISTS\" inflight=0\n" LATE_EOF);
    EXPECT(&((struct scen){ IN("* 1 EXISTS\r\n* 99999999999999999999999999999 FETCH (UID 1)\r\n"
                               "* 2 EXISTS\r\n"), .ncmds = 2 }),
           "u|EXISTS|1|\nc1|EOF|-1|\nc2|EOF|-1|\n=fail protocol error: message number out "
           "of range: \"* 99999999999999999999999999999 FETCH (UID 1)\" inflight=0\n"
           LATE_EOF);
}

/* Response codes and sequence sets are text; nothing is
 * expanded, stored or sized by them. */
static void codes_and_sets_are_text(void)
{
    EXPECT(&((struct scen){ IN("1 OK [APPENDUID 1 4294967295] done\r\n"
                               "* OK [COPYUID x y z]\r\n"
                               "* OK [COPYUID 1 1:4294967295 1:4294967295] x\r\n"
                               "* VANISHED (EARLIER) 41,43:116,\r\n"
                               "* VANISHED 1:4294967295\r\n"
                               "* VANISHED ,,,:*:,\r\n"
                               "2 OK [COPYUID 1 1:4294967295 1:4294967295] done\r\n"),
                            .ncmds = 2 }),
           "c1|OK|-1|[APPENDUID 1 4294967295] done\n"
           "u|OK|-1|[COPYUID x y z]\n"
           "u|OK|-1|[COPYUID 1 1:4294967295 1:4294967295] x\n"
           "u|VANISHED|-1|(EARLIER) 41,43:116,\n"
           "u|VANISHED|-1|1:4294967295\n"
           "u|VANISHED|-1|,,,:*:,\n"
           "c2|OK|-1|[COPYUID 1 1:4294967295 1:4294967295] done\n"
           "=ok inflight=0\n" NEXT_OK(3));
    /* And the buffer that held them stayed the size of the text. */
    struct imc_session s;
    setup_default(&s, NULL);
    const char in[] = "* VANISHED 1:4294967295\r\n* OK [COPYUID 1 1:4294967295 1:4294967295]\r\n";
    CHECK_INT(imc_session_feed(&s, in, sizeof in - 1), 0);
    CHECK(s.reply.cap <= 256);
    imc_session_free(&s);
}

/* Empty capability lists and a BAD to CAPABILITY: delivered, and the
 * library sends nothing of its own accord (no retry). */
static void empty_capability(void)
{
    EXPECT(&((struct scen){ IN("* CAPABILITY\r\n* OK [CAPABILITY] x\r\n* CAPABILITY \r\n"
                               "1 BAD\r\n2 BAD\r\n"), .ncmds = 2 }),
           "u|CAPABILITY|-1|\nu|OK|-1|[CAPABILITY] x\nu|CAPABILITY|-1|\n"
           "c1|BAD|-1|\nc2|BAD|-1|\n=ok inflight=0\n" NEXT_OK(3));
}

/* Counts are passed on, never used to size anything; 0 and odd forms
 * are the application's to judge. */
static void huge_and_odd_counts(void)
{
    EXPECT(&((struct scen){ IN("* 1 EXPUNGE\r\n* 4294967295 EXISTS\r\n* 0 EXPUNGE\r\n"
                               "* 000 EXISTS\r\n* 18446744073709551615 RECENT\r\n"), .ncmds = 1 }),
           "u|EXPUNGE|1|\nu|EXISTS|4294967295|\nu|EXPUNGE|0|\nu|EXISTS|0|\n"
           "c1|EOF|-1|\n=fail protocol error: message number out of range: "
           "\"* 18446744073709551615 RECENT\" inflight=0\n" LATE_EOF);
    /* A sign is not part of a number: "-1" is the keyword then. */
    EXPECT(&((struct scen){ IN("* -1 EXPUNGE\r\n* +2 EXISTS\r\n"), .ncmds = 1 }),
           "u|-1|-1|EXPUNGE\nu|+2|-1|EXISTS\n=ok inflight=1\n" NEXT_OK(2));
    /* A number glued to its keyword, or with nothing after it, is no reply. */
    EXPECT(&((struct scen){ IN("* 1EXISTS\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: malformed untagged response: \"* 1EXISTS\" "
           "inflight=0\n" LATE_EOF);
    EXPECT(&((struct scen){ IN("* 7\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: malformed untagged response: \"* 7\" "
           "inflight=0\n" LATE_EOF);
    EXPECT(&((struct scen){ IN("* 7 \r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: malformed untagged response: \"* 7 \" "
           "inflight=0\n" LATE_EOF);
}

/* ID with a literal inside, unbalanced, NIL. */
static void id_forms(void)
{
    EXPECT(&((struct scen){ IN("* ID ({4}\r\nab\r\n)\r\n* ID (\r\n* ID NIL\r\n"
                               "* ID (\"name\" {0}\r\n \"x\" {3}\r\n)\r\n)\r\n1 OK\r\n"),
                            .ncmds = 1 }),
           "u|ID|-1|({4}\\r\\nab\\r\\n)\n"
           "u|ID|-1|(\n"
           "u|ID|-1|NIL\n"
           "u|ID|-1|(\"name\" {0}\\r\\n \"x\" {3}\\r\\n)\\r\\n)\n"
           "c1|OK|-1|\n=ok inflight=0\n" NEXT_OK(2));
}

/* Names and text are passed through byte for byte: no path, shell, UTF-7
 * or UTF-8 processing in the library. */
static void hostile_names_verbatim(void)
{
    EXPECT(&((struct scen){ IN("* LIST () \"/\" \"../../.ssh\"\r\n"
                               "* LSUB () \".\" \"`touch /tmp/x`\"\r\n"
                               "* LIST () \"/\" &\r\n"
                               "* LIST () \"/\" \"&Jjo\"\r\n"
                               "* LIST () \"/\" \"&-&AP8-&\"\r\n"
                               "* LIST () \"/\" \"\xff\xfe\"\r\n"
                               "* OK [ALERT] \xc0\xaf\r\n"
                               "* LIST () \"/\" {5}\r\n$(rm)\r\n"
                               "* LIST () \"/\" \"a\x1b[2Jb\"\r\n"), .ncmds = 1 }),
           "u|LIST|-1|() \"/\" \"../../.ssh\"\n"
           "u|LSUB|-1|() \".\" \"`touch /tmp/x`\"\n"
           "u|LIST|-1|() \"/\" &\n"
           "u|LIST|-1|() \"/\" \"&Jjo\"\n"
           "u|LIST|-1|() \"/\" \"&-&AP8-&\"\n"
           "u|LIST|-1|() \"/\" \"\\xff\\xfe\"\n"
           "u|OK|-1|[ALERT] \\xc0\\xaf\n"
           "u|LIST|-1|() \"/\" {5}\\r\\n$(rm)\n"
           "u|LIST|-1|() \"/\" \"a\\x1b[2Jb\"\n"
           "=ok inflight=1\n" NEXT_OK(2));
    /* The keyword is the one place the library reads bytes; 8-bit or
     * control bytes there end the connection, and the reason shows them
     * defanged. */
    EXPECT(&((struct scen){ IN("* \xff\xfe OK\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: malformed untagged response: \"* ?? OK\" "
           "inflight=0\n" LATE_EOF);
    EXPECT(&((struct scen){ IN("* O\0K hi\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: malformed untagged response: \"* O?K hi\" "
           "inflight=0\n" LATE_EOF);
}

/* ---- line and literal framing -------------------------------------------- */

static void terminators(void)
{
    /* CRLF, bare LF, and a CR that is data ("\r\r\n" leaves one). */
    EXPECT(&((struct scen){ IN("* OK a\r\n* OK b\n* OK c\r\r\n* OK d\re\r\n* OK \r\n"
                               "* OK\n"), .ncmds = 1 }),
           "u|OK|-1|a\nu|OK|-1|b\nu|OK|-1|c\\r\nu|OK|-1|d\\re\nu|OK|-1|\nu|OK|-1|\n"
           "=ok inflight=1\n" NEXT_OK(2));
    /* A line of nothing but a terminator is not a reply. */
    EXPECT(&((struct scen){ IN("* OK a\r\n\r\n* OK b\r\n"), .ncmds = 1 }),
           "u|OK|-1|a\nc1|EOF|-1|\n=fail protocol error: unknown tag: \"\" inflight=0\n"
           LATE_EOF);
    EXPECT(&((struct scen){ IN("\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: unknown tag: \"\" inflight=0\n" LATE_EOF);
}

static void nul_bytes(void)
{
    /* Inside a literal: part of the text, counted by textlen. */
    EXPECT(&((struct scen){ IN("* 1 FETCH (BODY[] {5}\r\n\0a\0\0b)\r\n"), .ncmds = 1 }),
           "u|FETCH|1|(BODY[] {5}\\r\\n\\0a\\0\\0b)\n=ok inflight=1\n" NEXT_OK(2));
    /* Outside one, in the text of a line: delivered too (textlen tells the
     * truth; a C-string reader sees the text end early, which is safe). */
    EXPECT(&((struct scen){ IN("* OK a\0b\r\n1 NO \0\r\n"), .ncmds = 1 }),
           "u|OK|-1|a\\0b\nc1|NO|-1|\\0\n=ok inflight=0\n" NEXT_OK(2));
    /* In a tag it is not one of ours. */
    EXPECT(&((struct scen){ IN("1\0 OK\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: unknown tag: \"1? OK\" inflight=0\n" LATE_EOF);
}

static void literal_forms(void)
{
    /* {0}, several literals, a literal at the end of the reply's last line
     * but one, a literal holding reply-shaped bytes, {n+} from a server. */
    EXPECT(&((struct scen){ IN("* 1 FETCH (BODY[] {0}\r\n)\r\n"
                               "* 2 FETCH (A {3}\r\n\r\n\r B {1}\r\n\n C {2}\r\n\r\n)\r\n"
                               "* 3 FETCH (BODY[] {23}\r\n1 OK fake\r\n* BYE fake\r\n)\r\n"
                               "* 4 FETCH (X {2+}\r\nab)\r\n"
                               "1 OK [BADCHARSET ({5}\r\nUTF-8)] done\r\n"), .ncmds = 1 }),
           "u|FETCH|1|(BODY[] {0}\\r\\n)\n"
           "u|FETCH|2|(A {3}\\r\\n\\r\\n\\r B {1}\\r\\n\\n C {2}\\r\\n\\r\\n)\n"
           "u|FETCH|3|(BODY[] {23}\\r\\n1 OK fake\\r\\n* BYE fake\\r\\n)\n"
           "u|FETCH|4|(X {2+}\\r\\nab)\n"
           "c1|OK|-1|[BADCHARSET ({5}\\r\\nUTF-8)] done\n"
           "=ok inflight=0\n" NEXT_OK(2));
    /* In a status response's text (outside a response code) "{n}" is text,
     * as RFC 3501's grammar has it: the next line is a new response. */
    EXPECT(&((struct scen){ IN("* OK go {4}\r\n* BYE x\r\n1 NO try {0}\r\n"), .ncmds = 1 }),
           "u|OK|-1|go {4}\nu|BYE|-1|x\nc1|NO|-1|try {0}\n"
           "=ok inflight=0\n" NEXT_OK(2));
    /* Not literal headers: these are plain text. */
    EXPECT(&((struct scen){ IN("* OK {}\r\n* OK {-1}\r\n* OK { 1}\r\n* OK {1 }\r\n"
                               "* OK {1}x\r\n* OK 1}\r\n* OK {1++}\r\n"), .ncmds = 1 }),
           "u|OK|-1|{}\nu|OK|-1|{-1}\nu|OK|-1|{ 1}\nu|OK|-1|{1 }\nu|OK|-1|{1}x\n"
           "u|OK|-1|1}\nu|OK|-1|{1++}\n=ok inflight=1\n" NEXT_OK(2));
}

/* ---- greetings, tags and tagged status -------------------------------- */

/* Greetings that are no IMAP response end the connection with a reason
 * before anything of theirs reaches a callback. */
static void bad_greetings(void)
{
    EXPECT(&((struct scen){ IN("1Gdo00V4 wFaIW2WP\r\n"), .ncmds = 0 }),
           "=fail protocol error: unknown tag: \"1Gdo00V4 wFaIW2WP\" inflight=0\n" LATE_EOF);
    EXPECT(&((struct scen){ IN("Ac3cXIo1 rJzgnVlo\r\n* OK DHYw9lXw\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: unknown tag: \"Ac3cXIo1 rJzgnVlo\" "
           "inflight=0\n" LATE_EOF);
    EXPECT(&((struct scen){ IN("XYZ OK 6Iy0xHRr\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: unknown tag: \"XYZ OK 6Iy0xHRr\" inflight=0\n"
           LATE_EOF);
    EXPECT(&((struct scen){ IN("HTTP/1.1 400 Bad Request\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: unknown tag: \"HTTP/1.1 400 Bad Request\" "
           "inflight=0\n" LATE_EOF);
    EXPECT(&((struct scen){ IN("*OK hi\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: unknown tag: \"*OK hi\" inflight=0\n" LATE_EOF);
    EXPECT(&((struct scen){ IN("* \r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: malformed untagged response: \"* \" "
           "inflight=0\n" LATE_EOF);
    /* BYE is a reply like any other: delivered; the close that follows is
     * the transport's to report (see bye_then_close). */
    EXPECT(&((struct scen){ IN("* BYE X0n0fCj9\r\n"), .ncmds = 1 }),
           "u|BYE|-1|X0n0fCj9\n=ok inflight=1\n" NEXT_OK(2));
    /* A very long garbage greeting is echoed only in part. */
    EXPECT(&((struct scen){ IN("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3 "
                               "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"), .ncmds = 0 }),
           "=fail protocol error: unknown tag: \"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3 "
           "xxxxxxxxxxxxxxxxxxxxx...\" inflight=0\n" LATE_EOF);
}

/* A tagged reply must be OK, NO or BAD. */
static void tagged_status_must_be_known(void)
{
    static const char *const lines[] = {
        "1 PREAUTH hi\r\n", "1 XYZ\r\n", "1 OKAY\r\n", "1 BYE\r\n", "1 +\r\n",
        "1 OK[ALERT] x\r\n", "1\r\n", "1 \r\n", "1  OK\r\n", "1 {2}\r\nOK\r\n",
    };
    static const char *const why[] = {
        "tagged response is not OK, NO or BAD: \"1 PREAUTH hi\"",
        "tagged response is not OK, NO or BAD: \"1 XYZ\"",
        "tagged response is not OK, NO or BAD: \"1 OKAY\"",
        "tagged response is not OK, NO or BAD: \"1 BYE\"",
        "tagged response is not OK, NO or BAD: \"1 +\"",
        "tagged response is not OK, NO or BAD: \"1 OK[ALERT] x\"",
        "unknown tag: \"1\"",
        "malformed tagged response: \"1 \"",
        "malformed tagged response: \"1  OK\"",
        "malformed tagged response: \"1 {2}\"",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char want[300];
        snprintf(want, sizeof want, "c1|EOF|-1|\nc2|EOF|-1|\n=fail protocol error: %s "
                 "inflight=0\n" LATE_EOF, why[i]);
        struct scen sc = { lines[i], strlen(lines[i]), .ncmds = 2 };
        if (!same_everywhere(__FILE__, __LINE__, &sc, want, strlen(want)))
            return;
    }
}

/* A tag that is not in flight (never issued, already completed,
 * queued but not yet written, or not in our form) ends the connection;
 * everything pending gets EOF once, in tag order. */
static void tags_not_in_flight(void)
{
    EXPECT(&((struct scen){ IN("1 BAD currently unavailable\r\n2 OK Authenticated\r\n"
                               "3 OK Accepted\r\n"), .ncmds = 1 }),
           "c1|BAD|-1|currently unavailable\n"
           "=fail protocol error: reply for tag 2, which is not in flight inflight=0\n"
           LATE_EOF);
    /* The same with a later command still pending: it gets EOF. */
    EXPECT(&((struct scen){ IN("1 BAD currently unavailable\r\n4 OK Authenticated\r\n"),
                            .ncmds = 3 }),
           "c1|BAD|-1|currently unavailable\nc2|EOF|-1|\nc3|EOF|-1|\n"
           "=fail protocol error: reply for tag 4, which is not in flight inflight=0\n"
           LATE_EOF);
    /* Early OK for a command still in our queue. */
    EXPECT(&((struct scen){ IN("2 OK begin TLS now\r\n"), .ncmds = 1, .unsent = 1 }),
           "c1|EOF|-1|\nq1|EOF|-1|\n"
           "=fail protocol error: reply for tag 2, which is not in flight inflight=0\n"
           LATE_EOF);
    /* A completion twice. */
    EXPECT(&((struct scen){ IN("1 OK\r\n1 OK\r\n"), .ncmds = 2 }),
           "c1|OK|-1|\nc2|EOF|-1|\n"
           "=fail protocol error: reply for tag 1, which is not in flight inflight=0\n"
           LATE_EOF);
    /* Not our form: leading zero, too big for 64 bits, 0. */
    EXPECT(&((struct scen){ IN("01 OK\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: unknown tag: \"01 OK\" inflight=0\n" LATE_EOF);
    EXPECT(&((struct scen){ IN("0 OK\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: unknown tag: \"0 OK\" inflight=0\n" LATE_EOF);
    EXPECT(&((struct scen){ IN("18446744073709551617 OK\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: unknown tag: \"18446744073709551617 OK\" "
           "inflight=0\n" LATE_EOF);
    EXPECT(&((struct scen){ IN("18446744073709551615 OK\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: reply for tag 18446744073709551615, which is "
           "not in flight inflight=0\n" LATE_EOF);
    /* A tagged reply with a literal for a stranger fails at its first line:
     * the literal is never read. */
    EXPECT(&((struct scen){ IN("5 OK {3}\r\n"), .ncmds = 1, .no_after = 1 }),
           "c1|EOF|-1|\n=fail protocol error: reply for tag 5, which is not in flight "
           "inflight=0\n");
}

/* The tagged reply for a command held behind its own literal's barrier
 * comes before "+": allowed (it refuses the command); the next command,
 * never written because of that barrier, is not in flight. */
static void reply_to_command_behind_barrier(void)
{
    struct imc_session s;
    struct imc_buf wire;
    setup_default(&s, &wire);
    send_(&s, "a", "APPEND INBOX %s", "x\r\ny");
    send_(&s, "b", "NOOP");
    drain(&s, &wire);
    CHECK_BYTES(wire.data, wire.len, "1 APPEND INBOX {4}\r\n");
    CHECK_INT(imc_session_feed(&s, "2 OK\r\n", 6), -1);
    CHECK_STR(logbuf.data ? imc_buf_cstr(&logbuf) : "",
              "a|EOF|-1|\nb|EOF|-1|\n");
    CHECK_STR(s.error, "protocol error: reply for tag 2, which is not in flight");
    drain(&s, &wire);
    CHECK_BYTES(wire.data, wire.len, "1 APPEND INBOX {4}\r\n");
    teardown(&s, &wire);
}

/* "+" forms: bare "+" is a continuation request, "+x" is not; an
 * unsolicited one is ignored unless the application asked for "+". */
static void continuation_forms(void)
{
    EXPECT(&((struct scen){ IN("+\r\n+ \r\n+ idling\r\n+  two\r\n"), .ncmds = 1 }),
           "=ok inflight=1\n" NEXT_OK(2));
    EXPECT(&((struct scen){ IN("+OK\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: malformed continuation request: \"+OK\" "
           "inflight=0\n" LATE_EOF);
    EXPECT(&((struct scen){ IN("+\tx\r\n"), .ncmds = 1 }),
           "c1|EOF|-1|\n=fail protocol error: malformed continuation request: \"+?x\" "
           "inflight=0\n" LATE_EOF);

    /* With a "+" entry: delivered, keyword "+". */
    struct imc_session s;
    struct scen sc = { 0 };
    setup(&s, &sc);
    imc_callbacks_set(&s.callbacks, "+", 0, record, "plus");
    /* "{3}" ending a continuation's text is text (RFC 3501 grammar). */
    const char in[] = "+\r\n+  two\r\n+ {3}\r\n";
    CHECK_INT(imc_session_feed(&s, in, sizeof in - 1), 0);
    CHECK_STR(imc_buf_cstr(&logbuf),
              "plus|+|-1|\nplus|+|-1| two\nplus|+|-1|{3}\n");
    CHECK(!bad_reply);
    imc_session_free(&s);

    /* A bare "+" releases a waiting literal like "+ text" does. */
    struct imc_buf wire;
    imc_buf_init(&wire);
    setup(&s, &sc);
    send_(&s, "a", "LOGIN %s %s", "u\r\n", "p\r\n");
    drain(&s, &wire);
    CHECK_BYTES(wire.data, wire.len, "1 LOGIN {3}\r\n");
    CHECK_INT(imc_session_feed(&s, "+", 1), 0);
    CHECK_INT(imc_session_feed(&s, "\r\n", 2), 0);
    drain(&s, &wire);
    CHECK_BYTES(wire.data, wire.len, "1 LOGIN {3}\r\nu\r\n {3}\r\n");
    CHECK_INT(imc_session_feed(&s, "+\n", 2), 0);
    drain(&s, &wire);
    CHECK_BYTES(wire.data, wire.len, "1 LOGIN {3}\r\nu\r\n {3}\r\np\r\n\r\n");
    /* One "+" too many is unsolicited: ignored, nothing more goes out. */
    CHECK_INT(imc_session_feed(&s, "+ again\r\n1 OK\r\n", 15), 0);
    drain(&s, &wire);
    CHECK_BYTES(wire.data, wire.len, "1 LOGIN {3}\r\nu\r\n {3}\r\np\r\n\r\n");
    CHECK_STR(imc_buf_cstr(&logbuf), "a|OK|-1|\n");
    teardown(&s, &wire);
}

/* A "* BYE" and then the end of the stream, with commands pending: the
 * BYE is delivered, then each pending command gets EOF exactly once. */
static void bye_then_close(void)
{
    struct imc_session s;
    struct imc_buf wire;
    setup_default(&s, &wire);
    send_(&s, "a", "NOOP");
    send_(&s, "b", "SELECT INBOX");
    drain(&s, &wire);
    const char in[] = "* BYE shutting down\r\n";
    CHECK_INT(imc_session_feed(&s, in, sizeof in - 1), 0);
    imc_session_fail(&s, "connection closed by server");
    imc_session_fail(&s, "second reason");
    CHECK_STR(imc_buf_cstr(&logbuf), "u|BYE|-1|shutting down\na|EOF|-1|\nb|EOF|-1|\n");
    CHECK_STR(s.error, "connection closed by server");
    CHECK_INT(imc_session_feed(&s, "1 OK\r\n", 6), -1);
    CHECK_STR(imc_buf_cstr(&logbuf), "u|BYE|-1|shutting down\na|EOF|-1|\nb|EOF|-1|\n");
    teardown(&s, &wire);
}

/* The stream ending inside a literal or a line: nothing partial reaches a
 * callback. */
static void end_of_stream_mid_reply(void)
{
    static const char *const inputs[] = {
        "* 1 FETCH (BODY[] {100}\r\nabc",
        "* 1 FETCH (BODY[] {3}\r\nabc",
        "* 1 FETCH (BODY[] {3}\r\nabc)\r",
        "* OK partial",
        "1 OK",
        "1 OK [BADCHARSET ({2}\r\nx",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        struct imc_session s;
        struct imc_buf wire;
        setup_default(&s, &wire);
        send_(&s, "a", "NOOP");
        drain(&s, &wire);
        CHECK_INT(imc_session_feed(&s, inputs[i], strlen(inputs[i])), 0);
        CHECK(!imc_session_at_boundary(&s));
        imc_session_fail(&s, "connection closed by server");
        CHECK_STR(imc_buf_cstr(&logbuf), "a|EOF|-1|\n");
        CHECK_INT(s.reply.cap, 0);
        teardown(&s, &wire);
    }
}

/* ---- resource exhaustion --------------------------------------------------- */

/* A literal within max_literal nobody listens to is skipped without
 * being stored, whatever its size; one somebody listens to is bounded by
 * max_reply as it arrives. Either way the bytes inside it stay data. */
static void big_literals_bounded(void)
{
    struct imc_session s;
    struct scen sc = { .quiet = 1, .limits = { 0, (uint64_t)1 << 40, 4096, 0, 0 } };
    struct imc_buf wire;
    imc_buf_init(&wire);
    setup(&s, &sc);
    send_(&s, "a", "FETCH 1 BODY[]");
    drain(&s, &wire);
    const char head[] = "* 1 FETCH (BODY[] {4294967285}\r\n";
    CHECK_INT(imc_session_feed(&s, head, sizeof head - 1), 0);
    static char chunk[65536];
    memset(chunk, 'x', sizeof chunk);
    memcpy(chunk + 100, "1 OK fake\r\n", 11);
    for (int i = 0; i < 64; i++)
        CHECK_INT(imc_session_feed(&s, chunk, sizeof chunk), 0);
    CHECK_INT(s.reply.cap, 0);
    CHECK(s.framer.partial.cap <= 4096);
    CHECK_INT(imc_session_inflight(&s), 1);
    CHECK_INT(s.framer.literal_left, 4294967285ull - 64 * 65536);
    imc_session_free(&s);

    /* Listened to: refused once the reply passes max_reply. */
    imc_buf_free(&wire);
    struct scen sc2 = { .limits = { 0, (uint64_t)1 << 40, 4096, 0, 0 } };
    setup(&s, &sc2);
    send_(&s, "a", "FETCH 1 BODY[]");
    drain(&s, &wire);
    CHECK_INT(imc_session_feed(&s, head, sizeof head - 1), 0);
    size_t fed = 0;
    int r = 0;
    while (r == 0 && fed < (1u << 20)) {
        r = imc_session_feed(&s, chunk, 1000);
        fed += 1000;
    }
    CHECK_INT(r, -1);
    CHECK(fed <= 5000);
    CHECK_STR(s.error, "reply larger than the limit of 4096 bytes");
    CHECK_STR(imc_buf_cstr(&logbuf), "a|EOF|-1|\n");
    CHECK_INT(s.reply.cap, 0);
    teardown(&s, &wire);
}

/* A 1 MiB literal trickled in: the reply buffer grows with what
 * arrived, not with what was announced; and the text comes out whole. */
static size_t big_textlen;
static int big_ok;
static void check_big(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)rock;
    const char head[] = "(BODY[] {1048576}\r\n";
    big_textlen = r->textlen;
    big_ok = r->textlen == sizeof head - 1 + 1048576 + 1 &&
             memcmp(r->text, head, sizeof head - 1) == 0 && r->text[r->textlen - 1] == ')';
    for (size_t i = 0; big_ok && i < 1048576; i++)
        big_ok = r->text[sizeof head - 1 + i] == (char)('a' + i % 26);
}

static void literal_trickle(void)
{
    struct imc_session s;
    setup_default(&s, NULL);
    imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, check_big, NULL);
    const char head[] = "* 1 FETCH (BODY[] {1048576}\r\n";
    CHECK_INT(imc_session_feed(&s, head, sizeof head - 1), 0);
    CHECK(s.reply.cap <= 256);
    char piece[4096];
    for (size_t off = 0; off < 1048576; off += sizeof piece) {
        for (size_t i = 0; i < sizeof piece; i++)
            piece[i] = (char)('a' + (off + i) % 26);
        CHECK_INT(imc_session_feed(&s, piece, sizeof piece), 0);
        /* Geometric growth: never more than twice what is held. */
        CHECK(s.reply.cap <= 2 * (s.reply.len + 1) + 256);
    }
    CHECK_INT(imc_session_feed(&s, ")\r\n", 3), 0);
    CHECK_INT(big_textlen, sizeof head - 1 - 10 + 1048576 + 1);
    CHECK(big_ok);
    /* A reply that big does not pin its buffer once delivered. */
    CHECK_INT(s.reply.cap, 0);
    imc_session_free(&s);
}

/* One reply made of 100 000 one-byte literals, whole and byte at a
 * time: it must simply complete (linear work) and arrive exact. */
static struct imc_buf many_want;
static int many_ok, many_calls;
static void check_many(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)rock;
    many_calls++;
    many_ok = r->textlen == many_want.len && memcmp(r->text, many_want.data, r->textlen) == 0;
}

static void many_tiny_literals(void)
{
    enum { N = 100000 };
    struct imc_buf in;
    imc_buf_init(&in);
    imc_buf_free(&many_want);
    /* The text a callback must get: everything after "* 1 FETCH ". */
    imc_buf_appendc(&many_want, '(');
    for (int i = 0; i < N; i++) {
        char part[40];
        snprintf(part, sizeof part, "%sBODY[%d] {1}\r\n%c", i ? " " : "", i, 'a' + i % 26);
        imc_buf_appendstr(&many_want, part);
    }
    imc_buf_appendc(&many_want, ')');
    imc_buf_appendstr(&in, "* 1 FETCH ");
    imc_buf_append(&in, many_want.data, many_want.len);
    imc_buf_appendstr(&in, "\r\n1 OK\r\n");
    for (int pass = 0; pass < 2; pass++) {
        struct imc_session s;
        struct imc_buf wire;
        setup_default(&s, &wire);
        imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, check_many, NULL);
        send_(&s, "a", "FETCH 1 BODY[]");
        drain(&s, &wire);
        many_calls = many_ok = 0;
        if (pass == 0) {
            CHECK_INT(imc_session_feed(&s, in.data, in.len), 0);
        } else {
            for (size_t i = 0; i < in.len; i++)
                CHECK_INT(imc_session_feed(&s, in.data + i, 1), 0);
        }
        CHECK_INT(many_calls, 1);
        CHECK(many_ok);
        CHECK_STR(imc_buf_cstr(&logbuf), "a|OK|-1|\n");
        teardown(&s, &wire);
    }
    imc_buf_free(&in);
    imc_buf_free(&many_want);
}

/* A line that never ends is cut off at max_line, holding no more than
 * that, whether it comes in pieces or at once. */
static void endless_line(void)
{
    static char as[1 << 16];
    memset(as, 'A', sizeof as);
    static const size_t pieces[] = { 1, 7, 100, 1024, 1025, 1026, 65536 };
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        struct imc_session s;
        struct scen sc = { .limits = { 1024, 0, 0, 0, 0 } };
        struct imc_buf wire;
        imc_buf_init(&wire);
        setup(&s, &sc);
        send_(&s, "a", "NOOP");
        drain(&s, &wire);
        CHECK_INT(imc_session_feed(&s, "* OK ", 5), 0);
        size_t fed = 5;
        int r = 0;
        /* Up to 100 MiB, but it must stop long before. */
        while (r == 0 && fed < ((size_t)100 << 20)) {
            r = imc_session_feed(&s, as, pieces[k]);
            fed += pieces[k];
        }
        CHECK_INT(r, -1);
        CHECK(fed <= 1024 + 2 + pieces[k]);
        CHECK(s.framer.partial.cap <= 4096);
        CHECK_INT(s.reply.cap, 0);
        CHECK_STR(s.error, "protocol error: line longer than the limit");
        CHECK_STR(imc_buf_cstr(&logbuf), "a|EOF|-1|\n");
        teardown(&s, &wire);
    }
}

/* The line limit at its edge: exactly max_line bytes of content pass with
 * any terminator and any split; one more fails. Lines after a literal count
 * on their own. */
static void line_limit_edges(void)
{
    struct imc_buf in;
    imc_buf_init(&in);
    imc_buf_appendstr(&in, "* OK ");
    for (int i = 5; i < 64; i++)
        imc_buf_appendc(&in, 'x');
    imc_buf_appendstr(&in, "\r\n");
    struct scen sc = { in.data, in.len, .ncmds = 1, .limits = { 64, 0, 0, 0, 0 } };
    char want[400];
    snprintf(want, sizeof want, "u|OK|-1|%.59s\n=ok inflight=1\n" NEXT_OK(2), in.data + 5);
    if (!same_everywhere(__FILE__, __LINE__, &sc, want, strlen(want)))
        return;
    /* Bare LF. */
    in.data[in.len - 2] = '\n';
    sc.len--;
    if (!same_everywhere(__FILE__, __LINE__, &sc, want, strlen(want)))
        return;
    /* 65 bytes: over, with a CR before the LF or without. */
    in.data[in.len - 2] = 'y';
    sc.len++;
    const char fail[] = "c1|EOF|-1|\n=fail protocol error: line longer than the limit "
                        "inflight=0\n" LATE_EOF;
    if (!same_everywhere(__FILE__, __LINE__, &sc, fail, sizeof fail - 1))
        return;
    imc_buf_truncate(&in, in.len - 1);
    imc_buf_appendstr(&in, "\r\n");
    sc.in = in.data;
    sc.len = in.len;
    if (!same_everywhere(__FILE__, __LINE__, &sc, fail, sizeof fail - 1))
        return;
    /* The second line of a response, after a literal, is held to the limit. */
    EXPECT(&((struct scen){ IN("* 1 FETCH (A {3}\r\nabc B 0123456789012345678901234567890123"
                               "4567890123456789012345678901)\r\n"),
                            .ncmds = 1, .limits = { 64, 0, 0, 0, 0 } }),
           "c1|EOF|-1|\n=fail protocol error: line longer than the limit inflight=0\n"
           LATE_EOF);
    imc_buf_free(&in);
}

/* Nesting is not parsed, so it costs nothing: a million '(' arrive as
 * text under the line limit, or hit it. */
static size_t deep_len;
static int deep_ok;
static void check_deep(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)rock;
    deep_len = r->textlen;
    deep_ok = memcmp(r->text, "(BODYSTRUCTURE ", 15) == 0;
    for (size_t i = 15; deep_ok && i < r->textlen; i++)
        deep_ok = r->text[i] == '(';
}

static void deep_nesting(void)
{
    enum { N = 1000000 };
    size_t len = 0;
    char *in = malloc(N + 64);
    len += (size_t)sprintf(in, "* 1 FETCH (BODYSTRUCTURE ");
    memset(in + len, '(', N);
    len += N;
    memcpy(in + len, "\r\n", 2);
    len += 2;
    for (int pass = 0; pass < 2; pass++) {
        struct imc_session s;
        struct scen sc = { 0 };
        setup(&s, &sc);
        imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, check_deep, NULL);
        deep_len = 0;
        deep_ok = 0;
        if (pass == 0) {
            CHECK_INT(imc_session_feed(&s, in, len), 0);
        } else {
            for (size_t i = 0; i < len; i++)
                CHECK_INT(imc_session_feed(&s, in + i, 1), 0);
        }
        CHECK_INT(deep_len, 15 + N);
        CHECK(deep_ok);
        imc_session_free(&s);
    }
    /* With a smaller line limit: refused. */
    struct imc_session s;
    struct scen sc = { .limits = { 65536, 0, 0, 0, 0 } };
    setup(&s, &sc);
    imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, check_deep, NULL);
    deep_len = 0;
    CHECK_INT(imc_session_feed(&s, in, len), -1);
    CHECK_INT(deep_len, 0);
    CHECK_STR(s.error, "protocol error: line longer than the limit");
    imc_session_free(&s);
    free(in);
}

/* A million untagged replies nobody listens to are not stored at all;
 * with a listener, only one at a time.  The command stays pending and
 * completes afterwards. */
static int flood_calls;
static void count_flood(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)rock;
    (void)r;
    flood_calls++;
}

static void untagged_flood(void)
{
    enum { N = 1000000 };
    const char line[] = "* 1 EXISTS\r\n";
    size_t ll = sizeof line - 1;
    char *in = malloc(N * ll);
    for (size_t i = 0; i < N; i++)
        memcpy(in + i * ll, line, ll);
    for (int pass = 0; pass < 3; pass++) {
        struct imc_session s;
        struct scen sc = { .quiet = pass != 2 };
        struct imc_buf wire;
        imc_buf_init(&wire);
        setup(&s, &sc);
        if (pass == 2)
            imc_callbacks_set(&s.callbacks, "EXISTS", CALLBACK_NUMBERED, count_flood, NULL);
        flood_calls = 0;
        send_(&s, "a", "NOOP");
        drain(&s, &wire);
        if (pass == 1) {
            /* In 4 KiB reads, as from a socket, most ending mid-line. */
            for (size_t off = 0; off < N * ll; off += 4093) {
                size_t n = N * ll - off < 4093 ? N * ll - off : 4093;
                CHECK_INT(imc_session_feed(&s, in + off, n), 0);
                CHECK_INT(s.reply.cap, 0);
            }
        } else {
            CHECK_INT(imc_session_feed(&s, in, N * ll), 0);
        }
        CHECK(s.reply.cap <= (pass == 2 ? 256 : 0));
        CHECK(s.framer.partial.cap <= 256);
        CHECK_INT(flood_calls, pass == 2 ? N : 0);
        CHECK_INT(imc_session_inflight(&s), 1);
        CHECK_INT(imc_session_feed(&s, "1 OK\r\n", 6), 0);
        CHECK_STR(imc_buf_cstr(&logbuf), "a|OK|-1|\n");
        teardown(&s, &wire);
    }
    free(in);

    /* SEARCH with a million numbers is one line: over the default limit. */
    struct imc_buf big;
    imc_buf_init(&big);
    imc_buf_appendstr(&big, "* SEARCH");
    for (int i = 1; i <= N; i++) {
        char num[16];
        snprintf(num, sizeof num, " %d", i);
        imc_buf_appendstr(&big, num);
    }
    imc_buf_appendstr(&big, "\r\n");
    struct imc_session s;
    setup_default(&s, NULL);
    CHECK_INT(imc_session_feed(&s, big.data, big.len), -1);
    CHECK_STR(s.error, "protocol error: line longer than the limit");
    CHECK_INT(s.reply.cap, 0);
    imc_session_free(&s);
    imc_buf_free(&big);
}

/* max_reply counts a whole reply as received, "* 1 FETCH " included: lines
 * and literals together (41 bytes here). */
static void reply_limit_counts_everything(void)
{
    EXPECT(&((struct scen){ IN("* 1 FETCH (A {10}\r\n0123456789 B {10}\r\n0123456789)\r\n"),
                            .ncmds = 1, .limits = { 0, 0, 41, 0, 0 } }),
           "c1|EOF|-1|\n=fail reply larger than the limit of 41 bytes inflight=0\n" LATE_EOF);
    EXPECT(&((struct scen){ IN("* 1 FETCH (A {10}\r\n0123456789 B {3}\r\nxyz)\r\n"),
                            .ncmds = 1, .limits = { 0, 0, 41, 0, 0 } }),
           "u|FETCH|1|(A {10}\\r\\n0123456789 B {3}\\r\\nxyz)\n=ok inflight=1\n" NEXT_OK(2));
    /* Nobody listening: no reply is built, so no reply limit applies. */
    EXPECT(&((struct scen){ IN("* 1 FETCH (A {10}\r\n0123456789 B {10}\r\n0123456789)\r\n"),
                            .ncmds = 1, .quiet = 1, .limits = { 0, 0, 40, 0, 0 } }),
           "=ok inflight=1\n" NEXT_OK(2));
}

/* Streams stitched at random from hostile fragments (small limits, so the
 * limits trip too): whatever they do, they must do it the same way however
 * they are split, and (under the sanitizers) without a memory error. */
static uint32_t rng_state;
static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

static void random_streams_split_the_same(void)
{
    static const char *const frag[] = {
        "* OK x\r\n", "1 OK\r\n", "2 NO y\r\n", "3 BAD\r\n", "4 OK\r\n", "+ go\r\n",
        "+\r\n", "* 1 FETCH (", "BODY[] {3}\r\n", "{0}\r\n", "{5}\r\n", "abc", ")",
        "\r\n", "\r", "\n", "* ", "1 ", "OK", " ", "{99999999999}\r\n", "{18446744073709551616}\r\n",
        "* 99999999999999999999 EXISTS\r\n", "* 0 EXPUNGE\r\n", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "* BYE\r\n", "*", "+x\r\n", "1 PREAUTH\r\n", "\xff", "* CAPABILITY {2}\r\nab\r\n",
        "* 2 FETCH (BODY[] {3}\r\nabc)\r\n", "* 3 EXISTS\r\n", "2 OK\r\n", "* OK [ALERT] \0\r\n",
        "* 4 FETCH (A {2}\r\n\r\n B {1}\r\n\n)\r\n", "* LIST () \"/\" {4}\r\n1 OK\r\n",
    };
    rng_state = 20240611u;
    for (int round = 0; round < 4000; round++) {
        char in[1000];
        size_t len = 0;
        int parts = 1 + (int)(rng() % 12);
        for (int i = 0; i < parts; i++) {
            if (rng() % 8 == 0) {
                in[len++] = (char)(rng() & 0xff);
                continue;
            }
            const char *f = frag[rng() % (sizeof frag / sizeof frag[0])];
            size_t fl = strlen(f);
            memcpy(in + len, f, fl);
            len += fl;
        }
        struct scen sc = { in, len, .ncmds = 4, .no_after = 1,
                           .limits = { 48, 8, 96, 0, 0 } };
        size_t wl;
        char *want = play(&sc, len, 0, &wl);
        size_t steps[] = { 1, 2, 3, 5, 1 + rng() % 17 };
        for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
            size_t gl;
            char *got = play(&sc, steps[k], 0, &gl);
            int same = check_mem_equal(__FILE__, __LINE__, "random stream", got, gl, want, wl);
            free(got);
            if (!same) {
                fprintf(stderr, "  round %d, pieces of %zu; input: ", round, steps[k]);
                check_mem_equal(__FILE__, __LINE__, "input", in, len, "", 0);
                free(want);
                return;
            }
        }
        size_t cut = 1 + rng() % (len > 1 ? len - 1 : 1);
        if (cut < len) {
            size_t gl;
            char *got = play(&sc, 0, cut, &gl);
            int same = check_mem_equal(__FILE__, __LINE__, "random stream cut", got, gl, want, wl);
            free(got);
            if (!same) {
                free(want);
                return;
            }
        }
        free(want);
    }
}

/* ---- around a layer switch, the core's part: nothing after the reply that
 * starts a new layer is read in the old one ------------------------------ */

static void pause_stops_at_the_tagged_reply(void)
{
    /* Bytes injected behind STARTTLS's OK, in the same segment, arriving
     * later, or cut at any point: they are left unread, byte for byte, and
     * nothing partial stays. */
    const char ok[] = "* OK [ALERT] prefix.\r\n1 OK begin TLS now.\r\n";
    const char inj[] = "* CAPABILITY IMAP4REV1 AUTH=PLAIN\r\n2 OK capability done.\r\n"
                       "* BYE close the connection please.\r\n* 1 FETCH (BODY[] {3";
    char all[sizeof ok + sizeof inj];
    memcpy(all, ok, sizeof ok - 1);
    memcpy(all + sizeof ok - 1, inj, sizeof inj);
    size_t total = sizeof ok - 1 + sizeof inj - 1;
    for (size_t cut = 1; cut <= total; cut++) {
        struct imc_session s;
        struct imc_buf wire;
        setup_default(&s, &wire);
        send_(&s, "tls", "STARTTLS");
        imc_session_pause_after(&s, imc_session_last_tag(&s));
        send_(&s, "cap", "CAPABILITY");
        drain(&s, &wire);
        CHECK_BYTES(wire.data, wire.len, "1 STARTTLS\r\n2 CAPABILITY\r\n");
        CHECK_INT(imc_session_feed(&s, all, cut), 0);
        size_t unread = s.leftover;
        if (cut < total) {
            CHECK_INT(imc_session_feed(&s, all + cut, total - cut), 0);
            if (cut >= sizeof ok - 1) {
                CHECK_INT(unread, cut - (sizeof ok - 1));
                CHECK_INT(s.leftover, total - cut);
            } else {
                CHECK_INT(unread, 0);
                CHECK_INT(s.leftover, sizeof inj - 1);
            }
        } else {
            CHECK_INT(unread, sizeof inj - 1);
        }
        CHECK(s.paused);
        CHECK(imc_session_at_boundary(&s));
        /* The prefix is delivered (the core cannot know it is untrusted);
         * the suffix is not. */
        CHECK_STR(imc_buf_cstr(&logbuf),
                  "u|OK|-1|[ALERT] prefix.\ntls|OK|-1|begin TLS now.\n");
        CHECK_INT(imc_session_inflight(&s), 1);
        teardown(&s, &wire);
    }
}

/* Bytes behind AUTHENTICATE's OK, the core's part: the tagged reply
 * completing a SASL exchange, with bytes after it in the same read: they
 * are left for the security layer. */
static void pause_after_authenticate(void)
{
    struct imc_session s;
    struct imc_buf wire;
    setup_default(&s, &wire);
    send_(&s, "auth", "AUTHENTICATE GSSAPI");
    imc_session_pause_after(&s, imc_session_last_tag(&s));
    drain(&s, &wire);
    const char in[] = "1 OK done\r\n* 1 EXISTS\r\n";
    CHECK_INT(imc_session_feed(&s, in, sizeof in - 1), 0);
    CHECK_INT(s.leftover, 12);
    CHECK_STR(imc_buf_cstr(&logbuf), "auth|OK|-1|done\n");
    /* While paused, no output goes in the old layer either... */
    send_(&s, "noop", "NOOP");
    /* ...which is the façade's rule (imc_flush); the core still queues it. */
    CHECK(imc_session_has_output(&s));
    teardown(&s, &wire);
}

/* Untagged data before STARTTLS's reply reaches callbacks verbatim,
 * including a literal that holds reply-shaped bytes, and none of it stays
 * buffered once the pause point is reached. */
static void untagged_before_pause(void)
{
    const char in[] =
        "* LIST () \"/\" 7XiYhgS7\r\n"
        "* STATUS INBOX (MESSAGES 718001 RECENT 718002 UIDNEXT 718003 UNSEEN 718004 "
        "UIDVALIDITY 718005)\r\n"
        "* 54321 EXISTS\r\n"
        "* 1 FETCH (BODY[] {28}\r\nFrom: Injected\r\n\r\nInjected\r\n)\r\n"
        "* OK [BADCHARSET (kkgIhdNV)] MyF21bpV\r\n"
        "1 OK ready for starttls\r\n";
    struct imc_session s;
    struct imc_buf wire;
    setup_default(&s, &wire);
    send_(&s, "tls", "STARTTLS");
    imc_session_pause_after(&s, imc_session_last_tag(&s));
    drain(&s, &wire);
    for (size_t i = 0; i < sizeof in - 1; i++)
        CHECK_INT(imc_session_feed(&s, in + i, 1), 0);
    CHECK_STR(imc_buf_cstr(&logbuf),
              "u|LIST|-1|() \"/\" 7XiYhgS7\n"
              "u|STATUS|-1|INBOX (MESSAGES 718001 RECENT 718002 UIDNEXT 718003 UNSEEN "
              "718004 UIDVALIDITY 718005)\n"
              "u|EXISTS|54321|\n"
              "u|FETCH|1|(BODY[] {28}\\r\\nFrom: Injected\\r\\n\\r\\nInjected\\r\\n)\n"
              "u|OK|-1|[BADCHARSET (kkgIhdNV)] MyF21bpV\n"
              "tls|OK|-1|ready for starttls\n");
    CHECK(s.paused);
    CHECK_INT(s.leftover, 0);
    CHECK(imc_session_at_boundary(&s));
    CHECK_INT(s.reply.len, 0);
    teardown(&s, &wire);
}

/* ---- callbacks that act on the session ------------------------------------ */

/* The façade fails the session from inside a callback when a write made by
 * imclient_send() there fails; the reply the callback holds must survive
 * until it returns. */
static char held[64];
static void fail_then_read(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct imc_session *s = rock;
    imc_session_fail(s, "writing to server: Broken pipe");
    snprintf(held, sizeof held, "%s|%.*s", r->keyword, (int)r->textlen, r->text);
}

static void failure_inside_callback(void)
{
    struct imc_session s;
    struct imc_buf wire;
    setup_default(&s, &wire);
    imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, fail_then_read, &s);
    send_(&s, "a", "FETCH 1 BODY[]");
    drain(&s, &wire);
    held[0] = '\0';
    const char in[] = "* 1 FETCH (BODY[] {5}\r\nhello)\r\n* 2 EXISTS\r\n1 OK\r\n";
    CHECK_INT(imc_session_feed(&s, in, sizeof in - 1), -1);
    CHECK_STR(held, "FETCH|(BODY[] {5}\r\nhello)");
    CHECK_STR(imc_buf_cstr(&logbuf), "a|EOF|-1|\n");
    CHECK_STR(s.error, "writing to server: Broken pipe");
    teardown(&s, &wire);
}

/* A "+" callback that sends a command the encoder refuses gets a "BAD" for
 * it; its own reply must still say "+". */
static char plus_seen[32];
static void refused_inside_plus(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct imc_session *s = rock;
    send_(s, "refused", "SELECT %a", "two words");
    snprintf(plus_seen, sizeof plus_seen, "%s|%s", r->keyword, r->text);
}

static void refusal_inside_callback(void)
{
    struct imc_session s;
    setup_default(&s, NULL);
    imc_callbacks_set(&s.callbacks, "+", 0, refused_inside_plus, &s);
    plus_seen[0] = '\0';
    CHECK_INT(imc_session_feed(&s, "+ idling\r\n", 10), 0);
    CHECK_STR(plus_seen, "+|idling");
    CHECK(strncmp(imc_buf_cstr(&logbuf), "refused|BAD|-1|[CLIENTBUG]", 26) == 0);
    imc_session_free(&s);
}

static void send_with(struct imc_session *s, imclient_proc_t *proc, void *rock,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    imc_session_send(s, proc, rock, fmt, ap);
    va_end(ap);
}

/* EOF callbacks that send again are answered with EOF at once: each
 * command completes exactly once and the failure ends. */
static int eof_calls;
static void resend_on_eof(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    eof_calls++;
    if (strcmp(r->keyword, "EOF") == 0)
        send_((struct imc_session *)rock, "again", "NOOP");
}

static void eof_callbacks_that_send(void)
{
    struct imc_session s;
    struct imc_buf wire;
    setup_default(&s, &wire);
    eof_calls = 0;
    send_with(&s, resend_on_eof, &s, "NOOP");
    send_with(&s, resend_on_eof, &s, "NOOP");
    drain(&s, &wire);
    CHECK_INT(imc_session_feed(&s, "7 OK\r\n", 6), -1);
    CHECK_INT(eof_calls, 2);
    CHECK_STR(imc_buf_cstr(&logbuf), "again|EOF|-1|\nagain|EOF|-1|\n");
    CHECK_INT(imc_session_inflight(&s), 0);
    /* Failing again delivers nothing more. */
    imc_session_fail(&s, "again");
    CHECK_INT(eof_calls, 2);
    teardown(&s, &wire);
}

/* ---- what goes out --------------------------------------------------------- */

static char *encode(int nonsync, const char *fmt, ...)
{
    struct imc_session s;
    struct imc_buf wire;
    setup_default(&s, &wire);
    s.flags = nonsync ? IMCLIENT_CONN_NONSYNCLITERAL : 0;
    va_list ap;
    va_start(ap, fmt);
    int r = imc_session_send(&s, record, "cmd", fmt, ap);
    va_end(ap);
    /* Release every literal so the whole command shows. */
    for (int i = 0; i < 20; i++) {
        drain(&s, &wire);
        if (imc_session_has_output(&s))
            imc_session_feed(&s, "+ go\r\n", 6);
    }
    struct imc_buf out;
    imc_buf_init(&out);
    if (r < 0) {
        imc_buf_appendstr(&out, "REFUSED ");
        imc_buf_appendstr(&out, imc_buf_cstr(&logbuf));
    }
    imc_buf_append(&out, wire.data, wire.len);
    teardown(&s, &wire);
    return imc_buf_cstr(&out);
}

#define CHECK_ENCODED(got, want)                                              \
    do {                                                                      \
        char *g2_ = (got);                                                    \
        int same_ = check_mem_equal(__FILE__, __LINE__, #got, g2_, strlen(g2_), \
                                    (want), strlen(want));                    \
        free(g2_);                                                            \
        if (!same_)                                                           \
            return;                                                           \
    } while (0)

static void atoms_refuse_injection(void)
{
    static const char *const bad[] = {
        "INBOX\r\n2 DELETE x", "INBOX\n", "IN\rBOX", "two words", "a\"b", "(x", "x)",
        "{5}", "a{5+}", "\xc3\xa9t\xc3\xa9", "\x7f", "tab\there", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *got = encode(0, "SELECT %a", bad[i]);
        int ok = strncmp(got, "REFUSED cmd|BAD|-1|[CLIENTBUG] imclient_send: ", 46) == 0 &&
                 strchr(got, '\r') == NULL && strstr(got, "DELETE") == NULL;
        if (!ok)
            check_fail(__FILE__, __LINE__, "%%a \"%s\" gave \"%s\"", bad[i], got);
        free(got);
        if (!ok)
            return;
    }
    /* What %a is for: flags, fetch items, sequence sets. */
    CHECK_ENCODED(encode(0, "FETCH %a %a %a", "1:*", "BODY.PEEK[HEADER.FIELDS]", "\\Seen"),
                  "1 FETCH 1:* BODY.PEEK[HEADER.FIELDS] \\Seen\r\n");
}

static void strings_quoted_or_literal(void)
{
    CHECK_ENCODED(encode(0, "SELECT %s", "INBOX\r\n2 DELETE x"),
                  "1 SELECT {17}\r\nINBOX\r\n2 DELETE x\r\n");
    CHECK_ENCODED(encode(1, "SELECT %s", "INBOX\r\n2 DELETE x"),
                  "1 SELECT {17+}\r\nINBOX\r\n2 DELETE x\r\n");
    CHECK_ENCODED(encode(0, "X %s %s %s %s %s", "a\"b", "a\\b", "a b", "", "nil"),
                  "1 X \"a\\\"b\" \"a\\\\b\" \"a b\" \"\" \"nil\"\r\n");
    CHECK_ENCODED(encode(0, "X %s %s %s", "\"", "\\", "\"\\\"\\"),
                  "1 X \"\\\"\" \"\\\\\" \"\\\"\\\\\\\"\\\\\"\r\n");
    CHECK_ENCODED(encode(0, "X %s %s %s", "a\rb", "a\nb", "\xc3\xa9"),
                  "1 X {3}\r\na\rb {3}\r\na\nb {2}\r\n\xc3\xa9\r\n");
    CHECK_ENCODED(encode(0, "X %s %s %s %s", "a*", "a%", "a(", "]"),
                  "1 X \"a*\" \"a%\" \"a(\" ]\r\n");
    /* %v: each element an astring on its own merits; "\\Seen" is not an
     * astring atom, so it is quoted (flag lists want %a). */
    char *v[] = { "\\Seen", "a b", "x\r\ny", "", NULL };
    CHECK_ENCODED(encode(0, "STORE 1 FLAGS (%v)", v),
                  "1 STORE 1 FLAGS (\"\\\\Seen\" \"a b\" {4}\r\nx\r\ny \"\")\r\n");
    CHECK_ENCODED(encode(1, "STORE 1 FLAGS (%v)", v),
                  "1 STORE 1 FLAGS (\"\\\\Seen\" \"a b\" {4+}\r\nx\r\ny \"\")\r\n");
    char *empty[] = { NULL };
    CHECK_ENCODED(encode(0, "X (%v)", empty), "1 X ()\r\n");

    /* 1023 quotable bytes stay quoted; 1024 become a literal whose size is
     * written in full. */
    static char s1023[1024], s1024[1025], big[100001];
    memset(s1023, 'q', 1023);
    s1023[0] = ' ';
    memset(s1024, 'q', 1024);
    memset(big, 'z', 100000);
    char *got = encode(0, "X %s", s1023);
    CHECK_INT(strlen(got), 2 + 2 + 1023 + 2 + 2);
    CHECK(strncmp(got, "1 X \" qq", 8) == 0);
    free(got);
    got = encode(0, "X %s", s1024);
    CHECK(strncmp(got, "1 X {1024}\r\nqq", 14) == 0);
    CHECK_INT(strlen(got), 12 + 1024 + 2);
    free(got);
    got = encode(1, "X %s", big);
    CHECK(strncmp(got, "1 X {100000+}\r\nzz", 17) == 0);
    CHECK_INT(strlen(got), 15 + 100000 + 2);
    free(got);

    /* Refusals: no wire bytes, and the session is not harmed. */
    got = encode(0, "X %s", (char *)NULL);
    int refused = strncmp(got, "REFUSED cmd|BAD|-1|[CLIENTBUG]", 30) == 0;
    free(got);
    CHECK(refused);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(completion_without_text),
        TEST(status_malformed),
        TEST(literal_sizes_refused_at_the_header),
        TEST(malformed_literal_header_in_data),
        TEST(long_fields_and_numbers),
        TEST(codes_and_sets_are_text),
        TEST(empty_capability),
        TEST(huge_and_odd_counts),
        TEST(id_forms),
        TEST(hostile_names_verbatim),
        TEST(terminators),
        TEST(nul_bytes),
        TEST(literal_forms),
        TEST(bad_greetings),
        TEST(tagged_status_must_be_known),
        TEST(tags_not_in_flight),
        TEST(reply_to_command_behind_barrier),
        TEST(continuation_forms),
        TEST(bye_then_close),
        TEST(end_of_stream_mid_reply),
        TEST(big_literals_bounded),
        TEST(literal_trickle),
        TEST(many_tiny_literals),
        TEST(endless_line),
        TEST(line_limit_edges),
        TEST(deep_nesting),
        TEST(untagged_flood),
        TEST(reply_limit_counts_everything),
        TEST(random_streams_split_the_same),
        TEST(pause_stops_at_the_tagged_reply),
        TEST(pause_after_authenticate),
        TEST(untagged_before_pause),
        TEST(failure_inside_callback),
        TEST(refusal_inside_callback),
        TEST(eof_callbacks_that_send),
        TEST(atoms_refuse_injection),
        TEST(strings_quoted_or_literal),
    };
    int r = check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
    imc_buf_free(&logbuf);
    return r;
}
