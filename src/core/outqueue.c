#include "core/outqueue.h"

#include <stdio.h>
#include <string.h>

#include "cyrus/xmalloc.h"
#include "util/bigmem.h"

/*
 * Sources take no room in the buffer.  The buffer's byte k lies at stream
 * offset base + k plus the sizes of the sources before it, and source i
 * sits before the buffer index at - base - (sizes of sources 0..i-1).  A
 * source leaves the array once written whole, its size going into base.
 */

void imc_outq_init(struct imc_outq *q)
{
    memset(q, 0, sizeof *q);
    imc_buf_init(&q->buf);
    imc_buf_init(&q->chunk);
}

static void drop_sources(struct imc_outq *q, size_t from)
{
    for (size_t i = from; i < q->nsrcs; i++)
        free(q->srcs[i].block);
    if (from == 0) {
        q->chunk.len = 0;
        q->chunkhead = 0;
    }
    q->nsrcs = from;
}

void imc_outq_free(struct imc_outq *q)
{
    drop_sources(q, 0);
    imc_buf_free(&q->buf);
    imc_buf_free(&q->chunk);
    free(q->barriers);
    free(q->secrets);
    free(q->srcs);
    memset(q, 0, sizeof *q);
}

void imc_outq_append(struct imc_outq *q, const void *data, size_t len)
{
    imc_buf_append(&q->buf, data, len);
}

void imc_outq_reserve(struct imc_outq *q, size_t len)
{
    imc_buf_reserve(&q->buf, len);
}

static uint64_t sources_size(const struct imc_outq *q)
{
    uint64_t n = 0;
    for (size_t i = 0; i < q->nsrcs; i++)
        n += q->srcs[i].size;
    return n;
}

uint64_t imc_outq_end(const struct imc_outq *q)
{
    return q->base + q->buf.len + (q->nsrcs ? sources_size(q) : 0);
}

/* The buffer index before which source i sits. */
static size_t source_pos(const struct imc_outq *q, size_t i)
{
    uint64_t before = 0;
    for (size_t j = 0; j < i; j++)
        before += q->srcs[j].size;
    return (size_t)(q->srcs[i].at - q->base - before);
}

/* The buffer index of stream offset off, which lies in the buffer or just
 * before a source. */
static size_t index_of(const struct imc_outq *q, uint64_t off)
{
    uint64_t skip = 0;
    for (size_t i = 0; i < q->nsrcs && q->srcs[i].at < off; i++)
        skip += q->srcs[i].size;
    return (size_t)(off - q->base - skip);
}

/* The first source is being written: every buffer byte before it is. */
static int in_source(const struct imc_outq *q)
{
    return q->nsrcs > 0 && source_pos(q, 0) == q->head;
}

uint64_t imc_outq_sent(const struct imc_outq *q)
{
    if (in_source(q))
        return q->srcs[0].at + q->srcs[0].sent;
    return q->base + q->head;
}

static struct imc_outq_source *new_source(struct imc_outq *q, uint64_t tag, uint64_t size)
{
    if (q->nsrcs == q->capsrcs) {
        q->capsrcs = q->capsrcs ? q->capsrcs * 2 : 2;
        q->srcs = xrealloc(q->srcs, q->capsrcs * sizeof *q->srcs);
    }
    struct imc_outq_source *src = &q->srcs[q->nsrcs];
    memset(src, 0, sizeof *src);
    src->at = imc_outq_end(q);
    src->size = size;
    src->tag = tag;
    q->nsrcs++;
    return src;
}

void imc_outq_append_block(struct imc_outq *q, uint64_t tag, const void *data, size_t len)
{
    /* Huge pages only where their rounding is small beside the block. */
    char *block = len >= ((size_t)2 << 20) ? imc_bigmem_alloc(len) : xmalloc(len ? len : 1);
    memcpy(block, data, len);
    struct imc_outq_source *src = new_source(q, tag, len);
    src->block = block;
    src->ended = 1;
}

