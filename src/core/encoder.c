#include "core/encoder.h"

#include <sasl/saslutil.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "util/ascii.h"
#include "util/utf8.h"

int imc_is_atom(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == '{' || c == '"')
            return 0;
    }
    return 1;
}

enum imc_astring_form imc_astring_form(const char *s, size_t len, unsigned lit)
{
    if (len >= IMC_QUOTED_MAX)
        return IMC_FORM_LITERAL;
    int quote = len == 0;
    int eight_bit = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        /* CR, LF and NUL cannot appear in a quoted string. */
        if (c == '\r' || c == '\n' || c == '\0')
            return IMC_FORM_LITERAL;
        /* 8-bit bytes: quoted only as UTF-8 after ENABLE UTF8=ACCEPT
         * (RFC 6855 section 3), never in an atom. */
        if (c >= 0x80) {
            if (!(lit & IMC_LIT_UTF8))
                return IMC_FORM_LITERAL;
            eight_bit = quote = 1;
        }
        /* Anything that ends or changes the meaning of an ASTRING-CHAR run. */
        if (c <= ' ' || c == 0x7f || c == '(' || c == ')' || c == '{' ||
            c == '%' || c == '*' || c == '"' || c == '\\')
            quote = 1;
    }
    /* An atom NIL would read as "no string" wherever an nstring is allowed. */
    if (len == 3 && imc_ascii_eq(s, "NIL", 3))
        quote = 1;
    if (eight_bit && !imc_utf8_valid(s, len))
        return IMC_FORM_LITERAL;
    return quote ? IMC_FORM_QUOTED : IMC_FORM_ATOM;
}

int imc_literal_nonsync(unsigned lit, size_t len)
{
    return (lit & IMC_LIT_PLUS) || ((lit & IMC_LIT_MINUS) && len <= IMC_LITERAL_MINUS_MAX);
}

/* Decimal digits of v, ending just before end; returns where they start.
 * A tag, a literal's size: the command path's numbers, without printf. */
static char *put_decimal(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    return end;
}

/* "{n}\r\n", "{n+}\r\n", or with binary "~{n}\r\n" (literal8), and the
 * barrier a synchronizing one needs. */
static void append_literal_head(struct imc_outq *q, uint64_t tag, int nonsync, int binary,
                                uint64_t len)
{
    char head[32];
    char *end = head + sizeof head;
    memcpy(end -= nonsync ? 4 : 3, nonsync ? "+}\r\n" : "}\r\n", nonsync ? 4 : 3);
    char *p = put_decimal(end, len);
    *--p = '{';
    if (binary)
        *--p = '~';
    imc_outq_append(q, p, (size_t)(head + sizeof head - p));
    if (!nonsync)
        imc_outq_barrier(q, tag);
}

/* A large literal goes into a block of its own: one copy of exactly its
 * size, written from where it lies, instead of growing the queue's buffer
 * and moving it as it drains.  Not in a command carrying a secret, whose
 * bytes the queue wipes and redacts in its buffer only. */
static void append_literal(struct imc_outq *q, uint64_t tag, unsigned lit, int inline_only,
                           const char *s, size_t len)
{
    append_literal_head(q, tag, imc_literal_nonsync(lit, len), 0, len);
    if (len >= IMC_OUTQ_BLOCK_MIN && !inline_only)
        imc_outq_append_block(q, tag, s, len);
    else
        imc_outq_append(q, s, len);
}

static void append_quoted(struct imc_outq *q, const char *s, size_t len)
{
    imc_outq_append(q, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            imc_outq_append(q, s + run, i - run);
            imc_outq_append(q, "\\", 1);
            run = i;
        }
    }
    imc_outq_append(q, s + run, len - run);
    imc_outq_append(q, "\"", 1);
}

