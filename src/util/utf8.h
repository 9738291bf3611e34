/* Strict UTF-8 (RFC 3629), read by the URL code and by the encoder once
 * the server accepts UTF-8 in quoted strings. */
#ifndef IMC_UTF8_H
#define IMC_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the sequence at s (n bytes available): its length, or 0 when it
 * is malformed. */
size_t imc_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);
/* Nonzero if s[0..n) is UTF-8 without U+0000. */
int imc_utf8_valid(const char *s, size_t n);

#endif
