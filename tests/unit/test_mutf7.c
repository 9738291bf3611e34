/* Modified UTF-7 (RFC 3501 section 5.1.3) against UTF-8: the RFC's
 * example, canonical forms only, every malformed class refused, surrogate
 * pairs, and buffers that fit exactly or fall one byte short. */
#include <stdint.h>
#include <string.h>

#include <cyrus/imapurl.h>

#include "check.h"

static int to_utf8(const char *in, size_t inlen, char *out, size_t cap, size_t *len)
{
    return imapurl_mutf7_to_utf8(in, inlen, out, cap, len);
}

static int to_mutf7(const char *in, size_t inlen, char *out, size_t cap, size_t *len)
{
    return imapurl_utf8_to_mutf7(in, inlen, out, cap, len);
}

/* Both directions: mutf7 decodes to utf8 and utf8 encodes to mutf7. */
#define PAIR(mutf7, utf8)                                                   \
    do {                                                                    \
        char out_[256];                                                     \
        size_t n_ = 99;                                                     \
        CHECK_INT(to_utf8(mutf7, strlen(mutf7), out_, sizeof out_, &n_), 0); \
        CHECK_STR(out_, utf8);                                              \
        CHECK_INT(n_, strlen(utf8));                                        \
        CHECK_INT(to_mutf7(utf8, strlen(utf8), out_, sizeof out_, &n_), 0); \
        CHECK_STR(out_, mutf7);                                             \
        CHECK_INT(n_, strlen(mutf7));                                       \
    } while (0)

/* The decoder refuses mutf7 (given as a length, so it may hold NULs). */
#define BAD_MUTF7(mutf7)                                                      \
    do {                                                                      \
        char out_[64] = "x";                                                  \
        size_t n_ = 99;                                                       \
        CHECK_INT(to_utf8(mutf7, sizeof(mutf7) - 1, out_, sizeof out_, &n_),  \
                  IMAPURL_EINVAL);                                            \
        CHECK_STR(out_, "");                                                  \
        CHECK_INT(n_, 0);                                                     \
    } while (0)

#define BAD_UTF8(utf8)                                                        \
    do {                                                                      \
        char out_[64] = "x";                                                  \
        size_t n_ = 99;                                                       \
        CHECK_INT(to_mutf7(utf8, sizeof(utf8) - 1, out_, sizeof out_, &n_),   \
                  IMAPURL_EINVAL);                                            \
        CHECK_STR(out_, "");                                                  \
        CHECK_INT(n_, 0);                                                     \
    } while (0)

