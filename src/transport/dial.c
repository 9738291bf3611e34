/*
 * The aggregation: c-ares opens and closes sockets as it tries servers
 * (UDP, TCP for a truncated answer), the connect has its socket, and both
 * have deadlines.  An event loop that drives a connection watches one
 * descriptor, so all of them go into one epoll set, deadlines as a timerfd
 * in the same set: the set's descriptor is readable exactly when a socket
 * is ready or a deadline is due.  The loop needs no timer of its own for
 * the attempt, and what the descriptor stands for may change (lookup, then
 * connect, then another address) without the loop knowing.
 */
#include "transport/dial.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cyrus/xmalloc.h"
#include "transport/idn.h"
#include "transport/resolve.h"
#include "transport/socket.h"
#include "util/clock.h"

struct imc_dial {
    int epfd;
    int timerfd;
    char *host;              /* as the caller gave it, for reasons */
    char *ascii;             /* its A-label form, what is looked up */
    int port;
    int timeout_ms;
    long deadline;           /* ms: when the lookup or this address gives up; -1 never */
    struct imc_resolve *res; /* while looking up */
    struct imc_addr *addrs;
    size_t naddrs, next;
    int sock;                /* connecting, or connected until taken; else -1 */
    int last_errno;          /* why the last address failed */
    int result;              /* IMC_DIAL_MORE until known */
    char why[300];
};

static int watch(struct imc_dial *d, int fd, unsigned events)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.fd = fd;
    return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static long phase_deadline(const struct imc_dial *d)
{
    return d->timeout_ms >= 0 ? imc_now_ms() + d->timeout_ms : -1;
}

static void end(struct imc_dial *d, int result)
{
    d->result = result;
    imc_resolve_free(d->res);
    d->res = NULL;
    if (result != 0 && d->sock >= 0) {
        close(d->sock);
        d->sock = -1;
    }
}

static void drop_socket(struct imc_dial *d, int e)
{
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->sock, NULL);
    close(d->sock);
    d->sock = -1;
    d->last_errno = e;
}

static void connected(struct imc_dial *d)
{
    /* Commands are written whole from our own buffer; Nagle would only
     * hold back the next pipelined command until an ACK. */
    int one = 1;
    setsockopt(d->sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Not watched any more: once connected the caller watches it itself. */
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->sock, NULL);
    end(d, 0);
}

/* Begin connecting to one address; d->sock is set if it is under way. */
static void try_address(struct imc_dial *d, const struct imc_addr *a)
{
    int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        d->last_errno = errno;
        return;
    }
    d->sock = fd;
    if (connect(fd, (const struct sockaddr *)&a->sa, a->len) == 0) {
        connected(d);
        return;
    }
    /* EINTR: the connect goes on in the background, as EINPROGRESS. */
    if (errno != EINPROGRESS && errno != EINTR) {
        d->sock = -1;
        d->last_errno = errno;
        close(fd);
        return;
    }
    if (watch(d, fd, EPOLLOUT) < 0) {
        d->sock = -1;
        d->last_errno = errno;
        close(fd);
        return;
    }
    d->deadline = phase_deadline(d);
}

static void take_addresses(struct imc_dial *d, const struct imc_addr *a, size_t n)
{
    d->addrs = xmalloc(n * sizeof *d->addrs);
    memcpy(d->addrs, a, n * sizeof *a);
    d->naddrs = n;
}

/* Move on as far as what has happened allows.  sock_events: what epoll
 * saw on the connecting socket (0: nothing). */
static void advance(struct imc_dial *d, unsigned sock_events)
{
    if (d->res) {
        int r;
        const struct imc_addr *a;
        size_t n;
        if (imc_resolve_outcome(d->res, &r, &a, &n, d->why, sizeof d->why)) {
            if (r != 0) {
                end(d, r);
                return;
            }
            take_addresses(d, a, n);
            imc_resolve_free(d->res);
            d->res = NULL;
        } else if (d->deadline >= 0 && imc_now_ms() >= d->deadline) {
            snprintf(d->why, sizeof d->why,
                     "resolving %s: no answer from the DNS servers within %d ms", d->ascii,
                     d->timeout_ms);
            end(d, ETIMEDOUT);
            return;
        } else {
            return;
        }
    }
    if (d->sock >= 0) {
        if (sock_events) {
            int soerr = 0;
            socklen_t len = sizeof soerr;
            if (getsockopt(d->sock, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
                soerr = errno;
            if (soerr == 0) {
                connected(d);
                return;
            }
            drop_socket(d, soerr);
        } else if (d->deadline >= 0 && imc_now_ms() >= d->deadline) {
            drop_socket(d, ETIMEDOUT);
        } else {
            return;
        }
    }
    /* The next address, until one is under way or none is left. */
    while (d->sock < 0) {
        if (d->next >= d->naddrs) {
            snprintf(d->why, sizeof d->why, "connecting to %s port %d: %s", d->host, d->port,
                     strerror(d->last_errno));
            end(d, d->last_errno);
            return;
        }
        try_address(d, &d->addrs[d->next++]);
        if (d->result != IMC_DIAL_MORE)
            return;
    }
}

/* The timer says when step() must run although no socket is ready: the
 * phase's deadline or c-ares's next timeout, whichever is first; at once
 * when the outcome is known, so a loop that watches only the descriptor
 * comes to collect it. */
static void arm(struct imc_dial *d)
{
    long ms = -1;
    if (d->result != IMC_DIAL_MORE) {
        ms = 0;
    } else {
        if (d->deadline >= 0) {
            ms = d->deadline - imc_now_ms();
            if (ms < 0)
                ms = 0;
        }
        long rn = d->res ? imc_resolve_next_ms(d->res) : -1;
        if (rn >= 0 && (ms < 0 || rn < ms))
            ms = rn;
    }
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (ms == 0)
        its.it_value.tv_nsec = 1; /* all zero would disarm it */
    else if (ms > 0) {
        its.it_value.tv_sec = ms / 1000;
        its.it_value.tv_nsec = (ms % 1000) * 1000000L;
    }
    timerfd_settime(d->timerfd, 0, &its, NULL);
}

/* An address as given ("127.0.0.1", "::1", "fe80::1%eth0"): no lookup.
 * getaddrinfo() with AI_NUMERICHOST never asks DNS, so it cannot block. */
static int numeric_address(struct imc_dial *d)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", d->port);
    if (getaddrinfo(d->ascii, portstr, &hints, &res) != 0)
        return 0;
    size_t n = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_addrlen <= sizeof(struct sockaddr_storage))
            n++;
    d->addrs = xzmalloc((n ? n : 1) * sizeof *d->addrs);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(struct sockaddr_storage))
            continue;
        memcpy(&d->addrs[d->naddrs].sa, ai->ai_addr, ai->ai_addrlen);
        d->addrs[d->naddrs++].len = ai->ai_addrlen;
    }
    freeaddrinfo(res);
    return d->naddrs > 0;
}

