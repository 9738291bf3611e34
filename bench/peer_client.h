/*
 * What every peer client of bench/peers shares: the command line, the W5
 * payload, the measurement of the workload alone, and the one line of
 * result the driver reads.  A peer supplies the three functions below;
 * peer_client.c holds main().
 *
 *     peer_NAME PORT WORKLOAD COUNT LITERAL_BYTES
 *
 * prints "result ITEMS BYTES WALL_S CPU_S RSS_BEFORE_KIB" and exits 0, or
 * says what was wrong on stderr and exits 1.
 */
#ifndef BENCH_PEER_CLIENT_H
#define BENCH_PEER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "peer_workload.h"

struct peer_job {
    const char *port;
    enum peer_workload workload;
    uint64_t count;   /* literals, lines, NOOPs, or W5's bytes */
    uint64_t literal; /* bytes per W1/W4 literal */
    char *payload;    /* W5: count bytes of peer_byte_at(), NUL-terminated */
    uint64_t stream_bytes; /* W1, W2, W4: peer_stream_bytes(), worked out untimed */
};

struct peer_tally {
    uint64_t items; /* FETCH replies, NOOP replies, or 1 for W5's OK */
    uint64_t bytes; /* literal bytes the application got, or sent (W5) */
};

/* Up to the greeting, untimed.  0, or -1 with why filled. */
int peer_connect(const struct peer_job *job, char *why, size_t whylen);
/* The timed part: from the first command to its last reply.  0, or -1 with
 * why filled; a result that is not what the workload must give is -1. */
int peer_work(const struct peer_job *job, struct peer_tally *tally, char *why, size_t whylen);
void peer_close(void);

/* 1 when the tally is what the workload must give: every item, and for W1
 * and W4 every literal byte. */
int peer_tally_complete(const struct peer_job *job, const struct peer_tally *tally);

#endif
