/* A growable byte buffer.  Capacity grows geometrically, so appending n bytes
 * one at a time costs O(n); one spare byte is always kept for a terminating NUL. */
#ifndef IMC_BUF_H
#define IMC_BUF_H

#include <stddef.h>
#include <string.h>

struct imc_buf {
    char *data;
    size_t len;
    size_t cap;
    int wipe; /* holds secrets: bytes it lets go of are zeroed, never left in
                 freed or vacated memory (growth copies, then wipes) */
};

void imc_buf_init(struct imc_buf *b);
void imc_buf_free(struct imc_buf *b);
/* Grow to room for at least extra more bytes (plus the NUL spare). */
void imc_buf_grow(struct imc_buf *b, size_t extra);

/* Inline: every line of every reply passes through these, and almost
 * always there is room already. */
static inline void imc_buf_reserve(struct imc_buf *b, size_t extra)
{
    if (b->len + extra + 1 > b->cap)
        imc_buf_grow(b, extra);
}

static inline void imc_buf_append(struct imc_buf *b, const void *data, size_t len)
{
    if (len == 0)
        return;
    imc_buf_reserve(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void imc_buf_appendc(struct imc_buf *b, char c);
void imc_buf_appendstr(struct imc_buf *b, const char *s);
/* Remove the first n bytes. */
void imc_buf_consume(struct imc_buf *b, size_t n);
/* Remove bytes [from, to). */
void imc_buf_cut(struct imc_buf *b, size_t from, size_t to);
void imc_buf_truncate(struct imc_buf *b, size_t len);
/* NUL-terminate without changing len; returns data. */
char *imc_buf_cstr(struct imc_buf *b);

#endif
