/* A bounded output that keeps counting past its end: a conversion runs to
 * the end of its input even when the buffer is full, so malformed input is
 * reported as such whatever the buffer, and a short buffer learns the size
 * it needed instead of getting a truncated result. */
#include "url/url.h"

void imc_url_out_init(struct imc_url_out *o, char *buf, size_t cap)
{
    o->buf = buf;
    o->cap = buf ? cap : 0;
    o->len = 0;
}

void imc_url_putc(struct imc_url_out *o, char c)
{
    if (o->len < o->cap)
        o->buf[o->len] = c;
    o->len++;
}

void imc_url_puts(struct imc_url_out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        imc_url_putc(o, s[i]);
}

static void clear(struct imc_url_out *o)
{
    if (o->cap > 0)
        o->buf[0] = '\0';
}

int imc_url_out_finish(struct imc_url_out *o)
{
    if (o->len >= o->cap) {
        clear(o);
        return IMAPURL_ENOSPC;
    }
    o->buf[o->len] = '\0';
    return 0;
}

int imc_url_out_result(struct imc_url_out *o, int r, size_t *outlen)
{
    if (r == 0)
        r = imc_url_out_finish(o);
    else
        clear(o);
    if (outlen)
        *outlen = r == 0 || r == IMAPURL_ENOSPC ? o->len : 0;
    return r;
}
