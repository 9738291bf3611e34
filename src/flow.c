#include "flow.h"

#include <stdlib.h>

#include "layer_start.h"

void imc_flow_begin(struct imclient *c, struct imc_flow *f)
{
    f->busy = 0;
    c->flow = f;
    c->exclusive++;
}

void imc_flow_finish(struct imclient *c, int result)
{
    struct imc_flow *f = c->flow;
    c->flow = NULL;
    c->exclusive--;
    imclient_result_proc_t *done = f->done;
    void *rock = f->rock;
    f->release(f);
    if (done) {
        c->depth++;
        done(c, rock, result);
        c->depth--;
    }
}

static int lost(struct imclient *c, struct imc_flow *f)
{
    if (f->blame)
        imc_blame(c, f->blame);
    return f->lost;
}

/* Steps run as library code with callbacks below them (the secret
 * procedure, replies fed after a layer starts): a close from those is
 * deferred, never done under the step. */
static int step(struct imclient *c, struct imc_flow *f, int events)
{
    f->busy = 1;
    c->depth++;
    int r = f->wait == IMC_FLOW_WAIT_IO ? f->io(c, f, events) : f->resume(c, f);
    c->depth--;
    f->busy = 0;
    return r;
}

static void advance(struct imclient *c, int events)
{
    struct imc_flow *f = c->flow;
    if (!f || f->busy)
        return;
    int r;
    if (!c->transport)
        r = lost(c, f);
    else if (f->wait == IMC_FLOW_WAIT_REPLY && !imc_session_paused(&c->session))
        return;
    else
        r = step(c, f, events);
    /* A step may have failed the connection after choosing to go on. */
    if (r == IMC_FLOW_MORE && !c->transport)
        r = lost(c, f);
    if (r != IMC_FLOW_MORE)
        imc_flow_finish(c, r);
}

void imc_flow_poke(struct imclient *c)
{
    advance(c, 0);
}

int imc_flow_io(struct imclient *c, int events)
{
    advance(c, events);
    return c->transport ? 1 : -1;
}

void imc_flow_store_result(struct imclient *c, void *rock, int result)
{
    (void)c;
    *(int *)rock = result;
}

int imc_flow_wait(struct imclient *c, const int *result, int closed)
{
    c->depth++;
    /* A close asked for meanwhile ends the wait: the flow ends with the
     * connection, freed below. */
    while (c->flow && !imc_is(c, IMC_ST_CLOSING) && imc_poll_once(c, -1) >= 0)
        ;
    /* The loop stops on failure; the flow ends with it. */
    imc_flow_poke(c);
    c->depth--;
    return imc_finish_call(c, 0) < 0 ? closed : *result;
}

