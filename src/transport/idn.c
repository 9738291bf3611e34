#include "transport/idn.h"

#include <stdio.h>
#include <string.h>

#include <idn2.h>

#include "cyrus/xmalloc.h"

static int is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* ASCII rules, never the locale's: a host name is the same in every one. */
static int ldh_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '-';
}

static int ldh_label(const char *p, size_t n)
{
    if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!ldh_char(p[i]))
            return 0;
    return 1;
}

/* Letters, digits and inner hyphens in every label (RFC 1123), one root
 * dot allowed at the end. */
static int ldh_name(const char *s)
{
    size_t len = strlen(s);
    if (len > 1 && s[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return 0;
    const char *p = s, *end = s + len;
    for (;;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        const char *stop = dot ? dot : end;
        if (!ldh_label(p, (size_t)(stop - p)))
            return 0;
        if (!dot)
            return 1;
        p = dot + 1;
    }
}

/*
 * Non-transitional processing keeps ß, ς and the joiners as IDNA2008 has
 * them: "faß.example" is its own registered name, and transitional mapping
 * would look up (and verify) "fass.example" instead.  STD3 rules are not
 * asked of libidn2 because it deletes the ASCII they forbid rather than
 * refusing it ("a b" would become "ab"); the result is checked here.
 */
int imc_idn_ascii(const char *host, char **ascii, char *err, size_t errlen)
{
    *ascii = NULL;
    if (is_ascii(host)) {
        *ascii = xstrdup(host);
        return 0;
    }
    char *out = NULL;
    int rc = idn2_to_ascii_8z(host, &out, IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
        snprintf(err, errlen, "\"%s\" has no A-label form (IDNA2008): %s", host,
                 idn2_strerror(rc));
        return -1;
    }
    if (!ldh_name(out)) {
        snprintf(err, errlen, "\"%s\" is not a host name (its A-label form is \"%s\")",
                 host, out);
        idn2_free(out);
        return -1;
    }
    *ascii = xstrdup(out);
    idn2_free(out);
    return 0;
}
