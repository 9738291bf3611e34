#include "transport/sasl_layer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cyrus/xmalloc.h"
#include "transport/encoded_out.h"
#include "util/buf.h"

/* Bytes asked of the layer below per read. */
#define LOWER_CHUNK (64 * 1024)

struct sasl_layer {
    struct imc_transport base; /* first: the layer is used as an imc_transport */
    sasl_conn_t *conn;
    void *keep;                /* what conn's callbacks point into */
    unsigned maxout;           /* plaintext per sasl_encode() call */

    struct imc_buf in;         /* decoded, not yet read: in.data[inpos, in.len) */
    size_t inpos;

    struct imc_encoded_out out; /* encoded bytes waiting for the layer below */

    char *chunk;               /* LOWER_CHUNK bytes for reads from below */
};

static struct sasl_layer *layer_of(struct imc_transport *t)
{
    return (struct sasl_layer *)t;
}

/* libsasl2 keeps the last message a plugin set on the connection and
 * reports it with any later failure, so a packet rejected without a word
 * would be blamed on something said during authentication.  Each call
 * starts with the message cleared; the failure is then named by its own
 * code and by what the plugin said about it, if anything. */
static void forget_detail(struct sasl_layer *l)
{
    sasl_seterror(l->conn, SASL_NOLOG, "%s", "");
}

static ssize_t protocol_error(struct sasl_layer *l, const char *what, int rc)
{
    const char *detail = sasl_errdetail(l->conn);
    const char *said = detail ? strrchr(detail, ':') : NULL;
    said = said && said[1] == ' ' && said[2] ? said + 2 : NULL;
    snprintf(l->base.error, sizeof l->base.error, "SASL security layer: %s: %s%s%s", what,
             sasl_errstring(rc, NULL, NULL), said ? ": " : "", said ? said : "");
    errno = EPROTO;
    return -1;
}

static size_t held(const struct sasl_layer *l)
{
    return l->in.len - l->inpos;
}

/* Decode what came from below; sasl_decode() keeps a partial packet
 * itself, so any split of the stream is fine. */
static int decode(struct sasl_layer *l, const char *data, size_t len)
{
    while (len > 0) {
        /* sasl_decode() takes an unsigned length. */
        unsigned piece = len > LOWER_CHUNK ? LOWER_CHUNK : (unsigned)len;
        const char *plain = NULL;
        unsigned plainlen = 0;
        forget_detail(l);
        int rc = sasl_decode(l->conn, data, piece, &plain, &plainlen);
        if (rc != SASL_OK)
            return (int)protocol_error(l, "cannot decode data from the server", rc);
        if (plainlen > 0) {
            if (held(l) == 0) {
                l->in.len = 0;
                l->inpos = 0;
            }
            imc_buf_append(&l->in, plain, plainlen);
        }
        data += piece;
        len -= piece;
    }
    return 0;
}

static ssize_t take_held(struct sasl_layer *l, char *buf, size_t len)
{
    size_t n = held(l) < len ? held(l) : len;
    memcpy(buf, l->in.data + l->inpos, n);
    l->inpos += n;
    return (ssize_t)n;
}

static ssize_t layer_read(struct imc_transport *t, char *buf, size_t len)
{
    struct sasl_layer *l = layer_of(t);
    t->error[0] = '\0';
    /* A read from below may end mid-packet and decode to nothing; keep
     * reading until plaintext appears or the layer below has no more. */
    while (held(l) == 0) {
        ssize_t n = imc_transport_read(t->lower, l->chunk, LOWER_CHUNK);
        if (n <= 0) {
            if (n < 0 && t->lower->error[0])
                snprintf(t->error, sizeof t->error, "%s", t->lower->error);
            return n;
        }
        if (decode(l, l->chunk, (size_t)n) < 0)
            return -1;
    }
    return take_held(l, buf, len);
}

static ssize_t layer_write(struct imc_transport *t, const char *buf, size_t len)
{
    struct sasl_layer *l = layer_of(t);
    t->error[0] = '\0';
    if (l->out.plain > 0) /* the caller offers the chunk again */
        return imc_encoded_out_retry(&l->out, t, len, "SASL security layer");
    if (len == 0)
        return 0;
    unsigned n = len > l->maxout ? l->maxout : (unsigned)len;
    const char *enc = NULL;
    unsigned enclen = 0;
    forget_detail(l);
    int rc = sasl_encode(l->conn, buf, n, &enc, &enclen);
    if (rc != SASL_OK)
        return protocol_error(l, "cannot encode data for the server", rc);
    /* sasl_encode()'s output lives only until its next call. */
    imc_buf_append(&l->out.bytes, enc, enclen);
    return imc_encoded_out_commit(&l->out, t, n);
}

static size_t layer_buffered(const struct imc_transport *t)
{
    const struct sasl_layer *l = (const struct sasl_layer *)t;
    return held(l) + imc_transport_buffered(t->lower);
}

static int layer_wants(const struct imc_transport *t)
{
    const struct sasl_layer *l = (const struct sasl_layer *)t;
    int w = imc_transport_wants(t->lower);
    if (imc_encoded_out_waiting(&l->out))
        w |= IMC_WANT_WRITE;
    return w;
}

static void layer_destroy(struct imc_transport *t)
{
    struct sasl_layer *l = layer_of(t);
    sasl_dispose(&l->conn);
    free(l->keep);
    imc_transport_destroy(t->lower);
    /* Decoded text may hold mail; do not leave it in freed memory. */
    if (l->in.data)
        memset(l->in.data, 0, l->in.cap);
    imc_buf_free(&l->in);
    imc_encoded_out_free(&l->out);
    free(l->chunk);
    free(l);
}

static const struct imc_transport_ops sasl_layer_ops = {
    "sasl", layer_read, layer_write, layer_buffered, layer_wants, layer_destroy,
};

struct imc_transport *imc_sasl_layer_new(struct imc_transport *lower, sasl_conn_t *conn,
                                         void *keep, char *err, size_t errlen)
{
    const void *p = NULL;
    if (sasl_getprop(conn, SASL_MAXOUTBUF, &p) != SASL_OK || !p) {
        snprintf(err, errlen, "SASL security layer: no maximum packet size: %s",
                 sasl_errdetail(conn));
        return NULL;
    }
    unsigned maxout = *(const unsigned *)p;
    if (maxout == 0) {
        snprintf(err, errlen, "SASL security layer: the server accepts no data");
        return NULL;
    }
    struct sasl_layer *l = xzmalloc(sizeof *l);
    l->base.ops = &sasl_layer_ops;
    l->base.lower = lower;
    l->base.fd = lower->fd;
    l->conn = conn;
    l->keep = keep;
    l->maxout = maxout;
    imc_buf_init(&l->in);
    imc_encoded_out_init(&l->out);
    l->chunk = xmalloc(LOWER_CHUNK);
    return &l->base;
}

int imc_sasl_layer_unread(struct imc_transport *t, const char *data, size_t len)
{
    return decode(layer_of(t), data, len);
}

size_t imc_sasl_layer_held(const struct imc_transport *t)
{
    return held((const struct sasl_layer *)t);
}
