/* Text from the network made fit for an error message.  Applications print
 * imclient_error() to terminals and logs, and a hostile server may put
 * escape sequences, C1 controls or bidirectional overrides into the text
 * we quote; each such byte becomes '?'.  Well-formed UTF-8 otherwise
 * survives, so a reason in another language stays readable. */
#ifndef IMC_SAFE_TEXT_H
#define IMC_SAFE_TEXT_H

#include <stddef.h>

/* Rewrite the NUL-terminated s in place (the result is never longer). */
void imc_safe_text(char *s);

/* Copy at most len bytes of text (which may hold NULs) into out as safe,
 * NUL-terminated text; a UTF-8 sequence is never cut in half. */
void imc_safe_copy(char *out, size_t cap, const char *text, size_t len);

#endif
