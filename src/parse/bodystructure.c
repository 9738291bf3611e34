/* body = "(" (body-type-1part / body-type-mpart) ")" (RFC 3501), written
 * into the caller's node array in pre-order.  Recursion follows the
 * parentheses, so the tokenizer's nesting limit bounds its depth. */
#include <limits.h>
#include <string.h>

#include "parse/body_internal.h"
#include "util/ascii.h"

static struct imparse_body *node(struct imp_body *b, int i)
{
    return b->nodes ? &b->nodes[i] : &b->scratch;
}

static void clear_span(struct imparse_span *s, const char *base)
{
    s->base = base;
    s->start = s->end = 0;
}

static int new_node(struct imp_body *b, int parent, unsigned depth, int *idx)
{
    if ((b->nodes && b->count == b->max) || b->count >= INT_MAX)
        return imp_fail(&b->tok, IMPARSE_ETOOMANY, b->tok.pos);
    *idx = (int)b->count++;
    struct imparse_body *n = node(b, *idx);
    memset(n, 0, sizeof *n);
    n->parent = parent;
    n->first_child = n->next_sibling = -1;
    n->depth = depth;
    struct imparse_str *strs[] = { &n->type, &n->subtype, &n->id, &n->description,
                                   &n->encoding, &n->md5, &n->disposition, &n->location };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        strs[i]->type = IMPARSE_NIL;
    struct imparse_span *spans[] = { &n->params, &n->disposition_params, &n->language,
                                     &n->extension };
    for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++)
        clear_span(spans[i], b->tok.base);
    return 0;
}

static int part(struct imp_body *b, int parent, unsigned depth, int *idx);

/* body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart] */
static int multipart(struct imp_body *b, int idx, unsigned depth)
{
    struct imparse_token t;
    int prev = -1, child, r;
    while (imp_peek_is(&b->tok, IMPARSE_LIST_OPEN)) {
        if ((r = imparse_next(&b->tok, &t)) || (r = part(b, idx, depth + 1, &child)))
            return r;
        if (prev < 0)
            node(b, idx)->first_child = child;
        else
            node(b, prev)->next_sibling = child;
        prev = child;
    }
    struct imparse_body *n = node(b, idx);
    n->multipart = 1;
    if ((r = imp_nstring(&b->tok, &n->subtype)) != 0)
        return r;
    return imp_body_ext(&b->tok, n, 1);
}

/* body-type-msg = media-message SP body-fields SP envelope SP body SP
 * body-fld-lines; RFC 9051 gives message/global the same form. */
static int message_part(struct imp_body *b, int idx, unsigned depth)
{
    struct imparse_token t;
    int child, r;
    struct imparse_body *n = node(b, idx);
    n->has_envelope = 1;
    if ((r = imp_envelope(&b->tok, &n->envelope)) || (r = imp_expect(&b->tok, IMPARSE_LIST_OPEN, &t))
        || (r = part(b, idx, depth + 1, &child)))
        return r;
    n = node(b, idx);
    n->first_child = child;
    n->has_lines = 1;
    return imp_number(&b->tok, &n->lines);
}

static int is_message(const struct imparse_body *n)
{
    return imparse_str_eq(&n->type, "MESSAGE")
           && (imparse_str_eq(&n->subtype, "RFC822") || imparse_str_eq(&n->subtype, "GLOBAL"));
}

/* body-type-1part: media type, body-fields, then per type: body-type-msg's
 * envelope, body and lines; body-type-text's lines. */
static int single(struct imp_body *b, int idx, unsigned depth)
{
    struct imparse_body *n = node(b, idx);
    int r;
    if ((r = imp_nstring(&b->tok, &n->type)) || (r = imp_nstring(&b->tok, &n->subtype))
        || (r = imp_body_params(&b->tok, &n->params)) || (r = imp_nstring(&b->tok, &n->id))
        || (r = imp_nstring(&b->tok, &n->description))
        || (r = imp_nstring(&b->tok, &n->encoding)) || (r = imp_number(&b->tok, &n->size)))
        return r;
    if (is_message(n) && imp_peek_is(&b->tok, IMPARSE_LIST_OPEN)) {
        if ((r = message_part(b, idx, depth)) != 0)
            return r;
        n = node(b, idx);
    } else if (imparse_str_eq(&n->type, "TEXT")) {
        n->has_lines = 1;
        if ((r = imp_number(&b->tok, &n->lines)) != 0)
            return r;
    }
    return imp_body_ext(&b->tok, n, 0);
}

/* The "(" is read; reads through the matching ")". */
static int part(struct imp_body *b, int parent, unsigned depth, int *idx)
{
    int r = new_node(b, parent, depth, idx);
    if (r)
        return r;
    return imp_peek_is(&b->tok, IMPARSE_LIST_OPEN) ? multipart(b, *idx, depth)
                                                    : single(b, *idx, depth);
}

int imparse_bodystructure(const struct imparse_span *v, struct imparse_body *nodes,
                          size_t max, size_t *count, size_t *errpos)
{
    struct imp_body b;
    struct imparse_token t;
    int root;
    imparse_init_span(&b.tok, v, IMPARSE_MAX_DEPTH);
    b.nodes = nodes;
    b.max = max;
    b.count = 0;
    int r = imp_expect(&b.tok, IMPARSE_LIST_OPEN, &t);
    if (r == 0 && (r = part(&b, -1, 0, &root)) == 0)
        r = imp_expect_end(&b.tok);
    if (count)
        *count = b.count;
    imparse_error(&b.tok, errpos);
    return r;
}
