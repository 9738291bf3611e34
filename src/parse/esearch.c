/* esearch-response = "ESEARCH" [search-correlator] [SP "UID"]
 * *(SP search-return-data) (RFC 4731, RFC 4466); search-correlator =
 * SP "(" "TAG" SP tag-string ")".  Unknown return data (RFC 4466
 * tagged-ext-val) is skipped. */
#include <string.h>

#include "parse/parse_internal.h"

static int correlator(struct imparse *p, struct imparse_esearch *out)
{
    struct imparse_token t;
    int r = imp_expect(p, IMPARSE_LIST_OPEN, &t);
    if (r == 0)
        r = imp_expect(p, IMPARSE_ATOM, &t);
    struct imparse_str name = imparse_token_str(&t);
    if (r == 0 && !imparse_str_eq(&name, "TAG"))
        r = imp_fail(p, IMPARSE_EUNEXPECTED, t.pos);
    if (r || (r = imp_astring(p, &out->tag)))
        return r;
    return imp_expect(p, IMPARSE_LIST_CLOSE, &t);
}

static int all(struct imparse *p, struct imparse_esearch *out)
{
    struct imparse_token t;
    int r = imp_value(p, &out->span, &t);
    out->all = imparse_token_str(&t);
    if (r == 0 && t.type != IMPARSE_ATOM && t.type != IMPARSE_NUMBER)
        r = imp_fail(p, IMPARSE_EUNEXPECTED, t.pos);
    return r ? r : imp_check_seqset(p, &out->all);
}

static int return_data(struct imparse *p, struct imparse_esearch *out,
                       const struct imparse_str *name)
{
    struct imparse_span skip;
    struct imparse_token t;
    const struct {
        const char *name;
        int *has;
        uint64_t *value;
    } numbers[] = {
        { "MIN", &out->has_min, &out->min },
        { "MAX", &out->has_max, &out->max },
        { "COUNT", &out->has_count, &out->count },
        { "MODSEQ", &out->has_modseq, &out->modseq }, /* RFC 7162 */
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        if (imparse_str_eq(name, numbers[i].name)) {
            *numbers[i].has = 1;
            return imp_number(p, numbers[i].value);
        }
    if (imparse_str_eq(name, "ALL"))
        return all(p, out);
    return imp_value(p, &skip, &t);
}

int imparse_esearch(const char *text, size_t len, struct imparse_esearch *out,
                    size_t *errpos)
{
    struct imparse p;
    struct imparse_token t;
    memset(out, 0, sizeof *out);
    out->tag.type = out->all.type = IMPARSE_NIL;
    out->span.base = text;
    imparse_init(&p, text, len, IMPARSE_DEFAULT_DEPTH);
    int r = imp_peek_is(&p, IMPARSE_LIST_OPEN) ? correlator(&p, out) : 0;
    while (r == 0 && (r = imparse_next(&p, &t)) == 0 && t.type != IMPARSE_END) {
        struct imparse_str name = imparse_token_str(&t);
        if (t.type != IMPARSE_ATOM)
            r = imp_fail(&p, IMPARSE_EUNEXPECTED, t.pos);
        else if (imparse_str_eq(&name, "UID"))
            out->uid = 1;
        else
            r = return_data(&p, out, &name);
    }
    imparse_error(&p, errpos);
    return r;
}
