#include "check.h"

#include <stdarg.h>
#include <stdlib.h>

int check_failed_now;
static const char *current;

void check_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s (%s:%d): ", current, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    check_failed_now = 1;
}

static void escape(FILE *f, const unsigned char *p, size_t n)
{
    size_t show = n > 400 ? 400 : n;
    for (size_t i = 0; i < show; i++) {
        if (p[i] == '\r')
            fputs("\\r", f);
        else if (p[i] == '\n')
            fputs("\\n", f);
        else if (p[i] < ' ' || p[i] >= 0x7f)
            fprintf(f, "\\x%02x", p[i]);
        else
            fputc(p[i], f);
    }
    if (show < n)
        fprintf(f, "...(%zu bytes)", n);
}

int check_mem_equal(const char *file, int line, const char *what, const void *got,
                    size_t gotlen, const void *want, size_t wantlen)
{
    if (gotlen == wantlen && (gotlen == 0 || memcmp(got, want, gotlen) == 0))
        return 1;
    check_fail(file, line, "%s differs", what);
    fputs("  got:  \"", stderr);
    if (got)
        escape(stderr, got, gotlen);
    fputs("\"\n  want: \"", stderr);
    escape(stderr, want, wantlen);
    fputs("\"\n", stderr);
    return 0;
}

int check_main(int argc, char **argv, const struct check_test *tests, size_t n)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (argc > 1) {
            int wanted = 0;
            for (int a = 1; a < argc; a++)
                wanted |= strcmp(argv[a], tests[i].name) == 0;
            if (!wanted)
                continue;
        }
        current = tests[i].name;
        check_failed_now = 0;
        tests[i].fn();
        if (check_failed_now)
            failed++;
        else
            passed++;
        if (getenv("CHECK_VERBOSE"))
            fprintf(stderr, "%s %s\n", check_failed_now ? "FAIL" : "ok  ", tests[i].name);
    }
    printf("%s: %d passed, %d failed\n", argv[0], passed, failed);
    return failed ? 1 : 0;
}
