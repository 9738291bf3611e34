#include "core/reply.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "util/ascii.h"
#include "util/swar.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Atom characters as RFC 3501 defines them, plus ']' which may end a
 * keyword-like token; enough to delimit a keyword.  2 marks a lower-case
 * letter, which delivery upper-cases.  A table: this runs for every
 * byte of every keyword of every response. */
enum { KW_NO, KW_YES, KW_LOWER };
static const unsigned char keyword_char[256] = {
#define K16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
    /* 0x00-0x1f */ K16(0), K16(0),
    /* 0x20 ' ' ! " # $ % & ' ( ) * + , - . / */
    0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1,
    /* 0x30-0x4f */ K16(1), K16(1),
    /* 0x50 P-_ with '\\' (0x5c) */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    /* 0x60 '`', a-o */ 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    /* 0x70 p-z, '{' 0x7b, DEL 0x7f */ 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 1, 1, 1, 0,
    /* 0x80-0xff */ K16(0), K16(0), K16(0), K16(0), K16(0), K16(0), K16(0), K16(0),
#undef K16
};

/* Up to 8 leading digits of p[0..8) (all 8 readable) into *v; returns how
 * many.  Eight bytes at once: a byte is a digit when its high nibble is 3
 * both as it is and with 6 added.  A carry out of a byte at 0xfa or above
 * only disturbs the bytes after it, which are past the first non-digit. */
static inline unsigned leading_digits8(const char *p, uint64_t *v)
{
    const uint64_t ones = IMC_SWAR_ONES;
    uint64_t x = imc_swar_load(p);
    uint64_t odd = ((x & (0xf0 * ones)) ^ (0x30 * ones)) |
                   (((x + 0x06 * ones) & (0xf0 * ones)) ^ (0x30 * ones));
    unsigned n = odd ? imc_swar_first(odd) : 8;
    if (n == 0)
        return 0;
    /* The digits to the top, zeros (as leading digits) below; then pairs,
     * quads and the whole, in three multiplies. */
    x = (x << (8 * (8 - n))) & (0x0f * ones);
    x = (x * 10 + (x >> 8)) & 0x00ff00ff00ff00ffull;
    x = (x * 100 + (x >> 16)) & 0x0000ffff0000ffffull;
    x = (x * 10000 + (x >> 32)) & 0xffffffffull;
    *v = x;
    return n;
}

/*
 * The digits at line[*pos] as a number no greater than max; *pos moves past
 * them.  -1 when the value is greater.  Nineteen digits cannot overflow 64
 * bits, so only a longer run (rare, and hostile) pays for a check: the
 * common small number costs a multiply-add per digit.
 */
