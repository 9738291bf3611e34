/*
 * imclient_connect_cyrus3(): Cyrus 3.x's connect, which takes the SASL
 * callbacks authentication will ask later.  The connection itself is the
 * page's: the same lookups, deadlines and results.
 */
#include "compat/compat.h"

int imclient_connect_cyrus3(struct imclient **imclient, const char *host, const char *port,
                            sasl_callback_t *cbs)
{
    int r = imclient_connect(imclient, host, port);
    if (r == 0)
        imc_cyrus3_remember_callbacks(*imclient, cbs);
    return r;
}
