/*
 * The byte path between the transport stack and the session: reading once
 * and feeding, writing what the session lets go, the trace (with secrets
 * redacted), and failing the connection with a reason.
 */
#include "imclient_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cyrus/xmalloc.h"

void imc_fd_closing(struct imclient *c)
{
    if (!c->fdclosing || !c->transport || c->transport->fd < 0)
        return;
    c->depth++; /* what it calls on c waits, as from a callback */
    c->fdclosing(c, c->fdclosingrock, c->transport->fd);
    c->depth--;
}

void imc_drop_transport(struct imclient *c)
{
    imc_fd_closing(c);
    imc_transport_destroy(c->transport);
    c->transport = NULL;
}

void imc_fail(struct imclient *c, int code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->depth++;
    imc_session_failc(&c->session, code, "%s", msg);
    c->depth--;
    imc_drop_transport(c);
}

int imc_feed(struct imclient *c, const char *data, size_t len)
{
    c->depth++;
    int r = imc_session_feed(&c->session, data, len);
    c->depth--;
    if (r < 0) {
        imc_drop_transport(c); /* the session has given every command EOF */
        return -1;
    }
    /* What the session left unread (it paused at a layer switch) is taken
     * as it says, wherever these bytes came from. */
    size_t rest = imc_session_unread(&c->session);
    c->rest = data + len - rest;
    c->restlen = rest;
    return 0;
}

