/*
 * imclient_connect_start(): the connection made while the application's
 * loop runs, against scripted IMAP servers and DNS servers of the test's
 * own (tests/support/dnsfake.h).  Internal options (src/connect.h) give the
 * attempt its DNS servers and timeout; nothing here asks the system's DNS.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "connect.h"
#include "cyrus/imclient.h"
#include "dnsfake.h"
#include "fakeserver.h"
#include "listener.h"
#include "replylog.h"
#include "util/clock.h"

#define SERVER_OK(fs) CHECK_SERVER(fake_wait, fs)

/* One attempt as the application sees it. */
struct attempt {
    struct imclient *c;
    int calls;   /* done ran this often */
    int result;  /* with this, the last time */
    int wrong;   /* done got another connection than ours */
    int want;    /* what the test expects */
    long took;   /* ms from start to done */
    long t0;
    int close_in_done;
    const char *send_in_done;
};

static void on_done(struct imclient *c, void *rock, int result)
{
    struct attempt *a = rock;
    if (a->c && a->c != c)
        a->wrong = 1;
    a->calls++;
    a->result = result;
    a->took = imc_now_ms() - a->t0;
    mark(result == 0 ? "connected" : "failed");
    if (a->send_in_done)
        imclient_send(c, finished, (void *)"indone", "%a", a->send_in_done);
    if (a->close_in_done)
        imclient_close(c);
}

static int start(struct attempt *a, const char *host, const char *port, int timeout_ms,
                 const char *dns)
{
    struct imc_dial_options o = { timeout_ms, dns };
    a->t0 = imc_now_ms();
    a->c = NULL;
    return imc_connect_start(&a->c, host, port, on_done, a, &o);
}

/*
 * One poll loop for all the attempts, as an application's: what to wait
 * for and on which descriptor is asked anew every round (it changes once
 * connected), each connection's timeout bounds the wait.  Runs until every
 * attempt has its outcome, or bound_ms.
 */
static void drive_all(struct attempt *a, int n, int bound_ms)
{
    long end = imc_now_ms() + bound_ms;
    for (;;) {
        struct pollfd p[64];
        int idx[64], k = 0, wait = -1;
        for (int i = 0; i < n && k < 64; i++) {
            if (a[i].calls || !a[i].c)
                continue;
            int fd, ms;
            int ev = imclient_wants(a[i].c, &fd, &ms);
            if (fd < 0)
                continue;
            p[k] = (struct pollfd){ fd, 0, 0 };
            p[k].events = (short)((ev & IMCLIENT_EV_READ ? POLLIN : 0) |
                                  (ev & IMCLIENT_EV_WRITE ? POLLOUT : 0));
            idx[k++] = i;
            if (ms >= 0 && (wait < 0 || ms < wait))
                wait = ms;
        }
        long left = end - imc_now_ms();
        if (k == 0 || left <= 0)
            return;
        if (wait < 0 || wait > left)
            wait = (int)left;
        poll(p, (nfds_t)k, wait);
        for (int j = 0; j < k; j++) {
            int ev = (p[j].revents & (POLLIN | POLLHUP | POLLERR) ? IMCLIENT_EV_READ : 0) |
                     (p[j].revents & POLLOUT ? IMCLIENT_EV_WRITE : 0);
            /* 0 too: a timer may be due; handling nothing is harmless. */
            imclient_handle_events(a[idx[j]].c, ev);
        }
    }
}

/* Connected by address; a command queued before the connection exists is
 * written first, one sent from done follows, the greeting and the replies
 * arrive as usual.  Meanwhile the loop is asked to read one descriptor,
 * with no timeout and no wish to write, and that descriptor is not the
 * socket's. */
static void queued_commands_go_once_connected(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 NOOP\r\n2 CAPABILITY\r\n"),
        F_SEND("* CAPABILITY IMAP4rev1\r\n1 OK noop done\r\n2 OK cap done\r\n"),
        F_DRAIN()));
    struct attempt a = { 0 };
    a.send_in_done = "CAPABILITY";
    CHECK_INT(start(&a, "127.0.0.1", fake_port(fs), 5000, NULL), 0);
    CHECK(a.c != NULL);
    imclient_addcallback(a.c, "", 0, record, "u", NULL);
    imclient_send(a.c, finished, (void *)"noop", "NOOP");
    CHECK_INT(finished_count(), 0); /* queued, not refused */
    CHECK_INT(a.calls, 0);          /* never from inside the start */
    CHECK(imclient_isopen(a.c));

    int fd0, ms, wtw, sfd;
    CHECK_INT(imclient_wants(a.c, &fd0, &ms), IMCLIENT_EV_READ);
    CHECK_INT(ms, -1);
    imclient_getselectinfo(a.c, &sfd, &wtw);
    CHECK_INT(sfd, fd0);
    CHECK_INT(wtw, 0);

    run_until(a.c, 2);
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.result, 0);
    CHECK_INT(a.wrong, 0);
    CHECK_STR(log_text(), "connected\nu|OK|-1|hi\nu|CAPABILITY|-1|IMAP4rev1\n"
                          "noop|OK|-1|noop done\nindone|OK|-1|cap done\n");
    int fd1;
    imclient_wants(a.c, &fd1, &ms);
    CHECK(fd1 >= 0);
    CHECK(fd1 != fd0);
    imclient_close(a.c);
    CHECK_INT(a.calls, 1);
    SERVER_OK(fs);
    fake_free(fs);
}