static inline __attribute__((always_inline)) int scan_number(const char *line, size_t len, size_t *pos, uint64_t max,
                       uint64_t *out)
{
    size_t i = *pos;
    uint64_t v = 0;
    size_t easy = len - i < 19 ? len : i + 19;
    if (len - i >= 8) {
        unsigned n = leading_digits8(line + i, &v);
        i += n;
        if (n < 8)
            easy = i;
    }
    while (i < easy && is_digit(line[i]))
        v = v * 10 + (unsigned)(line[i++] - '0');
    for (; i < len && is_digit(line[i]); i++) {
        unsigned d = (unsigned)(line[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v > max)
        return -1;
    *pos = i;
    *out = v;
    return 0;
}

static __attribute__((noinline, cold)) int reject(char *err, size_t errlen, const char *why, const char *line,
                  size_t len)
{
    /* The echo ends up in logs and on screens.  Defang it byte by byte before
     * formatting: a NUL would cut it short (so "1\0 OK" read as "1"), and
     * control or 8-bit bytes (ESC, the C1 CSI 0x9b) could drive a terminal. */
    if (!err)
        return -1;
    char show[61];
    size_t n = len > 60 ? 60 : len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line[i];
        show[i] = c < ' ' || c >= 0x7f ? '?' : (char)c;
    }
    show[n] = '\0';
    snprintf(err, errlen, "%s: \"%s%s\"", why, show, len > 60 ? "..." : "");
    return -1;
}

/* How many of p[0..8) (all 8 readable) lead as upper-case letters.  A
 * byte b below 0x80 is one when b + 0x3f has its top bit and b + 0x25 not.
 * A carry out of a byte at 0xc1 or above only disturbs the bytes after
 * it, which are past the first byte that is not a letter. */
static inline unsigned leading_upper8(uint64_t x)
{
    const uint64_t ones = IMC_SWAR_ONES;
    uint64_t upper = (x + 0x3f * ones) & ~(x + 0x25 * ones) & ~x & IMC_SWAR_HIGH;
    uint64_t other = ~upper & IMC_SWAR_HIGH;
    return other ? imc_swar_first(other) : 8;
}

/* Parse a keyword at line[*pos]; leaves *pos after it and any one space.
 * Keywords are nearly always upper-case letters: those lead 8 at a time,
 * and when they make the whole keyword (or its first 8 bytes) they are its
 * key as loaded.  Any other byte goes through the table. */
static inline __attribute__((always_inline)) int parse_keyword(const char *line, size_t len,
                                                               size_t *pos,
                                                               struct imc_reply_head *h)
{
    size_t start = *pos;
    size_t i = start;
    uint64_t x = 0;
    unsigned upper = 0;
    if (len - i >= 8) {
        x = imc_swar_load(line + i);
        upper = leading_upper8(x);
        i += upper;
    }
    unsigned seen = 0;
    unsigned c;
    while (i < len && (c = keyword_char[(unsigned char)line[i]]) != KW_NO) {
        seen |= c;
        i++;
    }
    if (i == start || (i < len && line[i] != ' '))
        return -1;
    h->kw_start = start;
    h->kw_len = i - start;
    if (upper == 8)
        h->kw_key = x;
    else if (upper == h->kw_len)
        h->kw_key = x & ((1ull << (8 * upper)) - 1);
    else
        h->kw_key = imc_ascii_key(line + start, h->kw_len);
    h->kw_lower = (seen & KW_LOWER) != 0;
    if (i < len)
        i++;
    *pos = i;
    h->text_start = i;
    return 0;
}

static enum imc_status status_of(const char *kw, size_t len)
{
    if (len == 2 && imc_ascii_eq(kw, "OK", 2))
        return IMC_STATUS_OK;
    if (len == 2 && imc_ascii_eq(kw, "NO", 2))
        return IMC_STATUS_NO;
    if (len == 3 && imc_ascii_eq(kw, "BAD", 3))
        return IMC_STATUS_BAD;
    return IMC_STATUS_NONE;
}

int imc_reply_parse(const char *line, size_t len, struct imc_reply_head *h,
                    char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    h->msgno = -1;

    if (len >= 1 && line[0] == '+') {
        if (len > 1 && line[1] != ' ')
            return reject(err, errlen, "malformed continuation request", line, len);
        h->kind = IMC_REPLY_CONTINUATION;
        h->text_start = len > 1 ? 2 : 1;
        return 0;
    }

    if (len >= 2 && line[0] == '*' && line[1] == ' ') {
        size_t pos = 2;
        h->kind = IMC_REPLY_UNTAGGED;
        if (pos < len && is_digit(line[pos])) {
            uint64_t n;
            if (scan_number(line, len, &pos, LONG_MAX, &n) < 0)
                return reject(err, errlen, "message number out of range", line, len);
            if (pos >= len || line[pos] != ' ')
                return reject(err, errlen, "malformed untagged response", line, len);
            pos++;
            h->msgno = (long)n;
        }
        if (parse_keyword(line, len, &pos, h) < 0)
            return reject(err, errlen, "malformed untagged response", line, len);
        return 0;
    }

    /* Tagged: our tags are decimal numbers without leading zeros. */
    size_t pos = 0;
    uint64_t tag = 0;
    if (scan_number(line, len, &pos, UINT64_MAX, &tag) < 0)
        return reject(err, errlen, "unknown tag", line, len);
    if (pos == 0 || pos >= len || line[pos] != ' ' || line[0] == '0')
        return reject(err, errlen, "unknown tag", line, len);
    pos++;
    h->kind = IMC_REPLY_TAGGED;
    h->tag = tag;
    if (parse_keyword(line, len, &pos, h) < 0)
        return reject(err, errlen, "malformed tagged response", line, len);
    h->status = status_of(line + h->kw_start, h->kw_len);
    if (h->status == IMC_STATUS_NONE)
        return reject(err, errlen, "tagged response is not OK, NO or BAD", line, len);
    return 0;
}
