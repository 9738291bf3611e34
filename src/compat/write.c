/*
 * imclient_write(): Cyrus 3.x's way to put bytes on the wire outside
 * imclient_send()'s format, such as the answer to a "+" the application
 * handles itself.  The bytes join the output queue in order with
 * commands, so the same rules hold: no bytes into an exchange the library
 * runs (STARTTLS, AUTHENTICATE, COMPRESS), none from the trace procedure,
 * whose bytes are being written.
 */
#include "compat/compat.h"

void imclient_write(struct imclient *imclient, const char *s, size_t len)
{
    struct imclient *c = imclient;
    const char *refused = NULL;
    if (!c->transport)
        refused = "imclient_write: the connection is closed";
    else if (c->exclusive > 0)
        refused = "imclient_write during STARTTLS, AUTHENTICATE or COMPRESS";
    else if (c->tracing > 0)
        refused = "imclient_write from the trace procedure";
    else if (!s && len > 0)
        refused = "imclient_write: NULL data";
    if (refused) {
        imc_explain(c, IMCLIENT_EMISUSE, "%s", refused);
        return;
    }
    if (len == 0)
        return;
    imc_session_send_raw(&c->session, s, len, 0);
    if (imc_flush(c) < 0)
        return;
    imc_finish_call(c, 0);
}
