/* The head of a response: kind, tag, status, number, keyword, text. */
#include "check.h"
#include "core/reply.h"

static int parse(const char *line, struct imc_reply_head *h)
{
    char err[200];
    return imc_reply_parse(line, strlen(line), h, err, sizeof err);
}

static void untagged_with_number(void)
{
    struct imc_reply_head h;
    CHECK_INT(parse("* 23 EXISTS", &h), 0);
    CHECK_INT(h.kind, IMC_REPLY_UNTAGGED);
    CHECK_INT(h.msgno, 23);
    CHECK_INT(h.kw_start, 5);
    CHECK_INT(h.kw_len, 6);
    CHECK_INT(h.text_start, 11);
}

static void untagged_with_text(void)
{
    struct imc_reply_head h;
    CHECK_INT(parse("* OK [ALERT] hi", &h), 0);
    CHECK_INT(h.msgno, -1);
    CHECK_INT(h.kw_len, 2);
    CHECK_INT(h.text_start, 5);
    CHECK_INT(parse("* CAPABILITY", &h), 0);
    CHECK_INT(h.kw_len, 10);
}

static void tagged_statuses(void)
{
    struct imc_reply_head h;
    CHECK_INT(parse("17 OK done", &h), 0);
    CHECK_INT(h.kind, IMC_REPLY_TAGGED);
    CHECK_INT(h.tag, 17);
    CHECK_INT(h.status, IMC_STATUS_OK);
    CHECK_INT(parse("3 no", &h), 0);
    CHECK_INT(h.status, IMC_STATUS_NO);
    CHECK_INT(parse("3 BAD ", &h), 0);
    CHECK_INT(h.status, IMC_STATUS_BAD);
    CHECK_INT(h.text_start, 6);
}

static void continuation_forms(void)
{
    struct imc_reply_head h;
    CHECK_INT(parse("+ go ahead", &h), 0);
    CHECK_INT(h.kind, IMC_REPLY_CONTINUATION);
    CHECK_INT(h.text_start, 2);
    CHECK_INT(parse("+", &h), 0);
    CHECK_INT(h.text_start, 1);
    CHECK_INT(parse("+go", &h), -1);
}

static void rejected(void)
{
    struct imc_reply_head h;
    CHECK_INT(parse("1 PREAUTH hi", &h), -1);
    CHECK_INT(parse("1 XYZ", &h), -1);
    CHECK_INT(parse("XYZ OK x", &h), -1);
    CHECK_INT(parse("01 OK x", &h), -1);
    CHECK_INT(parse("1Gdo00V4 wFaIW2WP", &h), -1);
    CHECK_INT(parse("99999999999999999999999 OK x", &h), -1);
    CHECK_INT(parse("* 99999999999999999999 EXISTS", &h), -1);
    CHECK_INT(parse("* ", &h), -1);
    CHECK_INT(parse("*", &h), -1);
    CHECK_INT(parse("", &h), -1);
    CHECK_INT(parse("* 5", &h), -1);
    CHECK_INT(parse("* (x)", &h), -1);
    CHECK_INT(parse("1 OK(x)", &h), -1);
}

static void error_text_is_printable(void)
{
    struct imc_reply_head h;
    char err[200];
    const char line[] = "XX\x01\x1b[2J OK";
    CHECK_INT(imc_reply_parse(line, sizeof line - 1, &h, err, sizeof err), -1);
    for (const char *p = err; *p; p++)
        CHECK((unsigned char)*p >= ' ' && *p != 0x7f);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(untagged_with_number), TEST(untagged_with_text), TEST(tagged_statuses),
        TEST(continuation_forms), TEST(rejected), TEST(error_text_is_printable),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
