/* The capability list: atoms learnt and looked up without regard to case,
 * the bits the encoder acts on, forgetting, and a list past its bound. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/capabilities.h"

static int has(const struct imc_caps *c, const char *name)
{
    return imc_caps_has(c, name, strlen(name));
}

static void nothing_known_at_first(void)
{
    struct imc_caps c;
    imc_caps_init(&c);
    CHECK_INT(has(&c, "IMAP4rev1"), -1);
    CHECK_INT(c.bits, 0);
    imc_caps_free(&c);
}

static void learnt_from_reply_text_and_codes(void)
{
    struct imc_caps c;
    imc_caps_init(&c);
    const char *text = "IMAP4rev1  literal+ BINARY AUTH=PLAIN";
    imc_caps_learn(&c, text, strlen(text));
    CHECK_INT(has(&c, "LITERAL+"), 1);
    CHECK_INT(has(&c, "auth=plain"), 1);
    CHECK_INT(has(&c, "AUTH"), 0);
    CHECK_INT(has(&c, "LITERAL"), 0);
    CHECK_INT(has(&c, ""), 0);
    CHECK_INT(c.bits, IMC_CAP_LITERALPLUS | IMC_CAP_BINARY);
    /* A code's text ends at "]": what follows is the human text. */
    const char *code = "IMAP4rev1 LITERAL- UTF8=ACCEPT] Dovecot LITERAL+ ready";
    imc_caps_learn(&c, code, strlen(code));
    CHECK_INT(has(&c, "LITERAL+"), 0);
    CHECK_INT(has(&c, "Dovecot"), 0);
    CHECK_INT(has(&c, "UTF8=ACCEPT"), 1);
    CHECK_INT(c.bits, IMC_CAP_LITERALMINUS | IMC_CAP_UTF8ACCEPT);
    CHECK_INT(c.enabled, 0);
    imc_caps_free(&c);
}

static void forget_keeps_what_was_enabled(void)
{
    struct imc_caps c;
    imc_caps_init(&c);
    imc_caps_learn(&c, "LITERAL+ UTF8=ACCEPT", 20);
    imc_caps_enabled(&c, "CONDSTORE UTF8=ACCEPT", 21);
    CHECK_INT(c.enabled, IMC_CAP_UTF8ACCEPT);
    imc_caps_forget(&c);
    CHECK_INT(has(&c, "LITERAL+"), -1);
    CHECK_INT(c.bits, 0);
    CHECK_INT(c.enabled, IMC_CAP_UTF8ACCEPT);
    CHECK(c.list.data == NULL);
    imc_caps_free(&c);
}

/* AUTHENTICATE keeps a copy: the session's list is forgotten as each
 * attempt is sent, the copy stays whole. */
static void copy_outlives_forget(void)
{
    struct imc_caps c, d;
    imc_caps_init(&c);
    imc_caps_init(&d);
    imc_caps_learn(&c, "AUTH=PLAIN SASL-IR LITERAL+", 27);
    imc_caps_copy(&d, &c);
    imc_caps_forget(&c);
    CHECK_INT(has(&c, "SASL-IR"), -1);
    CHECK_INT(has(&d, "sasl-ir"), 1);
    CHECK_INT(has(&d, "AUTH=PLAIN"), 1);
    CHECK_INT(d.bits, IMC_CAP_LITERALPLUS);
    imc_caps_copy(&d, &c); /* an empty list copies as unknown */
    CHECK_INT(has(&d, "SASL-IR"), -1);
    imc_caps_free(&c);
    imc_caps_free(&d);
}

/* A hostile server's endless list costs at most the bound; names past it
 * still count for the encoder but are reported unknown, not absent. */
static void long_list_is_bounded(void)
{
    size_t n = 3 * IMC_CAPS_LIST_MAX;
    char *text = malloc(n + 20);
    memset(text, 'X', n);
    for (size_t i = 7; i < n; i += 8)
        text[i] = ' ';
    strcpy(text + n, " LITERAL+ ZZZ");
    struct imc_caps c;
    imc_caps_init(&c);
    imc_caps_learn(&c, text, strlen(text));
    CHECK(c.list.len <= IMC_CAPS_LIST_MAX);
    CHECK(c.truncated);
    CHECK_INT(c.bits, IMC_CAP_LITERALPLUS);
    CHECK_INT(has(&c, "XXXXXXX"), 1);
    CHECK_INT(has(&c, "ZZZ"), -1);
    imc_caps_free(&c);
    free(text);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(nothing_known_at_first), TEST(learnt_from_reply_text_and_codes),
        TEST(forget_keeps_what_was_enabled), TEST(long_list_is_bounded),
        TEST(copy_outlives_forget),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
