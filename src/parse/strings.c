/* String values: copying (quoted strings unescaped) and comparing. */
#include <string.h>

#include <cyrus/imparse.h>
#include "util/ascii.h"

struct imparse_str imparse_token_str(const struct imparse_token *t)
{
    struct imparse_str s = { t->type, t->data, t->len };
    return s;
}

/* quoted-specials are the only escapes (RFC 3501 QUOTED-CHAR). */
static int unescape_at(const struct imparse_str *s, size_t *i, char *c)
{
    *c = s->data[(*i)++];
    if (s->type != IMPARSE_QUOTED || *c != '\\')
        return 0;
    if (*i == s->len || (s->data[*i] != '"' && s->data[*i] != '\\'))
        return IMPARSE_ESYNTAX;
    *c = s->data[(*i)++];
    return 0;
}

int imparse_str_copy(const struct imparse_str *s, char *buf, size_t size, size_t *len)
{
    size_t n = 0;
    for (size_t i = 0; s->data && i < s->len;) {
        char c;
        if (unescape_at(s, &i, &c))
            return IMPARSE_ESYNTAX;
        if (n + 1 >= size)
            return IMPARSE_EBUFFER;
        buf[n++] = c;
    }
    if (size == 0)
        return IMPARSE_EBUFFER;
    buf[n] = '\0';
    if (len)
        *len = n;
    return 0;
}

int imparse_str_eq(const struct imparse_str *s, const char *lit)
{
    if (s->type == IMPARSE_NIL || !s->data)
        return 0;
    size_t i = 0, k = 0, n = strlen(lit);
    while (i < s->len) {
        char c;
        if (k == n || unescape_at(s, &i, &c) || !imc_ascii_eq(&c, &lit[k], 1))
            return 0;
        k++;
    }
    return k == n;
}
