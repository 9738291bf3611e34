/*
 * Bytes waiting to go to the server, with barriers where a synchronizing
 * literal must wait for the server's "+" before the rest may follow.
 *
 * Positions are stream offsets: the count of bytes queued since the
 * connection began, so they survive compaction of the buffer.
 */
#ifndef IMC_OUTQUEUE_H
#define IMC_OUTQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct imc_barrier {
    uint64_t at;  /* output stops before this offset until released */
    uint64_t end; /* end of the command the barrier belongs to */
    uint64_t tag;
};

/* Queued bytes that carry a secret: [from, to) in stream offsets. */
struct imc_span {
    uint64_t from, to;
};

struct imc_outq {
    struct imc_buf buf;  /* unsent bytes are buf.data[head..len) */
    size_t head;
    uint64_t base;       /* stream offset of buf.data[0] */
    struct imc_barrier *barriers; /* FIFO, in stream order */
    size_t nbarriers, capbarriers;
    struct imc_span *secrets;     /* in stream order, none yet written whole */
    size_t nsecrets, capsecrets;
};

struct imc_outq_mark {
    size_t len;
    size_t nbarriers;
};

void imc_outq_init(struct imc_outq *q);
void imc_outq_free(struct imc_outq *q);
void imc_outq_append(struct imc_outq *q, const void *data, size_t len);
/* Stream offset just past the last queued byte. */
uint64_t imc_outq_end(const struct imc_outq *q);
/* Stream offset of the first unsent byte. */
uint64_t imc_outq_sent(const struct imc_outq *q);
/* Stop output here until a continuation request releases it. */
void imc_outq_barrier(struct imc_outq *q, uint64_t tag);
/* The command tag ends here: record it in its barriers. */
void imc_outq_end_command(struct imc_outq *q, uint64_t tag);
/* Undo everything queued since the mark. */
struct imc_outq_mark imc_outq_mark(const struct imc_outq *q);
void imc_outq_rollback(struct imc_outq *q, struct imc_outq_mark m);

/* The bytes that may be written now (up to the first barrier). */
const char *imc_outq_writable(const struct imc_outq *q, size_t *len);
void imc_outq_consume(struct imc_outq *q, size_t n);
/* Nonzero if the first barrier is reached and waits for "+". */
int imc_outq_waiting(const struct imc_outq *q);
/* Tag whose literal waits for "+" (0 if none waits). */
uint64_t imc_outq_waiting_tag(const struct imc_outq *q);
void imc_outq_release(struct imc_outq *q);
/* Drop the unsent rest of command tag (its tagged reply came first).
 * Returns how many bytes went; *from gets the stream offset they began
 * at, from which later offsets moved down. */
uint64_t imc_outq_cancel(struct imc_outq *q, uint64_t tag, uint64_t *from);
/*
 * The queued bytes [from, to) carry a secret (a password, an AUTHENTICATE
 * response).  From now until the last of them is written the queue wipes
 * every byte it lets go of, and imc_outq_redact() hides them.
 */
void imc_outq_secret(struct imc_outq *q, uint64_t from, uint64_t to);
/* Nonzero when the next n writable bytes hold a secret; out then gets a
 * copy of them with each secret run replaced by "[redacted]". */
int imc_outq_redact(const struct imc_outq *q, size_t n, struct imc_buf *out);

/* Nothing queued: give the buffer back (its offsets carry on). */
void imc_outq_trim(struct imc_outq *q);

/* Bytes still queued, sendable or not. */
size_t imc_outq_pending(const struct imc_outq *q);

#endif
