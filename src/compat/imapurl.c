/*
 * Cyrus 3.x's imapurl_fromURL() and imapurl_toURL() over the strict,
 * bounded imapurl_parse() and imapurl_build().
 *
 * 3.x also took relative URLs and c-client's "{server}mailbox"; a relative
 * URL is parsed as the path of an absolute one on a stand-in host, so it
 * meets the same checks.  3.x's server field is the host with its port as
 * the URL writes them; ours keeps them apart, so they are joined and split
 * here.
 */
#include "compat/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cyrus/xmalloc.h"
#include "util/ascii.h"

/* The host a relative URL is resolved against, and taken off again. */
#define STAND_IN_HOST "localhost"
#define STAND_IN "imap://" STAND_IN_HOST

static int from_cclient(struct imapurl_cyrus3 *url, const char *src)
{
    const char *close = strchr(src, '}');
    if (!close)
        return -1;
    url->freeme = xstrdup(src);
    url->freeme[close - src] = '\0';
    url->server = url->freeme + 1;
    url->mailbox = url->freeme + (close - src) + 1;
    return 0;
}

/* host[:port] as 3.x kept it, an IPv6 address in its brackets. */
static void join_server(char *out, size_t cap, const struct imapurl *u)
{
    int v6 = strchr(u->host, ':') != NULL;
    int n = snprintf(out, cap, "%s%s%s", v6 ? "[" : "", u->host, v6 ? "]" : "");
    if (u->port && n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, ":%u", u->port);
}

static void copy_fields(struct imapurl_cyrus3 *url, const struct imapurl *u, const char *src)
{
    url->user = u->user;
    url->auth = u->auth;
    url->mailbox = u->mailbox;
    url->uidvalidity = u->uidvalidity;
    url->uid = u->uid;
    url->section = u->section;
    url->start_octet = u->start_octet;
    url->octet_count = u->octet_count;
    url->urlauth.access = u->urlauth.access;
    url->urlauth.mech = u->urlauth.mech;
    url->urlauth.token = u->urlauth.token;
    /* The rump ends where ":mech:token" begins; both are written raw. */
    if (u->urlauth.access)
        url->urlauth.rump_len = strlen(src) - (u->urlauth.mech ? strlen(u->urlauth.mech) +
                                                                    strlen(u->urlauth.token) + 2
                                                              : 0);
}

static int is_absolute(const char *src)
{
    return strlen(src) >= 7 && imc_ascii_eq(src, "imap://", 7);
}

static int from_imap(struct imapurl_cyrus3 *url, const char *src)
{
    int absolute = is_absolute(src);
    char *stand_in = NULL;
    const char *s = src;
    if (!absolute) {
        size_t n = strlen(STAND_IN) + 1 + strlen(src) + 1;
        stand_in = xmalloc(n);
        snprintf(stand_in, n, "%s/%s", STAND_IN, src[0] == '/' ? src + 1 : src);
        s = stand_in;
    }
    size_t len = strlen(s), cap = IMAPURL_BUFSIZE(len), servercap = len + 16;
    char *buf = xmalloc(cap + servercap);
    struct imapurl u;
    int r = imapurl_parse(&u, s, buf, cap);
    time_t expire = 0;
    if (r == 0 && u.urlauth.expire && imc_cyrus3_expire_parse(u.urlauth.expire, &expire) < 0)
        r = IMAPURL_EINVAL;
    /* 3.x's struct has no place for "?search": dropping it would turn a
     * URL for some messages into one for the whole mailbox. */
    if (r == 0 && u.search)
        r = IMAPURL_ENOTSUP;
    free(stand_in);
    if (r != 0) {
        free(buf);
        return -1;
    }
    url->freeme = buf;
    copy_fields(url, &u, src);
    url->urlauth.expire = expire;
    if (absolute) {
        join_server(buf + cap, servercap, &u);
        url->server = buf + cap;
    }
    return 0;
}

int imapurl_fromURL(struct imapurl_cyrus3 *url, const char *src)
{
    memset(url, 0, sizeof *url);
    if (!src)
        return -1;
    int r = src[0] == '{' ? from_cclient(url, src) : from_imap(url, src);
    if (r < 0) {
        free(url->freeme);
        memset(url, 0, sizeof *url);
    }
    return r;
}

/* Split 3.x's "host[:port]" ("[v6]:port") into host (written to buf) and
 * port: 0, or -1 when it is not of that form. */
static int split_server(const char *server, char *buf, size_t cap, unsigned *port)
{
    const char *host = server, *end, *colon;
    if (server[0] == '[') {
        host = server + 1;
        end = strchr(host, ']');
        if (!end)
            return -1;
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] && !colon)
            return -1;
    } else {
        colon = strrchr(server, ':');
        end = colon ? colon : server + strlen(server);
    }
    *port = 0;
    if (colon) {
        char *stop;
        unsigned long p = strtoul(colon + 1, &stop, 10);
        if (colon[1] < '0' || colon[1] > '9' || *stop || p == 0 || p > 65535)
            return -1;
        *port = (unsigned)p;
    }
    if ((size_t)(end - host) >= cap)
        return -1;
    memcpy(buf, host, (size_t)(end - host));
    buf[end - host] = '\0';
    return 0;
}

/* The URL of url into a new string, or NULL when a field is refused. */
static char *build(const struct imapurl_cyrus3 *url)
{
    struct imapurl u;
    memset(&u, 0, sizeof u);
    size_t hostcap = url->server ? strlen(url->server) + 1 : 16;
    char *host = xmalloc(hostcap);
    char expire[32];
    char *out = NULL;
    if (url->server) {
        if (split_server(url->server, host, hostcap, &u.port) < 0)
            goto done;
        u.user = url->user;
        u.auth = url->auth;
    } else {
        snprintf(host, hostcap, "%s", STAND_IN_HOST);
    }
    u.host = host;
    u.mailbox = url->mailbox;
    u.uidvalidity = url->uidvalidity;
    u.uid = url->uid;
    u.section = url->section;
    u.has_partial = url->start_octet || url->octet_count;
    u.start_octet = url->start_octet;
    u.octet_count = url->octet_count;
    if (url->urlauth.access) {
        u.urlauth.access = url->urlauth.access;
        u.urlauth.mech = url->urlauth.mech;
        u.urlauth.token = url->urlauth.token;
        if (url->urlauth.expire) {
            if (imc_cyrus3_expire_format(url->urlauth.expire, expire, sizeof expire) < 0)
                goto done;
            u.urlauth.expire = expire;
        }
    }
    size_t need = 0;
    if (imapurl_build(&u, NULL, 0, &need) != IMAPURL_ENOSPC)
        goto done;
    out = xmalloc(need + 1);
    if (imapurl_build(&u, out, need + 1, NULL) != 0) {
        free(out);
        out = NULL;
    }
done:
    free(host);
    return out;
}

void imapurl_toURL(char *dst, const struct imapurl_cyrus3 *url)
{
    char *s = build(url);
    const char *from = s ? s : "";
    /* A relative URL is the absolute one without the stand-in host. */
    if (s && !url->server)
        from += strlen(STAND_IN);
    strcpy(dst, from);
    free(s);
}
