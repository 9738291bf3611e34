/*
 * Memory for a large block that is filled at once (a deep pipeline's tag
 * table, a literal's copy): from IMC_BIGMEM_MIN bytes on it is rounded up
 * to and aligned on 2 MiB huge pages and the kernel is asked to back it
 * with them, so filling it costs a few page faults instead of one per
 * 4 KiB page.  Page faults cost several microseconds each on the VM we
 * measure on, more than the work the memory was for (docs/PERFORMANCE.md,
 * W3 and W5); the price is up to 2 MiB of rounding while the block lives.
 * Free it with free().
 */
#ifndef IMC_BIGMEM_H
#define IMC_BIGMEM_H

#include <stddef.h>

#define IMC_BIGMEM_MIN ((size_t)256 << 10)

void *imc_bigmem_alloc(size_t len);

#endif
