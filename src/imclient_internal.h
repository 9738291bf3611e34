/* The connection object shared by the façade's files (imclient.c and, with
 * authentication and TLS, the files that drive those exchanges). */
#ifndef IMC_INTERNAL_H
#define IMC_INTERNAL_H

#include <assert.h>

#include "core/session.h"
#include "cyrus/imclient.h"
#include "transport/transport.h"
#include "util/clock.h"

struct imclient {
    struct imc_session session;
    struct imc_transport *transport; /* NULL once closed */
    char *servername;                /* as the application named it */
    char *readbuf;
    size_t readcap;
    size_t last_read;                /* bytes the last read put in readbuf */
    int streaming;                   /* the last read was full and ended outside a literal */
    const char *rest;                /* what the last feed left unread, */
    size_t restlen;                  /*   inside the buffer it came from */
    long last_activity;              /* ms, monotonic: last read or first send */
    int depth;                       /* > 0 while library code runs callbacks */
    int tls_verify;                  /* IMCLIENT_TLS_VERIFY or _NOVERIFY */
    imclient_secret_proc_t *secretproc;
    void *secretrock;
    int ssf;                         /* negotiated SASL layer; -1 before auth */
    imclient_trace_proc_t *trace;
    void *tracerock;
    int traceflags;                  /* IMCLIENT_TRACE_* */
    int tracing;                     /* > 0 while the trace procedure runs */
    int pulling;                     /* > 0 while a literal source's read runs */
    void (*cleanup)(void *rock);     /* told when the connection is freed */
    struct imc_flow *flow;           /* STARTTLS, AUTHENTICATE, COMPRESS running */
    int blocking_call;               /* > 0 while a blocking form starts its flow */
    void *cleanuprock;
    imclient_fdclosing_proc_t *fdclosing; /* told before the watched descriptor closes */
    void *fdclosingrock;
    int exclusive;                   /* > 0 while STARTTLS/AUTHENTICATE own the stream */
    unsigned state;                  /* IMC_ST_*, through imc_is()/imc_mark() */
};

/* What the connection is, as flags in one word.  Nesting (callbacks, the
 * trace, exchanges owning the stream) is counted apart, in depth, tracing,
 * exclusive and blocking_call. */
enum {
    IMC_ST_GREETED = 1u << 0, /* the server has sent something */
    IMC_ST_TLS = 1u << 1,     /* a TLS layer is on the stack */
    IMC_ST_CLOSING = 1u << 2, /* imclient_close() was asked from a callback */
};

static inline int imc_is(const struct imclient *c, unsigned flag)
{
    return (c->state & flag) != 0;
}

/* Flags are only ever set: each marks a point the connection has passed. */
static inline void imc_mark(struct imclient *c, unsigned flag)
{
    /* A close is deferred only from under library code; TLS and the
     * greeting need a live transport. */
    assert(flag != IMC_ST_CLOSING || c->depth > 0);
    assert(!(flag & (IMC_ST_TLS | IMC_ST_GREETED)) || c->transport);
    assert(c->depth >= 0 && c->tracing >= 0 && c->exclusive >= 0);
    c->state |= flag;
}

/* ---- imclient.c ---- */

/* End a public call: a close a callback asked for meanwhile is carried out
 * once no library code is on the stack (the connection is then freed and
 * -1 returned); otherwise result. */
int imc_finish_call(struct imclient *c, int result);

/* ---- io.c ---- */

/* A read asks for IMC_READ_CHUNK, or for IMC_READ_STREAMING while small
 * replies stream in (the last read was full and ended outside a literal):
 * a quarter of the system calls, which cost microseconds on a VM.  Not
 * more at first: what a read takes of a big literal is copied into the
 * reply, while the rest of it is read in place. */
#define IMC_READ_CHUNK (64 * 1024)
#define IMC_READ_STREAMING (256 * 1024)
/* The buffer reads go into, made when needed; *cap gets its size. */
char *imc_read_buffer(struct imclient *c, size_t *cap);
/* Between events: let go of buffers an idle connection does not need. */
void imc_trim(struct imclient *c);

/* Close the socket once the session has failed; EOF has been delivered. */
void imc_drop_transport(struct imclient *c);
/* Tells the application's loop that the descriptor imclient_wants()
 * reports is about to close; call it before every such close. */
void imc_fd_closing(struct imclient *c);
/* Read once (and what layers still hold), feed the session, then write
 * what its callbacks queued.  Returns 0, or -1 if the connection failed. */
int imc_read_once(struct imclient *c);
/* Fail the connection: EOF to every pending command, socket closed. */
void imc_fail(struct imclient *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Hand bytes to the session as a read would (callbacks run); -1 if the
 * session failed, the connection then being closed. */
int imc_feed(struct imclient *c, const char *data, size_t len);
/* Set the reason imclient_error() gives without failing the connection;
 * a connection that did fail keeps its own reason. */
void imc_explain(struct imclient *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Show the trace procedure bytes read ('S') or written ('C'), inside the
 * callback guard. */
void imc_trace(struct imclient *c, int direction, const char *data, size_t len);
/* Write what may be written now; -1 if the connection failed. */
int imc_flush(struct imclient *c);
/* imclient_send() without the checks that guard the application's use. */
int imc_send_va(struct imclient *c, imclient_proc_t *finish, void *rock, const char *fmt,
                va_list ap);
/* Queue a command the way imclient_send() does and write what can go.
 * Returns the session's verdict: 0 queued, -1 refused or closed (the
 * finish callback has run either way). */
int imc_send(struct imclient *c, imclient_proc_t *finish, void *rock, const char *fmt, ...);
/* ---- event.c ---- */

/* What the connection waits for (IMCLIENT_EV_*), its socket (-1 once
 * closed) and how long until it must be called anyway (-1: no deadline;
 * 0: now).  No side effects. */
int imc_wants(struct imclient *c, int *fd, int *timeout_ms);
/* Nonzero when output waits for the socket. */
int imc_wants_write(struct imclient *c);
/* Do what the ready events allow, never waiting.  1: something was done;
 * 0: nothing; -1: the connection failed (or was already closed). */
int imc_handle(struct imclient *c, int events);

/* ---- adapters/poll.c ---- */

/* Wait in poll(2) at most timeout_ms (-1: no bound of the caller's) and
 * handle what came; imc_handle()'s results. */
int imc_poll_once(struct imclient *c, int timeout_ms);

/* ---- send.c ---- */

/*
 * Library code that owns the stream (STARTTLS, AUTHENTICATE) runs between
 * these: a callback's imclient_close() is deferred and its imclient_send()
 * refused.  imc_exclusive_end() returns result, or -1 after carrying out a
 * deferred close (the connection is then freed).
 */
void imc_exclusive_begin(struct imclient *c);
int imc_exclusive_end(struct imclient *c, int result);

/*
 * For exchanges after which a new layer starts (STARTTLS, AUTHENTICATE with
 * a security layer): after imc_session_pause_after(&c->session, tag), run
 * events until that reply has been delivered.  Returns 0, or -1 if the
 * connection failed.  No output is written while paused.  imc_leftover()
 * then gives the bytes of the last read that followed the reply; they
 * belong to the new layer (or are an injection attempt).
 */
int imc_run_until_paused(struct imclient *c);
const char *imc_leftover(struct imclient *c, size_t *len);

#endif
