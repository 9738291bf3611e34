/*
 * The typed helpers of <cyrus/imparse.h> on what real Dovecot 2.3 and
 * Cyrus imapd 3.6 send (tests/servers/all.sh starts them).  Over STARTTLS
 * (verified against the throwaway CA), logged in with LOGIN:
 *
 *  - messages: six messages written for this test (plain text; multipart
 *    with a base64 attachment; nested multiparts with a message/rfc822
 *    that is itself multipart; RFC 2047 words, groups and escaped display
 *    names; no subject and few headers; a text part with parameters and
 *    every extension field) are appended, then STATUS, SELECT, FETCH of
 *    every message (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE
 *    BODYSTRUCTURE, a header field, a partial body, MODSEQ and BINARY
 *    where offered), SEARCH, ESEARCH, COPY; every reply goes through the
 *    helpers and its values are compared with the messages' bytes.
 *  - mailboxes: names with umlauts, CJK, a space and "&", created in
 *    modified UTF-7 and read back from LIST, LSUB and STATUS, raw and as
 *    UTF-8.
 *
 * The response codes met on the way (CAPABILITY in the greeting and the
 * LOGIN completion, UIDVALIDITY, UIDNEXT, PERMANENTFLAGS from SELECT,
 * APPENDUID, COPYUID, HIGHESTMODSEQ) are parsed with imparse_code.
 *
 * Without the servers' variables the program skips and succeeds, unless
 * IMC_REQUIRE_SERVERS=1.  IMC_REAL_SHOW=1 prints every untagged reply;
 * IMC_PARSE_SEEDS=DIR saves every reply text as a fuzz seed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, timegm */
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "realenv.h"
#include <cyrus/imapurl.h>
#include <cyrus/imclient.h>
#include <cyrus/imparse.h>

/* ---- servers ------------------------------------------------------------- */

static struct realenv_server *servers;

static const char *ca_file;

/* ---- one connection and what it received ---------------------------------- */

/* An untagged reply, copied: the library's text lives only while the
 * callback runs. */
struct entry {
    char keyword[32];
    long msgno;
    char *text;
    size_t len;
};

struct ctx {
    const struct realenv_server *srv;
    struct imclient *c;
    struct entry *log;
    size_t n, cap;
    size_t mark;          /* log entries before the last command was sent */
    int done;             /* the last command completed */
    struct entry fin;     /* its completion */
    char delim;           /* the server's hierarchy delimiter */
    char caps[4096];      /* capabilities in force, space separated */
    char made[8][160];    /* mailboxes this test created and has not deleted */
    int nmade;
};

static char *copy_bytes(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        abort();
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* IMC_PARSE_SEEDS=DIR writes every reply text there, one file each, named
 * by server, keyword and arrival: the seeds of fuzz/corpus/imparse. */
static void save_seed(const struct ctx *x, const char *keyword, const char *text, size_t len)
{
    static unsigned serial;
    const char *dir = getenv("IMC_PARSE_SEEDS");
    if (!dir || !*dir)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s_%s_%04u", dir, x->srv->name, keyword, serial++);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(text, 1, len, f);
        fclose(f);
    }
}

static void on_untagged(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct ctx *x = rock;
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 64;
        x->log = realloc(x->log, x->cap * sizeof *x->log);
        if (!x->log)
            abort();
    }
    struct entry *e = &x->log[x->n++];
    snprintf(e->keyword, sizeof e->keyword, "%s", r->keyword);
    e->msgno = r->msgno;
    e->text = copy_bytes(r->text, r->textlen);
    e->len = r->textlen;
    save_seed(x, r->keyword, r->text, r->textlen);
    if (getenv("IMC_REAL_SHOW"))
        fprintf(stderr, "[%s] * %s%s %.*s\n", x->srv->name,
                r->msgno >= 0 ? "n " : "", r->keyword, (int)(r->textlen > 600 ? 600 : r->textlen),
                r->text);
}

static void on_done(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct ctx *x = rock;
    free(x->fin.text);
    snprintf(x->fin.keyword, sizeof x->fin.keyword, "%s", r->keyword);
    x->fin.text = copy_bytes(r->text, r->textlen);
    x->fin.len = r->textlen;
    save_seed(x, "tagged", r->text, r->textlen);
    x->done++;
}

static void wait_done(struct ctx *x)
{
    time_t deadline = time(NULL) + 30;
    while (!x->done && time(NULL) < deadline)
        if (imclient_processoneevent_timeout(x->c, 1000) < 0)
            break;
}

/* Send a command and wait for its completion, returned in x->fin (keyword
 * "" if none came); its untagged replies are x->log[x->mark ..]. */
#define RUN(x, ...)                                                            \
    ((x)->mark = (x)->n, (x)->done = 0, (x)->fin.keyword[0] = '\0',            \
     imclient_send((x)->c, on_done, (x), __VA_ARGS__), wait_done(x), &(x)->fin)

#define CHECK_OK(call)                                                         \
    do {                                                                       \
        const struct entry *f_ = (call);                                       \
        if (strcmp(f_->keyword, "OK") != 0) {                                  \
            check_fail(__FILE__, __LINE__, "%s: %s %s", #call, f_->keyword,    \
                       f_->text ? f_->text : "");                              \
            return;                                                            \
        }                                                                      \
    } while (0)

/* The ith untagged reply with this keyword since the last command. */
static const struct entry *reply(const struct ctx *x, const char *keyword, int i)
{
    for (size_t k = x->mark; k < x->n; k++)
        if (strcmp(x->log[k].keyword, keyword) == 0 && i-- == 0)
            return &x->log[k];
    return NULL;
}

static int replies(const struct ctx *x, const char *keyword)
{
    int n = 0;
    while (reply(x, keyword, n))
        n++;
    return n;
}

static void close_ctx(struct ctx *x)
{
    if (x->c)
        imclient_close(x->c);
    x->c = NULL;
    for (size_t i = 0; i < x->n; i++)
        free(x->log[i].text);
    free(x->log);
    free(x->fin.text);
    x->log = NULL;
    x->fin.text = NULL;
    x->n = x->cap = 0;
}

/* ---- values ----------------------------------------------------------------- */

#define STR_IS(s, want) CHECK_BYTES((s).data, (s).len, want)
/* Types, subtypes, encodings and parameter names: Cyrus sends them in
 * upper case, Dovecot as written. */
#define STR_CI(s, want)                                                        \
    do {                                                                       \
        if (!imparse_str_eq(&(s), want)) {                                     \
            check_fail(__FILE__, __LINE__, "%s: got \"%.*s\", want \"%s\"", #s, \
                       (int)(s).len, (s).data ? (s).data : "", want);           \
            return;                                                            \
        }                                                                      \
    } while (0)
/* A string's value (quoted strings unescaped) equals want. */
#define VALUE_IS(s, want)                                                      \
    do {                                                                       \
        char vbuf_[512];                                                       \
        size_t vlen_;                                                          \
        CHECK_INT(imparse_str_copy(&(s), vbuf_, sizeof vbuf_, &vlen_), 0);     \
        CHECK_MEM(vbuf_, vlen_, want, strlen(want));                           \
    } while (0)

static int has_cap(const struct ctx *x, const char *name)
{
    return imparse_capability_has(x->caps, strlen(x->caps), name) == 1;
}

/* Remember the capabilities a [CAPABILITY ...] code lists. */
static void take_caps(struct ctx *x, const struct imparse_code *code)
{
    struct imparse_iter it;
    struct imparse_str s;
    size_t n = 0;
    imparse_iter_begin(&it, &code->data);
    while (imparse_iter_next(&it, &s) == 1 && n + s.len + 2 < sizeof x->caps) {
        memcpy(x->caps + n, s.data, s.len);
        n += s.len;
        x->caps[n++] = ' ';
    }
    x->caps[n ? n - 1 : 0] = '\0';
}

