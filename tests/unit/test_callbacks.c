/* The callback table: lookups by keyword and NUMBERED flag, and the room
 * removed entries leave given back by trim. */
#include <stdio.h>

#include "check.h"
#include "core/callbacks.h"

static void proc(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)rock;
    (void)r;
}

static void trim_gives_room_back(void)
{
    struct imc_callbacks t;
    imc_callbacks_init(&t);
    char kw[16];
    for (int i = 0; i < 9; i++) {
        snprintf(kw, sizeof kw, "KW%d", i);
        imc_callbacks_set(&t, kw, i % 2 ? CALLBACK_NUMBERED : 0, proc, (void *)(long)(i + 1));
    }
    CHECK_INT(t.count, 9);
    CHECK_INT(t.cap, 16);
    imc_callbacks_trim(&t);
    CHECK_INT(t.cap, 16); /* more than half in use */
    for (int i = 0; i < 8; i++) {
        snprintf(kw, sizeof kw, "kw%d", i); /* ASCII case does not matter */
        imc_callbacks_remove(&t, kw, i % 2 ? CALLBACK_NUMBERED : 0);
    }
    CHECK_INT(t.count, 1);
    imc_callbacks_trim(&t);
    CHECK_INT(t.cap, 1);
    const struct imc_callback *e = imc_callbacks_get(&t, "KW8", 3, 0);
    CHECK(e != NULL);
    CHECK(e->rock == (void *)9L);
    CHECK(imc_callbacks_get(&t, "KW8", 3, 1) == NULL);
    imc_callbacks_remove(&t, "KW8", 0);
    imc_callbacks_trim(&t);
    CHECK_INT(t.cap, 0);
    CHECK(t.entries == NULL);
    /* And it grows again from nothing. */
    imc_callbacks_set(&t, "EXISTS", CALLBACK_NUMBERED, proc, NULL);
    CHECK(imc_callbacks_get(&t, "exists", 6, 1) != NULL);
    imc_callbacks_free(&t);
}

/* The entry found last is tried first; once entries move or go, the
 * hint points elsewhere and the search still finds the right one. */
static void find_survives_a_stale_hint(void)
{
    struct imc_callbacks t;
    imc_callbacks_init(&t);
    imc_callbacks_set(&t, "", 0, proc, (void *)1L);
    imc_callbacks_set(&t, "FETCH", CALLBACK_NUMBERED, proc, (void *)2L);
    imc_callbacks_set(&t, "EXISTS", CALLBACK_NUMBERED, proc, (void *)3L);
    CHECK(imc_callbacks_find(&t, "FETCH", 5, 1)->rock == (void *)2L);
    CHECK(imc_callbacks_find(&t, "fetch", 5, 1)->rock == (void *)2L);
    CHECK(imc_callbacks_find(&t, "FETCH", 5, 0)->rock == (void *)1L); /* not numbered */
    imc_callbacks_remove(&t, "", 0); /* FETCH moves to where the hint points */
    CHECK(imc_callbacks_find(&t, "EXISTS", 6, 1)->rock == (void *)3L);
    imc_callbacks_remove(&t, "FETCH", CALLBACK_NUMBERED);
    CHECK(imc_callbacks_find(&t, "FETCH", 5, 1) == NULL);
    CHECK(imc_callbacks_find(&t, "EXISTS", 6, 1)->rock == (void *)3L);
    imc_callbacks_remove(&t, "EXISTS", CALLBACK_NUMBERED);
    imc_callbacks_trim(&t);
    CHECK(imc_callbacks_find(&t, "EXISTS", 6, 1) == NULL);
    imc_callbacks_free(&t);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = { TEST(trim_gives_room_back),
                                               TEST(find_survives_a_stale_hint) };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
