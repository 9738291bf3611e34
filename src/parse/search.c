/* mailbox-data =/ "SEARCH" *(SP nz-number) [SP search-sort-mod-seq]
 * (RFC 3501, RFC 7162: "(" "MODSEQ" SP mod-sequence-value ")"). */
#include "parse/parse_internal.h"

void imparse_search_begin(struct imparse_search *s, const char *text, size_t len)
{
    imparse_init(&s->tok, text, len, IMPARSE_DEFAULT_DEPTH);
    s->done = 0;
    s->has_modseq = 0;
    s->modseq = 0;
}

static int modseq(struct imparse_search *s)
{
    struct imparse_token t;
    int r = imp_expect(&s->tok, IMPARSE_ATOM, &t);
    struct imparse_str name = imparse_token_str(&t);
    if (r == 0 && !imparse_str_eq(&name, "MODSEQ"))
        r = imp_fail(&s->tok, IMPARSE_EUNEXPECTED, t.pos);
    if (r || (r = imp_number(&s->tok, &s->modseq))
        || (r = imp_expect(&s->tok, IMPARSE_LIST_CLOSE, &t)) || (r = imp_expect_end(&s->tok)))
        return r;
    s->has_modseq = 1;
    return 0;
}

int imparse_search_next(struct imparse_search *s, uint64_t *number)
{
    struct imparse_token t;
    *number = 0;
    if (s->done)
        return s->tok.err;
    int r = imparse_next(&s->tok, &t);
    if (r)
        return r;
    if (t.type == IMPARSE_NUMBER) {
        *number = t.number;
        return 1;
    }
    s->done = 1;
    if (t.type == IMPARSE_END)
        return 0;
    if (t.type == IMPARSE_LIST_OPEN)
        return modseq(s);
    return imp_fail(&s->tok, IMPARSE_EUNEXPECTED, t.pos);
}
