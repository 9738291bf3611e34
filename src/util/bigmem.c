#include "util/bigmem.h"

#include <stdlib.h>
#include <sys/mman.h>

#include "cyrus/xmalloc.h"

#define HUGE_PAGE ((size_t)2 << 20)

void *imc_bigmem_alloc(size_t len)
{
    if (len < IMC_BIGMEM_MIN)
        return xmalloc(len ? len : 1);
    /* Only a hint: without transparent huge pages nothing changes. */
    size_t rounded = (len + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    void *p = aligned_alloc(HUGE_PAGE, rounded);
    if (!p)
        return xmalloc(len);
#ifdef MADV_HUGEPAGE
    (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}
