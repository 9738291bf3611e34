#include "util/safe_text.h"

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing past U+10FFFF), or 0; *cp gets its code point. */
static size_t utf8_seq(const unsigned char *s, size_t avail, unsigned long *cp)
{
    unsigned char b = s[0];
    size_t n;
    unsigned long v, min;
    if (b >= 0xc2 && b <= 0xdf)
        n = 2, v = b & 0x1f, min = 0x80;
    else if (b >= 0xe0 && b <= 0xef)
        n = 3, v = b & 0x0f, min = 0x800;
    else if (b >= 0xf0 && b <= 0xf4)
        n = 4, v = b & 0x07, min = 0x10000;
    else
        return 0;
    if (n > avail)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/* Code points a terminal acts on rather than shows, or that reorder what
 * surrounds them (Trojan Source): C1 controls, bidi marks and overrides. */
static int unsafe_cp(unsigned long cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Writes the safe form of in[0..len) to out, which may be in itself;
 * stops before a sequence that would pass cap - 1 bytes.  Returns the
 * bytes written, out NUL-terminated. */
static size_t defang(char *out, size_t cap, const char *in, size_t len)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0;
    while (i < len) {
        unsigned long cp = 0;
        size_t n = s[i] < 0x80 ? 1 : utf8_seq(s + i, len - i, &cp);
        int keep = n == 1 ? s[i] >= 0x20 && s[i] != 0x7f : n > 1 && !unsafe_cp(cp);
        size_t w = keep ? n : 1;
        if (o + w > cap - 1)
            break;
        if (keep) {
            for (size_t k = 0; k < n; k++)
                out[o + k] = (char)s[i + k];
        } else {
            out[o] = '?';
        }
        o += w;
        i += n ? n : 1;
    }
    out[o] = '\0';
    return o;
}

void imc_safe_text(char *s)
{
    size_t len = 0;
    while (s[len])
        len++;
    defang(s, len + 1, s, len);
}

void imc_safe_copy(char *out, size_t cap, const char *text, size_t len)
{
    if (cap == 0)
        return;
    defang(out, cap, text, len);
}
