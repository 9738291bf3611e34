/*
 * The raw reader: the ceiling the other peers are measured against.  It
 * sends the same commands and reads the socket into one 64 KiB buffer,
 * looking only for the end of the exchange; it parses nothing.  W1, W2 and
 * W4 are checked by their byte count (the whole stream up to the tagged
 * reply), W3 by the number of reply lines, W5 by its tagged OK.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer_client.h"
#include "stats.h"

#define CHUNK (64 * 1024)

static int fd = -1;
static char buf[CHUNK];

int peer_connect(const struct peer_job *job, char *why, size_t whylen)
{
    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int r = getaddrinfo("127.0.0.1", job->port, &hints, &ai);
    if (r != 0) {
        snprintf(why, whylen, "%s", gai_strerror(r));
        return -1;
    }
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    return 0;
}

void peer_close(void)
{
    if (fd >= 0)
        close(fd);
}

static int send_all(const char *p, size_t n, int flags)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL | flags);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Read until the bytes seen so far end with the line "<tag> OK ...\r\n";
 * the total read, or -1.  Only the last few bytes are ever looked at: the
 * server sends nothing after a tagged reply, so it ends some read. */
static int64_t read_until_tagged(const char *tag)
{
    char want[32];
    int wl = snprintf(want, sizeof want, "\n%s OK", tag);
    char tail[128] = "\n"; /* as if a line had just ended */
    size_t tl = 1;
    uint64_t total = 0;
    for (;;) {
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        total += (uint64_t)k;
        /* the last sizeof tail bytes of the stream, across reads */
        if ((size_t)k >= sizeof tail) {
            memcpy(tail, buf + k - sizeof tail, sizeof tail);
            tl = sizeof tail;
        } else {
            size_t keep = tl + (size_t)k > sizeof tail ? sizeof tail - (size_t)k : tl;
            memmove(tail, tail + tl - keep, keep);
            memcpy(tail + keep, buf, (size_t)k);
            tl = keep + (size_t)k;
        }
        if (tl < 2 || tail[tl - 2] != '\r' || tail[tl - 1] != '\n')
            continue;
        /* the start of the last line */
        size_t s = tl - 2;
        while (s > 0 && tail[s - 1] != '\n')
            s--;
        if (s > 0 && memcmp(tail + s - 1, want, (size_t)wl) == 0)
            return (int64_t)total;
    }
}

static int fetch(const struct peer_job *job, struct peer_tally *t, char *why, size_t whylen)
{
    uint64_t want = job->stream_bytes;
    char cmd[128];
    int n = snprintf(cmd, sizeof cmd, job->workload == PEER_W2 ? "1 FETCH 1:%llu (UID FLAGS)\r\n"
                                                              : "1 FETCH 1:%llu BODY[]\r\n",
                     (unsigned long long)job->count);
    if (send_all(cmd, (size_t)n, 0) < 0) {
        snprintf(why, whylen, "send: %s", strerror(errno));
        return -1;
    }
    int64_t got = read_until_tagged("1");
    if (got < 0 || (uint64_t)got != want) {
        snprintf(why, whylen, "read %lld bytes, the stream has %llu", (long long)got,
                 (unsigned long long)want);
        return -1;
    }
    t->items = job->count;
    t->bytes = (uint64_t)got;
    return 0;
}

/* Every command written in as few send()s as the socket takes, the replies
 * counted by their line ends, from one poll loop so that neither side
 * waits for the other. */
static int noops(const struct peer_job *job, struct peer_tally *t, char *why, size_t whylen)
{
    char *cmds = malloc(job->count * 28);
    if (!cmds) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    size_t clen = 0, off = 0;
    for (uint64_t i = 1; i <= job->count; i++) {
        clen += bench_put_uint(cmds + clen, i);
        memcpy(cmds + clen, " NOOP\r\n", 7);
        clen += 7;
    }
    uint64_t lines = 0;
    int greeted = 0;
    while (lines < job->count) {
        struct pollfd p = { fd, POLLIN | (off < clen ? POLLOUT : 0), 0 };
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            break;
        if ((p.revents & POLLOUT) && off < clen) {
            ssize_t k = send(fd, cmds + off, clen - off, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (k > 0)
                off += (size_t)k;
        }
        if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
            break;
        for (const char *q = buf; k > 0 && (q = memchr(q, '\n', (size_t)(buf + k - q))); q++) {
            if (!greeted)
                greeted = 1; /* the greeting's line */
            else
                lines++;
        }
    }
    free(cmds);
    t->items = lines;
    if (lines != job->count) {
        snprintf(why, whylen, "%llu replies", (unsigned long long)lines);
        return -1;
    }
    return 0;
}

static int append(const struct peer_job *job, struct peer_tally *t, char *why, size_t whylen)
{
    char cmd[64];
    int n = snprintf(cmd, sizeof cmd, "1 APPEND INBOX {%llu}\r\n", (unsigned long long)job->count);
    if (send_all(cmd, (size_t)n, 0) < 0)
        goto fail;
    /* the greeting, then the continuation request */
    size_t have = 0;
    while (!(have >= 2 && memmem(buf, have, "\n+ ", 3))) {
        ssize_t k = recv(fd, buf + have, sizeof buf - have, 0);
        if (k <= 0)
            goto fail;
        have += (size_t)k;
    }
    /* MSG_MORE: the CRLF goes with the literal's last bytes, not alone
     * behind Nagle's wait for an ACK */
    if (send_all(job->payload, job->count, MSG_MORE) < 0 || send_all("\r\n", 2, 0) < 0 ||
        read_until_tagged("1") < 0)
        goto fail;
    t->items = 1;
    t->bytes = job->count;
    return 0;
fail:
    snprintf(why, whylen, "no continuation or no tagged OK (%s)", strerror(errno));
    return -1;
}

int peer_work(const struct peer_job *job, struct peer_tally *t, char *why, size_t whylen)
{
    switch (job->workload) {
    case PEER_W3:
        return noops(job, t, why, whylen);
    case PEER_W5:
        return append(job, t, why, whylen);
    default:
        return fetch(job, t, why, whylen);
    }
}
