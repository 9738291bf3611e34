/*
 * The output queue's sources: a literal's bytes held apart from the buffer,
 * either an owned block or the application's source pulled in bounded
 * chunks.  Stream offsets stay honest around them (barriers, cancels,
 * rollbacks), a source is read only when its bytes are next and released,
 * and a source that breaks its word is reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/outqueue.h"

/* A source counting up from 0, modulo 251, with a size it may not keep. */
struct counter {
    unsigned long long at, real_size;
    int fail, calls;
    size_t largest;
};

static long counter_read(void *rock, char *buf, size_t max)
{
    struct counter *k = rock;
    k->calls++;
    if (max > k->largest)
        k->largest = max;
    if (k->fail)
        return -1;
    size_t n = 0;
    while (n < max && k->at < k->real_size)
        buf[n++] = (char)(k->at++ % 251);
    return (long)n;
}

static long pull(const struct imclient_literal_source *src, char *buf, size_t max, char *why,
                 size_t whylen)
{
    long n = src->read(src->rock, buf, max);
    if (n < 0)
        snprintf(why, whylen, "read failed");
    return n;
}

static struct imclient_literal_source counter_source(struct counter *k, unsigned long long size)
{
    struct imclient_literal_source s = { size, counter_read, k, -1, 0 };
    return s;
}

/* Write everything that may go now into out (fill, take, consume), as a
 * socket that takes step bytes a write would.  -1 when a fill failed. */
static int drain(struct imc_outq *q, struct imc_buf *out, size_t step, char *why)
{
    for (;;) {
        if (imc_outq_fill(q, pull, why, 200) < 0)
            return -1;
        size_t len;
        const char *w = imc_outq_writable(q, &len);
        if (len == 0)
            return 0;
        if (len > step)
            len = step;
        imc_buf_append(out, w, len);
        imc_outq_consume(q, len);
    }
}

static int is_counter(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] != i % 251)
            return 0;
    return 1;
}

/* "{n}" and barrier, then the source, then the rest of the command; the
 * source is read only after the release, in chunks no larger than
 * IMC_OUTQ_CHUNK, and offsets count its bytes. */
static void pulled_after_release(void)
{
    struct imc_outq q;
    imc_outq_init(&q);
    const unsigned long long size = 3 * IMC_OUTQ_CHUNK + 17;
    struct counter k = { 0, size, 0, 0, 0 };
    struct imclient_literal_source src = counter_source(&k, size);
    imc_outq_append(&q, "1 APPEND x {N}\r\n", 16);
    imc_outq_barrier(&q, 1);
    imc_outq_append_source(&q, 1, &src);
    imc_outq_append(&q, "\r\n", 2);
    imc_outq_end_command(&q, 1);
    imc_outq_append(&q, "2 NOOP\r\n", 8);
    CHECK(imc_outq_end(&q) == 16 + size + 2 + 8);
    CHECK(imc_outq_pending(&q) == 16 + size + 2 + 8);

    struct imc_buf out;
    imc_buf_init(&out);
    char why[200] = "";
    CHECK_INT(drain(&q, &out, 1000, why), 0);
    CHECK_BYTES(out.data, out.len, "1 APPEND x {N}\r\n");
    CHECK(imc_outq_waiting(&q));
    CHECK_INT(imc_outq_waiting_tag(&q), 1);
    CHECK_INT(k.calls, 0);
    CHECK(imc_outq_sent(&q) == 16);

    imc_outq_release(&q);
    out.len = 0;
    CHECK_INT(drain(&q, &out, 100000, why), 0);
    CHECK(out.len == size + 10);
    CHECK(is_counter(out.data, size));
    CHECK_MEM(out.data + size, 10, "\r\n2 NOOP\r\n", 10);
    CHECK(k.largest <= IMC_OUTQ_CHUNK);
    CHECK_INT(k.calls, 5); /* four chunks and the end */
    CHECK(q.chunk.cap <= IMC_OUTQ_CHUNK);
    CHECK(imc_outq_sent(&q) == imc_outq_end(&q));
    CHECK(imc_outq_pending(&q) == 0);
    CHECK_INT(q.nsrcs, 0);
    imc_buf_free(&out);
    imc_outq_free(&q);
}

