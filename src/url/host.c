/* The host and port of an IMAP URL (RFC 3986 section 3.2.2-3.2.3): a
 * reg-name or IPv4 address, or an IPv6 address in brackets.  The host is
 * handed over without brackets so that it can go to imclient_connect. */
#include <arpa/inet.h>
#include <string.h>

#include "url/url.h"

static int ipv6_ok(const char *s, size_t n)
{
    char text[INET6_ADDRSTRLEN];
    unsigned char addr[16];
    if (n == 0 || n >= sizeof text)
        return 0;
    memcpy(text, s, n);
    text[n] = '\0';
    return inet_pton(AF_INET6, text, addr) == 1;
}

/* A decoded reg-name: UTF-8 without controls, and no ":" (which would read
 * back as an IPv6 address). */
static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || !imc_utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F || s[i] == ':')
            return 0;
    return 1;
}

int imc_url_host_check(const char *host)
{
    if (!host)
        return IMAPURL_EINVAL;
    if (strchr(host, ':'))
        return ipv6_ok(host, strlen(host)) ? 0 : IMAPURL_EINVAL;
    return name_ok(host) ? 0 : IMAPURL_EINVAL;
}

/* port = *DIGIT; empty means the default (RFC 3986 section 3.2.3). */
static int port_parse(const char *s, size_t n, unsigned *port)
{
    unsigned long v = 0;
    const char *p = s;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return IMAPURL_EINVAL;
    int r = imc_url_number(&p, 65535, &v);
    if (r == 0 && v == 0)
        r = IMAPURL_ERANGE;
    *port = (unsigned)v;
    return r;
}

static int literal_parse(const char *s, size_t n, struct imapurl *url,
                         struct imc_url_out *o)
{
    const char *close = memchr(s, ']', n);
    if (!close)
        return IMAPURL_EINVAL;
    size_t len = (size_t)(close - s) - 1;
    if (len > 0 && (s[1] == 'v' || s[1] == 'V'))
        return IMAPURL_ENOTSUP; /* IPvFuture */
    if (!ipv6_ok(s + 1, len))
        return IMAPURL_EINVAL;
    size_t rest = n - len - 2;
    if (rest > 0 && close[1] != ':')
        return IMAPURL_EINVAL;
    int r = imc_url_take(s + 1, len, IMC_URL_UNRESERVED | IMC_URL_PATHSEP, o, &url->host);
    if (r == 0 && rest > 0)
        r = port_parse(close + 2, rest - 1, &url->port);
    return r;
}

int imc_url_host_parse(const char *s, size_t n, struct imapurl *url, struct imc_url_out *o)
{
    if (n > 0 && s[0] == '[')
        return literal_parse(s, n, url, o);
    const char *colon = memchr(s, ':', n);
    size_t len = colon ? (size_t)(colon - s) : n;
    int r = imc_url_take(s, len, IMC_URL_REGNAME, o, &url->host);
    if (r == 0 && !name_ok(url->host))
        r = IMAPURL_EINVAL;
    if (r == 0 && colon)
        r = port_parse(colon + 1, n - len - 1, &url->port);
    return r;
}

void imc_url_host_build(struct imc_url_out *o, const char *host)
{
    if (strchr(host, ':')) {
        imc_url_putc(o, '[');
        imc_url_puts(o, host, strlen(host));
        imc_url_putc(o, ']');
        return;
    }
    imc_url_pct_encode(o, host, strlen(host), IMC_URL_REGNAME);
}
