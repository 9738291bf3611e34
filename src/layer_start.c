#include "layer_start.h"

#include <stdio.h>
#include <string.h>

#include "flow.h"
#include "util/safe_text.h"

const char *imc_layer_start_blocked(struct imclient *c, const char *into, char *buf,
                                    size_t buflen)
{
    /* The blocking forms wait in the loop, which a callback may not run;
     * the _start forms only queue, and may be chained from callbacks --
     * but not from the trace, which runs while bytes are being written. */
    if (c->depth > 0 && (c->blocking_call || c->tracing))
        return "it cannot run inside a callback";
    if (c->flow) {
        snprintf(buf, buflen, "%s is running", c->flow->name);
        return buf;
    }
    if (imc_session_inflight(&c->session) > 0 || imc_session_has_output(&c->session)) {
        snprintf(buf, buflen, "%zu command(s) still wait for their replies, which would "
                 "cross into %s", imc_session_inflight(&c->session), into);
        return buf;
    }
    if (!imc_session_at_boundary(&c->session))
        return "a reply is partly received";
    return NULL;
}

void imc_quote_text(char *out, size_t cap, const char *text, size_t len)
{
    imc_safe_copy(out, cap, text, len);
}

void imc_status_reply_proc(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct imc_status_reply *w = rock;
    w->done = 1;
    imc_quote_text(w->keyword, sizeof w->keyword, r->keyword, strlen(r->keyword));
    imc_quote_text(w->text, sizeof w->text, r->text, r->textlen);
}

void imc_blame(struct imclient *c, const char *what)
{
    imc_session_blame(&c->session, what);
}
