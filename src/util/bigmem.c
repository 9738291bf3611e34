#include "util/bigmem.h"

#include <stdlib.h>
#include <sys/mman.h>

#include "cyrus/xmalloc.h"

#define HUGE_PAGE ((size_t)2 << 20)

void *imc_bigmem_alloc(size_t len)
{
    if (len < HUGE_PAGE)
        return xmalloc(len ? len : 1);
    /* Filling a 64 MiB block page by page cost more than sending it on
     * the machine we measured (docs/PERFORMANCE.md, W5); the hint is only
     * a hint, and without transparent huge pages nothing changes. */
    size_t rounded = (len + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    void *p = aligned_alloc(HUGE_PAGE, rounded);
    if (!p)
        return xmalloc(len);
#ifdef MADV_HUGEPAGE
    (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}
