/* Decoding one FETCH value by its item's kind.  Compound values (FLAGS,
 * ENVELOPE, BODYSTRUCTURE) are checked here once, so that the span handed
 * out always parses; their contents are read later with their own
 * functions. */
#include "parse/fetch_internal.h"

/* MODSEQ "(" mod-sequence-value ")" (RFC 7162 fetch-mod-resp); EMAILID
 * "(" objectid ")" and THREADID that or NIL (RFC 8474). */
static int in_parens(struct imparse *p, struct imparse_fetch_item *it, int str)
{
    struct imparse_token t;
    if (str && imp_peek_is(p, IMPARSE_NIL))
        return imp_nstring(p, &it->string);
    int r = imp_expect(p, IMPARSE_LIST_OPEN, &t);
    if (r == 0)
        r = str ? imp_astring(p, &it->string) : imp_number(p, &it->number);
    return r ? r : imp_expect(p, IMPARSE_LIST_CLOSE, &t);
}

static int flags(struct imparse *p, struct imparse_fetch_item *it)
{
    if (!imp_peek_is(p, IMPARSE_LIST_OPEN))
        return imp_fail(p, IMPARSE_EUNEXPECTED, it->value.start);
    return imp_check_strings(p, &it->value, 0);
}

static int envelope(struct imparse *p)
{
    struct imparse_envelope env;
    return imp_envelope(p, &env);
}

static int body(struct imparse *p, struct imparse_fetch_item *it)
{
    size_t count, pos;
    int r = imparse_bodystructure(&it->value, NULL, 0, &count, &pos);
    return r ? imp_fail(p, r, pos) : 0;
}

static int decode(struct imparse *p, struct imparse_fetch_item *it)
{
    switch (it->kind) {
    case IMPARSE_FETCH_UID:
    case IMPARSE_FETCH_RFC822_SIZE:
    case IMPARSE_FETCH_BINARY_SIZE:
        return imp_number(p, &it->number); /* uniqueid, number, number64 */
    case IMPARSE_FETCH_MODSEQ:
        return in_parens(p, it, 0);
    case IMPARSE_FETCH_EMAILID:
    case IMPARSE_FETCH_THREADID:
        return in_parens(p, it, 1);
    case IMPARSE_FETCH_FLAGS:
        return flags(p, it);
    case IMPARSE_FETCH_ENVELOPE:
        return envelope(p);
    case IMPARSE_FETCH_BODYSTRUCTURE:
        return body(p, it);
    case IMPARSE_FETCH_INTERNALDATE:
    case IMPARSE_FETCH_BODY:
    case IMPARSE_FETCH_BINARY:
    case IMPARSE_FETCH_RFC822:
        return imp_nstring(p, &it->string);
    case IMPARSE_FETCH_OTHER:
        return 0;
    }
    return 0;
}

int imp_fetch_value(struct imparse *outer, struct imparse_fetch_item *it)
{
    struct imparse p;
    imparse_init_span(&p, &it->value, IMPARSE_MAX_DEPTH);
    int r = decode(&p, it);
    if (r == 0 && it->kind != IMPARSE_FETCH_OTHER && it->kind != IMPARSE_FETCH_FLAGS
        && it->kind != IMPARSE_FETCH_BODYSTRUCTURE)
        r = imp_expect_end(&p);
    if (r) {
        size_t pos;
        imparse_error(&p, &pos);
        return imp_fail(outer, r, pos);
    }
    return 0;
}
