/* The imclient façade against a scripted server: exact bytes on the wire,
 * the literal wait, completion exactly once, EOF, timeouts, connect codes. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "cyrus/imclient.h"
#include "fakeserver.h"
#include "replylog.h"
#include "util/buf.h"

static struct imclient *connect_to(struct fakeserver *fs)
{
    return open_logged("127.0.0.1", fake_port(fs));
}

#define SERVER_OK(fs) CHECK_SERVER(fake_wait, fs)

static void greeting_capability_logout(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n"),
        F_EXPECT("1 CAPABILITY\r\n"),
        F_SEND("* CAPABILITY IMAP4rev1 LITERAL+\r\n1 OK done\r\n"),
        F_EXPECT("2 LOGOUT\r\n"),
        F_SEND("* BYE bye\r\n2 OK bye\r\n"),
        F_CLOSE()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    CHECK_STR(imclient_servername(c), "127.0.0.1");
    imclient_send(c, finished, "cap", "CAPABILITY");
    run_until(c, 1);
    imclient_send(c, finished, "logout", "LOGOUT");
    run_until(c, 2);
    while (imclient_processoneevent_timeout(c, 2000) > 0)
        ;
    CHECK(!imclient_isopen(c));
    CHECK_STR(log_text(), "u|OK|-1|[CAPABILITY IMAP4rev1 LITERAL+] hi\n"
                          "u|CAPABILITY|-1|IMAP4rev1 LITERAL+\ncap|OK|-1|done\n"
                          "u|BYE|-1|bye\nlogout|OK|-1|bye\n");
    CHECK(strstr(imclient_error(c), "closed by") != NULL);
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

static void format_sequences_on_the_wire(void)
{
    reset();
    char *flags[] = { "\\Seen", "a b", "", NULL };
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 X 100% atom -3 4000000000 \"a b\" \"\" \"q\\\"\\\\\" (\"\\\\Seen\" \"a b\" \"\")\r\n"),
        F_SEND("1 OK\r\n")));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    imclient_send(c, finished, "x", "X 100%% %a %d %u %s %s %s (%v)", "atom", -3,
                  4000000000u, "a b", "", "q\"\\", flags);
    run_until(c, 1);
    CHECK_STR(log_text(), "u|OK|-1|hi\nx|OK|-1|\n");
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

static void literal_waits_for_continuation(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 LOGIN {5}\r\n"),
        F_SLEEP(100),
        F_SEND("+ go\r\n"),
        F_EXPECT("al\r\nx {2}\r\n"),
        F_SEND("+ \r\n"),
        F_EXPECT("p\n\r\n2 NOOP\r\n"),
        F_SEND("1 OK in\r\n2 OK\r\n")));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    imclient_send(c, finished, "login", "LOGIN %s %s", "al\r\nx", "p\n");
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 2);
    CHECK_STR(log_text(), "u|OK|-1|hi\nlogin|OK|-1|in\nnoop|OK|-1|\n");
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

static void no_instead_of_continuation(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 APPEND INBOX {11}\r\n"),
        F_SEND("1 NO [OVERQUOTA] too big\r\n"),
        F_EXPECT("2 NOOP\r\n"),
        F_SEND("2 OK\r\n"),
        F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    imclient_send(c, finished, "append", "APPEND INBOX %s", "hello\r\nbody");
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 2);
    CHECK_STR(log_text(), "u|OK|-1|hi\nappend|NO|-1|[OVERQUOTA] too big\nnoop|OK|-1|\n");
    imclient_close(c);
    SERVER_OK(fs);
    size_t n;
    const char *wire = fake_received(fs, &n);
    CHECK_BYTES(wire, n, "1 APPEND INBOX {11}\r\n2 NOOP\r\n");
    fake_free(fs);
}

static void nonsync_literal(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 LOGIN u {5+}\r\na\"b\r\n\r\n"),
        F_SEND("1 OK\r\n")));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    imclient_setflags(c, IMCLIENT_CONN_NONSYNCLITERAL);
    imclient_send(c, finished, "login", "LOGIN u %s", "a\"b\r\n");
    run_until(c, 1);
    imclient_clearflags(c, IMCLIENT_CONN_NONSYNCLITERAL);
    CHECK_STR(log_text(), "u|OK|-1|hi\nlogin|OK|-1|\n");
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

static void byte_at_a_time(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SLOW("* OK hi\r\n"),
        F_EXPECT("1 FETCH 1 BODY[]\r\n"),
        F_SLOW("* 1 FETCH (BODY[] {6}\r\nab\r\ncd FLAGS (\\Seen))\r\n1 OK\r\n")));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED, record, "f", NULL);
    imclient_send(c, finished, "fetch", "FETCH 1 %a", "BODY[]");
    run_until(c, 1);
    CHECK_STR(log_text(), "u|OK|-1|hi\nf|FETCH|1|(BODY[] {6}\r\nab\r\ncd FLAGS (\\Seen))\n"
                          "fetch|OK|-1|\n");
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

static void eof_to_every_pending_command(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 NOOP\r\n2 NOOP\r\n3 IDLE\r\n"),
        F_SEND("2 OK\r\n"),
        F_CLOSE()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    imclient_send(c, finished, "a", "NOOP");
    imclient_send(c, finished, "b", "NOOP");
    imclient_send(c, finished, "c", "IDLE");
    run_until(c, 3);
    CHECK_STR(log_text(), "u|OK|-1|hi\nb|OK|-1|\na|EOF|-1|\nc|EOF|-1|\n");
    CHECK_INT(imclient_processoneevent_timeout(c, 10), -1);
    /* Commands sent after the end complete at once, with EOF. */
    imclient_send(c, finished, "d", "NOOP");
    CHECK_INT(finished_count(), 4);
    imclient_close(c);
    CHECK_INT(finished_count(), 4);
    SERVER_OK(fs);
    fake_free(fs);
}

