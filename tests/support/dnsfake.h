/*
 * A DNS server on 127.0.0.1 for resolution tests, header-only so a test
 * program includes it without a library of its own.  On a thread it
 * either reads every query and drops it (a server that never answers) or
 * answers from a script: an A query for the scripted name gets its
 * addresses, an AAAA query for it an empty answer, anything else NXDOMAIN.
 * It counts the queries and keeps the last name asked, so a test can tell
 * whether DNS was asked at all, and for what.  It stops when told, or by
 * itself after a minute.
 */
#ifndef IMC_DNSFAKE_H
#define IMC_DNSFAKE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct dnsfake {
    int fd;
    char servers[32]; /* "127.0.0.1:port", for c-ares */
    pthread_t thread;
    atomic_int stop;
    atomic_int queries;
    int answer;       /* 0: drop every query */
    char name[256];   /* the name answered */
    struct in_addr addrs[4];
    int naddrs;
    pthread_mutex_t lock;
    char last[256];   /* the last name asked */
};

/* The query's name as text; the offset after it, or 0 if malformed. */
static inline size_t dnsfake_qname(const unsigned char *p, size_t len, char *out,
                                   size_t outlen)
{
    size_t i = 12, o = 0;
    while (i < len && p[i] != 0) {
        size_t n = p[i++];
        if (n > 63 || i + n > len || o + n + 2 > outlen)
            return 0;
        if (o)
            out[o++] = '.';
        memcpy(out + o, p + i, n);
        o += n;
        i += n;
    }
    out[o] = '\0';
    return i < len ? i + 1 : 0;
}

static inline void dnsfake_reply(struct dnsfake *d, const unsigned char *q, size_t qlen,
                                 const struct sockaddr *from, socklen_t fromlen)
{
    char name[256];
    size_t end = dnsfake_qname(q, qlen, name, sizeof name);
    if (end == 0 || end + 4 > qlen)
        return;
    pthread_mutex_lock(&d->lock);
    snprintf(d->last, sizeof d->last, "%s", name);
    pthread_mutex_unlock(&d->lock);
    unsigned qtype = (unsigned)q[end] << 8 | q[end + 1];
    size_t question_end = end + 4;
    unsigned char r[512];
    if (question_end > sizeof r - 16 * 4)
        return;
    memcpy(r, q, question_end); /* id and question as asked */
    int ours = strcasecmp(name, d->name) == 0;
    int count = ours && qtype == 1 ? d->naddrs : 0;
    r[2] = 0x80 | (q[2] & 0x01); /* QR; RD as asked */
    r[3] = ours ? 0x80 : 0x83;   /* RA; NOERROR or NXDOMAIN */
    r[4] = 0, r[5] = 1;          /* one question */
    r[6] = 0, r[7] = (unsigned char)count;
    memset(r + 8, 0, 4);         /* no authority, no additional */
    size_t n = question_end;
    for (int i = 0; i < count; i++) {
        static const unsigned char head[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4 };
        memcpy(r + n, head, sizeof head);
        n += sizeof head;
        memcpy(r + n, &d->addrs[i], 4);
        n += 4;
    }
    sendto(d->fd, r, n, 0, from, fromlen);
}

static inline void *dnsfake_run(void *arg)
{
    struct dnsfake *d = arg;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!atomic_load(&d->stop)) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > 60)
            break;
        struct pollfd p = { d->fd, POLLIN, 0 };
        if (poll(&p, 1, 50) <= 0)
            continue;
        unsigned char q[512];
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t len = recvfrom(d->fd, q, sizeof q, 0, (struct sockaddr *)&from, &fromlen);
        if (len < 12)
            continue;
        atomic_fetch_add(&d->queries, 1);
        if (d->answer)
            dnsfake_reply(d, q, (size_t)len, (struct sockaddr *)&from, fromlen);
    }
    return NULL;
}

/* name NULL: drop every query.  Else answer name with addrs (IPv4 text,
 * NULL-terminated, at most 4).  NULL if it cannot start. */
static inline struct dnsfake *dnsfake_start(const char *name, const char *const *addrs)
{
    struct dnsfake *d = calloc(1, sizeof *d);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (d->fd < 0 || bind(d->fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(d->fd, (struct sockaddr *)&a, &alen) < 0) {
        if (d->fd >= 0)
            close(d->fd);
        free(d);
        return NULL;
    }
    snprintf(d->servers, sizeof d->servers, "127.0.0.1:%d", ntohs(a.sin_port));
    if (name) {
        d->answer = 1;
        snprintf(d->name, sizeof d->name, "%s", name);
        for (; addrs && addrs[d->naddrs] && d->naddrs < 4; d->naddrs++)
            inet_pton(AF_INET, addrs[d->naddrs], &d->addrs[d->naddrs]);
    }
    pthread_mutex_init(&d->lock, NULL);
    if (pthread_create(&d->thread, NULL, dnsfake_run, d) != 0) {
        close(d->fd);
        free(d);
        return NULL;
    }
    return d;
}

static inline int dnsfake_queries(struct dnsfake *d)
{
    return atomic_load(&d->queries);
}

/* The last name asked, copied to out. */
static inline void dnsfake_last(struct dnsfake *d, char *out, size_t outlen)
{
    pthread_mutex_lock(&d->lock);
    snprintf(out, outlen, "%s", d->last);
    pthread_mutex_unlock(&d->lock);
}

static inline void dnsfake_stop(struct dnsfake *d)
{
    if (!d)
        return;
    atomic_store(&d->stop, 1);
    pthread_join(d->thread, NULL);
    close(d->fd);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

#endif