static void encode_astring(struct imc_outq *q, uint64_t tag, unsigned lit, int inline_only,
                           const char *s, size_t len)
{
    switch (imc_astring_form(s, len, lit)) {
    case IMC_FORM_ATOM:
        imc_outq_append(q, s, len);
        break;
    case IMC_FORM_QUOTED:
        append_quoted(q, s, len);
        break;
    case IMC_FORM_LITERAL:
        append_literal(q, tag, lit, inline_only, s, len);
        break;
    }
}

void imc_encode_astring(struct imc_outq *q, uint64_t tag, unsigned lit,
                        const char *s, size_t len)
{
    encode_astring(q, tag, lit, 0, s, len);
}

static int refuse(char *err, size_t errlen, const char *fmt, const char *what)
{
    snprintf(err, errlen, "imclient_send: %s in format \"%.40s\"", what, fmt);
    return -1;
}

/* %L: the literal's head now, its bytes pulled from the source as they
 * can be written. */
static int encode_source(struct imc_outq *q, uint64_t tag, unsigned lit, int inline_only,
                         va_list *ap, char *err, size_t errlen, const char *fmt)
{
    const struct imclient_literal_source *src =
        va_arg(*ap, const struct imclient_literal_source *);
    if (!src)
        return refuse(err, errlen, fmt, "NULL %L source");
    if (!src->read && src->fd < 0)
        return refuse(err, errlen, fmt, "%L source with neither read procedure nor descriptor");
    if (src->flags & ~IMCLIENT_LITERAL_BINARY)
        return refuse(err, errlen, fmt, "%L source with unknown flags");
    /* A secret must stay where the queue can wipe and redact it. */
    if (inline_only)
        return refuse(err, errlen, fmt, "%L in a command that carries a secret");
    size_t size = src->size > SIZE_MAX ? SIZE_MAX : (size_t)src->size;
    append_literal_head(q, tag, imc_literal_nonsync(lit, size),
                        src->flags & IMCLIENT_LITERAL_BINARY, src->size);
    imc_outq_append_source(q, tag, src);
    return 0;
}

static int encode_arg(struct imc_outq *q, uint64_t tag, unsigned lit, int inline_only,
                      char conv, va_list *ap, char *err, size_t errlen, const char *fmt)
{
    char num[32];
    int n;
    switch (conv) {
    case '%':
        imc_outq_append(q, "%", 1);
        return 0;
    case 'd':
        n = snprintf(num, sizeof num, "%d", va_arg(*ap, int));
        imc_outq_append(q, num, (size_t)n);
        return 0;
    case 'u':
        n = snprintf(num, sizeof num, "%u", va_arg(*ap, unsigned int));
        imc_outq_append(q, num, (size_t)n);
        return 0;
    case 'a': {
        const char *s = va_arg(*ap, const char *);
        if (!s)
            return refuse(err, errlen, fmt, "NULL atom");
        if (!imc_is_atom(s, strlen(s)))
            return refuse(err, errlen, fmt, "%a argument is not an atom");
        imc_outq_append(q, s, strlen(s));
        return 0;
    }
    case 's': {
        const char *s = va_arg(*ap, const char *);
        if (!s)
            return refuse(err, errlen, fmt, "NULL string");
        encode_astring(q, tag, lit, inline_only, s, strlen(s));
        return 0;
    }
    case 'L':
        return encode_source(q, tag, lit, inline_only, ap, err, errlen, fmt);
    case 'v': {
        char *const *v = va_arg(*ap, char *const *);
        if (!v)
            return refuse(err, errlen, fmt, "NULL array");
        for (size_t i = 0; v[i]; i++) {
            if (i > 0)
                imc_outq_append(q, " ", 1);
            encode_astring(q, tag, lit, inline_only, v[i], strlen(v[i]));
        }
        return 0;
    }
    default:
        return refuse(err, errlen, fmt, "unknown %-sequence");
    }
}

/*
 * %B (Cyrus 3.x): an int length and that many bytes, written as base64.
 * It carries SASL responses, so its bytes are a secret unless the token
 * holding them is one already (watched).  Encoded in pieces of whole
 * quanta, so no copy of the whole secret is made.
 */
