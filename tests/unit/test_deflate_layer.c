/*
 * The COMPRESS=DEFLATE layer over a mock layer below it that is as awkward
 * as a socket can be: writes take 7 bytes at a time and now and then
 * nothing (EAGAIN), reads give 3 bytes at a time.  zlib itself, used
 * directly here, is the other end, so the layer is checked against the
 * format and not against itself.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <zlib.h>

#include "check.h"
#include "mocktransport.h"
#include "transport/deflate.h"
#include "util/buf.h"

/* ---- the mock layer below ------------------------------------------------ */

/* As awkward as the top of the file says: 3-byte reads of src, then EOF
 * (eof_at_end) or EAGAIN; 7-byte writes, every third call refused. */
static void awkward_below(struct mock_transport *m, const char *src, size_t len, int eof_at_end)
{
    mock_transport_init(m);
    mock_transport_input(m, src, len);
    m->eof_at_end = eof_at_end;
    m->read_piece = 3;
    m->write_piece = 7;
    m->write_eagain_every = 3;
}

static struct imc_transport *layer_on(struct mock_transport *m)
{
    char err[160];
    struct imc_transport *t = imc_deflate_new(&m->base, err, sizeof err);
    if (!t)
        fprintf(stderr, "imc_deflate_new: %s\n", err);
    return t;
}

/* ---- data -------------------------------------------------------------- */

/* Text that compresses well, runs of zeros, and noise that does not. */
static char *mixed_data(size_t len)
{
    char *d = malloc(len);
    uint32_t x = 12345;
    for (size_t i = 0; i < len; i++) {
        size_t part = (i / 4096) % 3;
        x = x * 1103515245u + 12345u;
        if (part == 0)
            d[i] = "IMAP4rev1 * 12 FETCH (FLAGS (\\Seen)) "[i % 38];
        else if (part == 1)
            d[i] = 0;
        else
            d[i] = (char)(x >> 24);
    }
    return d;
}

/* Raw deflate of data in pieces of step bytes, each sync-flushed as a
 * server does per response. */
static void deflate_pieces(struct imc_buf *out, const char *data, size_t len, size_t step,
                           int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < step ? len - done : step;
        z.next_in = (Bytef *)data + done;
        z.avail_in = (uInt)n;
        do {
            imc_buf_reserve(out, 65536);
            z.next_out = (Bytef *)out->data + out->len;
            z.avail_out = 65536;
            deflate(&z, Z_SYNC_FLUSH);
            out->len += 65536 - z.avail_out;
        } while (z.avail_out == 0);
        done += n;
    }
    deflateEnd(&z);
}

