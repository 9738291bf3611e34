/*
 * The command encoder: turns imclient_send()'s format and arguments into
 * protocol bytes in the output queue.
 *
 *   %%  a percent sign
 *   %a  an atom, sent as is after checking it is one (see imc_is_atom)
 *   %s  an astring: atom, quoted string or literal, whichever the bytes allow
 *   %d  int in decimal;  %u  unsigned int in decimal
 *   %v  NULL-terminated char *[] written as space-separated astrings
 *   %B  int length and bytes, written as base64 (a secret); ends the
 *       format, as in Cyrus 3.x
 *   %L  const struct imclient_literal_source *: a literal ({n}, or ~{n}
 *       with IMCLIENT_LITERAL_BINARY) whose bytes the queue pulls from the
 *       application's source as they can be written (outqueue.h)
 *
 * A literal is "{n}\r\n" followed by a barrier (the rest waits for "+"), or
 * "{n+}\r\n" without one where the server accepts a non-synchronizing
 * literal of that size (IMC_LIT_PLUS, IMC_LIT_MINUS).  A literal of
 * IMC_OUTQ_BLOCK_MIN bytes or more is copied once into a block of its own,
 * except in a command carrying a secret (LOGIN, AUTHENTICATE).
 */
#ifndef IMC_ENCODER_H
#define IMC_ENCODER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/outqueue.h"

enum imc_astring_form { IMC_FORM_ATOM, IMC_FORM_QUOTED, IMC_FORM_LITERAL };

/* What the server accepts, as the encoder needs it (the "lit" arguments). */
enum {
    IMC_LIT_PLUS = 1,  /* any literal may be non-synchronizing (LITERAL+) */
    IMC_LIT_MINUS = 2, /* up to IMC_LITERAL_MINUS_MAX bytes may (LITERAL-) */
    IMC_LIT_UTF8 = 4   /* quoted strings may hold UTF-8 (UTF8=ACCEPT enabled) */
};

/* RFC 7888 section 4: LITERAL- allows {n+} only up to this size. */
#define IMC_LITERAL_MINUS_MAX 4096

/* Strings this long or longer always go as literals. */
#define IMC_QUOTED_MAX 1024

/* Nonzero if s (len bytes) may be sent verbatim where an atom-like token is
 * expected: printable ASCII without space, parentheses, '{' or '"'. */
int imc_is_atom(const char *s, size_t len);
/* With IMC_LIT_UTF8 in lit, well-formed UTF-8 may be quoted; otherwise any
 * byte above 0x7f makes a literal. */
enum imc_astring_form imc_astring_form(const char *s, size_t len, unsigned lit);
/* Nonzero if a literal of len bytes may go as "{len+}". */
int imc_literal_nonsync(unsigned lit, size_t len);

/*
 * Append "<tag> <command>\r\n" to q.  Returns 0, or -1 with a reason in err
 * (an invalid atom, an unknown %-sequence, a NULL string) and q unchanged.
 */
int imc_encode_command(struct imc_outq *q, uint64_t tag, unsigned lit,
                       char *err, size_t errlen, const char *fmt, va_list ap);

/* Append one astring in the form imc_astring_form() picks. */
void imc_encode_astring(struct imc_outq *q, uint64_t tag, unsigned lit,
                        const char *s, size_t len);

#endif
