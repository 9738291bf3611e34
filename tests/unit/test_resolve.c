/*
 * Name lookup through c-ares and the connection attempt around it
 * (src/transport/resolve.c, dial.c), against DNS servers of the test's
 * own on 127.0.0.1 (tests/support/dnsfake.h): one that never answers, one
 * that answers from a script.  Nothing here asks the system's DNS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "dnsfake.h"
#include "listener.h"
#include "transport/dial.h"
#include "transport/resolve.h"
#include "util/clock.h"

/* Run an attempt to its end the way an event loop would: wait for its one
 * descriptor, never with a timeout of our own below bound_ms (a bound
 * against hanging, not a timer the attempt relies on).  Returns the
 * outcome, or -100 if the descriptor stayed silent for bound_ms. */
static int drive(struct imc_dial *d, int bound_ms, char *err, size_t errlen)
{
    int r;
    while ((r = imc_dial_step(d, err, errlen)) == IMC_DIAL_MORE) {
        struct pollfd p = { imc_dial_fd(d), POLLIN, 0 };
        int n = poll(&p, 1, bound_ms);
        if (n == 0) {
            snprintf(err, errlen, "the attempt's descriptor stayed silent for %d ms",
                     bound_ms);
            return -100;
        }
    }
    return r;
}

static int dial(const char *host, const char *port, int timeout_ms, const char *servers,
                struct imc_dial **d, char *err, size_t errlen)
{
    struct imc_dial_options o = { timeout_ms, servers };
    return imc_dial_start(d, host, port, &o, err, errlen);
}

/* The outcome of a connect by name: 0 once the listener has the
 * connection; the attempt's result otherwise. */
static int connect_by_name(const char *host, const char *servers, int lfd,
                           const char *port, char *err, size_t errlen)
{
    struct imc_dial *d;
    int r = dial(host, port, 5000, servers, &d, err, errlen);
    if (r != 0)
        return r;
    r = drive(d, 10000, err, errlen);
    if (r == 0) {
        int fd = imc_dial_take_socket(d);
        int peer = accept_within(lfd, 5000);
        if (peer < 0) {
            snprintf(err, errlen, "connected, but not to our listener");
            r = -101;
        } else {
            close(peer);
        }
        close(fd);
    }
    imc_dial_free(d);
    return r;
}

/* "localhost" comes from /etc/hosts: c-ares reads it before DNS, so a DNS
 * server that never answers is never asked. */
static void hosts_file_needs_no_dns(void)
{
    struct dnsfake *dead = dnsfake_start(NULL, NULL);
    CHECK(dead != NULL);
    char port[16], err[300] = "";
    int lfd = listen_loopback(4, port, sizeof port);
    CHECK(lfd >= 0);
    long t0 = imc_now_ms();
    int r = connect_by_name("localhost", dead->servers, lfd, port, err, sizeof err);
    if (r != 0)
        fprintf(stderr, "  %s\n", err);
    CHECK_INT(r, 0);
    CHECK(imc_now_ms() - t0 < 1000);
    CHECK_INT(dnsfake_queries(dead), 0);
    close(lfd);
    dnsfake_stop(dead);
}

/* The resolver alone: the address from /etc/hosts, with the port set. */
static void hosts_file_address_and_port(void)
{
    struct dnsfake *dead = dnsfake_start(NULL, NULL);
    CHECK(dead != NULL);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    CHECK(epfd >= 0);
    struct imc_resolve *r;
    char err[300] = "";
    CHECK_INT(imc_resolve_start(&r, "localhost", 1234, epfd, dead->servers, err, sizeof err),
              0);
    int result = 99;
    const struct imc_addr *a;
    size_t n;
    for (int i = 0; i < 100 && !imc_resolve_outcome(r, &result, &a, &n, err, sizeof err); i++) {
        struct epoll_event ev;
        if (epoll_wait(epfd, &ev, 1, 20) == 1)
            imc_resolve_process(r, ev.data.fd, ev.events);
        else
            imc_resolve_process(r, -1, 0);
    }
    CHECK_INT(result, 0);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i].sa.ss_family != AF_INET)
            continue;
        const struct sockaddr_in *s = (const struct sockaddr_in *)&a[i].sa;
        CHECK_INT(ntohs(s->sin_port), 1234);
        CHECK_INT(a[i].len, sizeof *s);
        found += s->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    }
    CHECK_INT(found, 1);
    imc_resolve_free(r);
    close(epfd);
    dnsfake_stop(dead);
}

/* A DNS server that never answers: the attempt ends at its timeout, with
 * ETIMEDOUT and a reason, woken by its own descriptor (the timer is in
 * the epoll set). */
