/*
 * One layer of the byte stream between the session and the server: the
 * socket at the bottom, then optionally TLS, a SASL security layer and
 * DEFLATE (always on top) stacked on it.  Each layer owns the one below it.
 */
#ifndef IMC_TRANSPORT_H
#define IMC_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

#define IMC_WANT_READ  1
#define IMC_WANT_WRITE 2

struct imc_transport;

struct imc_transport_ops {
    const char *name;
    /* > 0: bytes read; 0: the peer ended the stream; -1: errno set,
     * EAGAIN meaning "nothing now, see wants()". */
    ssize_t (*read)(struct imc_transport *t, char *buf, size_t len);
    /* > 0: bytes accepted; -1: errno set, EAGAIN meaning "not now". */
    ssize_t (*write)(struct imc_transport *t, const char *buf, size_t len);
    /* Bytes held inside the layer that read() returns without waiting. */
    size_t (*buffered)(const struct imc_transport *t);
    /* Socket readiness the layer waits for (IMC_WANT_*), beyond the
     * caller's own wish to read. */
    int (*wants)(const struct imc_transport *t);
    /* Free this layer and every layer below it; closes the socket. */
    void (*destroy)(struct imc_transport *t);
};

struct imc_transport {
    const struct imc_transport_ops *ops;
    struct imc_transport *lower; /* NULL for the socket */
    int fd;                      /* the socket all layers sit on */
    char error[160];             /* why the last call failed, when not errno */
};

static inline ssize_t imc_transport_read(struct imc_transport *t, char *buf, size_t len)
{
    return t->ops->read(t, buf, len);
}

static inline ssize_t imc_transport_write(struct imc_transport *t, const char *buf,
                                          size_t len)
{
    return t->ops->write(t, buf, len);
}

static inline size_t imc_transport_buffered(const struct imc_transport *t)
{
    return t->ops->buffered ? t->ops->buffered(t) : 0;
}

static inline int imc_transport_wants(const struct imc_transport *t)
{
    return t->ops->wants ? t->ops->wants(t) : 0;
}

static inline void imc_transport_destroy(struct imc_transport *t)
{
    if (t)
        t->ops->destroy(t);
}

#endif
