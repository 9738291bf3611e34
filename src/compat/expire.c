/*
 * ;EXPIRE= of a URLAUTH URL: RFC 3339 date-time in the URL, time_t in
 * Cyrus 3.x's struct imapurl.  imapurl_parse() has checked the syntax
 * already; this turns the fields into a time, honouring the offset.
 */
#include "compat/compat.h"

#include <stdio.h>

int imc_cyrus3_expire_parse(const char *s, time_t *t)
{
    struct tm tm = { 0 };
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[Tt]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n == 0)
        return -1;
    s += n;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            ;
    long offset = 0;
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int hours, minutes, m = 0;
        if (sscanf(s + 1, "%2d:%2d%n", &hours, &minutes, &m) != 2 || m != 5)
            return -1;
        offset = (*s == '-' ? -1L : 1L) * (hours * 3600L + minutes * 60L);
        s += 1 + m;
    } else {
        return -1;
    }
    if (*s)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    /* Local time = UTC + offset. */
    *t = timegm(&tm) - (time_t)offset;
    return 0;
}

int imc_cyrus3_expire_format(time_t t, char *buf, size_t len)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return -1;
    return strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) ? 0 : -1;
}
