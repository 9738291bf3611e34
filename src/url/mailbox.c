/* A mailbox name in the path of an IMAP URL.  RFC 5092 section 8: the URL
 * holds the name in UTF-8, percent-encoded, never IMAP's modified UTF-7.
 * Section 7: a segment "." or ".." and a leading "/" must be escaped, or
 * URI resolution would take them for dot-segments or a network path. */
#include <string.h>

#include "url/url.h"

/* Code points in, enc-mailbox out; dots held back until the segment shows
 * whether it is a dot-segment. */
struct mbox_writer {
    struct imc_url_out *o;
    int dots;       /* dots opening the current segment, not yet written */
    int only_dots;  /* the current segment holds nothing but those dots */
    int started;    /* something has been written */
};

static void flush_dots(struct mbox_writer *w, int dot_segment)
{
    for (; w->dots > 0; w->dots--) {
        if (dot_segment)
            imc_url_puts(w->o, "%2E", 3);
        else
            imc_url_putc(w->o, '.');
    }
}

static void end_segment(struct mbox_writer *w)
{
    flush_dots(w, w->only_dots);
    w->only_dots = 1;
}

/* One character as UTF-8, escaped where enc-mailbox = 1*bchar wants it. */
static void put_bchar(struct imc_url_out *o, uint32_t cp)
{
    struct imc_url_out tmp;
    char bytes[4];
    imc_url_out_init(&tmp, bytes, sizeof bytes);
    imc_utf8_put(&tmp, cp);
    imc_url_pct_encode(o, bytes, tmp.len, IMC_URL_BCHAR);
}

static int mbox_put(void *rock, uint32_t cp)
{
    struct mbox_writer *w = rock;
    if (cp == '.' && w->only_dots && w->dots < 2) {
        w->dots++;
    } else if (cp == '/') {
        end_segment(w);
        if (w->started)
            imc_url_putc(w->o, '/');
        else
            imc_url_puts(w->o, "%2F", 3);
    } else {
        flush_dots(w, 0);
        w->only_dots = 0;
        put_bchar(w->o, cp);
    }
    w->started = 1;
    return 0;
}

static int utf8_walk(const char *s, imc_cp_sink *sink, void *rock)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = imc_utf8_next(u + i, n - i, &cp);
        if (len == 0)
            return IMAPURL_EINVAL;
        int r = sink(rock, cp);
        if (r)
            return r;
        i += len;
    }
    return 0;
}

int imc_url_mailbox_build(struct imc_url_out *o, const char *name, int mutf7)
{
    struct mbox_writer w = { o, 0, 1, 0 };
    if (*name == '\0') /* enc-mailbox = 1*bchar */
        return IMAPURL_EINVAL;
    int r = mutf7 ? imc_mutf7_decode(name, strlen(name), mbox_put, &w)
                  : utf8_walk(name, mbox_put, &w);
    end_segment(&w);
    return r;
}

/* A raw segment "." or "..": one a URI resolver would remove. */
static int dot_segment(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

static int has_dot_segment(const char *s, size_t n, int last_is_segment)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '/')
            continue;
        if ((i < n || last_is_segment) && dot_segment(s + start, i - start))
            return 1;
        start = i + 1;
    }
    return 0;
}

int imc_url_mailbox_parse(const char *s, size_t n, int last_is_segment,
                          struct imapurl *url, struct imc_url_out *o)
{
    if (n == 0 || has_dot_segment(s, n, last_is_segment))
        return IMAPURL_EINVAL;
    int r = imc_url_take(s, n, IMC_URL_BCHAR, o, &url->mailbox_utf8);
    if (r)
        return r;
    const char *utf8 = url->mailbox_utf8;
    size_t start = o->len;
    r = imc_mutf7_encode(utf8, strlen(utf8), o);
    if (r)
        return r;
    imc_url_putc(o, '\0');
    if (o->len > o->cap)
        return IMAPURL_ENOSPC;
    url->mailbox = o->buf + start;
    return 0;
}
