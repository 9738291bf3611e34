/*
 * libFuzzer target for the reply-text parsers: the input is one reply's
 * text; the tokenizer reads all of it and every helper runs on it.
 *
 * Invariants checked on every input: no crash or sanitizer report (the
 * input is an exact-size buffer, so a read past textlen is caught); every
 * token, string and span lies within the text; every error offset is at
 * most textlen; tokenizing twice gives the same result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cyrus/imparse.h>

struct text {
    const char *p;
    size_t len;
};

static void in_text(const struct text *t, const char *data, size_t len)
{
    if (data && (data < t->p || len > t->len || data - t->p > (ptrdiff_t)(t->len - len)))
        abort();
}

static void str_ok(const struct text *t, const struct imparse_str *s)
{
    char buf[64];
    size_t n;
    in_text(t, s->data, s->len);
    if (imparse_str_copy(s, buf, sizeof buf, &n) == 0 && (n >= sizeof buf || buf[n] != '\0'))
        abort();
    (void)imparse_str_eq(s, "NIL");
}

static void span_ok(const struct text *t, const struct imparse_span *v)
{
    if (v->base && (v->base != t->p || v->start > v->end || v->end > t->len))
        abort();
}

static void pos_ok(const struct text *t, size_t pos)
{
    if (pos > t->len)
        abort();
}

static int tokenize(const struct text *t, unsigned depth, uint64_t *sum)
{
    struct imparse p;
    struct imparse_token tok;
    int r;
    size_t pos;
    imparse_init(&p, t->p, t->len, depth);
    while ((r = imparse_next(&p, &tok)) == 0 && tok.type != IMPARSE_END) {
        pos_ok(t, tok.pos);
        in_text(t, tok.data, tok.len);
        struct imparse_str s = imparse_token_str(&tok);
        str_ok(t, &s);
        *sum = *sum * 31 + tok.type + tok.len + tok.number;
    }
    imparse_error(&p, &pos);
    pos_ok(t, pos);
    return r;
}

static void strings(const struct text *t, const struct imparse_span *v, int pairs)
{
    struct imparse_iter it;
    struct imparse_str a, b;
    span_ok(t, v);
    imparse_iter_begin(&it, v);
    while ((pairs ? imparse_params_next(&it, &a, &b) : imparse_iter_next(&it, &a)) == 1) {
        str_ok(t, &a);
        if (pairs)
            str_ok(t, &b);
    }
    (void)imparse_iter_has(v, "\\Seen");
}

static void seqset(const struct text *t, const struct imparse_str *s)
{
    struct imparse_seqset it;
    uint32_t lo, hi;
    if (s->type != IMPARSE_ATOM && s->type != IMPARSE_NUMBER)
        return;
    imparse_seqset_begin(&it, s, t->p);
    while (imparse_seqset_next(&it, &lo, &hi) == 1)
        if (lo > hi && hi != IMPARSE_STAR)
            abort();
    if (it.err)
        pos_ok(t, it.errpos);
}

static void addresses(const struct text *t, const struct imparse_span *list)
{
    struct imparse_iter it;
    struct imparse_address a;
    span_ok(t, list);
    imparse_addresses_begin(&it, list);
    while (imparse_addresses_next(&it, &a) == 1) {
        str_ok(t, &a.name);
        str_ok(t, &a.adl);
        str_ok(t, &a.mailbox);
        str_ok(t, &a.host);
    }
}

static void envelope_ok(const struct text *t, const struct imparse_envelope *e)
{
    const struct imparse_span *lists[] = { &e->from, &e->sender, &e->reply_to,
                                           &e->to, &e->cc, &e->bcc };
    str_ok(t, &e->date);
    str_ok(t, &e->subject);
    str_ok(t, &e->in_reply_to);
    str_ok(t, &e->message_id);
    for (size_t i = 0; i < 6; i++)
        addresses(t, lists[i]);
}

static void envelope(const struct text *t, const struct imparse_span *v)
{
    struct imparse_envelope e;
    size_t pos;
    if (imparse_envelope(v, &e, &pos) == 0)
        envelope_ok(t, &e);
    pos_ok(t, pos);
}

static void body_node(const struct text *t, const struct imparse_body *n, size_t count)
{
    if (n->parent >= (int)count || n->first_child >= (int)count || n->next_sibling >= (int)count)
        abort();
    str_ok(t, &n->type);
    str_ok(t, &n->subtype);
    str_ok(t, &n->disposition);
    strings(t, &n->params, 1);
    strings(t, &n->disposition_params, 1);
    strings(t, &n->language, 0);
    span_ok(t, &n->extension);
    if (n->has_envelope)
        envelope_ok(t, &n->envelope);
}

static void body(const struct text *t, const struct imparse_span *v)
{
    enum { MAX = 16 };
    struct imparse_body nodes[MAX];
    size_t count, counted, pos;
    int checked = imparse_bodystructure(v, NULL, 0, &counted, &pos);
    pos_ok(t, pos);
    int r = imparse_bodystructure(v, nodes, MAX, &count, &pos);
    pos_ok(t, pos);
    if (r == 0 && (checked != 0 || count != counted))
        abort();
    for (size_t i = 0; r == 0 && i < count; i++)
        body_node(t, &nodes[i], count);
}

static void fetch_item(const struct text *t, const struct imparse_fetch_item *it)
{
    struct imparse_datetime dt;
    str_ok(t, &it->name);
    str_ok(t, &it->section);
    str_ok(t, &it->string);
    span_ok(t, &it->value);
    if (it->kind == IMPARSE_FETCH_FLAGS)
        strings(t, &it->value, 0);
    else if (it->kind == IMPARSE_FETCH_ENVELOPE)
        envelope(t, &it->value);
    else if (it->kind == IMPARSE_FETCH_BODYSTRUCTURE)
        body(t, &it->value);
    else if (it->kind == IMPARSE_FETCH_INTERNALDATE)
        (void)imparse_datetime(&it->string, &dt);
}

static void fetch(const struct text *t)
{
    struct imparse_fetch f;
    struct imparse_fetch_item it;
    size_t pos;
    if (imparse_fetch_begin(&f, t->p, t->len) == 0)
        while (imparse_fetch_next(&f, &it) == 1)
            fetch_item(t, &it);
    imparse_error(&f.tok, &pos);
    pos_ok(t, pos);
    /* The value parsers on their own, for inputs that are one value. */
    struct imparse_span whole = { t->p, 0, t->len };
    envelope(t, &whole);
    body(t, &whole);
}