/* "localhost" through the full path, /etc/hosts read and DNS never
 * asked; and by the public function, with the system's configuration. */
static void localhost_from_hosts_file(void)
{
    reset();
    struct dnsfake *dead = dnsfake_start(NULL, NULL);
    CHECK(dead != NULL);
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_DRAIN()));
    struct attempt a = { 0 };
    CHECK_INT(start(&a, "localhost", fake_port(fs), 5000, dead->servers), 0);
    imclient_addcallback(a.c, "", 0, record, "u", NULL);
    for (int i = 0; i < 100 && !strstr(log_text(), "hi"); i++)
        if (imclient_processoneevent_timeout(a.c, 1000) < 0)
            break;
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.result, 0);
    CHECK_STR(log_text(), "connected\nu|OK|-1|hi\n");
    CHECK_STR(imclient_servername(a.c), "localhost");
    CHECK_INT(dnsfake_queries(dead), 0);
    imclient_close(a.c);
    SERVER_OK(fs);
    fake_free(fs);
    dnsfake_stop(dead);

    reset();
    fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_DRAIN()));
    struct attempt b = { 0 };
    b.t0 = imc_now_ms();
    CHECK_INT(imclient_connect_start(&b.c, "localhost", fake_port(fs), on_done, &b), 0);
    drive_all(&b, 1, 5000);
    CHECK_INT(b.calls, 1);
    CHECK_INT(b.result, 0);
    imclient_close(b.c);
    SERVER_OK(fs);
    fake_free(fs);
}

/* A DNS server that never answers: done gets ETIMEDOUT at the timeout,
 * the command queued meanwhile EOF, the reason says what happened. */
static void dead_dns_fails_within_timeout(void)
{
    reset();
    struct dnsfake *dead = dnsfake_start(NULL, NULL);
    CHECK(dead != NULL);
    struct attempt a = { 0 };
    CHECK_INT(start(&a, "mail.imc-test", "143", 500, dead->servers), 0);
    imclient_send(a.c, finished, (void *)"login", "LOGIN %s %s", "alice", "secret");
    drive_all(&a, 1, 5000);
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.result, ETIMEDOUT);
    CHECK(a.took >= 490);
    CHECK(a.took < 2000);
    CHECK_STR(log_text(), "login|EOF|-1|\nfailed\n");
    CHECK_STR(imclient_error(a.c),
              "resolving mail.imc-test: no answer from the DNS servers within 500 ms");
    CHECK(!imclient_isopen(a.c));
    CHECK(dnsfake_queries(dead) >= 1);
    int fd, ms;
    CHECK_INT(imclient_wants(a.c, &fd, &ms), 0);
    CHECK_INT(fd, -1);
    CHECK_INT(imclient_handle_events(a.c, 0), -1);
    imclient_close(a.c);
    CHECK_INT(a.calls, 1);
    dnsfake_stop(dead);
}

/* A name only the scripted DNS server knows. */
static void scripted_dns_connects(void)
{
    reset();
    static const char *const addrs[] = { "127.0.0.1", NULL };
    struct dnsfake *dns = dnsfake_start("imap.imc-test", addrs);
    CHECK(dns != NULL);
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK scripted\r\n"), F_DRAIN()));
    struct attempt a = { 0 };
    CHECK_INT(start(&a, "imap.imc-test", fake_port(fs), 5000, dns->servers), 0);
    imclient_addcallback(a.c, "", 0, record, "u", NULL);
    for (int i = 0; i < 100 && !strstr(log_text(), "scripted"); i++)
        if (imclient_processoneevent_timeout(a.c, 1000) < 0)
            break;
    CHECK_STR(log_text(), "connected\nu|OK|-1|scripted\n");
    CHECK_INT(a.calls, 1);
    CHECK_STR(imclient_servername(a.c), "imap.imc-test");
    imclient_close(a.c);
    SERVER_OK(fs);
    fake_free(fs);
    dnsfake_stop(dns);
}

