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
#include <string.h>

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

static int try_mechanisms(struct imclient *c, struct sasl_client **availmech,
                          const struct imc_caps *caps, struct imc_attempt *a)
{
    struct reasons reasons = { "", 0 };
    int tried = 0;
    for (size_t i = 0; availmech && availmech[i]; i++) {
        const char *mech = availmech[i]->name;
        if (!mech || !imc_caps_has_auth(caps, mech))
            continue;
        tried++;
        a->mech = mech;
        char why[256];
        enum imc_exchange_result r = imc_attempt_run(c, a, why, sizeof why);
        if (r == IMC_EXCHANGE_OK) {
            imc_explain(c, "%s", "");
            return 0;
        }
        add_reason(&reasons, why);
        if (r == IMC_EXCHANGE_PREMATURE) {
            imc_explain(c, "%s", reasons.text);
            return 2;
        }
        if (r == IMC_EXCHANGE_CLOSED || r == IMC_EXCHANGE_HOSTILE)
            break;
    }
    if (!tried) {
        char names[160];
        list_names(availmech, names, sizeof names);
        imc_explain(c, "the server offers none of the mechanisms asked for (%s)", names);
    } else {
        imc_explain(c, "%s", reasons.text);
    }
    return 1;
}

static int authenticate(struct imclient *c, struct sasl_client **availmech,
                        const char *service, const char *user, int protallowed)
{
    struct imc_caps caps;
    if (imc_caps_fetch(c, &caps) < 0)
        return 1;
    struct imc_attempt a = { NULL, service ? service : "imap", user, protallowed,
                             imc_caps_has(&caps, "SASL-IR") };
    int r = try_mechanisms(c, availmech, &caps, &a);
    imc_caps_free(&caps);
    return r;
}

int imclient_authenticate(struct imclient *imclient, struct sasl_client **availmech,
                          const char *service, const char *user, int protallowed)
{
    struct imclient *c = imclient;
    if (c->depth > 0) {
        /* A nested exchange would overwrite the reply and the read buffer
         * the callback below us is still using. */
        imc_explain(c, "imclient_authenticate cannot run inside a callback");
        return 1;
    }
    imc_explain(c, "%s", "");
    if (!c->transport) {
        imc_explain(c, "the connection is closed");
        return 1;
    }
    if (c->ssf >= 0) {
        imc_explain(c, "already authenticated");
        return 1;
    }
    if (c->session.out.nbarriers > 0) {
        /* A literal of an earlier command still waits for "+": the
         * server's challenges could not be told from its go-ahead. */
        imc_explain(c, "a command is still waiting to send a literal");
        return 1;
    }
    if ((protallowed & SASL_PROT_ANY) == 0) {
        imc_explain(c, "protallowed admits no security layer, not even none");
        return 1;
    }
    /* RFC 4978: compression sits above every other layer, so a security
     * layer can no longer be slipped in below it; only "none" remains. */
    if (imc_deflate_on_stack(c->transport)) {
        if (!(protallowed & SASL_PROT_NONE)) {
            imc_explain(c, "a security layer cannot start once COMPRESS is active");
            return 1;
        }
        protallowed = SASL_PROT_NONE;
    }
    char err[200];
    if (imc_sasl_init(err, sizeof err) < 0) {
        imc_explain(c, "%s", err);
        return 1;
    }
    /* Library code is on the stack for the whole call: an imclient_close()
     * from a callback or from the secret procedure (which runs outside any
     * read) is deferred instead of freeing the connection under us. */
    imc_exclusive_begin(c);
    int r = authenticate(c, availmech, service, user, protallowed);
    /* After a callback's imclient_close() the caller's pointer dies here,
     * as it would in imclient_processoneevent(). */
    return imc_exclusive_end(c, r) < 0 && r == 0 ? 1 : r;
}