/* The response code of a status text, which must be of this kind. */
static int code_of(const char *text, size_t len, enum imparse_code_kind kind,
                   struct imparse_code *code)
{
    size_t pos;
    int r = imparse_code(text, len, code, &pos);
    if (r != 1 || code->kind != kind) {
        fprintf(stderr, "  no code of kind %d in \"%.*s\" (%d at %zu)\n", (int)kind, (int)len,
                text, r, pos);
        return 0;
    }
    return 1;
}

/* The ranges of a uid set as "a:b,c" with ranges in the order sent. */
static int seqset_str(const struct imparse_str *s, char *out, size_t size)
{
    struct imparse_seqset it;
    uint32_t lo, hi;
    size_t n = 0;
    int r;
    out[0] = '\0';
    imparse_seqset_begin(&it, s, NULL);
    while ((r = imparse_seqset_next(&it, &lo, &hi)) == 1) {
        int w = lo == hi ? snprintf(out + n, size - n, "%s%u", n ? "," : "", lo)
                         : snprintf(out + n, size - n, "%s%u:%u", n ? "," : "", lo, hi);
        if (w < 0 || (size_t)w >= size - n)
            return -1;
        n += (size_t)w;
    }
    return r;
}

/* Every number in a uid set, expanded and sorted ascending into a[]. */
static int seqset_expand(const struct imparse_str *s, uint32_t *a, int max)
{
    struct imparse_seqset it;
    uint32_t lo, hi;
    int n = 0, r;
    imparse_seqset_begin(&it, s, NULL);
    while ((r = imparse_seqset_next(&it, &lo, &hi)) == 1) {
        if (lo > hi) {
            uint32_t t = lo;
            lo = hi;
            hi = t;
        }
        for (uint32_t v = lo; v <= hi; v++) {
            if (n == max)
                return -1;
            a[n++] = v;
        }
    }
    if (r < 0)
        return r;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && a[j - 1] > a[j]; j--) {
            uint32_t t = a[j];
            a[j] = a[j - 1];
            a[j - 1] = t;
        }
    return n;
}

/* ---- connecting --------------------------------------------------------------- */

/* Connect, check the greeting's CAPABILITY code, STARTTLS, LOGIN and its
 * completion's CAPABILITY code. */
static void open_session(struct ctx *x, const struct realenv_server *s)
{
    memset(x, 0, sizeof *x);
    x->srv = s;
    /* By name, for the certificate's check. */
    CHECK_INT(imclient_connect(&x->c, "localhost", s->port), 0);
    struct imclient_limits lim = { 0, 0, 0, 20000, 0 };
    imclient_setlimits(x->c, &lim);
    imclient_addcallback(x->c, "", 0, on_untagged, x, "FETCH", CALLBACK_NUMBERED, on_untagged,
                         x, "EXISTS", CALLBACK_NUMBERED, on_untagged, x, "RECENT",
                         CALLBACK_NUMBERED, on_untagged, x, "EXPUNGE", CALLBACK_NUMBERED,
                         on_untagged, x, NULL);
    time_t deadline = time(NULL) + 20;
    while (x->n == 0 && time(NULL) < deadline)
        if (imclient_processoneevent_timeout(x->c, 1000) < 0)
            break;
    CHECK(x->n >= 1);
    const struct entry *g = &x->log[0];
    CHECK_STR(g->keyword, "OK");
    struct imparse_code code;
    CHECK(code_of(g->text, g->len, IMPARSE_CODE_CAPABILITY, &code));
    CHECK_INT(imparse_iter_has(&code.data, "IMAP4rev1"), 1);
    CHECK_INT(imparse_iter_has(&code.data, "STARTTLS"), 1);
    CHECK_INT(imparse_iter_has(&code.data, "AUTH=PLAIN"), 1);
    CHECK(code.text.len > 0);

    CHECK(ca_file != NULL);
    if (imclient_starttls(x->c, NULL, NULL, (char *)ca_file, NULL) != 0) {
        check_fail(__FILE__, __LINE__, "STARTTLS: %s", imclient_error(x->c));
        return;
    }
    const struct entry *f = RUN(x, "LOGIN %s %s", s->user, s->pass);
    CHECK_OK(f);
    CHECK(code_of(f->text, f->len, IMPARSE_CODE_CAPABILITY, &code));
    CHECK_INT(imparse_iter_has(&code.data, "IMAP4rev1"), 1);
    /* Both servers list STARTTLS only before TLS. */
    CHECK_INT(imparse_iter_has(&code.data, "STARTTLS"), 0);
    take_caps(x, &code);
    CHECK(has_cap(x, "UIDPLUS") && has_cap(x, "ESEARCH") && has_cap(x, "CONDSTORE"));

    /* The delimiter, from LIST "" "". */
    CHECK_OK(RUN(x, "LIST \"\" \"\""));
    const struct entry *l = reply(x, "LIST", 0);
    CHECK(l != NULL);
    struct imparse_list li;
    size_t pos;
    CHECK_INT(imparse_list(l->text, l->len, &li, &pos), 0);
    CHECK_INT(imparse_iter_has(&li.attributes, "\\Noselect"), 1);
    CHECK(li.delim == '.' || li.delim == '/');
    x->delim = li.delim;
    CHECK(li.mailbox.len == 0);
}

static void forget_made(struct ctx *x, const char *name)
{
    for (int i = 0; i < x->nmade; i++)
        if (strcmp(x->made[i], name) == 0) {
            memmove(x->made[i], x->made[i + 1], (size_t)(x->nmade - i - 1) * sizeof x->made[0]);
            x->nmade--;
            return;
        }
}

static void create(struct ctx *x, const char *name)
{
    CHECK(x->nmade < 8 && strlen(name) < sizeof x->made[0]);
    CHECK_OK(RUN(x, "CREATE %s", name));
    snprintf(x->made[x->nmade++], sizeof x->made[0], "%s", name);
}

/* Deletes what a scenario left, over a connection of its own: a failed
 * scenario's connection may be unusable.  Children were made after their
 * parent, so they go first. */
static void cleanup(struct ctx *x)
{
    int nmade = x->nmade;
    char made[8][160];
    memcpy(made, x->made, sizeof made);
    close_ctx(x);
    if (nmade == 0)
        return;
    struct ctx y;
    int failed = check_failed_now;
    open_session(&y, x->srv);
    check_failed_now = failed;
    for (int i = nmade - 1; i >= 0 && y.c; i--) {
        (void)RUN(&y, "UNSUBSCRIBE %s", made[i]);
        if (strcmp(RUN(&y, "DELETE %s", made[i])->keyword, "OK") != 0)
            fprintf(stderr, "  [%s] could not delete \"%s\"\n", x->srv->name, made[i]);
    }
    close_ctx(&y);
}

static void base_name(char *out, size_t size, const char *what)
{
    static int serial;
    snprintf(out, size, "imc parse %s %ld-%ld-%d", what, (long)getpid(), (long)time(NULL),
             ++serial);
}

/* ---- the messages ------------------------------------------------------------ */

/* A 48-byte attachment with NUL and 8-bit bytes, and its base64. */
static const unsigned char attachment[48] = {
    0x00, 0x01, 0x02, 0x03, 0xff, 0xfe, 0x80, 0x7f, 0x0d, 0x0a, 0x0d, 0x0a, 'I', 'M', 'A', 'P',
    '{',  '5',  '}',  0x0d, 0x0a, '"',  '\\', ' ',  0x00, 0x00, 0xc3, 0xbc, 0xe6, 0x97, 0xa5, 0x29,
    0x28, 0x5b, 0x5d, 0x2a, 0x25, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0,
};
#define ATTACHMENT_B64 "AAECA//+gH8NCg0KSU1BUHs1fQ0KIlwgAADDvOaXpSkoW10qJRAgMEBQYHCQoLDA"

static const char m_plain[] =
    "Date: Tue, 01 Dec 2026 09:00:00 +0000\r\n"
    "From: Alice Example <alice@example.org>\r\n"
    "To: bob@example.net\r\n"
    "Subject: plain text message\r\n"
    "Message-ID: <plain-1@imc.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "this is a plain text message.\r\n"
    "Regards, Alice\r\n";

