/*
 * imclient_compress() against a scripted peer that speaks deflate: the
 * shared fake server cannot, so this file has its own, a thread with a
 * socket and zlib.  Its steps are plain or compressed; what the client
 * sends after COMPRESS is inflated and compared as plaintext, and every
 * byte the client sent is kept for a check of the whole conversation.
 *
 * Proved here: the exact plaintext of commands after COMPRESS and byte-
 * exact replies (1 MiB literal included); compressed bytes that arrive in
 * the same segment as the OK are inflated, not parsed; NO and BAD leave a
 * working plain connection; refusals (pending command, inside a callback,
 * already active) leave the connection open and send nothing; a corrupt
 * stream closes the connection with a clear error and EOF to what waits.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "cyrus/imclient.h"
#include "listener.h"
#include "replylog.h"
#include "util/buf.h"

/* ---- the deflating peer --------------------------------------------------- */

enum zop {
    P_SEND,    /* write data as it is */
    P_EXPECT,  /* read len plain bytes; they must equal data */
    P_OK_Z,    /* data as it is and zdata compressed, in one write */
    Z_SEND,    /* write data compressed and flushed */
    Z_EXPECT,  /* inflate until len bytes came; they must equal data */
    P_DRAIN,   /* read (inflating once compressed) until the client closes */
    P_CLOSE,   /* close the connection now */
};

struct zstep {
    enum zop op;
    const char *data;
    size_t len;
    const char *zdata;
    size_t zlen;
};

#define S_SEND(s) { P_SEND, (s), sizeof(s) - 1, NULL, 0 }
#define S_EXPECT(s) { P_EXPECT, (s), sizeof(s) - 1, NULL, 0 }
#define S_OK_Z(s, z) { P_OK_Z, (s), sizeof(s) - 1, (z), sizeof(z) - 1 }
#define S_ZSEND(s) { Z_SEND, (s), sizeof(s) - 1, NULL, 0 }
#define S_ZSEND_BUF(p, n) { Z_SEND, (p), (n), NULL, 0 }
#define S_ZEXPECT(s) { Z_EXPECT, (s), sizeof(s) - 1, NULL, 0 }
#define S_DRAIN() { P_DRAIN, NULL, 0, NULL, 0 }
#define S_CLOSE() { P_CLOSE, NULL, 0, NULL, 0 }

#define PEER_TIMEOUT_MS 10000

struct zpeer {
    int listen_fd, fd;
    char port[16];
    const struct zstep *steps;
    size_t nsteps;
    pthread_t thread;
    z_stream in, out;
    int compressed;          /* the client's bytes are deflate from here on */
    struct imc_buf plain;    /* everything the client sent, inflated */
    size_t taken;            /* plain[0, taken) was matched by expects */
    char error[300];
};

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void zcompress(z_stream *z, struct imc_buf *out, const char *data, size_t len)
{
    z->next_in = (Bytef *)data;
    z->avail_in = (uInt)len;
    do {
        imc_buf_reserve(out, 65536);
        z->next_out = (Bytef *)out->data + out->len;
        z->avail_out = 65536;
        deflate(z, Z_SYNC_FLUSH);
        out->len += 65536 - z->avail_out;
    } while (z->avail_out == 0);
}

/* Read once (within the timeout) and add what came to plain.  1: bytes;
 * 0: the client closed; -1: error or timeout (p->error set). */
static int take_input(struct zpeer *p)
{
    struct pollfd pf = { p->fd, POLLIN, 0 };
    if (poll(&pf, 1, PEER_TIMEOUT_MS) <= 0) {
        snprintf(p->error, sizeof p->error, "timed out waiting for the client");
        return -1;
    }
    char buf[16384];
    ssize_t n = read(p->fd, buf, sizeof buf);
    if (n <= 0)
        return n == 0 ? 0 : -1;
    if (!p->compressed) {
        imc_buf_append(&p->plain, buf, (size_t)n);
        return 1;
    }
    p->in.next_in = (Bytef *)buf;
    p->in.avail_in = (uInt)n;
    do {
        imc_buf_reserve(&p->plain, 65536);
        p->in.next_out = (Bytef *)p->plain.data + p->plain.len;
        p->in.avail_out = 65536;
        int r = inflate(&p->in, Z_SYNC_FLUSH);
        p->plain.len += 65536 - p->in.avail_out;
        if (r != Z_OK && r != Z_BUF_ERROR) {
            snprintf(p->error, sizeof p->error, "client's deflate stream: %s",
                     p->in.msg ? p->in.msg : "error");
            return -1;
        }
    } while (p->in.avail_in > 0 || p->in.avail_out == 0);
    return 1;
}

