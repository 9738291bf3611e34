/* Shared by the BODYSTRUCTURE files. */
#ifndef IMC_PARSE_BODY_INTERNAL_H
#define IMC_PARSE_BODY_INTERNAL_H

#include "parse/parse_internal.h"

struct imp_body {
    struct imparse tok;
    struct imparse_body *nodes; /* NULL: check and count only */
    size_t max, count;
    struct imparse_body scratch; /* the node being read when nodes is NULL */
};

/* body-fld-param = "(" string SP string *(SP string SP string) ")" / nil */
int imp_body_params(struct imparse *p, struct imparse_span *params);
/* From after the basic fields through the part's closing ")". */
int imp_body_ext(struct imparse *p, struct imparse_body *n, int multipart);

#endif
