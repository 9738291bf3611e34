/*
 * imclient_starttls() and imclient_begintls(): put a verified TLS layer on
 * the connection.  Every way this can go wrong closes the connection, so
 * an application that asked for protection never goes on in the clear.
 * Arguments are checked before anything is sent, so a setting that cannot
 * work never costs a STARTTLS the server has already acted on.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "imclient_internal.h"
#include "layer_start.h"
#include "transport/deflate.h"
#include "transport/tls.h"

int imclient_havetls(void)
{
    return 1;
}

void imclient_settlsverify(struct imclient *imclient, int mode)
{
    imclient->tls_verify =
        mode == IMCLIENT_TLS_NOVERIFY ? IMCLIENT_TLS_NOVERIFY : IMCLIENT_TLS_VERIFY;
}

/* A layer may only start where both sides agree on the next byte: nothing
 * of ours queued or unanswered, no reply half read, no library code below
 * us in the middle of a feed. */
static int refuse_unsafe_start(struct imclient *c, const char *what)
{
    if (!c->transport) {
        if (!c->session.error[0])
            imc_session_fail(&c->session, "%s: the connection is closed", what);
        return -1;
    }
    char buf[128];
    const char *why = NULL;
    if (c->tls_active)
        why = "TLS is already active";
    else if (imc_deflate_on_stack(c->transport))
        why = "COMPRESS is active (TLS must start first: RFC 4978)";
    else
        why = imc_layer_start_blocked(c, "TLS", buf, sizeof buf);
    if (!why)
        return 0;
    imc_fail(c, "%s refused: %s", what, why);
    return -1;
}

/* ---- STARTTLS ---------------------------------------------------------- */

/* RFC 3501 6.2.1: the only answer that lets TLS begin is the tagged OK.
 * A continuation request would have us send something in the clear. */
static int refuse_continuation(void *rock, const char *text, size_t len)
{
    struct imclient *c = rock;
    char quoted[61];
    imc_quote_text(quoted, sizeof quoted, text, len);
    imc_session_fail(&c->session, "STARTTLS failed: the server asked for more "
                     "(\"+ %s\") instead of answering", quoted);
    return -1;
}

/* Send STARTTLS and wait for its tagged reply, which must be a clean OK at
 * the end of everything the server sent. */
static int await_starttls_ok(struct imclient *c)
{
    struct imc_status_reply w = { 0 };
    imc_continuation_fn *old_cont = c->session.cont;
    void *old_rock = c->session.cont_rock;
    c->last_activity = imc_now_ms();
    if (imc_send(c, imc_status_reply_proc, &w, "STARTTLS") < 0) {
        imc_fail(c, "STARTTLS could not be sent: %s", c->session.error);
        return -1;
    }
    imc_session_pause_after(&c->session, imc_session_last_tag(&c->session));
    imc_session_set_continuation(&c->session, refuse_continuation, c);
    imc_run_until_paused(c);
    imc_session_set_continuation(&c->session, old_cont, old_rock);
    /* Judged by the state: the wait also ends when a callback asked to
     * close, or with no reply at all. */
    if (!c->transport || !c->session.paused || !w.done) {
        if (c->transport)
            imc_fail(c, "STARTTLS failed: no reply");
        imc_blame(c, "STARTTLS");
        return -1;
    }
    if (strcmp(w.keyword, "OK") != 0) {
        imc_fail(c, "STARTTLS refused by %s: %s %s", c->servername, w.keyword, w.text);
        return -1;
    }
    /* Whatever follows the OK was sent before the server could have begun
     * TLS: an injection attempt (or a broken server).  It is never read as
     * plaintext, and never carried into the protected session. */
    size_t extra;
    imc_leftover(c, &extra);
    if (extra > 0 || imc_transport_buffered(c->transport) > 0) {
        imc_fail(c, "STARTTLS failed: %s sent %zu byte(s) after its OK, before TLS "
                 "began", c->servername, extra ? extra : imc_transport_buffered(c->transport));
        return -1;
    }
    if (!imc_session_at_boundary(&c->session)) {
        imc_fail(c, "STARTTLS failed: a reply was partly received when TLS was to begin");
        return -1;
    }
    return 0;
}

/* ---- the handshake ------------------------------------------------------ */

