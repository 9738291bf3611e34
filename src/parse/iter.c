/* Walking a list of strings: flag-list, capability-data, mbx-list-flags,
 * body-fld-lang, body-fld-param.  One iterator serves them all because
 * RFC 3501 writes each as "(" string *(SP string) ")", NIL, or bare words
 * after a keyword. */
#include "parse/parse_internal.h"

void imparse_iter_begin(struct imparse_iter *it, const struct imparse_span *v)
{
    struct imparse_token t;
    imparse_init_span(&it->tok, v, IMPARSE_DEFAULT_DEPTH);
    it->in_list = 0;
    it->done = 0;
    if (imparse_peek(&it->tok, &t) != 0)
        return;
    if (t.type == IMPARSE_LIST_OPEN || t.type == IMPARSE_NIL) {
        imparse_next(&it->tok, &t);
        it->in_list = t.type == IMPARSE_LIST_OPEN;
    }
}

static int finish(struct imparse_iter *it)
{
    it->done = 1;
    return 0;
}

int imparse_iter_next(struct imparse_iter *it, struct imparse_str *s)
{
    struct imparse_token t;
    if (it->done)
        return it->tok.err;
    int r = imparse_next(&it->tok, &t);
    *s = imparse_token_str(&t);
    if (r)
        return r;
    if (it->in_list && t.type == IMPARSE_LIST_CLOSE) {
        it->in_list = 0;
        r = imp_expect_end(&it->tok);
        return r ? r : finish(it);
    }
    if (!it->in_list && t.type == IMPARSE_END)
        return finish(it);
    switch (t.type) {
    case IMPARSE_ATOM: case IMPARSE_NUMBER: case IMPARSE_QUOTED:
    case IMPARSE_LITERAL: case IMPARSE_LITERAL8: case IMPARSE_NIL:
        return 1;
    default:
        return imp_fail(&it->tok, IMPARSE_EUNEXPECTED, t.pos);
    }
}

int imparse_iter_has(const struct imparse_span *v, const char *name)
{
    struct imparse_iter it;
    struct imparse_str s;
    int r;
    imparse_iter_begin(&it, v);
    while ((r = imparse_iter_next(&it, &s)) == 1)
        if (imparse_str_eq(&s, name))
            return 1;
    return r;
}

int imparse_params_next(struct imparse_iter *it, struct imparse_str *key,
                        struct imparse_str *value)
{
    int r = imparse_iter_next(it, key);
    if (r != 1)
        return r;
    r = imparse_iter_next(it, value);
    if (r == 0) /* body-fld-param pairs each attribute with a value */
        return imp_fail(&it->tok, IMPARSE_EUNEXPECTED, it->tok.pos);
    return r;
}

int imparse_param_get(const struct imparse_span *params, const char *key,
                      struct imparse_str *value)
{
    struct imparse_iter it;
    struct imparse_str k;
    int r;
    imparse_iter_begin(&it, params);
    while ((r = imparse_params_next(&it, &k, value)) == 1)
        if (imparse_str_eq(&k, key))
            return 1;
    return r;
}

void imparse_capability_begin(struct imparse_iter *it, const char *text, size_t len)
{
    struct imparse_span v = { text, 0, len };
    imparse_iter_begin(it, &v);
}

int imparse_capability_has(const char *text, size_t len, const char *name)
{
    struct imparse_span v = { text, 0, len };
    return imparse_iter_has(&v, name);
}

/* Validation for the helpers that hand out spans: walking the whole list
 * once means a span they return is always well-formed. */
int imp_check_strings(struct imparse *p, const struct imparse_span *v, int pairs)
{
    struct imparse_iter it;
    struct imparse_str a, b;
    int r;
    imparse_iter_begin(&it, v);
    while ((r = pairs ? imparse_params_next(&it, &a, &b) : imparse_iter_next(&it, &a)) == 1)
        ;
    return r < 0 ? imp_fail(p, r, it.tok.errpos) : 0;
}
