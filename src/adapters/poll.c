/*
 * The built-in event loop: poll(2) on the one socket, for the page's
 * imclient_processoneevent() and for the library's blocking calls.  It
 * uses the connection only through imc_wants() and imc_handle(), the same
 * pair other loops reach as imclient_wants() and imclient_handle_events().
 */
#include "imclient_internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

int imc_poll_once(struct imclient *c, int timeout_ms)
{
    int fd, wait;
    int events = imc_wants(c, &fd, &wait);
    if (fd < 0)
        return -1;
    if (wait == 0)
        return imc_handle(c, 0);
    /* The connection's own deadline bounds the caller's. */
    int giving_up = wait > 0 && (timeout_ms < 0 || wait <= timeout_ms);
    struct pollfd p = { fd, 0, 0 };
    p.events = (short)((events & IMCLIENT_EV_READ ? POLLIN : 0) |
                       (events & IMCLIENT_EV_WRITE ? POLLOUT : 0));
    int n;
    do
        n = poll(&p, 1, giving_up ? wait : timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        imc_fail(c, IMCLIENT_EIO, "poll: %s", strerror(errno));
        return -1;
    }
    if (n == 0)
        return giving_up ? imc_handle(c, 0) : 0;
    int ready = (p.revents & (POLLIN | POLLHUP | POLLERR) ? IMCLIENT_EV_READ : 0) |
                (p.revents & POLLOUT ? IMCLIENT_EV_WRITE : 0);
    return imc_handle(c, ready);
}

int imc_run_until_paused(struct imclient *c)
{
    while (c->transport && !imc_session_paused(&c->session) && !imc_is(c, IMC_ST_CLOSING)) {
        if (imc_poll_once(c, -1) < 0)
            return -1;
    }
    return c->transport && !imc_is(c, IMC_ST_CLOSING) ? 0 : -1;
}

int imclient_processoneevent_timeout(struct imclient *imclient, int timeout_ms)
{
    struct imclient *c = imclient;
    /* From inside a callback a nested read would overwrite the input the
     * outer one is still parsing; the page forbids it, and so do we. */
    if (c->depth > 0)
        return -1;
    return imc_finish_call(c, imc_poll_once(c, timeout_ms));
}

void imclient_processoneevent(struct imclient *imclient)
{
    imclient_processoneevent_timeout(imclient, -1);
}
