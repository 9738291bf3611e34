/* Allocation that cannot fail: running out of memory is the one error the
 * library cannot report through a connection, so it goes to fatal(). */
#include "cyrus/xmalloc.h"

#include "util/fatal.h"

#define EX_TEMPFAIL 75 /* sysexits.h: out of memory is a temporary failure */

static void *check(void *p)
{
    if (!p)
        fatal("Virtual memory exhausted", EX_TEMPFAIL);
    return p;
}

void *xmalloc(size_t size)
{
    return check(malloc(size ? size : 1));
}

void *xzmalloc(size_t size)
{
    return check(calloc(1, size ? size : 1));
}

void *xcalloc(size_t nmemb, size_t size)
{
    if (nmemb == 0 || size == 0)
        return xzmalloc(1);
    return check(calloc(nmemb, size));
}

void *xrealloc(void *ptr, size_t size)
{
    return check(realloc(ptr, size ? size : 1));
}

char *xstrdup(const char *str)
{
    return xmemdup(str, strlen(str) + 1);
}

char *xstrndup(const char *str, size_t len)
{
    size_t n = strnlen(str, len);
    char *p = xmalloc(n + 1);
    memcpy(p, str, n);
    p[n] = '\0';
    return p;
}

void *xmemdup(const void *ptr, size_t size)
{
    void *p = xmalloc(size);
    memcpy(p, ptr, size);
    return p;
}
