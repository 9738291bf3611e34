/*
 * What both benchmarks measure with: a monotonic clock, the process's peak
 * resident set, and the median/min/max of repeated runs.  Medians, because
 * on a shared two-core machine one slow run says more about the neighbours
 * than about the code.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Decimal digits of n at p, no NUL; the count.  snprintf() per line is too
 * slow for a server that must outrun the clients it measures. */
size_t bench_put_uint(char *p, uint64_t n);
double bench_now(void);
/* CPU time used by the whole process (all threads), in seconds. */
double bench_cpu(void);
/* CPU time used by the calling thread alone (user and system), in seconds. */
double bench_thread_cpu(void);
/* Peak resident set of this process so far, in KiB (getrusage ru_maxrss). */
long bench_peak_rss_kib(void);
/* The resident set now, in KiB (0 if /proc cannot say). */
long bench_rss_kib(void);

struct bench_summary {
    double median, min, max;
};
/* Sorts v in place. */
struct bench_summary bench_summarize(double *v, size_t n);

#endif