/* What is known at once is returned at once; done never runs. */
static void known_at_once(void)
{
    struct attempt a = { 0 };
    a.c = (struct imclient *)1;
    CHECK_INT(imclient_connect_start(&a.c, "127.0.0.1", "no-such-service-xyz", on_done, &a),
              -2);
    CHECK(a.c == NULL);
    CHECK_INT(imclient_connect_start(&a.c, "☃.example", "143", on_done, &a), -1);
    CHECK(a.c == NULL);
    CHECK_INT(imclient_connect_start(&a.c, NULL, "143", on_done, &a), -1);
    CHECK(a.c == NULL);
    CHECK_INT(a.calls, 0);
}

/* A refused connection and an unknown name go through done, not back
 * from the start. */
static void refused_and_unknown_through_done(void)
{
    reset();
    char port[16];
    int lfd = listen_loopback(4, port, sizeof port);
    CHECK(lfd >= 0);
    close(lfd);
    struct attempt a = { 0 };
    CHECK_INT(imclient_connect_start(&a.c, "127.0.0.1", port, on_done, &a), 0);
    drive_all(&a, 1, 5000);
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.result, ECONNREFUSED);
    char want[100];
    snprintf(want, sizeof want, "connecting to 127.0.0.1 port %s: Connection refused", port);
    CHECK_STR(imclient_error(a.c), want);
    imclient_close(a.c);

    static const char *const addrs[] = { "127.0.0.1", NULL };
    struct dnsfake *dns = dnsfake_start("imap.imc-test", addrs);
    CHECK(dns != NULL);
    struct attempt b = { 0 };
    CHECK_INT(start(&b, "nothere.imc-test", "143", 5000, dns->servers), 0);
    drive_all(&b, 1, 5000);
    CHECK_INT(b.calls, 1);
    CHECK_INT(b.result, -1);
    CHECK_STR(imclient_error(b.c), "unknown host \"nothere.imc-test\": Domain name not found");
    imclient_close(b.c);
    dnsfake_stop(dns);
}

/* Many attempts of every kind in one poll loop: each done runs exactly
 * once, with its own outcome, and none waits for another. */
static void many_in_parallel(void)
{
    enum { N = 36 };
    reset();
    static const char *const addrs[] = { "127.0.0.1", NULL };
    struct dnsfake *dns = dnsfake_start("imap.imc-test", addrs);
    struct dnsfake *dead = dnsfake_start(NULL, NULL);
    CHECK(dns && dead);
    char open_port[16], closed_port[16];
    int lfd = listen_loopback(64, open_port, sizeof open_port);
    CHECK(lfd >= 0);
    int cfd = listen_loopback(4, closed_port, sizeof closed_port);
    CHECK(cfd >= 0);
    close(cfd);
    struct attempt a[N];
    memset(a, 0, sizeof a);
    for (int i = 0; i < N; i++) {
        int r = -99;
        switch (i % 6) {
        case 0:
            r = start(&a[i], "127.0.0.1", open_port, 5000, NULL);
            a[i].want = 0;
            break;
        case 1:
            r = start(&a[i], "localhost", open_port, 5000, dead->servers);
            a[i].want = 0;
            break;
        case 2:
            r = start(&a[i], "imap.imc-test", open_port, 5000, dns->servers);
            a[i].want = 0;
            break;
        case 3:
            r = start(&a[i], "127.0.0.1", closed_port, 5000, NULL);
            a[i].want = ECONNREFUSED;
            break;
        case 4:
            r = start(&a[i], "mail.imc-test", open_port, 300, dead->servers);
            a[i].want = ETIMEDOUT;
            break;
        case 5:
            r = start(&a[i], "other.imc-test", open_port, 5000, dns->servers);
            a[i].want = -1;
            break;
        }
        CHECK_INT(r, 0);
    }
    long t0 = imc_now_ms();
    drive_all(a, N, 5000);
    CHECK(imc_now_ms() - t0 < 3000);
    /* More rounds change nothing: done ran once. */
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < N; i++)
            if (imclient_isopen(a[i].c))
                imclient_processoneevent_timeout(a[i].c, 0);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        if (a[i].calls != 1 || a[i].result != a[i].want || a[i].wrong) {
            fprintf(stderr, "  attempt %d: %d calls, result %d, want %d: %s\n", i, a[i].calls,
                    a[i].result, a[i].want, imclient_error(a[i].c));
            bad++;
        }
        CHECK_INT(imclient_isopen(a[i].c), a[i].want == 0);
        imclient_close(a[i].c);
    }
    CHECK_INT(bad, 0);
    close(lfd);
    dnsfake_stop(dns);
    dnsfake_stop(dead);
}

