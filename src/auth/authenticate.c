/*
 * imclient_authenticate(): ask the server what it offers, then try the
 * application's mechanisms in its order until one works.
 *
 * A mechanism that fails here (no plugin, no credentials, a layer it
 * cannot give) or that the server refuses is dropped for the next one, as
 * Cyrus's client did; the page's "no authentication mechanisms worked".
 * The search stops at once when the connection is lost, when the server
 * breaks the protocol (a malformed challenge: it is not to be given more
 * chances) and when it says OK too early, which the page singles out as
 * result 2.
 */
#include "auth/auth_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cyrus/imclient_cyrus3.h" /* IMCLIENT_CONN_INITIALRESPONSE */
#include "cyrus/xmalloc.h"
#include "flow.h"
#include "transport/deflate.h"

/* The descriptors: the name is what libsasl2 and the server call the
 * mechanism; maxssf what it can protect (GSSAPI: up to AES-256). */
struct sasl_client krb_sasl_client = { "GSSAPI", 256 };
struct sasl_client imclient_sasl_scram_sha256 = { "SCRAM-SHA-256", 0 };
struct sasl_client imclient_sasl_scram_sha1 = { "SCRAM-SHA-1", 0 };
struct sasl_client imclient_sasl_plain = { "PLAIN", 0 };
struct sasl_client imclient_sasl_login = { "LOGIN", 0 };
struct sasl_client imclient_sasl_cram_md5 = { "CRAM-MD5", 0 };
struct sasl_client imclient_sasl_external = { "EXTERNAL", 0 };

void imclient_setsecretproc(struct imclient *imclient, imclient_secret_proc_t *proc,
                            void *rock)
{
    imclient->secretproc = proc;
    imclient->secretrock = rock;
}

int imclient_getssf(struct imclient *imclient)
{
    return imclient->ssf;
}

/* Reasons of the mechanisms that failed, for imclient_error(). */
struct reasons {
    char text[256];
    size_t len;
};

static void add_reason(struct reasons *r, const char *why)
{
    if (r->len >= sizeof r->text - 1)
        return;
    int n = snprintf(r->text + r->len, sizeof r->text - r->len, "%s%s", r->len ? "; " : "",
                     why);
    if (n > 0)
        r->len += (size_t)n;
    if (r->len > sizeof r->text - 1)
        r->len = sizeof r->text - 1;
}

static void list_names(struct sasl_client **availmech, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; availmech && availmech[i] && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? " " : "",
                         availmech[i]->name ? availmech[i]->name : "(null)");
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* The flow: CAPABILITY first, then one AUTHENTICATE per mechanism tried. */
struct auth_flow {
    struct imc_flow base;
    enum { AUTH_CAPS, AUTH_EXCHANGE, AUTH_OVER } state;
    char **mechs;            /* copies of availmech's names, in order */
    size_t next;             /* the next one to consider */
    char *service, *user;
    struct imc_offer_fetch caps;
    struct imc_attempt a;
    struct imc_attempt_state st;
    struct reasons reasons;
    int tried;
    char names[160];         /* the list asked for, for a reason */
};

/* Start the next mechanism the server offers: IMC_FLOW_MORE while its
 * exchange runs, or the flow's result when none is left. */
static int next_mechanism(struct imclient *c, struct auth_flow *f)
{
    while (f->mechs[f->next]) {
        const char *mech = f->mechs[f->next++];
        if (!imc_offer_has_auth(&f->caps.caps, mech))
            continue;
        f->tried++;
        f->a.mech = mech;
        char why[256];
        enum imc_exchange_result r;
        if (imc_attempt_begin(c, &f->a, &f->st, &r, why, sizeof why) == 0) {
            f->state = AUTH_EXCHANGE;
            return IMC_FLOW_MORE;
        }
        add_reason(&f->reasons, why);
        if (r == IMC_EXCHANGE_CLOSED)
            break;
    }
    f->state = AUTH_OVER;
    if (!f->tried)
        imc_explain(c, IMCLIENT_EAUTH, "the server offers none of the mechanisms asked for (%s)", f->names);
    else
        imc_explain(c, IMCLIENT_EAUTH, "%s", f->reasons.text);
    return 1;
}

static int exchanged(struct imclient *c, struct auth_flow *f)
{
    char why[256];
    enum imc_exchange_result r = imc_attempt_end(c, &f->a, &f->st, why, sizeof why);
    f->state = AUTH_OVER;
    if (r == IMC_EXCHANGE_OK) {
        imc_explain(c, IMCLIENT_OK, "%s", "");
        return 0;
    }
    add_reason(&f->reasons, why);
    if (r == IMC_EXCHANGE_PREMATURE) {
        imc_explain(c, IMCLIENT_EAUTH, "%s", f->reasons.text);
        return 2;
    }
    /* The search stops when the connection is gone or the server broke
     * the protocol: it is not to be given more chances. */
    if (r == IMC_EXCHANGE_CLOSED || r == IMC_EXCHANGE_HOSTILE) {
        imc_explain(c, IMCLIENT_EAUTH, "%s", f->reasons.text);
        return 1;
    }
    return next_mechanism(c, f);
}