static void rfc3501_example(void)
{
    PAIR("~peter/mail/&U,BTFw-/&ZeVnLIqe-",
         "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
}

static void ascii_and_ampersand(void)
{
    PAIR("", "");
    PAIR("INBOX", "INBOX");
    PAIR(" !\"#$%'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", " !\"#$%'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~");
    PAIR("&-", "&");
    PAIR("Tom &- Jerry", "Tom & Jerry");
    PAIR("&-&-", "&&");
    PAIR("&--", "&-");
    PAIR("-&-&AOQ-&-", "-&\xc3\xa4&");
}

/* Runs of one, two and three UTF-16 units leave 4, 2 and 0 padding bits. */
static void runs_and_padding(void)
{
    PAIR("&AOQ-", "\xc3\xa4");
    PAIR("&AOQA9g-", "\xc3\xa4\xc3\xb6");
    PAIR("&AOQA9gD8-", "\xc3\xa4\xc3\xb6\xc3\xbc");
    PAIR("Entw&APw-rfe", "Entw\xc3\xbcrfe");
    PAIR("&ANw-n&AO8-c&APY-d&AOk-/Ordner &- Co",
         "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9/Ordner & Co");
    PAIR("&AAk-", "\t");
    PAIR("&AH8-", "\x7f");
    PAIR("&AAEAHw-", "\x01\x1f");
}

static void surrogate_pairs(void)
{
    PAIR("&2D3eAA-", "\xf0\x9f\x98\x80");              /* U+1F600 */
    PAIR("&2,,f,w-", "\xf4\x8f\xbf\xbf");              /* U+10FFFF */
    PAIR("&AOnYPd4AAOk-", "\xc3\xa9\xf0\x9f\x98\x80\xc3\xa9");
    BAD_MUTF7("&2D0-");     /* high surrogate ending the run */
    BAD_MUTF7("&3gA-");     /* lone low surrogate */
    BAD_MUTF7("&3gDYPQ-");  /* the pair reversed */
    BAD_MUTF7("&2D0A5A-");  /* high surrogate, then U+00E4 */
    BAD_MUTF7("&2D0-&3gA-"); /* a pair split over two runs */
}

static void malformed_mutf7(void)
{
    BAD_MUTF7("&");         /* unterminated */
    BAD_MUTF7("a&AOQ");     /* unterminated */
    BAD_MUTF7("&AOQ");
    BAD_MUTF7("&A-");       /* no whole UTF-16 unit */
    BAD_MUTF7("&AO-");
    BAD_MUTF7("&AOR-");     /* non-zero padding bits */
    BAD_MUTF7("&AOQA9h-");
    BAD_MUTF7("&AOQA-");    /* a superfluous base64 character */
    BAD_MUTF7("&AOQAAA-");
    BAD_MUTF7("&AGE-");     /* "a" must be literal */
    BAD_MUTF7("&ACA-");     /* so must space */
    BAD_MUTF7("&AH4-");     /* and "~" */
    BAD_MUTF7("&ACY-");     /* "&" is spelt "&-" only */
    BAD_MUTF7("&AAA-");     /* U+0000 */
    BAD_MUTF7("&AOQ-&APw-"); /* two runs where one would do */
    BAD_MUTF7("&AOQ/-");    /* UTF-7's "/" is not modified base64 */
    BAD_MUTF7("&AOQ=-");    /* nor is base64 padding */
    BAD_MUTF7("&AO Q-");
    BAD_MUTF7("+AOQ-x&");
    BAD_MUTF7("\xc3\xa4");  /* 8-bit bytes must be encoded */
    BAD_MUTF7("a\tb");      /* and controls */
    BAD_MUTF7("a\x7f");
    BAD_MUTF7("a\0b");
}

static void adjacent_but_distinct_runs(void)
{
    /* "&-" is a character, not a run: runs around it stay apart. */
    PAIR("&AOQ-&-&APw-", "\xc3\xa4&\xc3\xbc");
    PAIR("&AOQ--&APw-", "\xc3\xa4-\xc3\xbc");
}

static void malformed_utf8(void)
{
    BAD_UTF8("\x80");                 /* stray continuation */
    BAD_UTF8("a\xbf");
    BAD_UTF8("\xc3");                 /* truncated */
    BAD_UTF8("\xe2\x82");
    BAD_UTF8("\xf0\x9f\x98");
    BAD_UTF8("\xc3" "a");             /* continuation missing */
    BAD_UTF8("\xe2\x28\xa1");
    BAD_UTF8("\xc0\xaf");             /* overlong */
    BAD_UTF8("\xc1\xbf");
    BAD_UTF8("\xe0\x80\xaf");
    BAD_UTF8("\xe0\x9f\xbf");
    BAD_UTF8("\xf0\x80\x80\xaf");
    BAD_UTF8("\xf0\x8f\xbf\xbf");
    BAD_UTF8("\xed\xa0\x80");         /* surrogates */
    BAD_UTF8("\xed\xbf\xbf");
    BAD_UTF8("\xed\xa0\xbd\xed\xb8\x80"); /* CESU-8 pair */
    BAD_UTF8("\xf4\x90\x80\x80");     /* above U+10FFFF */
    BAD_UTF8("\xf5\x80\x80\x80");
    BAD_UTF8("\xf8\x88\x80\x80\x80");
    BAD_UTF8("\xfe");
    BAD_UTF8("\xff");
    BAD_UTF8("a\0b");                 /* U+0000 */
    char out[16];
    CHECK_INT(to_mutf7("\xed\x9f\xbf", 3, out, sizeof out, NULL), 0); /* U+D7FF */
    CHECK_STR(out, "&1,8-");
    CHECK_INT(to_mutf7("\xee\x80\x80", 3, out, sizeof out, NULL), 0); /* U+E000 */
    CHECK_STR(out, "&4AA-");
}

static void length_not_nul(void)
{
    char out[16];
    size_t n;
    CHECK_INT(to_utf8("&AOQ-tail", 5, out, sizeof out, &n), 0);
    CHECK_STR(out, "\xc3\xa4");
    CHECK_INT(to_utf8("&AOQ-tail", 4, out, sizeof out, &n), IMAPURL_EINVAL);
    CHECK_INT(to_mutf7("\xc3\xa4zz", 2, out, sizeof out, &n), 0);
    CHECK_STR(out, "&AOQ-");
    CHECK_INT(to_mutf7(NULL, 0, out, sizeof out, &n), 0);
    CHECK_STR(out, "");
    CHECK_INT(to_mutf7(NULL, 1, out, sizeof out, &n), IMAPURL_EINVAL);
    CHECK_INT(to_utf8(NULL, 1, out, sizeof out, &n), IMAPURL_EINVAL);
}

/* A result of n bytes needs n + 1; with n it is ENOSPC, never truncated. */
static void buffer_edges(void)
{
    const char *m = "~peter/&U,BTFw-";
    const char *u = "~peter/\xe5\x8f\xb0\xe5\x8c\x97";
    char out[32];
    size_t n;
    size_t ulen = strlen(u), mlen = strlen(m);

    CHECK_INT(to_utf8(m, mlen, out, ulen + 1, &n), 0);
    CHECK_STR(out, u);
    memset(out, 'x', sizeof out);
    CHECK_INT(to_utf8(m, mlen, out, ulen, &n), IMAPURL_ENOSPC);
    CHECK_INT(n, ulen);
    CHECK_STR(out, "");
    CHECK_INT(to_utf8(m, mlen, NULL, 0, &n), IMAPURL_ENOSPC);
    CHECK_INT(n, ulen);
    CHECK_INT(to_utf8(m, mlen, out, 1, NULL), IMAPURL_ENOSPC);
    CHECK_STR(out, "");

    CHECK_INT(to_mutf7(u, ulen, out, mlen + 1, &n), 0);
    CHECK_STR(out, m);
    memset(out, 'x', sizeof out);
    CHECK_INT(to_mutf7(u, ulen, out, mlen, &n), IMAPURL_ENOSPC);
    CHECK_INT(n, mlen);
    CHECK_STR(out, "");
    CHECK_INT(to_mutf7(u, ulen, NULL, 0, &n), IMAPURL_ENOSPC);
    CHECK_INT(n, mlen);

    /* The empty string needs its NUL. */
    CHECK_INT(to_mutf7("", 0, out, 1, &n), 0);
    CHECK_INT(to_mutf7("", 0, NULL, 0, &n), IMAPURL_ENOSPC);
    CHECK_INT(n, 0);
    /* Malformed input is reported as such, whatever the buffer. */
    CHECK_INT(to_utf8("&AGE-", 5, NULL, 0, &n), IMAPURL_EINVAL);
    CHECK_INT(to_mutf7("ab\xff", 3, out, 2, &n), IMAPURL_EINVAL);
    CHECK_INT(n, 0);
}

static size_t put_utf8(char *p, uint32_t cp)
{
    if (cp < 0x80) {
        p[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (char)(0xC0 | cp >> 6);
        p[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (char)(0xE0 | cp >> 12);
        p[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        p[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    p[0] = (char)(0xF0 | cp >> 18);
    p[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    p[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    p[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Every code point but U+0000 and the surrogates, in strings of up to 37,
 * some with ASCII between: encode, decode, encode again. */
static void round_trip_all_code_points(void)
{
    char utf8[37 * 5 + 1], m[512], back[sizeof utf8];
    uint32_t cp = 1;
    while (cp <= 0x10FFFF) {
        size_t n = 0;
        for (int k = 0; k < 37 && cp <= 0x10FFFF; k++, cp++) {
            if (cp == 0xD800)
                cp = 0xE000;
            n += put_utf8(utf8 + n, cp);
            if (cp % 5 == 0)
                utf8[n++] = cp % 2 ? 'x' : '&';
        }
        size_t mlen, blen, m2len;
        char m2[sizeof m];
        CHECK_INT(to_mutf7(utf8, n, m, sizeof m, &mlen), 0);
        CHECK_INT(to_utf8(m, mlen, back, sizeof back, &blen), 0);
        CHECK_MEM(back, blen, utf8, n);
        CHECK_INT(to_mutf7(back, blen, m2, sizeof m2, &m2len), 0);
        CHECK_MEM(m2, m2len, m, mlen);
    }
}

static void error_sentences(void)
{
    const int codes[] = { IMAPURL_OK, IMAPURL_EINVAL, IMAPURL_ENOSPC, IMAPURL_ERANGE,
                          IMAPURL_ENOTSUP };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = imapurl_strerror(codes[i]);
        CHECK(s && *s);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(s, imapurl_strerror(codes[j])) != 0);
        CHECK(strcmp(s, imapurl_strerror(-99)) != 0);
    }
    CHECK(strstr(imapurl_strerror(IMAPURL_ENOSPC), "too small") != NULL);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(rfc3501_example), TEST(ascii_and_ampersand), TEST(runs_and_padding),
        TEST(surrogate_pairs), TEST(malformed_mutf7), TEST(adjacent_but_distinct_runs),
        TEST(malformed_utf8), TEST(length_not_nul), TEST(buffer_edges),
        TEST(round_trip_all_code_points), TEST(error_sentences),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
