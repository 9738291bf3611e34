/* Percent-encoding (RFC 3986 section 2.1) with the character classes of
 * RFC 5092's grammar: which characters a part may hold as themselves. */
#include "url/url.h"

unsigned imc_url_class(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return IMC_URL_UNRESERVED;
    switch (c) {
    case '-': case '.': case '_': case '~':
        return IMC_URL_UNRESERVED;
    case '!': case '$': case '\'': case '(': case ')': case '*': case '+': case ',':
        return IMC_URL_SUBDELIM_SH;
    case '&': case '=':
        return IMC_URL_AMP_EQ;
    case ';':
        return IMC_URL_SEMI;
    case ':': case '@': case '/':
        return IMC_URL_PATHSEP;
    default:
        return 0;
    }
}

void imc_url_pct_putc(struct imc_url_out *o, unsigned char c, unsigned cls)
{
    static const char hex[] = "0123456789ABCDEF";
    if (imc_url_class(c) & cls) {
        imc_url_putc(o, (char)c);
        return;
    }
    imc_url_putc(o, '%');
    imc_url_putc(o, hex[c >> 4]);
    imc_url_putc(o, hex[c & 15]);
}

void imc_url_pct_encode(struct imc_url_out *o, const char *s, size_t n, unsigned cls)
{
    for (size_t i = 0; i < n; i++)
        imc_url_pct_putc(o, (unsigned char)s[i], cls);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The escape at s[0..n) ("%XX"): the byte, or -1. */
static int escape(const char *s, size_t n)
{
    if (n < 3)
        return -1;
    int hi = hex_value(s[1]), lo = hex_value(s[2]);
    return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

int imc_url_pct_decode(const char *s, size_t n, unsigned cls, struct imc_url_out *o)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] == '%') {
            int b = escape(s + i, n - i);
            if (b <= 0) /* %00 would end the C string early */
                return IMAPURL_EINVAL;
            imc_url_putc(o, (char)b);
            i += 3;
        } else if (imc_url_class((unsigned char)s[i]) & cls) {
            imc_url_putc(o, s[i]);
            i++;
        } else {
            return IMAPURL_EINVAL;
        }
    }
    return 0;
}

int imc_url_take(const char *s, size_t n, unsigned cls, struct imc_url_out *o,
                 const char **field)
{
    size_t start = o->len;
    int r = imc_url_pct_decode(s, n, cls, o);
    if (r)
        return r;
    imc_url_putc(o, '\0');
    if (o->len > o->cap)
        return IMAPURL_ENOSPC;
    *field = o->buf + start;
    return 0;
}
