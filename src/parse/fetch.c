/* The FETCH iterator: msg-att = "(" (msg-att-dynamic / msg-att-static)
 * *(SP ...) ")" (RFC 3501).  Each item is a name and one value; the value
 * is read whole first (so an unknown item is skipped correctly, literals
 * and nested lists included) and then decoded by kind. */
#include <string.h>

#include "parse/fetch_internal.h"

int imparse_fetch_begin(struct imparse_fetch *f, const char *text, size_t len)
{
    struct imparse_token t;
    imparse_init(&f->tok, text, len, IMPARSE_DEFAULT_DEPTH);
    f->done = 0;
    return imp_expect(&f->tok, IMPARSE_LIST_OPEN, &t);
}

int imparse_fetch_next(struct imparse_fetch *f, struct imparse_fetch_item *item)
{
    struct imparse_token t, first;
    memset(item, 0, sizeof *item);
    item->section.type = item->string.type = IMPARSE_NIL;
    if (f->done)
        return f->tok.err;
    int r = imparse_next(&f->tok, &t);
    if (r)
        return r;
    if (t.type == IMPARSE_LIST_CLOSE) {
        f->done = 1;
        return imp_expect_end(&f->tok);
    }
    if ((r = imp_fetch_name(&f->tok, &t, item)) != 0
        || (r = imp_value(&f->tok, &item->value, &first)) != 0
        || (r = imp_fetch_value(&f->tok, item)) != 0)
        return r;
    return 1;
}
