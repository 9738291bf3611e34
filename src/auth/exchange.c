/*
 * One AUTHENTICATE command (RFC 3501 6.2.2, RFC 4959): the initial
 * response inline when the server takes SASL-IR, else after its first
 * "+"; each "+ <base64>" challenge answered through sasl_client_step()
 * from the session's continuation hook; "*" to cancel when we cannot go
 * on, after which only the server's tagged reply is awaited.
 *
 * The hook and the finish callback point at the struct imc_exchange, which
 * the authentication flow keeps until imc_exchange_end(); neither is left
 * installed after that, and the command has had its tagged reply (or EOF)
 * by then.
 */
#include "auth/auth_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cyrus/xmalloc.h"

/* No mechanism we know of needs more round trips; a server that keeps
 * challenging is stalling or probing. */
#define MAX_ROUNDS 32

#define exchange imc_exchange

static void queue(struct exchange *x, const char *data, size_t len, int secret)
{
    imc_session_send_raw(&x->p.c->session, data, len, secret);
}

/* A response line carries credentials: our copy is wiped, the queue's once
 * written, and the trace shows neither. */
static void send_response(struct exchange *x, const char *data, unsigned len)
{
    size_t n;
    char *b64 = imc_b64_encode(data, len, &n);
    queue(x, b64, n, 1);
    queue(x, "\r\n", 2, 0);
    explicit_bzero(b64, n);
    free(b64);
}

static int cancel(struct exchange *x, int hostile, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cancel(struct exchange *x, int hostile, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->why, sizeof x->why, fmt, ap);
    va_end(ap);
    queue(x, "*\r\n", 3, 0);
    x->cancelled = 1;
    x->hostile = hostile;
    return 0;
}

/* Why the mechanism could not go on, in the application's terms. */
static void local_reason(struct exchange *x, int rc, char *buf, size_t len)
{
    const struct imc_exchange_params *p = &x->p;
    if (p->secrets->missing[0])
        snprintf(buf, len, "%s needs %s, and the secret procedure gave none", p->mech,
                 p->secrets->missing);
    else if (rc == SASL_INTERACT)
        snprintf(buf, len, "%s wants to prompt for input, which this library never does",
                 p->mech);
    else
        snprintf(buf, len, "%s: %s", p->mech, sasl_errdetail(p->conn));
}

static int step(struct exchange *x, const char *in, unsigned inlen)
{
    sasl_interact_t *interact = NULL;
    const char *out = NULL;
    unsigned outlen = 0;
    int rc = sasl_client_step(x->p.conn, in, inlen, &interact, &out, &outlen);
    if (rc != SASL_OK && rc != SASL_CONTINUE) {
        char why[200];
        local_reason(x, rc, why, sizeof why);
        return cancel(x, 0, "%s", why);
    }
    send_response(x, out, outlen);
    x->client_done = rc == SASL_OK;
    return 0;
}

static int on_challenge(void *rock, const char *text, size_t len)
{
    struct exchange *x = rock;
    struct imc_session *s = &x->p.c->session;
    if (x->cancelled) {
        /* After "*" the server owes us a tagged BAD; another challenge
         * would have us answering forever.  The session is failed here,
         * with our reason, before -1 asks the session to do it. */
        imc_session_fail(s, "protocol error: challenge after AUTHENTICATE was cancelled");
        return -1;
    }
    if (++x->rounds > MAX_ROUNDS)
        return cancel(x, 1, "the server sent more than %d challenges", MAX_ROUNDS);
    if (x->initial_pending) {
        /* Without SASL-IR the server asks for the initial response with an
         * empty challenge (RFC 3501 6.2.2). */
        if (len != 0)
            return cancel(x, 1, "the server sent a challenge where an empty one was due");
        send_response(x, x->initial, x->initiallen);
        x->initial_pending = 0;
        x->client_done = x->done_with_initial;
        return 0;
    }
    if (x->client_done)
        return cancel(x, 1, "the server sent a challenge after the exchange was complete");

    char *in = NULL;
    unsigned inlen = 0;
    switch (imc_b64_decode(text, len, IMC_AUTH_MAX_CHALLENGE, &in, &inlen)) {
    case IMC_B64_TOO_LARGE:
        return cancel(x, 1, "the server sent a challenge larger than %d bytes",
                      IMC_AUTH_MAX_CHALLENGE);
    case IMC_B64_MALFORMED:
        return cancel(x, 1, "the server sent a challenge that is not base64");
    case IMC_B64_OK:
        break;
    }
    int r = step(x, in, inlen);
    free(in);
    return r;
}

