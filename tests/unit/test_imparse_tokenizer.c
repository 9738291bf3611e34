/* The imparse tokenizer: every token type, IMAP's atom quirks, separators,
 * nesting, numbers at their limit, and truncation at every byte. */
#include <stdlib.h>

#include "check.h"
#include <cyrus/imparse.h>

/* A copy of exactly n bytes: under ASan, reading past n is caught. */
static char *exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    return p;
}

/* Tokens of text, written as "TYPE:value " into out; returns the error. */
static int tokens(const char *text, size_t len, unsigned depth, char *out, size_t outsize,
                  size_t *errpos)
{
    static const char *names[] = { "END", "ATOM", "NUM", "Q", "LIT", "LIT8", "NIL",
                                   "(", ")", "[", "]" };
    struct imparse p;
    struct imparse_token t;
    int r;
    size_t n = 0;
    out[0] = '\0';
    imparse_init(&p, text, len, depth);
    while ((r = imparse_next(&p, &t)) == 0) {
        if (n < outsize)
            n += (size_t)snprintf(out + n, outsize - n, "%s%s%.*s ", names[t.type],
                                  t.data ? ":" : "", (int)t.len, t.data ? t.data : "");
        if (t.type == IMPARSE_END)
            break;
    }
    imparse_error(&p, errpos);
    return r;
}

#define TOKENS(text, want)                                                    \
    do {                                                                      \
        char out_[1024];                                                      \
        size_t pos_;                                                          \
        CHECK_INT(tokens(text, sizeof text - 1, 16, out_, sizeof out_, &pos_), 0); \
        CHECK_STR(out_, want);                                                \
    } while (0)

#define FAILS(text, depth, err, pos)                                          \
    do {                                                                      \
        char out_[1024];                                                      \
        size_t pos_;                                                          \
        CHECK_INT(tokens(text, sizeof text - 1, depth, out_, sizeof out_, &pos_), err); \
        CHECK_INT(pos_, pos);                                                 \
    } while (0)

static void atoms_flags_and_sections(void)
{
    TOKENS("\\Seen $Forwarded \\* Junk NonJunk",
           "ATOM:\\Seen ATOM:$Forwarded ATOM:\\* ATOM:Junk ATOM:NonJunk END ");
    TOKENS("BODY[HEADER.FIELDS (DATE FROM)]<0> BODY[] BINARY[1.2]",
           "ATOM:BODY[HEADER.FIELDS (DATE FROM)]<0> ATOM:BODY[] ATOM:BINARY[1.2] END ");
    TOKENS("BODY[HEADER.FIELDS (\"X-A]\")] 1:5,7,9:* a]b",
           "ATOM:BODY[HEADER.FIELDS (\"X-A]\")] ATOM:1:5,7,9:* ATOM:a]b END ");
    /* a '[' with no ']' after it is an ordinary ATOM-CHAR */
    TOKENS("foo[bar baz", "ATOM:foo[bar ATOM:baz END ");
    TOKENS("NIL nil Nil NILS ~x", "NIL NIL NIL ATOM:NILS ATOM:~x END ");
    TOKENS("  a   b  ", "ATOM:a ATOM:b END ");
    TOKENS("", "END ");
    TOKENS("\xc3\xa9t\xc3\xa9", "ATOM:\xc3\xa9t\xc3\xa9 END ");
}

static void numbers(void)
{
    struct imparse p;
    struct imparse_token t;
    const char *s = "0 4294967296 18446744073709551615 007";
    imparse_init(&p, s, strlen(s), 4);
    CHECK_INT(imparse_next(&p, &t), 0);
    CHECK(t.type == IMPARSE_NUMBER && t.number == 0);
    CHECK_INT(imparse_next(&p, &t), 0);
    CHECK(t.number == 4294967296ull);
    CHECK_INT(imparse_next(&p, &t), 0);
    CHECK(t.type == IMPARSE_NUMBER && t.number == UINT64_MAX);
    CHECK_INT(imparse_next(&p, &t), 0);
    CHECK(t.number == 7 && t.len == 3);
    FAILS("1 18446744073709551616", 4, IMPARSE_EOVERFLOW, 2);
    FAILS("99999999999999999999999", 4, IMPARSE_EOVERFLOW, 0);
    TOKENS("12abc -1", "ATOM:12abc ATOM:-1 END ");
    /* Digits past 2^64 followed by a letter: an atom, not an overflow. */
    TOKENS("184467440737095516160x 99999999999999999999999]",
           "ATOM:184467440737095516160x ATOM:99999999999999999999999] END ");
}

