/*
 * What STARTTLS and COMPRESS share: the conditions under which a new layer
 * may begin, the capture of the command's tagged reply, and naming the
 * exchange in an error that came from below.
 */
#ifndef IMC_LAYER_START_H
#define IMC_LAYER_START_H

#include <stddef.h>

#include "imclient_internal.h"

/*
 * Why a layer cannot start now, or NULL.  It may start only where both
 * sides agree on the next byte: not from inside a callback, nothing of
 * ours queued or unanswered, no reply half read.  into names the layer in
 * the message ("TLS", "compression"); buf holds a composed reason.
 */
const char *imc_layer_start_blocked(struct imclient *c, const char *into, char *buf,
                                    size_t buflen);

/* A tagged reply, with control bytes of the server's text made '?', as
 * applications print errors and a hostile server could send escapes. */
struct imc_status_reply {
    int done;
    char keyword[16];
    char text[100];
};
/* Finish callback filling the struct imc_status_reply given as rock. */
void imc_status_reply_proc(struct imclient *c, void *rock, struct imclient_reply *r);
void imc_quote_text(char *out, size_t cap, const char *text, size_t len);

/* Prefix the connection's error with "<what> failed: " unless it already
 * starts with what. */
void imc_blame(struct imclient *c, const char *what);

#endif
