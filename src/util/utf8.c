/* UTF-8 as RFC 3629 defines it: shortest form only, no surrogates, nothing
 * above U+10FFFF.  Anything looser would let two byte strings name one
 * mailbox, or smuggle bytes past a check. */
#include "util/utf8.h"

/* The lead byte's payload and the sequence length; 0 when it cannot lead. */
static size_t lead(unsigned char c, uint32_t *cp)
{
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2) /* a continuation byte, or C0/C1: always overlong */
        return 0;
    if (c < 0xE0) {
        *cp = c & 0x1Fu;
        return 2;
    }
    if (c < 0xF0) {
        *cp = c & 0x0Fu;
        return 3;
    }
    if (c < 0xF5) {
        *cp = c & 0x07u;
        return 4;
    }
    return 0;
}

size_t imc_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    static const uint32_t shortest[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    uint32_t v;
    size_t len = lead(s[0], &v);
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0u) != 0x80u)
            return 0;
        v = v << 6 | (s[i] & 0x3Fu);
    }
    if (v < shortest[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

int imc_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = imc_utf8_next(u + i, n - i, &cp);
        if (len == 0 || cp == 0)
            return 0;
        i += len;
    }
    return 1;
}
