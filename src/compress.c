/*
 * imclient_compress(): COMPRESS DEFLATE (RFC 4978).  After the server's
 * tagged OK every byte both ways is raw deflate, starting with the byte
 * right after the OK's CRLF, so the rest of that read is inflated, never
 * parsed as it came.
 *
 * Unlike STARTTLS, a refusal here leaves the connection open: compression
 * protects nothing, so going on uncompressed is safe, and the application
 * can carry on with the connection it has.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "cyrus/xmalloc.h"
#include "flow.h"
#include "imclient_internal.h"
#include "layer_start.h"
#include "transport/deflate.h"

/* Compression may only start where both sides agree on the next byte, as
 * a security layer may (see STARTTLS). */
static int refuse_unsafe_start(struct imclient *c)
{
    if (!c->transport) {
        imc_explain(c, IMCLIENT_EMISUSE, "COMPRESS: the connection is closed");
        return -1;
    }
    char buf[128];
    const char *why = imc_deflate_on_stack(c->transport)
                          ? "compression is already active"
                          : imc_layer_start_blocked(c, "compression", buf, sizeof buf);
    if (!why)
        return 0;
    imc_explain(c, IMCLIENT_EMISUSE, "COMPRESS refused: %s", why);
    return -1;
}

/* Hand what the new layer holds to the session now, as the event loop
 * would: an application waiting in select() would not see it, since the
 * socket has nothing more to say. */
static int deliver_held(struct imclient *c)
{
    while (c->transport && imc_deflate_held(c->transport)) {
        size_t cap;
        char *buf = imc_read_buffer(c, &cap);
        ssize_t n = imc_transport_read(c->transport, buf, cap);
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            imc_fail(c, IMCLIENT_EIO, "COMPRESS: %s", n == 0 ? "connection closed" : c->transport->error);
            return -1;
        }
        c->last_read = (size_t)n;
        imc_trace(c, 'S', buf, (size_t)n);
        if (imc_feed(c, buf, (size_t)n) < 0)
            return -1;
    }
    return c->transport ? 0 : -1;
}

static int start_layer(struct imclient *c)
{
    if (!imc_session_at_boundary(&c->session)) {
        imc_fail(c, IMCLIENT_EPROTOCOL, "COMPRESS failed: a reply was partly received when compression "
                    "was to begin");
        return -1;
    }
    char err[160];
    struct imc_transport *t = imc_deflate_new(c->transport, err, sizeof err);
    if (!t) {
        imc_fail(c, IMCLIENT_EIO, "COMPRESS failed: %s", err);
        return -1;
    }
    c->transport = t;
    size_t n;
    const char *rest = imc_leftover(c, &n);
    imc_deflate_unread(t, rest, n);
    imc_session_resume(&c->session);
    if (deliver_held(c) < 0 || imc_flush(c) < 0)
        return -1;
    c->last_activity = imc_now_ms();
    return 0;
}

/* The flow: COMPRESS DEFLATE sent, the session paused after its reply. */
struct compress_flow {
    struct imc_flow base;
    struct imc_status_reply answer;
};

/* 0: compression is on; 1: the server said NO or BAD; -1: the connection
 * failed. */
static int answered(struct imclient *c, struct imc_flow *f)
{
    struct imc_status_reply *w = &((struct compress_flow *)f)->answer;
    if (!w->done) {
        imc_fail(c, IMCLIENT_EPROTOCOL, "COMPRESS failed: no reply");
        return -1;
    }
    if (strcmp(w->keyword, "OK") != 0) {
        /* Still plain text: what followed the answer is parsed as usual. */
        imc_switch_plain(c);
        if (!c->transport)
            return -1;
        imc_explain(c, IMCLIENT_EREFUSED, "COMPRESS refused by %s: %s %s", c->servername, w->keyword, w->text);
        return 1;
    }
    return start_layer(c);
}

static void release(struct imc_flow *f)
{
    free(f);
}

int imclient_compress_start(struct imclient *imclient, imclient_result_proc_t *done,
                            void *rock)
{
    struct imclient *c = imclient;
    if (refuse_unsafe_start(c) < 0)
        return -1;
    struct compress_flow *f = xzmalloc(sizeof *f);
    f->base = (struct imc_flow){ .name = "COMPRESS", .wait = IMC_FLOW_WAIT_REPLY,
                                 .deadline = -1, .lost = -1, .blame = "COMPRESS",
                                 .resume = answered, .release = release, .done = done,
                                 .rock = rock };
    c->last_activity = imc_now_ms();
    if (imc_send(c, imc_status_reply_proc, &f->answer, "COMPRESS DEFLATE") < 0) {
        if (c->transport)
            imc_explain(c, IMCLIENT_EMISUSE, "COMPRESS could not be sent: %s", imc_session_error(&c->session));
        free(f);
        return -1;
    }
    imc_session_pause_after(&c->session, imc_session_last_tag(&c->session));
    imc_flow_begin(c, &f->base);
    return 0;
}

int imclient_compress(struct imclient *imclient)
{
    int result = -1;
    imclient->blocking_call++;
    int r = imclient_compress_start(imclient, imc_flow_store_result, &result);
    imclient->blocking_call--;
    return r < 0 ? -1 : imc_flow_wait(imclient, &result, -1);
}
