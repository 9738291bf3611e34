#include "core/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoder.h"
#include "util/ascii.h"
#include "util/swar.h"
#include "util/safe_text.h"

void imclient_defaultlimits(struct imclient_limits *l)
{
    l->max_line = 1u << 20;
    l->max_literal = 64u << 20;
    l->max_reply = 64u << 20;
    l->timeout_ms = 120000;
    l->command_timeout_ms = 0;
}

void imc_session_init(struct imc_session *s, struct imclient *owner)
{
    memset(s, 0, sizeof *s);
    s->owner = owner;
    imclient_defaultlimits(&s->limits);
    imc_framer_init(&s->framer, s->limits.max_line, s->limits.max_literal);
    imc_tagtable_init(&s->pending);
    imc_callbacks_init(&s->callbacks);
    imc_outq_init(&s->out);
    imc_buf_init(&s->reply);
    imc_caps_init(&s->caps);
    s->next_tag = 1;
    s->oldest = 1;
    /* The default entry: replies nobody asked for are dropped until the
     * application installs its own "" callback. */
    imc_callbacks_set(&s->callbacks, "", 0, NULL, NULL);
}

void imc_session_free(struct imc_session *s)
{
    imc_framer_free(&s->framer);
    imc_tagtable_free(&s->pending);
    imc_callbacks_free(&s->callbacks);
    imc_outq_free(&s->out);
    imc_buf_free(&s->reply);
    imc_caps_free(&s->caps);
}

/* Beyond this, sizes would overflow the arithmetic that checks them. */
#define IMC_LIMIT_CEILING ((size_t)1 << 40)

static size_t capped(size_t v)
{
    return v > IMC_LIMIT_CEILING ? IMC_LIMIT_CEILING : v;
}

void imc_session_setlimits(struct imc_session *s, const struct imclient_limits *l)
{
    if (l->max_line)
        s->limits.max_line = capped(l->max_line);
    if (l->max_literal)
        s->limits.max_literal = capped(l->max_literal);
    if (l->max_reply)
        s->limits.max_reply = capped(l->max_reply);
    if (l->timeout_ms)
        s->limits.timeout_ms = l->timeout_ms;
    if (l->command_timeout_ms)
        s->limits.command_timeout_ms = l->command_timeout_ms < 0 ? 0 : l->command_timeout_ms;
    imc_framer_setlimits(&s->framer, s->limits.max_line, s->limits.max_literal);
}

void imc_session_set_continuation(struct imc_session *s, imc_continuation_fn *fn,
                                  void *rock)
{
    s->cont = fn;
    s->cont_rock = rock;
}

void imc_session_pause_after(struct imc_session *s, uint64_t tag)
{
    s->pause_tag = tag;
}

void imc_session_resume(struct imc_session *s)
{
    s->pause_tag = 0;
    s->paused = 0;
    s->leftover = 0;
}

uint64_t imc_session_last_tag(const struct imc_session *s)
{
    return s->next_tag - 1;
}

static int at_boundary(const struct imc_session *s)
{
    return s->resp == IMC_RESP_NONE && s->framer.partial.len == 0 &&
           !s->framer.in_literal && s->framer.at_response_start;
}

int imc_session_at_boundary(const struct imc_session *s)
{
    return at_boundary(s);
}

int imc_session_in_literal(const struct imc_session *s)
{
    return s->framer.in_literal;
}

size_t imc_session_inflight(const struct imc_session *s)
{
    return s->pending.count;
}

void imc_session_trim(struct imc_session *s)
{
    /* While dispatching, a callback's reply and table entries are in use. */
    if (!s->dispatching) {
        if (s->resp == IMC_RESP_NONE)
            imc_buf_free(&s->reply);
        imc_tagtable_trim(&s->pending);
        imc_callbacks_trim(&s->callbacks);
    }
    if (imc_outq_pending(&s->out) == 0 && s->out.nbarriers == 0 && s->out.nsecrets == 0)
        imc_outq_trim(&s->out);
    imc_framer_trim(&s->framer);
}

