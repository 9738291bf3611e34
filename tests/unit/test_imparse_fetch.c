/* FETCH replies: every item kind, body bytes in each form, INTERNALDATE,
 * ENVELOPE with encoded words and group syntax, truncation at every byte. */
#include <stdlib.h>

#include "check.h"
#include <cyrus/imparse.h>

#define S(lit) lit, sizeof lit - 1

static char *exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    return p;
}

/* The item i (0-based) of a FETCH text; returns the iterator's last result. */
static int item_at(const char *text, size_t len, int i, struct imparse_fetch_item *it)
{
    struct imparse_fetch f;
    int r = imparse_fetch_begin(&f, text, len);
    if (r)
        return r;
    for (int k = 0; k <= i; k++)
        if ((r = imparse_fetch_next(&f, it)) != 1)
            return r;
    return 1;
}

static void scalars(void)
{
    static const char s[] = "(UID 5 RFC822.SIZE 4294967296 MODSEQ (18446744073709551615) "
                            "INTERNALDATE \" 7-Jul-1996 02:44:25 -0700\" X-UNKNOWN (a (b) {1}\r\n)) "
                            "EMAILID (M6d99ac3275bb4e) THREADID NIL)";
    struct imparse_fetch f;
    struct imparse_fetch_item it;
    CHECK_INT(imparse_fetch_begin(&f, S(s)), 0);
    CHECK_INT(imparse_fetch_next(&f, &it), 1);
    CHECK(it.kind == IMPARSE_FETCH_UID && it.number == 5);
    CHECK_INT(imparse_fetch_next(&f, &it), 1);
    CHECK(it.kind == IMPARSE_FETCH_RFC822_SIZE && it.number == 4294967296ull);
    CHECK_INT(imparse_fetch_next(&f, &it), 1);
    CHECK(it.kind == IMPARSE_FETCH_MODSEQ && it.number == UINT64_MAX);
    CHECK_INT(imparse_fetch_next(&f, &it), 1);
    CHECK_INT(it.kind, IMPARSE_FETCH_INTERNALDATE);
    CHECK_BYTES(it.string.data, it.string.len, " 7-Jul-1996 02:44:25 -0700");
    struct imparse_datetime dt;
    CHECK_INT(imparse_datetime(&it.string, &dt), 0);
    CHECK(dt.year == 1996 && dt.month == 7 && dt.day == 7 && dt.hour == 2);
    CHECK(dt.minute == 44 && dt.second == 25 && dt.zone == -420);
    CHECK_INT(imparse_fetch_next(&f, &it), 1);
    CHECK_INT(it.kind, IMPARSE_FETCH_OTHER);
    CHECK_BYTES(it.name.data, it.name.len, "X-UNKNOWN");
    CHECK_BYTES(it.value.base + it.value.start, it.value.end - it.value.start,
                "(a (b) {1}\r\n))");
    CHECK_INT(imparse_fetch_next(&f, &it), 1);
    CHECK_INT(it.kind, IMPARSE_FETCH_EMAILID);
    CHECK_BYTES(it.string.data, it.string.len, "M6d99ac3275bb4e");
    CHECK_INT(imparse_fetch_next(&f, &it), 1);
    CHECK(it.kind == IMPARSE_FETCH_THREADID && it.string.type == IMPARSE_NIL);
    CHECK_INT(imparse_fetch_next(&f, &it), 0);
    CHECK_INT(imparse_fetch_next(&f, &it), 0);
}

static void flags(void)
{
    static const char s[] = "(FLAGS (\\Seen \\Answered $Forwarded Junk) UID 9 FLAGS ())";
    struct imparse_fetch_item it;
    CHECK_INT(item_at(S(s), 0, &it), 1);
    CHECK_INT(it.kind, IMPARSE_FETCH_FLAGS);
    struct imparse_iter fl;
    struct imparse_str flag;
    imparse_iter_begin(&fl, &it.value);
    CHECK_INT(imparse_iter_next(&fl, &flag), 1);
    CHECK_BYTES(flag.data, flag.len, "\\Seen");
    CHECK_INT(imparse_iter_next(&fl, &flag), 1);
    CHECK_INT(imparse_iter_next(&fl, &flag), 1);
    CHECK_BYTES(flag.data, flag.len, "$Forwarded");
    CHECK_INT(imparse_iter_next(&fl, &flag), 1);
    CHECK_INT(imparse_iter_next(&fl, &flag), 0);
    CHECK_INT(imparse_iter_has(&it.value, "\\SEEN"), 1);
    CHECK_INT(imparse_iter_has(&it.value, "\\Deleted"), 0);
    CHECK_INT(item_at(S(s), 2, &it), 1);
    imparse_iter_begin(&fl, &it.value);
    CHECK_INT(imparse_iter_next(&fl, &flag), 0);
    CHECK_INT(item_at(S("(FLAGS \\Seen)"), 0, &it), IMPARSE_EUNEXPECTED);
    CHECK_INT(item_at(S("(FLAGS (\\Seen (x)))"), 0, &it), IMPARSE_EUNEXPECTED);
}

