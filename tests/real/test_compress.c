/*
 * COMPRESS=DEFLATE against real Dovecot 2.3 (imap_zlib) and Cyrus imapd
 * 3.6, started by tests/servers/all.sh.  Both offer it after login.  Then
 * a mailbox round trip through the compressed stream: CREATE, APPEND of a
 * 300 KB message, SELECT, a byte-exact FETCH, LOGOUT.  The same again
 * over STARTTLS (verified against the throwaway CA, by name), where the
 * deflate layer sits on TLS.
 *
 * The bytes on the wire are read from the kernel (TCP_INFO) and printed
 * next to the plaintext; the mail is text, so fewer than half as many
 * bytes must have crossed the wire each way as the protocol carried.
 *
 * Without the variables of DIR/env the program prints "skipped: no servers"
 * and succeeds, unless IMC_REQUIRE_SERVERS=1.
 */
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "realenv.h"
#include "cyrus/imclient.h"
#include "util/buf.h"

static struct realenv_server *servers;

static const char *ca_file;

/* ---- one connection ------------------------------------------------------ */

struct ctx {
    const struct realenv_server *srv;
    struct imclient *c;
    struct imc_buf caps;     /* text of the last CAPABILITY reply */
    int greeted;
    int done;
    char last_kw[16];
    struct imc_buf last_text;
    struct imc_buf fetched;  /* text of the last FETCH reply */
    unsigned long long plain_in, plain_out; /* protocol bytes above all layers */
};

static void on_untagged(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct ctx *x = rock;
    x->greeted = 1;
    if (strcmp(r->keyword, "CAPABILITY") == 0) {
        x->caps.len = 0;
        imc_buf_append(&x->caps, r->text, r->textlen);
    }
}

static void on_fetch(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct ctx *x = rock;
    x->fetched.len = 0;
    imc_buf_append(&x->fetched, r->text, r->textlen);
}

static void on_done(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct ctx *x = rock;
    snprintf(x->last_kw, sizeof x->last_kw, "%s", r->keyword);
    x->last_text.len = 0;
    imc_buf_append(&x->last_text, r->text, r->textlen);
    x->done++;
}

static void on_trace(struct imclient *c, void *rock, int dir, const char *data, size_t len)
{
    (void)c;
    (void)data;
    struct ctx *x = rock;
    if (dir == 'S')
        x->plain_in += len;
    else
        x->plain_out += len;
}

static int open_ctx(struct ctx *x, const struct realenv_server *s, const char *host)
{
    memset(x, 0, sizeof *x);
    x->srv = s;
    if (imclient_connect(&x->c, host, s->port) != 0)
        return -1;
    imclient_addcallback(x->c, "", 0, on_untagged, x, "FETCH", CALLBACK_NUMBERED, on_fetch,
                         x, NULL);
    imclient_settrace(x->c, on_trace, x);
    for (int i = 0; i < 200 && !x->greeted; i++)
        if (imclient_processoneevent_timeout(x->c, 10000) < 0)
            break;
    return x->greeted ? 0 : -1;
}

static void close_ctx(struct ctx *x)
{
    if (x->c)
        imclient_close(x->c);
    x->c = NULL;
    imc_buf_free(&x->caps);
    imc_buf_free(&x->last_text);
    imc_buf_free(&x->fetched);
}

/* Send a command and wait for its completion; returns its keyword. */
static const char *run(struct ctx *x, const char *fmt, const char *a, const char *b)
{
    int want = x->done + 1;
    x->last_kw[0] = '\0';
    imclient_send(x->c, on_done, x, fmt, a, b);
    for (int i = 0; i < 100000 && x->done < want; i++)
        if (imclient_processoneevent_timeout(x->c, 10000) < 0)
            break;
    return x->done >= want ? x->last_kw : "(none)";
}

#define CHECK_RUN(x, want, fmt, a, b)                                          \
    do {                                                                       \
        const char *k_ = run(x, fmt, a, b);                                    \
        if (strcmp(k_, want) != 0) {                                           \
            check_fail(__FILE__, __LINE__, "[%s] %s: %s %s (error \"%s\")",    \
                       (x)->srv->name, fmt, k_, imc_buf_cstr(&(x)->last_text), \
                       imclient_error((x)->c));                                \
            close_ctx(x);                                                      \
            return;                                                            \
        }                                                                      \
    } while (0)

