/*
 * What the server offers, asked afresh each time: a list learnt earlier
 * (in the greeting, or before STARTTLS) may come from an attacker who
 * could then steer us to a weaker mechanism.  The session forgets its
 * list as CAPABILITY is sent and learns the answer (core/capabilities.c);
 * a copy is kept here, because each AUTHENTICATE makes the session forget
 * again while later mechanisms are still to be chosen.  The reply itself
 * is kept from the application by a temporary entry that listens to
 * nothing; its own entry, if any, is put back afterwards.
 */
#include "auth/auth_internal.h"

#include <stdio.h>
#include <string.h>

#include "cyrus/xmalloc.h"
#include "util/ascii.h"

static void on_done(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct imc_offer_fetch *f = rock;
    (void)c;
    snprintf(f->status, sizeof f->status, "%s", r->keyword);
    snprintf(f->text, sizeof f->text, "%s", r->text);
}


static struct imc_saved_entry save_entry(struct imclient *c)
{
    struct imc_saved_entry s = { 0, 0, NULL, NULL };
    const struct imc_callback *e =
        imc_callbacks_get(imc_session_callbacks(&c->session), "CAPABILITY", strlen("CAPABILITY"), 0);
    if (e) {
        s.present = 1;
        s.flags = e->flags;
        s.proc = e->proc;
        s.rock = e->rock;
    }
    return s;
}

static void restore_entry(struct imclient *c, const struct imc_saved_entry *s)
{
    if (s->present)
        imc_callbacks_set(imc_session_callbacks(&c->session), "CAPABILITY", s->flags, s->proc, s->rock);
    else
        imc_callbacks_remove(imc_session_callbacks(&c->session), "CAPABILITY", 0);
}

int imc_offer_begin(struct imclient *c, struct imc_offer_fetch *f)
{
    memset(f, 0, sizeof *f);
    f->owner = c;
    f->saved = save_entry(c);
    imc_callbacks_set(imc_session_callbacks(&c->session), "CAPABILITY", CALLBACK_NOLITERAL, NULL, NULL);
    imc_session_forget_caps(&c->session);
    if (imc_send(c, on_done, f, "CAPABILITY") < 0) {
        restore_entry(c, &f->saved);
        imc_explain(c, IMCLIENT_EEOF, "connection lost while asking for capabilities");
        return -1;
    }
    imc_session_pause_after(&c->session, imc_session_last_tag(&c->session));
    return 0;
}

int imc_offer_end(struct imclient *c, struct imc_offer_fetch *f)
{
    restore_entry(c, &f->saved);
    /* Replies behind the tagged OK are the application's again. */
    if (c->transport && imc_session_paused(&c->session))
        imc_switch_plain(c);
    if (!c->transport || strcmp(f->status, "OK") != 0) {
        if (strcmp(f->status, "NO") == 0 || strcmp(f->status, "BAD") == 0)
            imc_explain(c, IMCLIENT_EREFUSED, "the server refused CAPABILITY: %s %s", f->status, f->text);
        else
            imc_explain(c, IMCLIENT_EEOF, "connection lost while asking for capabilities");
        imc_offer_free(&f->caps);
        return -1;
    }
    const struct imc_caps *learnt = imc_session_caps(&c->session);
    imc_offer_free(&f->caps);
    f->caps.len = learnt->list.len;
    f->caps.text = xmemdup(learnt->list.data ? learnt->list.data : "", learnt->list.len + 1);
    f->caps.text[f->caps.len] = '\0';
    return 0;
}

static int has_token(const struct imc_offer *caps, const char *prefix, const char *name)
{
    size_t plen = strlen(prefix), nlen = strlen(name);
    if (!caps->text)
        return 0;
    const char *p = caps->text, *end = caps->text + caps->len;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        const char *tok = p;
        while (p < end && *p != ' ')
            p++;
        size_t tlen = (size_t)(p - tok);
        if (tlen == plen + nlen && imc_ascii_eq(tok, prefix, plen) &&
            imc_ascii_eq(tok + plen, name, nlen))
            return 1;
    }
    return 0;
}

int imc_offer_has(const struct imc_offer *caps, const char *atom)
{
    return has_token(caps, "", atom);
}

int imc_offer_has_auth(const struct imc_offer *caps, const char *mech)
{
    return has_token(caps, "AUTH=", mech);
}

void imc_offer_free(struct imc_offer *caps)
{
    free(caps->text);
    caps->text = NULL;
    caps->len = 0;
}
