/* Secrets in the output queue: which bytes the encoder marks, how the
 * trace copy hides them, and that no copy of them is left in our memory
 * once written, cancelled or rolled back. */
#include <stdarg.h>
#include <stdlib.h>

#include "check.h"
#include "core/encoder.h"
#include "core/outqueue.h"

static int encode(struct imc_outq *q, uint64_t tag, unsigned lit, const char *fmt, ...)
{
    char err[200];
    va_list ap;
    va_start(ap, fmt);
    int r = imc_encode_command(q, tag, lit, err, sizeof err, fmt, ap);
    va_end(ap);
    return r;
}

/* The trace's view of the next n writable bytes. */
static void shown(const struct imc_outq *q, size_t n, char *out, size_t cap)
{
    struct imc_buf b;
    imc_buf_init(&b);
    if (imc_outq_redact(q, n, &b))
        snprintf(out, cap, "%.*s", (int)b.len, b.data);
    else
        snprintf(out, cap, "%.*s", (int)n, q->buf.data + q->head);
    imc_buf_free(&b);
}

static int contains(const char *mem, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(mem + i, needle, n) == 0)
            return 1;
    return 0;
}

static void login_password_marked(void)
{
    struct imc_outq q;
    imc_outq_init(&q);
    CHECK_INT(encode(&q, 1, 0, "LOGIN %s %s", "alice", "hunter2"), 0);
    CHECK_INT(q.nsecrets, 1);
    char view[128];
    size_t n;
    imc_outq_writable(&q, &n);
    shown(&q, n, view, sizeof view);
    CHECK_STR(view, "1 LOGIN alice [redacted]\r\n");
    /* A partial write: the trace shows its share of the secret hidden. */
    shown(&q, 16, view, sizeof view);
    CHECK_STR(view, "1 LOGIN alice [redacted]");
    imc_outq_free(&q);
}

static void authenticate_initial_response_marked(void)
{
    struct imc_outq q;
    imc_outq_init(&q);
    CHECK_INT(encode(&q, 4, 0, "AUTHENTICATE %a %a", "PLAIN", "AGFsaWNlAHB3"), 0);
    char view[128];
    size_t n;
    imc_outq_writable(&q, &n);
    shown(&q, n, view, sizeof view);
    CHECK_STR(view, "4 AUTHENTICATE PLAIN [redacted]\r\n");
    imc_outq_free(&q);
}

static void ordinary_commands_unmarked(void)
{
    struct imc_outq q;
    imc_outq_init(&q);
    CHECK_INT(encode(&q, 1, 0, "SELECT %s", "LOGIN"), 0);
    CHECK_INT(encode(&q, 2, 0, "AUTHENTICATE %a", "GSSAPI"), 0);
    CHECK_INT(q.nsecrets, 0);
    CHECK_INT(q.buf.wipe, 0);
    imc_outq_free(&q);
}

/* Written bytes that held the secret are zero in the buffer, and the queue
 * stops wiping once the secret is gone. */
static void wiped_once_written(void)
{
    struct imc_outq q;
    imc_outq_init(&q);
    CHECK_INT(encode(&q, 1, 0, "NOOP"), 0);
    CHECK_INT(encode(&q, 2, 0, "LOGIN %s %s", "alice", "hunter2"), 0);
    CHECK_INT(encode(&q, 3, 0, "NOOP"), 0);
    const char *data = q.buf.data;
    size_t total = q.buf.len;
    CHECK(contains(data, total, "hunter2"));
    imc_outq_consume(&q, 8 + 21); /* "1 NOOP\r\n" and up to the password's end */
    CHECK(!contains(data, total, "hunter2"));
    CHECK(!contains(data, total, "hunt"));
    CHECK_INT(q.nsecrets, 0);
    CHECK_INT(q.buf.wipe, 0);
    imc_outq_free(&q);
}

/* While a secret waits, growing the buffer leaves no copy behind: the old
 * block is wiped before it is freed.  (Checked through the wipe flag the
 * growth path reads; the freed block itself cannot be looked at.) */
static void growth_while_secret_waits(void)
{
    struct imc_outq q;
    imc_outq_init(&q);
    CHECK_INT(encode(&q, 1, 0, "LOGIN %s %s", "alice", "hunter2"), 0);
    CHECK_INT(q.buf.wipe, 1);
    char big[4096];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 8; i++)
        CHECK_INT(encode(&q, (uint64_t)(2 + i), 0, "APPEND %s", big), 0);
    CHECK(contains(q.buf.data, q.buf.len, "hunter2"));
    imc_outq_free(&q);
}

/* The server answered before the literal's "+": the password's bytes go
 * with the rest of the command, wiped, and later spans move down. */
static void cancelled_literal_wiped(void)
{
    struct imc_outq q;
    imc_outq_init(&q);
    CHECK_INT(encode(&q, 1, 0, "LOGIN %s %s", "alice", "p\"w\nsecret"), 0);
    CHECK_INT(encode(&q, 2, 0, "LOGIN %s %s", "bob", "pw2"), 0);
    const char *data = q.buf.data;
    size_t total = q.buf.len;
    size_t n;
    imc_outq_writable(&q, &n);
    imc_outq_consume(&q, n); /* up to the barrier: "1 LOGIN alice {10}\r\n" */
    uint64_t from;
    CHECK(imc_outq_cancel(&q, 1, &from) > 0);
    CHECK(!contains(data, total, "secret"));
    CHECK_INT(q.nsecrets, 1);
    imc_outq_writable(&q, &n);
    char view[128];
    shown(&q, n, view, sizeof view);
    CHECK_STR(view, "2 LOGIN bob [redacted]\r\n");
    imc_outq_free(&q);
}

static void rolled_back_command_wiped(void)
{
    struct imc_outq q;
    imc_outq_init(&q);
    CHECK_INT(encode(&q, 1, 0, "NOOP"), 0);
    /* %q is refused after the password was queued: the command is undone. */
    CHECK_INT(encode(&q, 2, 0, "LOGIN %s %s %q", "alice", "hunter2"), -1);
    CHECK(!contains(q.buf.data, q.buf.len + 40 < q.buf.cap ? q.buf.len + 40 : q.buf.cap,
                    "hunter2"));
    CHECK_INT(q.nsecrets, 0);
    imc_outq_free(&q);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(login_password_marked),
        TEST(authenticate_initial_response_marked),
        TEST(ordinary_commands_unmarked),
        TEST(wiped_once_written),
        TEST(growth_while_secret_waits),
        TEST(cancelled_literal_wiped),
        TEST(rolled_back_command_wiped),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