static const char m_attach[] =
    "Date: Tue, 01 Dec 2026 09:05:00 +0100\r\n"
    "From: \"Carol Q. Public\" <carol@example.com>\r\n"
    "Subject: report attached\r\n"
    "To: alice@example.org\r\n"
    "Message-ID: <attach-2@imc.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"=_b1\"\r\n"
    "\r\n"
    "This is a multi-part message in MIME format.\r\n"
    "\r\n"
    "--=_b1\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "See the attached file.\r\n"
    "\r\n"
    "--=_b1\r\n"
    "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
    "\r\n" ATTACHMENT_B64 "\r\n"
    "\r\n"
    "--=_b1--\r\n";

static const char m_nested[] =
    "Date: Tue, 01 Dec 2026 09:10:00 -0500\r\n"
    "From: Frank <frank@example.org>\r\n"
    "To: alice@example.org\r\n"
    "Subject: nested parts\r\n"
    "Message-ID: <nested-3@imc.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "Intro text.\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
    "\r\n"
    "--alt\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "plain version\r\n"
    "\r\n"
    "--alt\r\n"
    "Content-Type: text/html; charset=us-ascii\r\n"
    "\r\n"
    "<p>html version</p>\r\n"
    "\r\n"
    "--alt--\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Description: forwarded\r\n"
    "\r\n"
    "Date: Mon, 30 Nov 2026 18:00:00 +0000\r\n"
    "From: George <george@example.org>\r\n"
    "To: frank@example.org\r\n"
    "Subject: inner message\r\n"
    "Message-ID: <inner-3@imc.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"inner\"\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "inner text\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: image/png; name=\"dot.png\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: inline; filename=\"dot.png\"\r\n"
    "\r\n"
    "iVBORw0KGgo=\r\n"
    "\r\n"
    "--inner--\r\n"
    "\r\n"
    "--outer--\r\n";

/* Subject: "日本語の件名 and café"; From: "Jürgen Müller"; a group, an
 * escaped quoted name and an ISO-8859-1 word in Cc. */
static const char m_words[] =
    "Date: Tue, 01 Dec 2026 09:15:00 +0000\r\n"
    "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>\r\n"
    "To: team: anna@example.org, \"Ben, Jr.\" <ben@example.org>;, zoe@example.org\r\n"
    "Cc: \"Quote \\\\ back\\\"slash\" <q@example.org>,\r\n"
    " =?ISO-8859-1?Q?Andr=E9?= <andre@example.fr>\r\n"
    "Subject: =?UTF-8?B?5pel5pys6Kqe44Gu5Lu25ZCN?= and =?UTF-8?Q?caf=C3=A9?=\r\n"
    "Message-ID: <words-4@imc.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Gr=C3=BC=C3=9Fe\r\n";

static const char m_bare[] =
    "Subject: \r\n"
    "X-Note: no From, no Date, no Message-ID, no MIME headers\r\n"
    "\r\n"
    "body only\r\n";

static const char m_ext[] =
    "Date: Tue, 01 Dec 2026 09:20:00 +0000\r\n"
    "From: Hanna <hanna@example.org>\r\n"
    "To: alice@example.org\r\n"
    "Subject: extension data\r\n"
    "Message-ID: <ext-6@imc.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "Content-ID: <notes@imc.test>\r\n"
    "Content-Description: Some notes\r\n"
    "Content-Disposition: inline; filename=\"notes.txt\"\r\n"
    "Content-Language: de, en\r\n"
    "Content-Location: http://example.org/notes.txt\r\n"
    "\r\n"
    "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln. \r\n"
    "Zweite Zeile.\r\n";

struct fixture {
    const char *text;
    size_t len;
    int seen;             /* appended with \Seen */
    const char *part1;    /* what starts part 1's body: 10 bytes or more */
    const char *part1_end; /* what follows it: the boundary, or "" for the end */
};

#define FIX(m, seen, p1, p1end) { m, sizeof m - 1, seen, p1, p1end }
static const struct fixture fixtures[] = {
    FIX(m_plain, 0, "Hello Bob,", ""),
    FIX(m_attach, 1, "See the attached", "\r\n--=_b1\r\n"),
    FIX(m_nested, 0, "Intro text.", "\r\n--outer\r\n"),
    FIX(m_words, 1, "Gr=C3=BC=C3=9Fe", ""),
    FIX(m_bare, 0, "body only\r\n", ""),
    FIX(m_ext, 0, "Gr\xc3\xbc\xc3\x9f" "e aus", ""),
};
#define NFIX ((int)(sizeof fixtures / sizeof fixtures[0]))

/* Where a part's body lies in a message: from the first occurrence of
 * start to the first following occurrence of end ("" for the end). */
static size_t part_size(const char *m, size_t mlen, const char *start, const char *end,
                        const char **at)
{
    const char *s = memmem(m, mlen, start, strlen(start));
    if (!s)
        abort();
    *at = s;
    if (!*end)
        return mlen - (size_t)(s - m);
    const char *e = memmem(s, mlen - (size_t)(s - m), end, strlen(end));
    if (!e)
        abort();
    return (size_t)(e - s);
}

static size_t body_size(const char *m, const char *start, const char *end, uint64_t *lines)
{
    const char *at;
    size_t n = part_size(m, strlen(m), start, end, &at);
    *lines = 0;
    for (size_t i = 0; i + 1 < n; i++)
        *lines += at[i] == '\r' && at[i + 1] == '\n';
    return n;
}

/* The Subject field as BODY[HEADER.FIELDS (SUBJECT)] gives it: the line
 * and the blank line that ends the header. */
static void subject_field(const char *m, char *out, size_t size)
{
    const char *s = strncmp(m, "Subject:", 8) == 0 ? m : strstr(m, "\r\nSubject:");
    if (s && s != m)
        s += 2;
    const char *e = s ? strstr(s, "\r\n") : NULL;
    snprintf(out, size, "%.*s%s\r\n", s ? (int)(e + 2 - s) : 0, s ? s : "", "");
}

/* The INTERNALDATE each message is appended with: 1 to 6 Nov 2026, 09:30
 * at UTC+01:00 (08:30 UTC).  In the past: Dovecot takes the time of the
 * APPEND for a date in the future. */
static void append_date(int i, char *out, size_t size)
{
    snprintf(out, size, "%02d-Nov-2026 09:30:00 +0100", i + 1);
}

static long long utc_minutes(const struct imparse_datetime *d)
{
    struct tm tm = { 0 };
    tm.tm_year = d->year - 1900;
    tm.tm_mon = d->month - 1;
    tm.tm_mday = d->day;
    tm.tm_hour = d->hour;
    tm.tm_min = d->minute;
    tm.tm_sec = d->second;
    return (long long)timegm(&tm) / 60 - d->zone;
}

/* ---- checks of each message's envelope and structure ------------------------ */

/* The next address: its kind, and mailbox and host (NULL for NIL). */
static int addr_is(struct imparse_iter *it, struct imparse_address *a,
                   enum imparse_addr_kind kind, const char *mbox, const char *host)
{
    int r = imparse_addresses_next(it, a);
    if (r != 1 || a->kind != kind) {
        fprintf(stderr, "  address: %d, kind %d, want %d\n", r, r == 1 ? (int)a->kind : -1,
                (int)kind);
        return 0;
    }
    const struct imparse_str *got[2] = { &a->mailbox, &a->host };
    const char *want[2] = { mbox, host };
    for (int i = 0; i < 2; i++) {
        char v[256];
        size_t n;
        if (!want[i] ? got[i]->type != IMPARSE_NIL
                     : imparse_str_copy(got[i], v, sizeof v, &n) != 0 || strcmp(v, want[i]) != 0) {
            fprintf(stderr, "  address: \"%.*s\" \"%.*s\", want %s %s\n", (int)a->mailbox.len,
                    a->mailbox.data ? a->mailbox.data : "", (int)a->host.len,
                    a->host.data ? a->host.data : "", mbox ? mbox : "NIL", host ? host : "NIL");
            return 0;
        }
    }
    return 1;
}

