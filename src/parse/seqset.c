/* sequence-set = (seq-number / seq-range) ["," sequence-set] (RFC 3501),
 * seq-number = nz-number / "*", and nz-number is 32-bit.  RFC 4315's
 * uid-set is the same without "*", so one walker serves both. */
#include <string.h>

#include "parse/parse_internal.h"

void imparse_seqset_begin(struct imparse_seqset *it, const struct imparse_str *s,
                          const char *base)
{
    memset(it, 0, sizeof *it);
    it->start = it->p = s->data;
    it->end = s->data ? s->data + s->len : NULL;
    it->base_pos = base && s->data ? (size_t)(s->data - base) : 0;
    if (s->type != IMPARSE_ATOM && s->type != IMPARSE_NUMBER) {
        it->err = IMPARSE_EUNEXPECTED;
        it->errpos = it->base_pos;
    }
}

static int fail(struct imparse_seqset *it, int err, const char *at)
{
    it->err = err;
    it->errpos = it->base_pos + (size_t)(at - it->start);
    return err;
}

static int seq_number(struct imparse_seqset *it, uint32_t *n)
{
    const char *at = it->p;
    if (it->p < it->end && *it->p == '*') {
        it->p++;
        *n = IMPARSE_STAR;
        return 0;
    }
    uint64_t v = 0;
    while (it->p < it->end && *it->p >= '0' && *it->p <= '9') {
        v = v * 10 + (uint64_t)(*it->p++ - '0');
        if (v > UINT32_MAX)
            return fail(it, IMPARSE_EOVERFLOW, at);
    }
    if (it->p == at || v == 0)
        return fail(it, IMPARSE_ESYNTAX, at);
    *n = (uint32_t)v;
    return 0;
}

int imparse_seqset_next(struct imparse_seqset *it, uint32_t *lo, uint32_t *hi)
{
    if (it->err || it->p == it->end)
        return it->err;
    int r = seq_number(it, lo);
    *hi = *lo;
    if (r == 0 && it->p < it->end && *it->p == ':') {
        it->p++;
        r = seq_number(it, hi);
    }
    if (r)
        return r;
    if (it->p < it->end) {
        if (*it->p != ',')
            return fail(it, IMPARSE_ESYNTAX, it->p);
        if (++it->p == it->end)
            return fail(it, IMPARSE_ESYNTAX, it->p);
    }
    /* A range is the same whichever end comes first (RFC 3501 seq-range). */
    if (*lo == IMPARSE_STAR || (*hi != IMPARSE_STAR && *hi < *lo)) {
        uint32_t t = *lo;
        *lo = *hi;
        *hi = t;
    }
    return 1;
}

int imp_check_seqset(struct imparse *p, const struct imparse_str *s)
{
    struct imparse_seqset it;
    uint32_t lo, hi;
    int r;
    imparse_seqset_begin(&it, s, p->base);
    while ((r = imparse_seqset_next(&it, &lo, &hi)) == 1)
        ;
    return r < 0 ? imp_fail(p, r, it.errpos) : 0;
}