void imc_explain(struct imclient *c, int code, const char *fmt, ...)
{
    char why[IMC_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    imc_session_explainc(&c->session, code, "%s", why);
}

void imc_trace(struct imclient *c, int direction, const char *data, size_t len)
{
    if (!c->trace)
        return;
    /* Inside the guard like every other callback: a close from here is
     * deferred, and the loop may not be run from here. */
    c->depth++;
    c->tracing++;
    c->trace(c, c->tracerock, direction, data, len);
    c->tracing--;
    c->depth--;
}

/* Bytes just written, about to be acknowledged: what carried a secret
 * (a LOGIN password, an AUTHENTICATE response) is shown redacted unless
 * the application asked to see it.  A literal from the application's
 * source is shown as one placeholder with its size when its first bytes
 * go, and not at all after: the trace neither holds nor repeats a
 * message the application chose to stream. */
static void trace_written(struct imclient *c, const char *out, size_t n)
{
    if (!c->trace)
        return;
    uint64_t size;
    int from_source = imc_session_output_source(&c->session, &size);
    if (from_source) {
        if (from_source == 1) {
            char note[64];
            int len = snprintf(note, sizeof note, "[%llu bytes from a literal source]",
                               (unsigned long long)size);
            imc_trace(c, 'C', note, (size_t)len);
        }
        return;
    }
    struct imc_buf shown;
    imc_buf_init(&shown);
    if ((c->traceflags & IMCLIENT_TRACE_SECRETS) ||
        !imc_session_redact(&c->session, n, &shown)) {
        imc_trace(c, 'C', out, n);
        return;
    }
    imc_trace(c, 'C', shown.data, shown.len);
    imc_buf_free(&shown);
}

/* The next bytes of a literal source (struct imclient_literal_source):
 * its read procedure, else read(2) on its descriptor.  Neither may say
 * "later": a source is a file or something as ready as one. */
static long pull_source(const struct imclient_literal_source *src, char *buf, size_t max,
                        char *why, size_t whylen)
{
    if (src->read) {
        long n = (long)src->read(src->rock, buf, max);
        if (n < 0)
            snprintf(why, whylen, "literal source's read procedure failed");
        return n;
    }
    for (;;) {
        ssize_t n = read(src->fd, buf, max);
        if (n >= 0)
            return (long)n;
        if (errno == EINTR)
            continue;
        snprintf(why, whylen, "reading literal source (descriptor %d): %s", src->fd,
                 errno == EAGAIN ? "it would block" : strerror(errno));
        return -1;
    }
}

/* Write what the session lets go now, until the socket would block. */
int imc_flush(struct imclient *c)
{
    /* While paused, a new layer is about to start: nothing may go out in
     * the old one. */
    while (c->transport && !imc_session_paused(&c->session)) {
        char why[200];
        /* The source's read procedure is the application's code, run as a
         * callback is; it may not queue or flush (send.c). */
        c->depth++;
        c->pulling++;
        int filled = imc_session_fill(&c->session, pull_source, why, sizeof why);
        c->pulling--;
        c->depth--;
        if (filled < 0) {
            imc_fail(c, IMCLIENT_EIO, "sending a literal to %s: %s", c->servername, why);
            return -1;
        }
        size_t len;
        const char *out = imc_session_output(&c->session, &len);
        if (len == 0)
            return 0;
        ssize_t n = imc_transport_write(c->transport, out, len);
        if (n > 0) {
            trace_written(c, out, (size_t)n);
            imc_session_written(&c->session, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EAGAIN)
            return 0;
        imc_fail(c, IMCLIENT_EIO, "writing to %s: %s", c->servername,
                 c->transport->error[0] ? c->transport->error : strerror(errno));
        return -1;
    }
    return c->transport ? 0 : -1;
}

/* The read buffer exists only while reading, or while a layer switch
 * keeps the bytes that followed a paused reply in it: ten thousand idle
 * connections need not hold 64 KiB each. */
char *imc_read_buffer(struct imclient *c, size_t *cap)
{
    size_t want = c->streaming ? IMC_READ_STREAMING : IMC_READ_CHUNK;
    /* A paused session's leftover lies in the buffer: it stays where it is. */
    if (c->readcap < want && !imc_session_paused(&c->session)) {
        free(c->readbuf);
        c->readbuf = NULL;
    }
    if (!c->readbuf) {
        c->readbuf = xmalloc(want);
        c->readcap = want;
    }
    *cap = c->readcap < want ? c->readcap : want;
    return c->readbuf;
}

void imc_trim(struct imclient *c)
{
    if (imc_session_paused(&c->session))
        return;
    free(c->readbuf);
    c->readbuf = NULL;
    c->readcap = 0;
    imc_session_trim(&c->session);
}

/* Read once and hand the bytes to the session (which runs callbacks).
 * Returns 1 after a read, 0 when nothing was there, -1 on failure. */
static int read_some(struct imclient *c)
{
    size_t cap;
    char *buf = imc_session_read_spot(&c->session, &cap);
    int in_place = buf != NULL;
    if (!in_place)
        buf = imc_read_buffer(c, &cap);
    ssize_t n = imc_transport_read(c->transport, buf, cap);
    if (n < 0 && errno == EAGAIN)
        return 0;
    if (n <= 0) {
        if (n == 0)
            imc_fail(c, IMCLIENT_EEOF, "connection closed by %s", c->servername);
        else
            imc_fail(c, IMCLIENT_EIO, "reading from %s: %s", c->servername,
                     c->transport->error[0] ? c->transport->error : strerror(errno));
        return -1;
    }
    c->last_activity = imc_now_ms();
    imc_mark(c, IMC_ST_GREETED);
    c->last_read = (size_t)n;
    imc_trace(c, 'S', buf, (size_t)n);
    if (in_place) {
        c->restlen = 0;
        if (imc_session_feed_in_place(&c->session, (size_t)n) < 0) {
            imc_drop_transport(c); /* the session has given every command EOF */
            return -1;
        }
        return 1;
    }
    if (imc_feed(c, buf, (size_t)n) < 0)
        return -1;
    c->streaming = (size_t)n == cap && !imc_session_in_literal(&c->session);
    return 1;
}

/* A read that filled the buffer, and the rest of a large collected literal
 * (read in place, with no copy), are followed by another read rather than
 * a trip through the loop, which would only come straight back: a system
 * call saved per read.  Bounded, so that one busy connection does not keep
 * an event loop from its other connections. */
#define MAX_READS 16

static int inside_big_literal(struct imclient *c)
{
    size_t cap;
    return imc_session_read_spot(&c->session, &cap) != NULL;
}

int imc_read_once(struct imclient *c)
{
    int r;
    /* Bytes a layer still holds (TLS records, inflated data) would not wake
     * an application waiting in select() on the socket: take them now, up
     * to a point where input must stop. */
    int reads = 0;
    do
        r = read_some(c);
    while (r > 0 && (imc_transport_buffered(c->transport) > 0 ||
                     (++reads < MAX_READS && (c->streaming || inside_big_literal(c)))) &&
           !imc_session_paused(&c->session) && !imc_session_halted(&c->session) &&
           !imc_is(c, IMC_ST_CLOSING));
    if (r < 0)
        return -1;
    /* Callbacks may have queued commands. */
    return imc_flush(c);
}

const char *imc_leftover(struct imclient *c, size_t *len)
{
    *len = imc_session_paused(&c->session) ? c->restlen : 0;
    return c->rest;
}
