/*
 * After the tagged reply to AUTHENTICATE the session is paused: input
 * stopped right after that line, and the rest of the same read is held.
 * Without a security layer those bytes are plain protocol and are fed on.
 * With one, the server encodes everything after its OK, so the rest goes
 * through sasl_decode() first; if it does not decode, it was never sent
 * through the layer (plaintext injected after the OK) and the
 * connection is closed rather than parsed.
 */
#include "auth/auth_internal.h"

#include <stdlib.h>

#include "transport/sasl_layer.h"

void imc_switch_plain(struct imclient *c)
{
    size_t n;
    const char *rest = imc_leftover(c, &n);
    imc_session_resume(&c->session);
    if (n > 0 && c->transport && imc_feed(c, rest, n) < 0)
        return;
    if (c->transport)
        imc_flush(c);
}

/* Hand the decoded bytes to the session as the façade's read would. */
static void deliver_held(struct imclient *c)
{
    while (c->transport && imc_sasl_layer_held(c->transport) > 0) {
        size_t cap;
        char *buf = imc_read_buffer(c, &cap);
        ssize_t n = imc_transport_read(c->transport, buf, cap);
        if (n <= 0)
            return;
        c->last_read = (size_t)n;
        imc_trace(c, 'S', buf, (size_t)n);
        if (imc_feed(c, buf, (size_t)n) < 0)
            return;
    }
}

int imc_switch_layer(struct imclient *c, sasl_conn_t *conn, void *keep)
{
    if (!c->transport || !imc_session_at_boundary(&c->session)) {
        sasl_dispose(&conn);
        free(keep);
        imc_fail(c, IMCLIENT_EPROTOCOL, "security layer cannot start in the middle of a response");
        return -1;
    }
    char err[160];
    struct imc_transport *t = imc_sasl_layer_new(c->transport, conn, keep, err, sizeof err);
    if (!t) {
        sasl_dispose(&conn);
        free(keep);
        imc_fail(c, IMCLIENT_EAUTH, "%s", err);
        return -1;
    }
    c->transport = t;
    /* RFC 4959 / 3501 6.2.2: a list sent before the layer (the OK's own
     * code included) no longer holds once it protects the stream. */
    imc_session_forget_caps(&c->session);
    size_t n;
    const char *rest = imc_leftover(c, &n);
    if (n > 0 && imc_sasl_layer_unread(t, rest, n) < 0) {
        imc_fail(c, IMCLIENT_EPROTOCOL, "data after the authentication OK did not come through the "
                    "security layer (%s)", t->error);
        return -1;
    }
    imc_session_resume(&c->session);
    deliver_held(c);
    if (!c->transport)
        return -1;
    imc_flush(c);
    return c->transport ? 0 : -1;
}