static void body_sections(void)
{
    static const char s[] = "(UID 5 FLAGS (\\Seen) BODY[] {12}\r\nab\0\r\nc)\r\nxyz "
                            "BODY[HEADER.FIELDS (DATE FROM)]<0> \"Date: x\" BODY[1.MIME] NIL "
                            "BINARY[1] ~{3}\r\n\0\1\2 BINARY.SIZE[1] 3 body[text]<42> \"\")";
    struct imparse_fetch_item it;
    CHECK_INT(item_at(S(s), 2, &it), 1);
    CHECK_INT(it.kind, IMPARSE_FETCH_BODY);
    CHECK(it.section.len == 0 && !it.has_origin);
    CHECK_INT(it.string.type, IMPARSE_LITERAL);
    CHECK_MEM(it.string.data, it.string.len, "ab\0\r\nc)\r\nxyz", 12);
    CHECK_INT(item_at(S(s), 3, &it), 1);
    CHECK_BYTES(it.section.data, it.section.len, "HEADER.FIELDS (DATE FROM)");
    CHECK(it.has_origin && it.origin == 0);
    CHECK_INT(it.string.type, IMPARSE_QUOTED);
    CHECK_BYTES(it.string.data, it.string.len, "Date: x");
    CHECK_INT(item_at(S(s), 4, &it), 1);
    CHECK_BYTES(it.section.data, it.section.len, "1.MIME");
    CHECK(it.string.type == IMPARSE_NIL && it.string.data == NULL);
    CHECK_INT(item_at(S(s), 5, &it), 1);
    CHECK_INT(it.kind, IMPARSE_FETCH_BINARY);
    CHECK_INT(it.string.type, IMPARSE_LITERAL8);
    CHECK_MEM(it.string.data, it.string.len, "\0\1\2", 3);
    CHECK_INT(item_at(S(s), 6, &it), 1);
    CHECK(it.kind == IMPARSE_FETCH_BINARY_SIZE && it.number == 3);
    CHECK_INT(item_at(S(s), 7, &it), 1);
    CHECK(it.kind == IMPARSE_FETCH_BODY && it.origin == 42 && it.string.len == 0);
    CHECK_BYTES(it.section.data, it.section.len, "text");
}

static void bad_items(void)
{
    struct imparse_fetch_item it;
    size_t pos;
    struct imparse_fetch f;
    CHECK_INT(item_at(S("(UID x)"), 0, &it), IMPARSE_EUNEXPECTED);
    CHECK_INT(item_at(S("(UID 4294967296)"), 0, &it), 1); /* 64-bit UIDs pass */
    CHECK_INT(item_at(S("(UID 5 6)"), 0, &it), 1);
    CHECK_INT(item_at(S("(UID 5 6)"), 1, &it), IMPARSE_EUNEXPECTED);
    CHECK_INT(item_at(S("(UID)"), 0, &it), IMPARSE_EUNEXPECTED);
    CHECK_INT(item_at(S("(\"UID\" 5)"), 0, &it), IMPARSE_EUNEXPECTED);
    CHECK_INT(item_at(S("(BODY[]<x> NIL)"), 0, &it), IMPARSE_ESYNTAX);
    CHECK_INT(item_at(S("(BODY[]<> NIL)"), 0, &it), IMPARSE_ESYNTAX);
    CHECK_INT(item_at(S("(BODY[]x NIL)"), 0, &it), IMPARSE_ESYNTAX);
    CHECK_INT(item_at(S("(BODY[]<18446744073709551616> NIL)"), 0, &it), IMPARSE_EOVERFLOW);
    CHECK_INT(item_at(S("(BODY[ NIL)"), 0, &it), IMPARSE_ESYNTAX);
    CHECK_INT(item_at(S("(BODY[] (x))"), 0, &it), IMPARSE_EUNEXPECTED);
    CHECK_INT(item_at(S("(MODSEQ 5)"), 0, &it), IMPARSE_EUNEXPECTED);
    CHECK_INT(item_at(S("(MODSEQ (5 6))"), 0, &it), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_fetch_begin(&f, S("UID 5")), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_fetch_begin(&f, S("(UID 5) x")), 0);
    CHECK_INT(imparse_fetch_next(&f, &it), 1);
    CHECK_INT(imparse_fetch_next(&f, &it), IMPARSE_EUNEXPECTED);
    CHECK_INT(imparse_error(&f.tok, &pos), IMPARSE_EUNEXPECTED);
    CHECK_INT(pos, 8);
    CHECK_INT(imparse_fetch_begin(&f, S("()")), 0);
    CHECK_INT(imparse_fetch_next(&f, &it), 0);
}

