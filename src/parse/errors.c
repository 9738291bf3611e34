/* Names of the imparse error codes, for logs and messages. */
#include <cyrus/imparse.h>

const char *imparse_strerror(int err)
{
    switch (err) {
    case IMPARSE_OK:          return "no error";
    case IMPARSE_ETRUNC:      return "truncated input";
    case IMPARSE_ESYNTAX:     return "syntax error";
    case IMPARSE_EOVERFLOW:   return "number too large";
    case IMPARSE_EDEPTH:      return "nesting too deep";
    case IMPARSE_EUNBALANCED: return "unbalanced parenthesis or bracket";
    case IMPARSE_EUNEXPECTED: return "unexpected token";
    case IMPARSE_ETOOMANY:    return "too many items for the caller's array";
    case IMPARSE_EBUFFER:     return "buffer too small";
    default:                  return "unknown error";
    }
}