static void dead_dns_times_out(void)
{
    struct dnsfake *dead = dnsfake_start(NULL, NULL);
    CHECK(dead != NULL);
    struct imc_dial *d;
    char err[300] = "";
    long t0 = imc_now_ms();
    CHECK_INT(dial("mail.imc-test", "143", 700, dead->servers, &d, err, sizeof err), 0);
    int r = drive(d, 5000, err, sizeof err);
    long took = imc_now_ms() - t0;
    /* Asked again, the outcome is the same. */
    char again[300] = "";
    int r2 = imc_dial_step(d, again, sizeof again);
    imc_dial_free(d);
    CHECK_INT(r, ETIMEDOUT);
    CHECK_STR(err, "resolving mail.imc-test: no answer from the DNS servers within 700 ms");
    CHECK_INT(r2, ETIMEDOUT);
    CHECK_STR(again, err);
    CHECK(took >= 690);
    CHECK(took < 2000);
    /* It was our server that was asked, and kept silent. */
    CHECK(dnsfake_queries(dead) >= 1);
    dnsfake_stop(dead);
}

/* A lookup still running when the attempt is dropped: its sockets close,
 * nothing is left to call back (ASan would see a use after free). */
static void dropped_while_resolving(void)
{
    struct dnsfake *dead = dnsfake_start(NULL, NULL);
    CHECK(dead != NULL);
    for (int i = 0; i < 20; i++) {
        struct imc_dial *d;
        char err[300] = "";
        CHECK_INT(dial("mail.imc-test", "143", 5000, dead->servers, &d, err, sizeof err), 0);
        CHECK_INT(imc_dial_step(d, err, sizeof err), IMC_DIAL_MORE);
        imc_dial_free(d);
    }
    dnsfake_stop(dead);
}

/* A DNS server that answers: the made-up name's address is connected to. */
static void scripted_dns_answers(void)
{
    static const char *const addrs[] = { "127.0.0.1", NULL };
    struct dnsfake *dns = dnsfake_start("mail.imc-test", addrs);
    CHECK(dns != NULL);
    char port[16], err[300] = "", last[256];
    int lfd = listen_loopback(4, port, sizeof port);
    CHECK(lfd >= 0);
    int r = connect_by_name("mail.imc-test", dns->servers, lfd, port, err, sizeof err);
    if (r != 0)
        fprintf(stderr, "  %s\n", err);
    CHECK_INT(r, 0);
    CHECK(dnsfake_queries(dns) >= 1);
    dnsfake_last(dns, last, sizeof last);
    CHECK_STR(last, "mail.imc-test");
    close(lfd);
    dnsfake_stop(dns);
}

/* NXDOMAIN: an unknown host, -1, with the resolver's words. */
static void nxdomain_is_unknown_host(void)
{
    static const char *const addrs[] = { "127.0.0.1", NULL };
    struct dnsfake *dns = dnsfake_start("mail.imc-test", addrs);
    CHECK(dns != NULL);
    struct imc_dial *d;
    char err[300] = "";
    CHECK_INT(dial("other.imc-test", "143", 5000, dns->servers, &d, err, sizeof err), 0);
    int r = drive(d, 10000, err, sizeof err);
    imc_dial_free(d);
    CHECK_INT(r, -1);
    CHECK_STR(err, "unknown host \"other.imc-test\": Domain name not found");
    dnsfake_stop(dns);
}

/* A Unicode name goes to DNS as its A-label. */
static void unicode_name_asks_alabel(void)
{
    static const char *const addrs[] = { "127.0.0.1", NULL };
    struct dnsfake *dns = dnsfake_start("xn--bcher-kva.imc-test", addrs);
    CHECK(dns != NULL);
    char port[16], err[300] = "", last[256];
    int lfd = listen_loopback(4, port, sizeof port);
    CHECK(lfd >= 0);
    int r = connect_by_name("bücher.imc-test", dns->servers, lfd, port, err, sizeof err);
    if (r != 0)
        fprintf(stderr, "  %s\n", err);
    CHECK_INT(r, 0);
    dnsfake_last(dns, last, sizeof last);
    CHECK_STR(last, "xn--bcher-kva.imc-test");
    close(lfd);
    dnsfake_stop(dns);
}

/* Listen on addr:port (port 0: any); the socket, or -1. */
static int listen_on(const char *addr, int port, int backlog, int *bound)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, addr, &a.sin_addr);
    socklen_t alen = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, backlog) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

/* Each address in turn: the first refuses, the second takes the
 * connection. */
static void next_address_after_refusal(void)
{
    static const char *const addrs[] = { "127.0.0.2", "127.0.0.1", NULL };
    struct dnsfake *dns = dnsfake_start("two.imc-test", addrs);
    CHECK(dns != NULL);
    char port[16], err[300] = "";
    int lfd = listen_loopback(4, port, sizeof port);
    CHECK(lfd >= 0);
    int r = connect_by_name("two.imc-test", dns->servers, lfd, port, err, sizeof err);
    if (r != 0)
        fprintf(stderr, "  %s\n", err);
    CHECK_INT(r, 0);
    close(lfd);
    dnsfake_stop(dns);
}

/* Each address has its own timeout: one that never completes the
 * handshake (a listener whose backlog is full drops SYNs) is given up
 * after it, and the next one connects. */
