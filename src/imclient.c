/*
 * The imclient(3) façade: the connection object -- made by connect, freed
 * by close -- and its settings.  Its byte path is io.c, its event handling
 * event.c, the built-in loop adapters/poll.c, commands send.c.
 */
#include "imclient_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cyrus/xmalloc.h"
#include "flow.h"
#include "transport/socket.h"

/* imclient_close() gives queued output (a LOGOUT) at most this long. */
#define CLOSE_FLUSH_MS 2000

void imclient_getselectinfo(struct imclient *imclient, int *fd, int *wanttowrite)
{
    struct imclient *c = imclient;
    *fd = c->transport ? c->transport->fd : -1;
    *wanttowrite = c->transport ? imc_wants_write(c) : 0;
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
    /* The loop forgets the descriptor first; the flush below waits on it
     * with a poll() of its own. */
    imc_fd_closing(c);
    c->fdclosing = NULL;
    if (c->cleanup)
        c->cleanup(c->cleanuprock);
    if (c->transport)
        flush_before_close(c);
    c->depth++;
    imc_session_failc(&c->session, IMCLIENT_ECLOSED, "connection closed by the application");
    c->depth--;
    imc_drop_transport(c);
    imc_flow_poke(c); /* a flow still running ends as lost */
    imc_session_free(&c->session);
    free(c->servername);
    free(c->readbuf);
    free(c);
}

int imc_finish_call(struct imclient *c, int result)
{
    if (imc_is(c, IMC_ST_CLOSING) && c->depth == 0) {
        destroy(c);
        return -1;
    }
    return result;
}

void imclient_setcleanup(struct imclient *imclient, void (*proc)(void *rock), void *rock)
{
    imclient->cleanup = proc;
    imclient->cleanuprock = rock;
}

void imclient_setfdclosing(struct imclient *imclient, imclient_fdclosing_proc_t *proc, void *rock)
{
    imclient->fdclosing = proc;
    imclient->fdclosingrock = rock;
}

void imclient_close(struct imclient *imclient)
{
    if (!imclient)
        return;
    /* Closing from inside a callback would free the session under the code
     * that called it; the close then happens when that code returns. */
    if (imclient->depth > 0) {
        imc_mark(imclient, IMC_ST_CLOSING);
        imc_session_halt(&imclient->session); /* no callback runs after this one */
        return;
    }
    destroy(imclient);
}

void imclient_setflags(struct imclient *imclient, int flags)
{
    imc_session_setflags(&imclient->session, imc_session_flags(&imclient->session) | flags);
    imc_session_choose_flags(&imclient->session, flags);
}

void imclient_clearflags(struct imclient *imclient, int flags)
{
    imc_session_setflags(&imclient->session, imc_session_flags(&imclient->session) & ~flags);
    imc_session_choose_flags(&imclient->session, flags);
}

int imclient_hascapability(struct imclient *imclient, const char *capability)
{
    if (!capability)
        return 0;
    return imc_caps_has(imc_session_caps(&imclient->session), capability, strlen(capability));
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
        imc_callbacks_set(imc_session_callbacks(&imclient->session), keyword, flags, proc, rock);
    }
    va_end(ap);
}

void imclient_addliteralcallback(struct imclient *imclient, const char *keyword, int flags,
                                 imclient_literal_proc_t *proc, void *rock)
{
    imc_callbacks_setliteral(imc_session_callbacks(&imclient->session), keyword, flags, proc, rock);
}

const char *imclient_error(struct imclient *imclient)
{
    return imc_session_error(&imclient->session);
}

const char *imclient_version(void)
{
    return IMCLIENT_VERSION_STRING;
}

int imclient_errcode(struct imclient *imclient)
{
    return imc_session_errcode(&imclient->session);
}

const char *imclient_strerror(int code)
{
    static const char *const names[] = {
        [IMCLIENT_OK] = "no error",
        [IMCLIENT_EMISUSE] = "the call is not allowed now, or its arguments are wrong",
        [IMCLIENT_ECONNECT] = "the connection could not be made",
        [IMCLIENT_EEOF] = "the server closed the connection",
        [IMCLIENT_EIO] = "reading or writing failed",
        [IMCLIENT_ETIMEOUT] = "the server did not answer in time",
        [IMCLIENT_EPROTOCOL] = "the server broke the protocol",
        [IMCLIENT_ELIMIT] = "the server exceeded a limit",
        [IMCLIENT_ETLS] = "TLS failed",
        [IMCLIENT_EAUTH] = "authentication failed",
        [IMCLIENT_EREFUSED] = "the server refused",
        [IMCLIENT_ECLOSED] = "the application closed the connection",
    };
    if (code < 0 || code >= (int)(sizeof names / sizeof names[0]) || !names[code])
        return "unknown error code";
    return names[code];
}

int imclient_isopen(struct imclient *imclient)
{
    return imclient->transport != NULL;
}

void imclient_getlimits(struct imclient *imclient, struct imclient_limits *limits)
{
    *limits = *imc_session_limits(&imclient->session);
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
