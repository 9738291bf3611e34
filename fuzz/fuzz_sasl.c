/*
 * libFuzzer target for the AUTHENTICATE exchange against a hostile server,
 * through the public API only (<cyrus/imclient.h>, <cyrus/sasl.h>).
 *
 * Each input is one connection to a scripted server on 127.0.0.1 in this
 * process.  Its first byte chooses the client's side: which mechanisms it
 * tries first (libsasl2's SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN,
 * LOGIN, EXTERNAL), whether PLAIN and LOGIN are allowed without TLS, which
 * security layers it accepts, and whether it runs the blocking or the
 * non-blocking form.  The rest is the server: turns separated by NUL
 * bytes (greeting, CAPABILITY replies, "+ <base64>" challenges, tagged
 * replies, anything), each written once the client has answered the
 * previous one or has nothing more to say.
 *
 * Checked: no crash, leak or undefined behaviour (ASan, UBSan, LSan); the
 * non-blocking form's result callback runs exactly once, with 0, 1 or 2,
 * whether the exchange ends, the connection fails or the application
 * closes it mid-way; the blocking form returns 0, 1 or 2.  libsasl2 is
 * initialised by the library once per process (pthread_once), so inputs
 * after the first run without that cost.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cyrus/imclient.h>
#include <cyrus/sasl.h>

#include "loopback.h"

enum {
    F_ORDER = 7,         /* rotation of the mechanism list */
    F_PLAINTEXT = 8,     /* IMCLIENT_CONN_ALLOWPLAINTEXT */
    F_PROT_NONE = 16,    /* protallowed: SASL_PROT_NONE only, else ANY */
    F_BLOCKING = 32,     /* imclient_authenticate() instead of _start() */
    F_USER = 64,         /* an authorization identity other than the name */
    F_CLOSE_EARLY = 128  /* the application closes before the script ends */
};

static struct sasl_client *const all_mechs[] = {
    &imclient_sasl_scram_sha256, &imclient_sasl_scram_sha1, &imclient_sasl_cram_md5,
    &imclient_sasl_plain,        &imclient_sasl_login,      &imclient_sasl_external,
};
#define NMECHS ((int)(sizeof all_mechs / sizeof all_mechs[0]))

struct state {
    int done_calls;
    int result;
};

static void on_done(struct imclient *c, void *rock, int result)
{
    (void)c;
    struct state *st = rock;
    st->done_calls++;
    st->result = result;
}

static const char *secret(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)c;
    (void)rock;
    (void)mech;
    switch (what) {
    case IMCLIENT_SECRET_AUTHNAME:
        return "alice";
    case IMCLIENT_SECRET_PASSWORD:
        return "alicepw";
    default:
        return NULL;
    }
}

/* Drains what the client wrote; 1 if it wrote anything, -1 once it closed. */
static int drain(int fd)
{
    char buf[65536];
    int got = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            got = 1;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return got;
        return -1;
    }
}

/* The server's turns: the input split at NUL bytes. */
struct script {
    const uint8_t *data;
    size_t size, pos;
};

/* Writes the next turn; 0 when none is left. */
static int next_turn(struct script *s, int fd)
{
    if (s->pos >= s->size)
        return 0;
    const uint8_t *start = s->data + s->pos;
    const uint8_t *nul = memchr(start, 0, s->size - s->pos);
    size_t n = nul ? (size_t)(nul - start) : s->size - s->pos;
    s->pos += n + 1;
    /* The client may have gone, or (blocking form, script written up
     * front) not be reading: what does not fit is dropped. */
    if (n > 0 && write(fd, start, n) < 0 && errno != EPIPE && errno != ECONNRESET &&
        errno != EAGAIN)
        abort();
    return 1;
}

/* The non-blocking form: events run here, the script follows the client. */
static void run_start(struct imclient *c, int fd, struct script *s, int flags,
                      struct sasl_client **mechs, const char *user, int prot)
{
    struct state st = { 0, -1 };
    int r = imclient_authenticate_start(c, mechs, "imap", user, prot, on_done, &st);
    if (r != 0) {
        /* Refused at once: done must not run. */
        if (r != -1 || st.done_calls != 0)
            abort();
        return;
    }
    int turns_left = 1, idle = 0;
    for (int i = 0; i < 400 && st.done_calls == 0; i++) {
        /* Loopback without Nagle on the server's side: what either side
         * wrote is readable at once, so no event is waited for. */
        int e = imclient_processoneevent_timeout(c, 0);
        int wrote = drain(fd);
        if (e < 0 || wrote < 0)
            break;
        if (flags & F_CLOSE_EARLY && i == 3)
            break;
        /* The client answered, or waits: the server's next turn. */
        if (wrote || e == 0) {
            if (turns_left)
                turns_left = next_turn(s, fd);
            else if (++idle > 3)
                break;
        }
    }
    if (st.done_calls > 1)
        abort();
    imclient_close(c);
    /* Closing an unfinished exchange finishes it, once; a finished one is
     * not finished again. */
    if (st.done_calls != 1)
        abort();
    if (st.result < 0 || st.result > 2)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int flags = data[0];
    struct script s = { data + 1, size - 1, 0 };

    int fd;
    struct imclient *c = fuzz_connect(&fd);
    /* Short limits: a script that stops answering ends in milliseconds. */
    struct imclient_limits lim = { 0, 0, 0, 200, 0 };
    imclient_setlimits(c, &lim);
    imclient_setsecretproc(c, secret, NULL);
    if (flags & F_PLAINTEXT)
        imclient_setflags(c, IMCLIENT_CONN_ALLOWPLAINTEXT);

    struct sasl_client *mechs[NMECHS + 1];
    int first = (flags & F_ORDER) % NMECHS;
    for (int i = 0; i < NMECHS; i++)
        mechs[i] = all_mechs[(first + i) % NMECHS];
    mechs[NMECHS] = NULL;
    const char *user = flags & F_USER ? "bob" : NULL;
    int prot = flags & F_PROT_NONE ? SASL_PROT_NONE : SASL_PROT_ANY;

    /* The greeting goes first, as a server's does. */
    next_turn(&s, fd);
    if (flags & F_BLOCKING) {
        /* The whole script is written up front: the call does not return
         * until the exchange ends (or the connection's timeout). */
        while (next_turn(&s, fd))
            ;
        shutdown(fd, SHUT_WR);
        int r = imclient_authenticate(c, mechs, "imap", user, prot);
        if (r < 0 || r > 2)
            abort();
        imclient_close(c);
    } else {
        run_start(c, fd, &s, flags, mechs, user, prot);
    }
    close(fd);
    return 0;
}