static void quoted(void)
{
    TOKENS("\"\" \"a b\" \"a\\\"b\\\\c\" \"(x)\"",
           "Q: Q:a b Q:a\\\"b\\\\c Q:(x) END ");
    FAILS("\"a\\b\"", 4, IMPARSE_ESYNTAX, 3);
    FAILS("\"a\r\nb\"", 4, IMPARSE_ESYNTAX, 2);
    FAILS("x \"abc", 4, IMPARSE_ETRUNC, 2);
    FAILS("\"abc\\", 4, IMPARSE_ETRUNC, 0);
    struct imparse p;
    struct imparse_token t;
    char buf[8];
    size_t n;
    const char *s = "\"a\\\"b\\\\c\"";
    imparse_init(&p, s, strlen(s), 4);
    CHECK_INT(imparse_next(&p, &t), 0);
    struct imparse_str str = imparse_token_str(&t);
    CHECK_INT(imparse_str_copy(&str, buf, sizeof buf, &n), 0);
    CHECK_STR(buf, "a\"b\\c");
    CHECK_INT(n, 5);
    CHECK_INT(imparse_str_copy(&str, buf, 6, &n), 0);
    CHECK_INT(imparse_str_copy(&str, buf, 5, &n), IMPARSE_EBUFFER);
    CHECK_INT(imparse_str_copy(&str, buf, 0, &n), IMPARSE_EBUFFER);
    CHECK(imparse_str_eq(&str, "A\"B\\C"));
    CHECK(!imparse_str_eq(&str, "a\"b\\"));
    CHECK(!imparse_str_eq(&str, "a\"b\\cd"));
    struct imparse_str bad = { IMPARSE_QUOTED, "a\\", 2 };
    CHECK_INT(imparse_str_copy(&bad, buf, sizeof buf, &n), IMPARSE_ESYNTAX);
    struct imparse_str nil = { IMPARSE_NIL, NULL, 0 };
    CHECK_INT(imparse_str_copy(&nil, buf, sizeof buf, &n), 0);
    CHECK_INT(n, 0);
    CHECK(!imparse_str_eq(&nil, "NIL") && !imparse_str_eq(&nil, ""));
}

static void literals(void)
{
    static const char s[] = "{7}\r\na\0b\r\nc) ~{3}\r\n\0\0\0 {0}\r\n";
    struct imparse p;
    struct imparse_token t;
    imparse_init(&p, s, sizeof s - 1, 4);
    CHECK_INT(imparse_next(&p, &t), 0);
    CHECK_INT(t.type, IMPARSE_LITERAL);
    CHECK_MEM(t.data, t.len, "a\0b\r\nc)", 7);
    CHECK_INT(imparse_next(&p, &t), 0);
    CHECK_INT(t.type, IMPARSE_LITERAL8);
    CHECK_MEM(t.data, t.len, "\0\0\0", 3);
    CHECK_INT(imparse_next(&p, &t), 0);
    CHECK(t.type == IMPARSE_LITERAL && t.len == 0);
    CHECK_INT(imparse_next(&p, &t), 0);
    CHECK_INT(t.type, IMPARSE_END);
    char buf[16];
    size_t n;
    static const char lit[] = "{3}\r\na\0b";
    imparse_init(&p, lit, sizeof lit - 1, 4);
    CHECK_INT(imparse_next(&p, &t), 0);
    struct imparse_str str = imparse_token_str(&t);
    CHECK_INT(imparse_str_copy(&str, buf, sizeof buf, &n), 0);
    CHECK_MEM(buf, n + 1, "a\0b\0", 4);
    /* the size must match the bytes present */
    FAILS("{10}\r\nabc", 4, IMPARSE_ETRUNC, 0);
    FAILS("x ~{4}\r\nabc", 4, IMPARSE_ETRUNC, 2);
    FAILS("{}\r\n", 4, IMPARSE_ESYNTAX, 1);
    FAILS("{3x}\r\nabc", 4, IMPARSE_ESYNTAX, 2);
    FAILS("{3}\nabc", 4, IMPARSE_ESYNTAX, 3);
    FAILS("{3+}\r\nabc", 4, IMPARSE_ESYNTAX, 2);
    FAILS("{18446744073709551616}\r\n", 4, IMPARSE_EOVERFLOW, 1);
    FAILS("{18446744073709551615}\r\nab", 4, IMPARSE_ETRUNC, 0);
}

