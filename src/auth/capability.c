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
    imc_caps_init(&f->caps);
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
        return -1;
    }
    imc_caps_copy(&f->caps, imc_session_caps(&c->session));
    return 0;
}

int imc_offer_has_auth(const struct imc_caps *caps, const char *mech)
{
    char atom[64];
    int n = snprintf(atom, sizeof atom, "AUTH=%s", mech);
    return n > 0 && (size_t)n < sizeof atom && imc_caps_has(caps, atom, (size_t)n) == 1;
}
