/*
 * The workloads the peer comparison runs (bench/peers), shared by the
 * driver, the replay server and every peer client, so each side agrees on
 * what a workload sends and what a correct result is.
 *
 *   W1 collect  COUNT literals of LITERAL bytes, each kept whole by the client
 *   W2 small    COUNT short FETCH lines, one callback each
 *   W3 noops    COUNT NOOPs, all sent before any is collected
 *   W4 stream   W1's stream, its literals handed to the application in pieces
 *   W5 append   one APPEND of COUNT bytes in a synchronizing literal
 */
#ifndef BENCH_PEER_WORKLOAD_H
#define BENCH_PEER_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

enum peer_workload { PEER_W1, PEER_W2, PEER_W3, PEER_W4, PEER_W5, PEER_NWORKLOADS };

/* "W1" .. "W5" (any case); -1 for anything else. */
int peer_workload_parse(const char *name);
const char *peer_workload_name(enum peer_workload w);

/* Every byte of every literal the server sends, and of W5's upload, is
 * byte_at(i): letters only, so a client that keeps text NUL-terminated
 * (Cyrus's imclient) sees all of it. */
static inline char peer_byte_at(uint64_t i)
{
    return (char)('a' + i % 26);
}

/* The bytes from the server's greeting to its tagged reply, for W1/W4 and W2
 * when the client's command carries tag "1": what the raw reader must read. */
uint64_t peer_stream_bytes(enum peer_workload w, uint64_t count, uint64_t literal);

/* The untagged FETCH lines of W2 and the header of a W1/W4 literal. */
#define PEER_SMALL_LINE "* %llu FETCH (UID %llu FLAGS (\\Seen))\r\n"
#define PEER_LITERAL_HEAD "* %llu FETCH (BODY[] {%llu}\r\n"
#define PEER_LITERAL_TAIL ")\r\n"
#define PEER_GREETING "* PREAUTH peer replay server ready\r\n"
#define PEER_FETCH_DONE "OK FETCH done"


#endif
