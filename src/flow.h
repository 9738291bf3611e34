/*
 * Flows: exchanges that own the stream for a while (STARTTLS, AUTHENTICATE,
 * COMPRESS) kept as state of the connection, so the same event handling
 * that delivers replies advances them, whatever loop runs it.  A flow
 * waits either for the tagged reply its command paused the session after,
 * or for socket events it handles itself (a TLS handshake); it ends by
 * calling the application's result procedure once.  One flow at a time;
 * while it runs, the application's commands are refused.
 */
#ifndef IMC_FLOW_H
#define IMC_FLOW_H

#include <limits.h>

#include "imclient_internal.h"

/* A step's answer when the flow goes on. */
#define IMC_FLOW_MORE INT_MIN

enum imc_flow_wait {
    IMC_FLOW_WAIT_REPLY, /* until the session pauses after the command */
    IMC_FLOW_WAIT_IO,    /* socket events go to io() */
};

struct imc_flow {
    const char *name;        /* for timeouts: "TLS handshake" */
    enum imc_flow_wait wait;
    long deadline;           /* ms, monotonic, or -1: while waiting for I/O */
    int lost;                /* the result when the connection dies under it */
    const char *blame;       /* names the exchange in that reason, or NULL */
    /* The awaited reply arrived (the session is paused) or the I/O is
     * ready: take the next step.  IMC_FLOW_MORE, or the result. */
    int (*resume)(struct imclient *c, struct imc_flow *f);
    int (*io)(struct imclient *c, struct imc_flow *f, int events);
    void (*release)(struct imc_flow *f); /* frees the flow itself */
    imclient_result_proc_t *done;
    void *rock;
    int busy;                /* a step is on the stack */
};

/* Make f the connection's flow; its command(s) may then be sent. */
void imc_flow_begin(struct imclient *c, struct imc_flow *f);
/* Advance the flow if what it waits for has happened, end it if the
 * connection has failed.  Safe to call at any time. */
void imc_flow_poke(struct imclient *c);
/* A step outside resume()/io() (the start) ended the flow with result. */
void imc_flow_finish(struct imclient *c, int result);
/* Socket events while the flow waits for I/O; imc_handle()'s results. */
int imc_flow_io(struct imclient *c, int events);

/* The blocking forms: start the flow with imc_flow_store_result and an
 * int as rock, then imc_flow_wait() runs the built-in loop until the flow
 * has ended and returns that int; a close a callback asked for meanwhile
 * is carried out (the connection is freed) and gives closed. */
void imc_flow_store_result(struct imclient *c, void *rock, int result);
int imc_flow_wait(struct imclient *c, const int *result, int closed);

#endif
