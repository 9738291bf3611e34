/* Quoted strings and literals (RFC 3501 string = quoted / literal;
 * RFC 3516 literal8 = "~{" number "}" CRLF *OCTET). */
#include "parse/parse_internal.h"

/* quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR excludes CR and LF and
 * allows "\" only before a quoted-special.  8-bit bytes pass (RFC 9051). */
int imp_scan_quoted(struct imparse *p, struct imparse_token *t)
{
    size_t start = p->pos;
    for (size_t i = start + 1; i < p->end; i++) {
        char c = p->base[i];
        if (c == '"') {
            t->type = IMPARSE_QUOTED;
            t->data = p->base + start + 1;
            t->len = i - start - 1;
            p->pos = i + 1;
            return 0;
        }
        if (c == '\r' || c == '\n' || c == '\0')
            return imp_fail(p, IMPARSE_ESYNTAX, i);
        if (c == '\\') {
            if (++i == p->end)
                break;
            if (p->base[i] != '"' && p->base[i] != '\\')
                return imp_fail(p, IMPARSE_ESYNTAX, i);
        }
    }
    return imp_fail(p, IMPARSE_ETRUNC, start);
}

/* The byte at i must be want: ETRUNC at the end, ESYNTAX otherwise. */
static int need(struct imparse *p, size_t i, char want)
{
    if (i >= p->end)
        return imp_fail(p, IMPARSE_ETRUNC, i);
    if (p->base[i] != want)
        return imp_fail(p, IMPARSE_ESYNTAX, i);
    return 0;
}

/* The size between the braces: number, or number64 for literal8. */
static int literal_size(struct imparse *p, size_t *i, uint64_t *n)
{
    size_t first = *i;
    *n = 0;
    for (; *i < p->end && p->base[*i] >= '0' && p->base[*i] <= '9'; (*i)++) {
        unsigned d = (unsigned)(p->base[*i] - '0');
        if (*n > (UINT64_MAX - d) / 10)
            return imp_fail(p, IMPARSE_EOVERFLOW, first);
        *n = *n * 10 + d;
    }
    if (*i == first)
        return *i == p->end ? imp_fail(p, IMPARSE_ETRUNC, *i)
                            : imp_fail(p, IMPARSE_ESYNTAX, *i);
    return 0;
}

int imp_scan_literal(struct imparse *p, struct imparse_token *t)
{
    size_t start = p->pos;
    int eight = p->base[start] == '~';
    size_t i = start + 1 + (size_t)eight;
    uint64_t n;
    int r = literal_size(p, &i, &n);
    if (r || (r = need(p, i, '}')) || (r = need(p, i + 1, '\r')) || (r = need(p, i + 2, '\n')))
        return r;
    i += 3;
    /* The announced size must be there: a shorter reply is truncated. */
    if (n > p->end - i)
        return imp_fail(p, IMPARSE_ETRUNC, start);
    t->type = eight ? IMPARSE_LITERAL8 : IMPARSE_LITERAL;
    t->data = p->base + i;
    t->len = (size_t)n;
    p->pos = i + (size_t)n;
    return 0;
}
