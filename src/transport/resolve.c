/*
 * Why c-ares: getaddrinfo() cannot be bounded or interrupted (a DNS server
 * that never answers holds the caller for the resolver's whole retry
 * schedule) and cannot be driven by an event loop; a thread per lookup
 * would leave one running after its connection is gone.  c-ares sends and
 * reads the queries on sockets we watch and acts on its timeouts when we
 * call it, so a lookup is state like any other and stops when we destroy
 * its channel.
 *
 * One channel per lookup: a channel belongs to one thread at a time, and a
 * connection may be driven by any thread, so sharing one would need locks
 * and a process-wide object.  A channel costs reading /etc/resolv.conf,
 * nsswitch.conf and the hosts file once per connection, next to the round
 * trips that follow.
 */
#include "transport/resolve.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <ares.h>

#include "cyrus/xmalloc.h"

struct imc_resolve {
    ares_channel channel;
    int epfd;
    char *host;
    int port;
    int done;            /* the lookup's callback has run */
    int status;          /* its ARES_* status */
    int watch_errno;     /* a socket could not join epfd: the lookup is blind */
    struct imc_addr *addrs;
    size_t n;
};

/*
 * ares_library_init() is c-ares's one process-wide step (it sets up
 * nothing a channel on Linux needs, but the documentation asks for it once
 * before any channel, and it is not thread-safe).  It runs exactly once,
 * inside pthread_once(), which completes before any thread's call
 * returns; its result is written there and only read afterwards.  We never
 * call ares_library_cleanup(): another part of the program may use c-ares
 * too, and a process-lifetime initialisation costs nothing to keep.
 */
static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_status;

static void library_init(void)
{
    library_status = ares_library_init(ARES_LIB_INIT_ALL);
}

/* c-ares reports which of its sockets to watch; the epoll set follows. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct imc_resolve *r = data;
    if (!readable && !writable) {
        /* Called before the socket closes, so it is still ours to remove. */
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
        return;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return;
    if (errno == ENOENT && epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
        return;
    /* Unwatched, its answer would be seen only when a timeout fires, if
     * ever: fail the lookup rather than let it limp. */
    if (!r->watch_errno)
        r->watch_errno = errno ? errno : EIO;
}

static void keep_addresses(struct imc_resolve *r, const struct ares_addrinfo *res)
{
    size_t n = 0;
    for (const struct ares_addrinfo_node *a = res->nodes; a; a = a->ai_next)
        n++;
    r->addrs = xzmalloc((n ? n : 1) * sizeof *r->addrs);
    for (const struct ares_addrinfo_node *a = res->nodes; a; a = a->ai_next) {
        struct imc_addr *out = &r->addrs[r->n];
        if (a->ai_family == AF_INET && a->ai_addrlen >= sizeof(struct sockaddr_in)) {
            memcpy(&out->sa, a->ai_addr, sizeof(struct sockaddr_in));
            ((struct sockaddr_in *)&out->sa)->sin_port = htons((uint16_t)r->port);
            out->len = sizeof(struct sockaddr_in);
        } else if (a->ai_family == AF_INET6 &&
                   a->ai_addrlen >= sizeof(struct sockaddr_in6)) {
            memcpy(&out->sa, a->ai_addr, sizeof(struct sockaddr_in6));
            ((struct sockaddr_in6 *)&out->sa)->sin6_port = htons((uint16_t)r->port);
            out->len = sizeof(struct sockaddr_in6);
        } else {
            continue; /* not a family we asked for */
        }
        r->n++;
    }
}

/* May run inside ares_getaddrinfo() itself (an /etc/hosts hit), inside
 * ares_process_fd(), or inside ares_destroy() (status ARES_EDESTRUCTION),
 * never after the channel is gone. */
static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    (void)timeouts;
    struct imc_resolve *r = arg;
    r->done = 1;
    r->status = status;
    if (status == ARES_SUCCESS && res)
        keep_addresses(r, res);
    if (res)
        ares_freeaddrinfo(res);
}

