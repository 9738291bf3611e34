/* mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE /
 * nil) SP mailbox [SP mbox-list-extended] (RFC 3501, RFC 5258).  The
 * mailbox stays raw: modified UTF-7 is another module's business. */
#include <string.h>

#include "parse/parse_internal.h"

static int attributes(struct imparse *p, struct imparse_span *attrs)
{
    struct imparse_token first;
    int r = imp_value(p, attrs, &first);
    if (r)
        return r;
    if (first.type != IMPARSE_LIST_OPEN)
        return imp_fail(p, IMPARSE_EUNEXPECTED, first.pos);
    return imp_check_strings(p, attrs, 0);
}

/* The hierarchy delimiter: exactly one QUOTED-CHAR, or NIL (flat). */
static int delimiter(struct imparse *p, struct imparse_list *out)
{
    struct imparse_token t;
    char buf[2];
    size_t n;
    int r = imparse_next(p, &t);
    out->delimiter = imparse_token_str(&t);
    if (r || t.type == IMPARSE_NIL)
        return r;
    if (t.type != IMPARSE_QUOTED || imparse_str_copy(&out->delimiter, buf, sizeof buf, &n) != 0
        || n != 1)
        return imp_fail(p, IMPARSE_EUNEXPECTED, t.pos);
    out->delim = buf[0];
    return 0;
}

/* mbox-list-extended = "(" [mbox-list-extended-item *(SP ...)] ")" */
static int extended(struct imparse *p, struct imparse_span *ext)
{
    struct imparse_token first;
    if (imp_peek_is(p, IMPARSE_END))
        return imp_expect_end(p);
    int r = imp_value(p, ext, &first);
    if (r == 0 && first.type != IMPARSE_LIST_OPEN)
        r = imp_fail(p, IMPARSE_EUNEXPECTED, first.pos);
    return r ? r : imp_expect_end(p);
}

int imparse_list(const char *text, size_t len, struct imparse_list *out, size_t *errpos)
{
    struct imparse p;
    memset(out, 0, sizeof *out);
    out->attributes.base = out->extended.base = text;
    imparse_init(&p, text, len, IMPARSE_DEFAULT_DEPTH);
    int r = attributes(&p, &out->attributes);
    if (r == 0 && (r = delimiter(&p, out)) == 0 && (r = imp_astring(&p, &out->mailbox)) == 0)
        r = extended(&p, &out->extended);
    imparse_error(&p, errpos);
    return r;
}