#define ADDR(it, a, kind_, mbox, host_) CHECK(addr_is(&(it), &(a), kind_, mbox, host_))

#define ADDR_END(it, a)                                                        \
    do {                                                                       \
        CHECK_INT(imparse_addresses_next(&(it), &(a)), 0);                     \
    } while (0)

static void check_envelope(int i, const struct imparse_envelope *e)
{
    struct imparse_iter it;
    struct imparse_address a;
    switch (i) {
    case 0:
        VALUE_IS(e->date, "Tue, 01 Dec 2026 09:00:00 +0000");
        VALUE_IS(e->subject, "plain text message");
        VALUE_IS(e->message_id, "<plain-1@imc.test>");
        CHECK(e->in_reply_to.type == IMPARSE_NIL);
        imparse_addresses_begin(&it, &e->from);
        ADDR(it, a, IMPARSE_ADDR_MAILBOX, "alice", "example.org");
        VALUE_IS(a.name, "Alice Example");
        CHECK(a.adl.type == IMPARSE_NIL);
        ADDR_END(it, a);
        /* Sender and Reply-To default to From (RFC 3501 7.4.2). */
        imparse_addresses_begin(&it, &e->sender);
        ADDR(it, a, IMPARSE_ADDR_MAILBOX, "alice", "example.org");
        ADDR_END(it, a);
        imparse_addresses_begin(&it, &e->reply_to);
        ADDR(it, a, IMPARSE_ADDR_MAILBOX, "alice", "example.org");
        ADDR_END(it, a);
        imparse_addresses_begin(&it, &e->to);
        ADDR(it, a, IMPARSE_ADDR_MAILBOX, "bob", "example.net");
        CHECK(a.name.type == IMPARSE_NIL);
        ADDR_END(it, a);
        imparse_addresses_begin(&it, &e->cc);
        ADDR_END(it, a);
        imparse_addresses_begin(&it, &e->bcc);
        ADDR_END(it, a);
        break;
    case 1:
        VALUE_IS(e->subject, "report attached");
        imparse_addresses_begin(&it, &e->from);
        ADDR(it, a, IMPARSE_ADDR_MAILBOX, "carol", "example.com");
        VALUE_IS(a.name, "Carol Q. Public");
        ADDR_END(it, a);
        break;
    case 2:
        VALUE_IS(e->subject, "nested parts");
        VALUE_IS(e->date, "Tue, 01 Dec 2026 09:10:00 -0500");
        break;
    case 3:
        /* Encoded words stay as sent: decoding is the application's. */
        VALUE_IS(e->subject, "=?UTF-8?B?5pel5pys6Kqe44Gu5Lu25ZCN?= and =?UTF-8?Q?caf=C3=A9?=");
        VALUE_IS(e->message_id, "<words-4@imc.test>");
        imparse_addresses_begin(&it, &e->from);
        ADDR(it, a, IMPARSE_ADDR_MAILBOX, "juergen", "example.de");
        VALUE_IS(a.name, "=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=");
        ADDR_END(it, a);
        imparse_addresses_begin(&it, &e->to);
        ADDR(it, a, IMPARSE_ADDR_GROUP_START, "team", NULL);
        ADDR(it, a, IMPARSE_ADDR_MAILBOX, "anna", "example.org");
        ADDR(it, a, IMPARSE_ADDR_MAILBOX, "ben", "example.org");
        VALUE_IS(a.name, "Ben, Jr.");
        ADDR(it, a, IMPARSE_ADDR_GROUP_END, NULL, NULL);
        ADDR(it, a, IMPARSE_ADDR_MAILBOX, "zoe", "example.org");
        ADDR_END(it, a);
        imparse_addresses_begin(&it, &e->cc);
        ADDR(it, a, IMPARSE_ADDR_MAILBOX, "q", "example.org");
        VALUE_IS(a.name, "Quote \\ back\"slash");
        ADDR(it, a, IMPARSE_ADDR_MAILBOX, "andre", "example.fr");
        VALUE_IS(a.name, "=?ISO-8859-1?Q?Andr=E9?=");
        ADDR_END(it, a);
        break;
    case 4:
        /* No Date, no From: NIL; the empty Subject is "" or NIL. */
        CHECK(e->date.type == IMPARSE_NIL);
        CHECK(e->subject.len == 0);
        CHECK(e->message_id.type == IMPARSE_NIL);
        imparse_addresses_begin(&it, &e->from);
        ADDR_END(it, a);
        imparse_addresses_begin(&it, &e->to);
        ADDR_END(it, a);
        break;
    case 5:
        VALUE_IS(e->subject, "extension data");
        imparse_addresses_begin(&it, &e->from);
        ADDR(it, a, IMPARSE_ADDR_MAILBOX, "hanna", "example.org");
        ADDR_END(it, a);
        break;
    }
}

#define PARAM_CI(span, key, want)                                              \
    do {                                                                       \
        struct imparse_str v_;                                                 \
        CHECK_INT(imparse_param_get(&(span), key, &v_), 1);                    \
        STR_CI(v_, want);                                                      \
    } while (0)
#define PARAM_IS(span, key, want)                                              \
    do {                                                                       \
        struct imparse_str v_;                                                 \
        CHECK_INT(imparse_param_get(&(span), key, &v_), 1);                    \
        VALUE_IS(v_, want);                                                    \
    } while (0)

/* A leaf's type, encoding, size and (for text) lines against the bytes
 * between start and end in the message. */
#define LEAF(n, type_, sub_, enc_, m, start, end, text_)                       \
    do {                                                                       \
        uint64_t lines_;                                                       \
        size_t size_ = body_size(m, start, end, &lines_);                      \
        CHECK(!(n).multipart);                                                 \
        STR_CI((n).type, type_);                                               \
        STR_CI((n).subtype, sub_);                                             \
        STR_CI((n).encoding, enc_);                                            \
        CHECK_INT((n).size, size_);                                            \
        CHECK_INT((n).has_lines, text_);                                       \
        if (text_)                                                             \
            CHECK_INT((n).lines, lines_);                                      \
    } while (0)

