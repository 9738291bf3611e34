/* Response codes at the start of status text, and the CAPABILITY/ENABLED
 * lists they share an iterator with. */
#include <stdlib.h>

#include "check.h"
#include <cyrus/imparse.h>

#define S(lit) lit, sizeof lit - 1
#define STR(s, want) CHECK_BYTES((s).data, (s).len, want)

static void numbers(void)
{
    struct imparse_code c;
    size_t pos;
    CHECK_INT(imparse_code(S("[UIDVALIDITY 3857529045] UIDs valid"), &c, &pos), 1);
    CHECK(c.kind == IMPARSE_CODE_UIDVALIDITY && c.number == 3857529045u);
    STR(c.text, "UIDs valid");
    CHECK_INT(imparse_code(S("[UIDNEXT 4392] Predicted next UID"), &c, &pos), 1);
    CHECK(c.kind == IMPARSE_CODE_UIDNEXT && c.number == 4392);
    CHECK_INT(imparse_code(S("[HIGHESTMODSEQ 715194045007]"), &c, &pos), 1);
    CHECK(c.kind == IMPARSE_CODE_HIGHESTMODSEQ && c.number == 715194045007ull);
    CHECK(c.text.len == 0);
    CHECK_INT(imparse_code(S("[unseen 12] first"), &c, &pos), 1);
    CHECK(c.kind == IMPARSE_CODE_UNSEEN && c.number == 12);
    CHECK_INT(imparse_code(S("[UIDNEXT x] y"), &c, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(pos, 9);
    CHECK_INT(imparse_code(S("[UIDNEXT 1 2] y"), &c, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_code(S("[UIDNEXT] y"), &c, &pos), IMPARSE_EUNEXPECTED);
}

static void flags_and_capabilities(void)
{
    struct imparse_code c;
    size_t pos;
    static const char pf[] = "[PERMANENTFLAGS (\\Deleted \\Seen $Forwarded \\*)] Limited";
    CHECK_INT(imparse_code(S(pf), &c, &pos), 1);
    CHECK_INT(c.kind, IMPARSE_CODE_PERMANENTFLAGS);
    CHECK_INT(imparse_iter_has(&c.data, "\\*"), 1);
    CHECK_INT(imparse_iter_has(&c.data, "$forwarded"), 1);
    CHECK_INT(imparse_iter_has(&c.data, "\\Draft"), 0);
    CHECK_INT(imparse_code(S("[PERMANENTFLAGS ()] none"), &c, &pos), 1);
    CHECK_INT(imparse_code(S("[PERMANENTFLAGS \\Seen] x"), &c, &pos), IMPARSE_EUNEXPECTED);
    static const char cap[] = "[CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
                              "LITERAL+ AUTH=PLAIN] Dovecot ready.";
    CHECK_INT(imparse_code(S(cap), &c, &pos), 1);
    CHECK_INT(c.kind, IMPARSE_CODE_CAPABILITY);
    CHECK_INT(imparse_iter_has(&c.data, "auth=plain"), 1);
    CHECK_INT(imparse_iter_has(&c.data, "AUTH=PLAI"), 0);
    STR(c.text, "Dovecot ready.");
    struct imparse_iter it;
    struct imparse_str s;
    imparse_iter_begin(&it, &c.data);
    CHECK_INT(imparse_iter_next(&it, &s), 1);
    STR(s, "IMAP4rev1");
}

static void uid_sets(void)
{
    struct imparse_code c;
    size_t pos;
    struct imparse_seqset set;
    uint32_t lo, hi;
    static const char cu[] = "[COPYUID 38505 304,319:320 3956:3958] Done";
    CHECK_INT(imparse_code(S(cu), &c, &pos), 1);
    CHECK(c.kind == IMPARSE_CODE_COPYUID && c.number == 38505);
    STR(c.set1, "304,319:320");
    STR(c.set2, "3956:3958");
    imparse_seqset_begin(&set, &c.set1, cu);
    CHECK_INT(imparse_seqset_next(&set, &lo, &hi), 1);
    CHECK(lo == 304 && hi == 304);
    CHECK_INT(imparse_seqset_next(&set, &lo, &hi), 1);
    CHECK(lo == 319 && hi == 320);
    CHECK_INT(imparse_seqset_next(&set, &lo, &hi), 0);
    CHECK_INT(imparse_code(S("[APPENDUID 38505 3955] APPEND completed"), &c, &pos), 1);
    CHECK(c.kind == IMPARSE_CODE_APPENDUID && c.number == 38505);
    STR(c.set1, "3955");
    CHECK_INT(imparse_code(S("[APPENDUID 1 2:x] y"), &c, &pos), IMPARSE_ESYNTAX);
    CHECK_INT(pos, 15);
    CHECK_INT(imparse_code(S("[COPYUID 1 2] y"), &c, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_code(S("[COPYUID 1 2 3 4] y"), &c, &pos), IMPARSE_EUNEXPECTED);
}

static void others(void)
{
    struct imparse_code c;
    size_t pos;
    CHECK_INT(imparse_code(S("[ALERT] System shutdown in 10 minutes"), &c, &pos), 1);
    CHECK_INT(c.kind, IMPARSE_CODE_ALERT);
    STR(c.text, "System shutdown in 10 minutes");
    CHECK_INT(imparse_code(S("[READ-ONLY] EXAMINE completed"), &c, &pos), 1);
    CHECK_INT(c.kind, IMPARSE_CODE_READ_ONLY);
    CHECK_INT(imparse_code(S("[TRYCREATE] no such mailbox"), &c, &pos), 1);
    CHECK_INT(c.kind, IMPARSE_CODE_TRYCREATE);
    /* unknown codes are raw, whatever their data holds */
    CHECK_INT(imparse_code(S("[BADCHARSET (UTF-8 \"US-ASCII)] x"), &c, &pos), 1);
    CHECK_INT(c.kind, IMPARSE_CODE_OTHER);
    STR(c.name, "BADCHARSET");
    CHECK_BYTES(c.data.base + c.data.start, c.data.end - c.data.start, "(UTF-8 \"US-ASCII)");
    CHECK_INT(imparse_code(S("[REFERRAL imap://u@h/INBOX] go there"), &c, &pos), 1);
    STR(c.name, "REFERRAL");
    CHECK_INT(imparse_code(S("[X-ZZZ]"), &c, &pos), 1);
    CHECK(c.data.start == c.data.end && c.text.len == 0);
    /* no code */
    CHECK_INT(imparse_code(S("LOGIN completed"), &c, &pos), 0);
    STR(c.text, "LOGIN completed");
    CHECK_INT(imparse_code(S(""), &c, &pos), 0);
    /* malformed */
    CHECK_INT(imparse_code(S("[] x"), &c, &pos), IMPARSE_ESYNTAX);
    CHECK_INT(imparse_code(S("[ALERT x"), &c, &pos), IMPARSE_ETRUNC);
    CHECK_INT(pos, 8);
    CHECK_INT(imparse_code(S("[ALE\tRT] x"), &c, &pos), IMPARSE_ESYNTAX);
    static const char s[] = "[COPYUID 38505 304,319:320 3956:3958] Done";
    for (size_t n = 1; n < 37; n++) {
        char *b = malloc(n);
        memcpy(b, s, n);
        int r = imparse_code(b, n, &c, &pos);
        free(b);
        CHECK(r < 0 && pos <= n);
    }
}

static void capability_lists(void)
{
    static const char s[] = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT "
                            "SORT=DISPLAY THREAD=REFERENCES LITERAL+ AUTH=PLAIN AUTH=SCRAM-SHA-256";
    CHECK_INT(imparse_capability_has(S(s), "literal+"), 1);
    CHECK_INT(imparse_capability_has(S(s), "AUTH=SCRAM-SHA-256"), 1);
    CHECK_INT(imparse_capability_has(S(s), "SORT=DISPLAY"), 1);
    CHECK_INT(imparse_capability_has(S(s), "AUTH=GSSAPI"), 0);
    CHECK_INT(imparse_capability_has(S(s), "IMAP4"), 0);
    /* ASCII rules only: a dotless capital I is not 'i' */
    CHECK_INT(imparse_capability_has(S(s), "\xc4\xb0" "DLE"), 0);
    struct imparse_iter it;
    struct imparse_str c;
    int n = 0;
    imparse_capability_begin(&it, S(s));
    while (imparse_iter_next(&it, &c) == 1)
        n++;
    CHECK_INT(n, 12);
    /* ENABLED may be empty */
    imparse_capability_begin(&it, S(""));
    CHECK_INT(imparse_iter_next(&it, &c), 0);
    imparse_capability_begin(&it, S("CONDSTORE UTF8=ACCEPT"));
    CHECK_INT(imparse_iter_next(&it, &c), 1);
    STR(c, "CONDSTORE");
    CHECK_INT(imparse_capability_has(S("IMAP4rev1 (x)"), "x"), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_capability_has(S("IMAP4rev1 {5}\r\nab"), "x"), IMPARSE_ETRUNC);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(numbers), TEST(flags_and_capabilities), TEST(uid_sets), TEST(others),
        TEST(capability_lists),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
