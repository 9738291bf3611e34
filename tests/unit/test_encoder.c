/* The format engine: every %-sequence, every quoting decision, literals and
 * their barriers, refusals that leave the queue untouched. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/encoder.h"

static int encode(struct imc_outq *q, unsigned lit, char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = imc_encode_command(q, 7, lit, err, 200, fmt, ap);
    va_end(ap);
    return r;
}

/* Everything queued, barriers ignored. */
static const char *all_bytes(struct imc_outq *q, size_t *len)
{
    *len = q->buf.len - q->head;
    return q->buf.data + q->head;
}

#define EXPECT(lit, want, ...)                                   \
    do {                                                             \
        struct imc_outq q;                                           \
        char err[200] = "";                                          \
        imc_outq_init(&q);                                           \
        int r_ = encode(&q, lit, err, __VA_ARGS__);                  \
        size_t n_;                                                   \
        const char *b_ = all_bytes(&q, &n_);                         \
        int ok_ = r_ == 0 && n_ == strlen(want) && memcmp(b_, want, n_) == 0; \
        if (!ok_)                                                    \
            CHECK_MEM(b_, n_, want, strlen(want));                   \
        imc_outq_free(&q);                                           \
        CHECK(r_ == 0);                                              \
    } while (0)

static void plain_and_numbers(void)
{
    EXPECT(0, "7 NOOP\r\n", "NOOP");
    EXPECT(0, "7 FETCH -5:42 100%\r\n", "FETCH %d:%u 100%%", -5, 42u);
    EXPECT(0, "7 X 4294967295\r\n", "X %u", 4294967295u);
}

static void atoms(void)
{
    EXPECT(0, "7 SELECT INBOX\r\n", "SELECT %a", "INBOX");
    EXPECT(0, "7 STORE 1 +FLAGS \\Seen\r\n", "STORE 1 +FLAGS %a", "\\Seen");
    EXPECT(0, "7 FETCH 1 BODY[1.2]<0.10>\r\n", "FETCH 1 %a", "BODY[1.2]<0.10>");
}

static void astring_forms(void)
{
    EXPECT(0, "7 LOGIN alice secret\r\n", "LOGIN %s %s", "alice", "secret");
    EXPECT(0, "7 SELECT \"\"\r\n", "SELECT %s", "");
    EXPECT(0, "7 SELECT \"a b\"\r\n", "SELECT %s", "a b");
    EXPECT(0, "7 SELECT \"a(b\"\r\n", "SELECT %s", "a(b");
    EXPECT(0, "7 LIST \"\" \"*\"\r\n", "LIST %s %s", "", "*");
    EXPECT(0, "7 LIST \"\" \"%\"\r\n", "LIST %s %s", "", "%");
    EXPECT(0, "7 X \"a\\\"b\\\\c\"\r\n", "X %s", "a\"b\\c");
    EXPECT(0, "7 X \"{5}\"\r\n", "X %s", "{5}");
    EXPECT(0, "7 X \"NIL\" \"nil\" NILS\r\n", "X %s %s %s", "NIL", "nil", "NILS");
    EXPECT(0, "7 X a]b\r\n", "X %s", "a]b");
    EXPECT(0, "7 X \"\t\"\r\n", "X %s", "\t");
}

static void literals(void)
{
    EXPECT(0, "7 LOGIN {4}\r\na\r\nb\r\n", "LOGIN %s", "a\r\nb");
    EXPECT(IMC_LIT_PLUS, "7 LOGIN {3+}\r\na\nb\r\n", "LOGIN %s", "a\nb");
    EXPECT(0, "7 X {2}\r\n\xc3\xa9\r\n", "X %s", "\xc3\xa9");
    char big[IMC_QUOTED_MAX + 1];
    memset(big, 'x', IMC_QUOTED_MAX);
    big[IMC_QUOTED_MAX] = '\0';
    CHECK_INT(imc_astring_form(big, IMC_QUOTED_MAX, 0), IMC_FORM_LITERAL);
    CHECK_INT(imc_astring_form(big, IMC_QUOTED_MAX - 1, 0), IMC_FORM_ATOM);
}

static int encode_refused_utf8_atom(void)
{
    struct imc_outq q;
    char err[200];
    imc_outq_init(&q);
    int r = encode(&q, IMC_LIT_UTF8, err, "X %a", "\xc3\xa9");
    imc_outq_free(&q);
    return r;
}

/* RFC 7888 section 4: with LITERAL- only, {n+} up to 4096 bytes; a larger
 * literal waits for "+" as if the server had said nothing. */
static void literal_minus_threshold(void)
{
    for (size_t n = IMC_LITERAL_MINUS_MAX - 1; n <= IMC_LITERAL_MINUS_MAX + 1; n++) {
        char *s = malloc(n + 1);
        memset(s, 'x', n);
        s[0] = '\n';
        s[n] = '\0';
        struct imc_outq q;
        char err[200];
        imc_outq_init(&q);
        CHECK_INT(encode(&q, IMC_LIT_MINUS, err, "APPEND box %s", s), 0);
        char head[40];
        snprintf(head, sizeof head, "7 APPEND box {%zu%s}\r\n", n,
                 n <= IMC_LITERAL_MINUS_MAX ? "+" : "");
        size_t len;
        const char *w = imc_outq_writable(&q, &len);
        if (n <= IMC_LITERAL_MINUS_MAX) {
            CHECK_INT(q.nbarriers, 0);
            CHECK_INT(len, strlen(head) + n + 2);
        } else {
            CHECK_INT(q.nbarriers, 1);
            CHECK_INT(len, strlen(head));
        }
        CHECK(memcmp(w, head, strlen(head)) == 0);
        imc_outq_free(&q);
        free(s);
    }
    CHECK(imc_literal_nonsync(IMC_LIT_PLUS, 1u << 30));
    CHECK(imc_literal_nonsync(IMC_LIT_PLUS | IMC_LIT_MINUS, 1u << 30));
    CHECK(!imc_literal_nonsync(0, 1));
}

