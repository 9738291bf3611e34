/* Reading one grammar element with the tokenizer: the building blocks of
 * every helper.  Where RFC 3501 says string we also take an atom, and
 * where it says number we take only a number. */
#include "parse/parse_internal.h"

static int unexpected(struct imparse *p, const struct imparse_token *t)
{
    return imp_fail(p, IMPARSE_EUNEXPECTED, t->pos);
}

int imp_expect(struct imparse *p, enum imparse_type type, struct imparse_token *t)
{
    int r = imparse_next(p, t);
    if (r == 0 && t->type != type)
        r = unexpected(p, t);
    return r;
}

int imp_expect_end(struct imparse *p)
{
    struct imparse_token t;
    return imp_expect(p, IMPARSE_END, &t);
}

int imp_number(struct imparse *p, uint64_t *n)
{
    struct imparse_token t;
    int r = imp_expect(p, IMPARSE_NUMBER, &t);
    *n = t.number;
    return r;
}

static int is_string(enum imparse_type type)
{
    return type == IMPARSE_ATOM || type == IMPARSE_NUMBER || type == IMPARSE_QUOTED
           || type == IMPARSE_LITERAL || type == IMPARSE_LITERAL8;
}

/* nstring = string / nil */
int imp_nstring(struct imparse *p, struct imparse_str *s)
{
    struct imparse_token t;
    int r = imparse_next(p, &t);
    *s = imparse_token_str(&t);
    if (r == 0 && !is_string(t.type) && t.type != IMPARSE_NIL)
        r = unexpected(p, &t);
    return r;
}

/* astring = 1*ASTRING-CHAR / string.  "NIL" here is a name, and an atom
 * may begin with "[" (a mailbox such as [Gmail]), which the tokenizer
 * would take for a response code. */
int imp_astring(struct imparse *p, struct imparse_str *s)
{
    struct imparse_token t;
    int r = imparse_peek(p, &t);
    if (r == 0 && t.type == IMPARSE_CODE_OPEN) {
        p->pos = t.pos;
        r = imp_scan_atom(p, &t);
        p->need_space = 1;
    } else if (r == 0) {
        r = imparse_next(p, &t);
    }
    if (r == 0 && t.type == IMPARSE_NIL) {
        t.type = IMPARSE_ATOM;
        t.data = p->base + t.pos;
        t.len = 3;
    }
    *s = imparse_token_str(&t);
    if (r == 0 && !is_string(t.type))
        r = unexpected(p, &t);
    return r;
}

int imp_value(struct imparse *p, struct imparse_span *v, struct imparse_token *first)
{
    int r = imparse_next(p, first);
    v->base = p->base;
    v->start = v->end = first->pos;
    if (r)
        return r;
    if (first->type == IMPARSE_END || first->type == IMPARSE_LIST_CLOSE
        || first->type == IMPARSE_CODE_CLOSE)
        return unexpected(p, first);
    unsigned depth = p->depth;
    struct imparse_token t;
    if (first->type == IMPARSE_LIST_OPEN || first->type == IMPARSE_CODE_OPEN)
        while (p->depth >= depth)
            if ((r = imparse_next(p, &t)) != 0)
                return r;
    v->end = p->pos;
    return 0;
}

int imp_peek_is(const struct imparse *p, enum imparse_type type)
{
    struct imparse_token t;
    return imparse_peek(p, &t) == 0 && t.type == type;
}