/* What the trace is told of each write. */
static void trace_view(void)
{
    struct imc_outq q;
    imc_outq_init(&q);
    struct counter k = { 0, 10, 0, 0, 0 };
    struct imclient_literal_source src = counter_source(&k, 10);
    imc_outq_append(&q, "{10+}\r\n", 7);
    imc_outq_append_source(&q, 1, &src);
    imc_outq_append(&q, "\r\n", 2);
    uint64_t size = 0;
    CHECK_INT(imc_outq_from_source(&q, &size), 0);
    imc_outq_consume(&q, 7);
    char why[200];
    CHECK_INT(imc_outq_fill(&q, pull, why, sizeof why), 0);
    CHECK_INT(imc_outq_from_source(&q, &size), 1);
    CHECK(size == 10);
    CHECK(imc_outq_has_source(&q, 1));
    CHECK(!imc_outq_has_source(&q, 2));
    imc_outq_consume(&q, 4);
    CHECK_INT(imc_outq_from_source(&q, &size), 2);
    imc_outq_consume(&q, 6);
    CHECK_INT(imc_outq_from_source(&q, &size), 0);
    CHECK(!imc_outq_has_source(&q, 1));
    size_t len;
    const char *w = imc_outq_writable(&q, &len);
    CHECK_BYTES(w, len, "\r\n");
    imc_outq_free(&q);
}

/* A block: one copy, written from where it lies; it is no source of the
 * application's, so the trace shows its bytes. */
static void owned_block(void)
{
    struct imc_outq q;
    imc_outq_init(&q);
    size_t n = 3 * IMC_OUTQ_BLOCK_MIN;
    char *msg = malloc(n);
    for (size_t i = 0; i < n; i++)
        msg[i] = (char)(i % 251);
    imc_outq_append(&q, "{N}\r\n", 5);
    imc_outq_append_block(&q, 1, msg, n);
    imc_outq_append(&q, "\r\n", 2);
    memset(msg, 0, n);
    CHECK(q.buf.cap < 1024); /* the buffer holds only the command's text */
    imc_outq_consume(&q, 5);
    size_t len;
    uint64_t size;
    const char *w = imc_outq_writable(&q, &len);
    CHECK(len == n);
    CHECK(is_counter(w, len));
    CHECK_INT(imc_outq_from_source(&q, &size), 0);
    imc_outq_consume(&q, 1000);
    w = imc_outq_writable(&q, &len);
    CHECK(len == n - 1000);
    imc_outq_consume(&q, len);
    w = imc_outq_writable(&q, &len);
    CHECK_BYTES(w, len, "\r\n");
    CHECK(imc_outq_sent(&q) == 5 + n);
    free(msg);
    imc_outq_free(&q);
}

/* A tagged reply before "+": the command's rest goes, its source unread,
 * and later bytes, barriers and sources move down. */
static void cancel_behind_barrier(void)
{
    struct imc_outq q;
    imc_outq_init(&q);
    struct counter k1 = { 0, 5, 0, 0, 0 }, k2 = { 0, 7, 0, 0, 0 };
    struct imclient_literal_source s1 = counter_source(&k1, 5), s2 = counter_source(&k2, 7);
    imc_outq_append(&q, "1 A {5}\r\n", 9);
    imc_outq_barrier(&q, 1);
    imc_outq_append_source(&q, 1, &s1);
    imc_outq_append(&q, "\r\n", 2);
    imc_outq_end_command(&q, 1);
    imc_outq_append(&q, "2 B {7}\r\n", 9);
    imc_outq_barrier(&q, 2);
    imc_outq_append_source(&q, 2, &s2);
    imc_outq_append(&q, "\r\n", 2);
    imc_outq_end_command(&q, 2);

    struct imc_buf out;
    imc_buf_init(&out);
    char why[200];
    CHECK_INT(drain(&q, &out, 1000, why), 0);
    CHECK_BYTES(out.data, out.len, "1 A {5}\r\n");
    uint64_t from = 0;
    CHECK(imc_outq_cancel(&q, 1, &from) == 7);
    CHECK(from == 9);
    CHECK_INT(q.nsrcs, 1);
    CHECK(imc_outq_end(&q) == 9 + 9 + 7 + 2);
    CHECK_INT(drain(&q, &out, 1000, why), 0);
    CHECK_BYTES(out.data, out.len, "1 A {5}\r\n2 B {7}\r\n");
    imc_outq_release(&q);
    CHECK_INT(drain(&q, &out, 3, why), 0);
    CHECK_MEM(out.data + 18, out.len - 18, "\0\1\2\3\4\5\6\r\n", 9);
    CHECK_INT(k1.calls, 0);
    imc_outq_free(&q);
    imc_buf_free(&out);
}

