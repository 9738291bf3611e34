/* status-response = "STATUS" SP mailbox SP "(" [status-att-list] ")",
 * status-att-val = status-att SP number (RFC 3501; RFC 9051 number64 for
 * SIZE, RFC 7162 mod-sequence-valzer for HIGHESTMODSEQ). */
#include "parse/parse_internal.h"

int imparse_status_begin(struct imparse_status *s, const char *text, size_t len)
{
    struct imparse_token t;
    imparse_init(&s->tok, text, len, IMPARSE_DEFAULT_DEPTH);
    s->done = 0;
    int r = imp_astring(&s->tok, &s->mailbox);
    return r ? r : imp_expect(&s->tok, IMPARSE_LIST_OPEN, &t);
}

int imparse_status_next(struct imparse_status *s, struct imparse_str *attr,
                        uint64_t *value, struct imparse_span *raw)
{
    struct imparse_token t;
    struct imparse_span v;
    *value = 0;
    if (s->done)
        return s->tok.err;
    int r = imparse_next(&s->tok, &t);
    *attr = imparse_token_str(&t);
    if (r == 0 && t.type == IMPARSE_LIST_CLOSE) {
        s->done = 1;
        return imp_expect_end(&s->tok);
    }
    if (r == 0 && t.type != IMPARSE_ATOM)
        r = imp_fail(&s->tok, IMPARSE_EUNEXPECTED, t.pos);
    if (r || (r = imp_value(&s->tok, &v, &t)) != 0)
        return r;
    /* RFC 8474 MAILBOXID carries "(" objectid ")": pass such values raw. */
    if (t.type == IMPARSE_NUMBER)
        *value = t.number;
    else if (t.type != IMPARSE_LIST_OPEN)
        return imp_fail(&s->tok, IMPARSE_EUNEXPECTED, t.pos);
    if (raw)
        *raw = v;
    return 1;
}
