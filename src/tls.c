/*
 * imclient_starttls() and imclient_begintls(): put a verified TLS layer on
 * the connection.  Every way this can go wrong closes the connection, so
 * an application that asked for protection never goes on in the clear.
 * Arguments are checked before anything is sent, so a setting that cannot
 * work never costs a STARTTLS the server has already acted on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cyrus/xmalloc.h"
#include "flow.h"
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
        if (!imc_session_error(&c->session)[0])
            imc_session_failc(&c->session, IMCLIENT_EMISUSE, "%s: the connection is closed",
                              what);
        return -1;
    }
    char buf[128];
    const char *why = NULL;
    if (imc_is(c, IMC_ST_TLS))
        why = "TLS is already active";
    else if (imc_deflate_on_stack(c->transport))
        why = "COMPRESS is active (TLS must start first: RFC 4978)";
    else
        why = imc_layer_start_blocked(c, "TLS", buf, sizeof buf);
    if (!why)
        return 0;
    imc_fail(c, IMCLIENT_EMISUSE, "%s refused: %s", what, why);
    return -1;
}

/* The flow: STARTTLS sent and its reply awaited, then the handshake; or,
 * for implicit TLS, the handshake alone. */
struct tls_flow {
    struct imc_flow base;
    struct imclient *c;
    struct imc_tls_config *cfg;
    struct imc_status_reply answer;
    int asked;                      /* STARTTLS is in flight */
    imc_continuation_fn *old_cont;  /* the hook put back after the reply */
    void *old_rock;
};

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

static void stop_asking(struct imclient *c, struct tls_flow *f)
{
    if (!f->asked)
        return;
    imc_session_set_continuation(&c->session, f->old_cont, f->old_rock);
    f->asked = 0;
}

/* The tagged reply to STARTTLS must be a clean OK at the end of
 * everything the server sent.  0, or -1 after failing the connection. */
static int check_answer(struct imclient *c, struct tls_flow *f)
{
    const struct imc_status_reply *w = &f->answer;
    if (!w->done) {
        imc_fail(c, IMCLIENT_EPROTOCOL, "STARTTLS failed: no reply");
        return -1;
    }
    if (strcmp(w->keyword, "OK") != 0) {
        imc_fail(c, IMCLIENT_EREFUSED, "STARTTLS refused by %s: %s %s", c->servername, w->keyword, w->text);
        return -1;
    }
    /* Whatever follows the OK was sent before the server could have begun
     * TLS: an injection attempt (or a broken server).  It is never read as
     * plaintext, and never carried into the protected session. */
    size_t extra;
    imc_leftover(c, &extra);
    if (extra > 0 || imc_transport_buffered(c->transport) > 0) {
        imc_fail(c, IMCLIENT_EPROTOCOL, "STARTTLS failed: %s sent %zu byte(s) after its OK, before TLS "
                 "began", c->servername, extra ? extra : imc_transport_buffered(c->transport));
        return -1;
    }
    if (!imc_session_at_boundary(&c->session)) {
        imc_fail(c, IMCLIENT_EPROTOCOL, "STARTTLS failed: a reply was partly received when TLS was to begin");
        return -1;
    }
    return 0;
}

/* ---- the handshake ------------------------------------------------------ */

static int handshake_step(struct imclient *c, struct imc_flow *base, int events)
{
    (void)events;
    int r = imc_tls_handshake(c->transport);
    if (r == 0)
        return IMC_FLOW_MORE;
    if (r < 0) {
        imc_fail(c, IMCLIENT_ETLS, "TLS handshake with %s failed: %s", c->servername, c->transport->error);
        return -1;
    }
    (void)base;
    imc_mark(c, IMC_ST_TLS);
    /* RFC 3501 6.2.1: what the server said of itself before TLS may have
     * been forged, LITERAL+ included, whether we learnt it or the
     * application set the flag from it. */
    imc_session_setflags(&c->session,
                         imc_session_flags(&c->session) & ~IMCLIENT_CONN_NONSYNCLITERAL);
    imc_session_unchoose_flags(&c->session, IMCLIENT_CONN_NONSYNCLITERAL);
    imc_session_forget_caps(&c->session);
    imc_session_resume(&c->session);
    c->last_activity = imc_now_ms();
    return 0;
}

/* Put the TLS layer on the stack and take the handshake's first step. */
static int begin_handshake(struct imclient *c, struct tls_flow *f)
{
    char err[200];
    struct imc_transport *t = imc_tls_new_from(c->transport, f->cfg, err, sizeof err);
    if (!t) {
        imc_fail(c, IMCLIENT_ETLS, "TLS setup failed: %s", err);
        return -1;
    }
    /* From here the TLS layer owns the socket, so a failure closes both. */
    c->transport = t;
    int limit = imc_session_limits(&c->session)->timeout_ms;
    f->base.wait = IMC_FLOW_WAIT_IO;
    f->base.deadline = limit > 0 ? imc_now_ms() + limit : -1;
    f->base.blame = NULL;
    return handshake_step(c, &f->base, 0);
}

