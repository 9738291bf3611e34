/* ;SECTION= must be an RFC 3501 section-spec: it is pasted between the
 * brackets of "UID FETCH n BODY.PEEK[...]", so only the grammar's own
 * characters may pass (no CR, LF or "]" from a link reaching the wire).
 *
 *   section-spec    = section-msgtext / (section-part ["." section-text])
 *   section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
 *   section-part    = nz-number *("." nz-number)
 *   section-text    = section-msgtext / "MIME"
 *   header-list     = "(" header-fld-name *(SP header-fld-name) ")"
 *
 * Header field names are taken as atoms (RFC 5322 field names without
 * IMAP's atom-specials); quoted names are not accepted. */
#include "url/url.h"

static int field_char(char c)
{
    if (c <= 0x20 || c >= 0x7F || c == ':')
        return 0;
    switch (c) {
    case '(': case ')': case '{': case '"': case '\\': case ']': case '%': case '*':
        return 0;
    default:
        return 1;
    }
}

static int header_list(const char **p)
{
    const char *s = *p;
    if (*s++ != '(')
        return 0;
    for (;;) {
        if (!field_char(*s))
            return 0;
        while (field_char(*s))
            s++;
        if (*s == ')')
            break;
        if (*s++ != ' ')
            return 0;
    }
    *p = s + 1;
    return 1;
}

static int msgtext(const char **p, int mime_ok)
{
    if (imc_url_keyword(p, "HEADER.FIELDS.NOT ") || imc_url_keyword(p, "HEADER.FIELDS "))
        return header_list(p);
    return imc_url_keyword(p, "HEADER") || imc_url_keyword(p, "TEXT") ||
           (mime_ok && imc_url_keyword(p, "MIME"));
}

int imc_url_section_ok(const char *s)
{
    if (*s < '0' || *s > '9')
        return msgtext(&s, 0) && *s == '\0';
    for (;;) {
        unsigned long part;
        if (imc_url_nz_number(&s, &part) != 0)
            return 0;
        if (*s == '\0')
            return 1;
        if (*s++ != '.')
            return 0;
        if (*s < '0' || *s > '9')
            return msgtext(&s, 1) && *s == '\0';
    }
}
