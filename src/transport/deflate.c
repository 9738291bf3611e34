#include "transport/deflate.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cyrus/xmalloc.h"
#include "transport/encoded_out.h"
#include "util/buf.h"

/* Compressed bytes asked of the layer below per read. */
#define IN_CHUNK (16 * 1024)
/* Plaintext compressed per write: bounds the compressed bytes held. */
#define WRITE_CHUNK (64 * 1024)
/* Output room per deflate() call; over six so a sync flush never has to
 * be repeated for lack of space (zlib's advice). */
#define OUT_STEP (16 * 1024)
/* RFC 4978: raw deflate; a negative window size tells zlib to omit the
 * header and the checksum.  15: the largest window, which the server may
 * have used. */
#define RAW_WINDOW (-15)

struct deflate_layer {
    struct imc_transport base; /* first: the layer is used as an imc_transport */
    z_stream inz;              /* server to us */
    z_stream outz;             /* us to server */
    int inz_ready, outz_ready; /* initialised, so end them */
    size_t zlib_bytes;         /* allocated by zlib for both streams */

    char *in;                  /* compressed input; inz.next_in points into it */
    size_t incap;
    int out_full;              /* the last inflate filled the caller's buffer, so
                                  more output may be ready without more input */
    int in_ended;              /* the server ended its deflate stream */

    struct imc_encoded_out out; /* compressed bytes waiting for the layer below */
};

static struct deflate_layer *layer_of(struct imc_transport *t)
{
    return (struct deflate_layer *)t;
}

/* ---- zlib's memory, counted ------------------------------------------- */

/* Each block carries its size in front, so the count can go down again. */
union zblock_head {
    size_t size;
    max_align_t align;
};

static voidpf zalloc_counted(voidpf opaque, uInt items, uInt size)
{
    struct deflate_layer *l = opaque;
    size_t n = (size_t)items * size;
    union zblock_head *h = malloc(sizeof *h + n);
    if (!h)
        return Z_NULL;
    h->size = n;
    l->zlib_bytes += n;
    return h + 1;
}

static void zfree_counted(voidpf opaque, voidpf p)
{
    struct deflate_layer *l = opaque;
    if (!p)
        return;
    union zblock_head *h = (union zblock_head *)p - 1;
    l->zlib_bytes -= h->size;
    free(h);
}

/* ---- reading ------------------------------------------------------------ */

static ssize_t corrupt(struct deflate_layer *l, const char *why)
{
    snprintf(l->base.error, sizeof l->base.error, "compressed stream is corrupt: %s",
             why ? why : "inflate failed");
    errno = EPROTO;
    return -1;
}

/* Inflate what input there is into buf.  Returns the bytes produced (0 when
 * the input is used up), or -1 with the error set. */
static ssize_t inflate_into(struct deflate_layer *l, char *buf, size_t len)
{
    if (l->in_ended) {
        if (l->inz.avail_in > 0)
            return corrupt(l, "data after the end of the compressed stream");
        return 0;
    }
    uInt room = len > UINT_MAX ? UINT_MAX : (uInt)len;
    l->inz.next_out = (Bytef *)buf;
    l->inz.avail_out = room;
    int z = inflate(&l->inz, Z_SYNC_FLUSH);
    size_t produced = room - l->inz.avail_out;
    switch (z) {
    case Z_OK:
    case Z_BUF_ERROR: /* no progress possible: the input is used up */
        break;
    case Z_STREAM_END:
        l->in_ended = 1;
        break;
    case Z_MEM_ERROR:
        snprintf(l->base.error, sizeof l->base.error, "inflate: out of memory");
        errno = ENOMEM;
        return -1;
    default:
        return corrupt(l, l->inz.msg);
    }
    l->out_full = z != Z_STREAM_END && l->inz.avail_out == 0;
    return (ssize_t)produced;
}

static ssize_t layer_read(struct imc_transport *t, char *buf, size_t len)
{
    struct deflate_layer *l = layer_of(t);
    t->error[0] = '\0';
    if (len == 0)
        return 0;
    /* A read from below may end inside a block and inflate to nothing;
     * keep reading until plaintext appears or the layer below is dry. */
    for (;;) {
        if (l->inz.avail_in > 0 || l->out_full) {
            ssize_t n = inflate_into(l, buf, len);
            if (n != 0)
                return n;
        }
        ssize_t got = imc_transport_read(t->lower, l->in, l->incap);
        if (got <= 0) {
            if (got < 0 && t->lower->error[0])
                snprintf(t->error, sizeof t->error, "%s", t->lower->error);
            return got;
        }
        l->inz.next_in = (Bytef *)l->in;
        l->inz.avail_in = (uInt)got;
    }
}

void imc_deflate_unread(struct imc_transport *t, const char *data, size_t len)
{
    struct deflate_layer *l = layer_of(t);
    if (len == 0)
        return;
    /* Called once, on a fresh layer, with at most one read's worth. */
    size_t have = l->inz.avail_in;
    size_t need = have + len;
    if (need > l->incap) {
        char *bigger = xmalloc(need);
        if (have > 0)
            memcpy(bigger, l->inz.next_in, have);
        free(l->in);
        l->in = bigger;
        l->incap = need;
    } else if (have > 0) {
        memmove(l->in, l->inz.next_in, have);
    }
    memcpy(l->in + have, data, len);
    l->inz.next_in = (Bytef *)l->in;
    l->inz.avail_in = (uInt)need;
}

