/*
 * What the server offers, asked afresh each time: a list learnt earlier
 * (in the greeting, or before STARTTLS) may come from an attacker who
 * could then steer us to a weaker mechanism.  The answer is read through
 * a temporary CAPABILITY entry in the callback table; the application's
 * own entry, if any, is put back afterwards.
 */
#include "auth/auth_internal.h"

#include <stdio.h>
#include <string.h>

#include "cyrus/xmalloc.h"
#include "util/ascii.h"

/* More capability text than this is not a list of capabilities. */
#define CAPS_MAX (1u << 20)


static void on_capability(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct imc_caps_fetch *f = rock;
    (void)c;
    struct imc_caps *caps = &f->caps;
    if (caps->len + r->textlen + 1 > CAPS_MAX)
        return;
    caps->text = xrealloc(caps->text, caps->len + r->textlen + 2);
    if (caps->len > 0)
        caps->text[caps->len++] = ' ';
    memcpy(caps->text + caps->len, r->text, r->textlen);
    caps->len += r->textlen;
    caps->text[caps->len] = '\0';
}

static void on_done(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct imc_caps_fetch *f = rock;
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

int imc_caps_begin(struct imclient *c, struct imc_caps_fetch *f)
{
    memset(f, 0, sizeof *f);
    f->owner = c;
    f->saved = save_entry(c);
    imc_callbacks_set(imc_session_callbacks(&c->session), "CAPABILITY", CALLBACK_NOLITERAL, on_capability,
                      f);
    if (imc_send(c, on_done, f, "CAPABILITY") < 0) {
        restore_entry(c, &f->saved);
        imc_explain(c, IMCLIENT_EEOF, "connection lost while asking for capabilities");
        return -1;
    }
    imc_session_pause_after(&c->session, imc_session_last_tag(&c->session));
    return 0;
}

int imc_caps_end(struct imclient *c, struct imc_caps_fetch *f)
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
        imc_caps_free(&f->caps);
        return -1;
    }
    return 0;
}

static int has_token(const struct imc_caps *caps, const char *prefix, const char *name)
{
    size_t plen = strlen(prefix), nlen = strlen(name);
    const char *p = caps->text, *end = caps->text + caps->len;
    if (!p)
        return 0;
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

int imc_caps_has(const struct imc_caps *caps, const char *atom)
{
    return has_token(caps, "", atom);
}

int imc_caps_has_auth(const struct imc_caps *caps, const char *mech)
{
    return has_token(caps, "AUTH=", mech);
}

void imc_caps_free(struct imc_caps *caps)
{
    free(caps->text);
    caps->text = NULL;
    caps->len = 0;
}
