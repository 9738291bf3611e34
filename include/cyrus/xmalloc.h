/*
 * cyrus/xmalloc.h - allocation helpers that never return NULL.
 *
 * When memory runs out they call the application's fatal() (or the library's
 * default, which prints the message and exits) instead of returning.
 * <stdlib.h> and <string.h> come along because programs written for this
 * interface, the imclient(3) example among them, expect them from here.
 */
#ifndef CYRUS_XMALLOC_H
#define CYRUS_XMALLOC_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

void *xmalloc(size_t size);
void *xzmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *str);
char *xstrndup(const char *str, size_t len);
void *xmemdup(const void *ptr, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* CYRUS_XMALLOC_H */
