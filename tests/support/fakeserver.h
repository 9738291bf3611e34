/*
 * A scripted IMAP server on 127.0.0.1 for tests that need exact bytes:
 * it accepts one connection and plays its steps in order on a thread,
 * recording everything the client sends.
 */
#ifndef IMC_FAKESERVER_H
#define IMC_FAKESERVER_H

#include <stddef.h>

enum fake_op {
    FAKE_SEND,       /* write data */
    FAKE_SEND_SLOW,  /* write data one byte at a time, flushing each */
    FAKE_EXPECT,     /* read exactly len bytes; they must equal data */
    FAKE_SLEEP,      /* pause ms milliseconds */
    FAKE_CLOSE,      /* close the connection now */
    FAKE_DRAIN,      /* read until the client closes (at most ms, default 5 s) */
};

struct fake_step {
    enum fake_op op;
    const char *data;
    size_t len;
    int ms;
};

#define F_SEND(s) { FAKE_SEND, (s), sizeof(s) - 1, 0 }
#define F_SLOW(s) { FAKE_SEND_SLOW, (s), sizeof(s) - 1, 0 }
#define F_EXPECT(s) { FAKE_EXPECT, (s), sizeof(s) - 1, 0 }
#define F_SLEEP(ms) { FAKE_SLEEP, NULL, 0, (ms) }
#define F_CLOSE() { FAKE_CLOSE, NULL, 0, 0 }
#define F_DRAIN() { FAKE_DRAIN, NULL, 0, 0 }
#define F_SEND_BUF(p, n) { FAKE_SEND, (p), (n), 0 }

struct fakeserver;

/* Start listening and playing steps (copied) on the first connection. */
struct fakeserver *fake_start(const struct fake_step *steps, size_t n);
/* The port as a string, for imclient_connect(). */
const char *fake_port(const struct fakeserver *fs);
/* Wait for the script to end; returns 0 if every step ran and matched,
 * else -1 with the reason in err.  Frees nothing. */
int fake_wait(struct fakeserver *fs, char *err, size_t errlen);
/* All bytes the client sent (valid until fake_free). */
const char *fake_received(const struct fakeserver *fs, size_t *len);
void fake_free(struct fakeserver *fs);

#define FAKE(...) ((const struct fake_step[]){ __VA_ARGS__ }), \
    (sizeof((const struct fake_step[]){ __VA_ARGS__ }) / sizeof(struct fake_step))

#endif