size_t imc_session_owed(const struct imc_session *s)
{
    return s->pending.count - (imc_session_idling(s) ? 1 : 0);
}

/* Tags are handed out in order, so the cursor only moves forward: finding
 * the oldest costs O(1) per command over the connection's life. */
const struct imc_command *imc_session_oldest(struct imc_session *s)
{
    if (s->pending.count == 0)
        return NULL;
    for (; s->oldest < s->next_tag; s->oldest++) {
        const struct imc_command *c = imc_tagtable_find(&s->pending, s->oldest);
        if (c)
            return c;
    }
    return NULL;
}

/* Replies the library makes up (EOF, refusals) get writable storage, since a
 * callback may overwrite what it is given.  The storage is this call's own:
 * one shared buffer was overwritten when a callback's imclient_send() was
 * refused, so a "+" callback saw its keyword turn into "BAD". */
static void deliver_made_up(struct imc_session *s, imclient_proc_t *proc, void *rock,
                            const char *keyword, char *text)
{
    if (!proc)
        return;
    char kw[8];
    snprintf(kw, sizeof kw, "%s", keyword);
    struct imclient_reply r = { kw, -1, text, strlen(text) };
    proc(s->owner, rock, &r);
}

static void deliver_eof_to_all(struct imc_session *s)
{
    size_t n;
    struct imc_command *all = imc_tagtable_drain(&s->pending, &n);
    for (size_t i = 0; i < n; i++) {
        char empty[1] = "";
        deliver_made_up(s, all[i].finish, all[i].rock, "EOF", empty);
    }
    free(all);
}

/*
 * Every reason the connection gives is written here, under one rule: the
 * first failure is final; until then the latest explanation stands.  It is
 * formatted through a copy (a caller may quote the current reason) and made
 * safe, since most reasons quote the server or its certificate.
 */
static void set_reason(struct imc_session *s, int code, const char *fmt, va_list ap)
{
    char why[sizeof s->error];
    vsnprintf(why, sizeof why, fmt, ap);
    imc_safe_copy(s->error, sizeof s->error, why, strlen(why));
    s->errcode = why[0] ? code : IMCLIENT_OK;
}

