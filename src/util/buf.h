/* A growable byte buffer.  Capacity grows geometrically, so appending n bytes
 * one at a time costs O(n); one spare byte is always kept for a terminating NUL. */
#ifndef IMC_BUF_H
#define IMC_BUF_H

#include <stddef.h>

struct imc_buf {
    char *data;
    size_t len;
    size_t cap;
    int wipe; /* holds secrets: bytes it lets go of are zeroed, never left in
                 freed or vacated memory (growth copies, then wipes) */
};

void imc_buf_init(struct imc_buf *b);
void imc_buf_free(struct imc_buf *b);
/* Make room for at least extra more bytes (plus the NUL spare). */
void imc_buf_reserve(struct imc_buf *b, size_t extra);
void imc_buf_append(struct imc_buf *b, const void *data, size_t len);
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