static int answered(struct imclient *c, struct imc_flow *base)
{
    struct tls_flow *f = (struct tls_flow *)base;
    stop_asking(c, f);
    if (check_answer(c, f) < 0)
        return -1;
    return begin_handshake(c, f);
}

static void release(struct imc_flow *base)
{
    struct tls_flow *f = (struct tls_flow *)base;
    stop_asking(f->c, f); /* ended by a lost connection while asking */
    imc_tls_config_free(f->cfg);
    free(f);
}

/* The arguments checked and made into a context, with no I/O.  A refusal
 * closes the connection like every other failure here, although nothing
 * was sent: a caller that ignores the result must not go on in the clear,
 * and the result of imclient_starttls() keeps one meaning. */
static struct tls_flow *prepare(struct imclient *c, const char *cert_file,
                                const char *key_file, const char *CAfile, const char *CApath,
                                imclient_result_proc_t *done, void *rock)
{
    struct imc_tls_options o = {
        c->servername, c->tls_verify != IMCLIENT_TLS_NOVERIFY,
        cert_file,     key_file,
        CAfile,        CApath,
    };
    char err[300];
    struct imc_tls_config *cfg = imc_tls_config_new(&o, err, sizeof err);
    if (!cfg) {
        imc_fail(c, IMCLIENT_ETLS, "TLS setup failed: %s", err);
        return NULL;
    }
    struct tls_flow *f = xzmalloc(sizeof *f);
    f->c = c;
    f->cfg = cfg;
    f->base = (struct imc_flow){ .name = "TLS handshake", .wait = IMC_FLOW_WAIT_REPLY,
                                 .deadline = -1, .lost = -1, .resume = answered,
                                 .io = handshake_step, .release = release, .done = done,
                                 .rock = rock };
    return f;
}

int imclient_starttls_start(struct imclient *imclient, char *cert_file, char *key_file,
                            char *CAfile, char *CApath, imclient_result_proc_t *done,
                            void *rock)
{
    struct imclient *c = imclient;
    if (refuse_unsafe_start(c, "STARTTLS") < 0)
        return -1;
    struct tls_flow *f = prepare(c, cert_file, key_file, CAfile, CApath, done, rock);
    if (!f)
        return -1;
    c->last_activity = imc_now_ms();
    if (imc_send(c, imc_status_reply_proc, &f->answer, "STARTTLS") < 0) {
        imc_fail(c, IMCLIENT_EMISUSE, "STARTTLS could not be sent: %s", imc_session_error(&c->session));
        release(&f->base);
        return -1;
    }
    imc_session_pause_after(&c->session, imc_session_last_tag(&c->session));
    f->old_cont = imc_session_continuation(&c->session, &f->old_rock);
    imc_session_set_continuation(&c->session, refuse_continuation, c);
    f->asked = 1;
    /* Until the handshake starts, a lost connection is STARTTLS's failure. */
    f->base.blame = "STARTTLS";
    imc_flow_begin(c, &f->base);
    return 0;
}

int imclient_begintls_start(struct imclient *imclient, char *cert_file, char *key_file,
                            char *CAfile, char *CApath, imclient_result_proc_t *done,
                            void *rock)
{
    struct imclient *c = imclient;
    if (refuse_unsafe_start(c, "implicit TLS") < 0)
        return -1;
    /* Bytes already read arrived in the clear from a server that should
     * have spoken TLS from its first byte. */
    if (c->last_read > 0) {
        imc_fail(c, IMCLIENT_EPROTOCOL, "implicit TLS refused: %s already sent bytes in the clear",
                 c->servername);
        return -1;
    }
    struct tls_flow *f = prepare(c, cert_file, key_file, CAfile, CApath, done, rock);
    if (!f)
        return -1;
    imc_flow_begin(c, &f->base);
    c->depth++;
    int r = begin_handshake(c, f);
    c->depth--;
    if (r != IMC_FLOW_MORE)
        imc_flow_finish(c, r);
    return 0;
}

int imclient_starttls(struct imclient *imclient, char *cert_file, char *key_file,
                      char *CAfile, char *CApath)
{
    int result = -1;
    imclient->blocking_call++;
    int r = imclient_starttls_start(imclient, cert_file, key_file, CAfile, CApath,
                                    imc_flow_store_result, &result);
    imclient->blocking_call--;
    return r < 0 ? -1 : imc_flow_wait(imclient, &result, -1);
}

int imclient_begintls(struct imclient *imclient, char *cert_file, char *key_file,
                      char *CAfile, char *CApath)
{
    int result = -1;
    imclient->blocking_call++;
    int r = imclient_begintls_start(imclient, cert_file, key_file, CAfile, CApath,
                                    imc_flow_store_result, &result);
    imclient->blocking_call--;
    return r < 0 ? -1 : imc_flow_wait(imclient, &result, -1);
}
