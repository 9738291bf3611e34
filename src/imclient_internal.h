/* The connection object shared by the façade's files (imclient.c and, with
 * authentication and TLS, the files that drive those exchanges). */
#ifndef IMC_INTERNAL_H
#define IMC_INTERNAL_H

#include "core/session.h"
#include "cyrus/imclient.h"
#include "transport/transport.h"

struct imclient {
    struct imc_session session;
    struct imc_transport *transport; /* NULL once closed */
    char *servername;                /* as the application named it */
    char *readbuf;
    size_t readcap;
    long last_activity;              /* ms, monotonic: last read or first send */
    int depth;                       /* > 0 while library code runs callbacks */
    int close_requested;             /* imclient_close() called from a callback */
};

long imc_now_ms(void);
/* Fail the connection: EOF to every pending command, socket closed. */
void imc_fail(struct imclient *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Write what may be written now; -1 if the connection failed. */
int imc_flush(struct imclient *c);

#endif