static void list_status(const struct text *t)
{
    struct imparse_list l;
    struct imparse_status st;
    struct imparse_str attr;
    struct imparse_span raw;
    uint64_t v;
    size_t pos;
    if (imparse_list(t->p, t->len, &l, &pos) == 0) {
        strings(t, &l.attributes, 0);
        str_ok(t, &l.mailbox);
        span_ok(t, &l.extended);
    }
    pos_ok(t, pos);
    if (imparse_status_begin(&st, t->p, t->len) == 0)
        while (imparse_status_next(&st, &attr, &v, &raw) == 1) {
            str_ok(t, &attr);
            span_ok(t, &raw);
        }
    imparse_error(&st.tok, &pos);
    pos_ok(t, pos);
}

static void searches(const struct text *t)
{
    struct imparse_search s;
    struct imparse_esearch e;
    uint64_t n;
    size_t pos;
    imparse_search_begin(&s, t->p, t->len);
    while (imparse_search_next(&s, &n) == 1)
        ;
    imparse_error(&s.tok, &pos);
    pos_ok(t, pos);
    if (imparse_esearch(t->p, t->len, &e, &pos) == 0) {
        str_ok(t, &e.tag);
        seqset(t, &e.all);
    }
    pos_ok(t, pos);
    struct imparse_str atom = { IMPARSE_ATOM, t->p, t->len };
    seqset(t, &atom);
}

static void codes(const struct text *t)
{
    struct imparse_code c;
    struct imparse_iter it;
    struct imparse_str s;
    size_t pos;
    if (imparse_code(t->p, t->len, &c, &pos) >= 0) {
        str_ok(t, &c.name);
        str_ok(t, &c.text);
        span_ok(t, &c.data);
        seqset(t, &c.set1);
        seqset(t, &c.set2);
        if (c.kind == IMPARSE_CODE_CAPABILITY || c.kind == IMPARSE_CODE_PERMANENTFLAGS)
            strings(t, &c.data, 0);
    }
    pos_ok(t, pos);
    imparse_capability_begin(&it, t->p, t->len);
    while (imparse_iter_next(&it, &s) == 1)
        str_ok(t, &s);
    (void)imparse_capability_has(t->p, t->len, "IMAP4rev1");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct text t = { (const char *)data, size };
    uint64_t a = 0, b = 0;
    int r1 = tokenize(&t, IMPARSE_DEFAULT_DEPTH, &a);
    int r2 = tokenize(&t, IMPARSE_DEFAULT_DEPTH, &b);
    if (r1 != r2 || a != b)
        abort();
    (void)tokenize(&t, size % (IMPARSE_MAX_DEPTH + 2), &a);
    fetch(&t);
    list_status(&t);
    searches(&t);
    codes(&t);
    return 0;
}
