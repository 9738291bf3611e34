/*
 * The part of Cyrus IMAP 3.6's imclient interface the peer benchmark
 * calls, for building bench/peer_imclient.c against Debian's libcyrus.so.0
 * (package cyrus-common), which ships no header.  Declared here from the
 * 3.x signatures; never include this and <cyrus/imclient.h> together, and
 * never link both libraries into one program: they export the same names.
 */
#ifndef BENCH_CYRUS36_IMCLIENT_H
#define BENCH_CYRUS36_IMCLIENT_H

struct imclient;

/* 3.6 gives no length: text ends at its first NUL. */
struct imclient_reply {
    char *keyword;
    long msgno; /* -1 when the reply has no number */
    char *text;
};

typedef void imclient_proc_t(struct imclient *imclient, void *rock,
                             struct imclient_reply *reply);

#define CALLBACK_NUMBERED 1

/* The fourth argument is a sasl_callback_t list; NULL is accepted. */
int imclient_connect(struct imclient **imclient, const char *host, const char *port,
                     void *sasl_callbacks);
void imclient_close(struct imclient *imclient);
/* (keyword, flags, proc, rock) groups, ending with a NULL keyword. */
void imclient_addcallback(struct imclient *imclient, ...);
void imclient_send(struct imclient *imclient, imclient_proc_t *finishproc, void *finishrock,
                   const char *fmt, ...);
/* Writes pending output, or else waits in select() with no time limit
 * until it can read once. */
void imclient_processoneevent(struct imclient *imclient);

/* The application supplies this; libcyrus.so.0 calls it on out of memory,
 * a bad format and failed assertions. */
void fatal(const char *message, int code);

#endif
