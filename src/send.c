/*
 * Queuing commands: imclient_send(), IDLE, and the guard that keeps a
 * callback's command out of an exchange (STARTTLS, AUTHENTICATE, COMPRESS)
 * that owns the stream.
 */
#include "imclient_internal.h"

#include <stdarg.h>

/* A command is about to be queued: the session stamps it with the time,
 * and the silence timeout counts from here when nothing else is waiting. */
static void stamp_send(struct imclient *c)
{
    long now = imc_now_ms();
    imc_session_settime(&c->session, now);
    if (imc_session_inflight(&c->session) == 0)
        c->last_activity = now;
}

/* With IMCLIENT_CONN_BATCH, the queue is written once it holds this much
 * even before the loop runs: writes stay large, and a program that queues
 * without ever handling events does not grow the queue unseen. */
#define BATCH_WRITE_AT (256 * 1024)

static int batching(struct imclient *c)
{
    if (!(imc_session_flags(&c->session) & IMCLIENT_CONN_BATCH))
        return 0;
    size_t queued;
    imc_session_output(&c->session, &queued);
    return queued < BATCH_WRITE_AT;
}

int imc_send_va(struct imclient *c, imclient_proc_t *finish, void *rock, const char *fmt,
                va_list ap)
{
    stamp_send(c);
    c->depth++;
    int r = imc_session_send(&c->session, finish, rock, fmt, ap);
    c->depth--;
    if (r == 0 && !batching(c))
        imc_flush(c);
    return r;
}

int imclient_flush(struct imclient *imclient)
{
    struct imclient *c = imclient;
    if (!c->transport)
        return -1;
    /* The trace procedure runs while bytes are being written. */
    if (c->tracing > 0) {
        imc_explain(c, IMCLIENT_EMISUSE, "imclient_flush from the trace procedure");
        return -1;
    }
    if (c->pulling > 0) {
        imc_explain(c, IMCLIENT_EMISUSE, "imclient_flush from a literal source's read procedure");
        return -1;
    }
    if (imc_flush(c) < 0)
        return imc_finish_call(c, -1); /* EOF callbacks ran; one may have closed c */
    size_t queued;
    imc_session_output(&c->session, &queued);
    return queued > 0;
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
    /* A literal source is read in the middle of writing, likewise. */
    if (c->pulling > 0)
        return "imclient_send from a literal source's read procedure";
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
    imc_finish_call(c, r);
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
    return imc_finish_call(c, r);
}

int imclient_idle_done(struct imclient *imclient)
{
    struct imclient *c = imclient;
    if (imc_session_idle_done(&c->session) < 0) {
        imc_explain(c, IMCLIENT_EMISUSE, "imclient_idle_done: no IDLE is running");
        return -1;
    }
    /* The server owes the tagged reply from now on. */
    c->last_activity = imc_now_ms();
    if (imc_flush(c) < 0)
        return -1;
    return imc_finish_call(c, 0);
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
    return imc_finish_call(c, result);
}
