/*
 * Making the connection: imclient_connect_start() creates the connection
 * object at once and runs the attempt (transport/dial.h: lookup through
 * c-ares, then each address in turn) as a flow that waits for I/O, so any
 * event loop that drives the connection drives the attempt too.  While it
 * runs, the bottom layer is a stand-in (transport/socket.h) whose
 * descriptor is the attempt's; on success the socket layer replaces it.
 * imclient_connect() is the same attempt run to its end by the built-in
 * poll loop.
 */
#include "connect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cyrus/xmalloc.h"
#include "flow.h"
#include "imclient_internal.h"
#include "transport/socket.h"


struct connect_flow {
    struct imc_flow base;
    struct imclient *c;
};

static int attempt_io(struct imclient *c, struct imc_flow *f, int events)
{
    (void)f;
    (void)events; /* the attempt asks its own descriptor what is ready */
    char err[300];
    int r = imc_dial_step(imc_socket_connecting_dial(c->transport), err, sizeof err);
    if (r == IMC_DIAL_MORE)
        return IMC_FLOW_MORE;
    if (r != 0) {
        imc_fail(c, IMCLIENT_ECONNECT, "%s", err); /* EOF to the commands queued meanwhile */
        return r;
    }
    imc_fd_closing(c); /* the attempt's descriptor gives way to the socket */
    c->transport = imc_socket_connected(c->transport);
    /* The greeting is owed from now, not from when the lookup began. */
    c->last_activity = imc_now_ms();
    if (imc_socket_flush_held(c->transport) < 0) {
        int e = errno;
        imc_fail(c, IMCLIENT_EIO, "writing to %s: %s", c->servername, strerror(e));
        return e;
    }
    return 0;
}

static void release(struct imc_flow *f)
{
    struct connect_flow *k = (struct connect_flow *)f;
    /* imc_flow_finish() has just taken back the exclusive mark that
     * imc_connect_start() already gave up; restore the balance. */
    k->c->exclusive++;
    free(k);
}

int imc_connect_start(struct imclient **imclient, const char *host, const char *port,
                      imclient_result_proc_t *done, void *rock,
                      const struct imc_dial_options *o)
{
    *imclient = NULL;
    if (!host)
        return -1;
    struct imc_dial_options defaults = { 0, NULL };
    if (!o) {
        struct imclient_limits l;
        imclient_defaultlimits(&l);
        defaults.timeout_ms = l.timeout_ms;
        o = &defaults;
    }
    char err[300];
    struct imc_dial *d;
    int r = imc_dial_start(&d, host, port, o, err, sizeof err);
    if (r != 0)
        return r;

    struct imclient *c = xzmalloc(sizeof *c);
    imc_session_init(&c->session, c);
    c->transport = imc_socket_connecting_new(d);
    c->servername = xstrdup(host);
    c->last_activity = imc_now_ms();
    c->ssf = -1;

    struct connect_flow *f = xzmalloc(sizeof *f);
    f->base = (struct imc_flow){ .name = "the connection attempt", .wait = IMC_FLOW_WAIT_IO,
                                 .deadline = -1, .lost = ECANCELED, .io = attempt_io,
                                 .release = release, .done = done, .rock = rock };
    f->c = c;
    imc_flow_begin(c, &f->base);
    /* Unlike STARTTLS or AUTHENTICATE, the attempt writes nothing of its
     * own, so the application's commands cannot land inside it: they are
     * queued, held by the stand-in layer, and written first once connected
     * (or get EOF if the attempt fails).  Exchanges that start a layer are
     * still refused while the flow runs (layer_start.c). */
    c->exclusive--;
    *imclient = c;
    return 0;
}

int imclient_connect_start(struct imclient **imclient, const char *host, const char *port,
                           imclient_result_proc_t *done, void *rock)
{
    return imc_connect_start(imclient, host, port, done, rock, NULL);
}

int imc_connect(struct imclient **imclient, const char *host, const char *port,
                const struct imc_dial_options *o)
{
    struct imclient *c;
    int result = -1;
    *imclient = NULL;
    int r = imc_connect_start(&c, host, port, imc_flow_store_result, &result, o);
    if (r != 0)
        return r;
    /* No callback of the application's can run yet (it has not seen c),
     * so nothing can close c under this loop. */
    while (c->flow && imc_poll_once(c, -1) >= 0)
        ;
    imc_flow_poke(c);
    if (result != 0) {
        imclient_close(c);
        return result;
    }
    *imclient = c;
    return 0;
}

int imclient_connect(struct imclient **imclient, const char *host, const char *port)
{
    return imc_connect(imclient, host, port, NULL);
}
