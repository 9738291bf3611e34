#include "transport/socket.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cyrus/xmalloc.h"
#include "util/buf.h"

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

int imc_socket_port(const char *port)
{
    char *end;
    long n = strtol(port, &end, 10);
    if (*port && *end == '\0')
        return n >= 0 && n <= 65535 ? (int)n : -1;
    /* A local file: nothing here waits on the network. */
    struct servent se, *res = NULL;
    char buf[1024];
    if (getservbyname_r(port, "tcp", &se, buf, sizeof buf, &res) == 0 && res)
        return ntohs((uint16_t)res->s_port);
    return builtin_service(port);
}

int imc_socket_connect(const char *host, const char *port, int timeout_ms, int *fd,
                       char *err, size_t errlen)
{
    *fd = -1;
    struct imc_dial_options o = { timeout_ms, NULL };
    struct imc_dial *d;
    int r = imc_dial_start(&d, host, port, &o, err, errlen);
    if (r != 0)
        return r;
    /* The attempt's descriptor wakes us for its sockets and its timers
     * alike, so the wait needs no timeout of its own. */
    while ((r = imc_dial_step(d, err, errlen)) == IMC_DIAL_MORE) {
        struct pollfd p = { imc_dial_fd(d), POLLIN, 0 };
        if (poll(&p, 1, -1) < 0 && errno != EINTR) {
            r = errno;
            snprintf(err, errlen, "connecting to %s: poll: %s", host, strerror(r));
            break;
        }
    }
    if (r == 0)
        *fd = imc_dial_take_socket(d);
    imc_dial_free(d);
    return r;
}

/* ---- the socket layer ---------------------------------------------------- */

struct sock {
    struct imc_transport base;
    /* Commands queued while connecting, written before anything else. */
    struct imc_buf held;
};

/* Write held bytes until none are left or the socket is full: 0, or -1
 * with errno (EAGAIN when some remain). */
static int push_held(struct sock *s)
{
    while (s->held.len > 0) {
        ssize_t n = send(s->base.fd, s->held.data, s->held.len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (errno == EWOULDBLOCK)
                errno = EAGAIN;
            return -1;
        }
        imc_buf_consume(&s->held, (size_t)n);
    }
    return 0;
}

static ssize_t sock_read(struct imc_transport *t, char *buf, size_t len)
{
    struct sock *s = (struct sock *)t;
    /* The loop asks to read when the socket became writable for held
     * bytes (see sock_wants): they go now, and a failure shows here. */
    if (push_held(s) < 0 && errno != EAGAIN)
        return -1;
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
    struct sock *s = (struct sock *)t;
    /* Held bytes were queued first; nothing may overtake them. */
    if (push_held(s) < 0)
        return -1;
    ssize_t n;
    /* MSG_NOSIGNAL: a server that hung up must give EPIPE, not kill us. */
    do
        n = send(t->fd, buf, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EWOULDBLOCK)
        errno = EAGAIN;
    return n;
}

static int sock_wants(const struct imc_transport *t)
{
    return ((const struct sock *)t)->held.len > 0 ? IMC_WANT_WRITE : 0;
}

static void sock_destroy(struct imc_transport *t)
{
    struct sock *s = (struct sock *)t;
    if (t->fd >= 0)
        close(t->fd);
    imc_buf_free(&s->held);
    free(s);
}

static const struct imc_transport_ops socket_ops = {
    "socket", sock_read, sock_write, NULL, sock_wants, sock_destroy,
};

struct imc_transport *imc_socket_transport_new(int fd)
{
    struct sock *s = xzmalloc(sizeof *s);
    s->base.ops = &socket_ops;
    s->base.fd = fd;
    imc_buf_init(&s->held);
    s->held.wipe = 1;
    return &s->base;
}

int imc_socket_flush_held(struct imc_transport *t)
{
    if (push_held((struct sock *)t) < 0 && errno != EAGAIN)
        return -1;
    return 0;
}

/* ---- the layer while connecting ------------------------------------------- */

struct connecting {
    struct imc_transport base;
    struct imc_dial *dial;
    struct imc_buf held;
};

static ssize_t connecting_read(struct imc_transport *t, char *buf, size_t len)
{
    (void)t;
    (void)buf;
    (void)len;
    errno = EAGAIN;
    return -1;
}

/*
 * Accepting the bytes (rather than "not now") empties the session's queue:
 * with bytes waiting there, imclient_close() would give them its two
 * seconds to leave through a descriptor that never turns writable, and
 * loops would be asked to wait for writing where nothing can be written.
 */
static ssize_t connecting_write(struct imc_transport *t, const char *buf, size_t len)
{
    struct connecting *k = (struct connecting *)t;
    imc_buf_append(&k->held, buf, len);
    return (ssize_t)len;
}

static void connecting_destroy(struct imc_transport *t)
{
    struct connecting *k = (struct connecting *)t;
    imc_dial_free(k->dial);
    imc_buf_free(&k->held);
    free(k);
}

static const struct imc_transport_ops connecting_ops = {
    "connecting", connecting_read, connecting_write, NULL, NULL, connecting_destroy,
};

struct imc_transport *imc_socket_connecting_new(struct imc_dial *d)
{
    struct connecting *k = xzmalloc(sizeof *k);
    k->base.ops = &connecting_ops;
    k->base.fd = imc_dial_fd(d);
    k->dial = d;
    imc_buf_init(&k->held);
    k->held.wipe = 1;
    return &k->base;
}

struct imc_dial *imc_socket_connecting_dial(struct imc_transport *t)
{
    return ((struct connecting *)t)->dial;
}

struct imc_transport *imc_socket_connected(struct imc_transport *t)
{
    struct connecting *k = (struct connecting *)t;
    struct sock *s = (struct sock *)imc_socket_transport_new(imc_dial_take_socket(k->dial));
    /* The buffer moves whole: no copy of its bytes is left behind. */
    struct imc_buf empty = s->held;
    s->held = k->held;
    k->held = empty;
    connecting_destroy(t);
    return &s->base;
}
