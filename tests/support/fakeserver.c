#include "fakeserver.h"
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STEP_TIMEOUT_MS 10000

struct fakeserver {
    int listen_fd;
    int fd;
    char port[16];
    struct fake_step *steps;
    size_t nsteps;
    pthread_t thread;
    char *received;
    size_t rlen, rcap;
    char error[512];
};

static void record(struct fakeserver *fs, const char *p, size_t n)
{
    if (fs->rlen + n > fs->rcap) {
        fs->rcap = (fs->rlen + n) * 2 + 256;
        fs->received = realloc(fs->received, fs->rcap);
    }
    memcpy(fs->received + fs->rlen, p, n);
    fs->rlen += n;
}

static int read_some(struct fakeserver *fs, char *buf, size_t cap, int ms)
{
    struct pollfd p = { fs->fd, POLLIN, 0 };
    int r = poll(&p, 1, ms);
    if (r <= 0)
        return -2; /* timeout */
    ssize_t n = read(fs->fd, buf, cap);
    if (n > 0)
        record(fs, buf, (size_t)n);
    return (int)n;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int expect(struct fakeserver *fs, const struct fake_step *st, size_t i)
{
    size_t start = fs->rlen;
    char buf[4096];
    while (fs->rlen - start < st->len) {
        size_t want = st->len - (fs->rlen - start);
        int n = read_some(fs, buf, want < sizeof buf ? want : sizeof buf, STEP_TIMEOUT_MS);
        if (n <= 0) {
            snprintf(fs->error, sizeof fs->error,
                     "step %zu: %s after %zu of %zu expected bytes: \"%.*s\"", i,
                     n == -2 ? "timeout" : "client closed", fs->rlen - start, st->len,
                     (int)(fs->rlen - start), fs->received + start);
            return -1;
        }
    }
    if (memcmp(fs->received + start, st->data, st->len) != 0) {
        snprintf(fs->error, sizeof fs->error, "step %zu: got \"%.*s\" want \"%.*s\"", i,
                 (int)st->len, fs->received + start, (int)st->len, st->data);
        return -1;
    }
    return 0;
}

static int run_step(struct fakeserver *fs, const struct fake_step *st, size_t i)
{
    char buf[4096];
    switch (st->op) {
    case FAKE_SEND:
        return write_all(fs->fd, st->data, st->len);
    case FAKE_SEND_SLOW:
        for (size_t k = 0; k < st->len; k++) {
            if (write_all(fs->fd, st->data + k, 1) < 0)
                return -1;
            usleep(200);
        }
        return 0;
    case FAKE_EXPECT:
        return expect(fs, st, i);
    case FAKE_SLEEP:
        usleep((useconds_t)st->ms * 1000);
        return 0;
    case FAKE_CLOSE:
        close(fs->fd);
        fs->fd = -1;
        return 0;
    case FAKE_DRAIN:
        for (;;) {
            int n = read_some(fs, buf, sizeof buf, st->ms ? st->ms : 5000);
            /* A reset counts as going away: a client closing with our
             * unread bytes in its buffer makes the kernel send RST. */
            if (n == 0 || n == -1)
                return 0;
            if (n < 0) {
                snprintf(fs->error, sizeof fs->error, "step %zu: client did not close", i);
                return -1;
            }
        }
    }
    return -1;
}

static void *serve(void *arg)
{
    struct fakeserver *fs = arg;
    fs->fd = accept_within(fs->listen_fd, STEP_TIMEOUT_MS);
    if (fs->fd == -2) {
        fs->fd = -1;
        snprintf(fs->error, sizeof fs->error, "no client connected");
        return NULL;
    }
    for (size_t i = 0; i < fs->nsteps && fs->fd >= 0; i++) {
        if (run_step(fs, &fs->steps[i], i) < 0) {
            if (!fs->error[0])
                snprintf(fs->error, sizeof fs->error, "step %zu failed: %s", i,
                         strerror(errno));
            break;
        }
    }
    if (fs->fd >= 0) {
        /* Collect whatever the client still sends until it goes away. */
        char buf[4096];
        while (read_some(fs, buf, sizeof buf, 3000) > 0)
            ;
        close(fs->fd);
        fs->fd = -1;
    }
    return NULL;
}

struct fakeserver *fake_start(const struct fake_step *steps, size_t n)
{
    struct fakeserver *fs = calloc(1, sizeof *fs);
    fs->fd = -1;
    fs->steps = malloc(n * sizeof *steps);
    memcpy(fs->steps, steps, n * sizeof *steps);
    fs->nsteps = n;
    fs->listen_fd = listen_loopback(4, fs->port, sizeof fs->port);
    if (fs->listen_fd < 0) {
        perror("fakeserver");
        abort();
    }
    pthread_create(&fs->thread, NULL, serve, fs);
    return fs;
}

const char *fake_port(const struct fakeserver *fs)
{
    return fs->port;
}

int fake_wait(struct fakeserver *fs, char *err, size_t errlen)
{
    pthread_join(fs->thread, NULL);
    if (fs->error[0]) {
        snprintf(err, errlen, "%s", fs->error);
        return -1;
    }
    return 0;
}

const char *fake_received(const struct fakeserver *fs, size_t *len)
{
    *len = fs->rlen;
    return fs->received ? fs->received : "";
}

void fake_free(struct fakeserver *fs)
{
    close(fs->listen_fd);
    free(fs->steps);
    free(fs->received);
    free(fs);
}