static void on_done(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct exchange *x = rock;
    (void)c;
    snprintf(x->status, sizeof x->status, "%s", r->keyword);
    snprintf(x->text, sizeof x->text, "%s", r->text);
    x->finished = 1;
}

/* Send AUTHENTICATE with what sasl_client_start() produced. */
static int send_command(struct exchange *x, const char *out, unsigned outlen, int started_ok)
{
    const struct imc_exchange_params *p = &x->p;
    if (out && p->sasl_ir) {
        size_t n;
        char *b64 = imc_b64_encode(out, outlen, &n);
        /* RFC 4959: an empty initial response is sent as "=". */
        int r = imc_send(p->c, on_done, x, "AUTHENTICATE %a %a", p->mech,
                              n ? b64 : "=");
        explicit_bzero(b64, n);
        free(b64);
        x->client_done = started_ok;
        return r;
    }
    if (out) {
        x->initial = xmemdup(out, outlen ? outlen : 1);
        x->initiallen = outlen;
        x->initial_pending = 1;
        x->done_with_initial = started_ok;
    } else {
        x->client_done = started_ok;
    }
    return imc_send(p->c, on_done, x, "AUTHENTICATE %a", p->mech);
}

static enum imc_exchange_result verdict(struct exchange *x, char *why, size_t whylen)
{
    const struct imc_exchange_params *p = &x->p;
    if (!x->finished || strcmp(x->status, "EOF") == 0 || !p->c->transport) {
        snprintf(why, whylen, "%s: connection lost during AUTHENTICATE: %s", p->mech,
                 imc_session_error(&p->c->session));
        return IMC_EXCHANGE_CLOSED;
    }
    if (strcmp(x->status, "OK") == 0) {
        if (x->cancelled || !x->client_done) {
            snprintf(why, whylen, "%s: the server said OK before the exchange was complete",
                     p->mech);
            return IMC_EXCHANGE_PREMATURE;
        }
        why[0] = '\0';
        return IMC_EXCHANGE_OK;
    }
    if (x->cancelled) {
        snprintf(why, whylen, "%s (server: %s %s)", x->why, x->status, x->text);
        return x->hostile ? IMC_EXCHANGE_HOSTILE : IMC_EXCHANGE_LOCAL;
    }
    snprintf(why, whylen, "%s: the server said %s %s", p->mech, x->status, x->text);
    return IMC_EXCHANGE_REFUSED;
}

int imc_exchange_begin(struct imc_exchange *x, const struct imc_exchange_params *p,
                       enum imc_exchange_result *r, char *why, size_t whylen)
{
    memset(x, 0, sizeof *x);
    x->p = *p;
    sasl_interact_t *interact = NULL;
    const char *out = NULL, *using = NULL;
    unsigned outlen = 0;
    int rc = sasl_client_start(p->conn, p->mech, &interact, &out, &outlen, &using);
    if (rc != SASL_OK && rc != SASL_CONTINUE) {
        local_reason(x, rc, why, whylen);
        *r = IMC_EXCHANGE_LOCAL;
        return -1;
    }
    struct imc_session *s = &p->c->session;
    imc_session_set_continuation(s, on_challenge, x);
    x->sent = send_command(x, out, outlen, rc == SASL_OK) == 0;
    if (x->sent) {
        imc_session_pause_after(s, imc_session_last_tag(s));
        return 0;
    }
    *r = imc_exchange_end(x, why, whylen);
    return -1;
}

enum imc_exchange_result imc_exchange_end(struct imc_exchange *x, char *why, size_t whylen)
{
    const struct imc_exchange_params *p = &x->p;
    struct imc_session *s = &p->c->session;
    imc_session_set_continuation(s, NULL, NULL);
    if (x->initial) {
        explicit_bzero(x->initial, x->initiallen);
        free(x->initial);
        x->initial = NULL;
    }
    /* Nothing may keep pointing at x once the flow lets it go: a command
     * still pending would; end the connection instead. */
    if (x->sent && !x->finished && p->c->transport)
        imc_fail(p->c, IMCLIENT_EPROTOCOL, "AUTHENTICATE ended without a reply");
    if (!x->finished) {
        snprintf(why, whylen, "%s: connection lost before AUTHENTICATE: %s", p->mech,
                 s->error);
        return IMC_EXCHANGE_CLOSED;
    }
    if (!x->sent && strcmp(x->status, "BAD") == 0) {
        /* The session refused the command itself (a mechanism name that
         * is not an atom): nothing was sent. */
        snprintf(why, whylen, "%s: %s", p->mech, x->text);
        return IMC_EXCHANGE_LOCAL;
    }
    return verdict(x, why, whylen);
}
