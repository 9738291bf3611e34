#include "core/capabilities.h"

#include <string.h>

#include "util/ascii.h"

void imc_caps_init(struct imc_caps *c)
{
    memset(c, 0, sizeof *c);
    imc_buf_init(&c->list);
}

void imc_caps_free(struct imc_caps *c)
{
    imc_buf_free(&c->list);
}

void imc_caps_forget(struct imc_caps *c)
{
    c->known = 0;
    c->truncated = 0;
    c->bits = 0;
    imc_buf_free(&c->list);
}

static int atom_is(const char *a, size_t n, const char *name)
{
    return n == strlen(name) && imc_ascii_eq(a, name, n);
}

static unsigned bit_of(const char *a, size_t n)
{
    if (atom_is(a, n, "LITERAL+"))
        return IMC_CAP_LITERALPLUS;
    if (atom_is(a, n, "LITERAL-"))
        return IMC_CAP_LITERALMINUS;
    if (atom_is(a, n, "BINARY"))
        return IMC_CAP_BINARY;
    if (atom_is(a, n, "UTF8=ACCEPT") || atom_is(a, n, "UTF8=ONLY"))
        return IMC_CAP_UTF8ACCEPT;
    return 0;
}

/* Calls fn for each space-separated atom of text[0..len) before a "]". */
static void each_atom(const char *text, size_t len, void (*fn)(struct imc_caps *, const char *, size_t),
                      struct imc_caps *c)
{
    size_t i = 0;
    while (i < len && text[i] != ']') {
        while (i < len && text[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && text[i] != ' ' && text[i] != ']')
            i++;
        if (i > start)
            fn(c, text + start, i - start);
    }
}

static void keep(struct imc_caps *c, const char *a, size_t n)
{
    c->bits |= bit_of(a, n);
    if (c->list.len + n + 1 > IMC_CAPS_LIST_MAX) {
        c->truncated = 1;
        return;
    }
    size_t at = c->list.len;
    imc_buf_append(&c->list, a, n);
    for (size_t i = at; i < c->list.len; i++)
        c->list.data[i] = imc_ascii_upper(c->list.data[i]);
    imc_buf_appendc(&c->list, ' ');
}

void imc_caps_add(struct imc_caps *c, const char *text, size_t len)
{
    c->known = 1;
    each_atom(text, len, keep, c);
}

void imc_caps_learn(struct imc_caps *c, const char *text, size_t len)
{
    imc_caps_forget(c);
    imc_caps_add(c, text, len);
}

static void enable(struct imc_caps *c, const char *a, size_t n)
{
    /* Only what changes how we write commands is tracked. */
    if (bit_of(a, n) == IMC_CAP_UTF8ACCEPT)
        c->enabled |= IMC_CAP_UTF8ACCEPT;
}

void imc_caps_enabled(struct imc_caps *c, const char *text, size_t len)
{
    each_atom(text, len, enable, c);
}

void imc_caps_copy(struct imc_caps *dst, const struct imc_caps *src)
{
    imc_buf_free(&dst->list);
    *dst = *src;
    imc_buf_init(&dst->list);
    if (src->list.len > 0)
        imc_buf_append(&dst->list, src->list.data, src->list.len);
}

int imc_caps_has(const struct imc_caps *c, const char *name, size_t len)
{
    if (!c->known)
        return -1;
    for (size_t i = 0; i < c->list.len;) {
        const char *sp = memchr(c->list.data + i, ' ', c->list.len - i);
        size_t n = (size_t)(sp - (c->list.data + i));
        if (n == len && imc_ascii_eq(c->list.data + i, name, len))
            return 1;
        i += n + 1;
    }
    return c->truncated ? -1 : 0;
}
