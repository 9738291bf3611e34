/* Making a connection: imclient_connect_start() and imclient_connect()
 * with the attempt's options given, for the library and its tests. */
#ifndef IMC_CONNECT_H
#define IMC_CONNECT_H

#include "cyrus/imclient.h"
#include "transport/dial.h"

/* imclient_connect_start() with options; NULL: the library default
 * timeout_ms for the lookup and for each address, the system's DNS
 * servers. */
int imc_connect_start(struct imclient **imclient, const char *host, const char *port,
                      imclient_result_proc_t *done, void *rock,
                      const struct imc_dial_options *o);

/* imclient_connect() with options, as above. */
int imc_connect(struct imclient **imclient, const char *host, const char *port,
                const struct imc_dial_options *o);

#endif