int imc_dial_start(struct imc_dial **dp, const char *host, const char *port,
                   const struct imc_dial_options *o, char *err, size_t errlen)
{
    *dp = NULL;
    const char *service = port ? port : "imap";
    int portnum = imc_socket_port(service);
    if (portnum < 0) {
        snprintf(err, errlen, "unknown service \"%s\"", service);
        return -2;
    }
    /* Looked up by its A-label form: c-ares, like glibc, would send a
     * Unicode name's UTF-8 bytes to DNS as they are. */
    char *ascii, why[200];
    if (imc_idn_ascii(host, &ascii, why, sizeof why) < 0) {
        snprintf(err, errlen, "unknown host: %s", why);
        return -1;
    }
    struct imc_dial *d = xzmalloc(sizeof *d);
    d->host = xstrdup(host);
    d->ascii = ascii;
    d->port = portnum;
    d->timeout_ms = o->timeout_ms;
    d->deadline = -1;
    d->sock = -1;
    d->timerfd = -1;
    d->last_errno = ECONNREFUSED;
    d->result = IMC_DIAL_MORE;
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (d->epfd >= 0)
        d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (d->epfd < 0 || d->timerfd < 0 || watch(d, d->timerfd, EPOLLIN) < 0) {
        int e = errno;
        snprintf(err, errlen, "connecting to %s: cannot make the attempt's descriptors: %s",
                 host, strerror(e));
        imc_dial_free(d);
        return e;
    }
    if (!numeric_address(d)) {
        int e = imc_resolve_start(&d->res, d->ascii, portnum, d->epfd, o->dns_servers, err,
                                  errlen);
        if (e != 0) {
            imc_dial_free(d);
            return e;
        }
        d->deadline = phase_deadline(d);
    }
    advance(d, 0);
    arm(d);
    *dp = d;
    return 0;
}

int imc_dial_fd(const struct imc_dial *d)
{
    return d->epfd;
}

int imc_dial_step(struct imc_dial *d, char *err, size_t errlen)
{
    if (d->result == IMC_DIAL_MORE) {
        struct epoll_event ev[16];
        unsigned sock_events = 0;
        int n = epoll_wait(d->epfd, ev, 16, 0);
        /* More than 16 ready: the rest stay ready and the descriptor
         * readable, so the loop comes back for them. */
        for (int i = 0; i < n; i++) {
            int fd = ev[i].data.fd;
            if (fd == d->timerfd) {
                /* Clears its readiness; EAGAIN (re-armed since it fired)
                 * leaves nothing to clear. */
                uint64_t expirations;
                ssize_t got = read(fd, &expirations, sizeof expirations);
                (void)got;
            } else if (fd == d->sock) {
                sock_events = ev[i].events;
            } else if (d->res) {
                imc_resolve_process(d->res, fd, ev[i].events);
            }
        }
        if (d->res)
            imc_resolve_process(d->res, -1, 0);
        advance(d, sock_events);
    }
    arm(d);
    if (d->result == IMC_DIAL_MORE)
        return IMC_DIAL_MORE;
    if (d->result != 0)
        snprintf(err, errlen, "%s", d->why);
    return d->result;
}

int imc_dial_take_socket(struct imc_dial *d)
{
    int fd = d->result == 0 ? d->sock : -1;
    d->sock = -1;
    return fd;
}

void imc_dial_free(struct imc_dial *d)
{
    if (!d)
        return;
    /* c-ares's sockets leave the set before it closes. */
    imc_resolve_free(d->res);
    if (d->sock >= 0)
        close(d->sock);
    if (d->timerfd >= 0)
        close(d->timerfd);
    if (d->epfd >= 0)
        close(d->epfd);
    free(d->addrs);
    free(d->host);
    free(d->ascii);
    free(d);
}
