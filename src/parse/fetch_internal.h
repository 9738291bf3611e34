/* Shared by the FETCH files: the item name and the value's decoding. */
#ifndef IMC_PARSE_FETCH_INTERNAL_H
#define IMC_PARSE_FETCH_INTERNAL_H

#include "parse/parse_internal.h"

int imp_fetch_name(struct imparse *p, const struct imparse_token *t,
                   struct imparse_fetch_item *it);
/* Decodes it->value according to it->kind; errors are recorded in p. */
int imp_fetch_value(struct imparse *p, struct imparse_fetch_item *it);

#endif
