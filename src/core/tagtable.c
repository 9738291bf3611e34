#include "core/tagtable.h"

#include <string.h>

#include "cyrus/xmalloc.h"

/* Tags are sequential, so a multiplicative hash spreads neighbours apart. */
static size_t slot_of(const struct imc_tagtable *t, uint64_t tag)
{
    return (size_t)((tag * 0x9E3779B97F4A7C15ull) >> 17) & (t->cap - 1);
}

/* Enough for the one or two commands an idle or interactive connection
 * has in flight; a pipelining one grows it, and trim gives it back. */
#define MIN_CAP 4

void imc_tagtable_init(struct imc_tagtable *t)
{
    t->cap = MIN_CAP;
    t->count = 0;
    t->slots = xcalloc(t->cap, sizeof *t->slots);
}

void imc_tagtable_free(struct imc_tagtable *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->count = 0;
}

static void insert(struct imc_tagtable *t, const struct imc_command *cmd)
{
    size_t i = slot_of(t, cmd->tag);
    while (t->slots[i].tag != 0)
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = *cmd;
}

static void resize(struct imc_tagtable *t, size_t cap)
{
    struct imc_command *old = t->slots;
    size_t oldcap = t->cap;
    t->cap = cap;
    t->slots = xcalloc(t->cap, sizeof *t->slots);
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].tag != 0)
            insert(t, &old[i]);
    free(old);
}

void imc_tagtable_add(struct imc_tagtable *t, const struct imc_command *cmd)
{
    if ((t->count + 1) * 2 > t->cap)
        resize(t, t->cap * 2);
    insert(t, cmd);
    t->count++;
}

static size_t find_slot(const struct imc_tagtable *t, uint64_t tag)
{
    if (tag == 0)
        return t->cap;
    size_t i = slot_of(t, tag);
    while (t->slots[i].tag != 0) {
        if (t->slots[i].tag == tag)
            return i;
        i = (i + 1) & (t->cap - 1);
    }
    return t->cap;
}

void imc_tagtable_trim(struct imc_tagtable *t)
{
    size_t cap = MIN_CAP;
    while ((t->count + 1) * 2 > cap)
        cap *= 2;
    /* Only well past the load that would make it grow again. */
    if (cap * 4 <= t->cap)
        resize(t, cap);
}

struct imc_command *imc_tagtable_find(struct imc_tagtable *t, uint64_t tag)
{
    size_t i = find_slot(t, tag);
    return i < t->cap ? &t->slots[i] : NULL;
}

int imc_tagtable_remove(struct imc_tagtable *t, uint64_t tag, struct imc_command *out)
{
    size_t i = find_slot(t, tag);
    if (i == t->cap)
        return -1;
    if (out)
        *out = t->slots[i];
    /* Backward-shift deletion keeps every probe chain unbroken without
     * tombstones. */
    size_t mask = t->cap - 1;
    size_t hole = i;
    for (size_t j = (i + 1) & mask; t->slots[j].tag != 0; j = (j + 1) & mask) {
        size_t home = slot_of(t, t->slots[j].tag);
        /* Move j into the hole unless its home lies cyclically in (hole, j]. */
        int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    memset(&t->slots[hole], 0, sizeof t->slots[hole]);
    t->count--;
    return 0;
}

static int by_tag(const void *a, const void *b)
{
    uint64_t x = ((const struct imc_command *)a)->tag;
    uint64_t y = ((const struct imc_command *)b)->tag;
    return (x > y) - (x < y);
}

struct imc_command *imc_tagtable_drain(struct imc_tagtable *t, size_t *n)
{
    struct imc_command *all = xcalloc(t->count ? t->count : 1, sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].tag != 0)
            all[k++] = t->slots[i];
    memset(t->slots, 0, t->cap * sizeof *t->slots);
    t->count = 0;
    qsort(all, k, sizeof *all, by_tag);
    *n = k;
    return all;
}
