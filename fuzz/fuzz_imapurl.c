/*
 * libFuzzer target for IMAP URLs and modified UTF-7 (cyrus/imapurl.h).
 *
 * Invariants checked on every input:
 *  - a URL parses with a buffer of IMAPURL_BUFSIZE(len) or is malformed,
 *    never short of room; a parsed URL builds, the length reported for a
 *    too-small buffer is the length written, the built URL parses to the
 *    same fields and builds to the same bytes, and the mailbox's two forms
 *    convert into each other;
 *  - the input as modified UTF-7: when it decodes, encoding the result
 *    gives the input back byte for byte (only canonical forms decode), and
 *    the input as UTF-8: when it encodes, decoding gives it back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cyrus/imapurl.h>
#include "same_url.h"

/* Builds u into a fresh allocation of exactly the size asked for. */
static char *build_exact(const struct imapurl *u)
{
    size_t need, n;
    if (imapurl_build(u, NULL, 0, &need) != IMAPURL_ENOSPC)
        abort();
    char *out = malloc(need + 1);
    if (!out)
        abort();
    if (need > 0 && imapurl_build(u, out, need, &n) != IMAPURL_ENOSPC)
        abort();
    if (imapurl_build(u, out, need + 1, &n) != 0 || n != need || strlen(out) != need)
        abort();
    return out;
}

static void check_mailbox(const struct imapurl *u)
{
    char tmp[1024];
    size_t n;
    if (!u->mailbox)
        return;
    if (imapurl_mutf7_to_utf8(u->mailbox, strlen(u->mailbox), tmp, sizeof tmp, &n) == 0 &&
        strcmp(tmp, u->mailbox_utf8) != 0)
        abort();
}

static void url_round_trip(const char *s, size_t len)
{
    size_t cap = IMAPURL_BUFSIZE(len);
    char *buf = malloc(cap), *buf2 = malloc(cap * 4 + 64);
    struct imapurl u, v;
    if (!buf || !buf2)
        abort();
    int r = imapurl_parse(&u, s, buf, cap);
    if (r == IMAPURL_ENOSPC)
        abort();
    if (r == 0) {
        check_mailbox(&u);
        char *out = build_exact(&u);
        if (imapurl_parse(&v, out, buf2, cap * 4 + 64) != 0 || !same_url(&u, &v))
            abort();
        char *again = build_exact(&v);
        if (strcmp(out, again) != 0)
            abort();
        free(again);
        free(out);
    }
    free(buf2);
    free(buf);
}

typedef int convert_fn(const char *, size_t, char *, size_t, size_t *);

/* When in converts with f, g converts it back to the same bytes. */
static void conv_round_trip(convert_fn *f, convert_fn *g, const char *in, size_t len)
{
    size_t need, n, back;
    int r = f(in, len, NULL, 0, &need);
    if (r == IMAPURL_EINVAL)
        return;
    if (r != IMAPURL_ENOSPC)
        abort();
    char *out = malloc(need + 1), *round = malloc(len + 1);
    if (!out || !round)
        abort();
    if (f(in, len, out, need + 1, &n) != 0 || n != need || strlen(out) != n)
        abort();
    if (g(out, n, round, len + 1, &back) != 0 || back != len || memcmp(round, in, len) != 0)
        abort();
    free(round);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    url_round_trip(s, strlen(s));
    conv_round_trip(imapurl_mutf7_to_utf8, imapurl_utf8_to_mutf7, s, size);
    conv_round_trip(imapurl_utf8_to_mutf7, imapurl_mutf7_to_utf8, s, size);
    free(s);
    return 0;
}
