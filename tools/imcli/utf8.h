/* Well-formed UTF-8, as both the transcript and the JSON output need it. */
#ifndef IMCLI_UTF8_H
#define IMCLI_UTF8_H

#include <stddef.h>

/* The length of the well-formed UTF-8 sequence at p (1 to 4), 0 if the
 * bytes there are not one, -1 if the n bytes given are the start of one
 * that continues beyond them.  ASCII counts as a sequence of 1. */
int imcli_utf8_seq(const unsigned char *p, size_t n);

/* Nonzero if the whole of p[0..n) is well-formed UTF-8. */
int imcli_utf8_valid(const unsigned char *p, size_t n);

#endif