/* Inflate a whole raw deflate stream; -1 if it is not one. */
static int inflate_all(const char *data, size_t len, struct imc_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return -1;
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    int r;
    do {
        imc_buf_reserve(out, 65536);
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = 65536;
        r = inflate(&z, Z_SYNC_FLUSH);
        out->len += 65536 - z.avail_out;
    } while (r == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
    inflateEnd(&z);
    return r == Z_OK || r == Z_BUF_ERROR || r == Z_STREAM_END ? 0 : -1;
}

/* ---- the tests ----------------------------------------------------------- */

#define MIB (1024 * 1024)

/*
 * 1 MiB offered in pieces of varying size.  A piece counts as written only
 * when all its compressed bytes are below: after every positive return,
 * what reached the mock inflates to exactly the plaintext accepted so far.
 */
static void write_round_trip(void)
{
    struct mock_transport m;
    awkward_below(&m, NULL, 0, 0);
    struct imc_transport *t = layer_on(&m);
    CHECK(t != NULL);
    char *data = mixed_data(MIB);
    size_t accepted = 0, eagain = 0, checks = 0;
    size_t sizes[] = { 1, 17, 4096, 100000, 7, 65536 * 2 };
    size_t k = 0;
    struct imc_buf plain;
    imc_buf_init(&plain);
    for (long guard = 0; accepted < MIB && guard < 10000000; guard++) {
        size_t want = sizes[k % 6];
        if (want > MIB - accepted)
            want = MIB - accepted;
        ssize_t n = imc_transport_write(t, data + accepted, want);
        if (n < 0) {
            CHECK_INT(errno, EAGAIN);
            /* Compressed bytes are waiting: the layer asks for POLLOUT. */
            CHECK(imc_transport_wants(t) & IMC_WANT_WRITE);
            eagain++;
            continue;
        }
        CHECK(n > 0 && (size_t)n <= want);
        CHECK_INT(imc_transport_wants(t) & IMC_WANT_WRITE, 0);
        accepted += (size_t)n;
        k++;
        if (k % 2 == 0 || accepted == MIB) {
            plain.len = 0;
            CHECK_INT(inflate_all(m.written.data, m.written.len, &plain), 0);
            CHECK_INT(plain.len, accepted);
            checks++;
        }
    }
    CHECK_INT(accepted, MIB);
    CHECK_MEM(plain.data, plain.len, data, MIB);
    CHECK(eagain > 0);
    CHECK(checks > 10);
    /* The mixed data compresses, but not to nothing. */
    CHECK(m.written.len < MIB / 2 && m.written.len > MIB / 10);
    imc_transport_destroy(t);
    CHECK(m.destroyed);
    mock_transport_free(&m);
    imc_buf_free(&plain);
    free(data);
}

/* A retried write with fewer bytes than were begun is refused. */
static void write_retry_must_not_shrink(void)
{
    struct mock_transport m;
    awkward_below(&m, NULL, 0, 0);
    m.writes = 2; /* the first write call is the third: refused */
    struct imc_transport *t = layer_on(&m);
    CHECK(t != NULL);
    CHECK_INT(imc_transport_write(t, "hello", 5), -1);
    CHECK_INT(errno, EAGAIN);
    CHECK_INT(imc_transport_write(t, "hel", 3), -1);
    CHECK_INT(errno, EINVAL);
    CHECK(strstr(t->error, "3 bytes offered after 5") != NULL);
    imc_transport_destroy(t);
    mock_transport_free(&m);
}

/* 1 MiB compressed by zlib in sync-flushed responses, read in pieces of
 * varying size, three compressed bytes at a time from below. */
static void read_round_trip(void)
{
    char *data = mixed_data(MIB);
    struct imc_buf z;
    imc_buf_init(&z);
    deflate_pieces(&z, data, MIB, 30000, 6);
    struct mock_transport m;
    awkward_below(&m, z.data, z.len, 1);
    struct imc_transport *t = layer_on(&m);
    CHECK(t != NULL);
    struct imc_buf got;
    imc_buf_init(&got);
    size_t sizes[] = { 1, 5000, 65536, 3, 100 };
    char *buf = malloc(65536);
    ssize_t n = 1;
    for (long i = 0; i < 100000000 && n > 0; i++) {
        size_t want = sizes[i % 5];
        n = imc_transport_read(t, buf, want);
        CHECK(n <= (ssize_t)want);
        if (n > 0)
            imc_buf_append(&got, buf, (size_t)n);
    }
    CHECK_INT(n, 0); /* EOF from below is EOF */
    CHECK_INT(got.len, MIB);
    CHECK_MEM(got.data, got.len, data, MIB);
    imc_transport_destroy(t);
    free(buf);
    free(data);
    imc_buf_free(&z);
    imc_buf_free(&got);
}

/* EAGAIN from below mid-block is EAGAIN, and the read resumes correctly. */
static void read_waits_mid_block(void)
{
    const char *text = "* 1 EXISTS\r\n* 2 RECENT\r\n";
    struct imc_buf z;
    imc_buf_init(&z);
    deflate_pieces(&z, text, strlen(text), 1000, 6);
    struct mock_transport m;
    awkward_below(&m, z.data, 4, 0); /* only part of the stream so far */
    struct imc_transport *t = layer_on(&m);
    CHECK(t != NULL);
    char buf[64];
    struct imc_buf got;
    imc_buf_init(&got);
    for (int i = 0; i < 10; i++) {
        ssize_t n = imc_transport_read(t, buf, sizeof buf);
        if (n < 0) {
            CHECK_INT(errno, EAGAIN);
            break;
        }
        CHECK(n > 0);
        imc_buf_append(&got, buf, (size_t)n);
    }
    CHECK(got.len < strlen(text));
    m.inlen = z.len; /* the rest of the stream arrives */
    m.eof_at_end = 1;
    ssize_t n;
    while ((n = imc_transport_read(t, buf, sizeof buf)) > 0)
        imc_buf_append(&got, buf, (size_t)n);
    CHECK_INT(n, 0);
    CHECK_BYTES(got.data, got.len, text);
    imc_transport_destroy(t);
    imc_buf_free(&z);
    imc_buf_free(&got);
}

static long peak_rss_kib(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

/*
 * 100 MiB of zeros, which deflate squeezes into about 100 KiB (deflate's
 * best ratio is about 1000:1, so a 1 KiB bomb could only reach ~1 MiB).
 * Read with a 4 KiB buffer: every read returns at most 4 KiB, the layer's
 * memory stays at its fixed size throughout, and exactly 100 MiB of zeros
 * come out.
 */
static void zip_bomb_stays_small(void)
{
    const size_t total = (size_t)100 * MIB;
    char *zeros = calloc(1, MIB);
    struct imc_buf z;
    imc_buf_init(&z);
    {
        z_stream d;
        memset(&d, 0, sizeof d);
        CHECK(deflateInit2(&d, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
        for (int i = 0; i < 100; i++) {
            d.next_in = (Bytef *)zeros;
            d.avail_in = MIB;
            do {
                imc_buf_reserve(&z, 65536);
                d.next_out = (Bytef *)z.data + z.len;
                d.avail_out = 65536;
                deflate(&d, i == 99 ? Z_SYNC_FLUSH : Z_NO_FLUSH);
                z.len += 65536 - d.avail_out;
            } while (d.avail_out == 0);
        }
        deflateEnd(&d);
    }
    free(zeros);
    CHECK(z.len < 200 * 1024);
    long rss_before = peak_rss_kib();

    struct mock_transport m;
    awkward_below(&m, z.data, z.len, 1);
    struct imc_transport *t = layer_on(&m);
    CHECK(t != NULL);
    size_t start = imc_deflate_footprint(t), most = start;
    char buf[4096];
    size_t count = 0, nonzero = 0;
    ssize_t n;
    long reads = 0;
    while ((n = imc_transport_read(t, buf, sizeof buf)) > 0 && reads < 100000000) {
        reads++;
        CHECK(n <= (ssize_t)sizeof buf);
        for (ssize_t i = 0; i < n; i++)
            nonzero += buf[i] != 0;
        count += (size_t)n;
        size_t f = imc_deflate_footprint(t);
        if (f > most)
            most = f;
        /* While zlib still has output, the layer says so, and the caller
         * comes back without waiting for the socket. */
        if (count < total)
            CHECK(imc_transport_buffered(t) > 0 || m.inpos < m.inlen);
    }
    CHECK_INT(n, 0);
    CHECK_INT(count, total);
    CHECK_INT(nonzero, 0);
    /* Fixed from the start: the compressor's state (~270 KiB, made at
     * init), one input chunk, and the 32 KiB window inflate allocates on
     * first use; nothing grows with the output. */
    CHECK(most < 400 * 1024);
    CHECK(most - start <= 33 * 1024);
    /* Loosely: nothing near 100 MiB was ever resident. */
    CHECK(peak_rss_kib() - rss_before < 32 * 1024);
    imc_transport_destroy(t);
    imc_buf_free(&z);
}

static void corrupt_input_fails(void)
{
    /* 0xff: a final block of the reserved type 3. */
    static const char junk[] = "\xff\xff\xff\xff\xff\xff";
    struct mock_transport m;
    awkward_below(&m, junk, 6, 1);
    struct imc_transport *t = layer_on(&m);
    CHECK(t != NULL);
    char buf[64];
    CHECK_INT(imc_transport_read(t, buf, sizeof buf), -1);
    CHECK_INT(errno, EPROTO);
    CHECK_STR(t->error, "compressed stream is corrupt: invalid block type");
    imc_transport_destroy(t);
}

/* A valid start, then damage: the plaintext before the damage is
 * delivered, then the read fails. */
static void corrupt_after_good_data(void)
{
    struct imc_buf z;
    imc_buf_init(&z);
    deflate_pieces(&z, "* OK fine\r\n", 11, 100, 6);
    struct mock_transport m;
    struct imc_buf all;
    imc_buf_init(&all);
    imc_buf_append(&all, z.data, z.len);
    /* After a sync flush the stream is byte-aligned: this starts a block
     * of the reserved type. */
    imc_buf_append(&all, "\xff\xff", 2);
    awkward_below(&m, all.data, all.len, 1);
    struct imc_transport *t = layer_on(&m);
    CHECK(t != NULL);
    char buf[64];
    struct imc_buf got;
    imc_buf_init(&got);
    ssize_t n;
    int reads = 0;
    while ((n = imc_transport_read(t, buf, sizeof buf)) > 0 && reads++ < 100)
        imc_buf_append(&got, buf, (size_t)n);
    CHECK_BYTES(got.data, got.len, "* OK fine\r\n");
    CHECK_INT(n, -1);
    CHECK_STR(t->error, "compressed stream is corrupt: invalid block type");
    imc_transport_destroy(t);
    imc_buf_free(&z);
    imc_buf_free(&all);
    imc_buf_free(&got);
}

static void eof_below_is_eof(void)
{
    struct mock_transport m;
    awkward_below(&m, NULL, 0, 1);
    struct imc_transport *t = layer_on(&m);
    CHECK(t != NULL);
    char buf[64];
    CHECK_INT(imc_transport_read(t, buf, sizeof buf), 0);
    CHECK_INT(imc_transport_buffered(t), 0);
    imc_transport_destroy(t);
}

/* Bytes handed over at the start (they followed the OK in the same read)
 * are inflated before anything from below. */
static void unread_comes_first(void)
{
    struct imc_buf z;
    imc_buf_init(&z);
    deflate_pieces(&z, "* 1 EXISTS\r\n* 2 EXISTS\r\n", 24, 12, 6);
    size_t split = z.len / 2;
    struct mock_transport m;
    awkward_below(&m, z.data + split, z.len - split, 1);
    struct imc_transport *t = layer_on(&m);
    CHECK(t != NULL);
    CHECK_INT(imc_deflate_held(t), 0);
    imc_deflate_unread(t, z.data, split);
    CHECK(imc_deflate_held(t));
    CHECK(imc_transport_buffered(t) > 0);
    char buf[64];
    struct imc_buf got;
    imc_buf_init(&got);
    ssize_t n;
    int reads = 0;
    while ((n = imc_transport_read(t, buf, sizeof buf)) > 0 && reads++ < 100)
        imc_buf_append(&got, buf, (size_t)n);
    CHECK_INT(n, 0);
    CHECK_BYTES(got.data, got.len, "* 1 EXISTS\r\n* 2 EXISTS\r\n");
    CHECK(imc_deflate_on_stack(t));
    CHECK(!imc_deflate_on_stack(&m.base));
    imc_transport_destroy(t);
    imc_buf_free(&z);
    imc_buf_free(&got);
}

/* The server ending its deflate stream (a final block) and then sending
 * more: the extra bytes are not a stream anyone can read. */
static void data_after_stream_end(void)
{
    struct imc_buf z;
    imc_buf_init(&z);
    z_stream d;
    memset(&d, 0, sizeof d);
    CHECK(deflateInit2(&d, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    imc_buf_reserve(&z, 256);
    d.next_in = (Bytef *)"* BYE\r\n";
    d.avail_in = 7;
    d.next_out = (Bytef *)z.data;
    d.avail_out = 256;
    CHECK(deflate(&d, Z_FINISH) == Z_STREAM_END);
    z.len = 256 - d.avail_out;
    deflateEnd(&d);
    imc_buf_append(&z, "junk", 4);
    struct mock_transport m;
    awkward_below(&m, z.data, z.len, 1);
    struct imc_transport *t = layer_on(&m);
    CHECK(t != NULL);
    char buf[64];
    struct imc_buf got;
    imc_buf_init(&got);
    ssize_t n;
    int reads = 0;
    while ((n = imc_transport_read(t, buf, sizeof buf)) > 0 && reads++ < 100)
        imc_buf_append(&got, buf, (size_t)n);
    CHECK_BYTES(got.data, got.len, "* BYE\r\n");
    CHECK_INT(n, -1);
    CHECK_STR(t->error, "compressed stream is corrupt: data after the end of the "
                        "compressed stream");
    imc_transport_destroy(t);
    imc_buf_free(&z);
    imc_buf_free(&got);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(write_round_trip),
        TEST(write_retry_must_not_shrink),
        TEST(read_round_trip),
        TEST(read_waits_mid_block),
        TEST(zip_bomb_stays_small),
        TEST(corrupt_input_fails),
        TEST(corrupt_after_good_data),
        TEST(eof_below_is_eof),
        TEST(unread_comes_first),
        TEST(data_after_stream_end),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