int imc_resolve_start(struct imc_resolve **rp, const char *host, int port, int epfd,
                      const char *servers, char *err, size_t errlen)
{
    *rp = NULL;
    pthread_once(&library_once, library_init);
    if (library_status != ARES_SUCCESS) {
        snprintf(err, errlen, "resolving %s: c-ares cannot start: %s", host,
                 ares_strerror(library_status));
        return library_status == ARES_ENOMEM ? ENOMEM : EIO;
    }
    struct imc_resolve *r = xzmalloc(sizeof *r);
    r->epfd = epfd;
    r->port = port;
    r->host = xstrdup(host);
    struct ares_options o;
    memset(&o, 0, sizeof o);
    o.sock_state_cb = sock_state;
    o.sock_state_cb_data = r;
    int st = ares_init_options(&r->channel, &o, ARES_OPT_SOCK_STATE_CB);
    if (st == ARES_SUCCESS && servers)
        st = ares_set_servers_ports_csv(r->channel, servers);
    if (st != ARES_SUCCESS) {
        snprintf(err, errlen, "resolving %s: %s", host, ares_strerror(st));
        imc_resolve_free(r);
        return st == ARES_ENOMEM ? ENOMEM : EIO;
    }
    struct ares_addrinfo_hints hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* No service: the port is known already (a name was looked up in
     * /etc/services by the caller), and set on each address. */
    ares_getaddrinfo(r->channel, host, NULL, &hints, on_addrinfo, r);
    *rp = r;
    return 0;
}

void imc_resolve_process(struct imc_resolve *r, int fd, unsigned events)
{
    ares_socket_t rd = ARES_SOCKET_BAD, wr = ARES_SOCKET_BAD;
    if (fd >= 0 && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        rd = fd;
    if (fd >= 0 && (events & EPOLLOUT))
        wr = fd;
    /* With both ARES_SOCKET_BAD it handles timeouts alone; with a socket,
     * timeouts as well. */
    ares_process_fd(r->channel, rd, wr);
}

long imc_resolve_next_ms(struct imc_resolve *r)
{
    if (r->done)
        return -1;
    struct timeval tv;
    if (!ares_timeout(r->channel, NULL, &tv))
        return -1;
    /* Rounded up: waking before c-ares's timeout is due would find nothing
     * to do and ask again, a busy loop of sub-millisecond waits. */
    return (long)tv.tv_sec * 1000L + (long)(tv.tv_usec + 999) / 1000L;
}

int imc_resolve_outcome(struct imc_resolve *r, int *result, const struct imc_addr **addrs,
                        size_t *n, char *err, size_t errlen)
{
    *addrs = NULL;
    *n = 0;
    if (!r->done && r->watch_errno) {
        *result = r->watch_errno;
        snprintf(err, errlen, "resolving %s: cannot watch the resolver's socket: %s",
                 r->host, strerror(r->watch_errno));
        return 1;
    }
    if (!r->done)
        return 0;
    switch (r->status) {
    case ARES_SUCCESS:
        if (r->n == 0) {
            *result = -1;
            snprintf(err, errlen, "unknown host \"%s\": no IPv4 or IPv6 address", r->host);
            return 1;
        }
        *result = 0;
        *addrs = r->addrs;
        *n = r->n;
        return 1;
    case ARES_ETIMEOUT:
        /* Not "unknown": nobody said the name does not exist. */
        *result = ETIMEDOUT;
        snprintf(err, errlen, "resolving %s: %s", r->host, ares_strerror(r->status));
        return 1;
    case ARES_ENOMEM:
        *result = ENOMEM;
        snprintf(err, errlen, "resolving %s: %s", r->host, ares_strerror(r->status));
        return 1;
    default:
        /* NXDOMAIN, no data, a server that refused or failed, no server
         * reachable: what getaddrinfo() reports as EAI_NONAME, EAI_AGAIN
         * or EAI_FAIL, and imclient_connect() always called "unknown
         * host". */
        *result = -1;
        snprintf(err, errlen, "unknown host \"%s\": %s", r->host, ares_strerror(r->status));
        return 1;
    }
}

void imc_resolve_free(struct imc_resolve *r)
{
    if (!r)
        return;
    /* A lookup still running ends here, its callback told so
     * (ARES_EDESTRUCTION) while r is still valid. */
    if (r->channel)
        ares_destroy(r->channel);
    free(r->addrs);
    free(r->host);
    free(r);
}