static void datetimes(void)
{
    struct imparse_datetime dt;
    struct imparse_str s = { IMPARSE_QUOTED, "17-Dec-2024 23:59:60 +0530", 26 };
    CHECK_INT(imparse_datetime(&s, &dt), 0);
    CHECK(dt.day == 17 && dt.month == 12 && dt.year == 2024 && dt.second == 60);
    CHECK_INT(dt.zone, 330);
    struct imparse_str one = { IMPARSE_QUOTED, "1-jan-2000 00:00:00 +0000", 25 };
    CHECK_INT(imparse_datetime(&one, &dt), 0);
    CHECK(dt.day == 1 && dt.month == 1 && dt.zone == 0);
    static const char *bad[] = {
        "17-Dex-2024 23:59:59 +0530", "17-Dec-2024 24:00:00 +0530", "17-Dec-2024 23:59:59 0530",
        "17-Dec-2024 23:59:59 +05a0", "00-Dec-2024 23:59:59 +0530", "17-Dec-2024T23:59:59 +0530",
        "17-Dec-2024 23:59:59 +0560", "17-Dec-2024", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct imparse_str b = { IMPARSE_QUOTED, bad[i], strlen(bad[i]) };
        CHECK_INT(imparse_datetime(&b, &dt), IMPARSE_ESYNTAX);
    }
    struct imparse_str nil = { IMPARSE_NIL, NULL, 0 };
    CHECK_INT(imparse_datetime(&nil, &dt), IMPARSE_ESYNTAX);
}

static const char envelope_reply[] =
    "(UID 7 ENVELOPE (\"Tue, 15 Mar 2022 10:00:00 +0100\" "
    "\"=?utf-8?B?SMOpbGxv?= \\\"world\\\"\" "
    "((\"=?iso-8859-1?Q?Andr=E9?=\" NIL \"andre\" \"example.org\")) "
    "((NIL NIL \"andre\" \"example.org\")) NIL "
    "((NIL NIL \"team\" NIL)(\"Bo\" \"@relay:\" \"bo\" \"x.org\")(NIL NIL NIL NIL)"
    "(NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
    "NIL NIL {6}\r\n<a@b>) \"<id@example.org>\"))";

static void envelope(void)
{
    struct imparse_fetch_item it;
    struct imparse_envelope env;
    size_t pos;
    CHECK_INT(item_at(S(envelope_reply), 1, &it), 1);
    CHECK_INT(it.kind, IMPARSE_FETCH_ENVELOPE);
    CHECK_INT(imparse_envelope(&it.value, &env, &pos), 0);
    CHECK_BYTES(env.date.data, env.date.len, "Tue, 15 Mar 2022 10:00:00 +0100");
    char buf[64];
    size_t n;
    CHECK_INT(imparse_str_copy(&env.subject, buf, sizeof buf, &n), 0);
    CHECK_STR(buf, "=?utf-8?B?SMOpbGxv?= \"world\"");
    CHECK_INT(env.in_reply_to.type, IMPARSE_LITERAL);
    CHECK_BYTES(env.in_reply_to.data, env.in_reply_to.len, "<a@b>)");
    CHECK_BYTES(env.message_id.data, env.message_id.len, "<id@example.org>");
    struct imparse_iter ai;
    struct imparse_address a;
    imparse_addresses_begin(&ai, &env.from);
    CHECK_INT(imparse_addresses_next(&ai, &a), 1);
    CHECK_INT(a.kind, IMPARSE_ADDR_MAILBOX);
    CHECK_BYTES(a.name.data, a.name.len, "=?iso-8859-1?Q?Andr=E9?=");
    CHECK(a.adl.type == IMPARSE_NIL);
    CHECK_BYTES(a.mailbox.data, a.mailbox.len, "andre");
    CHECK_BYTES(a.host.data, a.host.len, "example.org");
    CHECK_INT(imparse_addresses_next(&ai, &a), 0);
    imparse_addresses_begin(&ai, &env.reply_to);
    CHECK_INT(imparse_addresses_next(&ai, &a), 0);
    imparse_addresses_begin(&ai, &env.to);
    static const int kinds[] = { IMPARSE_ADDR_GROUP_START, IMPARSE_ADDR_MAILBOX,
                                 IMPARSE_ADDR_GROUP_END, IMPARSE_ADDR_GROUP_START,
                                 IMPARSE_ADDR_GROUP_END };
    for (size_t i = 0; i < 5; i++) {
        CHECK_INT(imparse_addresses_next(&ai, &a), 1);
        CHECK_INT(a.kind, kinds[i]);
    }
    CHECK_INT(imparse_addresses_next(&ai, &a), 0);
    imparse_addresses_begin(&ai, &env.to);
    CHECK_INT(imparse_addresses_next(&ai, &a), 1);
    CHECK_BYTES(a.mailbox.data, a.mailbox.len, "team");
    CHECK_INT(imparse_addresses_next(&ai, &a), 1);
    CHECK_BYTES(a.adl.data, a.adl.len, "@relay:");
}

