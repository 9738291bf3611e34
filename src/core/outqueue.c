#include "core/outqueue.h"

#include <string.h>

#include "cyrus/xmalloc.h"

void imc_outq_init(struct imc_outq *q)
{
    memset(q, 0, sizeof *q);
    imc_buf_init(&q->buf);
}

void imc_outq_free(struct imc_outq *q)
{
    imc_buf_free(&q->buf);
    free(q->barriers);
    memset(q, 0, sizeof *q);
}

void imc_outq_append(struct imc_outq *q, const void *data, size_t len)
{
    imc_buf_append(&q->buf, data, len);
}

uint64_t imc_outq_end(const struct imc_outq *q)
{
    return q->base + q->buf.len;
}

uint64_t imc_outq_sent(const struct imc_outq *q)
{
    return q->base + q->head;
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
    struct imc_outq_mark m = { q->buf.len, q->nbarriers };
    return m;
}

void imc_outq_rollback(struct imc_outq *q, struct imc_outq_mark m)
{
    imc_buf_truncate(&q->buf, m.len);
    q->nbarriers = m.nbarriers;
}

const char *imc_outq_writable(const struct imc_outq *q, size_t *len)
{
    size_t stop = q->buf.len;
    if (q->nbarriers > 0) {
        size_t at = (size_t)(q->barriers[0].at - q->base);
        if (at < stop)
            stop = at;
    }
    *len = stop - q->head;
    return q->buf.data ? q->buf.data + q->head : "";
}

void imc_outq_consume(struct imc_outq *q, size_t n)
{
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
    return q->nbarriers > 0 && q->barriers[0].at == imc_outq_sent(q);
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
    /* Only bytes behind a barrier are dropped; none of them was sent. */
    imc_buf_cut(&q->buf, (size_t)(from - q->base), (size_t)(to - q->base));
    uint64_t cut = to - from;
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

size_t imc_outq_pending(const struct imc_outq *q)
{
    return q->buf.len - q->head;
}
