/*
 * The imclient(3) façade: binds a protocol session (core/) to a transport
 * stack (transport/) and runs the event loop the page describes.
 */
#include "imclient_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cyrus/xmalloc.h"
#include "transport/socket.h"

#define READ_CHUNK (64 * 1024)
/* imclient_close() gives queued output (a LOGOUT) at most this long. */
#define CLOSE_FLUSH_MS 2000

int imclient_connect(struct imclient **imclient, const char *host, const char *port)
{
    struct imclient_limits defaults;
    imclient_defaultlimits(&defaults);
    char err[256];
    int fd;
    *imclient = NULL;
    if (!host)
        return -1;
    int r = imc_socket_connect(host, port, defaults.timeout_ms, &fd, err, sizeof err);
    if (r != 0)
        return r;

    struct imclient *c = xzmalloc(sizeof *c);
    imc_session_init(&c->session, c);
    c->transport = imc_socket_transport_new(fd);
    c->servername = xstrdup(host);
    c->readbuf = xmalloc(READ_CHUNK);
    c->readcap = READ_CHUNK;
    c->last_activity = imc_now_ms();
    c->ssf = -1;
    *imclient = c;
    return 0;
}

/* Close the socket once the session has failed; EOF has been delivered. */
static void drop_transport(struct imclient *c)
{
    imc_transport_destroy(c->transport);
    c->transport = NULL;
}

void imc_fail(struct imclient *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->depth++;
    imc_session_fail(&c->session, "%s", msg);
    c->depth--;
    drop_transport(c);
}

int imc_feed(struct imclient *c, const char *data, size_t len)
{
    c->depth++;
    int r = imc_session_feed(&c->session, data, len);
    c->depth--;
    if (r < 0) {
        drop_transport(c); /* the session has given every command EOF */
        return -1;
    }
    return 0;
}

