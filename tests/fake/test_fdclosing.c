/*
 * imclient_setfdclosing(): the application's loop hears of every close of
 * the descriptor imclient_wants() reports, before it happens -- when an
 * imclient_connect_start() attempt hands over to its socket, when the
 * attempt fails, when the server ends the connection, at imclient_close().
 * A loop that knows descriptors by number depends on hearing it in time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cyrus/imclient.h"
#include "fakeserver.h"
#include "listener.h"
#include "replylog.h"

#define SERVER_OK(fs) CHECK_SERVER(fake_wait, fs)

#define MAX_CALLS 8

/* What the hook saw, and what happened around it. */
struct watch {
    struct imclient *c;
    int fds[MAX_CALLS]; /* the descriptor of each call */
    int open_then[MAX_CALLS]; /* it was still open when the call came */
    int calls;
    int wrong_conn;
    int cleanup_calls;
    int cleanup_after_hook; /* the cleanup came after the last hook call */
    int connected;          /* imclient_connect_start()'s result, -100 before */
};

static void on_fdclosing(struct imclient *c, void *rock, int fd)
{
    struct watch *w = rock;
    if (c != w->c)
        w->wrong_conn = 1;
    if (w->calls < MAX_CALLS) {
        w->fds[w->calls] = fd;
        w->open_then[w->calls] = fcntl(fd, F_GETFD) != -1;
    }
    w->calls++;
}

static void on_cleanup(void *rock)
{
    struct watch *w = rock;
    w->cleanup_calls++;
    w->cleanup_after_hook = w->calls > 0;
}

static void on_connected(struct imclient *c, void *rock, int result)
{
    (void)c;
    ((struct watch *)rock)->connected = result;
}

static int is_closed(int fd)
{
    return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

/* One round of an application's poll loop; returns the descriptor it
 * waited on, -1 once the connection has none. */
static int turn(struct watch *w)
{
    int fd, ms;
    int ev = imclient_wants(w->c, &fd, &ms);
    if (fd < 0)
        return -1;
    struct pollfd p = { fd, (short)((ev & IMCLIENT_EV_READ ? POLLIN : 0) |
                                    (ev & IMCLIENT_EV_WRITE ? POLLOUT : 0)), 0 };
    int n = poll(&p, 1, ms < 0 || ms > 200 ? 200 : ms);
    int events = n > 0 ? ((p.revents & (POLLIN | POLLHUP | POLLERR) ? IMCLIENT_EV_READ : 0) |
                          (p.revents & POLLOUT ? IMCLIENT_EV_WRITE : 0))
                       : 0;
    imclient_handle_events(w->c, events);
    return fd;
}

static void start(struct watch *w, const char *port)
{
    memset(w, 0, sizeof *w);
    w->connected = -100;
    CHECK_INT(imclient_connect_start(&w->c, "127.0.0.1", port, on_connected, w), 0);
    imclient_setfdclosing(w->c, on_fdclosing, w);
    imclient_setcleanup(w->c, on_cleanup, w);
}

/* The attempt's descriptor is announced as it gives way to the socket,
 * the socket's as the server's close ends the connection; each while
 * still open, and closed right after. */
static void handover_then_server_close(void)
{
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_SLEEP(100), F_CLOSE()));
    struct watch w;
    start(&w, fake_port(fs));
    int attempt_fd, fd;
    imclient_wants(w.c, &attempt_fd, &(int){ 0 });
    CHECK(attempt_fd >= 0);
    for (int i = 0; i < 100 && w.connected == -100; i++)
        turn(&w);
    CHECK_INT(w.connected, 0);
    CHECK_INT(w.calls, 1);
    CHECK_INT(w.fds[0], attempt_fd);
    CHECK_INT(w.open_then[0], 1);
    imclient_wants(w.c, &fd, &(int){ 0 });
    CHECK(fd >= 0);
    /* Handed over: the socket is watched now, the attempt's descriptor is
     * gone (or the socket took its number). */
    CHECK(fd == attempt_fd || is_closed(attempt_fd));
    int sock = fd;
    for (int i = 0; i < 100 && turn(&w) >= 0; i++)
        ;
    CHECK_INT(w.calls, 2);
    CHECK_INT(w.fds[1], sock);
    CHECK_INT(w.open_then[1], 1);
    CHECK(is_closed(sock));
    CHECK_INT(w.cleanup_calls, 0);
    imclient_close(w.c);
    CHECK_INT(w.calls, 2); /* nothing left to announce */
    CHECK_INT(w.cleanup_calls, 1);
    CHECK_INT(w.wrong_conn, 0);
    SERVER_OK(fs);
    fake_free(fs);
}

/* imclient_close() announces the socket first, then runs the cleanup. */
static void close_announces_before_cleanup(void)
{
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_DRAIN()));
    struct watch w;
    start(&w, fake_port(fs));
    for (int i = 0; i < 100 && w.connected == -100; i++)
        turn(&w);
    CHECK_INT(w.connected, 0);
    int sock;
    imclient_wants(w.c, &sock, &(int){ 0 });
    imclient_close(w.c);
    CHECK_INT(w.calls, 2);
    CHECK_INT(w.fds[1], sock);
    CHECK_INT(w.open_then[1], 1);
    CHECK(is_closed(sock));
    CHECK_INT(w.cleanup_calls, 1);
    CHECK_INT(w.cleanup_after_hook, 1);
    SERVER_OK(fs);
    fake_free(fs);
}

/* A refused attempt announces its descriptor once, before it goes. */
static void refused_attempt(void)
{
    char port[16];
    int lfd = listen_loopback(4, port, sizeof port);
    CHECK(lfd >= 0);
    close(lfd);
    struct watch w;
    start(&w, port);
    int attempt_fd;
    imclient_wants(w.c, &attempt_fd, &(int){ 0 });
    for (int i = 0; i < 100 && turn(&w) >= 0; i++)
        ;
    CHECK(w.connected != 0 && w.connected != -100);
    CHECK_INT(w.calls, 1);
    CHECK_INT(w.fds[0], attempt_fd);
    CHECK_INT(w.open_then[0], 1);
    CHECK(is_closed(attempt_fd));
    imclient_close(w.c);
    CHECK_INT(w.calls, 1);
}

/* The page's own imclient_connect() gives a socket at once: its one
 * announcement comes at the close. */
static void blocking_connect_then_close(void)
{
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_DRAIN()));
    struct watch w;
    memset(&w, 0, sizeof w);
    CHECK_INT(imclient_connect(&w.c, "127.0.0.1", fake_port(fs)), 0);
    imclient_setfdclosing(w.c, on_fdclosing, &w);
    int sock;
    imclient_wants(w.c, &sock, &(int){ 0 });
    imclient_close(w.c);
    CHECK_INT(w.calls, 1);
    CHECK_INT(w.fds[0], sock);
    CHECK_INT(w.open_then[0], 1);
    SERVER_OK(fs);
    fake_free(fs);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(handover_then_server_close),
        TEST(close_announces_before_cleanup),
        TEST(refused_attempt),
        TEST(blocking_connect_then_close),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
