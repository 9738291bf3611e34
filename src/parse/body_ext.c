/* Body extension data (RFC 3501 body-ext-1part / body-ext-mpart): each
 * field is optional from the right, and any body-extension after the
 * location is kept only as part of the raw extension span. */
#include "parse/body_internal.h"

int imp_body_params(struct imparse *p, struct imparse_span *params)
{
    struct imparse_token first;
    int r = imp_value(p, params, &first);
    if (r)
        return r;
    if (first.type != IMPARSE_LIST_OPEN && first.type != IMPARSE_NIL)
        return imp_fail(p, IMPARSE_EUNEXPECTED, first.pos);
    return imp_check_strings(p, params, 1);
}

/* body-fld-dsp = "(" string SP body-fld-param ")" / nil */
static int disposition(struct imparse *p, struct imparse_body *n)
{
    struct imparse_token t;
    int r = imparse_next(p, &t);
    if (r || t.type == IMPARSE_NIL)
        return r;
    if (t.type != IMPARSE_LIST_OPEN)
        return imp_fail(p, IMPARSE_EUNEXPECTED, t.pos);
    if ((r = imp_nstring(p, &n->disposition)) || (r = imp_body_params(p, &n->disposition_params)))
        return r;
    return imp_expect(p, IMPARSE_LIST_CLOSE, &t);
}

/* body-fld-lang = nstring / "(" string *(SP string) ")" */
static int language(struct imparse *p, struct imparse_body *n)
{
    struct imparse_token first;
    int r = imp_value(p, &n->language, &first);
    if (r)
        return r;
    if (first.type == IMPARSE_LIST_OPEN)
        return imp_check_strings(p, &n->language, 0);
    if (first.type == IMPARSE_LIST_CLOSE || first.type == IMPARSE_CODE_OPEN)
        return imp_fail(p, IMPARSE_EUNEXPECTED, first.pos);
    return 0;
}

static int first_field(struct imparse *p, struct imparse_body *n, int multipart)
{
    return multipart ? imp_body_params(p, &n->params) : imp_nstring(p, &n->md5);
}

/* The fields in order, stopping at the part's ")"; then anything else. */
static int fields(struct imparse *p, struct imparse_body *n, int multipart)
{
    struct imparse_span skip;
    struct imparse_token t;
    int r = first_field(p, n, multipart);
    if (r || imp_peek_is(p, IMPARSE_LIST_CLOSE) || (r = disposition(p, n)))
        return r;
    if (imp_peek_is(p, IMPARSE_LIST_CLOSE) || (r = language(p, n)))
        return r;
    if (imp_peek_is(p, IMPARSE_LIST_CLOSE) || (r = imp_nstring(p, &n->location)))
        return r;
    while (!imp_peek_is(p, IMPARSE_LIST_CLOSE))
        if ((r = imp_value(p, &skip, &t)) != 0)
            return r;
    return 0;
}

int imp_body_ext(struct imparse *p, struct imparse_body *n, int multipart)
{
    struct imparse_token t;
    int r = imparse_peek(p, &t);
    if (r == 0 && t.type != IMPARSE_LIST_CLOSE) {
        n->extension.start = t.pos;
        r = fields(p, n, multipart);
        if (r == 0 && (r = imparse_peek(p, &t)) == 0)
            n->extension.end = t.pos;
    }
    return r ? r : imp_expect(p, IMPARSE_LIST_CLOSE, &t);
}
