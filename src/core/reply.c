#include "core/reply.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "util/ascii.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Atom characters as RFC 3501 defines them, plus ']' which may end a
 * keyword-like token; enough to delimit a keyword.  A table: this runs
 * for every byte of every keyword of every response. */
static const unsigned char keyword_char[256] = {
#define K16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
    /* 0x00-0x1f */ K16(0), K16(0),
    /* 0x20 ' ' ! " # $ % & ' ( ) * + , - . / */
    0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1,
    /* 0x30-0x5f */ K16(1), K16(1),
    /* 0x50 P-_ with '\\' (0x5c) */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    /* 0x60-0x6f */ K16(1),
    /* 0x70-0x7f: '{' 0x7b, DEL 0x7f */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0,
    /* 0x80-0xff */ K16(0), K16(0), K16(0), K16(0), K16(0), K16(0), K16(0), K16(0),
#undef K16
};

static int is_keyword_char(unsigned char c)
{
    return keyword_char[c];
}

static int reject(char *err, size_t errlen, const char *why, const char *line,
                  size_t len)
{
    /* The echo ends up in logs and on screens.  Defang it byte by byte before
     * formatting: a NUL would cut it short (so "1\0 OK" read as "1"), and
     * control or 8-bit bytes (ESC, the C1 CSI 0x9b) could drive a terminal. */
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

/* Parse a keyword at line[*pos]; leaves *pos after it and any one space. */
static int parse_keyword(const char *line, size_t len, size_t *pos,
                         struct imc_reply_head *h)
{
    size_t i = *pos;
    while (i < len && is_keyword_char((unsigned char)line[i]))
        i++;
    if (i == *pos || (i < len && line[i] != ' '))
        return -1;
    h->kw_start = *pos;
    h->kw_len = i - *pos;
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
            long n = 0;
            while (pos < len && is_digit(line[pos])) {
                int d = line[pos] - '0';
                /* Constants only: no division per digit. */
                if (n > LONG_MAX / 10 || (n == LONG_MAX / 10 && d > LONG_MAX % 10))
                    return reject(err, errlen, "message number out of range", line, len);
                n = n * 10 + d;
                pos++;
            }
            if (pos >= len || line[pos] != ' ')
                return reject(err, errlen, "malformed untagged response", line, len);
            pos++;
            h->msgno = n;
        }
        if (parse_keyword(line, len, &pos, h) < 0)
            return reject(err, errlen, "malformed untagged response", line, len);
        return 0;
    }

    /* Tagged: our tags are decimal numbers without leading zeros. */
    size_t pos = 0;
    uint64_t tag = 0;
    while (pos < len && is_digit(line[pos])) {
        unsigned d = (unsigned)(line[pos] - '0');
        if (tag > UINT64_MAX / 10 || (tag == UINT64_MAX / 10 && d > UINT64_MAX % 10))
            return reject(err, errlen, "unknown tag", line, len);
        tag = tag * 10 + d;
        pos++;
    }
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
