/*
 * Each benchmark run goes in a forked child, so the peak resident set it
 * reports is its own and no run inherits another's heap.
 */
#ifndef BENCH_CHILD_H
#define BENCH_CHILD_H

#include <stddef.h>

/* Run fn(arg, out) in a child and copy its size-byte result into out.
 * 0, or -1 when the child could not start, died, or sent less; that is
 * said on stderr as "prog: name: ...". */
int bench_in_child(void (*fn)(const void *arg, void *out), const void *arg, void *out,
                   size_t size, const char *prog, const char *name);

#endif