static void close_gives_eof_and_flushes_logout(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 NOOP\r\n2 LOGOUT\r\n"),
        F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    imclient_send(c, finished, "a", "NOOP");
    imclient_send(c, NULL, NULL, "LOGOUT");
    imclient_close(c);
    CHECK_STR(log_text(), "a|EOF|-1|\n");
    SERVER_OK(fs);
    fake_free(fs);
}

static void refused_format_never_reaches_the_wire(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("2 NOOP\r\n"),
        F_SEND("2 OK\r\n"),
        F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    imclient_send(c, finished, "bad", "SELECT %a", "INBOX\r\n2 DELETE x");
    CHECK_INT(finished_count(), 1);
    CHECK(strstr(imclient_error(c), "not an atom") != NULL);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 2);
    imclient_close(c);
    SERVER_OK(fs);
    size_t n;
    const char *wire = fake_received(fs, &n);
    CHECK_BYTES(wire, n, "2 NOOP\r\n");
    CHECK(strncmp(log_text(), "bad|BAD|-1|[CLIENTBUG]", 22) == 0);
    fake_free(fs);
}

static void command_timeout(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 NOOP\r\n"),
        F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    struct imclient_limits l = { 0, 0, 0, 300, 0 };
    imclient_setlimits(c, &l);
    /* Nothing pending: a bounded wait simply times out. */
    while (imclient_processoneevent_timeout(c, 50) == 1)
        ;
    CHECK_INT(imclient_processoneevent_timeout(c, 50), 0);
    CHECK(imclient_isopen(c));
    imclient_send(c, finished, "a", "NOOP");
    run_until(c, 1);
    CHECK(strstr(log_text(), "a|EOF|-1|") != NULL);
    CHECK(strstr(imclient_error(c), "timed out") != NULL);
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

static void getselectinfo_reports_socket(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    int fd = -1, ww = -1;
    imclient_getselectinfo(c, &fd, &ww);
    CHECK(fd >= 0);
    CHECK_INT(ww, 0);
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

static void connect_return_codes(void)
{
    struct imclient *c = (struct imclient *)1;
    /* An empty label: refused before any lookup, so no DNS server is asked
     * (test_connect_start has a name the DNS says does not exist). */
    CHECK_INT(imclient_connect(&c, "bad_host..invalid", "143"), -1);
    CHECK(c == NULL);
    CHECK_INT(imclient_connect(&c, "127.0.0.1", "no-such-service-xyz"), -2);
    /* A port nobody listens on: the errno of connect(). */
    struct fakeserver *fs = fake_start(FAKE(F_CLOSE()));
    char port[16];
    snprintf(port, sizeof port, "%s", fake_port(fs));
    struct imclient *tmp = NULL;
    CHECK_INT(imclient_connect(&tmp, "127.0.0.1", port), 0);
    imclient_close(tmp);
    char err[600];
    fake_wait(fs, err, sizeof err);
    fake_free(fs);
    CHECK_INT(imclient_connect(&c, "127.0.0.1", port), ECONNREFUSED);
    CHECK_INT(imclient_connect(&c, "::1", port), ECONNREFUSED);
}

/* A listener of our own, so the address family and the port are ours to
 * choose.  Returns the socket or -1; *port gets the port bound. */
static int listen_at(int family, const char *addr, int want_port, int *port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)want_port);
        inet_pton(AF_INET6, addr, &a->sin6_addr);
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)want_port);
        inet_pton(AF_INET, addr, &a->sin_addr);
        len = sizeof *a;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 4) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* Connect (the kernel completes it from the backlog), accept, greet, and
 * check the greeting arrives: the connection really reached our listener. */