static void check_body(int i, const struct imparse_body *n, size_t count)
{
    switch (i) {
    case 0:
        CHECK_INT(count, 1);
        LEAF(n[0], "text", "plain", "7bit", m_plain, "Hello Bob,", "", 1);
        PARAM_CI(n[0].params, "charset", "us-ascii");
        CHECK(n[0].parent == -1 && n[0].first_child == -1 && n[0].depth == 0);
        break;
    case 1:
        CHECK_INT(count, 3);
        CHECK(n[0].multipart);
        STR_CI(n[0].subtype, "mixed");
        PARAM_IS(n[0].params, "boundary", "=_b1");
        CHECK(n[0].first_child == 1 && n[1].next_sibling == 2 && n[2].next_sibling == -1);
        LEAF(n[1], "text", "plain", "7bit", m_attach, "See the attached", "\r\n--=_b1\r\n", 1);
        LEAF(n[2], "application", "octet-stream", "base64", m_attach, ATTACHMENT_B64,
             "\r\n--=_b1--", 0);
        PARAM_IS(n[2].params, "name", "data.bin");
        STR_CI(n[2].disposition, "attachment");
        PARAM_IS(n[2].disposition_params, "filename", "data.bin");
        CHECK(n[2].parent == 0 && n[2].depth == 1);
        break;
    case 2: {
        /* mixed(text, alternative(text, html), message(mixed(text, png))) */
        CHECK_INT(count, 9);
        CHECK(n[0].multipart && n[0].depth == 0);
        STR_CI(n[0].subtype, "mixed");
        LEAF(n[1], "text", "plain", "7bit", m_nested, "Intro text.", "\r\n--outer\r\n", 1);
        CHECK(n[2].multipart && n[2].parent == 0 && n[2].depth == 1 && n[2].first_child == 3);
        STR_CI(n[2].subtype, "alternative");
        PARAM_IS(n[2].params, "boundary", "alt");
        LEAF(n[3], "text", "plain", "7bit", m_nested, "plain version", "\r\n--alt\r\n", 1);
        LEAF(n[4], "text", "html", "7bit", m_nested, "<p>html", "\r\n--alt--", 1);
        CHECK(n[3].parent == 2 && n[4].parent == 2 && n[4].depth == 2);
        CHECK(n[1].next_sibling == 2 && n[2].next_sibling == 5 && n[5].next_sibling == -1);
        const struct imparse_body *m = &n[5];
        LEAF(*m, "message", "rfc822", "7bit", m_nested, "Date: Mon, 30 Nov", "\r\n--outer--", 1);
        VALUE_IS(m->description, "forwarded");
        CHECK(m->has_envelope && m->first_child == 6 && m->parent == 0);
        VALUE_IS(m->envelope.subject, "inner message");
        VALUE_IS(m->envelope.message_id, "<inner-3@imc.test>");
        struct imparse_iter it;
        struct imparse_address a;
        imparse_addresses_begin(&it, &m->envelope.from);
        ADDR(it, a, IMPARSE_ADDR_MAILBOX, "george", "example.org");
        VALUE_IS(a.name, "George");
        ADDR_END(it, a);
        CHECK(n[6].multipart && n[6].parent == 5 && n[6].depth == 2);
        STR_CI(n[6].subtype, "mixed");
        PARAM_IS(n[6].params, "boundary", "inner");
        LEAF(n[7], "text", "plain", "7bit", m_nested, "inner text", "\r\n--inner\r\n", 1);
        LEAF(n[8], "image", "png", "base64", m_nested, "iVBORw0KGgo=", "\r\n--inner--", 0);
        CHECK(n[8].parent == 6 && n[8].depth == 3);
        STR_CI(n[8].disposition, "inline");
        PARAM_IS(n[8].disposition_params, "filename", "dot.png");
        break;
    }
    case 3:
        CHECK_INT(count, 1);
        LEAF(n[0], "text", "plain", "quoted-printable", m_words, "Gr=C3", "", 1);
        PARAM_CI(n[0].params, "charset", "utf-8");
        break;
    case 4:
        CHECK_INT(count, 1);
        /* No Content-Type: text/plain; charset=us-ascii (RFC 2045 5.2). */
        LEAF(n[0], "text", "plain", "7bit", m_bare, "body only", "", 1);
        PARAM_CI(n[0].params, "charset", "us-ascii");
        CHECK(n[0].disposition.type == IMPARSE_NIL);
        break;
    case 5: {
        CHECK_INT(count, 1);
        LEAF(n[0], "text", "plain", "8bit", m_ext, "Gr\xc3\xbc", "", 1);
        PARAM_CI(n[0].params, "charset", "utf-8");
        PARAM_CI(n[0].params, "format", "flowed");
        PARAM_CI(n[0].params, "delsp", "yes");
        VALUE_IS(n[0].id, "<notes@imc.test>");
        VALUE_IS(n[0].description, "Some notes");
        CHECK(n[0].md5.type == IMPARSE_NIL);
        STR_CI(n[0].disposition, "inline");
        PARAM_IS(n[0].disposition_params, "filename", "notes.txt");
        struct imparse_iter it;
        struct imparse_str s;
        imparse_iter_begin(&it, &n[0].language);
        CHECK_INT(imparse_iter_next(&it, &s), 1);
        STR_CI(s, "de");
        CHECK_INT(imparse_iter_next(&it, &s), 1);
        STR_CI(s, "en");
        CHECK_INT(imparse_iter_next(&it, &s), 0);
        VALUE_IS(n[0].location, "http://example.org/notes.txt");
        break;
    }
    }
}

/* ---- scenario: messages ------------------------------------------------------ */

struct msgstate {
    uint32_t uidvalidity, uid[NFIX];
    uint64_t highestmodseq;
};

static void append_all(struct ctx *x, const char *mbox, struct msgstate *st)
{
    for (int i = 0; i < NFIX; i++) {
        char date[40];
        append_date(i, date, sizeof date);
        const struct entry *f = fixtures[i].seen
                                    ? RUN(x, "APPEND %s (\\Seen) %s %s", mbox, date, fixtures[i].text)
                                    : RUN(x, "APPEND %s () %s %s", mbox, date, fixtures[i].text);
        CHECK_OK(f);
        struct imparse_code code;
        CHECK(code_of(f->text, f->len, IMPARSE_CODE_APPENDUID, &code));
        CHECK(code.number > 0 && code.number <= UINT32_MAX);
        if (i == 0)
            st->uidvalidity = (uint32_t)code.number;
        CHECK_INT(code.number, st->uidvalidity);
        uint32_t uids[2];
        CHECK_INT(seqset_expand(&code.set1, uids, 2), 1);
        st->uid[i] = uids[0];
        CHECK(i == 0 || st->uid[i] > st->uid[i - 1]);
        CHECK(code.set2.type == IMPARSE_NIL || code.set2.len == 0);
    }
}

static void check_status(struct ctx *x, const struct entry *e, const char *mbox,
                         uint64_t messages, uint64_t unseen, uint64_t uidnext,
                         uint64_t uidvalidity, uint64_t *modseq)
{
    CHECK(e != NULL);
    struct imparse_status s;
    CHECK_INT(imparse_status_begin(&s, e->text, e->len), 0);
    VALUE_IS(s.mailbox, mbox);
    struct imparse_str attr;
    uint64_t v;
    int seen = 0, r;
    while ((r = imparse_status_next(&s, &attr, &v, NULL)) == 1) {
        if (imparse_str_eq(&attr, "MESSAGES")) {
            CHECK_INT(v, messages);
            seen |= 1;
        } else if (imparse_str_eq(&attr, "UNSEEN")) {
            CHECK_INT(v, unseen);
            seen |= 2;
        } else if (imparse_str_eq(&attr, "UIDNEXT")) {
            CHECK_INT(v, uidnext);
            seen |= 4;
        } else if (imparse_str_eq(&attr, "UIDVALIDITY")) {
            CHECK_INT(v, uidvalidity);
            seen |= 8;
        } else if (imparse_str_eq(&attr, "HIGHESTMODSEQ")) {
            CHECK(v > 0);
            *modseq = v;
            seen |= 16;
        }
    }
    CHECK_INT(r, 0);
    CHECK_INT(seen, 31);
    (void)x;
}

/* SELECT's codes: UIDVALIDITY, UIDNEXT, PERMANENTFLAGS, HIGHESTMODSEQ. */
static void check_select(struct ctx *x, const struct msgstate *st, uint64_t *selmodseq)
{
    int kinds = 0;
    for (int k = 0; k < replies(x, "OK"); k++) {
        const struct entry *e = reply(x, "OK", k);
        struct imparse_code code;
        size_t pos;
        CHECK(imparse_code(e->text, e->len, &code, &pos) >= 0);
        switch (code.kind) {
        case IMPARSE_CODE_UIDVALIDITY:
            CHECK_INT(code.number, st->uidvalidity);
            kinds |= 1;
            break;
        case IMPARSE_CODE_UIDNEXT:
            CHECK_INT(code.number, st->uid[NFIX - 1] + 1);
            kinds |= 2;
            break;
        case IMPARSE_CODE_PERMANENTFLAGS:
            CHECK_INT(imparse_iter_has(&code.data, "\\Seen"), 1);
            CHECK_INT(imparse_iter_has(&code.data, "\\Deleted"), 1);
            CHECK_INT(imparse_iter_has(&code.data, "\\*"), 1);
            kinds |= 4;
            break;
        case IMPARSE_CODE_HIGHESTMODSEQ:
            CHECK(code.number > 0);
            *selmodseq = code.number;
            kinds |= 8;
            break;
        default:
            break;
        }
    }
    CHECK_INT(kinds, 15);
    const struct entry *fl = reply(x, "FLAGS", 0);
    CHECK(fl != NULL);
    struct imparse_span span = { fl->text, 0, fl->len };
    CHECK_INT(imparse_iter_has(&span, "\\Answered"), 1);
    CHECK_INT(imparse_iter_has(&span, "\\Seen"), 1);
    const struct entry *ex = reply(x, "EXISTS", 0);
    CHECK(ex && ex->msgno == NFIX);
    const struct entry *f = &x->fin;
    struct imparse_code code;
    CHECK(code_of(f->text, f->len, IMPARSE_CODE_READ_WRITE, &code));
}

