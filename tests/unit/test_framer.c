/* Framing: lines, terminators, literals and limits, fed whole and in every
 * possible split. */
#include <stdlib.h>

#include "check.h"
#include "core/framer.h"
#include "util/buf.h"

/* Run the framer over input split into pieces of size step and describe
 * the frames: "L<first><lit>:<data>\n" per line and "D:<data>\n" per
 * literal, consecutive literal pieces merged.  Errors end with "E:<why>". */
static char *transcript(const char *in, size_t len, size_t step, size_t max_line,
                        uint64_t max_lit)
{
    struct imc_framer f;
    struct imc_buf out;
    imc_framer_init(&f, max_line, max_lit);
    imc_buf_init(&out);
    int in_lit = 0;
    for (size_t off = 0; off <= len;) {
        size_t n = len - off < step ? len - off : step;
        const char *p = in + off;
        off += n ? n : 1;
        for (;;) {
            struct imc_frame fr;
            size_t used = imc_framer_next(&f, p, n, &fr);
            p += used;
            n -= used;
            if (fr.kind == IMC_FRAME_NEED_MORE)
                break;
            if (fr.kind == IMC_FRAME_ERROR) {
                imc_buf_appendstr(&out, "E:");
                imc_buf_appendstr(&out, imc_framer_error(&f));
                goto done;
            }
            if (fr.kind == IMC_FRAME_LINE) {
                char head[64];
                snprintf(head, sizeof head, "L%d%d/%zu:", fr.first, fr.literal, fr.eol_len);
                imc_buf_appendstr(&out, head);
                imc_buf_append(&out, fr.data, fr.len);
                imc_buf_appendc(&out, '\n');
                in_lit = 0;
            } else {
                if (!in_lit)
                    imc_buf_appendstr(&out, "D:");
                in_lit = 1;
                imc_buf_append(&out, fr.data, fr.len);
                if (!fr.literal) {
                    imc_buf_appendc(&out, '\n');
                    in_lit = 0;
                }
            }
        }
    }
done:
    imc_framer_free(&f);
    return imc_buf_cstr(&out);
}

/* The transcript must not depend on how the input is split. */
static int same_for_every_split(const char *in, size_t len, const char *want,
                                size_t max_line, uint64_t max_lit)
{
    for (size_t step = 1; step <= len + 1; step++) {
        char *got = transcript(in, len, step, max_line, max_lit);
        int ok = strcmp(got, want) == 0;
        if (!ok)
            fprintf(stderr, "step %zu:\n got: %s\nwant: %s\n", step, got, want);
        free(got);
        if (!ok)
            return 0;
    }
    return 1;
}

#define SPLITS(in, want) same_for_every_split(in, sizeof(in) - 1, want, 1 << 20, 1 << 20)

static void lines_and_terminators(void)
{
    CHECK(SPLITS("* OK hi\r\n* 2 EXISTS\n", "L10/2:* OK hi\nL10/1:* 2 EXISTS\n"));
}

static void cr_inside_line_is_data(void)
{
    CHECK(SPLITS("* OK a\rb\r\r\n", "L10/2:* OK a\rb\r\n"));
}

static void bare_lf_keeps_last_byte(void)
{
    /* Cyrus assumed a CR before every LF and cut "EXISTS" to "EXIST". */
    CHECK(SPLITS("* 2 EXISTS\n", "L10/1:* 2 EXISTS\n"));
}

static void literal_then_rest(void)
{
    CHECK(SPLITS("* 1 FETCH (BODY[] {5}\r\nhe\r\no)\r\n* OK\r\n",
                 "L11/2:* 1 FETCH (BODY[] {5}\nD:he\r\no\nL00/2:)\nL10/2:* OK\n"));
}

static void literal_plus_and_empty_literal(void)
{
    CHECK(SPLITS("* X {0}\r\n {2+}\r\nab\r\n",
                 "L11/2:* X {0}\nD:\nL01/2: {2+}\nD:ab\nL00/2:\n"));
}

static void literal_holding_crlf_and_braces(void)
{
    CHECK(SPLITS("* 1 FETCH (BODY[] {7}\r\n{3}\r\n\r\n)\r\n",
                 "L11/2:* 1 FETCH (BODY[] {7}\nD:{3}\r\n\r\n\nL00/2:)\n"));
}

static void not_a_literal(void)
{
    CHECK(SPLITS("* OK {abc}\r\n* OK {}\r\n* OK x}\r\n",
                 "L10/2:* OK {abc}\nL10/2:* OK {}\nL10/2:* OK x}\n"));
}

static void literal_over_limit(void)
{
    const char in[] = "* 1 FETCH (BODY[] {99999999999}\r\nxx";
    char *got = transcript(in, sizeof in - 1, 1, 1 << 20, 1 << 20);
    CHECK(strncmp(got, "E:literal larger", 16) == 0);
    free(got);
}

static void literal_overflowing_64_bits(void)
{
    const char in[] = "* 1 FETCH (BODY[] {184467440737095516160}\r\n";
    char *got = transcript(in, sizeof in - 1, 7, 1 << 20, UINT64_MAX);
    CHECK(strncmp(got, "E:literal larger", 16) == 0);
    free(got);
}

static void line_over_limit(void)
{
    char in[300];
    memset(in, 'A', sizeof in);
    memcpy(in, "* OK ", 5);
    for (size_t step = 1; step < 40; step += 13) {
        char *got = transcript(in, sizeof in, step, 100, 1000);
        CHECK_STR(got, "E:line longer than the limit");
        free(got);
    }
}

static void line_at_limit_is_fine(void)
{
    char in[102];
    memset(in, 'A', 100);
    in[100] = '\r';
    in[101] = '\n';
    char *got = transcript(in, sizeof in, 9, 100, 1000);
    CHECK(strncmp(got, "L10/2:AAAA", 10) == 0);
    free(got);
}

static void literal_header_parse(void)
{
    uint64_t n = 0;
    CHECK_INT(imc_literal_header("{12}", 4, &n), 1);
    CHECK_INT(n, 12);
    CHECK_INT(imc_literal_header("a {7+}", 6, &n), 1);
    CHECK_INT(n, 7);
    CHECK_INT(imc_literal_header("{+}", 3, &n), 0);
    CHECK_INT(imc_literal_header("12}", 3, &n), 0);
    CHECK_INT(imc_literal_header("{18446744073709551615}", 22, &n), 1);
    CHECK(n == UINT64_MAX);
    CHECK_INT(imc_literal_header("{18446744073709551616}", 22, &n), -1);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(lines_and_terminators), TEST(cr_inside_line_is_data),
        TEST(bare_lf_keeps_last_byte), TEST(literal_then_rest),
        TEST(literal_plus_and_empty_literal), TEST(literal_holding_crlf_and_braces),
        TEST(not_a_literal), TEST(literal_over_limit), TEST(literal_overflowing_64_bits),
        TEST(line_over_limit), TEST(line_at_limit_is_fine), TEST(literal_header_parse),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