/* Bytes the kernel saw on the socket: received, and sent and acknowledged. */
static void wire_bytes(struct imclient *c, unsigned long long *in, unsigned long long *out)
{
    int fd, w;
    imclient_getselectinfo(c, &fd, &w);
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    *in = *out = 0;
    if (fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
        *in = ti.tcpi_bytes_received;
        *out = ti.tcpi_bytes_acked;
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ~300 KB of mail-like text. */
static void make_message(struct imc_buf *m)
{
    imc_buf_appendstr(m, "From: Compress Test <z@localhost>\r\nTo: alice@localhost\r\n"
                         "Subject: through deflate\r\n\r\n");
    for (int line = 0; line < 5400; line++) {
        char l[80];
        snprintf(l, sizeof l, "%05d pack my box with five dozen liquor jugs %08x\r\n", line,
                 (unsigned)(line * 2654435761u));
        imc_buf_appendstr(m, l);
    }
}

/* ---- the scenario ------------------------------------------------------- */

static void compressed_session(const struct realenv_server *s, int starttls)
{
    struct ctx x;
    const char *host = starttls ? "localhost" : "127.0.0.1";
    if (open_ctx(&x, s, host) < 0) {
        check_fail(__FILE__, __LINE__, "[%s] no greeting", s->name);
        close_ctx(&x);
        return;
    }
    if (starttls && imclient_starttls(x.c, NULL, NULL, (char *)ca_file, NULL) != 0) {
        check_fail(__FILE__, __LINE__, "[%s] STARTTLS: %s", s->name, imclient_error(x.c));
        close_ctx(&x);
        return;
    }
    CHECK_RUN(&x, "OK", "LOGIN %s %s", s->user, s->pass);
    CHECK_RUN(&x, "OK", "CAPABILITY", NULL, NULL);
    if (!strstr(imc_buf_cstr(&x.caps), "COMPRESS=DEFLATE")) {
        check_fail(__FILE__, __LINE__, "[%s] no COMPRESS=DEFLATE in \"%s\"", s->name,
                   imc_buf_cstr(&x.caps));
        close_ctx(&x);
        return;
    }
    unsigned long long wire_in0, wire_out0;
    wire_bytes(x.c, &wire_in0, &wire_out0);
    unsigned long long plain_in0 = x.plain_in, plain_out0 = x.plain_out;
    int r = imclient_compress(x.c);
    if (r != 0) {
        check_fail(__FILE__, __LINE__, "[%s] imclient_compress: %d (%s)", s->name, r,
                   imclient_error(x.c));
        close_ctx(&x);
        return;
    }
    /* A second one is refused here, before the server sees it, and the
     * connection stays usable. */
    CHECK_INT(imclient_compress(x.c), -1);
    CHECK(imclient_isopen(x.c));

    static int serial;
    char mailbox[80];
    snprintf(mailbox, sizeof mailbox, "imc z %ld-%ld-%d", (long)getpid(), (long)time(NULL),
             ++serial);
    struct imc_buf m;
    imc_buf_init(&m);
    make_message(&m);
    double t0 = now_s();
    CHECK_RUN(&x, "OK", "CREATE %s", mailbox, NULL);
    const char *appended = run(&x, "APPEND %s %s", mailbox, imc_buf_cstr(&m));
    const char *selected = run(&x, "SELECT %s", mailbox, NULL);
    x.fetched.len = 0;
    const char *fetched = run(&x, "FETCH 1 BODY.PEEK[]", NULL, NULL);
    double t1 = now_s();
    int same = x.fetched.len > m.len &&
               memcmp(x.fetched.data + x.fetched.len - m.len - 1, m.data, m.len) == 0 &&
               x.fetched.data[x.fetched.len - 1] == ')';
    unsigned long long wire_in1, wire_out1;
    wire_bytes(x.c, &wire_in1, &wire_out1);
    fprintf(stderr,
            "  [%s%s] %zu-byte message: plaintext out %llu / in %llu, wire out %llu / "
            "in %llu (%.1fx / %.1fx), round trip %.0f ms\n",
            s->name, starttls ? " over TLS" : "", m.len, x.plain_out - plain_out0,
            x.plain_in - plain_in0, wire_out1 - wire_out0, wire_in1 - wire_in0,
            (double)(x.plain_out - plain_out0) / (double)(wire_out1 - wire_out0 + 1),
            (double)(x.plain_in - plain_in0) / (double)(wire_in1 - wire_in0 + 1),
            (t1 - t0) * 1000);
    CHECK_RUN(&x, "OK", "CLOSE", NULL, NULL);
    CHECK_RUN(&x, "OK", "DELETE %s", mailbox, NULL);
    imc_buf_free(&m);
    if (wire_in1 > 0 && wire_out1 > 0) {
        CHECK(wire_out1 - wire_out0 < (x.plain_out - plain_out0) / 2);
        CHECK(wire_in1 - wire_in0 < (x.plain_in - plain_in0) / 2);
    }
    CHECK_STR(appended, "OK");
    CHECK_STR(selected, "OK");
    CHECK_STR(fetched, "OK");
    CHECK(same);
    CHECK_RUN(&x, "OK", "LOGOUT", NULL, NULL);
    close_ctx(&x);
}

static void plain(const struct realenv_server *s) { compressed_session(s, 0); }
static void over_starttls(const struct realenv_server *s)
{
    if (!ca_file) {
        fprintf(stderr, "  [%s] no IMC_CA_FILE: STARTTLS not tried\n", s->name);
        return;
    }
    compressed_session(s, 1);
}

static void dovecot_plain(void) { plain(&servers[0]); }
static void cyrus_plain(void) { plain(&servers[1]); }
static void dovecot_over_starttls(void) { over_starttls(&servers[0]); }
static void cyrus_over_starttls(void) { over_starttls(&servers[1]); }

int main(int argc, char **argv)
{
    ca_file = getenv("IMC_CA_FILE");
    if (ca_file && !*ca_file)
        ca_file = NULL;
    static const struct check_test all[] = {
        TEST(dovecot_plain), TEST(dovecot_over_starttls),
        TEST(cyrus_plain), TEST(cyrus_over_starttls),
    };
    servers = realenv_servers();
    return realenv_main(argc, argv, all, 2);
}