static int expect(struct zpeer *p, const char *want, size_t len)
{
    while (p->plain.len - p->taken < len) {
        int r = take_input(p);
        if (r <= 0) {
            if (!p->error[0])
                snprintf(p->error, sizeof p->error, "client closed; wanted \"%.*s\"",
                         (int)len, want);
            return -1;
        }
    }
    if (memcmp(p->plain.data + p->taken, want, len) != 0) {
        snprintf(p->error, sizeof p->error, "got \"%.*s\", wanted \"%.*s\"", (int)len,
                 p->plain.data + p->taken, (int)len, want);
        return -1;
    }
    p->taken += len;
    return 0;
}

static int run_step(struct zpeer *p, const struct zstep *s)
{
    struct imc_buf b;
    imc_buf_init(&b);
    int r = 0;
    switch (s->op) {
    case P_SEND:
        r = write_all(p->fd, s->data, s->len);
        break;
    case P_EXPECT:
    case Z_EXPECT:
        r = expect(p, s->data, s->len);
        break;
    case P_OK_Z:
        /* Both sides switch right after the OK line. */
        imc_buf_append(&b, s->data, s->len);
        zcompress(&p->out, &b, s->zdata, s->zlen);
        p->compressed = 1;
        r = write_all(p->fd, b.data, b.len);
        break;
    case Z_SEND:
        zcompress(&p->out, &b, s->data, s->len);
        p->compressed = 1;
        r = write_all(p->fd, b.data, b.len);
        break;
    case P_DRAIN:
        while ((r = take_input(p)) > 0)
            ;
        break;
    case P_CLOSE:
        close(p->fd);
        p->fd = -1;
        break;
    }
    imc_buf_free(&b);
    if (r < 0 && !p->error[0])
        snprintf(p->error, sizeof p->error, "step %d failed", (int)s->op);
    return r < 0 ? -1 : 0;
}

static void *peer_main(void *arg)
{
    struct zpeer *p = arg;
    p->fd = accept_within(p->listen_fd, PEER_TIMEOUT_MS);
    if (p->fd < 0) {
        snprintf(p->error, sizeof p->error, "nobody connected");
        return NULL;
    }
    for (size_t i = 0; i < p->nsteps; i++) {
        if (run_step(p, &p->steps[i]) < 0) {
            char was[sizeof p->error];
            memcpy(was, p->error, sizeof was);
            snprintf(p->error, sizeof p->error, "step %zu: %.250s", i, was);
            break;
        }
    }
    if (p->fd >= 0)
        close(p->fd);
    return NULL;
}

