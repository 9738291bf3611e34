/* STATUS replies: every attribute, 64-bit values, quoted and literal
 * mailbox names, MAILBOXID's parenthesized value, errors. */
#include <stdlib.h>

#include "check.h"
#include <cyrus/imparse.h>

#define S(lit) lit, sizeof lit - 1
#define STR(s, want) CHECK_BYTES((s).data, (s).len, want)

static void attributes(void)
{
    static const char s[] = "INBOX (MESSAGES 231 UIDNEXT 44292 UIDVALIDITY 1 UNSEEN 0 RECENT 2 "
                            "HIGHESTMODSEQ 18446744073709551615 SIZE 9876543210 DELETED 3 "
                            "MAILBOXID (F2212ea87-6097-4256-9d51-71338625))";
    static const struct { const char *name; uint64_t value; } want[] = {
        { "MESSAGES", 231 }, { "UIDNEXT", 44292 }, { "UIDVALIDITY", 1 }, { "UNSEEN", 0 },
        { "RECENT", 2 }, { "HIGHESTMODSEQ", UINT64_MAX }, { "SIZE", 9876543210ull },
        { "DELETED", 3 }, { "MAILBOXID", 0 },
    };
    struct imparse_status st;
    struct imparse_str attr;
    struct imparse_span raw;
    uint64_t v;
    CHECK_INT(imparse_status_begin(&st, S(s)), 0);
    STR(st.mailbox, "INBOX");
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECK_INT(imparse_status_next(&st, &attr, &v, &raw), 1);
        CHECK(imparse_str_eq(&attr, want[i].name));
        CHECK(v == want[i].value);
    }
    CHECK_BYTES(raw.base + raw.start, raw.end - raw.start,
                "(F2212ea87-6097-4256-9d51-71338625)");
    CHECK_INT(imparse_status_next(&st, &attr, &v, NULL), 0);
    CHECK_INT(imparse_status_next(&st, &attr, &v, NULL), 0);
}

static void mailbox_forms(void)
{
    struct imparse_status st;
    struct imparse_str attr;
    uint64_t v;
    CHECK_INT(imparse_status_begin(&st, S("\"Sent Items\" ()")), 0);
    STR(st.mailbox, "Sent Items");
    CHECK_INT(imparse_status_next(&st, &attr, &v, NULL), 0);
    CHECK_INT(imparse_status_begin(&st, S("{3}\r\na b (MESSAGES 1)")), 0);
    STR(st.mailbox, "a b");
    CHECK_INT(imparse_status_next(&st, &attr, &v, NULL), 1);
    CHECK(v == 1);
    CHECK_INT(imparse_status_begin(&st, S("NIL (MESSAGES 1)")), 0);
    STR(st.mailbox, "NIL");
}

static void malformed(void)
{
    struct imparse_status st;
    struct imparse_str attr;
    uint64_t v;
    size_t pos;
    CHECK_INT(imparse_status_begin(&st, S("INBOX MESSAGES 1")), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_status_begin(&st, S("INBOX (MESSAGES x)")), 0);
    CHECK_INT(imparse_status_next(&st, &attr, &v, NULL), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_error(&st.tok, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(pos, 16);
    CHECK_INT(imparse_status_begin(&st, S("INBOX (MESSAGES)")), 0);
    CHECK_INT(imparse_status_next(&st, &attr, &v, NULL), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_status_begin(&st, S("INBOX (1 2)")), 0);
    CHECK_INT(imparse_status_next(&st, &attr, &v, NULL), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_status_begin(&st, S("INBOX (MESSAGES 18446744073709551616)")), 0);
    CHECK_INT(imparse_status_next(&st, &attr, &v, NULL), IMPARSE_EOVERFLOW);
    CHECK_INT(imparse_status_begin(&st, S("INBOX (MESSAGES 1) x")), 0);
    CHECK_INT(imparse_status_next(&st, &attr, &v, NULL), 1);
    CHECK_INT(imparse_status_next(&st, &attr, &v, NULL), IMPARSE_EUNEXPECTED);
    static const char s[] = "\"Drafts\" (MESSAGES 12 UNSEEN 3)";
    for (size_t n = 0; n < sizeof s - 1; n++) {
        char *c = malloc(n ? n : 1);
        memcpy(c, s, n);
        int r = imparse_status_begin(&st, c, n);
        while (r == 0 && (r = imparse_status_next(&st, &attr, &v, NULL)) == 1)
            r = 0;
        free(c);
        imparse_error(&st.tok, &pos);
        CHECK(r < 0 && pos <= n);
    }
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(attributes), TEST(mailbox_forms), TEST(malformed),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
