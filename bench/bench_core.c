/*
 * bench_core: how fast the sans-I/O session turns bytes into callbacks,
 * with no socket in the way.
 *
 * Each workload is built in memory and fed to one imc_session in slices of
 * 64 KiB, the size the façade reads, or one byte at a time.  Every run is a
 * forked child, so its peak RSS is its own and nothing one case allocated
 * flatters or burdens the next.  The figures are printed, never judged: the
 * program fails only when the session delivered the wrong thing.
 *
 *     bench_core [-r RUNS] [-s SCALE] [CASE...]
 *
 * SCALE multiplies every workload's size; CASE names restrict the run.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "core/session.h"
#include "stats.h"

#define SLICE (64 * 1024)
#define MIB (1024 * 1024)
#define MAX_RUNS 101

/* The stream fed to the session: block repeated `repeat` times, so a
 * multi-gigabyte stream needs only a few megabytes of input in memory. */
struct workload {
    char *block;
    size_t len;
    unsigned repeat;
    uint64_t replies;     /* FETCH replies in the whole stream */
    size_t textlen;       /* every reply's textlen, or 0: not checked */
};

struct bench_case {
    const char *name;
    const char *what;
    void (*make)(struct workload *w, unsigned scale);
    size_t slice;
    int listen; /* install a FETCH NUMBERED callback */
};

/* One run's result, sent from the child through a pipe. */
struct result {
    int ok;
    char why[300];
    double seconds;
    double cpu_seconds; /* CPU time of this process over the same span */
    double bytes;
    double replies;
    long rss_before_kib; /* after building the input, before the first feed */
    long rss_peak_kib;
};

struct counter {
    uint64_t replies;
    uint64_t wrong;
    size_t textlen;
};

static void count_fetch(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct counter *k = rock;
    (void)c;
    k->replies++;
    if (k->textlen && (r->textlen != k->textlen || r->text[r->textlen - 1] != ')'))
        k->wrong++;
}

static char *xalloc(size_t n)
{
    char *p = malloc(n);
    if (!p) {
        perror("bench_core: malloc");
        exit(2);
    }
    return p;
}

/* ---- workloads ---------------------------------------------------------- */

static size_t put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return n;
}

/* `* n FETCH (UID m FLAGS (\Seen))`, n counting up, as a SELECTed mailbox
 * would answer FETCH 1:* (UID FLAGS). */
static void make_small_n(struct workload *w, uint64_t count)
{
    w->block = xalloc((size_t)count * 64);
    char *p = w->block;
    for (uint64_t i = 1; i <= count; i++) {
        p += put_str(p, "* ");
        p += bench_put_uint(p, i);
        p += put_str(p, " FETCH (UID ");
        p += bench_put_uint(p, i + 1000);
        p += put_str(p, " FLAGS (\\Seen))\r\n");
    }
    w->len = (size_t)(p - w->block);
    w->repeat = 1;
    w->replies = count;
    w->textlen = 0;
}

static void make_small(struct workload *w, unsigned scale)
{
    make_small_n(w, 1000000ull * scale);
}

static void make_small_bytewise(struct workload *w, unsigned scale)
{
    make_small_n(w, 100000ull * scale);
}

/* 2000 FETCH responses with a 1 MiB literal each: eight distinct responses
 * fed 250 times. */
static void make_big(struct workload *w, unsigned scale)
{
    const unsigned distinct = 8;
    w->block = xalloc(distinct * (MIB + 64));
    char *p = w->block;
    for (unsigned i = 1; i <= distinct; i++) {
        p += put_str(p, "* ");
        p += bench_put_uint(p, i);
        p += put_str(p, " FETCH (BODY[] {1048576}\r\n");
        for (size_t j = 0; j < MIB; j++)
            p[j] = (char)('a' + (i + j) % 26);
        p += MIB;
        p += put_str(p, ")\r\n");
    }
    w->len = (size_t)(p - w->block);
    w->repeat = 250 * scale;
    w->replies = (uint64_t)distinct * w->repeat;
    w->textlen = strlen("(BODY[] {1048576}\r\n") + MIB + 1;
}

