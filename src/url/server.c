/* The server part of an IMAP URL (RFC 5092 sections 3 and 11):
 *
 *   iserver   = [iuserinfo "@"] host [":" port]
 *   iuserinfo = enc-user [iauth] / [enc-user] iauth
 *   iauth     = ";AUTH=" ( "*" / enc-auth-type ) */
#include <string.h>

#include "url/url.h"

/* A SASL mechanism name (RFC 4422 section 3.1): 1 to 20 letters, digits,
 * "-" or "_".  IMAP compares them without regard to case. */
int imc_url_mech_ok(const char *s)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789-_");
    return n >= 1 && n <= 20 && s[n] == '\0';
}

/* ";AUTH=*" is written as is: RFC 5092 section 3.2 says "%2A" is not it. */
static int auth_parse(const char *s, size_t n, struct imapurl *url,
                      struct imc_url_out *o)
{
    const char *p = s;
    if (!imc_url_keyword(&p, ";AUTH="))
        return IMAPURL_EINVAL;
    n -= (size_t)(p - s);
    if (n == 1 && *p == '*')
        return imc_url_take(p, n, IMC_URL_SUBDELIM_SH, o, &url->auth);
    int r = imc_url_take(p, n, IMC_URL_ACHAR, o, &url->auth);
    if (r == 0 && !imc_url_mech_ok(url->auth))
        r = IMAPURL_EINVAL;
    return r;
}

static int userinfo_parse(const char *s, size_t n, struct imapurl *url,
                          struct imc_url_out *o)
{
    const char *semi = memchr(s, ';', n);
    size_t ulen = semi ? (size_t)(semi - s) : n;
    int r = 0;
    if (ulen == 0 && !semi)
        return IMAPURL_EINVAL;
    if (ulen > 0) {
        r = imc_url_take(s, ulen, IMC_URL_ACHAR, o, &url->user);
        /* RFC 5092 section 8: user names are UTF-8. */
        if (r == 0 && !imc_utf8_valid(url->user, strlen(url->user)))
            r = IMAPURL_EINVAL;
    }
    if (r == 0 && semi)
        r = auth_parse(semi, n - ulen, url, o);
    return r;
}

int imc_url_server_parse(const char *s, size_t n, struct imapurl *url,
                         struct imc_url_out *o)
{
    const char *at = memchr(s, '@', n);
    if (!at)
        return imc_url_host_parse(s, n, url, o);
    size_t ulen = (size_t)(at - s);
    int r = userinfo_parse(s, ulen, url, o);
    if (r == 0)
        r = imc_url_host_parse(at + 1, n - ulen - 1, url, o);
    return r;
}

void imc_url_server_build(struct imc_url_out *o, const struct imapurl *url)
{
    if (url->user)
        imc_url_pct_encode(o, url->user, strlen(url->user), IMC_URL_ACHAR);
    if (url->auth) {
        imc_url_puts(o, ";AUTH=", 6);
        imc_url_puts(o, url->auth, strlen(url->auth));
    }
    if (url->user || url->auth)
        imc_url_putc(o, '@');
    imc_url_host_build(o, url->host);
    if (url->port) {
        imc_url_putc(o, ':');
        imc_url_put_number(o, url->port);
    }
}

int imc_url_server_check(const struct imapurl *url)
{
    if (url->user && (*url->user == '\0' || !imc_utf8_valid(url->user, strlen(url->user))))
        return IMAPURL_EINVAL;
    if (url->auth && strcmp(url->auth, "*") != 0 && !imc_url_mech_ok(url->auth))
        return IMAPURL_EINVAL;
    if (url->port > 65535)
        return IMAPURL_ERANGE;
    return imc_url_host_check(url->host);
}