static void lists_and_codes(void)
{
    TOKENS("() (()) (a (b) \"c\")", "( ) ( ( ) ) ( ATOM:a ( ATOM:b ) Q:c ) END ");
    TOKENS("((a)(b) \"x\")", "( ( ATOM:a ) ( ATOM:b ) Q:x ) END ");
    TOKENS("[UIDNEXT 5] [PERMANENTFLAGS (\\Seen \\*)] [ALERT]",
           "[ ATOM:UIDNEXT NUM:5 ] [ ATOM:PERMANENTFLAGS ( ATOM:\\Seen ATOM:\\* ) ] [ ATOM:ALERT ] END ");
    TOKENS("(a]b)", "( ATOM:a]b ) END ");
    FAILS(")", 4, IMPARSE_EUNBALANCED, 0);
    FAILS("(a b", 4, IMPARSE_ETRUNC, 4);
    FAILS("[a)", 4, IMPARSE_EUNBALANCED, 2);
    FAILS("(a]", 4, IMPARSE_ETRUNC, 3);
}

static void separators(void)
{
    FAILS("\"a\"\"b\"", 4, IMPARSE_ESYNTAX, 3);
    FAILS("a\"b\"", 4, IMPARSE_ESYNTAX, 1);
    FAILS("\"a\"b", 4, IMPARSE_ESYNTAX, 3);
    FAILS("{1}\r\nab", 4, IMPARSE_ESYNTAX, 6);
    FAILS("a(b)", 4, IMPARSE_ESYNTAX, 1);
    FAILS("a\r\nb", 4, IMPARSE_ESYNTAX, 1);
    FAILS("a\tb", 4, IMPARSE_ESYNTAX, 1);
    FAILS("\r\n", 4, IMPARSE_ESYNTAX, 0);
    FAILS("a {", 4, IMPARSE_ETRUNC, 3);
    TOKENS("(a)b", "( ATOM:a ) ATOM:b END ");
    static const char nul[] = "a \0";
    FAILS(nul, 4, IMPARSE_ESYNTAX, 2);
}

static void nesting_limit(void)
{
    TOKENS("((((((((((((((((x))))))))))))))))",
           "( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ATOM:x ) ) ) ) ) ) ) ) ) ) ) ) ) ) ) ) END ");
    FAILS("(((((((((((((((((x)))))))))))))))))", 16, IMPARSE_EDEPTH, 16);
    FAILS("([(x)])", 2, IMPARSE_EDEPTH, 2);
    FAILS("(", 0, IMPARSE_EDEPTH, 0);
    char deep[2 * IMPARSE_MAX_DEPTH + 8];
    memset(deep, '(', IMPARSE_MAX_DEPTH + 1);
    memset(deep + IMPARSE_MAX_DEPTH + 1, ')', IMPARSE_MAX_DEPTH + 1);
    char out[64];
    size_t pos;
    CHECK_INT(tokens(deep, 2 * IMPARSE_MAX_DEPTH + 2, 1000, out, sizeof out, &pos),
              IMPARSE_EDEPTH);
    CHECK_INT(pos, IMPARSE_MAX_DEPTH);
    CHECK_INT(tokens(deep + 1, 2 * IMPARSE_MAX_DEPTH, 1000, out, sizeof out, &pos), 0);
}

