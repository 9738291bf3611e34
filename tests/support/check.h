/* A small test harness: each test is a function; a failed CHECK ends it.
 * Every test binary ends with the line "N passed, N failed". */
#ifndef IMC_CHECK_H
#define IMC_CHECK_H

#include <stdio.h>
#include <string.h>

extern int check_failed_now;
void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                      \
    do {                                                                 \
        if (!(cond)) {                                                   \
            check_fail(__FILE__, __LINE__, "%s", #cond);                 \
            return;                                                      \
        }                                                                \
    } while (0)

#define CHECK_STR(got, want)                                             \
    do {                                                                 \
        const char *g_ = (got), *w_ = (want);                            \
        if (!g_ || strcmp(g_, w_) != 0) {                                \
            check_fail(__FILE__, __LINE__, "%s: got \"%s\", want \"%s\"", \
                       #got, g_ ? g_ : "(null)", w_);                   \
            return;                                                      \
        }                                                                \
    } while (0)

#define CHECK_INT(got, want)                                             \
    do {                                                                 \
        long long g_ = (long long)(got), w_ = (long long)(want);         \
        if (g_ != w_) {                                                  \
            check_fail(__FILE__, __LINE__, "%s: got %lld, want %lld",    \
                       #got, g_, w_);                                    \
            return;                                                      \
        }                                                                \
    } while (0)

/* Compare bytes, printing both sides escaped on mismatch. */
#define CHECK_MEM(got, gotlen, want, wantlen)                            \
    do {                                                                 \
        if (!check_mem_equal(__FILE__, __LINE__, #got, (got), (gotlen),  \
                             (want), (wantlen)))                         \
            return;                                                      \
    } while (0)
#define CHECK_BYTES(got, gotlen, wantstr) CHECK_MEM(got, gotlen, wantstr, strlen(wantstr))

int check_mem_equal(const char *file, int line, const char *what, const void *got,
                    size_t gotlen, const void *want, size_t wantlen);

struct check_test {
    const char *name;
    void (*fn)(void);
};
#define TEST(name) {#name, name}

/* Runs the tests named on the command line, or all; returns the exit code. */
int check_main(int argc, char **argv, const struct check_test *tests, size_t n);

#endif