/* One response carrying n one-byte literals (a flood of tiny literals): a framer
 * that rescanned or a buffer that grew by a constant would go quadratic. */
static void make_tiny_literals(struct workload *w, uint64_t n, unsigned repeat)
{
    static const char unit[] = "BODY[1] {1}\r\na ";
    const size_t ulen = sizeof unit - 1;
    w->block = xalloc((size_t)n * ulen + 64);
    char *p = w->block;
    p += put_str(p, "* 1 FETCH (");
    for (uint64_t i = 0; i < n; i++) {
        memcpy(p, unit, ulen);
        p += ulen;
    }
    p[-1] = ')'; /* the last literal closes the list */
    p += put_str(p, "\r\n");
    w->len = (size_t)(p - w->block);
    w->repeat = repeat;
    w->replies = repeat;
    w->textlen = w->len - strlen("* 1 FETCH ") - 2;
}

/* The same two million literals in responses of three sizes: if the time
 * per literal stays put, cost is linear in the response. */
static void make_tiny_10k(struct workload *w, unsigned scale)
{
    make_tiny_literals(w, 10000, 200 * scale);
}

static void make_tiny_100k(struct workload *w, unsigned scale)
{
    make_tiny_literals(w, 100000, 20 * scale);
}

static void make_tiny_1m(struct workload *w, unsigned scale)
{
    make_tiny_literals(w, 1000000, 2 * scale);
}

static const struct bench_case cases[] = {
    { "small", "1M `* n FETCH (UID m FLAGS (\\Seen))`, counted by a callback",
      make_small, SLICE, 1 },
    { "small-bytewise", "100k of the same, fed one byte at a time",
      make_small_bytewise, 1, 1 },
    { "small-skip", "1M of the same, no callback: skipped unbuffered",
      make_small, SLICE, 0 },
    { "literal-1m", "2000 FETCH with a 1 MiB literal, textlen checked",
      make_big, SLICE, 1 },
    { "literal-1m-skip", "2000 FETCH with a 1 MiB literal, no callback",
      make_big, SLICE, 0 },
    { "tiny-10k", "200 responses x 10k one-byte literals",
      make_tiny_10k, SLICE, 1 },
    { "tiny-100k", "20 responses x 100k one-byte literals (tiny-literal flood)",
      make_tiny_100k, SLICE, 1 },
    { "tiny-1m", "2 responses x 1M one-byte literals",
      make_tiny_1m, SLICE, 1 },
};

/* ---- one run ------------------------------------------------------------ */

