/*
 * A lower layer that plays a script, for testing one transport layer
 * (SASL, DEFLATE) alone: it stands where the socket would, behind
 * src/transport/transport.h, and is as awkward as the test asks.  Reads
 * hand out scripted bytes in small pieces, with EAGAIN between them if
 * asked; writes take a few bytes at a time, refuse with EAGAIN now and then
 * or once they are full, and keep everything they took; either direction
 * can be made to fail with a chosen errno.  The fields below are the
 * script: set them after mock_transport_init() and change them whenever
 * the test likes (more input arriving, room appearing, a failure).
 */
#ifndef IMC_MOCKTRANSPORT_H
#define IMC_MOCKTRANSPORT_H

#include <stddef.h>

#include "transport/transport.h"
#include "util/buf.h"

struct mock_transport {
    struct imc_transport base; /* first: the layer above holds &base */

    /* Reads return input[inpos, inlen), at most read_piece bytes per call
     * (0: as many as asked).  With read_pause, a read after a piece says
     * EAGAIN once while input remains, as a socket whose bytes come in
     * separate segments.  Once the input is used up, reads return 0 (the
     * peer ended the stream) with eof_at_end, else fail with EAGAIN; a
     * test may raise inlen later to let the rest of the input arrive. */
    const char *input;
    size_t inlen, inpos;
    size_t read_piece;
    int read_pause;
    int eof_at_end;
    int read_errno; /* non-zero: every read fails with this errno */

    /* Writes take at most write_piece bytes per call (0: all offered) and
     * at most write_room bytes in all (unlimited after init): a full mock
     * says EAGAIN until the test gives it room.  With write_eagain_every
     * n, every n-th call says EAGAIN whatever the room, counted by writes,
     * which a test may preset to place the first refusal. */
    size_t write_piece;
    size_t write_room;
    unsigned write_eagain_every;
    int write_errno; /* non-zero: every write fails with this errno */
    struct imc_buf written; /* everything taken, in order */

    unsigned reads, writes; /* calls so far, refused ones included */
    int destroyed;          /* destroy() ran; the struct stays the test's */
    int pause_due;          /* read_pause: the next read owes an EAGAIN */
};

/* Nothing to read (EAGAIN), writes taken whole, fd -1. */
void mock_transport_init(struct mock_transport *m);
/* Script the input: data (not copied; it must outlive the reads), from
 * its start. */
void mock_transport_input(struct mock_transport *m, const void *data, size_t len);
/* Free what the mock recorded; the layer stacked on it must be gone. */
void mock_transport_free(struct mock_transport *m);

#endif
