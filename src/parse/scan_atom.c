/* Atoms, numbers and NIL.  RFC 3501 ATOM-CHAR is any CHAR except
 * atom-specials "(" ")" "{" SP CTL list-wildcards quoted-specials
 * resp-specials.  We read server output, so we also take what servers
 * put in atom position: "\" opening a flag (flag-extension), "*" and "%"
 * (sequence sets, \*), "]" outside a response code (ASTRING-CHAR), 8-bit
 * bytes (RFC 9051 UTF-8), and a bracketed section with spaces inside
 * (msg-att-static "BODY" section ["<" number ">"]). */
#include "parse/parse_internal.h"
#include "util/ascii.h"

static int is_atom_byte(const struct imparse *p, unsigned char b, int first)
{
    if (b <= 0x20 || b == 0x7f)
        return 0;
    switch (b) {
    case '(': case ')': case '{': case '"':
        return 0;
    case '\\':
        return first;
    case ']':
        return !imp_in_code(p);
    }
    return 1;
}

/* From the '[' at i, the offset just past its ']' (section-spec may hold
 * SP, a header-list in parentheses and quoted names), or 0 if no ']'
 * comes before a CTL or the end: the '[' is then an ordinary ATOM-CHAR. */
static size_t section_end(const struct imparse *p, size_t i)
{
    int quoted = 0;
    for (i++; i < p->end; i++) {
        unsigned char b = (unsigned char)p->base[i];
        if (b < 0x20 || b == 0x7f)
            return 0;
        if (quoted && b == '\\')
            i++;
        else if (b == '"')
            quoted = !quoted;
        else if (!quoted && b == ']')
            return i + 1;
    }
    return 0;
}

/* After one '[' finds no ']', later ones are not tried: rescanning for
 * each '[' of "a[[[[..." would take quadratic time. */
static size_t atom_end(const struct imparse *p, size_t start)
{
    size_t i = start;
    int sections = 1;
    while (i < p->end) {
        unsigned char b = (unsigned char)p->base[i];
        size_t sec = b == '[' && i > start && sections ? section_end(p, i) : 0;
        if (b == '[' && i > start && !sec)
            sections = 0;
        if (sec)
            i = sec;
        else if (is_atom_byte(p, b, i == start))
            i++;
        else
            break;
    }
    return i;
}

/* number = 1*DIGIT; ours are 64-bit (RFC 9051 number64, mod-sequence). */
static int classify_number(struct imparse *p, struct imparse_token *t)
{
    /* Only a run of digits is a number: "99999999999999999999x" is an
     * atom, not an overflow (the encoder sends such astrings as atoms), so
     * an overflow counts only once the whole token proved to be digits. */
    uint64_t v = 0;
    int overflow = 0;
    for (size_t i = 0; i < t->len; i++) {
        unsigned d = (unsigned)(t->data[i] - '0');
        if (d > 9)
            return 0;
        if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
            overflow = 1;
        v = v * 10 + d;
    }
    if (overflow)
        return imp_fail(p, IMPARSE_EOVERFLOW, t->pos);
    t->type = IMPARSE_NUMBER;
    t->number = v;
    return 0;
}

int imp_scan_atom(struct imparse *p, struct imparse_token *t)
{
    size_t end = atom_end(p, p->pos);
    if (end == p->pos)
        return imp_fail(p, IMPARSE_ESYNTAX, p->pos);
    t->type = IMPARSE_ATOM;
    t->pos = p->pos;
    t->data = p->base + p->pos;
    t->len = end - p->pos;
    p->pos = end;
    if (t->len == 3 && imc_ascii_eq(t->data, "NIL", 3)) {
        t->type = IMPARSE_NIL;
        t->data = NULL;
        t->len = 0;
        return 0;
    }
    return classify_number(p, t);
}
