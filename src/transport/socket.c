#include "transport/socket.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cyrus/xmalloc.h"
#include "transport/idn.h"
#include "util/clock.h"

/* Without /etc/services (minimal containers) the names IMAP programs use
 * most would be "unknown"; these are the IANA assignments. */
static int builtin_service(const char *name)
{
    if (strcasecmp(name, "imap") == 0 || strcasecmp(name, "imap2") == 0)
        return 143;
    if (strcasecmp(name, "imaps") == 0)
        return 993;
    return -1;
}

/* The port as a number, or -1 if the service name is unknown. */
static int resolve_port(const char *port)
{
    char *end;
    long n = strtol(port, &end, 10);
    if (*port && *end == '\0')
        return n >= 0 && n <= 65535 ? (int)n : -1;
    struct servent se, *res = NULL;
    char buf[1024];
    if (getservbyname_r(port, "tcp", &se, buf, sizeof buf, &res) == 0 && res)
        return ntohs((uint16_t)res->s_port);
    return builtin_service(port);
}

/* Connect one address without blocking longer than timeout_ms.
 * Returns 0 or an errno value. */
static int connect_one(const struct addrinfo *ai, int timeout_ms, int *fdp)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0)
        return errno;
    int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r < 0 && errno == EINPROGRESS) {
        long deadline = timeout_ms < 0 ? -1 : imc_now_ms() + timeout_ms;
        for (;;) {
            struct pollfd p = { fd, POLLOUT, 0 };
            int wait = deadline < 0 ? -1 : (int)(deadline - imc_now_ms());
            if (deadline >= 0 && wait < 0)
                wait = 0;
            int n = poll(&p, 1, wait);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                int e = errno;
                close(fd);
                return e;
            }
            if (n == 0) {
                close(fd);
                return ETIMEDOUT;
            }
            int soerr = 0;
            socklen_t len = sizeof soerr;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
                soerr = errno;
            if (soerr) {
                close(fd);
                return soerr;
            }
            break;
        }
    } else if (r < 0) {
        int e = errno;
        close(fd);
        return e;
    }
    /* Commands are written whole from our own buffer; Nagle would only hold
     * back the next pipelined command until an ACK. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *fdp = fd;
    return 0;
}

/* Resolve host (by its A-label form: glibc does not convert a Unicode
 * name unless asked, and would send its UTF-8 bytes to DNS).  Returns 0
 * with *res set, or what imc_socket_connect() returns. */
static int resolve(const char *host, const char *portstr, struct addrinfo **res,
                   char *err, size_t errlen)
{
    char *ascii, why[200];
    if (imc_idn_ascii(host, &ascii, why, sizeof why) < 0) {
        snprintf(err, errlen, "unknown host: %s", why);
        return -1;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int gai = getaddrinfo(ascii, portstr, &hints, res);
    int e = gai == EAI_SYSTEM ? (errno ? errno : EIO) : 0;
    if (gai == EAI_SYSTEM)
        snprintf(err, errlen, "resolving %s: %s", ascii, strerror(e));
    else if (gai == EAI_MEMORY)
        e = ENOMEM;
    else if (gai != 0) {
        snprintf(err, errlen, "unknown host \"%s\": %s", ascii, gai_strerror(gai));
        e = -1;
    }
    free(ascii);
    return e;
}

int imc_socket_connect(const char *host, const char *port, int timeout_ms, int *fd,
                       char *err, size_t errlen)
{
    *fd = -1;
    int portnum = resolve_port(port ? port : "imap");
    if (portnum < 0) {
        snprintf(err, errlen, "unknown service \"%s\"", port ? port : "imap");
        return -2;
    }
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", portnum);
    struct addrinfo *res = NULL;
    int e = resolve(host, portstr, &res, err, errlen);
    if (e != 0)
        return e;
    e = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        e = connect_one(ai, timeout_ms, fd);
        if (e == 0)
            break;
    }
    freeaddrinfo(res);
    if (e)
        snprintf(err, errlen, "connecting to %s port %d: %s", host, portnum, strerror(e));
    return e;
}

static ssize_t sock_read(struct imc_transport *t, char *buf, size_t len)
{
    ssize_t n;
    do
        n = recv(t->fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EWOULDBLOCK)
        errno = EAGAIN;
    return n;
}

static ssize_t sock_write(struct imc_transport *t, const char *buf, size_t len)
{
    ssize_t n;
    /* MSG_NOSIGNAL: a server that hung up must give EPIPE, not kill us. */
    do
        n = send(t->fd, buf, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EWOULDBLOCK)
        errno = EAGAIN;
    return n;
}

static void sock_destroy(struct imc_transport *t)
{
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

static const struct imc_transport_ops socket_ops = {
    "socket", sock_read, sock_write, NULL, NULL, sock_destroy,
};

struct imc_transport *imc_socket_transport_new(int fd)
{
    struct imc_transport *t = xzmalloc(sizeof *t);
    t->ops = &socket_ops;
    t->fd = fd;
    return t;
}
