/* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time
 * SP zone DQUOTE (RFC 3501), e.g. " 7-Jul-1996 02:44:25 -0700". */
#include <string.h>

#include "parse/parse_internal.h"
#include "util/ascii.h"

static int digits(const char *s, size_t n, int *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

static int month(const char *s)
{
    static const char names[] = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
    for (int m = 0; m < 12; m++)
        if (imc_ascii_eq(s, names + 3 * m, 3))
            return m + 1;
    return -1;
}

/* d: "dd-Mon-yyyy hh:mm:ss +zzzz" with the day as two characters. */
static int fields(const char *d, struct imparse_datetime *dt)
{
    int zh, zm;
    if (d[2] != '-' || d[6] != '-' || d[11] != ' ' || d[14] != ':' || d[17] != ':'
        || d[20] != ' ' || (d[21] != '+' && d[21] != '-'))
        return IMPARSE_ESYNTAX;
    if (digits(d + (d[0] == ' '), d[0] == ' ' ? 1 : 2, &dt->day)
        || (dt->month = month(d + 3)) < 0 || digits(d + 7, 4, &dt->year)
        || digits(d + 12, 2, &dt->hour) || digits(d + 15, 2, &dt->minute)
        || digits(d + 18, 2, &dt->second) || digits(d + 22, 2, &zh) || digits(d + 24, 2, &zm))
        return IMPARSE_ESYNTAX;
    if (dt->day < 1 || dt->day > 31 || dt->hour > 23 || dt->minute > 59 || dt->second > 60
        || zm > 59)
        return IMPARSE_ESYNTAX;
    dt->zone = (d[21] == '-' ? -1 : 1) * (zh * 60 + zm);
    return 0;
}

int imparse_datetime(const struct imparse_str *s, struct imparse_datetime *dt)
{
    char d[26];
    /* A one-digit day without its leading space is common enough to take. */
    if (s->data && s->len == 25) {
        d[0] = ' ';
        memcpy(d + 1, s->data, 25);
    } else if (s->data && s->len == 26) {
        memcpy(d, s->data, 26);
    } else {
        return IMPARSE_ESYNTAX;
    }
    return fields(d, dt);
}