/* Closing while the attempt runs: done runs once, from the close, with
 * ECANCELED; the queued command gets EOF; the close does not wait for
 * output that has nowhere to go. */
static void close_while_connecting(void)
{
    reset();
    struct dnsfake *dead = dnsfake_start(NULL, NULL);
    CHECK(dead != NULL);
    struct attempt a = { 0 };
    CHECK_INT(start(&a, "mail.imc-test", "143", 5000, dead->servers), 0);
    imclient_send(a.c, finished, (void *)"noop", "NOOP");
    imclient_processoneevent_timeout(a.c, 50);
    long t0 = imc_now_ms();
    imclient_close(a.c);
    CHECK(imc_now_ms() - t0 < 500);
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.result, ECANCELED);
    CHECK_STR(log_text(), "noop|EOF|-1|\nfailed\n");
    dnsfake_stop(dead);
}

/* done may close the connection, whatever the outcome: the close happens
 * when done returns, and the loop is told the connection is gone. */
static void close_from_done(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(F_DRAIN()));
    struct attempt a = { 0 };
    a.close_in_done = 1;
    CHECK_INT(start(&a, "127.0.0.1", fake_port(fs), 5000, NULL), 0);
    int r = 0;
    for (int i = 0; i < 100 && r >= 0; i++)
        r = imclient_processoneevent_timeout(a.c, 1000);
    CHECK_INT(r, -1);
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.result, 0);
    SERVER_OK(fs);
    fake_free(fs);

    char port[16];
    int lfd = listen_loopback(4, port, sizeof port);
    CHECK(lfd >= 0);
    close(lfd);
    struct attempt b = { 0 };
    b.close_in_done = 1;
    CHECK_INT(start(&b, "127.0.0.1", port, 5000, NULL), 0);
    int fd, ms;
    imclient_wants(b.c, &fd, &ms);
    struct pollfd p = { fd, POLLIN, 0 };
    CHECK(poll(&p, 1, 5000) == 1);
    CHECK_INT(imclient_handle_events(b.c, IMCLIENT_EV_READ), -1);
    CHECK_INT(b.calls, 1);
    CHECK_INT(b.result, ECONNREFUSED);
}

/* An exchange that starts a layer cannot run before there is a
 * connection; the attempt goes on unharmed. */
static void layers_wait_for_the_connection(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_DRAIN()));
    struct attempt a = { 0 };
    CHECK_INT(start(&a, "127.0.0.1", fake_port(fs), 5000, NULL), 0);
    struct attempt z = { 0 };
    CHECK_INT(imclient_compress_start(a.c, on_done, &z), -1);
    CHECK(strstr(imclient_error(a.c), "the connection attempt is running") != NULL);
    drive_all(&a, 1, 5000);
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.result, 0);
    CHECK_INT(z.calls, 0);
    imclient_close(a.c);
    SERVER_OK(fs);
    fake_free(fs);
}

/* The blocking form is the same attempt run by the built-in loop: bounded
 * by the same timeout, the page's codes, the connection freed on failure. */
static void blocking_form(void)
{
    struct dnsfake *dead = dnsfake_start(NULL, NULL);
    CHECK(dead != NULL);
    struct imc_dial_options o = { 400, dead->servers };
    struct imclient *c = (struct imclient *)1;
    long t0 = imc_now_ms();
    CHECK_INT(imc_connect(&c, "mail.imc-test", "143", &o), ETIMEDOUT);
    CHECK(c == NULL);
    CHECK(imc_now_ms() - t0 < 2000);
    CHECK_INT(imc_connect(&c, "mail.imc-test", "no-such-service-xyz", &o), -2);
    struct fakeserver *fs = fake_start(FAKE(F_EXPECT("1 NOOP\r\n"), F_SEND("1 OK\r\n")));
    CHECK_INT(imc_connect(&c, "localhost", fake_port(fs), &o), 0);
    CHECK(c != NULL);
    reset();
    imclient_send(c, finished, (void *)"noop", "NOOP");
    run_until(c, 1);
    CHECK_STR(log_text(), "noop|OK|-1|\n");
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
    dnsfake_stop(dead);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(queued_commands_go_once_connected),
        TEST(localhost_from_hosts_file),
        TEST(dead_dns_fails_within_timeout),
        TEST(scripted_dns_connects),
        TEST(known_at_once),
        TEST(refused_and_unknown_through_done),
        TEST(many_in_parallel),
        TEST(close_while_connecting),
        TEST(close_from_done),
        TEST(layers_wait_for_the_connection),
        TEST(blocking_form),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
