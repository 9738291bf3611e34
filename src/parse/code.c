/* resp-text = ["[" resp-text-code "]" SP] text (RFC 3501).  The code's
 * name is an atom; what follows it up to "]" is parsed for the codes we
 * know and handed out raw for the others, whose data RFC 3501 only
 * bounds as "any TEXT-CHAR except ]". */
#include <string.h>

#include "parse/parse_internal.h"
#include "util/ascii.h"

static const struct {
    const char *name;
    enum imparse_code_kind kind;
} codes[] = {
    { "ALERT", IMPARSE_CODE_ALERT },
    { "CAPABILITY", IMPARSE_CODE_CAPABILITY },
    { "PERMANENTFLAGS", IMPARSE_CODE_PERMANENTFLAGS },
    { "UIDVALIDITY", IMPARSE_CODE_UIDVALIDITY },
    { "UIDNEXT", IMPARSE_CODE_UIDNEXT },
    { "UNSEEN", IMPARSE_CODE_UNSEEN },
    { "HIGHESTMODSEQ", IMPARSE_CODE_HIGHESTMODSEQ },
    { "APPENDUID", IMPARSE_CODE_APPENDUID },
    { "COPYUID", IMPARSE_CODE_COPYUID },
    { "READ-ONLY", IMPARSE_CODE_READ_ONLY },
    { "READ-WRITE", IMPARSE_CODE_READ_WRITE },
    { "TRYCREATE", IMPARSE_CODE_TRYCREATE },
};

static enum imparse_code_kind kind_of(const struct imparse_str *name)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (imparse_str_eq(name, codes[i].name))
            return codes[i].kind;
    return IMPARSE_CODE_OTHER;
}

static int set(struct imparse *p, struct imparse_str *s)
{
    struct imparse_token t;
    int r = imparse_next(p, &t);
    *s = imparse_token_str(&t);
    if (r == 0 && t.type != IMPARSE_ATOM && t.type != IMPARSE_NUMBER)
        r = imp_fail(p, IMPARSE_EUNEXPECTED, t.pos);
    return r ? r : imp_check_seqset(p, s);
}

/* RFC 4315: APPENDUID uidvalidity uid-set; COPYUID uidvalidity uid-set uid-set. */
static int data(struct imparse *p, struct imparse_code *c)
{
    int r;
    switch (c->kind) {
    case IMPARSE_CODE_UIDVALIDITY: case IMPARSE_CODE_UIDNEXT:
    case IMPARSE_CODE_UNSEEN: case IMPARSE_CODE_HIGHESTMODSEQ:
        return imp_number(p, &c->number);
    case IMPARSE_CODE_APPENDUID:
        return (r = imp_number(p, &c->number)) ? r : set(p, &c->set1);
    case IMPARSE_CODE_COPYUID:
        if ((r = imp_number(p, &c->number)) || (r = set(p, &c->set1)))
            return r;
        return set(p, &c->set2);
    case IMPARSE_CODE_CAPABILITY:
        return imp_check_strings(p, &c->data, 0);
    case IMPARSE_CODE_PERMANENTFLAGS:
        if (!imp_peek_is(p, IMPARSE_LIST_OPEN))
            return imp_fail(p, IMPARSE_EUNEXPECTED, c->data.start);
        return imp_check_strings(p, &c->data, 0);
    default:
        return 0;
    }
}

static int checked(struct imparse_code *c, size_t *errpos)
{
    struct imparse p;
    imparse_init_span(&p, &c->data, IMPARSE_DEFAULT_DEPTH);
    int r = data(&p, c);
    if (r == 0 && c->kind != IMPARSE_CODE_OTHER && c->kind != IMPARSE_CODE_CAPABILITY
        && c->kind != IMPARSE_CODE_PERMANENTFLAGS && c->kind != IMPARSE_CODE_ALERT)
        r = imp_expect_end(&p);
    imparse_error(&p, errpos);
    return r;
}

static int is_name_byte(char c)
{
    return c > ' ' && c != ']' && c != 0x7f;
}

static void init(struct imparse_code *c, const char *text, size_t len)
{
    memset(c, 0, sizeof *c);
    c->name.type = c->set1.type = c->set2.type = IMPARSE_NIL;
    c->data.base = text;
    c->text.type = IMPARSE_ATOM;
    c->text.data = text;
    c->text.len = len;
}

int imparse_code(const char *text, size_t len, struct imparse_code *out, size_t *errpos)
{
    size_t i = 1, close;
    init(out, text, len);
    if (errpos)
        *errpos = 0;
    if (len == 0 || text[0] != '[')
        return 0;
    while (i < len && is_name_byte(text[i]))
        i++;
    out->name = (struct imparse_str){ IMPARSE_ATOM, text + 1, i - 1 };
    const char *end = i < len ? memchr(text + i, ']', len - i) : NULL;
    close = end ? (size_t)(end - text) : len;
    if (i == 1 || !end || (i < close && text[i] != ' ')) {
        if (errpos)
            *errpos = !end ? len : i;
        return !end ? IMPARSE_ETRUNC : IMPARSE_ESYNTAX;
    }
    out->data.start = i < close ? i + 1 : close;
    out->data.end = close;
    out->kind = kind_of(&out->name);
    size_t t = close + 1 < len && text[close + 1] == ' ' ? close + 2 : close + 1;
    out->text.data = text + t;
    out->text.len = len - t;
    int r = checked(out, errpos);
    return r ? r : 1;
}
