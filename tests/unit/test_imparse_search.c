/* SEARCH (with RFC 7162's MODSEQ), ESEARCH (RFC 4731) and the sequence-set
 * walker they share. */
#include <stdlib.h>

#include "check.h"
#include <cyrus/imparse.h>

#define S(lit) lit, sizeof lit - 1
#define STR(s, want) CHECK_BYTES((s).data, (s).len, want)

static void search(void)
{
    struct imparse_search s;
    uint64_t n;
    imparse_search_begin(&s, S("2 3 6 4294967295"));
    CHECK_INT(imparse_search_next(&s, &n), 1);
    CHECK(n == 2);
    CHECK_INT(imparse_search_next(&s, &n), 1);
    CHECK_INT(imparse_search_next(&s, &n), 1);
    CHECK_INT(imparse_search_next(&s, &n), 1);
    CHECK(n == 4294967295u);
    CHECK_INT(imparse_search_next(&s, &n), 0);
    CHECK(!s.has_modseq);
    CHECK_INT(imparse_search_next(&s, &n), 0);
    imparse_search_begin(&s, S(""));
    CHECK_INT(imparse_search_next(&s, &n), 0);
    imparse_search_begin(&s, S("2 5 (MODSEQ 917162500)"));
    while (imparse_search_next(&s, &n) == 1)
        ;
    CHECK(s.has_modseq && s.modseq == 917162500);
    CHECK_INT(imparse_error(&s.tok, NULL), 0);
}

static void bad_search(void)
{
    struct imparse_search s;
    uint64_t n;
    size_t pos;
    static const char *bad[] = { "2 x", "2 (MODSEQ)", "2 (MODSEQ 1) 3", "2 (FOO 1)",
                                 "2 (MODSEQ 1", "1 18446744073709551616", "\"1\"" };
    static const int err[] = { IMPARSE_EUNEXPECTED, IMPARSE_EUNEXPECTED, IMPARSE_EUNEXPECTED,
                               IMPARSE_EUNEXPECTED, IMPARSE_ETRUNC, IMPARSE_EOVERFLOW,
                               IMPARSE_EUNEXPECTED };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r;
        imparse_search_begin(&s, bad[i], strlen(bad[i]));
        while ((r = imparse_search_next(&s, &n)) == 1)
            ;
        CHECK_INT(r, err[i]);
        CHECK_INT(imparse_error(&s.tok, &pos), err[i]);
        CHECK(pos <= strlen(bad[i]));
    }
}

static void esearch(void)
{
    struct imparse_esearch e;
    size_t pos;
    static const char s[] = "(TAG \"A282\") UID MIN 2 COUNT 3 MAX 11 ALL 2,10:11 MODSEQ 12";
    CHECK_INT(imparse_esearch(S(s), &e, &pos), 0);
    STR(e.tag, "A282");
    CHECK(e.uid && e.has_min && e.min == 2 && e.has_count && e.count == 3);
    CHECK(e.has_max && e.max == 11 && e.has_modseq && e.modseq == 12);
    STR(e.all, "2,10:11");
    struct imparse_seqset set;
    uint32_t lo, hi;
    imparse_seqset_begin(&set, &e.all, s);
    CHECK_INT(imparse_seqset_next(&set, &lo, &hi), 1);
    CHECK(lo == 2 && hi == 2);
    CHECK_INT(imparse_seqset_next(&set, &lo, &hi), 1);
    CHECK(lo == 10 && hi == 11);
    CHECK_INT(imparse_seqset_next(&set, &lo, &hi), 0);
    /* nothing matched: only the correlator */
    CHECK_INT(imparse_esearch(S("(TAG \"A283\")"), &e, &pos), 0);
    CHECK(!e.uid && !e.has_min && !e.has_count && e.all.type == IMPARSE_NIL);
    CHECK_INT(imparse_esearch(S(""), &e, &pos), 0);
    CHECK(e.tag.type == IMPARSE_NIL);
    CHECK_INT(imparse_esearch(S("COUNT 5"), &e, &pos), 0);
    CHECK(e.has_count && e.count == 5 && e.tag.type == IMPARSE_NIL);
    /* unknown return data (RFC 4466 tagged-ext-val) is skipped whole */
    CHECK_INT(imparse_esearch(S("(TAG A1) PARTIAL (1:10 42) RELEVANCY (5 9) ALL 7"), &e, &pos), 0);
    STR(e.tag, "A1");
    STR(e.all, "7");
}

static void bad_esearch(void)
{
    struct imparse_esearch e;
    size_t pos;
    CHECK_INT(imparse_esearch(S("(TAG)"), &e, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_esearch(S("(FOO \"x\")"), &e, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_esearch(S("MIN x"), &e, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(pos, 4);
    CHECK_INT(imparse_esearch(S("ALL (1)"), &e, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_esearch(S("ALL 1,,2"), &e, &pos), IMPARSE_ESYNTAX);
    CHECK_INT(pos, 6);
    CHECK_INT(imparse_esearch(S("ALL 1:4294967296"), &e, &pos), IMPARSE_EOVERFLOW);
    CHECK_INT(pos, 6);
    CHECK_INT(imparse_esearch(S("COUNT"), &e, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_esearch(S("\"UID\""), &e, &pos), IMPARSE_EUNEXPECTED);
    static const char s[] = "(TAG \"A282\") UID MIN 2 ALL 2,10:11";
    for (size_t n = 1; n < sizeof s - 1; n++) {
        char *c = malloc(n);
        memcpy(c, s, n);
        int r = imparse_esearch(c, n, &e, &pos);
        free(c);
        /* prefixes ending between return data are complete replies */
        CHECK(pos <= n);
        if (n < 12)
            CHECK(r < 0);
    }
}

static void sequence_sets(void)
{
    struct imparse_str s = { IMPARSE_ATOM, "1:5,7,9:*,*,*:3,20:12,4294967295", 32 };
    struct imparse_seqset set;
    uint32_t lo, hi;
    static const uint32_t want[][2] = { { 1, 5 }, { 7, 7 }, { 9, IMPARSE_STAR },
                                        { IMPARSE_STAR, IMPARSE_STAR }, { 3, IMPARSE_STAR },
                                        { 12, 20 }, { 4294967295u, 4294967295u } };
    imparse_seqset_begin(&set, &s, NULL);
    for (size_t i = 0; i < 7; i++) {
        CHECK_INT(imparse_seqset_next(&set, &lo, &hi), 1);
        CHECK_INT(lo, want[i][0]);
        CHECK_INT(hi, want[i][1]);
    }
    CHECK_INT(imparse_seqset_next(&set, &lo, &hi), 0);
    static const char *bad[] = { "", "0", "1:", ":1", "1,", ",1", "1::2", "1:2:3", "a", "1 2",
                                 "4294967296", "1:0" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct imparse_str b = { IMPARSE_ATOM, bad[i], strlen(bad[i]) };
        int r;
        imparse_seqset_begin(&set, &b, NULL);
        while ((r = imparse_seqset_next(&set, &lo, &hi)) == 1)
            ;
        if (i == 0)
            CHECK_INT(r, 0); /* an empty atom cannot come from the tokenizer */
        else
            CHECK(r < 0 && set.errpos <= b.len);
    }
    struct imparse_str q = { IMPARSE_QUOTED, "1", 1 };
    imparse_seqset_begin(&set, &q, NULL);
    CHECK_INT(imparse_seqset_next(&set, &lo, &hi), IMPARSE_EUNEXPECTED);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(search), TEST(bad_search), TEST(esearch), TEST(bad_esearch), TEST(sequence_sets),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