/* RFC 6855 section 3: once UTF8=ACCEPT is enabled, UTF-8 goes quoted;
 * bytes that are not UTF-8, or any 8-bit byte before that, go as a
 * literal, and an atom never holds one. */
static void utf8_quoted_once_enabled(void)
{
    EXPECT(IMC_LIT_UTF8, "7 SELECT \"Entw\xc3\xbcrfe\"\r\n", "SELECT %s", "Entw\xc3\xbcrfe");
    EXPECT(IMC_LIT_UTF8, "7 CREATE \"\xe6\x97\xa5 \\\"q\\\"\"\r\n", "CREATE %s",
           "\xe6\x97\xa5 \"q\"");
    EXPECT(0, "7 SELECT {9}\r\nEntw\xc3\xbcrfe\r\n", "SELECT %s", "Entw\xc3\xbcrfe");
    /* Overlong, a lone continuation byte, a surrogate, a cut sequence. */
    EXPECT(IMC_LIT_UTF8, "7 X {2}\r\n\xc0\xaf\r\n", "X %s", "\xc0\xaf");
    EXPECT(IMC_LIT_UTF8, "7 X {2}\r\na\x80\r\n", "X %s", "a\x80");
    EXPECT(IMC_LIT_UTF8, "7 X {3}\r\n\xed\xa0\x80\r\n", "X %s", "\xed\xa0\x80");
    EXPECT(IMC_LIT_UTF8, "7 X {2}\r\n\xe6\x97\r\n", "X %s", "\xe6\x97");
    /* CR and LF still need a literal. */
    EXPECT(IMC_LIT_UTF8, "7 X {3}\r\n\xc3\xa9\n\r\n", "X %s", "\xc3\xa9\n");
    CHECK_INT(imc_astring_form("\xc3\xa9", 2, IMC_LIT_UTF8), IMC_FORM_QUOTED);
    char *v[] = { "\xc3\xa9", "a", NULL };
    EXPECT(IMC_LIT_UTF8 | IMC_LIT_PLUS, "7 X (\"\xc3\xa9\" a)\r\n", "X (%v)", v);
    CHECK_INT(encode_refused_utf8_atom(), -1);
}

static void vectors(void)
{
    char *v[] = { "a", "b c", "", "d\re", NULL };
    EXPECT(0, "7 X (a \"b c\" \"\" {3}\r\nd\re)\r\n", "X (%v)", v);
    char *empty[] = { NULL };
    EXPECT(0, "7 X ()\r\n", "X (%v)", empty);
}

static void barrier_positions(void)
{
    struct imc_outq q;
    char err[200];
    imc_outq_init(&q);
    CHECK_INT(encode(&q, 0, err, "APPEND %s %s", "a\nb", "c\nd"), 0);
    CHECK_INT(q.nbarriers, 2);
    size_t len;
    const char *w = imc_outq_writable(&q, &len);
    CHECK_BYTES(w, len, "7 APPEND {3}\r\n");
    CHECK(q.barriers[0].end == imc_outq_end(&q));
    CHECK(q.barriers[1].end == imc_outq_end(&q));
    imc_outq_consume(&q, len);
    CHECK(imc_outq_waiting(&q));
    imc_outq_release(&q);
    w = imc_outq_writable(&q, &len);
    CHECK_BYTES(w, len, "a\nb {3}\r\n");
    imc_outq_free(&q);
}

static void refusals_leave_queue_unchanged(void)
{
    struct imc_outq q;
    char err[200];
    imc_outq_init(&q);
    CHECK_INT(encode(&q, 0, err, "NOOP"), 0);
    size_t before = q.buf.len;
    CHECK_INT(encode(&q, 0, err, "SELECT %s %a", "x\ny", "INBOX\r\n2 DELETE x"), -1);
    CHECK(strstr(err, "not an atom") != NULL);
    CHECK_INT(q.buf.len, before);
    CHECK_INT(q.nbarriers, 0);
    CHECK_INT(encode(&q, 0, err, "X %a", "a b"), -1);
    CHECK_INT(encode(&q, 0, err, "X %a", ""), -1);
    CHECK_INT(encode(&q, 0, err, "X %a", "(x"), -1);
    CHECK_INT(encode(&q, 0, err, "X %a", "x\"y"), -1);
    CHECK_INT(encode(&q, 0, err, "X %a", "\xc3\xa9"), -1);
    CHECK_INT(encode(&q, 0, err, "X %q", "x"), -1);
    CHECK(strstr(err, "unknown") != NULL);
    CHECK_INT(encode(&q, 0, err, "X %"), -1);
    CHECK_INT(encode(&q, 0, err, "X %s", (char *)NULL), -1);
    CHECK_INT(q.buf.len, before);
    imc_outq_free(&q);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(plain_and_numbers), TEST(atoms), TEST(astring_forms), TEST(literals),
        TEST(vectors), TEST(barrier_positions), TEST(refusals_leave_queue_unchanged),
        TEST(literal_minus_threshold), TEST(utf8_quoted_once_enabled),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
