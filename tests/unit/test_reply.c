/* The head of a response: kind, tag, status, number, keyword, text. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "core/reply.h"
#include "util/ascii.h"

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

/* Numbers are read eight digits at a time: every length, with the window
 * running past the digits, the line's end or into bytes at 0xfa and up. */
static void numbers_of_every_length(void)
{
    struct imc_reply_head h;
    char line[64];
    unsigned long long v = 0;
    for (int digits = 1; digits <= 19; digits++) {
        v = v * 10 + (unsigned long long)(digits % 10);
        snprintf(line, sizeof line, "* %llu FETCH (x)", v);
        CHECK_INT(parse(line, &h), v <= LONG_MAX ? 0 : -1);
        if (v <= LONG_MAX)
            CHECK(h.msgno == (long)v);
        snprintf(line, sizeof line, "%llu OK x", v);
        CHECK_INT(parse(line, &h), 0);
        CHECK(h.tag == v);
        snprintf(line, sizeof line, "* %llu", v); /* digits to the end */
        CHECK_INT(parse(line, &h), -1);
        snprintf(line, sizeof line, "* %llu\xfa" "9 X", v);
        CHECK_INT(parse(line, &h), -1);
    }
    CHECK_INT(parse("* 9223372036854775807 X", &h), 0);
    CHECK(h.msgno == LONG_MAX);
    CHECK_INT(parse("* 9223372036854775808 X", &h), -1);
    CHECK_INT(parse("18446744073709551615 OK x", &h), 0);
    CHECK(h.tag == UINT64_MAX);
    CHECK_INT(parse("18446744073709551616 OK x", &h), -1);
    CHECK_INT(parse("* 00000000000000000000000000042 X", &h), 0);
    CHECK_INT(h.msgno, 42);
}

/* Keywords are read eight upper-case letters at a time, with a key of
 * their first 8 bytes upper-cased: checked against a byte-at-a-time reading
 * of random lines made of the bytes that matter. */
static int ref_keyword_char(unsigned char c)
{
    return c > ' ' && c < 0x7f && !strchr("\"%()*\\{", c);
}

static void ref_parse_untagged(const unsigned char *l, size_t len, int *ok, long *msgno,
                               size_t *kw_start, size_t *kw_len, uint64_t *key, int *lower)
{
    size_t i = 2;
    *ok = 0;
    *msgno = -1;
    if (i < len && l[i] >= '0' && l[i] <= '9') {
        unsigned long long n = 0;
        for (; i < len && l[i] >= '0' && l[i] <= '9'; i++) {
            if (n > (ULLONG_MAX - 9) / 10)
                return;
            n = n * 10 + (l[i] - '0');
        }
        if (n > LONG_MAX || i >= len || l[i] != ' ')
            return;
        *msgno = (long)n;
        i++;
    }
    size_t start = i;
    *key = 0;
    *lower = 0;
    for (; i < len && ref_keyword_char(l[i]); i++) {
        unsigned char up = l[i] >= 'a' && l[i] <= 'z' ? (unsigned char)(l[i] - 32) : l[i];
        *lower |= up != l[i];
        if (i - start < 8)
            *key |= (uint64_t)up << (8 * (i - start));
    }
    if (i == start || (i < len && l[i] != ' '))
        return;
    *kw_start = start;
    *kw_len = i - start;
    *ok = 1;
}

static void keywords_and_numbers_match_a_simple_reading(void)
{
    static const char alphabet[] = "0123456789ABCXYZabcxyz ]-.\\{(\"*+\xfa\xff\x80\r";
    srand(7);
    for (int round = 0; round < 200000; round++) {
        unsigned char line[40] = "* ";
        size_t len = 2 + (size_t)(rand() % 30);
        for (size_t i = 2; i < len; i++)
            line[i] = (unsigned char)alphabet[rand() % (int)(sizeof alphabet - 1)];
        if (rand() % 2) /* a number of some length first */
            for (size_t i = 2; i < len && i < 2 + (size_t)(rand() % 22); i++)
                line[i] = (unsigned char)('0' + rand() % 10);
        struct imc_reply_head h;
        int got = imc_reply_parse((const char *)line, len, &h, NULL, 0);
        int ok;
        long msgno;
        size_t kw_start = 0, kw_len = 0;
        uint64_t key;
        int lower;
        ref_parse_untagged(line, len, &ok, &msgno, &kw_start, &kw_len, &key, &lower);
        CHECK_INT(got, ok ? 0 : -1);
        if (got != (ok ? 0 : -1)) {
            fprintf(stderr, "line: %.*s\n", (int)len, (const char *)line);
            return;
        }
        if (!ok)
            continue;
        CHECK(h.msgno == msgno);
        CHECK_INT(h.kw_start, kw_start);
        CHECK_INT(h.kw_len, kw_len);
        CHECK(h.kw_key == key);
        CHECK(h.kw_key == imc_ascii_key((const char *)line + kw_start, kw_len));
        CHECK_INT(h.kw_lower, lower);
    }
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(untagged_with_number), TEST(untagged_with_text), TEST(tagged_statuses),
        TEST(continuation_forms), TEST(rejected), TEST(error_text_is_printable),
        TEST(numbers_of_every_length), TEST(keywords_and_numbers_match_a_simple_reading),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
