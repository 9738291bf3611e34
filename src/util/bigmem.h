/*
 * Memory for one large block that is filled once and read once (a
 * literal's copy): for 2 MiB and more it is aligned to huge pages and the
 * kernel is asked to back it with them, so filling it costs a few page
 * faults instead of one per 4 KiB page.  Free it with free().
 */
#ifndef IMC_BIGMEM_H
#define IMC_BIGMEM_H

#include <stddef.h>

void *imc_bigmem_alloc(size_t len);

#endif
