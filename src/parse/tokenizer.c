/* The pull tokenizer: separators, nesting and dispatch to the scanners.
 * RFC 3501 section 9 separates tokens by one SP; we accept runs of SP
 * (some servers pad) but never two values glued together. */
#include <string.h>

#include "parse/parse_internal.h"

void imparse_init(struct imparse *p, const char *text, size_t len, unsigned maxdepth)
{
    struct imparse_span v = { text, 0, len };
    imparse_init_span(p, &v, maxdepth);
}

void imparse_init_span(struct imparse *p, const struct imparse_span *v, unsigned maxdepth)
{
    memset(p, 0, sizeof *p);
    p->base = v->base;
    p->pos = v->start;
    p->end = v->end;
    p->maxdepth = maxdepth > IMPARSE_MAX_DEPTH ? IMPARSE_MAX_DEPTH : maxdepth;
}

int imp_fail(struct imparse *p, int err, size_t pos)
{
    if (!p->err) {
        p->err = err;
        p->errpos = pos;
    }
    return p->err;
}

int imparse_error(const struct imparse *p, size_t *pos)
{
    if (pos)
        *pos = p->err ? p->errpos : p->pos;
    return p->err;
}

int imp_in_code(const struct imparse *p)
{
    unsigned d = p->depth - 1;
    return p->depth > 0 && (p->brackets[d / 8] >> (d % 8) & 1);
}

static int open_level(struct imparse *p, struct imparse_token *t, int bracket)
{
    if (p->depth >= p->maxdepth)
        return imp_fail(p, IMPARSE_EDEPTH, p->pos);
    unsigned d = p->depth++;
    unsigned char bit = (unsigned char)(1u << (d % 8));
    p->brackets[d / 8] = (unsigned char)(bracket ? p->brackets[d / 8] | bit
                                                 : p->brackets[d / 8] & ~bit);
    t->type = bracket ? IMPARSE_CODE_OPEN : IMPARSE_LIST_OPEN;
    p->pos++;
    return 0;
}

static int close_level(struct imparse *p, struct imparse_token *t, int bracket)
{
    if (p->depth == 0 || imp_in_code(p) != bracket)
        return imp_fail(p, IMPARSE_EUNBALANCED, p->pos);
    p->depth--;
    t->type = bracket ? IMPARSE_CODE_CLOSE : IMPARSE_LIST_CLOSE;
    p->pos++;
    return 0;
}

static int at_end(struct imparse *p, struct imparse_token *t)
{
    if (p->depth > 0)
        return imp_fail(p, IMPARSE_ETRUNC, p->pos);
    t->type = IMPARSE_END;
    return 0;
}

/* '~' starts literal8 only before '{' (RFC 3516); else it is an ATOM-CHAR. */
static int is_literal8(const struct imparse *p)
{
    return p->pos + 1 < p->end && p->base[p->pos + 1] == '{';
}

static int dispatch(struct imparse *p, struct imparse_token *t, char c)
{
    switch (c) {
    case '(': return open_level(p, t, 0);
    case ')': return close_level(p, t, 0);
    case '[': return open_level(p, t, 1);
    case '"': return imp_scan_quoted(p, t);
    case '{': return imp_scan_literal(p, t);
    case '~': if (is_literal8(p)) return imp_scan_literal(p, t); break;
    case ']': if (imp_in_code(p)) return close_level(p, t, 1); break;
    }
    return imp_scan_atom(p, t);
}

static int is_close(const struct imparse *p, char c)
{
    return c == ')' || (c == ']' && imp_in_code(p));
}

int imparse_next(struct imparse *p, struct imparse_token *t)
{
    memset(t, 0, sizeof *t);
    if (p->err)
        return p->err;
    size_t before = p->pos;
    while (p->pos < p->end && p->base[p->pos] == ' ')
        p->pos++;
    t->pos = p->pos;
    if (p->pos == p->end)
        return at_end(p, t);
    char c = p->base[p->pos];
    if (p->need_space && p->pos == before && !is_close(p, c))
        return imp_fail(p, IMPARSE_ESYNTAX, p->pos);
    int r = dispatch(p, t, c);
    if (r == 0)
        p->need_space = t->type != IMPARSE_LIST_OPEN && t->type != IMPARSE_CODE_OPEN
                        && t->type != IMPARSE_LIST_CLOSE && t->type != IMPARSE_CODE_CLOSE;
    return r;
}

int imparse_peek(const struct imparse *p, struct imparse_token *t)
{
    struct imparse copy = *p;
    return imparse_next(&copy, t);
}
