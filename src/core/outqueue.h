/*
 * Bytes waiting to go to the server, with barriers where a synchronizing
 * literal must wait for the server's "+" before the rest may follow.
 *
 * Positions are stream offsets: the count of bytes queued since the
 * connection began, so they survive compaction of the buffer.
 *
 * A large literal's bytes need not sit in the buffer: a source stands in
 * the stream in their place.  Either a block of exactly the literal's size
 * that the queue owns (one copy, written from where it lies, freed once
 * written), or the application's imclient_literal_source, pulled in chunks
 * of IMC_OUTQ_CHUNK bytes only once everything before it has been written
 * (and its "+" has come): memory stays bounded however large the literal.
 */
#ifndef IMC_OUTQUEUE_H
#define IMC_OUTQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "cyrus/imclient.h"
#include "util/buf.h"

/* A pulled source is read this much at a time. */
#define IMC_OUTQ_CHUNK (256 * 1024)
/* Literals this large go into a block of their own rather than the buffer. */
#define IMC_OUTQ_BLOCK_MIN (64 * 1024)

struct imc_barrier {
    uint64_t at;  /* output stops before this offset until released */
    uint64_t end; /* end of the command the barrier belongs to */
    uint64_t tag;
};

/* Queued bytes that carry a secret: [from, to) in stream offsets. */
struct imc_span {
    uint64_t from, to;
};

/* Bytes of the stream that are not in the buffer: they come, in the
 * stream's order, right before the buffer's byte at the index the queue
 * works out from "at" (see outqueue.c). */
struct imc_outq_source {
    uint64_t at;     /* stream offset of the first byte */
    uint64_t size;
    uint64_t sent;   /* bytes written */
    uint64_t pulled; /* bytes read from the application's source */
    uint64_t tag;    /* the command it belongs to */
    char *block;     /* the owned copy, or NULL for a pulled source */
    struct imclient_literal_source from;
    int ended;       /* all bytes are known and the source said it ended */
};

/* Reads up to max bytes of src into buf: the count, 0 at the source's end,
 * or -1 with why filled.  The caller of imc_outq_fill() supplies it, so the
 * queue itself makes no system call. */
typedef long imc_outq_pull_fn(const struct imclient_literal_source *src, char *buf,
                              size_t max, char *why, size_t whylen);

struct imc_outq {
    struct imc_buf buf;  /* unsent bytes are buf.data[head..len) */
    size_t head;
    uint64_t base;       /* stream offset of buf.data[0], were no source
                            before it in the queue */
    struct imc_outq_source *srcs; /* FIFO, in stream order */
    size_t nsrcs, capsrcs;
    struct imc_buf chunk; /* pulled from srcs[0], not yet written */
    size_t chunkhead;
    struct imc_barrier *barriers; /* FIFO, in stream order */
    size_t nbarriers, capbarriers;
    struct imc_span *secrets;     /* in stream order, none yet written whole */
    size_t nsecrets, capsecrets;
};

struct imc_outq_mark {
    size_t len;
    size_t nbarriers;
    size_t nsrcs;
};

void imc_outq_init(struct imc_outq *q);
void imc_outq_free(struct imc_outq *q);
void imc_outq_append(struct imc_outq *q, const void *data, size_t len);
/* Room for len more bytes, so that appending them moves nothing. */
void imc_outq_reserve(struct imc_outq *q, size_t len);
/* The bytes of a literal, copied once into a block of their own. */
void imc_outq_append_block(struct imc_outq *q, uint64_t tag, const void *data, size_t len);
/* src's bytes, read from the source only when they can be written. */
void imc_outq_append_source(struct imc_outq *q, uint64_t tag,
                            const struct imclient_literal_source *src);
/*
 * When a pulled source's bytes are next and none is at hand, read the next
 * chunk of them through pull; check a source is at its end once all its
 * bytes are read.  Returns 0, or -1 with why filled when the source failed,
 * ended early or had more bytes than announced: the server awaits exactly
 * the announced count, so the stream cannot go on.
 */
int imc_outq_fill(struct imc_outq *q, imc_outq_pull_fn *pull, char *why, size_t whylen);
/* What the trace may show of the next writable bytes: 0 when they are the
 * bytes as queued; else they come from an application's source, 1 when
 * they are its first (*size gets its size), 2 for the others. */
int imc_outq_from_source(const struct imc_outq *q, uint64_t *size);
/* Nonzero while an application's source of command tag is still queued. */
int imc_outq_has_source(const struct imc_outq *q, uint64_t tag);
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
