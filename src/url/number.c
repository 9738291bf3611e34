/* Numbers in IMAP URLs: RFC 3501's number and nz-number, 32-bit unsigned,
 * checked for overflow before it can happen; and the URL's keywords, which
 * RFC 5092 section 11 says are not case-sensitive. */
#include "url/url.h"
#include "util/ascii.h"

#define IMC_U32_MAX 4294967295UL

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

int imc_url_number(const char **p, unsigned long max, unsigned long *v)
{
    const char *s = *p;
    unsigned long n = 0;
    if (!digit(*s))
        return IMAPURL_EINVAL;
    for (; digit(*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (n > (max - d) / 10)
            return IMAPURL_ERANGE;
        n = n * 10 + d;
    }
    *p = s;
    *v = n;
    return 0;
}

int imc_url_nz_number(const char **p, unsigned long *v)
{
    const char *s = *p;
    int r = imc_url_number(&s, IMC_U32_MAX, v);
    if (r)
        return r;
    if (*v == 0)
        return IMAPURL_ERANGE;
    if (**p == '0') /* nz-number = digit-nz *DIGIT: no leading zero */
        return IMAPURL_EINVAL;
    *p = s;
    return 0;
}

void imc_url_put_number(struct imc_url_out *o, unsigned long v)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        imc_url_putc(o, digits[--n]);
}

int imc_url_keyword(const char **s, const char *keyword)
{
    const char *p = *s;
    for (; *keyword; keyword++, p++) {
        if (imc_ascii_upper(*p) != *keyword)
            return 0;
    }
    *s = p;
    return 1;
}
