/* The tag table against a plain array model, through growth and deletion. */
#include <stdlib.h>

#include "check.h"
#include "core/tagtable.h"
#include "util/bigmem.h"

static void add_find_remove(void)
{
    struct imc_tagtable t;
    imc_tagtable_init(&t);
    enum { N = 5000 };
    static char present[N + 1];
    memset(present, 0, sizeof present);
    for (uint64_t tag = 1; tag <= N; tag++) {
        struct imc_command c = { tag, NULL, (void *)(uintptr_t)tag, tag * 10, 0 };
        imc_tagtable_add(&t, &c);
        present[tag] = 1;
    }
    srand(42);
    for (int i = 0; i < N * 3; i++) {
        uint64_t tag = 1 + (uint64_t)rand() % N;
        struct imc_command out;
        int r = imc_tagtable_remove(&t, tag, &out);
        CHECK_INT(r, present[tag] ? 0 : -1);
        if (r == 0) {
            CHECK(out.rock == (void *)(uintptr_t)tag);
            CHECK(out.start == tag * 10);
        }
        present[tag] = 0;
        if (i % 3 == 0) {
            uint64_t back = 1 + (uint64_t)rand() % N;
            if (!present[back]) {
                struct imc_command c = { back, NULL, (void *)(uintptr_t)back, back * 10, 0 };
                imc_tagtable_add(&t, &c);
                present[back] = 1;
            }
        }
    }
    size_t count = 0;
    for (uint64_t tag = 1; tag <= N; tag++) {
        CHECK((imc_tagtable_find(&t, tag) != NULL) == present[tag]);
        count += present[tag];
    }
    CHECK_INT(t.count, count);
    size_t n;
    struct imc_command *all = imc_tagtable_drain(&t, &n);
    CHECK_INT(n, count);
    for (size_t i = 1; i < n; i++)
        CHECK(all[i - 1].tag < all[i].tag);
    free(all);
    CHECK_INT(t.count, 0);
    CHECK(imc_tagtable_find(&t, 1) == NULL);
    CHECK(imc_tagtable_find(&t, 0) == NULL);
    imc_tagtable_free(&t);
}

/* A burst of commands grows the table; once they are answered, trim gives
 * the room back, down to the small start, and what is left stays found. */
static void trim_after_burst(void)
{
    struct imc_tagtable t;
    imc_tagtable_init(&t);
    CHECK_INT(t.cap, 4);
    for (uint64_t tag = 1; tag <= 1000; tag++) {
        struct imc_command c = { tag, NULL, NULL, 0, 0 };
        imc_tagtable_add(&t, &c);
    }
    CHECK_INT(t.cap, 1024);
    imc_tagtable_trim(&t);
    CHECK_INT(t.cap, 1024); /* all still in flight */
    for (uint64_t tag = 1; tag <= 997; tag++)
        CHECK_INT(imc_tagtable_remove(&t, tag, NULL), 0);
    imc_tagtable_trim(&t);
    CHECK_INT(t.cap, 4); /* three left, in a span of three */
    for (uint64_t tag = 998; tag <= 1000; tag++)
        CHECK(imc_tagtable_find(&t, tag) != NULL);
    CHECK(imc_tagtable_find(&t, 5) == NULL);
    CHECK(imc_tagtable_find(&t, 1001) == NULL);
    /* A command answered late keeps the span of those sent after it, and
     * gives it back once they are answered. */
    for (uint64_t tag = 1001; tag <= 1300; tag++) {
        struct imc_command c = { tag, NULL, NULL, 0, 0 };
        imc_tagtable_add(&t, &c);
    }
    CHECK_INT(t.cap, 512);
    for (uint64_t tag = 999; tag <= 1300; tag++)
        CHECK_INT(imc_tagtable_remove(&t, tag, NULL), 0);
    CHECK(imc_tagtable_find(&t, 998) != NULL);
    imc_tagtable_trim(&t);
    CHECK_INT(t.cap, 4);
    CHECK(imc_tagtable_find(&t, 998) != NULL);
    CHECK_INT(imc_tagtable_remove(&t, 998, NULL), 0);
    CHECK_INT(imc_tagtable_remove(&t, 998, NULL), -1);
    /* Halving a table as a few commands end and doubling it as the next
     * ones start would cost more than it saves. */
    for (uint64_t tag = 2001; tag <= 2006; tag++) {
        struct imc_command c = { tag, NULL, NULL, 0, 0 };
        imc_tagtable_add(&t, &c);
    }
    CHECK_INT(t.cap, 8);
    for (uint64_t tag = 2001; tag <= 2004; tag++)
        CHECK_INT(imc_tagtable_remove(&t, tag, NULL), 0);
    imc_tagtable_trim(&t);
    CHECK_INT(t.cap, 8);
    imc_tagtable_free(&t);
}

/* Growth, in place for small tables and into a new one for large, keeps
 * every entry where find() looks, with a late command holding the span
 * open and tags wrapping around the table's end. */
static void growth_keeps_entries(void)
{
    struct imc_tagtable t;
    imc_tagtable_init(&t);
    struct imc_command late = { 3, NULL, (void *)3, 30, 0 };
    imc_tagtable_add(&t, &late);
    uint64_t next = 4, oldest = 4;
    for (int round = 0; round < 14; round++) {
        /* Answer all but the late one, then send twice as many. */
        while (oldest < next)
            CHECK_INT(imc_tagtable_remove(&t, oldest++, NULL), 0);
        uint64_t burst = (uint64_t)8 << round;
        for (uint64_t i = 0; i < burst; i++) {
            struct imc_command c = { next, NULL, (void *)(uintptr_t)next, next * 10, 0 };
            imc_tagtable_add(&t, &c);
            next++;
        }
        CHECK(t.cap > t.hi - t.lo);
        struct imc_command *l = imc_tagtable_find(&t, 3);
        CHECK(l != NULL && l->start == 30);
        for (uint64_t tag = oldest; tag < next; tag += 97) {
            struct imc_command *c = imc_tagtable_find(&t, tag);
            CHECK(c != NULL && c->start == tag * 10);
        }
        if (oldest - 1 > 3) /* one answered */
            CHECK(imc_tagtable_find(&t, oldest - 1) == NULL);
        CHECK_INT(t.count, next - oldest + 1);
    }
    CHECK(t.cap * sizeof *t.slots >= IMC_BIGMEM_MIN); /* both ways tried */
    imc_tagtable_free(&t);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = { TEST(add_find_remove), TEST(trim_after_burst),
                                               TEST(growth_keeps_entries) };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