void imc_session_explainc(struct imc_session *s, int code, const char *fmt, ...)
{
    if (s->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    set_reason(s, code, fmt, ap);
    va_end(ap);
}

void imc_session_failc(struct imc_session *s, int code, const char *fmt, ...)
{
    if (!s->failed) {
        va_list ap;
        va_start(ap, fmt);
        set_reason(s, code, fmt, ap);
        va_end(ap);
        s->failed = 1;
    }
    s->idle.state = IMC_IDLE_OFF;
    imc_outq_free(&s->out);
    imc_outq_init(&s->out);
    /* A callback may be what failed us (its imclient_send() hit a dead
     * socket) and still hold the reply's text; dispatch() frees it then. */
    if (s->dispatching)
        s->reply.len = 0;
    else
        imc_buf_free(&s->reply);
    s->resp = IMC_RESP_NONE;
    /* Commands sent from EOF callbacks are refused at once, so this ends. */
    while (s->pending.count > 0)
        deliver_eof_to_all(s);
}

void imc_session_refuse(struct imc_session *s, imclient_proc_t *finish, void *rock,
                        const char *why)
{
    imc_session_explain(s, "%s", why);
    char text[sizeof s->error + 16];
    snprintf(text, sizeof text, "[CLIENTBUG] %s", why);
    deliver_made_up(s, finish, rock, "BAD", text);
}

/* RFC 3501 6.2: the capability list may change after STARTTLS and after
 * logging in.  It is forgotten as such a command is queued, so commands
 * behind it assume nothing until the server speaks again. */
static int resets_capabilities(const char *fmt)
{
    return imc_ascii_word(fmt, "STARTTLS") || imc_ascii_word(fmt, "LOGIN") ||
           imc_ascii_word(fmt, "AUTHENTICATE");
}

int imc_session_send(struct imc_session *s, imclient_proc_t *finish, void *rock,
                     const char *fmt, va_list ap)
{
    char empty[1] = "";
    if (s->failed) {
        deliver_made_up(s, finish, rock, "EOF", empty);
        return -1;
    }
    const char *blocked = imc_idle_blocks_send(s);
    if (blocked) {
        imc_session_refuse(s, finish, rock, blocked);
        return -1;
    }
    s->error[0] = '\0'; /* a reason belongs to the latest refusal only */
    s->errcode = IMCLIENT_OK;
    uint64_t tag = s->next_tag++;
    struct imc_command cmd = { tag, finish, rock, imc_outq_end(&s->out), s->now };
    char why[200];
    if (imc_encode_command(&s->out, tag, imc_session_literal_caps(s),
                           why, sizeof why, fmt, ap) < 0) {
        imc_session_refuse(s, finish, rock, why);
        return -1;
    }
    imc_tagtable_add(&s->pending, &cmd);
    if (resets_capabilities(fmt))
        imc_caps_forget(&s->caps);
    return 0;
}

int imc_session_sendf(struct imc_session *s, imclient_proc_t *finish, void *rock,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = imc_session_send(s, finish, rock, fmt, ap);
    va_end(ap);
    return r;
}

void imc_session_send_raw(struct imc_session *s, const char *data, size_t len, int secret)
{
    if (s->failed)
        return;
    uint64_t from = imc_outq_end(&s->out);
    imc_outq_append(&s->out, data, len);
    if (secret)
        imc_outq_secret(&s->out, from, imc_outq_end(&s->out));
}

int imc_session_redact(const struct imc_session *s, size_t n, struct imc_buf *out)
{
    return imc_outq_redact(&s->out, n, out);
}

const char *imc_session_output(const struct imc_session *s, size_t *len)
{
    return imc_outq_writable(&s->out, len);
}

int imc_session_fill(struct imc_session *s, imc_outq_pull_fn *pull, char *why,
                     size_t whylen)
{
    return imc_outq_fill(&s->out, pull, why, whylen);
}

int imc_session_output_source(const struct imc_session *s, uint64_t *size)
{
    return imc_outq_from_source(&s->out, size);
}

void imc_session_written(struct imc_session *s, size_t n)
{
    imc_outq_consume(&s->out, n);
}

int imc_session_has_output(const struct imc_session *s)
{
    return imc_outq_pending(&s->out) > 0;
}

/* ---- receiving ---------------------------------------------------------- */

static int collect(struct imc_session *s, const char *data, size_t len)
{
    if (s->reply.len + len > s->limits.max_reply) {
        imc_session_failc(s, IMCLIENT_ELIMIT, "reply larger than the limit of %zu bytes",
                         s->limits.max_reply);
        return -1;
    }
    imc_buf_append(&s->reply, data, len);
    return 0;
}

/* Split the collected reply in place: NUL after the keyword, keyword in
 * upper case, text NUL-terminated. */
static struct imclient_reply make_reply(struct imc_session *s, char *buf, size_t len)
{
    struct imc_reply_head *h = &s->head;
    struct imclient_reply r;
    buf[len] = '\0';
    r.keyword = buf + h->kw_start;
    r.keyword[h->kw_len] = '\0';
    if (h->kw_lower)
        for (size_t i = 0; i < h->kw_len; i++)
            r.keyword[i] = imc_ascii_upper(r.keyword[i]);
    r.msgno = h->msgno;
    r.text = buf + (h->text_start <= len ? h->text_start : len);
    r.textlen = len - (size_t)(r.text - buf);
    return r;
}

static void dispatch_continuation(struct imc_session *s, struct imclient_reply *r)
{
    if (imc_outq_waiting(&s->out)) {
        imc_outq_release(&s->out);
        return;
    }
    if (s->cont) {
        if (s->cont(s->cont_rock, r->text, r->textlen) < 0) {
            /* The hook explained itself, unless it failed us already. */
            imc_session_fail(s, "%s", s->error[0] ? s->error : "continuation refused");
        }
        return;
    }
    if (imc_idle_continuation(s))
        return;
    /* Unsolicited (IDLE's "+ idling", for one): only an explicit "+" entry
     * sees it; it is not an untagged reply, so the default does not. */
    const struct imc_callback *e = imc_callbacks_get(&s->callbacks, "+", 1, 0);
    if (e && e->proc) {
        char plus[2] = "+";
        r->keyword = plus;
        e->proc(s->owner, e->rock, r);
    }
}

/* Shift the start offsets of commands queued behind dropped bytes. */
static void shift_starts(struct imc_session *s, uint64_t from, uint64_t cut)
{
    for (size_t i = 0; i < s->pending.cap; i++) {
        struct imc_command *c = &s->pending.slots[i];
        if (c->tag != 0 && c->start >= from)
            c->start -= cut;
    }
}

static void dispatch_tagged(struct imc_session *s, struct imclient_reply *r)
{
    struct imc_command cmd;
    if (imc_tagtable_remove(&s->pending, s->head.tag, &cmd) < 0)
        return; /* checked when the first line arrived */
    /* A tagged reply instead of "+": the server will not read the rest of
     * the command, so it must not be sent. */
    uint64_t from;
    uint64_t cut = imc_outq_cancel(&s->out, cmd.tag, &from);
    if (cut > 0)
        shift_starts(s, from, cut);
    /* Its literal source is still being sent (non-synchronizing, or after
     * "+"): the server answered a command it had not read whole, and the
     * source may not be read once finish has run. */
    if (imc_outq_has_source(&s->out, cmd.tag)) {
        imc_tagtable_add(&s->pending, &cmd);
        imc_session_fail(s, "tagged reply to command %llu while its literal was being sent",
                         (unsigned long long)cmd.tag);
        return;
    }
    if (cmd.tag == s->pause_tag)
        s->paused = 1;
    imc_idle_ended(s, cmd.tag);
    if (cmd.finish)
        cmd.finish(s->owner, cmd.rock, r);
}

static void dispatch(struct imc_session *s)
{
    size_t len = s->reply.len;
    imc_buf_reserve(&s->reply, 0);
    struct imclient_reply r = make_reply(s, s->reply.data, len);
    s->dispatching++;
    switch (s->head.kind) {
    case IMC_REPLY_UNTAGGED:
        if (s->resp_proc)
            s->resp_proc(s->owner, s->resp_rock, &r);
        break;
    case IMC_REPLY_TAGGED:
        dispatch_tagged(s, &r);
        break;
    case IMC_REPLY_CONTINUATION:
        dispatch_continuation(s, &r);
        break;
    }
    s->dispatching--;
    if (s->failed && !s->dispatching)
        imc_buf_free(&s->reply);
}

static int keyword_is(const struct imc_session *s, const char *line, const char *kw,
                      size_t n)
{
    return s->head.kw_len == n && imc_ascii_eq(line + s->head.kw_start, kw, n);
}

/* Capabilities travel in small first lines: a CAPABILITY or ENABLED reply,
 * or a [CAPABILITY ...] code opening an OK or PREAUTH (the greeting, the
 * tagged OK of LOGIN or AUTHENTICATE). */
static void learn_capabilities(struct imc_session *s, const char *line, size_t len,
                               int literal)
{
    const struct imc_reply_head *h = &s->head;
    if (literal || h->kind == IMC_REPLY_CONTINUATION || h->text_start > len)
        return;
    const char *text = line + h->text_start;
    size_t n = len - h->text_start;
    if (h->kind == IMC_REPLY_UNTAGGED) {
        if (h->msgno >= 0)
            return;
        if (keyword_is(s, line, "CAPABILITY", 10)) {
            /* Several in one command's response make one list. */
            if (!s->caps_adding)
                imc_caps_forget(&s->caps);
            imc_caps_add(&s->caps, text, n);
            s->caps_adding = 1;
            return;
        }
        if (keyword_is(s, line, "ENABLED", 7)) {
            imc_caps_enabled(&s->caps, text, n);
            return;
        }
        if (!keyword_is(s, line, "OK", 2) && !keyword_is(s, line, "PREAUTH", 7))
            return;
    } else {
        s->caps_adding = 0;
        if (h->status != IMC_STATUS_OK)
            return;
    }
    static const char code[] = "[CAPABILITY ";
    if (n > sizeof code - 1 && imc_ascii_eq(text, code, sizeof code - 1))
        imc_caps_learn(&s->caps, text + sizeof code - 1, n - (sizeof code - 1));
}

/* The entry that takes the untagged reply whose head is s->head, or NULL
 * when nobody listens (no entry, or one with neither a reply procedure nor
 * a literal streamer): such a reply is not kept. */
static inline __attribute__((always_inline)) const struct imc_callback *
listener(struct imc_session *s, const char *line)
{
    const struct imc_callback *e =
        imc_callbacks_find(&s->callbacks, line + s->head.kw_start, s->head.kw_len,
                           s->head.kw_key, s->head.msgno >= 0);
    return e && (e->proc || e->lit_proc) ? e : NULL;
}

/* A head that does not parse, parsed again for its reason: apart and cold,
 * so that the lines that do parse carry no reason buffer. */
static __attribute__((noinline, cold)) int refuse_head(struct imc_session *s,
                                                      const struct imc_frame *fr)
{
    char why[160];
    struct imc_reply_head h;
    if (imc_reply_parse(fr->data, fr->len, &h, why, sizeof why) == 0)
        snprintf(why, sizeof why, "unparsable response");
    imc_session_fail(s, "protocol error: %s", why);
    return -1;
}

/* The first line of a response decides where it goes and whether its
 * literals are kept. */
static int begin_response(struct imc_session *s, const struct imc_frame *fr)
{
    if (imc_reply_parse(fr->data, fr->len, &s->head, NULL, 0) < 0)
        return refuse_head(s, fr);
    learn_capabilities(s, fr->data, fr->len, fr->literal);
    s->reply.len = 0;
    s->resp = IMC_RESP_COLLECT;
    s->resp_proc = NULL;
    s->resp_lit_proc = NULL;

    if (s->head.kind == IMC_REPLY_TAGGED) {
        const struct imc_command *c = imc_tagtable_find(&s->pending, s->head.tag);
        if (!c || c->start >= imc_outq_sent(&s->out)) {
            imc_session_fail(s, "protocol error: reply for tag %llu, which is not "
                             "in flight", (unsigned long long)s->head.tag);
            return -1;
        }
        return 0;
    }
    if (s->head.kind != IMC_REPLY_UNTAGGED)
        return 0;

    const struct imc_callback *e = listener(s, fr->data);
    if (!e) {
        s->resp = IMC_RESP_SKIP; /* keep nothing */
        return 0;
    }
    s->resp_proc = e->proc;
    s->resp_rock = e->rock;
    s->resp_lit_proc = e->lit_proc;
    s->resp_lit_rock = e->lit_rock;
    if (fr->literal && (e->flags & CALLBACK_NOLITERAL)) {
        /* The entry wants the first line only; the literal and the rest of
         * the response are still framed (and skipped), never read as lines. */
        if (collect(s, fr->data, fr->len) < 0)
            return -1;
        dispatch(s);
        s->resp = IMC_RESP_SKIP;
    }
    return 0;
}

/* RFC 3501: the text of a status response (tagged, or untagged OK, NO,
 * BAD, BYE, PREAUTH) or of a continuation request is plain text; a literal
 * can appear there only inside a "[...]" response code (BADCHARSET's
 * astrings).  So "1 OK go {0}" ends with text, and reading a literal there
 * would swallow the next response. */
static int untagged_status(const struct imc_session *s, const struct imc_frame *fr)
{
    static const char *const status[] = { "OK", "NO", "BAD", "BYE", "PREAUTH" };
    const struct imc_reply_head *h = &s->head;
    int is_status = 0;
    for (size_t i = 0; i < sizeof status / sizeof status[0]; i++)
        is_status |= h->kw_len == strlen(status[i]) &&
                     imc_ascii_eq(fr->data + h->kw_start, status[i], h->kw_len);
    return is_status;
}

static int literal_is_text(const struct imc_session *s, const struct imc_frame *fr)
{
    const struct imc_reply_head *h = &s->head;
    if (s->resp_is_data)
        return 0;
    size_t t = h->text_start;
    if (t >= fr->len || fr->data[t] != '[')
        return 1;
    /* Inside the code only while no "]" has closed it before the header. */
    return memchr(fr->data + t, ']', fr->len - t) != NULL;
}

static int on_line(struct imc_session *s, const struct imc_frame *orig)
{
    const struct imc_frame *fr = orig;
    struct imc_frame plain;
    if (fr->first && begin_response(s, fr) < 0)
        return -1;
    /* Asked only of a first line that ends in "}": only such a line has a
     * literal, and so lines after it; the small replies that make up most
     * traffic skip the keyword comparisons. */
    if (fr->first)
        s->resp_is_data = fr->len > 0 && fr->data[fr->len - 1] == '}' &&
                          s->head.kind == IMC_REPLY_UNTAGGED && !untagged_status(s, fr);
    /* Data has no free text: a "{...}" ending its line that is no literal
     * header leaves no way to know where the server's data ends. */
    if (s->resp_is_data && imc_literal_malformed(fr->data, fr->len)) {
        imc_session_fail(s, "protocol error: the line ends in \"{...}\" that is not a "
                            "literal's size");
        return -1;
    }
    if (fr->first && fr->literal && literal_is_text(s, fr)) {
        imc_framer_not_a_literal(&s->framer);
        plain = *fr;
        plain.literal = 0;
        fr = &plain;
    }
    if (s->resp == IMC_RESP_COLLECT &&
        collect(s, fr->data, fr->len + (fr->literal ? fr->eol_len : 0)) < 0)
        return -1;
    if (fr->literal) {
        s->lit.size = fr->literal_len;
        s->lit.offset = 0;
    } else {
        if (s->resp == IMC_RESP_COLLECT)
            dispatch(s);
        s->resp = IMC_RESP_NONE;
        /* A delivered reply is gone: none of it may look buffered when a
         * new layer starts after it. */
        s->reply.len = 0;
        /* Keep a huge reply's buffer from pinning memory after it is gone. */
        if (s->reply.cap > (1u << 20)) {
            imc_buf_free(&s->reply);
        }
    }
    return s->failed ? -1 : 0;
}

/* Hand one piece of a literal to its streamer, with the reply so far. */
static void stream_piece(struct imc_session *s, const char *data, size_t len)
{
    struct imclient_literal *l = &s->lit;
    size_t text = s->head.text_start < s->reply.len ? s->head.text_start : s->reply.len;
    l->msgno = s->head.msgno;
    l->before = s->reply.data ? s->reply.data + text : "";
    l->beforelen = s->reply.len - text;
    l->data = data;
    l->len = len;
    s->dispatching++;
    s->resp_lit_proc(s->owner, s->resp_lit_rock, l);
    s->dispatching--;
    l->offset += len;
    if (s->failed && !s->dispatching)
        imc_buf_free(&s->reply);
}

/* The first LF in p[0..n).  Small replies are a few dozen bytes: eight at a
 * time inline costs less than a call to memchr(), which takes over past
 * the first 64 bytes.  A byte of x is LF when x ^ LF has a zero byte there;
 * the lowest flagged byte of the classic zero-byte test is exact. */
static const char *find_lf(const char *p, size_t n)
{
    const uint64_t ones = IMC_SWAR_ONES;
    size_t i = 0;
    for (; i + 8 <= n && i < 64; i += 8) {
        uint64_t x = imc_swar_load(p + i) ^ (0x0a * ones);
        uint64_t zero = (x - ones) & ~x & IMC_SWAR_HIGH;
        if (zero)
            return p + i + imc_swar_first(zero);
    }
    return memchr(p + i, '\n', n - i);
}

/*
 * Most traffic is small untagged replies, one line each and many to a read:
 * "* 12 FETCH (UID 40 FLAGS (\Seen))".  Such a line, whole in the input and
 * ending in nothing that could announce a literal, goes from the input to
 * its callback in one pass, with no frame.  Returns the bytes it took, or 0
 * to leave the line to the framer: every other line, and every line that
 * must be refused, so that each refusal is worded in one place.
 */
static size_t small_reply(struct imc_session *s, const char *p, size_t len)
{
    if (len < 4 || p[0] != '*' || p[1] != ' ' || !at_boundary(s))
        return 0;
    size_t max = s->limits.max_line;
    const char *lf = find_lf(p, len < max + 2 ? len : max + 2);
    if (!lf)
        return 0;
    size_t n = (size_t)(lf - p);
    size_t used = n + 1;
    if (p[n - 1] == '\r')
        n--;
    if (n > max || p[n - 1] == '}' || imc_reply_parse(p, n, &s->head, NULL, 0) < 0)
        return 0;
    if (s->head.msgno < 0) /* a numbered reply holds no capability */
        learn_capabilities(s, p, n, 0);
    const struct imc_callback *e = listener(s, p);
    if (!e)
        return used;
    s->reply.len = 0;
    if (collect(s, p, n) < 0)
        return used;
    s->resp = IMC_RESP_COLLECT;
    s->resp_proc = e->proc;
    s->resp_rock = e->rock;
    s->resp_lit_proc = NULL;
    dispatch(s);
    s->resp = IMC_RESP_NONE;
    s->reply.len = 0;
    return used;
}

size_t imc_session_unread(const struct imc_session *s)
{
    return s->leftover;
}

int imc_session_feed(struct imc_session *s, const char *data, size_t len)
{
    s->leftover = 0;
    while (!s->failed) {
        if (s->paused || s->halted) {
            s->leftover = len;
            return 0;
        }
        size_t small = small_reply(s, data, len);
        if (small) {
            data += small;
            len -= small;
            continue;
        }
        struct imc_frame fr;
        size_t used = imc_framer_next(&s->framer, data, len, &fr);
        data += used;
        len -= used;
        switch (fr.kind) {
        case IMC_FRAME_NEED_MORE:
            return 0;
        case IMC_FRAME_ERROR: {
            const char *why = imc_framer_error(&s->framer);
            imc_session_failc(s, strstr(why, "limit") ? IMCLIENT_ELIMIT : IMCLIENT_EPROTOCOL,
                              "protocol error: %s", why);
            return -1;
        }
        case IMC_FRAME_LINE:
            if (on_line(s, &fr) < 0)
                return -1;
            break;
        case IMC_FRAME_LITERAL:
            if (s->resp != IMC_RESP_COLLECT)
                break;
            if (s->resp_lit_proc)
                stream_piece(s, fr.data, fr.len);
            else if (collect(s, fr.data, fr.len) < 0)
                return -1;
            break;
        }
    }
    return -1;
}

/* Smaller literals are not worth a read of their own. */
#define IN_PLACE_MIN (16 * 1024)
/* One read in place takes at most this much: the size of a plain read.
 * Reads of up to 1 MiB drained the socket in bursts that left the server
 * waiting for room and then the client waiting for bytes (W1 1.5x raw's
 * wall time, where 64 KiB reads keep both sides going: 1.07x). */
#define IN_PLACE_MAX (64 * 1024)

char *imc_session_read_spot(struct imc_session *s, size_t *cap)
{
    uint64_t left = s->framer.literal_left;
    if (s->failed || s->paused || s->halted || !s->framer.in_literal ||
        s->resp != IMC_RESP_COLLECT || s->resp_lit_proc || left < IN_PLACE_MIN)
        return NULL;
    /* The whole literal fits the limit or collect() will refuse it from the
     * ordinary path, with its reason. */
    if (s->reply.len + left > s->limits.max_reply)
        return NULL;
    /* Room for all of it at once: one allocation per literal, not a
     * growth cascade, and never more than the limit allows. */
    imc_buf_reserve(&s->reply, (size_t)left);
    *cap = left < IN_PLACE_MAX ? (size_t)left : IN_PLACE_MAX;
    return s->reply.data + s->reply.len;
}

int imc_session_feed_in_place(struct imc_session *s, size_t n)
{
    struct imc_frame fr;
    /* The framer only counts literal bytes; they are already where
     * collect() would have copied them. */
    size_t used = imc_framer_next(&s->framer, s->reply.data + s->reply.len, n, &fr);
    s->reply.len += used;
    if (used != n || fr.kind != IMC_FRAME_LITERAL) {
        imc_session_fail(s, "internal error: %zu bytes read past a literal's end", n - used);
        return -1;
    }
    return 0;
}

/* ---- what the rest of the library reads and sets ------------------------- */

const char *imc_session_error(const struct imc_session *s)
{
    return s->error;
}

int imc_session_errcode(const struct imc_session *s)
{
    return s->errcode;
}

int imc_session_paused(const struct imc_session *s)
{
    return s->paused;
}

int imc_session_halted(const struct imc_session *s)
{
    return s->halted;
}

void imc_session_halt(struct imc_session *s)
{
    s->halted = 1;
}

int imc_session_flags(const struct imc_session *s)
{
    return s->flags;
}

void imc_session_setflags(struct imc_session *s, int flags)
{
    s->flags = flags;
}

void imc_session_choose_flags(struct imc_session *s, int flags)
{
    s->chosen |= flags;
}

void imc_session_unchoose_flags(struct imc_session *s, int flags)
{
    s->chosen &= ~flags;
}

const struct imc_caps *imc_session_caps(const struct imc_session *s)
{
    return &s->caps;
}

void imc_session_forget_caps(struct imc_session *s)
{
    imc_caps_forget(&s->caps);
}

unsigned imc_session_literal_caps(const struct imc_session *s)
{
    unsigned lit = 0;
    if (s->flags & IMCLIENT_CONN_NONSYNCLITERAL)
        lit = IMC_LIT_PLUS;
    else if (!(s->chosen & IMCLIENT_CONN_NONSYNCLITERAL))
        lit = (s->caps.bits & IMC_CAP_LITERALPLUS ? IMC_LIT_PLUS : 0) |
              (s->caps.bits & IMC_CAP_LITERALMINUS ? IMC_LIT_MINUS : 0);
    if (s->caps.enabled & IMC_CAP_UTF8ACCEPT)
        lit |= IMC_LIT_UTF8;
    return lit;
}

const struct imclient_limits *imc_session_limits(const struct imc_session *s)
{
    return &s->limits;
}

struct imc_callbacks *imc_session_callbacks(struct imc_session *s)
{
    return &s->callbacks;
}

void imc_session_settime(struct imc_session *s, long now_ms)
{
    s->now = now_ms;
}

int imc_session_literal_waiting(const struct imc_session *s)
{
    return s->out.nbarriers > 0;
}

imc_continuation_fn *imc_session_continuation(const struct imc_session *s, void **rock)
{
    *rock = s->cont_rock;
    return s->cont;
}

const struct imc_command *imc_session_oldest_owed(struct imc_session *s)
{
    const struct imc_command *oldest = imc_session_oldest(s);
    if (oldest && imc_session_idling(s) && oldest->tag == s->idle.tag)
        return NULL;
    return oldest;
}

void imc_session_blame(struct imc_session *s, const char *what)
{
    size_t wl = strlen(what);
    if (strncmp(s->error, what, wl) == 0)
        return;
    char was[sizeof s->error];
    memcpy(was, s->error, sizeof was);
    int keep = (int)(sizeof s->error - wl - sizeof " failed: ");
    snprintf(s->error, sizeof s->error, "%s failed: %.*s", what, keep,
             was[0] ? was : "connection closed");
}
