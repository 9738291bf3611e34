/*
 * The SASL security layer: after an authentication that negotiated
 * integrity or privacy, every byte in both directions passes through
 * sasl_encode()/sasl_decode() of the connection that negotiated it.
 *
 * Writes follow SSL_write()'s contract: a plaintext chunk counts as written
 * only once all of its encoded bytes were taken by the layer below.  Until
 * then write() fails with EAGAIN, keeps the encoded remainder, and the
 * caller must offer the same plaintext again (the output queue does: it
 * only drops bytes the transport accepted).  Reporting a chunk as written
 * while part of its encoding is still held would let the caller believe a
 * command left when the server has seen only half of a packet.
 */
#ifndef IMC_SASL_LAYER_H
#define IMC_SASL_LAYER_H

#include <sasl/sasl.h>

#include "transport/transport.h"

/* Largest packet we accept from the server (our SASL maxbufsize). */
#define IMC_SASL_MAXBUF 65536

/*
 * Stack a layer on lower.  The layer takes ownership of lower, of conn
 * (disposed by destroy) and of keep, memory conn's callbacks point into,
 * freed right after conn.  Returns NULL, with a reason in err, when conn
 * cannot say how large a packet it may send; lower, conn and keep are
 * then still the caller's.
 */
struct imc_transport *imc_sasl_layer_new(struct imc_transport *lower, sasl_conn_t *conn,
                                         void *keep, char *err, size_t errlen);

/*
 * Decode bytes that were read from below before the layer existed (they
 * followed the tagged OK in the same read) and hold the plaintext for
 * read().  Returns 0, or -1 with t->error set when they do not decode,
 * which means they were not sent through the layer.
 */
int imc_sasl_layer_unread(struct imc_transport *t, const char *data, size_t len);

/* Decoded bytes held for read(), not counting the layers below. */
size_t imc_sasl_layer_held(const struct imc_transport *t);

#endif