/* A command refused after its source was queued leaves nothing behind. */
static void rollback_drops_source(void)
{
    struct imc_outq q;
    imc_outq_init(&q);
    imc_outq_append(&q, "1 NOOP\r\n", 8);
    struct imc_outq_mark m = imc_outq_mark(&q);
    struct counter k = { 0, 5, 0, 0, 0 };
    struct imclient_literal_source s = counter_source(&k, 5);
    imc_outq_append(&q, "2 A {5}\r\n", 9);
    imc_outq_barrier(&q, 2);
    imc_outq_append_source(&q, 2, &s);
    imc_outq_append_block(&q, 2, "abc", 3);
    imc_outq_rollback(&q, m);
    CHECK_INT(q.nsrcs, 0);
    CHECK_INT(q.nbarriers, 0);
    CHECK(imc_outq_end(&q) == 8);
    imc_outq_free(&q);
}

static void broken(unsigned long long announced, unsigned long long real, int fail,
                   const char *reason)
{
    struct imc_outq q;
    imc_outq_init(&q);
    struct counter k = { 0, real, fail, 0, 0 };
    struct imclient_literal_source s = counter_source(&k, announced);
    imc_outq_append(&q, "{n+}\r\n", 6);
    imc_outq_append_source(&q, 1, &s);
    imc_outq_append(&q, "\r\n", 2);
    struct imc_buf out;
    imc_buf_init(&out);
    char why[200] = "";
    CHECK_INT(drain(&q, &out, 1 << 20, why), -1);
    if (!strstr(why, reason))
        check_fail(__FILE__, __LINE__, "\"%s\" lacks \"%s\"", why, reason);
    /* Nothing past what the source truly gave was written. */
    CHECK(out.len <= 6 + (real < announced ? real : announced));
    imc_buf_free(&out);
    imc_outq_free(&q);
}

static void sources_that_break_their_word(void)
{
    broken(1000, 600, 0, "ended after 600 of its 1000 bytes");
    broken(IMC_OUTQ_CHUNK + 10, IMC_OUTQ_CHUNK, 0, "ended after 262144 of its 262154 bytes");
    broken(1000, 0, 1, "read failed");
    broken(1000, 1001, 0, "more than its 1000 bytes");
    broken(0, 1, 0, "more than its 0 bytes");
}

/* An empty source is asked once whether it has ended, then gone. */
static void empty_source(void)
{
    struct imc_outq q;
    imc_outq_init(&q);
    struct counter k = { 0, 0, 0, 0, 0 };
    struct imclient_literal_source s = counter_source(&k, 0);
    imc_outq_append(&q, "{0+}\r\n", 6);
    imc_outq_append_source(&q, 1, &s);
    imc_outq_append(&q, "\r\n", 2);
    struct imc_buf out;
    imc_buf_init(&out);
    char why[200];
    CHECK_INT(drain(&q, &out, 100, why), 0);
    CHECK_BYTES(out.data, out.len, "{0+}\r\n\r\n");
    CHECK_INT(k.calls, 1);
    CHECK_INT(q.nsrcs, 0);
    imc_buf_free(&out);
    imc_outq_free(&q);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(pulled_after_release), TEST(trace_view), TEST(owned_block),
        TEST(cancel_behind_barrier), TEST(rollback_drops_source),
        TEST(sources_that_break_their_word), TEST(empty_source),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
