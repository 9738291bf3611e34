/*
 * Output of a layer that transforms what it writes (SASL encoding,
 * deflate).  The transformed bytes wait here until the layer below has
 * taken all of them; only then does the plaintext they stand for count as
 * written, so a partial write below is never reported as complete above.
 * Until then the caller must offer the same chunk again (EAGAIN).
 */
#ifndef IMC_ENCODED_OUT_H
#define IMC_ENCODED_OUT_H

#include <stddef.h>
#include <sys/types.h>

#include "transport/transport.h"
#include "util/buf.h"

struct imc_encoded_out {
    struct imc_buf bytes; /* transformed, not yet taken below: data[pos, len) */
    size_t pos;
    size_t plain;         /* plaintext those bytes stand for; 0: none pending */
};

void imc_encoded_out_init(struct imc_encoded_out *o);
void imc_encoded_out_free(struct imc_encoded_out *o);
/* Nonzero while transformed bytes wait for the layer below. */
int imc_encoded_out_waiting(const struct imc_encoded_out *o);
/* The chunk in progress is offered again as buf[0..len): finish it.
 * Returns its plaintext size, or -1 with errno (EAGAIN, or EINVAL when the
 * caller offers less than was begun; layer names it in the error). */
ssize_t imc_encoded_out_retry(struct imc_encoded_out *o, struct imc_transport *layer,
                              size_t len, const char *name);
/* plain bytes of plaintext were just transformed into o->bytes: push them
 * down.  Returns plain once all went, else -1 with errno. */
ssize_t imc_encoded_out_commit(struct imc_encoded_out *o, struct imc_transport *layer,
                               size_t plain);

#endif
