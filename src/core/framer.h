/*
 * Response framing: splits the byte stream from the server into protocol
 * lines and literals, without interpreting what they say.
 *
 * The framer is fed arbitrary slices of input and hands back one frame at a
 * time; the frames are the same however the input was split.  A line ends at
 * LF; a CR just before the LF belongs to the terminator, any other CR is data.
 * A line that ends in "{n}" or "{n+}" announces a literal of n bytes, which is
 * handed over in pieces as it arrives (never buffered here), after which the
 * response continues with another line.
 */
#ifndef IMC_FRAMER_H
#define IMC_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum imc_frame_kind {
    IMC_FRAME_NEED_MORE, /* all input consumed, no complete frame */
    IMC_FRAME_LINE,      /* a complete line */
    IMC_FRAME_LITERAL,   /* a piece of a literal */
    IMC_FRAME_ERROR      /* framing error; see imc_framer_error() */
};

struct imc_frame {
    enum imc_frame_kind kind;
    const char *data; /* line content (without terminator) or literal piece */
    size_t len;
    size_t eol_len;   /* LINE: bytes of terminator following data[len] */
    int literal;      /* LINE: a literal follows; LITERAL: more pieces follow */
    uint64_t literal_len; /* LINE with literal: its announced size */
    int first;        /* LINE: first line of a response */
};

struct imc_framer {
    size_t max_line;
    uint64_t max_literal;
    uint64_t literal_left; /* >0 while inside a literal */
    int in_literal;
    int at_response_start;
    struct imc_buf partial; /* a line split across feeds */
    char error[128];
};

void imc_framer_init(struct imc_framer *f, size_t max_line, uint64_t max_literal);
void imc_framer_free(struct imc_framer *f);
void imc_framer_setlimits(struct imc_framer *f, size_t max_line, uint64_t max_literal);

/*
 * Find the next frame in in[0..len).  Returns the number of input bytes
 * consumed; the caller passes the rest on the next call.  The frame's data
 * stays valid until the next call.  NEED_MORE always consumes all input.
 * After ERROR the framer stays in error.
 */
size_t imc_framer_next(struct imc_framer *f, const char *in, size_t len,
                       struct imc_frame *out);
const char *imc_framer_error(const struct imc_framer *f);
/* Between lines: give the partial-line buffer back. */
void imc_framer_trim(struct imc_framer *f);

/* The line just returned ended in "{n}" that is text, not a literal header
 * (the caller knows the grammar): read the next bytes as a new response. */
void imc_framer_not_a_literal(struct imc_framer *f);

/* Parse a literal header "{n}" or "{n+}" at the end of line[0..len).
 * Returns 1 and sets *n if there is one, 0 if not, -1 if n is too big for
 * 64 bits. */
int imc_literal_header(const char *line, size_t len, uint64_t *n);

/* line[0..len) ends in a token "{...}" that is no literal header ("{}",
 * "{12a}", "{-1}"): 1, else 0. */
int imc_literal_malformed(const char *line, size_t len);

#endif