static void next_address_after_timeout(void)
{
    static const char *const addrs[] = { "127.0.0.2", "127.0.0.1", NULL };
    struct dnsfake *dns = dnsfake_start("slow.imc-test", addrs);
    CHECK(dns != NULL);
    int port;
    int good = listen_on("127.0.0.1", 0, 4, &port);
    CHECK(good >= 0);
    int p2;
    int hole = listen_on("127.0.0.2", port, 0, &p2);
    CHECK(hole >= 0);
    /* Fill the black hole's queue. */
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
    int filler[2];
    for (int i = 0; i < 2; i++) {
        filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        connect(filler[i], (struct sockaddr *)&a, sizeof a);
    }
    usleep(100 * 1000);

    char ps[16], err[300] = "";
    snprintf(ps, sizeof ps, "%d", port);
    struct imc_dial *d;
    long t0 = imc_now_ms();
    CHECK_INT(dial("slow.imc-test", ps, 600, dns->servers, &d, err, sizeof err), 0);
    int r = drive(d, 5000, err, sizeof err);
    long took = imc_now_ms() - t0;
    if (r != 0)
        fprintf(stderr, "  %s\n", err);
    CHECK_INT(r, 0);
    int fd = imc_dial_take_socket(d);
    imc_dial_free(d);
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    CHECK(getpeername(fd, (struct sockaddr *)&peer, &plen) == 0);
    CHECK(peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    CHECK(took >= 590);
    CHECK(took < 3000);
    close(fd);
    for (int i = 0; i < 2; i++)
        close(filler[i]);
    close(hole);
    close(good);
    dnsfake_stop(dns);
}

/* All addresses failing: the last one's errno and the page's reason. */
static void refused(void)
{
    char port[16], err[300] = "";
    int lfd = listen_loopback(4, port, sizeof port);
    CHECK(lfd >= 0);
    close(lfd); /* nobody listens there now */
    struct imc_dial *d;
    CHECK_INT(dial("127.0.0.1", port, 5000, NULL, &d, err, sizeof err), 0);
    int r = drive(d, 5000, err, sizeof err);
    imc_dial_free(d);
    CHECK_INT(r, ECONNREFUSED);
    char want[100];
    snprintf(want, sizeof want, "connecting to 127.0.0.1 port %s: Connection refused", port);
    CHECK_STR(err, want);
}

/* What is known at once is said at once, with no attempt made. */
static void known_at_once(void)
{
    struct imc_dial *d = (struct imc_dial *)1;
    char err[300] = "";
    CHECK_INT(dial("localhost", "no-such-service-xyz", 1000, NULL, &d, err, sizeof err), -2);
    CHECK(d == NULL);
    CHECK_STR(err, "unknown service \"no-such-service-xyz\"");
    CHECK_INT(dial("☃.example", "143", 1000, NULL, &d, err, sizeof err), -1);
    CHECK(d == NULL);
    CHECK(strstr(err, "unknown host: \"☃.example\" has no A-label form") == err);
}

/* Many attempts at once, each with its own channel and descriptor, all
 * against the same silent server, all ending at their timeouts. */
static void many_lookups_time_out_together(void)
{
    enum { N = 24 };
    struct dnsfake *dead = dnsfake_start(NULL, NULL);
    CHECK(dead != NULL);
    struct imc_dial *d[N];
    int result[N];
    char err[300];
    long t0 = imc_now_ms();
    for (int i = 0; i < N; i++) {
        CHECK_INT(dial("mail.imc-test", "143", 400 + 20 * i, dead->servers, &d[i], err,
                       sizeof err), 0);
        result[i] = IMC_DIAL_MORE;
    }
    int left = N;
    while (left > 0 && imc_now_ms() - t0 < 5000) {
        struct pollfd p[N];
        int idx[N], n = 0;
        for (int i = 0; i < N; i++)
            if (result[i] == IMC_DIAL_MORE) {
                p[n] = (struct pollfd){ imc_dial_fd(d[i]), POLLIN, 0 };
                idx[n++] = i;
            }
        poll(p, (nfds_t)n, 1000);
        for (int k = 0; k < n; k++) {
            if (!(p[k].revents & POLLIN))
                continue;
            int i = idx[k];
            result[i] = imc_dial_step(d[i], err, sizeof err);
            if (result[i] != IMC_DIAL_MORE)
                left--;
        }
    }
    for (int i = 0; i < N; i++) {
        CHECK_INT(result[i], ETIMEDOUT);
        imc_dial_free(d[i]);
    }
    CHECK(imc_now_ms() - t0 < 3000);
    dnsfake_stop(dead);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(hosts_file_needs_no_dns),
        TEST(hosts_file_address_and_port),
        TEST(dead_dns_times_out),
        TEST(dropped_while_resolving),
        TEST(scripted_dns_answers),
        TEST(nxdomain_is_unknown_host),
        TEST(unicode_name_asks_alabel),
        TEST(next_address_after_refusal),
        TEST(next_address_after_timeout),
        TEST(refused),
        TEST(known_at_once),
        TEST(many_lookups_time_out_together),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
