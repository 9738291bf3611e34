/*
 * The commands in flight, keyed by tag, in a table indexed by tag modulo
 * its size, kept larger than the span from the oldest tag in flight to the
 * newest: lookups cost one index with ten commands in flight or a hundred
 * thousand.
 */
#ifndef IMC_TAGTABLE_H
#define IMC_TAGTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "cyrus/imclient.h"

struct imc_command {
    uint64_t tag;
    imclient_proc_t *finish;
    void *rock;
    uint64_t start;  /* stream offset of the command's first byte */
    long stamp;      /* when it was queued (the caller's clock, in ms) */
};

struct imc_tagtable {
    struct imc_command *slots; /* tag 0 marks an empty slot */
    size_t cap;                /* power of two, more than hi - lo */
    size_t count;
    uint64_t lo, hi;           /* oldest and newest tag in flight, while count > 0 */
};

void imc_tagtable_init(struct imc_tagtable *t);
void imc_tagtable_free(struct imc_tagtable *t);
void imc_tagtable_add(struct imc_tagtable *t, const struct imc_command *cmd);
struct imc_command *imc_tagtable_find(struct imc_tagtable *t, uint64_t tag);
/* Remove tag; copies the entry to *out.  Returns 0, or -1 if absent. */
int imc_tagtable_remove(struct imc_tagtable *t, uint64_t tag, struct imc_command *out);
/* Give back the room a burst of commands left, keeping room to grow
 * into.  Pointers from find() do not survive it. */
void imc_tagtable_trim(struct imc_tagtable *t);
/* Remove every entry into a new array sorted by tag; *n gets the count. */
struct imc_command *imc_tagtable_drain(struct imc_tagtable *t, size_t *n);

#endif
