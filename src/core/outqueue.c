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
    free(q->secrets);
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
    drop_secrets(q, q->base + m.len, 1);
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

int imc_outq_redact(const struct imc_outq *q, size_t n, struct imc_buf *out)
{
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
    q->base += q->buf.len;
    q->head = 0;
    imc_buf_free(&q->buf);
}

size_t imc_outq_pending(const struct imc_outq *q)
{
    return q->buf.len - q->head;
}
