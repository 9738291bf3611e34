#include "utf8.h"

int imcli_utf8_seq(const unsigned char *p, size_t n)
{
    if (n == 0)
        return -1;
    unsigned char b = p[0];
    if (b < 0x80)
        return 1;
    int len;
    unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range (RFC 3629) */
    if (b >= 0xc2 && b <= 0xdf)
        len = 2;
    else if (b >= 0xe0 && b <= 0xef) {
        len = 3;
        if (b == 0xe0)
            lo = 0xa0;  /* no overlong forms */
        if (b == 0xed)
            hi = 0x9f;  /* no surrogates */
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4;
        if (b == 0xf0)
            lo = 0x90;
        if (b == 0xf4)
            hi = 0x8f;  /* nothing above U+10FFFF */
    } else
        return 0;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return -1;
        unsigned char lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xbf;
        if (p[i] < lo_i || p[i] > hi_i)
            return 0;
    }
    return len;
}

int imcli_utf8_valid(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        int k = imcli_utf8_seq(p + i, n - i);
        if (k <= 0)
            return 0;
        i += (size_t)k;
    }
    return 1;
}
