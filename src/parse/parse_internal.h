/* What the parse/ files share and applications do not see: the token
 * scanners behind imparse_next and the small readers every helper uses. */
#ifndef IMC_PARSE_INTERNAL_H
#define IMC_PARSE_INTERNAL_H

#include <cyrus/imparse.h>

/* Records the first error and its offset; returns the recorded error. */
int imp_fail(struct imparse *p, int err, size_t pos);
/* Nonzero when the innermost open bracket is '[' (a response code). */
int imp_in_code(const struct imparse *p);

/* Scanners: each starts at p->pos, fills t and moves p->pos past it. */
int imp_scan_atom(struct imparse *p, struct imparse_token *t);
int imp_scan_quoted(struct imparse *p, struct imparse_token *t);
int imp_scan_literal(struct imparse *p, struct imparse_token *t);

/* Readers: the next token must be of the kind named, else
 * IMPARSE_EUNEXPECTED at that token. */
int imp_expect(struct imparse *p, enum imparse_type type, struct imparse_token *t);
int imp_expect_end(struct imparse *p);
int imp_number(struct imparse *p, uint64_t *n);
int imp_nstring(struct imparse *p, struct imparse_str *s);
int imp_astring(struct imparse *p, struct imparse_str *s);
/* One value, a token or a whole balanced list, as a span. */
int imp_value(struct imparse *p, struct imparse_span *v, struct imparse_token *first);
/* Nonzero if the next token is of this type (0 on error too: the error
 * stays recorded and the next read returns it). */
int imp_peek_is(const struct imparse *p, enum imparse_type type);

/* Envelope from the current position of p (its "(" not yet read). */
int imp_envelope(struct imparse *p, struct imparse_envelope *env);
/* Runs an iterator over a span to its end: validates it. */
int imp_check_strings(struct imparse *p, const struct imparse_span *v, int pairs);
int imp_check_addresses(struct imparse *p, const struct imparse_span *v);
int imp_check_seqset(struct imparse *p, const struct imparse_str *s);

#endif
