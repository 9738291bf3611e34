#include "core/framer.h"

#include <stdio.h>
#include <string.h>

void imc_framer_init(struct imc_framer *f, size_t max_line, uint64_t max_literal)
{
    memset(f, 0, sizeof *f);
    imc_buf_init(&f->partial);
    f->at_response_start = 1;
    imc_framer_setlimits(f, max_line, max_literal);
}

void imc_framer_free(struct imc_framer *f)
{
    imc_buf_free(&f->partial);
}

void imc_framer_setlimits(struct imc_framer *f, size_t max_line, uint64_t max_literal)
{
    f->max_line = max_line;
    f->max_literal = max_literal;
}

const char *imc_framer_error(const struct imc_framer *f)
{
    return f->error;
}

void imc_framer_not_a_literal(struct imc_framer *f)
{
    f->in_literal = 0;
    f->literal_left = 0;
    f->at_response_start = 1;
}

int imc_literal_header(const char *line, size_t len, uint64_t *n)
{
    if (len < 3 || line[len - 1] != '}')
        return 0;
    size_t end = len - 1;
    if (line[end - 1] == '+')
        end--;
    size_t start = end;
    while (start > 0 && line[start - 1] >= '0' && line[start - 1] <= '9')
        start--;
    if (start == end || start == 0 || line[start - 1] != '{')
        return 0;
    uint64_t v = 0;
    for (size_t i = start; i < end; i++) {
        unsigned d = (unsigned)(line[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *n = v;
    return 1;
}

int imc_literal_malformed(const char *line, size_t len)
{
    uint64_t n;
    if (len < 2 || line[len - 1] != '}' || imc_literal_header(line, len, &n) != 0)
        return 0;
    /* One token "{...}": its "{" starts it (after a space, "(" or literal8's
     * "~"), and nothing between the braces could end a token.  An atom may
     * end in "}" ("c}" after a quoted "x{" is a mailbox, not a literal). */
    size_t open = len - 1;
    while (open > 0 && line[open - 1] != '{')
        open--;
    if (open == 0)
        return 0;
    open--;
    if (open > 0 && line[open - 1] != ' ' && line[open - 1] != '(' && line[open - 1] != '~')
        return 0;
    for (size_t i = open + 1; i < len - 1; i++)
        if (line[i] == ' ' || line[i] == '"' || line[i] == '(' || line[i] == ')')
            return 0;
    return 1;
}

static size_t fail(struct imc_framer *f, struct imc_frame *out, size_t used,
                   const char *msg)
{
    if (!f->error[0])
        snprintf(f->error, sizeof f->error, "%s", msg);
    out->kind = IMC_FRAME_ERROR;
    return used;
}

/* Apart and cold: its message buffer would make every line pay for a
 * stack guard. */
static __attribute__((noinline, cold)) size_t
literal_too_big(struct imc_framer *f, struct imc_frame *out, size_t used)
{
    char msg[128];
    snprintf(msg, sizeof msg, "literal larger than the limit of %llu bytes",
             (unsigned long long)f->max_literal);
    return fail(f, out, used, msg);
}

/* A line is complete: check for a literal header and fill in the frame. */
static size_t finish_line(struct imc_framer *f, const char *line, size_t len,
                          size_t eol_len, struct imc_frame *out, size_t used)
{
    uint64_t n = 0;
    int lit = imc_literal_header(line, len, &n);
    if (lit < 0 || (lit > 0 && n > f->max_literal))
        return literal_too_big(f, out, used);
    out->kind = IMC_FRAME_LINE;
    out->data = line;
    out->len = len;
    out->eol_len = eol_len;
    out->literal = lit > 0;
    out->literal_len = n;
    out->first = f->at_response_start;
    f->at_response_start = !out->literal;
    if (out->literal) {
        f->in_literal = 1;
        f->literal_left = n;
    }
    return used;
}

static size_t next_literal(struct imc_framer *f, const char *in, size_t len,
                           struct imc_frame *out)
{
    size_t take = len;
    if ((uint64_t)take > f->literal_left)
        take = (size_t)f->literal_left;
    f->literal_left -= take;
    out->kind = IMC_FRAME_LITERAL;
    out->data = in;
    out->len = take;
    out->literal = f->literal_left > 0;
    if (f->literal_left == 0)
        f->in_literal = 0;
    return take;
}

size_t imc_framer_next(struct imc_framer *f, const char *in, size_t len,
                       struct imc_frame *out)
{
    memset(out, 0, sizeof *out);
    if (f->error[0]) {
        out->kind = IMC_FRAME_ERROR;
        return 0;
    }
    if (f->in_literal) {
        /* A zero-length literal still yields one (empty) piece so the
         * consumer sees where it ends. */
        if (len == 0 && f->literal_left > 0) {
            out->kind = IMC_FRAME_NEED_MORE;
            return 0;
        }
        return next_literal(f, in, len, out);
    }

    const char *lf = memchr(in, '\n', len);
    if (!lf) {
        /* One byte of slack: a CR kept here may turn out to be the terminator. */
        if (f->partial.len + len > f->max_line + 1)
            return fail(f, out, len, "line longer than the limit");
        imc_buf_append(&f->partial, in, len);
        out->kind = IMC_FRAME_NEED_MORE;
        return len;
    }

    size_t used = (size_t)(lf - in) + 1;
    if (f->partial.len == 0) {
        /* Fast path: the whole line is in this input; no copy. */
        size_t n = used - 1;
        size_t eol = 1;
        if (n > 0 && in[n - 1] == '\r') {
            n--;
            eol = 2;
        }
        if (n > f->max_line)
            return fail(f, out, used, "line longer than the limit");
        return finish_line(f, in, n, eol, out, used);
    }

    char before_lf = used >= 2 ? in[used - 2] : f->partial.data[f->partial.len - 1];
    size_t content = f->partial.len + used - 1 - (before_lf == '\r');
    if (content > f->max_line)
        return fail(f, out, used, "line longer than the limit");
    /* The line began in an earlier feed; its CR may be the last byte we kept. */
    imc_buf_append(&f->partial, in, used);
    size_t n = f->partial.len - 1;
    size_t eol = 1;
    if (n > 0 && f->partial.data[n - 1] == '\r') {
        n--;
        eol = 2;
    }
    /* Emptied now, but its bytes stay in place until the next call, which is
     * as long as a frame's data is promised to live. */
    f->partial.len = 0;
    return finish_line(f, f->partial.data, n, eol, out, used);
}

void imc_framer_trim(struct imc_framer *f)
{
    if (f->partial.len == 0)
        imc_buf_free(&f->partial);
}