static int resume(struct imclient *c, struct imc_flow *base)
{
    struct auth_flow *f = (struct auth_flow *)base;
    if (f->state == AUTH_EXCHANGE)
        return exchanged(c, f);
    f->state = AUTH_OVER;
    if (imc_offer_end(c, &f->caps) < 0)
        return 1;
    /* IMCLIENT_CONN_INITIALRESPONSE: the application vouches for SASL-IR
     * where CAPABILITY does not list it (<cyrus/imclient_cyrus3.h>). */
    f->a.sasl_ir = imc_caps_has(&f->caps.caps, "SASL-IR", 7) == 1 ||
                   (imc_session_flags(&c->session) & IMCLIENT_CONN_INITIALRESPONSE);
    return next_mechanism(c, f);
}

static void release(struct imc_flow *base)
{
    struct auth_flow *f = (struct auth_flow *)base;
    struct imclient *c = f->caps.owner;
    char why[256];
    /* Ended by a lost connection: let go of what the step in flight held. */
    if (f->state == AUTH_EXCHANGE)
        imc_attempt_end(c, &f->a, &f->st, why, sizeof why);
    else if (f->state == AUTH_CAPS)
        imc_offer_end(c, &f->caps);
    imc_caps_free(&f->caps.caps);
    for (size_t i = 0; f->mechs[i]; i++)
        free(f->mechs[i]);
    free(f->mechs);
    free(f->service);
    free(f->user);
    free(f);
}

static struct auth_flow *new_flow(struct sasl_client **availmech, const char *service,
                                  const char *user, int protallowed)
{
    struct auth_flow *f = xzmalloc(sizeof *f);
    size_t n = 0;
    while (availmech && availmech[n])
        n++;
    f->mechs = xzmalloc((n + 1) * sizeof *f->mechs);
    for (size_t i = 0, k = 0; i < n; i++)
        if (availmech[i]->name)
            f->mechs[k++] = xstrdup(availmech[i]->name);
    list_names(availmech, f->names, sizeof f->names);
    f->service = xstrdup(service ? service : "imap");
    f->user = user ? xstrdup(user) : NULL;
    f->a = (struct imc_attempt){ NULL, f->service, f->user, protallowed, 0 };
    f->base = (struct imc_flow){ .name = "AUTHENTICATE", .wait = IMC_FLOW_WAIT_REPLY,
                                 .deadline = -1, .lost = 1, .resume = resume,
                                 .release = release };
    return f;
}

int imclient_authenticate_start(struct imclient *imclient, struct sasl_client **availmech,
                                const char *service, const char *user, int protallowed,
                                imclient_result_proc_t *done, void *rock)
{
    struct imclient *c = imclient;
    if (c->depth > 0 && (c->blocking_call || c->tracing)) {
        /* Waiting here would run the loop under a callback, overwriting
         * the reply and the read buffer it is still using. */
        imc_explain(c, IMCLIENT_EMISUSE, "imclient_authenticate cannot run inside a callback");
        return -1;
    }
    imc_explain(c, IMCLIENT_OK, "%s", "");
    if (!c->transport) {
        imc_explain(c, IMCLIENT_EMISUSE, "the connection is closed");
        return -1;
    }
    if (c->flow) {
        imc_explain(c, IMCLIENT_EMISUSE, "imclient_authenticate while %s runs", c->flow->name);
        return -1;
    }
    if (c->ssf >= 0) {
        imc_explain(c, IMCLIENT_EMISUSE, "already authenticated");
        return -1;
    }
    if (imc_session_literal_waiting(&c->session)) {
        /* A literal of an earlier command still waits for "+": the
         * server's challenges could not be told from its go-ahead. */
        imc_explain(c, IMCLIENT_EMISUSE, "a command is still waiting to send a literal");
        return -1;
    }
    if ((protallowed & SASL_PROT_ANY) == 0) {
        imc_explain(c, IMCLIENT_EMISUSE, "protallowed admits no security layer, not even none");
        return -1;
    }
    /* RFC 4978: compression sits above every other layer, so a security
     * layer can no longer be slipped in below it; only "none" remains. */
    if (imc_deflate_on_stack(c->transport)) {
        if (!(protallowed & SASL_PROT_NONE)) {
            imc_explain(c, IMCLIENT_EMISUSE, "a security layer cannot start once COMPRESS is active");
            return -1;
        }
        protallowed = SASL_PROT_NONE;
    }
    char err[200];
    if (imc_sasl_init(err, sizeof err) < 0) {
        imc_explain(c, IMCLIENT_EAUTH, "%s", err);
        return -1;
    }
    struct auth_flow *f = new_flow(availmech, service, user, protallowed);
    f->base.done = done;
    f->base.rock = rock;
    f->caps.owner = c;
    if (imc_offer_begin(c, &f->caps) < 0) {
        f->state = AUTH_OVER;
        release(&f->base);
        return -1;
    }
    f->state = AUTH_CAPS;
    imc_flow_begin(c, &f->base);
    return 0;
}

int imclient_authenticate(struct imclient *imclient, struct sasl_client **availmech,
                          const char *service, const char *user, int protallowed)
{
    int result = 1;
    imclient->blocking_call++;
    int r = imclient_authenticate_start(imclient, availmech, service, user, protallowed,
                                        imc_flow_store_result, &result);
    imclient->blocking_call--;
    if (r < 0)
        return 1;
    /* A close a callback asked for meanwhile ends with the connection. */
    return imc_flow_wait(imclient, &result, 1);
}
