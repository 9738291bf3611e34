/* FETCH item names (RFC 3501 msg-att-static / msg-att-dynamic, RFC 3516
 * BINARY, RFC 7162 MODSEQ, RFC 8474 EMAILID/THREADID): which kind, the
 * section between "[" and "]", and the "<" origin ">" after it. */
#include <string.h>

#include "parse/fetch_internal.h"
#include "util/ascii.h"

static const struct {
    const char *name;
    enum imparse_fetch_kind plain, bracketed;
} names[] = {
    { "UID", IMPARSE_FETCH_UID, IMPARSE_FETCH_OTHER },
    { "FLAGS", IMPARSE_FETCH_FLAGS, IMPARSE_FETCH_OTHER },
    { "RFC822.SIZE", IMPARSE_FETCH_RFC822_SIZE, IMPARSE_FETCH_OTHER },
    { "INTERNALDATE", IMPARSE_FETCH_INTERNALDATE, IMPARSE_FETCH_OTHER },
    { "MODSEQ", IMPARSE_FETCH_MODSEQ, IMPARSE_FETCH_OTHER },
    { "ENVELOPE", IMPARSE_FETCH_ENVELOPE, IMPARSE_FETCH_OTHER },
    { "BODYSTRUCTURE", IMPARSE_FETCH_BODYSTRUCTURE, IMPARSE_FETCH_OTHER },
    /* "BODY" alone is the non-extensible BODYSTRUCTURE (RFC 3501 7.4.2) */
    { "BODY", IMPARSE_FETCH_BODYSTRUCTURE, IMPARSE_FETCH_BODY },
    { "BINARY", IMPARSE_FETCH_OTHER, IMPARSE_FETCH_BINARY },
    { "BINARY.SIZE", IMPARSE_FETCH_OTHER, IMPARSE_FETCH_BINARY_SIZE },
    { "RFC822", IMPARSE_FETCH_RFC822, IMPARSE_FETCH_OTHER },
    { "RFC822.HEADER", IMPARSE_FETCH_RFC822, IMPARSE_FETCH_OTHER },
    { "RFC822.TEXT", IMPARSE_FETCH_RFC822, IMPARSE_FETCH_OTHER },
    { "EMAILID", IMPARSE_FETCH_EMAILID, IMPARSE_FETCH_OTHER },
    { "THREADID", IMPARSE_FETCH_THREADID, IMPARSE_FETCH_OTHER },
};

static enum imparse_fetch_kind kind_of(const char *s, size_t n, int bracketed)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == n && imc_ascii_eq(s, names[i].name, n))
            return bracketed ? names[i].bracketed : names[i].plain;
    return IMPARSE_FETCH_OTHER;
}

/* "<" number ">" closing the name, as in BODY[]<0>. */
static int origin(struct imparse *p, struct imparse_fetch_item *it, size_t i)
{
    const char *s = it->name.data;
    size_t n = it->name.len;
    if (i == n)
        return 0;
    if (s[i] != '<' || s[n - 1] != '>' || i + 2 >= n)
        return imp_fail(p, IMPARSE_ESYNTAX, (size_t)(s - p->base) + i);
    uint64_t v = 0;
    for (size_t k = i + 1; k < n - 1; k++) {
        unsigned d = (unsigned)(s[k] - '0');
        if (d > 9)
            return imp_fail(p, IMPARSE_ESYNTAX, (size_t)(s - p->base) + k);
        if (v > (UINT64_MAX - d) / 10)
            return imp_fail(p, IMPARSE_EOVERFLOW, (size_t)(s - p->base) + i);
        v = v * 10 + d;
    }
    it->has_origin = 1;
    it->origin = v;
    return 0;
}

int imp_fetch_name(struct imparse *p, const struct imparse_token *t,
                   struct imparse_fetch_item *it)
{
    it->name = imparse_token_str(t);
    if (t->type != IMPARSE_ATOM)
        return imp_fail(p, IMPARSE_EUNEXPECTED, t->pos);
    const char *open = memchr(t->data, '[', t->len);
    if (!open) {
        it->kind = kind_of(t->data, t->len, 0);
        return 0;
    }
    size_t o = (size_t)(open - t->data), c = t->len;
    while (c > o && t->data[c - 1] != ']')
        c--;
    if (c == o) /* the tokenizer took '[' as an ordinary byte: no ']' */
        return imp_fail(p, IMPARSE_ESYNTAX, t->pos + o);
    it->kind = kind_of(t->data, o, 1);
    it->section.type = IMPARSE_ATOM;
    it->section.data = open + 1;
    it->section.len = c - 1 - o - 1;
    return origin(p, it, c);
}