static struct zpeer *peer_start(const struct zstep *steps, size_t n)
{
    struct zpeer *p = calloc(1, sizeof *p);
    p->steps = steps;
    p->nsteps = n;
    p->fd = -1;
    imc_buf_init(&p->plain);
    if (inflateInit2(&p->in, -15) != Z_OK ||
        deflateInit2(&p->out, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    p->listen_fd = listen_loopback(1, p->port, sizeof p->port);
    if (p->listen_fd < 0 || pthread_create(&p->thread, NULL, peer_main, p) != 0)
        abort();
    return p;
}

/* Wait for the script to end; 0 if every step ran and matched. */
static int peer_wait(struct zpeer *p, char *err, size_t errlen)
{
    pthread_join(p->thread, NULL);
    snprintf(err, errlen, "%s", p->error);
    return p->error[0] ? -1 : 0;
}

static void peer_free(struct zpeer *p)
{
    close(p->listen_fd);
    inflateEnd(&p->in);
    deflateEnd(&p->out);
    imc_buf_free(&p->plain);
    free(p);
}

#define PEER(...) ((const struct zstep[]){ __VA_ARGS__ }), \
    (sizeof((const struct zstep[]){ __VA_ARGS__ }) / sizeof(struct zstep))

/* Close, the script must have run to its end, and the client must have
 * sent exactly `sent` (as plaintext). */
#define FINISH(c, p, sent)                                        \
    do {                                                          \
        imclient_close(c);                                        \
        CHECK_SERVER(peer_wait, p);                               \
        CHECK_BYTES((p)->plain.data, (p)->plain.len, sent);       \
        peer_free(p);                                             \
    } while (0)

/* ---- the client side --------------------------------------------------------- */

#define GREETING "* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] ready\r\n"
#define GREETING_LOG "u|OK|-1|[CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] ready\n"

static struct imclient *open_greeted(struct zpeer *p)
{
    reset();
    struct imclient *c = open_logged("127.0.0.1", p->port);
    if (!c)
        return NULL;
    struct imclient_limits l = { 0, 0, 0, 10000, 0 };
    imclient_setlimits(c, &l);
    for (int i = 0; i < 100 && log_text()[0] == '\0'; i++)
        if (imclient_processoneevent_timeout(c, 5000) < 0)
            break;
    return c;
}

static struct imc_buf fetched;

static void on_fetch(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)rock;
    fetched.len = 0;
    imc_buf_append(&fetched, r->text, r->textlen);
}

#define BIG (1024 * 1024)

/* Bytes of every value, in an order that compresses only a little. */
static char *big_literal(void)
{
    char *d = malloc(BIG);
    uint32_t x = 7;
    for (size_t i = 0; i < BIG; i++) {
        x = x * 1664525u + 1013904223u;
        d[i] = (i / 1000) % 2 ? (char)(x >> 24) : "From: compressed\r\n"[i % 18];
    }
    return d;
}

/*
 * The whole success path: the OK and the first compressed reply in one
 * segment, a command whose plaintext the peer checks, and a 1 MiB literal
 * that must arrive byte for byte.  A second COMPRESS is refused without
 * touching the connection.
 */
static void compress_then_deflated_imap(void)
{
    char *data = big_literal();
    struct imc_buf reply;
    imc_buf_init(&reply);
    imc_buf_appendstr(&reply, "* 1 FETCH (BODY[] {1048576}\r\n");
    imc_buf_append(&reply, data, BIG);
    imc_buf_appendstr(&reply, ")\r\n3 OK fetched\r\n");
    struct zpeer *p = peer_start(PEER(S_SEND(GREETING), S_EXPECT("1 COMPRESS DEFLATE\r\n"),
                                      S_OK_Z("1 OK DEFLATE active\r\n", "* 7 EXISTS\r\n"),
                                      S_ZEXPECT("2 NOOP\r\n"),
                                      S_ZSEND("* 8 EXISTS\r\n2 OK done\r\n"),
                                      S_ZEXPECT("3 FETCH 1 BODY[]\r\n"),
                                      S_ZSEND_BUF(reply.data, reply.len), S_DRAIN()));
    struct imclient *c = open_greeted(p);
    CHECK(c != NULL);
    CHECK_STR(log_text(), GREETING_LOG);
    CHECK_INT(imclient_compress(c), 0);
    CHECK_STR(imclient_error(c), "");
    /* Inflated from the OK's segment, and delivered before the return. */
    CHECK_STR(log_text(), GREETING_LOG "u|EXISTS|7|\n");

    CHECK_INT(imclient_compress(c), -1);
    CHECK_STR(imclient_error(c), "COMPRESS refused: compression is already active");
    CHECK(imclient_isopen(c));

    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK_STR(log_text(), GREETING_LOG "u|EXISTS|7|\nu|EXISTS|8|\nnoop|OK|-1|done\n");

    imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED, on_fetch, NULL, NULL);
    fetched.len = 0;
    imclient_send(c, finished, "fetch", "FETCH 1 BODY[]");
    run_until(c, 2);
    CHECK(log_ends_with("fetch|OK|-1|fetched\n"));
    const char *head = "(BODY[] {1048576}\r\n";
    CHECK_INT(fetched.len, strlen(head) + BIG + 1);
    CHECK_MEM(fetched.data, strlen(head), head, strlen(head));
    CHECK_MEM(fetched.data + strlen(head), BIG, data, BIG);
    CHECK_INT(fetched.data[fetched.len - 1], ')');
    FINISH(c, p, "1 COMPRESS DEFLATE\r\n2 NOOP\r\n3 FETCH 1 BODY[]\r\n");
    imc_buf_free(&reply);
    imc_buf_free(&fetched);
    free(data);
}

/* Layers keep RFC 4978's order: once compression is on, STARTTLS is
 * refused before anything is sent (it closes the connection, as every
 * STARTTLS failure does), and authentication may only go without a
 * security layer. */
