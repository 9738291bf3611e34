/* Text made safe for error messages: controls, C1 and bidi overrides go,
 * well-formed UTF-8 stays, malformed UTF-8 is replaced byte by byte, and
 * nothing is ever cut inside a character. */
#include "check.h"
#include "util/safe_text.h"

#define SAFE(in, want)                                   \
    do {                                                 \
        char b_[128] = in;                               \
        imc_safe_text(b_);                               \
        CHECK_STR(b_, want);                             \
    } while (0)

static void controls(void)
{
    SAFE("ok\x1b[2J\r\n\t\x7f end", "ok?[2J???? end");
    SAFE("", "");
}

static void utf8_kept_c1_and_bidi_replaced(void)
{
    SAFE("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7");
    SAFE("a\xc2\x9b" "31mb", "a?31mb");
    SAFE("x\xe2\x80\xaey\xe2\x81\xa6z\xe2\x80\x8fw", "x?y?z?w");
}

static void malformed_utf8(void)
{
    SAFE("\xc0\xaf", "??");             /* overlong '/' */
    SAFE("\xed\xa0\x80", "???");        /* a surrogate */
    SAFE("\xf4\x90\x80\x80", "????");   /* past U+10FFFF */
    SAFE("\xe2\x82", "??");             /* truncated */
    SAFE("\xff\xfe", "??");
}

static void bounded_copy(void)
{
    char out[6];
    imc_safe_copy(out, sizeof out, "ab\0cd", 5);
    CHECK_STR(out, "ab?cd");
    imc_safe_copy(out, sizeof out, "abcd\xc3\xa9", 6); /* é would not fit whole */
    CHECK_STR(out, "abcd");
    imc_safe_copy(out, 1, "abc", 3);
    CHECK_STR(out, "");
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(controls),
        TEST(utf8_kept_c1_and_bidi_replaced),
        TEST(malformed_utf8),
        TEST(bounded_copy),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
