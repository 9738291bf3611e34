#include "mocktransport.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

static ssize_t mock_read(struct imc_transport *t, char *buf, size_t len)
{
    struct mock_transport *m = (struct mock_transport *)t;
    m->reads++;
    if (m->read_errno) {
        errno = m->read_errno;
        return -1;
    }
    if (m->inpos >= m->inlen) {
        if (m->eof_at_end)
            return 0;
        errno = EAGAIN;
        return -1;
    }
    /* The pause falls between pieces only: at the end of the input the
     * reader learns of EOF or EAGAIN at once, as from a socket. */
    if (m->pause_due) {
        m->pause_due = 0;
        errno = EAGAIN;
        return -1;
    }
    size_t n = m->inlen - m->inpos;
    if (m->read_piece && n > m->read_piece)
        n = m->read_piece;
    if (n > len)
        n = len;
    memcpy(buf, m->input + m->inpos, n);
    m->inpos += n;
    m->pause_due = m->read_pause;
    return (ssize_t)n;
}

static ssize_t mock_write(struct imc_transport *t, const char *buf, size_t len)
{
    struct mock_transport *m = (struct mock_transport *)t;
    m->writes++;
    if (m->write_errno) {
        errno = m->write_errno;
        return -1;
    }
    if ((m->write_eagain_every && m->writes % m->write_eagain_every == 0) ||
        (m->write_room == 0 && len > 0)) {
        errno = EAGAIN;
        return -1;
    }
    size_t n = len;
    if (m->write_piece && n > m->write_piece)
        n = m->write_piece;
    if (n > m->write_room)
        n = m->write_room;
    imc_buf_append(&m->written, buf, n);
    if (m->write_room != SIZE_MAX)
        m->write_room -= n;
    return (ssize_t)n;
}

/* The mock lives in the test's own storage, so destroy only notes that
 * the layer above let go of it, which tests of ownership check. */
static void mock_destroy(struct imc_transport *t)
{
    ((struct mock_transport *)t)->destroyed = 1;
}

static const struct imc_transport_ops mock_ops = {
    "mock", mock_read, mock_write, NULL, NULL, mock_destroy,
};

void mock_transport_init(struct mock_transport *m)
{
    memset(m, 0, sizeof *m);
    m->base.ops = &mock_ops;
    m->base.fd = -1;
    m->write_room = SIZE_MAX;
    imc_buf_init(&m->written);
}

void mock_transport_input(struct mock_transport *m, const void *data, size_t len)
{
    m->input = data;
    m->inlen = len;
    m->inpos = 0;
    m->pause_due = 0;
}

void mock_transport_free(struct mock_transport *m)
{
    imc_buf_free(&m->written);
}
