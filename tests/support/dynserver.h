/*
 * A server on 127.0.0.1 whose logic is a function of the test's own, run
 * on a thread against one connection, for exchanges a fixed script
 * (fakeserver.h) cannot play: an answer built from the client's nonce, a
 * SASL server, a security layer.  The helpers read lines and write bytes;
 * the first failure is kept as the server's verdict.
 */
#ifndef IMC_DYNSERVER_H
#define IMC_DYNSERVER_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"

struct dynserver {
    int listen_fd, fd;
    char port[16];     /* for imclient_connect() */
    pthread_t thread;
    void (*fn)(struct dynserver *);
    void *arg;         /* the test's, for fn */
    char error[512];   /* the first failure; "" while all went well */
    struct imc_buf in; /* bytes read, not yet taken as a line */
};

/* Listen, and run fn(d) on the first connection, on a thread.  When fn
 * returns, the server stops writing and reads until the client closes, so
 * the client sees everything before it sees the end. */
struct dynserver *dyn_start(void (*fn)(struct dynserver *), void *arg);
/* Wait for the thread and free d: 0, or -1 with the failure in err. */
int dyn_finish(struct dynserver *d, char *err, size_t errlen);
/* The same, the verdict ignored: for scripts the client breaks off. */
void dyn_finish_quiet(struct dynserver *d);
/* The verdict as a test's check (CHECK_SERVER is replylog.h's). */
#define DYN_OK(d) CHECK_SERVER(dyn_finish, d)

/* Record a failure (only the first is kept). */
void dyn_fail(struct dynserver *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write all n bytes: 0, or -1 (failure recorded). */
int dyn_write(struct dynserver *d, const void *p, size_t n);
int dyn_send(struct dynserver *d, const char *s);
/* Read what the client sent, waiting 5 s at most: the count, 0 at EOF,
 * -1 otherwise.  Bypasses the line buffer. */
ssize_t dyn_read_raw(struct dynserver *d, char *buf, size_t cap);
/* One line from the client, CRLF removed, malloc'd; NULL (failure
 * recorded) if the client went away first. */
char *dyn_line(struct dynserver *d);
/* The next line must be want: 0, or -1 (failure recorded). */
int dyn_expect(struct dynserver *d, const char *want);

/* AUTHENTICATE speaks base64 both ways.  Encode len bytes (malloc'd,
 * NUL-terminated); decode s (malloc'd, NUL-terminated, its length in
 * *len), NULL if s is not base64. */
char *dyn_b64(const void *data, size_t len);
char *dyn_unb64(const char *s, size_t *len);

#endif