void imc_outq_append_source(struct imc_outq *q, uint64_t tag,
                            const struct imclient_literal_source *from)
{
    struct imc_outq_source *src = new_source(q, tag, from->size);
    src->from = *from;
}

/* The first source is written whole. */
static void source_done(struct imc_outq *q)
{
    free(q->srcs[0].block);
    q->base += q->srcs[0].size;
    memmove(q->srcs, q->srcs + 1, (q->nsrcs - 1) * sizeof *q->srcs);
    q->nsrcs--;
    q->chunk.len = 0;
    q->chunkhead = 0;
}

static int waiting_at(const struct imc_outq *q, uint64_t off)
{
    return q->nbarriers > 0 && q->barriers[0].at == off;
}

int imc_outq_fill(struct imc_outq *q, imc_outq_pull_fn *pull, char *why, size_t whylen)
{
    while (in_source(q) && !waiting_at(q, imc_outq_sent(q))) {
        struct imc_outq_source *src = &q->srcs[0];
        if (src->block || q->chunkhead < q->chunk.len)
            return 0; /* bytes at hand */
        if (src->pulled < src->size) {
            uint64_t left = src->size - src->pulled;
            size_t want = left < IMC_OUTQ_CHUNK ? (size_t)left : IMC_OUTQ_CHUNK;
            q->chunk.len = q->chunkhead = 0;
            if (q->chunk.cap < want) {
                /* Exactly one chunk (the buffer's growth would double it). */
                free(q->chunk.data);
                q->chunk.cap = IMC_OUTQ_CHUNK;
                q->chunk.data = xmalloc(q->chunk.cap);
            }
            long n = pull(&src->from, q->chunk.data, want, why, whylen);
            if (n < 0)
                return -1;
            if (n == 0) {
                snprintf(why, whylen, "literal source ended after %llu of its %llu bytes",
                         (unsigned long long)src->pulled, (unsigned long long)src->size);
                return -1;
            }
            if ((size_t)n > want) {
                snprintf(why, whylen, "literal source gave %ld bytes where %zu were asked for",
                         n, want);
                return -1;
            }
            q->chunk.len = (size_t)n;
            src->pulled += (uint64_t)n;
        }
        if (src->pulled == src->size && !src->ended) {
            /* More bytes than announced would be read by the server as
             * the next command: refuse before the last chunk goes. */
            char extra[1];
            long n = pull(&src->from, extra, sizeof extra, why, whylen);
            if (n < 0)
                return -1;
            if (n > 0) {
                snprintf(why, whylen, "literal source has more than its %llu bytes",
                         (unsigned long long)src->size);
                return -1;
            }
            src->ended = 1;
        }
        if (q->chunkhead < q->chunk.len)
            return 0;
        source_done(q); /* an empty literal: nothing to write */
    }
    return 0;
}

int imc_outq_from_source(const struct imc_outq *q, uint64_t *size)
{
    if (!in_source(q) || q->srcs[0].block)
        return 0;
    *size = q->srcs[0].size;
    return q->srcs[0].sent == 0 ? 1 : 2;
}

int imc_outq_has_source(const struct imc_outq *q, uint64_t tag)
{
    for (size_t i = 0; i < q->nsrcs; i++)
        if (q->srcs[i].tag == tag && !q->srcs[i].block)
            return 1;
    return 0;
}

void imc_outq_barrier(struct imc_outq *q, uint64_t tag)
{
    if (q->nbarriers == q->capbarriers) {
        q->capbarriers = q->capbarriers ? q->capbarriers * 2 : 4;
        q->barriers = xrealloc(q->barriers, q->capbarriers * sizeof *q->barriers);
    }
    struct imc_barrier *b = &q->barriers[q->nbarriers++];
    b->at = imc_outq_end(q);
    b->end = 0;
    b->tag = tag;
}

void imc_outq_end_command(struct imc_outq *q, uint64_t tag)
{
    for (size_t i = q->nbarriers; i-- > 0 && q->barriers[i].tag == tag;)
        q->barriers[i].end = imc_outq_end(q);
}