static void no_layers_below_compression(void)
{
    struct sasl_client *mechs[] = { &imclient_sasl_plain, NULL };
    struct zpeer *p = peer_start(PEER(S_SEND(GREETING), S_EXPECT("1 COMPRESS DEFLATE\r\n"),
                                      S_OK_Z("1 OK DEFLATE active\r\n", ""), S_DRAIN()));
    struct imclient *c = open_greeted(p);
    CHECK(c != NULL);
    CHECK_INT(imclient_compress(c), 0);
    CHECK_INT(imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_INTEGRITY), 1);
    CHECK_STR(imclient_error(c), "a security layer cannot start once COMPRESS is active");
    CHECK(imclient_isopen(c));
    CHECK(imclient_starttls(c, NULL, NULL, NULL, NULL) != 0);
    CHECK_STR(imclient_error(c),
              "STARTTLS refused: COMPRESS is active (TLS must start first: RFC 4978)");
    CHECK(!imclient_isopen(c));
    FINISH(c, p, "1 COMPRESS DEFLATE\r\n");
}

/* NO: 1, and the connection goes on in plain text, including what came
 * after the NO in the same segment. */
static void no_keeps_plain_connection(void)
{
    struct zpeer *p = peer_start(PEER(S_SEND(GREETING), S_EXPECT("1 COMPRESS DEFLATE\r\n"),
                                      S_SEND("1 NO [COMPRESSIONACTIVE] not now\r\n"
                                             "* 4 EXISTS\r\n"),
                                      S_EXPECT("2 NOOP\r\n"), S_SEND("2 OK fine\r\n"),
                                      S_DRAIN()));
    struct imclient *c = open_greeted(p);
    CHECK(c != NULL);
    CHECK_INT(imclient_compress(c), 1);
    CHECK(imclient_isopen(c));
    CHECK_STR(imclient_error(c),
              "COMPRESS refused by 127.0.0.1: NO [COMPRESSIONACTIVE] not now");
    CHECK_STR(log_text(), GREETING_LOG "u|EXISTS|4|\n");
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK_STR(log_text(), GREETING_LOG "u|EXISTS|4|\nnoop|OK|-1|fine\n");
    FINISH(c, p, "1 COMPRESS DEFLATE\r\n2 NOOP\r\n");
}

static void bad_keeps_plain_connection(void)
{
    struct zpeer *p = peer_start(PEER(S_SEND(GREETING), S_EXPECT("1 COMPRESS DEFLATE\r\n"),
                                      S_SEND("1 BAD what is COMPRESS\r\n"),
                                      S_EXPECT("2 NOOP\r\n"), S_SEND("2 OK fine\r\n"),
                                      S_DRAIN()));
    struct imclient *c = open_greeted(p);
    CHECK(c != NULL);
    CHECK_INT(imclient_compress(c), 1);
    CHECK(imclient_isopen(c));
    CHECK_STR(imclient_error(c), "COMPRESS refused by 127.0.0.1: BAD what is COMPRESS");
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK_STR(log_text(), GREETING_LOG "noop|OK|-1|fine\n");
    FINISH(c, p, "1 COMPRESS DEFLATE\r\n2 NOOP\r\n");
}

/* A command still waits: its reply could arrive compressed or not, so
 * nothing is sent, and the command completes normally afterwards. */
static void refused_while_command_pending(void)
{
    struct zpeer *p = peer_start(PEER(S_SEND(GREETING), S_EXPECT("1 NOOP\r\n"),
                                      S_SEND("1 OK fine\r\n"), S_DRAIN()));
    struct imclient *c = open_greeted(p);
    CHECK(c != NULL);
    imclient_send(c, finished, "noop", "NOOP");
    CHECK_INT(imclient_compress(c), -1);
    CHECK(imclient_isopen(c));
    CHECK_STR(imclient_error(c), "COMPRESS refused: 1 command(s) still wait for their "
                                 "replies, which would cross into compression");
    run_until(c, 1);
    CHECK_STR(log_text(), GREETING_LOG "noop|OK|-1|fine\n");
    FINISH(c, p, "1 NOOP\r\n");
}

static int inside_result = 99;
static char inside_error[200];

static void compress_from_callback(struct imclient *c, void *rock, struct imclient_reply *r)
{
    finished(c, rock, r);
    inside_result = imclient_compress(c);
    snprintf(inside_error, sizeof inside_error, "%s", imclient_error(c));
}