static int feed_slices(struct imc_session *s, const char *p, size_t len, size_t slice)
{
    while (len > 0) {
        size_t n = len < slice ? len : slice;
        if (imc_session_feed(s, p, n) < 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

static struct result run_once(const struct bench_case *bc, unsigned scale)
{
    struct result res;
    memset(&res, 0, sizeof res);
    struct workload w;
    bc->make(&w, scale);

    struct imc_session s;
    imc_session_init(&s, NULL);
    struct counter k = { 0, 0, w.textlen };
    if (bc->listen)
        imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, count_fetch, &k);

    res.rss_before_kib = bench_peak_rss_kib();
    double t0 = bench_now(), c0 = bench_cpu();
    int fed = 0;
    for (unsigned i = 0; i < w.repeat && fed == 0; i++)
        fed = feed_slices(&s, w.block, w.len, bc->slice);
    double t1 = bench_now(), c1 = bench_cpu();
    res.rss_peak_kib = bench_peak_rss_kib();

    res.seconds = t1 - t0;
    res.cpu_seconds = c1 - c0;
    res.bytes = (double)w.len * w.repeat;
    res.replies = (double)w.replies;
    res.ok = 1;
    if (fed < 0) {
        snprintf(res.why, sizeof res.why, "session failed: %s", s.error);
        res.ok = 0;
    } else if (!imc_session_at_boundary(&s)) {
        snprintf(res.why, sizeof res.why, "stream ended inside a response");
        res.ok = 0;
    } else if (bc->listen && (k.replies != w.replies || k.wrong != 0)) {
        snprintf(res.why, sizeof res.why, "%llu replies (%llu wrong), expected %llu",
                 (unsigned long long)k.replies, (unsigned long long)k.wrong,
                 (unsigned long long)w.replies);
        res.ok = 0;
    }
    imc_session_free(&s);
    free(w.block);
    return res;
}

struct job {
    const struct bench_case *bc;
    unsigned scale;
};

static void run_job(const void *arg, void *out)
{
    const struct job *j = arg;
    *(struct result *)out = run_once(j->bc, j->scale);
}

static int run_in_child(const struct bench_case *bc, unsigned scale, struct result *out)
{
    struct job j = { bc, scale };
    return bench_in_child(run_job, &j, out, sizeof *out, "bench_core", bc->name);
}

/* ---- driver ------------------------------------------------------------- */

static int wanted(const char *name, int argc, char **argv, int first)
{
    if (first >= argc)
        return 1;
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

static int run_case(const struct bench_case *bc, unsigned scale, int runs)
{
    double mbs[MAX_RUNS], rps[MAX_RUNS], grow[MAX_RUNS], busy[MAX_RUNS];
    long peak = 0;
    struct result r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < runs; i++) {
        if (run_in_child(bc, scale, &r) < 0)
            return -1;
        if (!r.ok) {
            fprintf(stderr, "bench_core: %s: FUNCTIONAL ERROR: %s\n", bc->name, r.why);
            return -1;
        }
        mbs[i] = r.bytes / r.seconds / 1e6;
        rps[i] = r.replies / r.seconds;
        grow[i] = (double)(r.rss_peak_kib - r.rss_before_kib);
        busy[i] = r.cpu_seconds / r.seconds;
        if (r.rss_peak_kib > peak)
            peak = r.rss_peak_kib;
    }
    struct bench_summary m = bench_summarize(mbs, (size_t)runs);
    struct bench_summary q = bench_summarize(rps, (size_t)runs);
    struct bench_summary g = bench_summarize(grow, (size_t)runs);
    struct bench_summary b = bench_summarize(busy, (size_t)runs);
    printf("%-16s %s\n", bc->name, bc->what);
    printf("  %-14s %.1f MB in %.0f replies, slice %zu B\n", "stream", r.bytes / 1e6,
           r.replies, bc->slice);
    printf("  %-14s %10.1f   [%.1f .. %.1f]\n", "MB/s", m.median, m.min, m.max);
    printf("  %-14s %10.0f   [%.0f .. %.0f]\n", "replies/s", q.median, q.min, q.max);
    printf("  %-14s %10.0f   (input alone %ld KiB; peak over runs %ld KiB)\n",
           "RSS grew KiB", g.median, r.rss_before_kib, peak);
    /* Below 1, the run waited for the CPU: another process was busy. */
    printf("  %-14s %10.2f   [%.2f .. %.2f]\n", "cpu/wall", b.median, b.min, b.max);
    fflush(stdout);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_core [-r RUNS] [-s SCALE] [CASE...]\ncases:");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        fprintf(stderr, " %s", cases[i].name);
    fprintf(stderr, "\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int runs = 5;
    unsigned scale = 1;
    int opt;
    while ((opt = getopt(argc, argv, "r:s:h")) != -1) {
        if (opt == 'r')
            runs = atoi(optarg);
        else if (opt == 's')
            scale = (unsigned)atoi(optarg);
        else
            usage();
    }
    if (runs < 1 || runs > MAX_RUNS || scale < 1)
        usage();
    for (int i = optind; i < argc; i++) {
        int known = 0;
        for (size_t j = 0; j < sizeof cases / sizeof cases[0]; j++)
            known |= strcmp(argv[i], cases[j].name) == 0;
        if (!known)
            usage();
    }

    printf("bench_core: sans-I/O session fed from memory; %d run%s per case, each in "
           "its own process; median [min .. max]; MB = 10^6 bytes\n",
           runs, runs == 1 ? "" : "s");
    int failed = 0;
    for (size_t j = 0; j < sizeof cases / sizeof cases[0]; j++)
        if (wanted(cases[j].name, argc, argv, optind) && run_case(&cases[j], scale, runs) < 0)
            failed = 1;
    return failed;
}