static int encode_base64(struct imc_outq *q, va_list *ap, int watched, char *err,
                         size_t errlen, const char *fmt)
{
    int len = va_arg(*ap, int);
    const char *data = va_arg(*ap, const char *);
    if (len < 0 || (len > 0 && !data))
        return refuse(err, errlen, fmt, "%B with a negative length or NULL data");
    uint64_t from = imc_outq_end(q);
    char piece[4 * 768 + 1];
    for (size_t at = 0; at < (size_t)len;) {
        unsigned n = (size_t)len - at < 3 * 768 ? (unsigned)((size_t)len - at) : 3 * 768;
        unsigned outlen = 0;
        sasl_encode64(data + at, n, piece, sizeof piece, &outlen);
        imc_outq_append(q, piece, outlen);
        at += n;
    }
    explicit_bzero(piece, sizeof piece);
    if (!watched)
        imc_outq_secret(q, from, imc_outq_end(q));
    return 0;
}

/*
 * Which token of a command is a secret, counting the command name as 0:
 * LOGIN's password (RFC 3501 6.2.3) and AUTHENTICATE's initial response
 * (RFC 4959), whoever sends them.  -1 when the command carries none.
 */
static int secret_token(const char *fmt)
{
    return imc_ascii_word(fmt, "LOGIN") || imc_ascii_word(fmt, "AUTHENTICATE") ? 2 : -1;
}

/* Tokens of a command are separated by the format's own spaces (an
 * argument is one token whatever its bytes); the secret one is recorded
 * in the queue as it is closed. */
struct secret_watch {
    int want;      /* token to record, or -1 */
    int token;     /* the token being written */
    uint64_t from; /* where it began */
};

static void append_text(struct imc_outq *q, struct secret_watch *w, const char *run,
                        size_t len)
{
    if (w->want < 0) {
        imc_outq_append(q, run, len);
        return;
    }
    for (const char *sp; (sp = memchr(run, ' ', len)) != NULL;) {
        imc_outq_append(q, run, (size_t)(sp - run));
        if (w->token == w->want)
            imc_outq_secret(q, w->from, imc_outq_end(q));
        imc_outq_append(q, " ", 1);
        w->token++;
        w->from = imc_outq_end(q);
        len -= (size_t)(sp + 1 - run);
        run = sp + 1;
    }
    imc_outq_append(q, run, len);
}

int imc_encode_command(struct imc_outq *q, uint64_t tag, unsigned lit,
                       char *err, size_t errlen, const char *fmt, va_list ap)
{
    struct imc_outq_mark mark = imc_outq_mark(q);
    char tagbuf[24];
    tagbuf[sizeof tagbuf - 1] = ' ';
    char *t = put_decimal(tagbuf + sizeof tagbuf - 1, tag);
    imc_outq_append(q, t, (size_t)(tagbuf + sizeof tagbuf - t));
    struct secret_watch watch = { secret_token(fmt), 0, 0 };

    va_list args;
    va_copy(args, ap);
    const char *run = fmt;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%')
            continue;
        append_text(q, &watch, run, (size_t)(p - run));
        int r;
        if (p[1] == 'B' && p[2] != '\0')
            /* Cyrus 3.x dropped whatever followed; say so instead. */
            r = refuse(err, errlen, fmt, "%B not at the end of the format");
        else if (p[1] == 'B')
            r = encode_base64(q, &args, watch.token == watch.want, err, errlen, fmt);
        else
            r = encode_arg(q, tag, lit, watch.want >= 0, p[1], &args, err, errlen, fmt);
        if (r < 0) {
            va_end(args);
            imc_outq_rollback(q, mark);
            return -1;
        }
        p++;
        run = p + 1;
    }
    append_text(q, &watch, run, strlen(run));
    va_end(args);
    if (watch.token == watch.want)
        imc_outq_secret(q, watch.from, imc_outq_end(q));
    imc_outq_append(q, "\r\n", 2);
    imc_outq_end_command(q, tag);
    return 0;
}