void imc_explain(struct imclient *c, const char *fmt, ...)
{
    char why[sizeof c->session.error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    imc_session_explain(&c->session, "%s", why);
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
 * the application asked to see it. */
static void trace_written(struct imclient *c, const char *out, size_t n)
{
    if (!c->trace)
        return;
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

/* Write what the session lets go now, until the socket would block. */
int imc_flush(struct imclient *c)
{
    /* While paused, a new layer is about to start: nothing may go out in
     * the old one. */
    while (c->transport && !c->session.paused) {
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
        imc_fail(c, "writing to %s: %s", c->servername,
                 c->transport->error[0] ? c->transport->error : strerror(errno));
        return -1;
    }
    return c->transport ? 0 : -1;
}

/* Read once and hand the bytes to the session (which runs callbacks).
 * Returns 1 after a read, 0 when nothing was there, -1 on failure. */
static int read_some(struct imclient *c)
{
    ssize_t n = imc_transport_read(c->transport, c->readbuf, c->readcap);
    if (n < 0 && errno == EAGAIN)
        return 0;
    if (n <= 0) {
        if (n == 0)
            imc_fail(c, "connection closed by %s", c->servername);
        else
            imc_fail(c, "reading from %s: %s", c->servername,
                     c->transport->error[0] ? c->transport->error : strerror(errno));
        return -1;
    }
    c->last_activity = imc_now_ms();
    c->greeted = 1;
    c->last_read = (size_t)n;
    imc_trace(c, 'S', c->readbuf, (size_t)n);
    return imc_feed(c, c->readbuf, (size_t)n) < 0 ? -1 : 1;
}

static int read_once(struct imclient *c)
{
    int r;
    /* Bytes a layer still holds (TLS records, inflated data) would not wake
     * an application waiting in select() on the socket: take them now, up
     * to a point where input must stop. */
    do
        r = read_some(c);
    while (r > 0 && imc_transport_buffered(c->transport) > 0 && !c->session.paused &&
           !c->session.halted && !c->close_requested);
    if (r < 0)
        return -1;
    /* Callbacks may have queued commands. */
    return imc_flush(c);
}

static int process(struct imclient *c, int timeout_ms);

const char *imc_leftover(struct imclient *c, size_t *len)
{
    *len = c->session.leftover;
    return c->readbuf + c->last_read - c->session.leftover;
}

int imc_run_until_paused(struct imclient *c)
{
    while (c->transport && !c->session.paused && !c->close_requested) {
        int r = process(c, -1);
        if (r < 0)
            return -1;
    }
    return c->transport && !c->close_requested ? 0 : -1;
}

static int wants_write(struct imclient *c)
{
    size_t len;
    imc_session_output(&c->session, &len);
    return len > 0 || (imc_transport_wants(c->transport) & IMC_WANT_WRITE);
}

/* When the connection gives up on the server, or -1 for never: after
 * timeout_ms of silence while we are owed something (a reply, or the
 * greeting a server sends unasked), or when the oldest command has waited
 * command_timeout_ms, however much else the server sends meanwhile. */
static long give_up_at(struct imclient *c)
{
    const struct imclient_limits *l = &c->session.limits;
    long at = -1;
    int owed = imc_session_owed(&c->session) > 0 || !c->greeted;
    if (l->timeout_ms > 0 && owed)
        at = c->last_activity + l->timeout_ms;
    const struct imc_command *oldest = imc_session_oldest(&c->session);
    /* An accepted IDLE waits for our DONE, not for the server. */
    if (oldest && imc_session_idling(&c->session) && oldest->tag == c->session.idle.tag)
        oldest = NULL;
    if (l->command_timeout_ms > 0 && oldest) {
        long cmd_at = oldest->stamp + l->command_timeout_ms;
        if (at < 0 || cmd_at < at)
            at = cmd_at;
    }
    return at;
}

static void fail_timed_out(struct imclient *c)
{
    const struct imclient_limits *l = &c->session.limits;
    const struct imc_command *oldest = imc_session_oldest(&c->session);
    if (oldest && imc_session_idling(&c->session) && oldest->tag == c->session.idle.tag)
        oldest = NULL;
    if (l->command_timeout_ms > 0 && oldest &&
        imc_now_ms() >= oldest->stamp + l->command_timeout_ms)
        imc_fail(c, "timed out: command %llu got no reply from %s in %d ms",
                 (unsigned long long)oldest->tag, c->servername, l->command_timeout_ms);
    else
        imc_fail(c, "timed out: no reply from %s in %d ms", c->servername, l->timeout_ms);
}

/* How long poll() may wait: the caller's bound, or less when the
 * connection gives up sooner (then *giving_up is set). */
static int wait_budget(struct imclient *c, int timeout_ms, int *giving_up)
{
    long at = give_up_at(c);
    *giving_up = 0;
    if (at < 0)
        return timeout_ms;
    long left = at - imc_now_ms();
    if (left < 0)
        left = 0;
    if (timeout_ms < 0 || left <= timeout_ms) {
        *giving_up = 1;
        return (int)left;
    }
    return timeout_ms;
}

static int process(struct imclient *c, int timeout_ms)
{
    if (!c->transport)
        return -1;
    /* Checked before waiting, too: a server that never falls silent would
     * otherwise keep poll() from ever timing out. */
    long at = give_up_at(c);
    if (at >= 0 && imc_now_ms() >= at) {
        fail_timed_out(c);
        return -1;
    }
    if (imc_flush(c) < 0)
        return -1;
    if (imc_transport_buffered(c->transport) > 0)
        return read_once(c) < 0 ? -1 : 1;

    int giving_up;
    struct pollfd p = { c->transport->fd, POLLIN, 0 };
    if (wants_write(c))
        p.events |= POLLOUT;
    int n;
    do
        n = poll(&p, 1, wait_budget(c, timeout_ms, &giving_up));
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        imc_fail(c, "poll: %s", strerror(errno));
        return -1;
    }
    if (n == 0) {
        if (!giving_up)
            return 0;
        fail_timed_out(c);
        return -1;
    }
    if (p.revents & POLLOUT) {
        if (imc_flush(c) < 0)
            return -1;
        /* A layer may want to write for itself (TLS answering a KeyUpdate
         * while the socket was full); its read call finishes that write. */
        if (c->transport && (imc_transport_wants(c->transport) & IMC_WANT_WRITE) &&
            read_once(c) < 0)
            return -1;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR))
        return read_once(c) < 0 ? -1 : 1;
    return 1;
}

static void destroy(struct imclient *c);

/* A close a callback asked for during a public call is carried out as the
 * outermost call returns; the connection is then gone (-1). */
static int finish_call(struct imclient *c, int result)
{
    if (c->close_requested && c->depth == 0) {
        destroy(c);
        return -1;
    }
    return result;
}

int imclient_processoneevent_timeout(struct imclient *imclient, int timeout_ms)
{
    struct imclient *c = imclient;
    /* From inside a callback a nested read would overwrite the input the
     * outer one is still parsing; the page forbids it, and so do we. */
    if (c->depth > 0)
        return -1;
    return finish_call(c, process(c, timeout_ms));
}

void imclient_processoneevent(struct imclient *imclient)
{
    imclient_processoneevent_timeout(imclient, -1);
}

/* A command is about to be queued: the session stamps it with the time,
 * and the silence timeout counts from here when nothing else is waiting. */
static void stamp_send(struct imclient *c)
{
    c->session.now = imc_now_ms();
    if (imc_session_inflight(&c->session) == 0)
        c->last_activity = c->session.now;
}

int imc_send_va(struct imclient *c, imclient_proc_t *finish, void *rock, const char *fmt,
                va_list ap)
{
    stamp_send(c);
    c->depth++;
    int r = imc_session_send(&c->session, finish, rock, fmt, ap);
    c->depth--;
    if (r == 0)
        imc_flush(c);
    return r;
}

int imc_send(struct imclient *c, imclient_proc_t *finish, void *rock, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = imc_send_va(c, finish, rock, fmt, ap);
    va_end(ap);
    return r;
}

/* Why imclient_send() may not queue a command now, or NULL. */
static const char *send_blocked(const struct imclient *c)
{
    /* STARTTLS or AUTHENTICATE owns the stream: a command written now
     * would land inside the exchange or cross into the new layer. */
    if (c->exclusive > 0)
        return "imclient_send during STARTTLS, AUTHENTICATE or COMPRESS";
    /* The trace procedure runs while bytes are being written: a command
     * queued from there would be written ahead of them. */
    if (c->tracing > 0)
        return "imclient_send from the trace procedure";
    return NULL;
}

void imclient_send(struct imclient *imclient, imclient_proc_t *finishproc,
                   void *finishrock, const char *fmt, ...)
{
    struct imclient *c = imclient;
    const char *blocked = send_blocked(c);
    if (blocked) {
        c->depth++;
        imc_session_refuse(&c->session, finishproc, finishrock, blocked);
        c->depth--;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int r = imc_send_va(c, finishproc, finishrock, fmt, ap);
    va_end(ap);
    finish_call(c, r);
}

int imclient_idle(struct imclient *imclient, imclient_proc_t *finishproc, void *finishrock)
{
    struct imclient *c = imclient;
    const char *blocked = send_blocked(c);
    c->depth++;
    int r;
    if (blocked) {
        imc_session_refuse(&c->session, finishproc, finishrock, blocked);
        r = -1;
    } else {
        stamp_send(c);
        r = imc_session_idle(&c->session, finishproc, finishrock);
    }
    c->depth--;
    if (r == 0)
        imc_flush(c);
    return finish_call(c, r);
}

int imclient_idle_done(struct imclient *imclient)
{
    struct imclient *c = imclient;
    if (imc_session_idle_done(&c->session) < 0) {
        imc_explain(c, "imclient_idle_done: no IDLE is running");
        return -1;
    }
    /* The server owes the tagged reply from now on. */
    c->last_activity = imc_now_ms();
    if (imc_flush(c) < 0)
        return -1;
    return finish_call(c, 0);
}

int imclient_idling(struct imclient *imclient)
{
    return imc_session_idling(&imclient->session);
}

void imc_exclusive_begin(struct imclient *c)
{
    c->depth++;
    c->exclusive++;
}

int imc_exclusive_end(struct imclient *c, int result)
{
    c->exclusive--;
    c->depth--;
    return finish_call(c, result);
}

void imclient_getselectinfo(struct imclient *imclient, int *fd, int *wanttowrite)
{
    struct imclient *c = imclient;
    *fd = c->transport ? c->transport->fd : -1;
    *wanttowrite = c->transport ? wants_write(c) : 0;
}

/* Give queued output a short, bounded chance to leave before the socket
 * closes: "send LOGOUT, then close" is the page's own idiom. */
static void flush_before_close(struct imclient *c)
{
    long deadline = imc_now_ms() + CLOSE_FLUSH_MS;
    size_t len;
    /* Only our own queued bytes count here: a layer that wants to write
     * for itself would keep POLLOUT firing with nothing to do. */
    while (c->transport && (imc_session_output(&c->session, &len), len > 0)) {
        if (imc_flush(c) < 0 || (imc_session_output(&c->session, &len), len == 0))
            break;
        long left = deadline - imc_now_ms();
        if (left <= 0)
            break;
        struct pollfd p = { c->transport->fd, POLLOUT, 0 };
        if (poll(&p, 1, (int)left) <= 0)
            break;
    }
}

static void destroy(struct imclient *c)
{
    if (c->transport)
        flush_before_close(c);
    c->depth++;
    imc_session_fail(&c->session, "connection closed by the application");
    c->depth--;
    drop_transport(c);
    imc_session_free(&c->session);
    free(c->servername);
    free(c->readbuf);
    free(c);
}

void imclient_close(struct imclient *imclient)
{
    if (!imclient)
        return;
    /* Closing from inside a callback would free the session under the code
     * that called it; the close then happens when that code returns. */
    if (imclient->depth > 0) {
        imclient->close_requested = 1;
        imclient->session.halted = 1; /* no callback runs after this one */
        return;
    }
    destroy(imclient);
}

void imclient_setflags(struct imclient *imclient, int flags)
{
    imclient->session.flags |= flags;
}

void imclient_clearflags(struct imclient *imclient, int flags)
{
    imclient->session.flags &= ~flags;
}

char *imclient_servername(struct imclient *imclient)
{
    return imclient->servername;
}

void imclient_addcallback(struct imclient *imclient, ...)
{
    va_list ap;
    va_start(ap, imclient);
    for (;;) {
        const char *keyword = va_arg(ap, const char *);
        if (!keyword)
            break;
        int flags = va_arg(ap, int);
        imclient_proc_t *proc = va_arg(ap, imclient_proc_t *);
        void *rock = va_arg(ap, void *);
        imc_callbacks_set(&imclient->session.callbacks, keyword, flags, proc, rock);
    }
    va_end(ap);
}

void imclient_addliteralcallback(struct imclient *imclient, const char *keyword, int flags,
                                 imclient_literal_proc_t *proc, void *rock)
{
    imc_callbacks_setliteral(&imclient->session.callbacks, keyword, flags, proc, rock);
}

const char *imclient_error(struct imclient *imclient)
{
    return imclient->session.error;
}

int imclient_isopen(struct imclient *imclient)
{
    return imclient->transport != NULL;
}

void imclient_getlimits(struct imclient *imclient, struct imclient_limits *limits)
{
    *limits = imclient->session.limits;
}

void imclient_setlimits(struct imclient *imclient, const struct imclient_limits *limits)
{
    imc_session_setlimits(&imclient->session, limits);
}

void imclient_settrace(struct imclient *imclient, imclient_trace_proc_t *proc, void *rock)
{
    imclient->trace = proc;
    imclient->tracerock = rock;
}

void imclient_settraceflags(struct imclient *imclient, int flags)
{
    imclient->traceflags = flags;
}
