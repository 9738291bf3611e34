/*
 * Waiting for imclient_authenticate()'s commands.  Every command it sends
 * is waited for by pausing the session after its tagged reply and running
 * the façade's internal loop until then: the public loop may free the
 * connection (a callback's imclient_close()) and refuses to run while
 * library code is on the stack, and the pause leaves the bytes after the
 * reply unparsed for the caller to route (imc_switch_plain() or the
 * security layer).
 */
#include "auth/auth_internal.h"

#include <stdarg.h>
#include <stdio.h>

int imc_auth_wait_paused(struct imclient *c)
{
    imc_session_pause_after(&c->session, imc_session_last_tag(&c->session));
    imc_run_until_paused(c);
    return c->transport && c->session.paused && !c->close_requested ? 0 : -1;
}