struct imc_outq_mark imc_outq_mark(const struct imc_outq *q)
{
    struct imc_outq_mark m = { q->buf.len, q->nbarriers, q->nsrcs };
    return m;
}

/* Forget secret spans that end at or before offset, or begin at or after
 * offset when after is set; the queue stops wiping once none is left. */
static void drop_secrets(struct imc_outq *q, uint64_t offset, int after)
{
    size_t k = 0;
    for (size_t i = 0; i < q->nsecrets; i++) {
        struct imc_span sp = q->secrets[i];
        if (after ? sp.from >= offset : sp.to <= offset)
            continue;
        q->secrets[k++] = sp;
    }
    q->nsecrets = k;
    if (k == 0)
        q->buf.wipe = 0;
}

void imc_outq_rollback(struct imc_outq *q, struct imc_outq_mark m)
{
    imc_buf_truncate(&q->buf, m.len);
    q->nbarriers = m.nbarriers;
    if (q->nsrcs > m.nsrcs)
        drop_sources(q, m.nsrcs);
    drop_secrets(q, imc_outq_end(q), 1);
}

void imc_outq_secret(struct imc_outq *q, uint64_t from, uint64_t to)
{
    if (from >= to)
        return;
    if (q->nsecrets == q->capsecrets) {
        q->capsecrets = q->capsecrets ? q->capsecrets * 2 : 4;
        q->secrets = xrealloc(q->secrets, q->capsecrets * sizeof *q->secrets);
    }
    q->secrets[q->nsecrets].from = from;
    q->secrets[q->nsecrets].to = to;
    q->nsecrets++;
    q->buf.wipe = 1;
}

/* Secrets are only ever in the buffer (the encoder puts no secret in a
 * source), so a write from a source holds none. */
int imc_outq_redact(const struct imc_outq *q, size_t n, struct imc_buf *out)
{
    if (in_source(q))
        return 0;
    uint64_t at = imc_outq_sent(q), end = at + n;
    const char *data = q->buf.data + q->head;
    int hid = 0;
    for (size_t i = 0; i < q->nsecrets; i++) {
        uint64_t from = q->secrets[i].from, to = q->secrets[i].to;
        if (to <= at || from >= end)
            continue;
        if (from > at)
            imc_buf_append(out, data + (at - imc_outq_sent(q)), (size_t)(from - at));
        imc_buf_appendstr(out, "[redacted]");
        at = to < end ? to : end;
        hid = 1;
    }
    if (hid && at < end)
        imc_buf_append(out, data + (at - imc_outq_sent(q)), (size_t)(end - at));
    return hid;
}

const char *imc_outq_writable(const struct imc_outq *q, size_t *len)
{
    if (in_source(q)) {
        const struct imc_outq_source *src = &q->srcs[0];
        if (waiting_at(q, src->at + src->sent)) {
            *len = 0;
            return "";
        }
        if (src->block) {
            *len = (size_t)(src->size - src->sent);
            return src->block + src->sent;
        }
        *len = q->chunk.len - q->chunkhead;
        return q->chunk.data ? q->chunk.data + q->chunkhead : "";
    }
    size_t stop = q->buf.len;
    if (q->nsrcs > 0) {
        size_t at = source_pos(q, 0);
        if (at < stop)
            stop = at;
    }
    if (q->nbarriers > 0) {
        size_t at = index_of(q, q->barriers[0].at);
        if (at < stop)
            stop = at;
    }
    *len = stop - q->head;
    return q->buf.data ? q->buf.data + q->head : "";
}

void imc_outq_consume(struct imc_outq *q, size_t n)
{
    if (in_source(q)) {
        struct imc_outq_source *src = &q->srcs[0];
        src->sent += n;
        if (!src->block)
            q->chunkhead += n;
        if (src->sent == src->size && src->ended)
            source_done(q);
        return;
    }
    if (q->nsecrets > 0) {
        /* Written: a password has no business staying in our memory. */
        explicit_bzero(q->buf.data + q->head, n);
        drop_secrets(q, imc_outq_sent(q) + n, 0);
    }
    q->head += n;
    if (q->head == q->buf.len) {
        q->base += q->buf.len;
        q->buf.len = 0;
        q->head = 0;
    } else if (q->head > 65536 && q->head > q->buf.len / 2) {
        /* Compact once the sent prefix dominates, so memory follows what is
         * still unsent while each byte is moved O(1) times on average. */
        imc_buf_consume(&q->buf, q->head);
        q->base += q->head;
        q->head = 0;
    }
}