/* One FETCH reply: every item checked against fixture i. */
static void check_fetch(struct ctx *x, const struct entry *e, int i, const struct msgstate *st,
                        uint64_t highestmodseq)
{
    const struct fixture *fx = &fixtures[i];
    struct imparse_fetch f;
    struct imparse_fetch_item it;
    CHECK_INT(imparse_fetch_begin(&f, e->text, e->len), 0);
    unsigned items = 0;
    int r;
    char want[256];
    while ((r = imparse_fetch_next(&f, &it)) == 1) {
        switch (it.kind) {
        case IMPARSE_FETCH_UID:
            CHECK_INT(it.number, st->uid[i]);
            items |= 1u << 0;
            break;
        case IMPARSE_FETCH_FLAGS:
            CHECK_INT(imparse_iter_has(&it.value, "\\Seen"), fx->seen);
            CHECK_INT(imparse_iter_has(&it.value, "\\Deleted"), 0);
            items |= 1u << 1;
            break;
        case IMPARSE_FETCH_RFC822_SIZE:
            CHECK_INT(it.number, fx->len);
            items |= 1u << 2;
            break;
        case IMPARSE_FETCH_INTERNALDATE: {
            struct imparse_datetime dt, w;
            CHECK_INT(imparse_datetime(&it.string, &dt), 0);
            append_date(i, want, sizeof want);
            struct imparse_str ws = { IMPARSE_QUOTED, want, strlen(want) };
            CHECK_INT(imparse_datetime(&ws, &w), 0);
            CHECK_INT(w.zone, 60);
            CHECK_INT(utc_minutes(&dt), utc_minutes(&w));
            items |= 1u << 3;
            break;
        }
        case IMPARSE_FETCH_ENVELOPE: {
            struct imparse_envelope env;
            size_t pos;
            CHECK_INT(imparse_envelope(&it.value, &env, &pos), 0);
            check_envelope(i, &env);
            if (check_failed_now)
                return;
            items |= 1u << 4;
            break;
        }
        case IMPARSE_FETCH_BODYSTRUCTURE: {
            struct imparse_body nodes[16];
            size_t count, pos, count2;
            CHECK_INT(imparse_bodystructure(&it.value, nodes, 16, &count, &pos), 0);
            /* Counting alone agrees, and one node too few is refused. */
            CHECK_INT(imparse_bodystructure(&it.value, NULL, 0, &count2, &pos), 0);
            CHECK_INT(count2, count);
            CHECK_INT(imparse_bodystructure(&it.value, nodes, count - 1, &count2, &pos),
                      IMPARSE_ETOOMANY);
            CHECK_INT(imparse_bodystructure(&it.value, nodes, 16, &count, &pos), 0);
            check_body(i, nodes, count);
            if (check_failed_now)
                return;
            items |= 1u << 5;
            break;
        }
        case IMPARSE_FETCH_BODY:
            if (it.has_origin) {
                STR_IS(it.section, "1");
                CHECK_INT(it.origin, 0);
                CHECK_MEM(it.string.data, it.string.len, fx->part1, 10);
                items |= 1u << 6;
            } else {
                STR_CI(it.section, "HEADER.FIELDS (SUBJECT)");
                subject_field(fx->text, want, sizeof want);
                CHECK_MEM(it.string.data, it.string.len, want, strlen(want));
                items |= 1u << 7;
            }
            break;
        case IMPARSE_FETCH_MODSEQ:
            CHECK(it.number > 0 && it.number <= highestmodseq);
            items |= 1u << 8;
            break;
        case IMPARSE_FETCH_BINARY: {
            /* Part 1 of every message is 7bit, 8bit or quoted-printable
             * text; BINARY gives it decoded. */
            STR_IS(it.section, "1");
            CHECK(!it.has_origin);
            const char *at;
            size_t n = part_size(fx->text, fx->len, fx->part1, fx->part1_end, &at);
            if (i == 3)
                CHECK_BYTES(it.string.data, it.string.len, "Gr\xc3\xbc\xc3\x9f" "e\r\n");
            else
                CHECK_MEM(it.string.data, it.string.len, at, n);
            items |= 1u << 9;
            break;
        }
        default:
            check_fail(__FILE__, __LINE__, "unexpected item %.*s", (int)it.name.len,
                       it.name.data);
            return;
        }
    }
    CHECK_INT(r, 0);
    CHECK_INT(items, 0x3ff);
    (void)x;
}

