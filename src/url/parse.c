/* imapurl_parse: absolute IMAP URLs (RFC 5092 section 11).
 *
 *   imapurl      = "imap://" iserver ipath-query
 *   ipath-query  = ["/" [ icommand ]]
 *   icommand     = imessagelist / imessagepart [iurlauth]
 *   imessagelist = enc-mailbox [uidvalidity] ["?" enc-search]
 *   imessagepart = enc-mailbox [uidvalidity] iuid [isection] [ipartial]
 *
 * enc-mailbox may hold "/" but not ";" or "?", so the mailbox ends at the
 * first of those; a "/" right before ";UID=" separates the two. */
#include <string.h>

#include "url/url.h"

#define IMC_U32_MAX 4294967295UL

/* RFC 3986 section 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static int scheme_parse(const char **s)
{
    if (imc_url_keyword(s, "IMAP://"))
        return 0;
    const char *p = *s;
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
        p += strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-.");
        if (*p == ':')
            return IMAPURL_EINVAL; /* another scheme, or "imap:" without "//" */
    }
    return IMAPURL_ENOTSUP; /* no scheme: a relative reference */
}

/* section [ "/" ] before ";PARTIAL=", or up to ";EXPIRE", ";URLAUTH" or the end. */
static int section_parse(const char **s, struct imapurl *url, struct imc_url_out *o)
{
    const char *p = *s;
    size_t n = strcspn(p, ";");
    const char *next = p + n - 1;
    if (p[n] == ';' && n > 0 && *next == '/' && imc_url_keyword(&next, "/;PARTIAL="))
        n--;
    int r = imc_url_take(p, n, IMC_URL_BCHAR, o, &url->section);
    if (r == 0 && !imc_url_section_ok(url->section))
        r = IMAPURL_EINVAL;
    *s = p + n;
    return r;
}

static int partial_parse(const char **s, struct imapurl *url)
{
    url->has_partial = 1;
    int r = imc_url_number(s, IMC_U32_MAX, &url->start_octet);
    if (r == 0 && **s == '.') {
        (*s)++;
        r = imc_url_nz_number(s, &url->octet_count);
    }
    return r;
}

/* "/;UID=" nz-number ["/;SECTION=" ...] ["/;PARTIAL=" ...] [iurlauth] */
static int message_parse(const char *s, struct imapurl *url, struct imc_url_out *o)
{
    int r = imc_url_nz_number(&s, &url->uid);
    if (r == 0 && imc_url_keyword(&s, "/;SECTION="))
        r = section_parse(&s, url, o);
    if (r == 0 && imc_url_keyword(&s, "/;PARTIAL="))
        r = partial_parse(&s, url);
    if (r || *s == '\0')
        return r;
    return imc_url_urlauth_parse(s, url, o);
}

static int after_mailbox(const char *s, struct imapurl *url, struct imc_url_out *o)
{
    if (*s == '\0')
        return 0;
    if (*s == '?') {
        if (s[1] == '\0') /* enc-search = 1*bchar */
            return IMAPURL_EINVAL;
        return imc_url_take(s + 1, strlen(s + 1), IMC_URL_BCHAR, o, &url->search);
    }
    if (imc_url_keyword(&s, "/;UID="))
        return message_parse(s, url, o);
    return IMAPURL_EINVAL;
}

static int command_parse(const char *s, struct imapurl *url, struct imc_url_out *o)
{
    size_t n = strcspn(s, ";?");
    const char *p = s + n;
    int r;
    if (imc_url_keyword(&p, ";UIDVALIDITY=")) {
        /* The mailbox's last segment goes on with ";UIDVALIDITY=...", so
         * ".." there is no dot-segment (RFC 5092 section 9.1). */
        r = imc_url_mailbox_parse(s, n, 0, url, o);
        if (r == 0)
            r = imc_url_nz_number(&p, &url->uidvalidity);
        return r ? r : after_mailbox(p, url, o);
    }
    if (s[n] == ';' && n > 0 && s[n - 1] == '/')
        n--;
    r = imc_url_mailbox_parse(s, n, 1, url, o);
    return r ? r : after_mailbox(s + n, url, o);
}

static int url_parse(const char *s, struct imapurl *url, struct imc_url_out *o)
{
    int r = scheme_parse(&s);
    if (r)
        return r;
    size_t n = strcspn(s, "/?#"); /* the authority ends there (RFC 3986 3.2) */
    r = imc_url_server_parse(s, n, url, o);
    s += n;
    if (r || *s == '\0')
        return r;
    if (*s != '/')
        return IMAPURL_EINVAL;
    s++;
    return *s == '\0' ? 0 : command_parse(s, url, o);
}

int imapurl_parse(struct imapurl *url, const char *s, char *buf, size_t bufcap)
{
    struct imc_url_out o;
    if (!url)
        return IMAPURL_EINVAL;
    memset(url, 0, sizeof *url);
    if (!s)
        return IMAPURL_EINVAL;
    imc_url_out_init(&o, buf, bufcap);
    int r = url_parse(s, url, &o);
    if (r)
        memset(url, 0, sizeof *url);
    return r;
}