static void errors_are_sticky_and_peek_does_not_consume(void)
{
    struct imparse p;
    struct imparse_token t;
    size_t pos;
    imparse_init(&p, "a ) b", 5, 4);
    CHECK_INT(imparse_peek(&p, &t), 0);
    CHECK_INT(imparse_peek(&p, &t), 0);
    CHECK_INT(imparse_next(&p, &t), 0);
    CHECK(t.type == IMPARSE_ATOM && t.len == 1 && t.data[0] == 'a');
    CHECK_INT(imparse_next(&p, &t), IMPARSE_EUNBALANCED);
    CHECK_INT(imparse_next(&p, &t), IMPARSE_EUNBALANCED);
    CHECK_INT(imparse_error(&p, &pos), IMPARSE_EUNBALANCED);
    CHECK_INT(pos, 2);
    CHECK_INT(imparse_next(&p, &t), IMPARSE_EUNBALANCED);
}

/* Every strict non-empty prefix of a parenthesized reply is truncated; each must end
 * in an error within the prefix, read from an exact-size copy. */
static void truncated_at_every_byte(void)
{
    static const char s[] = "(UID 5 FLAGS (\\Seen $X) BODY[HEADER.FIELDS (DATE)]<0> "
                            "{12}\r\nhello\r\nworld ~{2}\r\n\0\1 \"q\\\"x\" NIL "
                            "[A 1] 18446744073709551615)";
    char out[2048];
    size_t pos;
    for (size_t n = 1; n < sizeof s - 1; n++) {
        char *c = exact(s, n);
        int r = tokens(c, n, 8, out, sizeof out, &pos);
        free(c);
        if (r >= 0 || pos > n)
            check_fail(__FILE__, __LINE__, "prefix %zu: r=%d pos=%zu", n, r, pos);
        CHECK(r < 0 && pos <= n);
    }
    char *c = exact(s, sizeof s - 1);
    int r = tokens(c, sizeof s - 1, 8, out, sizeof out, &pos);
    free(c);
    CHECK_INT(r, 0);
}

/* Linear time on inputs built to make a scanner look ahead repeatedly. */
static void no_quadratic_scans(void)
{
    enum { N = 1 << 20 };
    char *s = malloc(N);
    char out[64];
    size_t pos;
    s[0] = 'a';
    memset(s + 1, '[', N - 1);
    int r = tokens(s, N, 4, out, sizeof out, &pos);
    memset(s, '(', N);
    int deep = tokens(s, N, IMPARSE_MAX_DEPTH, out + 32, sizeof out - 32, &pos);
    free(s);
    CHECK_INT(deep, IMPARSE_EDEPTH);
    CHECK_INT(r, 0);
    CHECK(strncmp(out, "ATOM:a[[[[", 10) == 0);
}

static void error_names(void)
{
    CHECK_STR(imparse_strerror(IMPARSE_OK), "no error");
    CHECK_STR(imparse_strerror(IMPARSE_ETRUNC), "truncated input");
    for (int e = IMPARSE_EBUFFER; e < 0; e++)
        CHECK(strcmp(imparse_strerror(e), "unknown error") != 0);
    CHECK_STR(imparse_strerror(-100), "unknown error");
    CHECK_STR(imparse_strerror(5), "unknown error");
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(atoms_flags_and_sections), TEST(numbers), TEST(quoted), TEST(literals),
        TEST(lists_and_codes), TEST(separators), TEST(nesting_limit),
        TEST(errors_are_sticky_and_peek_does_not_consume), TEST(truncated_at_every_byte),
        TEST(no_quadratic_scans), TEST(error_names),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
