#include "core/tagtable.h"

#include <string.h>

#include "cyrus/xmalloc.h"
#include "util/bigmem.h"

/*
 * Tags are handed out in order and mostly answered in order, so the tags in
 * flight lie between the oldest and the newest, a span that is rarely much
 * longer than their count.  The table keeps the span shorter than its
 * capacity, which puts every tag in flight in its own slot, tag mod cap:
 * finding, adding and removing are one index each, with no probing, and a
 * deep pipeline walks the table in cache order.  A command answered late
 * keeps the span, and so the table, as long as the commands sent after it;
 * the command timeout bounds how long that lasts.
 */

/* Enough for the one or two commands an idle or interactive connection
 * has in flight; a pipelining one grows it, and trim gives it back. */
#define MIN_CAP 4

static size_t slot_of(const struct imc_tagtable *t, uint64_t tag)
{
    return (size_t)(tag & (t->cap - 1));
}

/* A deep pipeline's table (a quarter MiB from about 6,500 commands in
 * flight) goes in huge pages when the kernel gives them: filling it costs
 * a few page faults instead of thousands, which were most of a pipelined
 * command's cost (docs/PERFORMANCE.md, W3). */
static struct imc_command *alloc_slots(size_t cap)
{
    size_t bytes = cap * sizeof(struct imc_command);
    if (bytes < IMC_BIGMEM_MIN)
        return xcalloc(cap, sizeof(struct imc_command));
    struct imc_command *slots = imc_bigmem_alloc(bytes);
    memset(slots, 0, bytes);
    return slots;
}

void imc_tagtable_init(struct imc_tagtable *t)
{
    t->cap = MIN_CAP;
    t->count = 0;
    t->lo = t->hi = 0;
    t->slots = alloc_slots(t->cap);
}

void imc_tagtable_free(struct imc_tagtable *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->count = 0;
}

/* A table under IMC_BIGMEM_MIN grows where it lies: realloc() extends it
 * (or moves its pages) rather than taking a fresh table every doubling.
 * An entry's new slot is its old one or above the old end, which is empty,
 * so one pass moves each entry at most once. */
static void grow_in_place(struct imc_tagtable *t, size_t cap)
{
    size_t oldcap = t->cap;
    t->slots = xrealloc(t->slots, cap * sizeof *t->slots);
    memset(t->slots + oldcap, 0, (cap - oldcap) * sizeof *t->slots);
    t->cap = cap;
    for (size_t i = 0; i < oldcap; i++) {
        struct imc_command *c = &t->slots[i];
        if (c->tag == 0)
            continue;
        size_t j = slot_of(t, c->tag);
        if (j != i) {
            t->slots[j] = *c;
            memset(c, 0, sizeof *c);
        }
    }
}

/* Move every entry into a table of cap slots, which must exceed the span. */
static void resize(struct imc_tagtable *t, size_t cap)
{
    if (cap > t->cap && cap * sizeof *t->slots < IMC_BIGMEM_MIN) {
        grow_in_place(t, cap);
        return;
    }
    struct imc_command *old = t->slots;
    size_t oldcap = t->cap;
    t->cap = cap;
    t->slots = alloc_slots(cap);
    /* Only the span holds entries: walk it, not the whole old table. */
    if (t->count > 0)
        for (uint64_t tag = t->lo; tag <= t->hi; tag++) {
            const struct imc_command *c = &old[tag & (oldcap - 1)];
            if (c->tag == tag)
                t->slots[slot_of(t, tag)] = *c;
        }
    free(old);
}

static size_t cap_for(uint64_t span)
{
    size_t cap = MIN_CAP;
    while (cap <= span)
        cap *= 2;
    return cap;
}

void imc_tagtable_add(struct imc_tagtable *t, const struct imc_command *cmd)
{
    uint64_t tag = cmd->tag;
    if (t->count == 0)
        t->lo = t->hi = tag;
    if (tag < t->lo)
        t->lo = tag;
    if (tag > t->hi)
        t->hi = tag;
    if (t->hi - t->lo >= t->cap)
        resize(t, cap_for(t->hi - t->lo));
    t->slots[slot_of(t, tag)] = *cmd;
    t->count++;
}

void imc_tagtable_trim(struct imc_tagtable *t)
{
    if (t->count == 0) {
        if (t->cap > MIN_CAP)
            resize(t, MIN_CAP);
        return;
    }
    size_t cap = cap_for(t->hi - t->lo);
    /* Only once far larger than it needs: halving a table as a few
     * commands end and doubling it as the next ones start costs more than
     * it saves, and a deep pipeline draining shrinks it in a few steps
     * instead of one per halving. */
    if (cap * 64 <= t->cap)
        resize(t, cap);
}

struct imc_command *imc_tagtable_find(struct imc_tagtable *t, uint64_t tag)
{
    if (tag == 0 || t->count == 0 || tag < t->lo || tag > t->hi)
        return NULL;
    struct imc_command *c = &t->slots[slot_of(t, tag)];
    return c->tag == tag ? c : NULL;
}

int imc_tagtable_remove(struct imc_tagtable *t, uint64_t tag, struct imc_command *out)
{
    struct imc_command *c = imc_tagtable_find(t, tag);
    if (!c)
        return -1;
    if (out)
        *out = *c;
    memset(c, 0, sizeof *c);
    t->count--;
    if (t->count == 0)
        return 0;
    /* The bounds move inward to the nearest tag still in flight: each step
     * passes a tag answered for good, so over a connection's life they
     * cost one step per command. */
    while (tag == t->lo && t->slots[slot_of(t, t->lo)].tag != t->lo)
        tag = ++t->lo;
    while (tag == t->hi && t->slots[slot_of(t, t->hi)].tag != t->hi)
        tag = --t->hi;
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