int imc_outq_waiting(const struct imc_outq *q)
{
    return waiting_at(q, imc_outq_sent(q));
}

uint64_t imc_outq_waiting_tag(const struct imc_outq *q)
{
    return imc_outq_waiting(q) ? q->barriers[0].tag : 0;
}

void imc_outq_release(struct imc_outq *q)
{
    if (q->nbarriers == 0)
        return;
    memmove(q->barriers, q->barriers + 1, (q->nbarriers - 1) * sizeof *q->barriers);
    q->nbarriers--;
}

/* Secret spans follow a cut of [from, to), which runs to the end of a
 * command: spans inside it go, a span it began in keeps what is left of
 * it (a literal's "{n}" already sent), later spans move down. */
static void cut_secrets(struct imc_outq *q, uint64_t from, uint64_t to)
{
    size_t k = 0;
    for (size_t i = 0; i < q->nsecrets; i++) {
        struct imc_span sp = q->secrets[i];
        if (sp.from >= from && sp.from < to)
            continue;
        if (sp.from >= to) {
            sp.from -= to - from;
            sp.to -= to - from;
        } else if (sp.to > from) {
            sp.to = from;
        }
        q->secrets[k++] = sp;
    }
    q->nsecrets = k;
    if (k == 0)
        q->buf.wipe = 0;
}

/* Sources inside the cut [from, to) go unread; later ones move down. */
static void cut_sources(struct imc_outq *q, uint64_t from, uint64_t to)
{
    size_t k = 0;
    for (size_t i = 0; i < q->nsrcs; i++) {
        struct imc_outq_source src = q->srcs[i];
        if (src.at >= from && src.at < to) {
            free(src.block);
            continue;
        }
        if (src.at >= to)
            src.at -= to - from;
        q->srcs[k++] = src;
    }
    q->nsrcs = k;
}

uint64_t imc_outq_cancel(struct imc_outq *q, uint64_t tag, uint64_t *fromp)
{
    size_t first = 0;
    while (first < q->nbarriers && q->barriers[first].tag != tag)
        first++;
    if (first == q->nbarriers)
        return 0;
    uint64_t from = q->barriers[first].at;
    uint64_t to = q->barriers[first].end;
    *fromp = from;
    /* Only bytes behind a barrier are dropped; none of them was sent.  The
     * first source, being written, lies before every barrier. */
    imc_buf_cut(&q->buf, index_of(q, from), index_of(q, to));
    uint64_t cut = to - from;
    cut_sources(q, from, to);
    cut_secrets(q, from, to);
    drop_secrets(q, imc_outq_sent(q), 0); /* what is left of one may be sent */
    size_t k = first;
    for (size_t i = first; i < q->nbarriers; i++) {
        if (q->barriers[i].tag == tag)
            continue;
        q->barriers[k] = q->barriers[i];
        q->barriers[k].at -= cut;
        q->barriers[k].end -= cut;
        k++;
    }
    q->nbarriers = k;
    return cut;
}

void imc_outq_trim(struct imc_outq *q)
{
    if (q->nsrcs > 0)
        return; /* buffer indices still place them */
    q->base += q->buf.len;
    q->head = 0;
    imc_buf_free(&q->buf);
    imc_buf_free(&q->chunk);
    q->chunkhead = 0;
}

size_t imc_outq_pending(const struct imc_outq *q)
{
    size_t n = q->buf.len - q->head;
    for (size_t i = 0; i < q->nsrcs; i++)
        n += (size_t)(q->srcs[i].size - q->srcs[i].sent);
    return n;
}