/* Wait for the socket as the handshake asks, within the deadline.
 * Returns 0, or -1 after failing the connection. */
static int wait_for_socket(struct imclient *c, long deadline)
{
    int want = imc_transport_wants(c->transport);
    struct pollfd p = { c->transport->fd, 0, 0 };
    if (want & IMC_WANT_WRITE)
        p.events |= POLLOUT;
    if ((want & IMC_WANT_READ) || !p.events)
        p.events |= POLLIN;
    for (;;) {
        long left = deadline < 0 ? -1 : deadline - imc_now_ms();
        if (deadline >= 0 && left < 0)
            left = 0;
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            imc_fail(c, "TLS handshake with %s timed out after %d ms", c->servername,
                     c->session.limits.timeout_ms);
        else
            imc_fail(c, "TLS handshake with %s: poll: %s", c->servername,
                     strerror(errno));
        return -1;
    }
}

/* The arguments checked and made into a context, with no I/O.  A refusal
 * closes the connection like every other failure here, although nothing
 * was sent: a caller that ignores the result must not go on in the clear,
 * and the result of imclient_starttls() keeps one meaning. */
static struct imc_tls_config *prepare(struct imclient *c, const char *cert_file,
                                      const char *key_file, const char *CAfile,
                                      const char *CApath)
{
    struct imc_tls_options o = {
        c->servername, c->tls_verify != IMCLIENT_TLS_NOVERIFY,
        cert_file,     key_file,
        CAfile,        CApath,
    };
    char err[300];
    struct imc_tls_config *cfg = imc_tls_config_new(&o, err, sizeof err);
    if (!cfg)
        imc_fail(c, "TLS setup failed: %s", err);
    return cfg;
}

static int handshake(struct imclient *c, const struct imc_tls_config *cfg)
{
    char err[200];
    struct imc_transport *t = imc_tls_new_from(c->transport, cfg, err, sizeof err);
    if (!t) {
        imc_fail(c, "TLS setup failed: %s", err);
        return -1;
    }
    /* From here the TLS layer owns the socket, so a failure closes both. */
    c->transport = t;
    int limit = c->session.limits.timeout_ms;
    long deadline = limit > 0 ? imc_now_ms() + limit : -1;
    for (;;) {
        int r = imc_tls_handshake(t);
        if (r > 0)
            break;
        if (r < 0) {
            imc_fail(c, "TLS handshake with %s failed: %s", c->servername, t->error);
            return -1;
        }
        if (wait_for_socket(c, deadline) < 0)
            return -1;
    }
    c->tls_active = 1;
    /* RFC 3501 6.2.1: what the server said of itself before TLS may have
     * been forged, LITERAL+ included. */
    c->session.flags &= ~IMCLIENT_CONN_NONSYNCLITERAL;
    imc_session_resume(&c->session);
    c->last_activity = imc_now_ms();
    return 0;
}

int imclient_starttls(struct imclient *imclient, char *cert_file, char *key_file,
                      char *CAfile, char *CApath)
{
    struct imclient *c = imclient;
    if (refuse_unsafe_start(c, "STARTTLS") < 0)
        return -1;
    struct imc_tls_config *cfg = prepare(c, cert_file, key_file, CAfile, CApath);
    if (!cfg)
        return -1;
    imc_exclusive_begin(c);
    int r = await_starttls_ok(c) < 0 || handshake(c, cfg) < 0 ? -1 : 0;
    imc_tls_config_free(cfg);
    return imc_exclusive_end(c, r);
}

int imclient_begintls(struct imclient *imclient, char *cert_file, char *key_file,
                      char *CAfile, char *CApath)
{
    struct imclient *c = imclient;
    if (refuse_unsafe_start(c, "implicit TLS") < 0)
        return -1;
    /* Bytes already read arrived in the clear from a server that should
     * have spoken TLS from its first byte. */
    if (c->last_read > 0) {
        imc_fail(c, "implicit TLS refused: %s already sent bytes in the clear",
                 c->servername);
        return -1;
    }
    struct imc_tls_config *cfg = prepare(c, cert_file, key_file, CAfile, CApath);
    if (!cfg)
        return -1;
    imc_exclusive_begin(c);
    int r = handshake(c, cfg) < 0 ? -1 : 0;
    imc_tls_config_free(cfg);
    return imc_exclusive_end(c, r);
}
