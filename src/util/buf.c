#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

#include "cyrus/xmalloc.h"

void imc_buf_init(struct imc_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->wipe = 0;
}

void imc_buf_free(struct imc_buf *b)
{
    if (b->wipe && b->data)
        explicit_bzero(b->data, b->cap);
    free(b->data);
    imc_buf_init(b);
}

void imc_buf_grow(struct imc_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap * 2;
    if (b->wipe && b->data) {
        /* realloc() could leave the old block's secrets in freed memory. */
        char *data = xmalloc(cap);
        memcpy(data, b->data, b->len);
        explicit_bzero(b->data, b->cap);
        free(b->data);
        b->data = data;
    } else {
        b->data = xrealloc(b->data, cap);
    }
    b->cap = cap;
}

void imc_buf_appendc(struct imc_buf *b, char c)
{
    imc_buf_reserve(b, 1);
    b->data[b->len++] = c;
}

void imc_buf_appendstr(struct imc_buf *b, const char *s)
{
    imc_buf_append(b, s, strlen(s));
}

void imc_buf_consume(struct imc_buf *b, size_t n)
{
    imc_buf_cut(b, 0, n);
}

void imc_buf_cut(struct imc_buf *b, size_t from, size_t to)
{
    if (to > b->len)
        to = b->len;
    if (from >= to)
        return;
    memmove(b->data + from, b->data + to, b->len - to);
    b->len -= to - from;
    if (b->wipe)
        explicit_bzero(b->data + b->len, to - from);
}

void imc_buf_truncate(struct imc_buf *b, size_t len)
{
    if (len >= b->len)
        return;
    if (b->wipe)
        explicit_bzero(b->data + len, b->len - len);
    b->len = len;
}

char *imc_buf_cstr(struct imc_buf *b)
{
    imc_buf_reserve(b, 0);
    b->data[b->len] = '\0';
    return b->data;
}
