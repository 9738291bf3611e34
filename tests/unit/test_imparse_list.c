/* LIST and LSUB replies: attributes, delimiter forms, raw mailbox names
 * in every astring form, RFC 5258 extended data, malformed and truncated. */
#include <stdlib.h>

#include "check.h"
#include <cyrus/imparse.h>

#define S(lit) lit, sizeof lit - 1
#define STR(s, want) CHECK_BYTES((s).data, (s).len, want)

static void ordinary(void)
{
    struct imparse_list l;
    size_t pos;
    CHECK_INT(imparse_list(S("(\\HasNoChildren \\Sent) \"/\" Sent"), &l, &pos), 0);
    CHECK(l.delim == '/' && l.delimiter.type == IMPARSE_QUOTED);
    STR(l.mailbox, "Sent");
    CHECK_INT(imparse_iter_has(&l.attributes, "\\sent"), 1);
    CHECK_INT(imparse_iter_has(&l.attributes, "\\Noselect"), 0);
    struct imparse_iter it;
    struct imparse_str a;
    imparse_iter_begin(&it, &l.attributes);
    CHECK_INT(imparse_iter_next(&it, &a), 1);
    STR(a, "\\HasNoChildren");
    CHECK(l.extended.start == l.extended.end);
    CHECK_INT(imparse_list(S("() NIL INBOX"), &l, &pos), 0);
    CHECK(l.delim == '\0' && l.delimiter.type == IMPARSE_NIL);
    imparse_iter_begin(&it, &l.attributes);
    CHECK_INT(imparse_iter_next(&it, &a), 0);
}

static void mailbox_forms(void)
{
    struct imparse_list l;
    size_t pos;
    char buf[32];
    size_t n;
    CHECK_INT(imparse_list(S("() \"\\\\\" \"a \\\"b\\\" c\""), &l, &pos), 0);
    CHECK_INT(l.delim, '\\');
    CHECK_INT(l.mailbox.type, IMPARSE_QUOTED);
    CHECK_INT(imparse_str_copy(&l.mailbox, buf, sizeof buf, &n), 0);
    CHECK_STR(buf, "a \"b\" c");
    /* modified UTF-7 stays as sent */
    CHECK_INT(imparse_list(S("() \".\" INBOX.&AOk-t&AOk-"), &l, &pos), 0);
    STR(l.mailbox, "INBOX.&AOk-t&AOk-");
    CHECK_INT(imparse_list(S("() \"/\" {5}\r\na\r\nb)"), &l, &pos), 0);
    CHECK_INT(l.mailbox.type, IMPARSE_LITERAL);
    STR(l.mailbox, "a\r\nb)");
    /* astring atoms that the tokenizer reads otherwise */
    CHECK_INT(imparse_list(S("() \"/\" NIL"), &l, &pos), 0);
    CHECK(l.mailbox.type == IMPARSE_ATOM);
    STR(l.mailbox, "NIL");
    CHECK_INT(imparse_list(S("() \"/\" 2024"), &l, &pos), 0);
    STR(l.mailbox, "2024");
    CHECK_INT(imparse_list(S("() \"/\" [Gmail]/Sent"), &l, &pos), 0);
    STR(l.mailbox, "[Gmail]/Sent");
    CHECK_INT(imparse_list(S("(\\Noselect) \"/\" \"[Gmail]\""), &l, &pos), 0);
    STR(l.mailbox, "[Gmail]");
}

static void extended(void)
{
    struct imparse_list l;
    size_t pos;
    static const char s[] = "(\\Subscribed) \"/\" Foo (\"CHILDINFO\" (\"SUBSCRIBED\") \"OLDNAME\" (Bar))";
    CHECK_INT(imparse_list(S(s), &l, &pos), 0);
    STR(l.mailbox, "Foo");
    CHECK_BYTES(l.extended.base + l.extended.start, l.extended.end - l.extended.start,
                "(\"CHILDINFO\" (\"SUBSCRIBED\") \"OLDNAME\" (Bar))");
}

static void malformed(void)
{
    struct imparse_list l;
    size_t pos;
    CHECK_INT(imparse_list(S("\\Noselect \"/\" a"), &l, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(pos, 0);
    CHECK_INT(imparse_list(S("() \"//\" a"), &l, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(pos, 3);
    CHECK_INT(imparse_list(S("() \"\" a"), &l, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_list(S("() / a"), &l, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_list(S("((x)) \"/\" a"), &l, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_list(S("() \"/\""), &l, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_list(S("() \"/\" (a)"), &l, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_list(S("() \"/\" a b"), &l, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(pos, 9);
    CHECK_INT(imparse_list(S("() \"/\" a (x) y"), &l, &pos), IMPARSE_EUNEXPECTED);
    static const char s[] = "(\\HasChildren) \"/\" \"Work/Q1\"";
    for (size_t n = 0; n < sizeof s - 1; n++) {
        char *c = malloc(n ? n : 1);
        memcpy(c, s, n);
        int r = imparse_list(c, n, &l, &pos);
        free(c);
        CHECK(r < 0 && pos <= n);
    }
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(ordinary), TEST(mailbox_forms), TEST(extended), TEST(malformed),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
