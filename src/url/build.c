/* imapurl_build: a struct imapurl written as an absolute IMAP URL.  Every
 * field is checked as imapurl_parse checks it, so that what is written
 * parses back to the same fields. */
#include <string.h>

#include "url/url.h"

#define IMC_U32_MAX 4294967295UL

static const char *mailbox_of(const struct imapurl *url)
{
    return url->mailbox ? url->mailbox : url->mailbox_utf8;
}

static int message_check(const struct imapurl *url)
{
    int part = url->section || url->has_partial || url->urlauth.access ||
               url->urlauth.expire || url->urlauth.mech || url->urlauth.token;
    if ((!url->uid && part) || (url->uid && url->search))
        return IMAPURL_EINVAL;
    if (url->section && !imc_url_section_ok(url->section))
        return IMAPURL_EINVAL;
    if (!url->has_partial && (url->start_octet || url->octet_count))
        return IMAPURL_EINVAL;
    if (url->start_octet > IMC_U32_MAX || url->octet_count > IMC_U32_MAX)
        return IMAPURL_ERANGE;
    return imc_url_urlauth_check(url);
}

static int fields_check(const struct imapurl *url)
{
    int r = imc_url_server_check(url);
    if (r)
        return r;
    if (!mailbox_of(url))
        return url->uidvalidity || url->search || url->uid || message_check(url)
                   ? IMAPURL_EINVAL : 0;
    if (url->uidvalidity > IMC_U32_MAX || url->uid > IMC_U32_MAX)
        return IMAPURL_ERANGE;
    if (url->search && *url->search == '\0')
        return IMAPURL_EINVAL;
    return message_check(url);
}

static void keyword_number(struct imc_url_out *o, const char *keyword, unsigned long v)
{
    imc_url_puts(o, keyword, strlen(keyword));
    imc_url_put_number(o, v);
}

static void message_build(struct imc_url_out *o, const struct imapurl *url)
{
    keyword_number(o, "/;UID=", url->uid);
    if (url->section) {
        imc_url_puts(o, "/;SECTION=", 10);
        imc_url_pct_encode(o, url->section, strlen(url->section), IMC_URL_BCHAR);
    }
    if (url->has_partial) {
        keyword_number(o, "/;PARTIAL=", url->start_octet);
        if (url->octet_count)
            keyword_number(o, ".", url->octet_count);
    }
    imc_url_urlauth_build(o, url);
}

static int url_build(struct imc_url_out *o, const struct imapurl *url)
{
    imc_url_puts(o, "imap://", 7);
    imc_url_server_build(o, url);
    imc_url_putc(o, '/');
    const char *mailbox = mailbox_of(url);
    if (!mailbox)
        return 0;
    int r = imc_url_mailbox_build(o, mailbox, url->mailbox != NULL);
    if (r)
        return r;
    if (url->uidvalidity)
        keyword_number(o, ";UIDVALIDITY=", url->uidvalidity);
    if (url->search) {
        imc_url_putc(o, '?');
        imc_url_pct_encode(o, url->search, strlen(url->search), IMC_URL_BCHAR);
    }
    if (url->uid)
        message_build(o, url);
    return 0;
}

int imapurl_build(const struct imapurl *url, char *out, size_t outcap, size_t *outlen)
{
    struct imc_url_out o;
    imc_url_out_init(&o, out, outcap);
    int r = url ? fields_check(url) : IMAPURL_EINVAL;
    if (r == 0)
        r = url_build(&o, url);
    return imc_url_out_result(&o, r, outlen);
}