static void messages(const struct realenv_server *s)
{
    struct ctx xs, *x = &xs;
    open_session(x, s);
    if (check_failed_now) {
        close_ctx(x);
        return;
    }
    char mbox[120], copyto[160];
    base_name(mbox, sizeof mbox, "msgs");
    snprintf(copyto, sizeof copyto, "%s%cEntw&APw-rfe", mbox, x->delim);
    struct msgstate st = { 0 };
    uint64_t modseq = 0, selmodseq = 0;
    do {
        create(x, mbox);
        if (check_failed_now)
            break;
        append_all(x, mbox, &st);
        if (check_failed_now)
            break;

        const struct entry *f = RUN(x, "STATUS %s (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)", mbox);
        if (strcmp(f->keyword, "OK") != 0)
            break;
        check_status(x, reply(x, "STATUS", 0), mbox, NFIX, 4, st.uid[NFIX - 1] + 1,
                     st.uidvalidity, &modseq);
        if (check_failed_now)
            break;

        f = RUN(x, "SELECT %s (CONDSTORE)", mbox);
        if (strcmp(f->keyword, "OK") != 0)
            break;
        check_select(x, &st, &selmodseq);
        if (check_failed_now)
            break;
        if (selmodseq != modseq) {
            check_fail(__FILE__, __LINE__, "HIGHESTMODSEQ: STATUS %llu, SELECT %llu",
                       (unsigned long long)modseq, (unsigned long long)selmodseq);
            break;
        }

        f = RUN(x, "FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE "
                   "BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[1]<0.10> MODSEQ BINARY.PEEK[1])");
        if (strcmp(f->keyword, "OK") != 0) {
            check_fail(__FILE__, __LINE__, "FETCH: %s %s", f->keyword, f->text);
            break;
        }
        if (replies(x, "FETCH") != NFIX) {
            check_fail(__FILE__, __LINE__, "%d FETCH replies", replies(x, "FETCH"));
            break;
        }
        for (int i = 0; i < NFIX && !check_failed_now; i++) {
            const struct entry *e = reply(x, "FETCH", i);
            if (e->msgno != i + 1)
                check_fail(__FILE__, __LINE__, "FETCH %d came as %ld", i + 1, e->msgno);
            else
                check_fetch(x, e, i, &st, selmodseq);
            if (check_failed_now)
                fprintf(stderr, "  [%s] message %d: %.*s\n", s->name, i + 1,
                        (int)(e->len > 2000 ? 2000 : e->len), e->text);
        }
        if (check_failed_now)
            break;

        /* The attachment decoded: a literal8 with NUL and 8-bit bytes. */
        f = RUN(x, "UID FETCH %u (BINARY.PEEK[2] BINARY.SIZE[2])", st.uid[1]);
        const struct entry *e = reply(x, "FETCH", 0);
        if (strcmp(f->keyword, "OK") != 0 || !e) {
            check_fail(__FILE__, __LINE__, "BINARY[2]: %s %s", f->keyword, f->text);
            break;
        }
        {
            struct imparse_fetch ff;
            struct imparse_fetch_item it;
            int got = 0, r;
            if (imparse_fetch_begin(&ff, e->text, e->len) != 0)
                check_fail(__FILE__, __LINE__, "BINARY[2] reply: %s", e->text);
            while (!check_failed_now && (r = imparse_fetch_next(&ff, &it)) == 1) {
                if (it.kind == IMPARSE_FETCH_BINARY) {
                    if (it.string.type != IMPARSE_LITERAL8 ||
                        it.string.len != sizeof attachment ||
                        memcmp(it.string.data, attachment, sizeof attachment) != 0)
                        check_fail(__FILE__, __LINE__, "BINARY[2]: type %d, %zu bytes",
                                   (int)it.string.type, it.string.len);
                    got |= 1;
                } else if (it.kind == IMPARSE_FETCH_BINARY_SIZE) {
                    if (it.number != sizeof attachment)
                        check_fail(__FILE__, __LINE__, "BINARY.SIZE[2] %llu",
                                   (unsigned long long)it.number);
                    got |= 2;
                } else if (it.kind != IMPARSE_FETCH_UID)
                    check_fail(__FILE__, __LINE__, "unexpected %.*s", (int)it.name.len,
                               it.name.data);
            }
            if (!check_failed_now && (r != 0 || got != 3))
                check_fail(__FILE__, __LINE__, "BINARY[2]: r %d, got %d", r, got);
        }
        if (check_failed_now)
            break;

        /* SEARCH: messages 1, 3, 5, 6 are unseen; FROM picks one. */
        f = RUN(x, "SEARCH UNSEEN");
        e = reply(x, "SEARCH", 0);
        if (strcmp(f->keyword, "OK") != 0 || !e) {
            check_fail(__FILE__, __LINE__, "SEARCH: %s %s", f->keyword, f->text);
            break;
        }
        {
            struct imparse_search se;
            uint64_t v, got[8];
            int n = 0, r;
            imparse_search_begin(&se, e->text, e->len);
            while ((r = imparse_search_next(&se, &v)) == 1 && n < 8)
                got[n++] = v;
            if (r != 0 || n != 4 || got[0] != 1 || got[1] != 3 || got[2] != 5 || got[3] != 6 ||
                se.has_modseq)
                check_fail(__FILE__, __LINE__, "SEARCH UNSEEN: \"%s\"", e->text);
        }
        if (check_failed_now)
            break;
        f = RUN(x, "UID SEARCH MODSEQ 1 FROM %s", "carol");
        e = reply(x, "SEARCH", 0);
        if (strcmp(f->keyword, "OK") != 0 || !e) {
            check_fail(__FILE__, __LINE__, "SEARCH MODSEQ: %s %s", f->keyword, f->text);
            break;
        }
        {
            struct imparse_search se;
            uint64_t v;
            imparse_search_begin(&se, e->text, e->len);
            int r1 = imparse_search_next(&se, &v);
            uint64_t uid = v;
            int r2 = imparse_search_next(&se, &v);
            if (r1 != 1 || uid != st.uid[1] || r2 != 0 || !se.has_modseq || se.modseq == 0 ||
                se.modseq > selmodseq)
                check_fail(__FILE__, __LINE__, "UID SEARCH MODSEQ: \"%s\"", e->text);
        }
        if (check_failed_now)
            break;

        /* ESEARCH: the unseen UIDs are not one range. */
        f = RUN(x, "UID SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN");
        e = reply(x, "ESEARCH", 0);
        if (strcmp(f->keyword, "OK") != 0 || !e) {
            check_fail(__FILE__, __LINE__, "ESEARCH: %s %s", f->keyword, f->text);
            break;
        }
        {
            struct imparse_esearch es;
            size_t pos;
            uint32_t all[8];
            int r = imparse_esearch(e->text, e->len, &es, &pos);
            int n = r == 0 ? seqset_expand(&es.all, all, 8) : -1;
            char want_tag[32];
            /* The correlator names the command's tag, which the library
             * chose: only its presence is known here. */
            snprintf(want_tag, sizeof want_tag, "%s", "");
            if (r != 0 || !es.uid || es.tag.type == IMPARSE_NIL || !es.has_min || !es.has_max ||
                !es.has_count || es.min != st.uid[0] || es.max != st.uid[5] || es.count != 4 ||
                n != 4 || all[0] != st.uid[0] || all[1] != st.uid[2] || all[2] != st.uid[4] ||
                all[3] != st.uid[5])
                check_fail(__FILE__, __LINE__, "ESEARCH: \"%s\" (%d at %zu)", e->text, r, pos);
            char set[64];
            if (!check_failed_now && seqset_str(&es.all, set, sizeof set) == 0)
                fprintf(stderr, "  [%s] ESEARCH ALL %s\n", s->name, set);
        }
        if (check_failed_now)
            break;
        f = RUN(x, "SEARCH RETURN (COUNT) SUBJECT %s", "no such subject anywhere");
        e = reply(x, "ESEARCH", 0);
        {
            struct imparse_esearch es;
            size_t pos;
            if (strcmp(f->keyword, "OK") != 0 || !e ||
                imparse_esearch(e->text, e->len, &es, &pos) != 0 || es.uid || !es.has_count ||
                es.count != 0 || es.has_min || es.all.type != IMPARSE_NIL)
                check_fail(__FILE__, __LINE__, "ESEARCH COUNT 0: \"%s\"", e ? e->text : "");
        }
        if (check_failed_now)
            break;

        /* COPY three messages; COPYUID maps their UIDs. */
        create(x, copyto);
        if (check_failed_now)
            break;
        f = RUN(x, "UID COPY %u,%u:%u %s", st.uid[0], st.uid[3], st.uid[4], copyto);
        {
            struct imparse_code code;
            uint32_t src[8], dst[8];
            if (strcmp(f->keyword, "OK") != 0 ||
                !code_of(f->text, f->len, IMPARSE_CODE_COPYUID, &code))
                check_fail(__FILE__, __LINE__, "COPY: %s %s", f->keyword, f->text);
            else if (code.number == 0 || seqset_expand(&code.set1, src, 8) != 3 ||
                     seqset_expand(&code.set2, dst, 8) != 3 || src[0] != st.uid[0] ||
                     src[1] != st.uid[3] || src[2] != st.uid[4] || dst[0] == 0 ||
                     dst[1] != dst[0] + 1 || dst[2] != dst[1] + 1)
                check_fail(__FILE__, __LINE__, "COPYUID: \"%s\"", f->text);
            else {
                uint64_t m2 = 0;
                f = RUN(x, "STATUS %s (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)", copyto);
                /* Messages 1 and 5 are unseen, 4 was seen. */
                check_status(x, reply(x, "STATUS", 0), copyto, 3, 2, dst[2] + 1, code.number,
                             &m2);
            }
        }
        if (check_failed_now)
            break;
        CHECK_OK(RUN(x, "UNSELECT"));
        CHECK_OK(RUN(x, "DELETE %s", copyto));
        forget_made(x, copyto);
        CHECK_OK(RUN(x, "DELETE %s", mbox));
        forget_made(x, mbox);
    } while (0);
    cleanup(x);
}

/* ---- scenario: mailbox names ------------------------------------------------- */

