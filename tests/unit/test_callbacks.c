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

static const struct imc_callback *find(struct imc_callbacks *t, const char *kw, int num)
{
    return imc_callbacks_find(t, kw, strlen(kw), imc_ascii_key(kw, strlen(kw)), num);
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
    CHECK(find(&t, "FETCH", 1)->rock == (void *)2L);
    CHECK(find(&t, "fetch", 1)->rock == (void *)2L);
    CHECK(find(&t, "FETCH", 0)->rock == (void *)1L); /* not numbered */
    imc_callbacks_remove(&t, "", 0); /* FETCH moves to where the hint points */
    CHECK(find(&t, "EXISTS", 1)->rock == (void *)3L);
    imc_callbacks_remove(&t, "FETCH", CALLBACK_NUMBERED);
    CHECK(find(&t, "FETCH", 1) == NULL);
    CHECK(find(&t, "EXISTS", 1)->rock == (void *)3L);
    imc_callbacks_remove(&t, "EXISTS", CALLBACK_NUMBERED);
    imc_callbacks_trim(&t);
    CHECK(find(&t, "EXISTS", 1) == NULL);
    imc_callbacks_free(&t);
}

/* A short keyword is settled by its length and key; a longer one shares
 * its key with every keyword of the same first 8 bytes, so its bytes are
 * compared too. */
static void long_keywords_compare_every_byte(void)
{
    struct imc_callbacks t;
    imc_callbacks_init(&t);
    imc_callbacks_set(&t, "", 0, proc, (void *)1L);
    imc_callbacks_set(&t, "CAPABILITX", 0, proc, (void *)2L);
    imc_callbacks_set(&t, "capability", 0, proc, (void *)3L);
    imc_callbacks_set(&t, "XKEYWORD", 0, proc, (void *)4L);
    CHECK(find(&t, "CAPABILITX", 0)->rock == (void *)2L); /* now the hint */
    CHECK(find(&t, "CAPABILITY", 0)->rock == (void *)3L); /* same key as the hint */
    CHECK(find(&t, "CAPABILITX", 0)->rock == (void *)2L);
    CHECK(find(&t, "CAPABILITZ", 0)->rock == (void *)1L);
    CHECK(find(&t, "xkeyword", 0)->rock == (void *)4L);
    CHECK(find(&t, "XKEYWORDS", 0)->rock == (void *)1L); /* same key, longer */
    CHECK(find(&t, "XKEYWOR", 0)->rock == (void *)1L);
    imc_callbacks_free(&t);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = { TEST(trim_gives_room_back),
                                               TEST(find_survives_a_stale_hint),
                                               TEST(long_keywords_compare_every_byte) };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
