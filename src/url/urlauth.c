/* The URLAUTH part of a message URL (RFC 5092 section 6.1, RFC 4467):
 *
 *   [";EXPIRE=" date-time] ";URLAUTH=" access [":" uauth-mechanism ":" enc-urlauth]
 *   access = ("submit+" enc-user) / ("user+" enc-user) / "authuser" / "anonymous"
 *
 * Without the mechanism and token it is the "rump" that GENURLAUTH signs. */
#include <string.h>

#include "url/url.h"

static int digits(const char **p, int n)
{
    for (int i = 0; i < n; i++, (*p)++)
        if (**p < '0' || **p > '9')
            return 0;
    return 1;
}

static int two_digits(const char **p, int min, int max)
{
    const char *s = *p;
    if (!digits(p, 2))
        return 0;
    int v = (s[0] - '0') * 10 + (s[1] - '0');
    return v >= min && v <= max;
}

static int sep(const char **p, char c)
{
    return *(*p)++ == c;
}

/* RFC 3339 date-time; "T" and "Z" may be lower case (its section 5.6). */
static int date_time_ok(const char *s)
{
    if (!digits(&s, 4) || !sep(&s, '-') || !two_digits(&s, 1, 12) || !sep(&s, '-') ||
        !two_digits(&s, 1, 31) || !imc_url_keyword(&s, "T") || !two_digits(&s, 0, 23) ||
        !sep(&s, ':') || !two_digits(&s, 0, 59) || !sep(&s, ':') || !two_digits(&s, 0, 60))
        return 0;
    if (*s == '.') {
        s++;
        if (!digits(&s, 1))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (imc_url_keyword(&s, "Z"))
        return *s == '\0';
    if (*s != '+' && *s != '-')
        return 0;
    s++;
    return two_digits(&s, 0, 23) && sep(&s, ':') && two_digits(&s, 0, 59) && *s == '\0';
}

static int token_ok(const char *s)
{
    size_t n = strspn(s, "0123456789abcdefABCDEF");
    return n >= 32 && s[n] == '\0';
}

/* The length of the "submit+" or "user+" prefix, 0 for none. */
static size_t user_prefix(const char *s)
{
    const char *p = s;
    if (imc_url_keyword(&p, "SUBMIT+") || imc_url_keyword(&p, "USER+"))
        return (size_t)(p - s);
    return 0;
}

static int access_ok(const char *s)
{
    size_t pre = user_prefix(s);
    if (pre)
        return s[pre] != '\0' && imc_utf8_valid(s + pre, strlen(s + pre));
    const char *p = s;
    return (imc_url_keyword(&p, "AUTHUSER") || imc_url_keyword(&p, "ANONYMOUS")) &&
           *p == '\0';
}

/* uauth-mechanism = "INTERNAL" / 1*(ALPHA / DIGIT / "-" / ".") */
static int uauth_mech_ok(const char *s)
{
    return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789-.")] == '\0' && *s != '\0';
}

int imc_url_urlauth_check(const struct imapurl *url)
{
    const char *expire = url->urlauth.expire, *access = url->urlauth.access;
    const char *mech = url->urlauth.mech, *token = url->urlauth.token;
    if (!access)
        return expire || mech || token ? IMAPURL_EINVAL : 0;
    if ((expire && !date_time_ok(expire)) || !access_ok(access) || !mech != !token)
        return IMAPURL_EINVAL;
    if (mech && (!uauth_mech_ok(mech) || !token_ok(token)))
        return IMAPURL_EINVAL;
    return 0;
}

/* Copies s[0..n) as it stands: these parts have no escapes. */
static int take_raw(const char *s, size_t n, struct imc_url_out *o, const char **field)
{
    if (memchr(s, '%', n))
        return IMAPURL_EINVAL;
    return imc_url_take(s, n, IMC_URL_BCHAR, o, field);
}

static int access_parse(const char *s, size_t n, struct imapurl *url,
                        struct imc_url_out *o)
{
    size_t pre = user_prefix(s);
    size_t start = o->len;
    if (pre == 0)
        return take_raw(s, n, o, &url->urlauth.access);
    imc_url_puts(o, s, pre);
    int r = imc_url_take(s + pre, n - pre, IMC_URL_ACHAR, o, &url->urlauth.access);
    if (r == 0)
        url->urlauth.access = o->buf + start;
    return r;
}

static int verifier_parse(const char *s, struct imapurl *url, struct imc_url_out *o)
{
    const char *colon = strchr(s, ':');
    if (!colon)
        return IMAPURL_EINVAL;
    int r = take_raw(s, (size_t)(colon - s), o, &url->urlauth.mech);
    if (r == 0)
        r = take_raw(colon + 1, strlen(colon + 1), o, &url->urlauth.token);
    return r;
}

int imc_url_urlauth_parse(const char *s, struct imapurl *url, struct imc_url_out *o)
{
    int r = 0;
    if (imc_url_keyword(&s, ";EXPIRE=")) {
        size_t n = strcspn(s, ";");
        r = take_raw(s, n, o, &url->urlauth.expire);
        s += n;
    }
    if (r == 0 && !imc_url_keyword(&s, ";URLAUTH="))
        r = IMAPURL_EINVAL;
    size_t n = strcspn(s, ":");
    if (r == 0)
        r = access_parse(s, n, url, o);
    if (r == 0 && s[n] == ':')
        r = verifier_parse(s + n + 1, url, o);
    return r ? r : imc_url_urlauth_check(url);
}

void imc_url_urlauth_build(struct imc_url_out *o, const struct imapurl *url)
{
    const char *access = url->urlauth.access;
    if (!access)
        return;
    if (url->urlauth.expire) {
        imc_url_puts(o, ";EXPIRE=", 8);
        imc_url_puts(o, url->urlauth.expire, strlen(url->urlauth.expire));
    }
    imc_url_puts(o, ";URLAUTH=", 9);
    size_t pre = user_prefix(access);
    imc_url_puts(o, access, pre);
    imc_url_pct_encode(o, access + pre, strlen(access + pre), IMC_URL_ACHAR);
    if (url->urlauth.mech) {
        imc_url_putc(o, ':');
        imc_url_puts(o, url->urlauth.mech, strlen(url->urlauth.mech));
        imc_url_putc(o, ':');
        imc_url_puts(o, url->urlauth.token, strlen(url->urlauth.token));
    }
}
