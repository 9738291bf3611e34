#include "transport/encoded_out.h"

#include <errno.h>
#include <stdio.h>

void imc_encoded_out_init(struct imc_encoded_out *o)
{
    imc_buf_init(&o->bytes);
    o->pos = 0;
    o->plain = 0;
}

void imc_encoded_out_free(struct imc_encoded_out *o)
{
    imc_buf_free(&o->bytes);
    o->pos = 0;
    o->plain = 0;
}

int imc_encoded_out_waiting(const struct imc_encoded_out *o)
{
    return o->pos < o->bytes.len;
}

/* Push the waiting bytes down.  0 when all went, -1 with errno. */
static int push(struct imc_encoded_out *o, struct imc_transport *layer)
{
    while (o->pos < o->bytes.len) {
        ssize_t n = imc_transport_write(layer->lower, o->bytes.data + o->pos,
                                        o->bytes.len - o->pos);
        if (n < 0) {
            if (errno != EAGAIN && layer->lower->error[0])
                snprintf(layer->error, sizeof layer->error, "%s", layer->lower->error);
            return -1;
        }
        if (n == 0) {
            errno = EAGAIN;
            return -1;
        }
        o->pos += (size_t)n;
    }
    o->bytes.len = 0;
    o->pos = 0;
    return 0;
}

static ssize_t finish(struct imc_encoded_out *o, struct imc_transport *layer)
{
    if (push(o, layer) < 0)
        return -1;
    size_t n = o->plain;
    o->plain = 0;
    return (ssize_t)n;
}

ssize_t imc_encoded_out_retry(struct imc_encoded_out *o, struct imc_transport *layer,
                              size_t len, const char *name)
{
    if (len < o->plain) {
        snprintf(layer->error, sizeof layer->error, "%s: %zu bytes offered after %zu were begun",
                 name, len, o->plain);
        errno = EINVAL;
        return -1;
    }
    return finish(o, layer);
}

ssize_t imc_encoded_out_commit(struct imc_encoded_out *o, struct imc_transport *layer,
                               size_t plain)
{
    o->plain = plain;
    return finish(o, layer);
}