static void bad_envelopes(void)
{
    struct imparse_fetch_item it;
    CHECK_INT(item_at(S("(ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))"), 0, &it), 1);
    CHECK_INT(item_at(S("(ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL))"), 0, &it),
              IMPARSE_EUNEXPECTED);
    CHECK_INT(item_at(S("(ENVELOPE (NIL NIL \"x\" NIL NIL NIL NIL NIL NIL NIL))"), 0, &it),
              IMPARSE_EUNEXPECTED);
    CHECK_INT(item_at(S("(ENVELOPE (NIL NIL ((NIL NIL \"a\")) NIL NIL NIL NIL NIL NIL NIL))"),
                      0, &it), IMPARSE_EUNEXPECTED);
    CHECK_INT(item_at(S("(ENVELOPE (NIL NIL (\"a\") NIL NIL NIL NIL NIL NIL NIL))"), 0, &it),
              IMPARSE_EUNEXPECTED);
    CHECK_INT(item_at(S("(ENVELOPE NIL)"), 0, &it), IMPARSE_EUNEXPECTED);
}

/* Runs every helper a FETCH application would; returns the first error. */
static int parse_all(const char *text, size_t len, size_t *errpos)
{
    struct imparse_fetch f;
    struct imparse_fetch_item it;
    int r = imparse_fetch_begin(&f, text, len);
    while (r == 0 && (r = imparse_fetch_next(&f, &it)) == 1) {
        struct imparse_envelope env;
        if (it.kind == IMPARSE_FETCH_ENVELOPE && imparse_envelope(&it.value, &env, NULL) != 0)
            return 99;
        r = 0;
    }
    imparse_error(&f.tok, errpos);
    return r;
}

static const char body_reply[] =
    "(UID 5 FLAGS (\\Seen) BODY[HEADER.FIELDS (DATE)]<0> {12}\r\nab\0\r\nc)\r\nxyz "
    "MODSEQ (12) BINARY[1] ~{3}\r\nabc INTERNALDATE \"17-Jul-1996 02:44:25 -0700\")";

static void truncated_at_every_byte(void)
{
    static const char *replies[] = { envelope_reply, body_reply };
    static const size_t lens[] = { sizeof envelope_reply - 1, sizeof body_reply - 1 };
    for (size_t k = 0; k < 2; k++) {
        size_t pos;
        char *c = exact(replies[k], lens[k]);
        CHECK_INT(parse_all(c, lens[k], &pos), 0);
        free(c);
        for (size_t n = 0; n < lens[k]; n++) {
            c = exact(replies[k], n);
            int r = parse_all(c, n, &pos);
            free(c);
            if (r >= 0 || pos > n)
                check_fail(__FILE__, __LINE__, "reply %zu prefix %zu: r=%d pos=%zu", k, n, r, pos);
            CHECK(r < 0 && pos <= n);
        }
    }
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(scalars), TEST(flags), TEST(body_sections), TEST(bad_items), TEST(datetimes),
        TEST(envelope), TEST(bad_envelopes), TEST(truncated_at_every_byte),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