static const struct {
    const char *utf8, *mutf7;
} names[] = {
    { "Entw\xc3\xbcrfe", "Entw&APw-rfe" },
    { "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "&ZeVnLIqe-" },
    { "two words", "two words" },
    { "R&D", "R&-D" },
};
#define NNAMES ((int)(sizeof names / sizeof names[0]))

/* A LIST or LSUB reply for one of the names below parent: which one. */
static int which_name(struct ctx *x, const struct entry *e, const char *parent,
                      const char *keyword)
{
    struct imparse_list l;
    size_t pos;
    char utf8[256], want[256];
    size_t ulen;
    if (imparse_list(e->text, e->len, &l, &pos) != 0) {
        check_fail(__FILE__, __LINE__, "%s \"%s\" at %zu", keyword, e->text, pos);
        return -1;
    }
    if (l.delim != x->delim || l.delimiter.type != IMPARSE_QUOTED) {
        check_fail(__FILE__, __LINE__, "%s delimiter in \"%s\"", keyword, e->text);
        return -1;
    }
    char raw[256];
    size_t rlen;
    if (imparse_str_copy(&l.mailbox, raw, sizeof raw, &rlen) != 0 ||
        imapurl_mutf7_to_utf8(raw, rlen, utf8, sizeof utf8, &ulen) != 0) {
        check_fail(__FILE__, __LINE__, "%s name in \"%s\"", keyword, e->text);
        return -1;
    }
    for (int i = 0; i < NNAMES; i++) {
        snprintf(want, sizeof want, "%s%c%s", parent, x->delim, names[i].mutf7);
        if (strcmp(raw, want) != 0)
            continue;
        snprintf(want, sizeof want, "%s%c%s", parent, x->delim, names[i].utf8);
        if (strcmp(utf8, want) != 0) {
            check_fail(__FILE__, __LINE__, "\"%s\" as UTF-8: \"%s\"", raw, utf8);
            return -1;
        }
        /* LSUB has no child attributes to offer. */
        if (strcmp(keyword, "LIST") == 0 &&
            imparse_iter_has(&l.attributes, "\\HasNoChildren") != 1) {
            check_fail(__FILE__, __LINE__, "attributes of \"%s\"", e->text);
            return -1;
        }
        if (l.extended.end != l.extended.start) {
            check_fail(__FILE__, __LINE__, "extended data in \"%s\"", e->text);
            return -1;
        }
        return i;
    }
    check_fail(__FILE__, __LINE__, "unknown name in %s \"%s\"", keyword, e->text);
    return -1;
}

static void mailbox_names(const struct realenv_server *s)
{
    struct ctx xs, *x = &xs;
    open_session(x, s);
    if (check_failed_now) {
        close_ctx(x);
        return;
    }
    char parent[120], full[NNAMES][200], pattern[200];
    base_name(parent, sizeof parent, "names");
    do {
        create(x, parent);
        for (int i = 0; i < NNAMES && !check_failed_now; i++) {
            char m[64];
            size_t ml;
            /* The library's encoder writes the names the servers must echo. */
            if (imapurl_utf8_to_mutf7(names[i].utf8, strlen(names[i].utf8), m, sizeof m, &ml) !=
                    0 ||
                strcmp(m, names[i].mutf7) != 0) {
                check_fail(__FILE__, __LINE__, "mutf7 of \"%s\": \"%s\"", names[i].utf8, m);
                break;
            }
            snprintf(full[i], sizeof full[i], "%s%c%s", parent, x->delim, m);
            create(x, full[i]);
        }
        if (check_failed_now)
            break;

        snprintf(pattern, sizeof pattern, "%s%c*", parent, x->delim);
        const struct entry *f = RUN(x, "LIST \"\" %s", pattern);
        if (strcmp(f->keyword, "OK") != 0 || replies(x, "LIST") != NNAMES) {
            check_fail(__FILE__, __LINE__, "LIST: %d replies, %s", replies(x, "LIST"), f->text);
            break;
        }
        int found = 0;
        for (int k = 0; k < NNAMES && !check_failed_now; k++) {
            int i = which_name(x, reply(x, "LIST", k), parent, "LIST");
            if (i >= 0)
                found |= 1 << i;
        }
        if (check_failed_now || found != (1 << NNAMES) - 1) {
            check_fail(__FILE__, __LINE__, "LIST found %#x", (unsigned)found);
            break;
        }
        /* The parent now has children. */
        f = RUN(x, "LIST \"\" %s", parent);
        {
            struct imparse_list l;
            size_t pos;
            const struct entry *e = reply(x, "LIST", 0);
            if (!e || imparse_list(e->text, e->len, &l, &pos) != 0 ||
                imparse_iter_has(&l.attributes, "\\HasChildren") != 1 ||
                !imparse_str_eq(&l.mailbox, parent))
                check_fail(__FILE__, __LINE__, "LIST parent: \"%s\"", e ? e->text : "");
        }
        if (check_failed_now)
            break;

        /* LSUB of two of them. */
        for (int i = 0; i < NNAMES; i += 2)
            CHECK_OK(RUN(x, "SUBSCRIBE %s", full[i]));
        f = RUN(x, "LSUB \"\" %s", pattern);
        if (strcmp(f->keyword, "OK") != 0 || replies(x, "LSUB") != 2) {
            check_fail(__FILE__, __LINE__, "LSUB: %d replies", replies(x, "LSUB"));
            break;
        }
        found = 0;
        for (int k = 0; k < 2 && !check_failed_now; k++) {
            int i = which_name(x, reply(x, "LSUB", k), parent, "LSUB");
            if (i >= 0)
                found |= 1 << i;
        }
        if (check_failed_now || found != 5) {
            check_fail(__FILE__, __LINE__, "LSUB found %#x", (unsigned)found);
            break;
        }
        for (int i = 0; i < NNAMES; i += 2)
            CHECK_OK(RUN(x, "UNSUBSCRIBE %s", full[i]));

        /* STATUS echoes each name; the mailboxes are empty. */
        for (int i = 0; i < NNAMES && !check_failed_now; i++) {
            f = RUN(x, "STATUS %s (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)", full[i]);
            if (strcmp(f->keyword, "OK") != 0) {
                check_fail(__FILE__, __LINE__, "STATUS %s: %s", full[i], f->text);
                break;
            }
            const struct entry *e = reply(x, "STATUS", 0);
            CHECK(e != NULL);
            struct imparse_status st;
            CHECK_INT(imparse_status_begin(&st, e->text, e->len), 0);
            VALUE_IS(st.mailbox, full[i]);
            struct imparse_str attr;
            uint64_t v;
            int r, n = 0;
            while ((r = imparse_status_next(&st, &attr, &v, NULL)) == 1) {
                n++;
                if (imparse_str_eq(&attr, "MESSAGES") || imparse_str_eq(&attr, "UNSEEN"))
                    CHECK_INT(v, 0);
                else if (imparse_str_eq(&attr, "UIDNEXT") || imparse_str_eq(&attr, "UIDVALIDITY"))
                    CHECK(v >= 1);
            }
            CHECK_INT(r, 0);
            CHECK_INT(n, 5);
        }
        if (check_failed_now)
            break;
        for (int i = NNAMES - 1; i >= 0; i--) {
            CHECK_OK(RUN(x, "DELETE %s", full[i]));
            forget_made(x, full[i]);
        }
        CHECK_OK(RUN(x, "DELETE %s", parent));
        forget_made(x, parent);
    } while (0);
    cleanup(x);
}

/* ---- one test per scenario and server ------------------------------------------ */

static void run(int srv, void (*scenario)(const struct realenv_server *))
{
    if (!servers[srv].present) {
        check_fail(__FILE__, __LINE__, "%s: no IMC_%s_* variables", servers[srv].name,
                   servers[srv].prefix);
        return;
    }
    scenario(&servers[srv]);
}

static void dovecot_messages(void) { run(0, messages); }
static void cyrus_messages(void) { run(1, messages); }
static void dovecot_mailbox_names(void) { run(0, mailbox_names); }
static void cyrus_mailbox_names(void) { run(1, mailbox_names); }

int main(int argc, char **argv)
{
    ca_file = getenv("IMC_CA_FILE");
    if (ca_file && !*ca_file)
        ca_file = NULL;
    servers = realenv_servers();
    if (!servers[0].present && !servers[1].present)
        return realenv_none(argv[0]);
    static const struct check_test tests[] = {
        TEST(dovecot_messages), TEST(cyrus_messages),
        TEST(dovecot_mailbox_names), TEST(cyrus_mailbox_names),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