static void greeted_through(int lfd, const char *host, const char *port)
{
    reset();
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, host, port), 0);
    int s = accept(lfd, NULL, NULL);
    CHECK(s >= 0);
    CHECK(write(s, "* OK here\r\n", 11) == 11);
    imclient_addcallback(c, "", 0, record, "u", NULL);
    for (int i = 0; i < 50 && strstr(log_text(), "here") == NULL; i++)
        if (imclient_processoneevent_timeout(c, 100) < 0)
            break;
    CHECK_STR(log_text(), "u|OK|-1|here\n");
    CHECK_STR(imclient_servername(c), host);
    imclient_close(c);
    close(s);
}

static void ipv6_literal(void)
{
    int port;
    int lfd = listen_at(AF_INET6, "::1", 0, &port);
    if (lfd < 0) {
        check_fail(__FILE__, __LINE__, "cannot listen on ::1");
        return;
    }
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    greeted_through(lfd, "::1", ps);
    close(lfd);
}

/* A service name is looked up ("imap" is 143): bind 143 on loopback (we run
 * as root in CI) and connect by name. */
static void service_names(void)
{
    int port;
    int lfd = listen_at(AF_INET, "127.0.0.1", 143, &port);
    if (lfd < 0) {
        check_fail(__FILE__, __LINE__, "cannot listen on 127.0.0.1:143 (%s)", strerror(errno));
        return;
    }
    greeted_through(lfd, "127.0.0.1", "imap");
    greeted_through(lfd, "127.0.0.1", "143");
    close(lfd);
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", "imapx-no-such"), -2);
}

/* A server that writes a lot without reading until it is done must not
 * deadlock a client that also has a lot to write. */
static void no_deadlock_when_both_sides_write(void)
{
    reset();
    enum { N = 20000 };
    static char flood[N * 16];
    size_t len = 0;
    for (int i = 0; i < N; i++)
        len += (size_t)sprintf(flood + len, "* %d EXISTS\r\n", i + 1);
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_SLEEP(200),
        F_SEND_BUF(flood, len),
        F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    static char big[200000];
    memset(big, 'x', sizeof big - 1);
    for (int i = 0; i < 40; i++)
        imclient_send(c, NULL, NULL, "X %a", big);
    int exists = 0;
    for (int i = 0; i < 100000 && strstr(log_text(), "|EXISTS|20000|") == NULL; i++) {
        if (imclient_processoneevent_timeout(c, 5000) <= 0)
            break;
        exists++;
    }
    CHECK(strstr(log_text(), "|EXISTS|20000|") != NULL);
    int fd, ww;
    imclient_getselectinfo(c, &fd, &ww);
    (void)exists;
    imclient_close(c);
    SERVER_OK(fs);
    size_t n;
    fake_received(fs, &n);
    CHECK(n > sizeof big);
    fake_free(fs);
}

/* A literal far larger than max_reply streams through in pieces: every
 * byte arrives, in order, and the reply callback gets the text without it. */
struct sink {
    unsigned long long bytes, size, pieces;
    uint32_t sum;
    int misordered;
};

static void sink_piece(struct imclient *c, void *rock, const struct imclient_literal *p)
{
    (void)c;
    struct sink *k = rock;
    if (p->offset != k->bytes || p->msgno != 1)
        k->misordered = 1;
    for (size_t i = 0; i < p->len; i++)
        k->sum = k->sum * 31 + (unsigned char)p->data[i];
    k->bytes += p->len;
    k->size = p->size;
    k->pieces++;
}

