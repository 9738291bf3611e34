/*
 * libFuzzer target for the protocol session: arbitrary server bytes, fed in
 * arbitrary pieces, against commands with literals in flight.
 *
 * Invariants checked on every input: no crash or sanitizer report; every
 * finish callback runs at most once, and once the session has failed every
 * command has had exactly one; reply text is NUL-terminated at textlen;
 * streamed literal pieces stay within their announced size; the reply
 * buffer never exceeds max_reply.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/session.h"

enum { NCMDS = 4 };

struct fuzz_state {
    int finished[NCMDS];
};

static void on_reply(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)rock;
    if (r->text[r->textlen] != '\0' || !r->keyword)
        abort();
    if (r->textlen)
        r->text[0] ^= 1; /* callbacks may write into the text */
}

static struct fuzz_state *state;

static void on_finish(struct imclient *c, void *rock, struct imclient_reply *r)
{
    on_reply(c, NULL, r);
    int i = (int)(intptr_t)rock;
    if (++state->finished[i] > 1)
        abort();
}

static void on_piece(struct imclient *c, void *rock, const struct imclient_literal *p)
{
    (void)c;
    (void)rock;
    if (p->offset + p->len > p->size)
        abort();
}

static void send(struct imc_session *s, int i, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    imc_session_send(s, on_finish, (void *)(intptr_t)i, fmt, ap);
    va_end(ap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct fuzz_state st = { { 0 } };
    state = &st;
    struct imc_session s;
    imc_session_init(&s, NULL);
    /* The first two bytes choose the limits and the feeding step. */
    struct imclient_limits l = { 64 + (size_t)data[0] * 4, 256, 512, 0, 0 };
    imc_session_setlimits(&s, &l);
    size_t step = 1 + data[1] % 64;
    s.flags = data[0] & 1 ? IMCLIENT_CONN_NONSYNCLITERAL : 0;
    data += 2;
    size -= 2;

    imc_callbacks_set(&s.callbacks, "", 0, on_reply, NULL);
    imc_callbacks_set(&s.callbacks, "FETCH", CALLBACK_NUMBERED, on_reply, NULL);
    imc_callbacks_setliteral(&s.callbacks, "FETCH", CALLBACK_NUMBERED, on_piece, NULL);
    imc_callbacks_set(&s.callbacks, "CAPABILITY", CALLBACK_NOLITERAL, on_reply, NULL);
    imc_callbacks_set(&s.callbacks, "+", 0, on_reply, NULL);
    send(&s, 0, "LOGIN %s %s", "user", "pass\r\nword");
    send(&s, 1, "NOOP");
    send(&s, 2, "APPEND %s %s", "INBOX", "body\r\n");
    send(&s, 3, "IDLE");

    for (size_t off = 0; off < size; off += step) {
        /* What may go out goes out, as the façade would write it. */
        size_t len;
        imc_session_output(&s, &len);
        imc_session_written(&s, len);
        size_t n = size - off < step ? size - off : step;
        if (imc_session_feed(&s, (const char *)data + off, n) < 0)
            break;
        if (s.reply.len > l.max_reply)
            abort();
    }
    if (s.failed)
        for (int i = 0; i < NCMDS; i++)
            if (st.finished[i] != 1)
                abort();
    imc_session_free(&s);
    return 0;
}
