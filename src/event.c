/*
 * What the connection waits for and what it does when its socket is ready,
 * without ever waiting itself: an event loop (adapters/) owns the waiting.
 * The connection's own deadlines live here too: the silence it tolerates
 * while a reply is owed, and the longest a command may wait.
 */
#include "imclient_internal.h"

#include "flow.h"

int imc_wants_write(struct imclient *c)
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
    /* An exchange on the socket itself (a handshake, the connection being
     * made) has its own deadline; the server owes no reply meanwhile. */
    if (c->flow && c->flow->wait == IMC_FLOW_WAIT_IO)
        return c->flow->deadline;
    const struct imclient_limits *l = imc_session_limits(&c->session);
    long at = -1;
    int owed = imc_session_owed(&c->session) > 0 || !imc_is(c, IMC_ST_GREETED);
    if (l->timeout_ms > 0 && owed)
        at = c->last_activity + l->timeout_ms;
    const struct imc_command *oldest = imc_session_oldest_owed(&c->session);
    if (l->command_timeout_ms > 0 && oldest) {
        long cmd_at = oldest->stamp + l->command_timeout_ms;
        if (at < 0 || cmd_at < at)
            at = cmd_at;
    }
    return at;
}

static void fail_timed_out(struct imclient *c)
{
    const struct imc_flow *f = c->flow;
    if (f && f->wait == IMC_FLOW_WAIT_IO && f->deadline >= 0 && imc_now_ms() >= f->deadline) {
        imc_fail(c, IMCLIENT_ETIMEOUT, "%s with %s timed out after %d ms", f->name, c->servername,
                 imc_session_limits(&c->session)->timeout_ms);
        return;
    }
    const struct imclient_limits *l = imc_session_limits(&c->session);
    const struct imc_command *oldest = imc_session_oldest_owed(&c->session);
    if (l->command_timeout_ms > 0 && oldest &&
        imc_now_ms() >= oldest->stamp + l->command_timeout_ms)
        imc_fail(c, IMCLIENT_ETIMEOUT, "timed out: command %llu got no reply from %s in %d ms",
                 (unsigned long long)oldest->tag, c->servername, l->command_timeout_ms);
    else
        imc_fail(c, IMCLIENT_ETIMEOUT, "timed out: no reply from %s in %d ms", c->servername, l->timeout_ms);
}

int imc_wants(struct imclient *c, int *fd, int *timeout_ms)
{
    *fd = c->transport ? c->transport->fd : -1;
    *timeout_ms = -1;
    if (!c->transport)
        return 0;
    int events = IMCLIENT_EV_READ | (imc_wants_write(c) ? IMCLIENT_EV_WRITE : 0);
    /* Bytes a layer holds are ready now, whatever the socket says. */
    if (imc_transport_buffered(c->transport) > 0) {
        *timeout_ms = 0;
        return events;
    }
    long at = give_up_at(c);
    if (at >= 0) {
        long left = at - imc_now_ms();
        *timeout_ms = left <= 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
    }
    return events;
}

static int handle(struct imclient *c, int events)
{
    if (!c->transport)
        return -1;
    /* Checked whatever woke us: a server that never falls silent would
     * otherwise keep the loop's timer from ever firing. */
    long at = give_up_at(c);
    if (at >= 0 && imc_now_ms() >= at) {
        fail_timed_out(c);
        return -1;
    }
    /* A handshake reads and writes for itself. */
    if (c->flow && c->flow->wait == IMC_FLOW_WAIT_IO)
        return imc_flow_io(c, events);
    if (imc_flush(c) < 0)
        return -1;
    if (imc_transport_buffered(c->transport) > 0)
        return imc_read_once(c) < 0 ? -1 : 1;
    /* A layer may want to write for itself (TLS answering a KeyUpdate
     * while the socket was full); its read call finishes that write. */
    if ((events & IMCLIENT_EV_WRITE) &&
        (imc_transport_wants(c->transport) & IMC_WANT_WRITE) && imc_read_once(c) < 0)
        return -1;
    if (events & IMCLIENT_EV_READ)
        return imc_read_once(c) < 0 ? -1 : 1;
    return events ? 1 : 0;
}

int imc_handle(struct imclient *c, int events)
{
    int r = handle(c, events);
    /* The reply a flow waited for may have come; or the connection died
     * under it, and it must end. */
    imc_flow_poke(c);
    if (!c->transport)
        return -1;
    imc_trim(c);
    return r;
}

int imclient_wants(struct imclient *imclient, int *fd, int *timeout_ms)
{
    return imc_wants(imclient, fd, timeout_ms);
}

int imclient_handle_events(struct imclient *imclient, int events)
{
    struct imclient *c = imclient;
    /* From inside a callback a nested read would overwrite the input the
     * outer one is still parsing. */
    if (c->depth > 0)
        return -1;
    return imc_finish_call(c, imc_handle(c, events));
}