/* ---- writing ------------------------------------------------------------ */

/* Compress len bytes and flush them to a byte boundary, so the server can
 * inflate all of it now. */
static int compress_chunk(struct deflate_layer *l, const char *buf, size_t len)
{
    l->outz.next_in = (Bytef *)buf;
    l->outz.avail_in = (uInt)len;
    do {
        imc_buf_reserve(&l->out.bytes, OUT_STEP);
        uInt room = (uInt)(l->out.bytes.cap - l->out.bytes.len - 1);
        l->outz.next_out = (Bytef *)l->out.bytes.data + l->out.bytes.len;
        l->outz.avail_out = room;
        int z = deflate(&l->outz, Z_SYNC_FLUSH);
        l->out.bytes.len += room - l->outz.avail_out;
        if (z != Z_OK && z != Z_BUF_ERROR) {
            snprintf(l->base.error, sizeof l->base.error, "deflate failed: %s",
                     l->outz.msg ? l->outz.msg : "stream error");
            errno = EPROTO;
            return -1;
        }
    } while (l->outz.avail_out == 0);
    return 0;
}

static ssize_t layer_write(struct imc_transport *t, const char *buf, size_t len)
{
    struct deflate_layer *l = layer_of(t);
    t->error[0] = '\0';
    if (l->out.plain > 0) /* the caller offers the chunk again */
        return imc_encoded_out_retry(&l->out, t, len, "deflate layer");
    if (len == 0)
        return 0;
    size_t n = len > WRITE_CHUNK ? WRITE_CHUNK : len;
    if (compress_chunk(l, buf, n) < 0)
        return -1;
    return imc_encoded_out_commit(&l->out, t, n);
}

/* ---- the rest of the interface ------------------------------------------ */

int imc_deflate_held(const struct imc_transport *t)
{
    const struct deflate_layer *l = (const struct deflate_layer *)t;
    return l->inz.avail_in > 0 || l->out_full;
}

static size_t layer_buffered(const struct imc_transport *t)
{
    /* The exact plaintext count is unknown until inflated; any nonzero
     * value makes the caller read. */
    return (imc_deflate_held(t) ? 1 : 0) + imc_transport_buffered(t->lower);
}

static int layer_wants(const struct imc_transport *t)
{
    const struct deflate_layer *l = (const struct deflate_layer *)t;
    int w = imc_transport_wants(t->lower);
    if (imc_encoded_out_waiting(&l->out))
        w |= IMC_WANT_WRITE;
    return w;
}

static void free_layer(struct deflate_layer *l)
{
    if (l->inz_ready)
        inflateEnd(&l->inz);
    if (l->outz_ready)
        deflateEnd(&l->outz);
    free(l->in);
    imc_encoded_out_free(&l->out);
    free(l);
}

static void layer_destroy(struct imc_transport *t)
{
    imc_transport_destroy(t->lower);
    free_layer(layer_of(t));
}

static const struct imc_transport_ops deflate_ops = {
    "deflate", layer_read, layer_write, layer_buffered, layer_wants, layer_destroy,
};

int imc_deflate_on_stack(const struct imc_transport *t)
{
    for (; t; t = t->lower)
        if (t->ops == &deflate_ops)
            return 1;
    return 0;
}

size_t imc_deflate_footprint(const struct imc_transport *t)
{
    const struct deflate_layer *l = (const struct deflate_layer *)t;
    return sizeof *l + l->incap + l->out.bytes.cap + l->zlib_bytes;
}

struct imc_transport *imc_deflate_new(struct imc_transport *lower, char *err, size_t errlen)
{
    struct deflate_layer *l = xzmalloc(sizeof *l);
    l->base.ops = &deflate_ops;
    l->base.lower = lower;
    l->base.fd = lower->fd;
    l->inz.zalloc = l->outz.zalloc = zalloc_counted;
    l->inz.zfree = l->outz.zfree = zfree_counted;
    l->inz.opaque = l->outz.opaque = l;
    int zi = inflateInit2(&l->inz, RAW_WINDOW);
    l->inz_ready = zi == Z_OK;
    int zo = deflateInit2(&l->outz, Z_DEFAULT_COMPRESSION, Z_DEFLATED, RAW_WINDOW, 8,
                          Z_DEFAULT_STRATEGY);
    l->outz_ready = zo == Z_OK;
    if (!l->inz_ready || !l->outz_ready) {
        snprintf(err, errlen, "cannot start zlib: %s",
                 zError(zi != Z_OK ? zi : zo));
        free_layer(l);
        return NULL;
    }
    l->in = xmalloc(IN_CHUNK);
    l->incap = IN_CHUNK;
    imc_encoded_out_init(&l->out);
    return &l->base;
}