static void streamed_literal_beyond_max_reply(void)
{
    reset();
    enum { SIZE = 8 << 20 };
    char *resp = malloc(SIZE + 128);
    size_t n = (size_t)sprintf(resp, "* 1 FETCH (BODY[] {%d}\r\n", SIZE);
    uint32_t want = 0;
    for (size_t i = 0; i < SIZE; i++) {
        resp[n + i] = (char)('a' + i % 23);
        want = want * 31 + (unsigned char)resp[n + i];
    }
    n += SIZE;
    n += (size_t)sprintf(resp + n, " UID 5)\r\n1 OK done\r\n");
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 FETCH 1 BODY[]\r\n"),
        F_SEND_BUF(resp, n),
        F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    struct imclient_limits l = { 0, 0, 1 << 20, 0, 0 };
    imclient_setlimits(c, &l);
    struct sink k = { 0, 0, 0, 0, 0 };
    imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED, record, "f", NULL);
    imclient_addliteralcallback(c, "FETCH", CALLBACK_NUMBERED, sink_piece, &k);
    imclient_send(c, finished, "fetch", "FETCH 1 %a", "BODY[]");
    run_until(c, 1);
    char head[64];
    snprintf(head, sizeof head, "f|FETCH|1|(BODY[] {%d}\r\n UID 5)\n", SIZE);
    CHECK(strstr(log_text(), head) != NULL);
    CHECK(strstr(log_text(), "fetch|OK|-1|done\n") != NULL);
    CHECK(k.bytes == SIZE && k.size == SIZE);
    CHECK(k.sum == want);
    CHECK(!k.misordered);
    CHECK(k.pieces > 1);
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
    free(resp);
}

static void *thread_main(void *arg)
{
    struct fakeserver *fs = arg;
    struct imclient *c = NULL;
    if (imclient_connect(&c, "127.0.0.1", fake_port(fs)) != 0)
        return (void *)1;
    int ok = 0;
    for (int i = 0; i < 50; i++)
        imclient_send(c, NULL, NULL, "NOOP");
    imclient_send(c, NULL, NULL, "LOGOUT");
    for (int i = 0; i < 1000 && imclient_processoneevent_timeout(c, 2000) > 0; i++)
        ok++;
    imclient_close(c);
    return (void *)(intptr_t)(ok > 0 ? 0 : 1);
}

static void two_connections_two_threads(void)
{
    char script[2][8192];
    struct fakeserver *fs[2];
    for (int k = 0; k < 2; k++) {
        size_t len = 0;
        for (int i = 1; i <= 50; i++)
            len += (size_t)sprintf(script[k] + len, "%d OK\r\n", i);
        len += (size_t)sprintf(script[k] + len, "* BYE\r\n51 OK\r\n");
        fs[k] = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_EXPECT("1 NOOP\r\n2 NOOP\r\n"),
                                F_SEND_BUF(script[k], len), F_DRAIN()));
    }
    pthread_t t[2];
    for (int k = 0; k < 2; k++)
        pthread_create(&t[k], NULL, thread_main, fs[k]);
    for (int k = 0; k < 2; k++) {
        void *r;
        pthread_join(t[k], &r);
        CHECK(r == NULL);
        char err[600];
        CHECK(fake_wait(fs[k], err, sizeof err) == 0);
        size_t n;
        const char *wire = fake_received(fs[k], &n);
        CHECK(n > 50 * 8);
        CHECK(memcmp(wire, "1 NOOP\r\n2 NOOP\r\n", 16) == 0);
        fake_free(fs[k]);
    }
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(greeting_capability_logout), TEST(format_sequences_on_the_wire),
        TEST(literal_waits_for_continuation), TEST(no_instead_of_continuation),
        TEST(nonsync_literal), TEST(byte_at_a_time), TEST(eof_to_every_pending_command),
        TEST(close_gives_eof_and_flushes_logout), TEST(refused_format_never_reaches_the_wire),
        TEST(command_timeout), TEST(getselectinfo_reports_socket),
        TEST(connect_return_codes), TEST(ipv6_literal), TEST(service_names),
        TEST(no_deadlock_when_both_sides_write), TEST(streamed_literal_beyond_max_reply), TEST(two_connections_two_threads),
    };
    int r = check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
    reset();
    return r;
}
