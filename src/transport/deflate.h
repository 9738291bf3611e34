/*
 * The COMPRESS=DEFLATE layer (RFC 4978): raw deflate (no zlib header, no
 * checksum) in both directions, flushed at the end of every write so the
 * server can act on each command as soon as it arrives.
 *
 * It belongs at the top of the stack: compression must see plaintext, so
 * it sits above TLS and above a SASL layer, never below them.
 *
 * Writes follow the SASL layer's contract: plaintext counts as written only
 * once all of its compressed bytes were taken by the layer below; until
 * then write() fails with EAGAIN and the caller offers the same bytes again.
 *
 * Reads never inflate more than the caller asked for.  What is left of the
 * compressed input stays compressed, and buffered() says more is ready, so
 * a small packet that inflates to gigabytes (a "zip bomb") costs no memory
 * beyond the caller's buffer and zlib's fixed window.
 */
#ifndef IMC_DEFLATE_H
#define IMC_DEFLATE_H

#include "transport/transport.h"

/* Put a layer on lower, which it then owns.  Returns NULL with the reason
 * in err (lower untouched) when zlib cannot start. */
struct imc_transport *imc_deflate_new(struct imc_transport *lower, char *err,
                                      size_t errlen);

/*
 * Take compressed bytes that were read from below before the layer existed
 * (they followed the tagged OK in the same read).  They are inflated by
 * later reads, like any other input.
 */
void imc_deflate_unread(struct imc_transport *t, const char *data, size_t len);

/* Nonzero when this layer alone (not counting the layers below) holds
 * compressed input or may have inflated output ready for read(). */
int imc_deflate_held(const struct imc_transport *t);

/* Nonzero when a deflate layer is anywhere in the stack t is the top of. */
int imc_deflate_on_stack(const struct imc_transport *t);

/* Bytes the layer has allocated now: its buffers and zlib's state.  For
 * tests that check the memory bound. */
size_t imc_deflate_footprint(const struct imc_transport *t);

#endif
