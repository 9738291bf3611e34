/*
 * Counting every live malloc'd byte by who asked for it, for the W6
 * benchmark's breakdown build (w6_client_count).  Linking w6_malloc_count.c
 * replaces malloc, calloc, realloc and free for the whole process (the
 * C library's own implementation still does the work): each block is
 * filed under the shared object whose code called the allocator -- the
 * program itself (libcyrus is linked in statically), libc, libsasl2 and
 * its plugins, libevent ... -- and OpenSSL's blocks, through
 * CRYPTO_set_mem_functions(), under the OpenSSL source file that asked.
 * Single-threaded programs only.
 */
#ifndef W6_MALLOC_COUNT_H
#define W6_MALLOC_COUNT_H

#include <stdio.h>

struct w6_count;

/* Call first thing in main(), before OpenSSL allocates anything. */
void w6_count_init(void);
/* What is live now: by category, and by (category, block size). */
struct w6_count *w6_count_snapshot(void);
/* Print what grew between two snapshots, divided by n (connections). */
void w6_count_report(FILE *f, const struct w6_count *before, const struct w6_count *after, int n);

#endif
