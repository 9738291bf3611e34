/* Modified UTF-7, the encoding of IMAP mailbox names (RFC 3501 section
 * 5.1.3).  The RFC wants one spelling per name (its fifth reason for
 * modifying UTF-7), so the decoder accepts exactly the encoder's output. */
#include "url/url.h"

#define B64 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == ',') /* "," replaces UTF-7's "/", the common hierarchy delimiter */
        return 63;
    return -1;
}

/* 0x20-0x7E: the characters that must represent themselves. */
static int printable(uint32_t c)
{
    return c >= 0x20 && c <= 0x7E;
}

/* ---- decoding ---- */

struct run {
    uint32_t bits;  /* bits read but not yet part of a UTF-16 unit */
    int nbits;
    uint32_t high;  /* a high surrogate waiting for its low half */
    size_t units;
};

static int take_unit(struct run *r, uint32_t u, imc_cp_sink *sink, void *rock)
{
    r->units++;
    if (r->high) {
        if (u < 0xDC00 || u > 0xDFFF)
            return IMAPURL_EINVAL;
        uint32_t cp = 0x10000 + ((r->high - 0xD800) << 10) + (u - 0xDC00);
        r->high = 0;
        return sink(rock, cp);
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
        r->high = u;
        return 0;
    }
    /* A printable character, "&" included (its one spelling is "&-"),
     * must not be base64-encoded; U+0000 has no place in a C string. */
    if ((u >= 0xDC00 && u <= 0xDFFF) || printable(u) || u == 0)
        return IMAPURL_EINVAL;
    return sink(rock, u);
}

/* Decodes the run after the "&" at in[*i]; *i ends after its "-". */
static int decode_run(const char *in, size_t inlen, size_t *i, imc_cp_sink *sink,
                      void *rock)
{
    struct run r = { 0, 0, 0, 0 };
    size_t k = *i + 1;
    for (; k < inlen && in[k] != '-'; k++) {
        int v = b64_value(in[k]);
        if (v < 0)
            return IMAPURL_EINVAL;
        r.bits = r.bits << 6 | (uint32_t)v;
        r.nbits += 6;
        if (r.nbits >= 16) {
            r.nbits -= 16;
            int e = take_unit(&r, r.bits >> r.nbits & 0xFFFF, sink, rock);
            if (e)
                return e;
            r.bits &= (1u << r.nbits) - 1;
        }
    }
    /* Unterminated, empty, a superfluous sixth bit group, non-zero padding
     * or a surrogate pair cut in half: none is the canonical form. */
    if (k == inlen || r.units == 0 || r.nbits >= 6 || r.bits != 0 || r.high)
        return IMAPURL_EINVAL;
    *i = k + 1;
    return 0;
}

int imc_mutf7_decode(const char *in, size_t inlen, imc_cp_sink *sink, void *rock)
{
    size_t i = 0, run_end = (size_t)-1;
    while (i < inlen) {
        int e;
        if (in[i] == '&' && i + 1 < inlen && in[i + 1] == '-') {
            e = sink(rock, '&');
            i += 2;
        } else if (in[i] == '&') {
            /* Two runs in a row spell what one run would. */
            if (i == run_end)
                return IMAPURL_EINVAL;
            e = decode_run(in, inlen, &i, sink, rock);
            run_end = i;
        } else if (printable((unsigned char)in[i])) {
            e = sink(rock, (unsigned char)in[i]);
            i++;
        } else {
            return IMAPURL_EINVAL;
        }
        if (e)
            return e;
    }
    return 0;
}

/* ---- encoding ---- */

struct enc {
    struct imc_url_out *o;
    uint32_t bits;
    int nbits;
    int in_run;
};

static void put_unit(struct enc *e, uint32_t u)
{
    e->bits = e->bits << 16 | u;
    e->nbits += 16;
    while (e->nbits >= 6) {
        e->nbits -= 6;
        imc_url_putc(e->o, B64[e->bits >> e->nbits & 63]);
    }
    e->bits &= (1u << e->nbits) - 1;
}

/* Pads with zero bits and shifts back: a name must end in US-ASCII. */
static void close_run(struct enc *e)
{
    if (!e->in_run)
        return;
    if (e->nbits > 0)
        imc_url_putc(e->o, B64[e->bits << (6 - e->nbits) & 63]);
    imc_url_putc(e->o, '-');
    e->bits = 0;
    e->nbits = 0;
    e->in_run = 0;
}

static void put_cp(struct enc *e, uint32_t cp)
{
    if (printable(cp)) {
        close_run(e);
        imc_url_putc(e->o, (char)cp);
        if (cp == '&')
            imc_url_putc(e->o, '-');
        return;
    }
    if (!e->in_run) {
        imc_url_putc(e->o, '&');
        e->in_run = 1;
    }
    if (cp >= 0x10000) {
        put_unit(e, 0xD800 + ((cp - 0x10000) >> 10));
        put_unit(e, 0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
        put_unit(e, cp);
    }
}

int imc_mutf7_encode(const char *in, size_t inlen, struct imc_url_out *o)
{
    struct enc e = { o, 0, 0, 0 };
    const unsigned char *u = (const unsigned char *)in;
    size_t i = 0;
    while (i < inlen) {
        uint32_t cp;
        size_t len = imc_utf8_next(u + i, inlen - i, &cp);
        if (len == 0 || cp == 0)
            return IMAPURL_EINVAL;
        put_cp(&e, cp);
        i += len;
    }
    close_run(&e);
    return 0;
}

/* ---- the public pair ---- */

static int put_utf8(void *rock, uint32_t cp)
{
    imc_utf8_put(rock, cp);
    return 0;
}

static int bad_input(const char *in, size_t inlen)
{
    return in == NULL && inlen > 0;
}

int imapurl_mutf7_to_utf8(const char *in, size_t inlen, char *out, size_t outcap,
                          size_t *outlen)
{
    struct imc_url_out o;
    imc_url_out_init(&o, out, outcap);
    int r = bad_input(in, inlen) ? IMAPURL_EINVAL
                                 : imc_mutf7_decode(in, inlen, put_utf8, &o);
    return imc_url_out_result(&o, r, outlen);
}

int imapurl_utf8_to_mutf7(const char *in, size_t inlen, char *out, size_t outcap,
                          size_t *outlen)
{
    struct imc_url_out o;
    imc_url_out_init(&o, out, outcap);
    int r = bad_input(in, inlen) ? IMAPURL_EINVAL : imc_mutf7_encode(in, inlen, &o);
    return imc_url_out_result(&o, r, outlen);
}