static void refused_inside_callback(void)
{
    struct zpeer *p = peer_start(PEER(S_SEND(GREETING), S_EXPECT("1 NOOP\r\n"),
                                      S_SEND("1 OK fine\r\n"), S_EXPECT("2 NOOP\r\n"),
                                      S_SEND("2 OK again\r\n"), S_DRAIN()));
    struct imclient *c = open_greeted(p);
    CHECK(c != NULL);
    imclient_send(c, compress_from_callback, "noop", "NOOP");
    run_until(c, 1);
    CHECK_INT(inside_result, -1);
    CHECK_STR(inside_error, "COMPRESS refused: it cannot run inside a callback");
    CHECK(imclient_isopen(c));
    imclient_send(c, finished, "again", "NOOP");
    run_until(c, 2);
    CHECK_STR(log_text(), GREETING_LOG "noop|OK|-1|fine\nagain|OK|-1|again\n");
    FINISH(c, p, "1 NOOP\r\n2 NOOP\r\n");
}

/* The server's stream breaks while a command waits: the connection closes,
 * the command gets EOF, and the error names the cause. */
static void corrupt_stream_closes(void)
{
    struct zpeer *p = peer_start(PEER(S_SEND(GREETING), S_EXPECT("1 COMPRESS DEFLATE\r\n"),
                                      S_OK_Z("1 OK\r\n", ""), S_ZEXPECT("2 NOOP\r\n"),
                                      S_SEND("\xff\xff\xff"), S_DRAIN()));
    struct imclient *c = open_greeted(p);
    CHECK(c != NULL);
    CHECK_INT(imclient_compress(c), 0);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK(!imclient_isopen(c));
    CHECK_STR(imclient_error(c),
              "reading from 127.0.0.1: compressed stream is corrupt: invalid block type");
    CHECK(log_ends_with("noop|EOF|-1|\n"));
    FINISH(c, p, "1 COMPRESS DEFLATE\r\n2 NOOP\r\n");
}

/* The corruption comes in the OK's own segment: imclient_compress() itself
 * fails and the connection is closed. */
static void corrupt_in_ok_segment(void)
{
    struct zpeer *p = peer_start(PEER(S_SEND(GREETING), S_EXPECT("1 COMPRESS DEFLATE\r\n"),
                                      S_SEND("1 OK\r\n\xff\xff"), S_DRAIN()));
    struct imclient *c = open_greeted(p);
    CHECK(c != NULL);
    CHECK_INT(imclient_compress(c), -1);
    CHECK(!imclient_isopen(c));
    CHECK_STR(imclient_error(c), "COMPRESS: compressed stream is corrupt: invalid block type");
    FINISH(c, p, "1 COMPRESS DEFLATE\r\n");
}

/* Plaintext after the OK (an injection, or a server that did not start
 * compressing) goes through inflate, never to the parser; this text does
 * not inflate, so the connection closes. */
static void plaintext_after_ok_is_not_parsed(void)
{
    struct zpeer *p = peer_start(PEER(S_SEND(GREETING), S_EXPECT("1 COMPRESS DEFLATE\r\n"),
                                      S_SEND("1 OK\r\n* 5 EXISTS\r\n"), S_DRAIN()));
    struct imclient *c = open_greeted(p);
    CHECK(c != NULL);
    CHECK_INT(imclient_compress(c), -1);
    CHECK(!imclient_isopen(c));
    CHECK_STR(imclient_error(c),
              "COMPRESS: compressed stream is corrupt: invalid distance too far back");
    CHECK_STR(log_text(), GREETING_LOG);
    FINISH(c, p, "1 COMPRESS DEFLATE\r\n");
}

static void eof_instead_of_reply(void)
{
    struct zpeer *p = peer_start(PEER(S_SEND(GREETING), S_EXPECT("1 COMPRESS DEFLATE\r\n"),
                                      S_CLOSE()));
    struct imclient *c = open_greeted(p);
    CHECK(c != NULL);
    CHECK_INT(imclient_compress(c), -1);
    CHECK(!imclient_isopen(c));
    CHECK_STR(imclient_error(c), "COMPRESS failed: connection closed by 127.0.0.1");
    FINISH(c, p, "1 COMPRESS DEFLATE\r\n");
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(compress_then_deflated_imap),
        TEST(no_layers_below_compression),
        TEST(no_keeps_plain_connection),
        TEST(bad_keeps_plain_connection),
        TEST(refused_while_command_pending),
        TEST(refused_inside_callback),
        TEST(corrupt_stream_closes),
        TEST(corrupt_in_ok_segment),
        TEST(plaintext_after_ok_is_not_parsed),
        TEST(eof_instead_of_reply),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
