/*
 * What an event-loop adapter must do, for any loop: scripted servers check
 * the exact bytes both ways, and Dovecot and Cyrus (tests/servers/) the
 * same flows for real, every non-blocking exchange included (the fleet of
 * support/flowplan.h).  Every connection is driven only by the loop; the
 * tests never call imclient_processoneevent().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fakeserver.h"
#include "flowplan.h"
#include "listener.h"
#include "realenv.h"
#include "scenarios.h"
#include <cyrus/imclient.h>

static const struct loop_driver *D;

/* Adapter states allocated and not yet freed (scenarios.h). */
static long live_states;

void *scenarios_calloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    live_states += p != NULL;
    return p;
}

void scenarios_free(void *p)
{
    live_states -= p != NULL;
    free(p);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- what a connection saw ----------------------------------------------- */

struct conn {
    struct imclient *c;
    char log[4096]; /* one line per delivery, in order */
    size_t len;
    long t_sent; /* when a scheduled command went */
};

/* The rock of a command's finish callback, and what that callback does
 * next, since a loop-driven program continues from its callbacks. */
struct cmd {
    struct conn *k;
    const char *label;
    int calls;            /* must end at exactly 1 */
    const char *then_send; /* a command (no arguments) to send on OK */
    struct cmd *then;
    int then_close; /* imclient_close() from the callback */
};

static void say(struct conn *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct conn *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(k->log + k->len, sizeof k->log - k->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        k->len += (size_t)n < sizeof k->log - k->len ? (size_t)n : sizeof k->log - k->len - 1;
}

static void on_untagged(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    say(rock, "u|%s|%ld|%s\n", r->keyword, r->msgno, r->text);
}

static void on_finish(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct cmd *m = rock;
    m->calls++;
    say(m->k, "%s|%s|%ld|%s\n", m->label, r->keyword, r->msgno, r->text);
    int ok = strcmp(r->keyword, "OK") == 0;
    if (m->then_send && ok)
        imclient_send(c, on_finish, m->then, m->then_send);
    /* A refusal ends the flow; so that the loop can stop, so does the
     * connection. */
    if (m->then_close || (m->then_send && !ok && strcmp(r->keyword, "EOF") != 0)) {
        m->k->c = NULL;
        imclient_close(c);
    }
}

static struct imclient *open_conn(struct conn *k, const char *host, const char *port)
{
    memset(k, 0, sizeof *k);
    if (imclient_connect(&k->c, host, port) != 0)
        return NULL;
    imclient_addcallback(k->c, "", 0, on_untagged, k, NULL);
    return k->c;
}

static void set_timeout(struct imclient *c, int ms)
{
    struct imclient_limits l;
    memset(&l, 0, sizeof l);
    l.timeout_ms = ms;
    imclient_setlimits(c, &l);
}

/* A loop that does not stop by itself is a failed test, not a hung one. */
static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL: the loop did not stop by itself within 60 s\n";
    ssize_t n = write(2, msg, sizeof msg - 1);
    (void)n;
    _exit(1);
}

static int run_loop(void *loop)
{
    alarm(60);
    int r = D->run(loop);
    alarm(0);
    return r;
}

#define SERVER_OK(fs)                                            \
    do {                                                         \
        char err_[600];                                          \
        if (fake_wait(fs, err_, sizeof err_) != 0) {             \
            check_fail(__FILE__, __LINE__, "server: %s", err_);  \
            return;                                              \
        }                                                        \
    } while (0)

#define RECEIVED(fs, want)                                       \
    do {                                                         \
        size_t n_;                                               \
        const char *got_ = fake_received(fs, &n_);               \
        CHECK_BYTES(got_, n_, want);                             \
    } while (0)

/* Nothing of the adapter is left: no state, nothing registered. */
#define LOOP_CLEAN(loop)                                         \
    do {                                                         \
        CHECK_INT(live_states, 0);                                 \
        CHECK_INT(D->registered(loop), 0);                       \
        CHECK_INT(D->close(loop), 0);                            \
    } while (0)

/* ---- scripted servers ---------------------------------------------------- */

/* One command and its reply, then LOGOUT sent from the finish callback;
 * the server closes, the adapter stops watching, the loop ends. */
static void command_and_reply(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 LOGIN alice \"pass word\"\r\n"),
        F_SEND("* CAPABILITY IMAP4rev1 IDLE\r\n1 OK [CAPABILITY IMAP4rev1] in\r\n"),
        F_EXPECT("2 LOGOUT\r\n"),
        F_SEND("* BYE bye\r\n2 OK done\r\n"),
        F_CLOSE()));
    void *loop = D->open();
    static struct conn k;
    CHECK(open_conn(&k, "127.0.0.1", fake_port(fs)));
    struct cmd logout = { &k, "logout", 0, NULL, NULL, 0 };
    struct cmd login = { &k, "login", 0, "LOGOUT", &logout, 0 };
    CHECK_INT(D->attach(k.c, loop), 0);
    imclient_send(k.c, on_finish, &login, "LOGIN %s %s", "alice", "pass word");
    CHECK_INT(run_loop(loop), 0);
    CHECK_STR(k.log, "u|OK|-1|hi\n"
                     "u|CAPABILITY|-1|IMAP4rev1 IDLE\n"
                     "login|OK|-1|[CAPABILITY IMAP4rev1] in\n"
                     "u|BYE|-1|bye\n"
                     "logout|OK|-1|done\n");
    CHECK_INT(login.calls, 1);
    CHECK_INT(logout.calls, 1);
    CHECK(!imclient_isopen(k.c));
    CHECK_STR(imclient_error(k.c), "connection closed by 127.0.0.1");
    CHECK_INT(live_states, 1); /* the connection is still the application's */
    imclient_close(k.c);
    SERVER_OK(fs);
    RECEIVED(fs, "1 LOGIN alice \"pass word\"\r\n2 LOGOUT\r\n");
    fake_free(fs);
    LOOP_CLEAN(loop);
}

/* Many connections on one loop, each with pipelined commands, some of their
 * servers answering a byte at a time so that replies arrive in pieces
 * interleaved with the other connections'. */
#define MANY 50

struct many {
    struct conn k;
    struct cmd login, select, noop, logout;
    char greeting[32], reply[160], expect[64];
    struct fakeserver *fs;
};

static void many_connections_pipelined(void)
{
    static struct many m[MANY];
    void *loop = D->open();
    for (int i = 0; i < MANY; i++) {
        struct many *x = &m[i];
        snprintf(x->greeting, sizeof x->greeting, "* OK server %d\r\n", i);
        snprintf(x->expect, sizeof x->expect, "1 LOGIN user%d pw\r\n2 SELECT INBOX\r\n3 NOOP\r\n", i);
        snprintf(x->reply, sizeof x->reply,
                 "1 OK in %d\r\n* %d EXISTS\r\n* FLAGS (\\Seen)\r\n2 OK [READ-WRITE] %d\r\n"
                 "* %d RECENT\r\n3 OK noop %d\r\n", i, i, i, i % 7, i);
        struct fake_step reply = { i % 2 ? FAKE_SEND_SLOW : FAKE_SEND, x->reply, strlen(x->reply), 0 };
        x->fs = fake_start(FAKE(
            { FAKE_SEND, x->greeting, strlen(x->greeting), 0 },
            { FAKE_EXPECT, x->expect, strlen(x->expect), 0 },
            reply,
            F_EXPECT("4 LOGOUT\r\n"),
            F_SEND("* BYE\r\n4 OK bye\r\n"),
            F_CLOSE()));
        CHECK(open_conn(&x->k, "127.0.0.1", fake_port(x->fs)));
        x->logout = (struct cmd){ &x->k, "logout", 0, NULL, NULL, 0 };
        x->noop = (struct cmd){ &x->k, "noop", 0, "LOGOUT", &x->logout, 0 };
        x->select = (struct cmd){ &x->k, "select", 0, NULL, NULL, 0 };
        x->login = (struct cmd){ &x->k, "login", 0, NULL, NULL, 0 };
        CHECK_INT(D->attach(x->k.c, loop), 0);
        char user[16];
        snprintf(user, sizeof user, "user%d", i);
        imclient_send(x->k.c, on_finish, &x->login, "LOGIN %s %s", user, "pw");
        imclient_send(x->k.c, on_finish, &x->select, "SELECT %s", "INBOX");
        imclient_send(x->k.c, on_finish, &x->noop, "NOOP");
    }
    CHECK(live_states >= MANY);
    CHECK_INT(run_loop(loop), 0);
    for (int i = 0; i < MANY; i++) {
        struct many *x = &m[i];
        char want[512];
        snprintf(want, sizeof want,
                 "u|OK|-1|server %d\nlogin|OK|-1|in %d\nu|EXISTS|%d|\nu|FLAGS|-1|(\\Seen)\n"
                 "select|OK|-1|[READ-WRITE] %d\nu|RECENT|%d|\nnoop|OK|-1|noop %d\n"
                 "u|BYE|-1|\nlogout|OK|-1|bye\n", i, i, i, i, i % 7, i);
        CHECK_STR(x->k.log, want);
        CHECK_INT(x->login.calls, 1);
        CHECK_INT(x->select.calls, 1);
        CHECK_INT(x->noop.calls, 1);
        CHECK_INT(x->logout.calls, 1);
        CHECK(!imclient_isopen(x->k.c));
        imclient_close(x->k.c);
        SERVER_OK(x->fs);
        char sent[96];
        snprintf(sent, sizeof sent, "%s4 LOGOUT\r\n", x->expect);
        RECEIVED(x->fs, sent);
        fake_free(x->fs);
    }
    LOOP_CLEAN(loop);
}

/* A server that reads slowly: a large APPEND (LITERAL+, so nothing waits
 * for "+") fills the socket, and the rest goes as the loop reports the
 * socket writable. */
#define BIG (16 * 1024 * 1024)

static int writes;

static void count_writes(struct imclient *c, void *rock, int direction, const char *data,
                         size_t len)
{
    (void)c;
    (void)rock;
    (void)data;
    (void)len;
    writes += direction == 'C';
}

struct append_job {
    char *message;
    struct cmd *cmd;
    int wanted_write; /* imclient_wants() asked for writability after the send */
};

/* Sent from the greeting's callback: the adapter learns of the output only
 * by asking again after the event. */
static void send_append(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct append_job *j = rock;
    (void)r;
    if (j->cmd->calls || j->wanted_write)
        return;
    imclient_send(c, on_finish, j->cmd, "APPEND INBOX %s", j->message);
    int fd, ms;
    j->wanted_write = (imclient_wants(c, &fd, &ms) & IMCLIENT_EV_WRITE) != 0;
}

static void write_interest(void)
{
    static const char head[] = "1 APPEND INBOX {16777216+}\r\n";
    size_t cmdlen = sizeof head - 1 + BIG + 2;
    char *wire = malloc(cmdlen);
    char *message = malloc(BIG + 1);
    CHECK(wire && message);
    for (size_t i = 0; i < BIG; i += 64) {
        int n = snprintf(message + i, 64, "line %010zu ", i);
        memset(message + i + n, '.', (size_t)(62 - n));
        memcpy(message + i + 62, "\r\n", 2);
    }
    message[BIG] = '\0';
    memcpy(wire, head, sizeof head - 1);
    memcpy(wire + sizeof head - 1, message, BIG);
    memcpy(wire + sizeof head - 1 + BIG, "\r\n", 2);
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n"),
        F_SLEEP(500),
        { FAKE_EXPECT, wire, cmdlen, 0 },
        F_SEND("1 OK appended\r\n"),
        F_EXPECT("2 LOGOUT\r\n"),
        F_SEND("* BYE\r\n2 OK bye\r\n"),
        F_CLOSE()));
    void *loop = D->open();
    static struct conn k;
    CHECK(open_conn(&k, "127.0.0.1", fake_port(fs)));
    struct cmd logout = { &k, "logout", 0, NULL, NULL, 0 };
    struct cmd append = { &k, "append", 0, "LOGOUT", &logout, 0 };
    struct append_job job = { message, &append, 0 };
    imclient_setflags(k.c, IMCLIENT_CONN_NONSYNCLITERAL);
    imclient_addcallback(k.c, "OK", 0, send_append, &job, NULL);
    writes = 0;
    imclient_settrace(k.c, count_writes, NULL);
    CHECK_INT(D->attach(k.c, loop), 0);
    CHECK_INT(run_loop(loop), 0);
    CHECK(job.wanted_write); /* the socket did fill: the test tests something */
    CHECK(writes > 1);
    CHECK_STR(k.log, "append|OK|-1|appended\nu|BYE|-1|\nlogout|OK|-1|bye\n");
    CHECK_INT(append.calls, 1);
    imclient_close(k.c);
    SERVER_OK(fs);
    size_t n;
    const char *got = fake_received(fs, &n);
    CHECK_INT(n, cmdlen + strlen("2 LOGOUT\r\n"));
    CHECK(memcmp(got, wire, cmdlen) == 0);
    fake_free(fs);
    free(wire);
    free(message);
    LOOP_CLEAN(loop);
}

/* A silent server: the connection ends "timed out" from the adapter's
 * timer, the loop stops by itself. */
static void timeout_through_timer(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 NOOP\r\n"),
        F_DRAIN()));
    void *loop = D->open();
    static struct conn k;
    CHECK(open_conn(&k, "127.0.0.1", fake_port(fs)));
    struct cmd noop = { &k, "noop", 0, NULL, NULL, 0 };
    set_timeout(k.c, 300);
    CHECK_INT(D->attach(k.c, loop), 0);
    long t0 = now_ms();
    imclient_send(k.c, on_finish, &noop, "NOOP");
    CHECK_INT(run_loop(loop), 0);
    long took = now_ms() - t0;
    CHECK(took >= 300);
    CHECK(took < 2000);
    CHECK_STR(k.log, "u|OK|-1|hi\nnoop|EOF|-1|\n");
    CHECK_INT(noop.calls, 1);
    CHECK_STR(imclient_error(k.c), "timed out: no reply from 127.0.0.1 in 300 ms");
    imclient_close(k.c);
    SERVER_OK(fs);
    fake_free(fs);
    LOOP_CLEAN(loop);
}

static void send_noop_now(void *arg)
{
    struct cmd *m = arg;
    m->k->t_sent = now_ms();
    imclient_send(m->k->c, on_finish, m, "NOOP");
}

/* The same deadline for a command sent from a timer of the application,
 * outside the connection's callbacks: the adapter must still wake up in
 * time. */
static void timeout_of_command_sent_from_loop_timer(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 NOOP\r\n"),
        F_DRAIN()));
    void *loop = D->open();
    static struct conn k;
    CHECK(open_conn(&k, "127.0.0.1", fake_port(fs)));
    struct cmd noop = { &k, "noop", 0, NULL, NULL, 0 };
    set_timeout(k.c, 300);
    CHECK_INT(D->attach(k.c, loop), 0);
    D->later(loop, 150, send_noop_now, &noop);
    CHECK_INT(run_loop(loop), 0);
    long took = now_ms() - k.t_sent;
    CHECK(took >= 300);
    CHECK(took < 1000);
    CHECK_STR(k.log, "u|OK|-1|hi\nnoop|EOF|-1|\n");
    imclient_close(k.c);
    SERVER_OK(fs);
    fake_free(fs);
    LOOP_CLEAN(loop);
}

static void close_on_exists(struct imclient *c, void *rock, struct imclient_reply *r)
{
    say(rock, "exists|%s|%ld|%s\n", r->keyword, r->msgno, r->text);
    imclient_close(c);
}

/* imclient_close() from a reply callback, which runs inside the adapter's
 * own call of imclient_handle_events(): the connection and the adapter's
 * state are freed when that returns, and with nothing left to watch the
 * loop stops.  ASan sees any use after free. */
static void close_from_reply_callback(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 NOOP\r\n2 NOOP\r\n"),
        F_SEND("* 3 EXISTS\r\n1 OK\r\n2 OK\r\n"),
        F_DRAIN()));
    void *loop = D->open();
    static struct conn k;
    CHECK(open_conn(&k, "127.0.0.1", fake_port(fs)));
    struct cmd n1 = { &k, "noop1", 0, NULL, NULL, 0 };
    struct cmd n2 = { &k, "noop2", 0, NULL, NULL, 0 };
    imclient_addcallback(k.c, "EXISTS", CALLBACK_NUMBERED, close_on_exists, &k, NULL);
    CHECK_INT(D->attach(k.c, loop), 0);
    imclient_send(k.c, on_finish, &n1, "NOOP");
    imclient_send(k.c, on_finish, &n2, "NOOP");
    CHECK_INT(run_loop(loop), 0);
    CHECK_STR(k.log, "u|OK|-1|hi\nexists|EXISTS|3|\n"
                     "noop1|EOF|-1|\nnoop2|EOF|-1|\n");
    CHECK_INT(n1.calls, 1);
    CHECK_INT(n2.calls, 1);
    SERVER_OK(fs);
    fake_free(fs);
    LOOP_CLEAN(loop);
}

struct pair {
    struct conn a, b;
};

static void close_both(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct pair *p = rock;
    say(&p->a, "a|%s\n", r->keyword);
    imclient_close(p->b.c); /* not inside its own callbacks: freed at once */
    imclient_close(c);      /* inside: freed when the adapter's call returns */
}

/* A callback of one connection closes another, whose events may be due in
 * the same round of the loop, and then its own. */
static void close_other_connection_from_callback(void)
{
    struct fakeserver *fa = fake_start(FAKE(
        F_SEND("* OK a\r\n"),
        F_EXPECT("1 NOOP\r\n"),
        F_SLEEP(100),
        F_SEND("1 OK\r\n"),
        F_DRAIN()));
    struct fakeserver *fb = fake_start(FAKE(
        F_SEND("* OK b\r\n"),
        F_EXPECT("1 NOOP\r\n"),
        F_SLEEP(100),
        F_SEND("* 1 EXISTS\r\n"),
        F_DRAIN()));
    void *loop = D->open();
    static struct pair p;
    struct conn *a = &p.a, *b = &p.b;
    CHECK(open_conn(a, "127.0.0.1", fake_port(fa)));
    CHECK(open_conn(b, "127.0.0.1", fake_port(fb)));
    struct cmd nb = { b, "noop", 0, NULL, NULL, 0 };
    CHECK_INT(D->attach(a->c, loop), 0);
    CHECK_INT(D->attach(b->c, loop), 0);
    imclient_send(a->c, close_both, &p, "NOOP");
    imclient_send(b->c, on_finish, &nb, "NOOP");
    CHECK_INT(run_loop(loop), 0);
    CHECK_STR(a->log, "u|OK|-1|a\na|OK\n");
    CHECK_INT(nb.calls, 1);
    CHECK(strstr(b->log, "noop|EOF|-1|\n") != NULL);
    SERVER_OK(fa);
    SERVER_OK(fb);
    fake_free(fa);
    fake_free(fb);
    LOOP_CLEAN(loop);
}

static void close_now(void *arg)
{
    imclient_close(((struct conn *)arg)->c);
}

/* imclient_close() from a timer of the application, while the adapter
 * watches an idle connection. */
static void close_from_loop_timer(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_DRAIN()));
    void *loop = D->open();
    static struct conn k;
    CHECK(open_conn(&k, "127.0.0.1", fake_port(fs)));
    CHECK_INT(D->attach(k.c, loop), 0);
    D->later(loop, 200, close_now, &k);
    CHECK_INT(run_loop(loop), 0);
    CHECK_STR(k.log, "u|OK|-1|hi\n");
    SERVER_OK(fs);
    fake_free(fs);
    LOOP_CLEAN(loop);
}

/* The server goes away: pending commands get EOF, the adapter stops
 * watching, the loop stops; the connection waits for imclient_close(). */
static void server_closes(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 NOOP\r\n2 NOOP\r\n"),
        F_SEND("* 1 EXISTS\r\n1 OK\r\n"),
        F_CLOSE()));
    void *loop = D->open();
    static struct conn k;
    CHECK(open_conn(&k, "127.0.0.1", fake_port(fs)));
    struct cmd n1 = { &k, "noop1", 0, NULL, NULL, 0 };
    struct cmd n2 = { &k, "noop2", 0, NULL, NULL, 0 };
    CHECK_INT(D->attach(k.c, loop), 0);
    imclient_send(k.c, on_finish, &n1, "NOOP");
    imclient_send(k.c, on_finish, &n2, "NOOP");
    CHECK_INT(run_loop(loop), 0);
    CHECK_STR(k.log, "u|OK|-1|hi\nu|EXISTS|1|\nnoop1|OK|-1|\n"
                     "noop2|EOF|-1|\n");
    CHECK_INT(n2.calls, 1);
    CHECK(!imclient_isopen(k.c));
    CHECK_STR(imclient_error(k.c), "connection closed by 127.0.0.1");
    CHECK_INT(D->registered(loop), 0);
    CHECK_INT(live_states, 1);
    imclient_close(k.c);
    SERVER_OK(fs);
    fake_free(fs);
    LOOP_CLEAN(loop);
}

/* A program that reconnects when its server goes away, from a timer of its
 * own: the new socket takes the old one's number, and the loop must watch
 * it, not confuse it with the old one's leftovers. */
struct redial {
    struct conn a, b;
    struct fakeserver *fs_b;
    struct cmd noop_a, noop_b;
    int fd_a, fd_b;
    void *loop;
};

/* The old connection is closed last, as a program that first makes sure
 * the new one works would. */
static void reconnect(void *arg)
{
    struct redial *r = arg;
    if (open_conn(&r->b, "127.0.0.1", fake_port(r->fs_b))) {
        int ms;
        imclient_wants(r->b.c, &r->fd_b, &ms);
        if (D->attach(r->b.c, r->loop) == 0)
            imclient_send(r->b.c, on_finish, &r->noop_b, "NOOP");
    }
    imclient_close(r->a.c);
}

static void redial_on_eof(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct redial *x = rock;
    say(&x->a, "noop|%s\n", r->keyword);
    int ms;
    imclient_wants(c, &x->fd_a, &ms);
    D->later(x->loop, 0, reconnect, x);
}

static void reconnect_after_eof(void)
{
    static struct redial r;
    memset(&r, 0, sizeof r);
    /* Both listening sockets first, so the client's sockets are the only
     * descriptors that come and go. */
    struct fakeserver *fs_a = fake_start(FAKE(
        F_SEND("* OK a\r\n"),
        F_EXPECT("1 NOOP\r\n"),
        F_CLOSE()));
    r.fs_b = fake_start(FAKE(
        F_SEND("* OK b\r\n"),
        F_EXPECT("1 NOOP\r\n"),
        F_SEND("1 OK again\r\n"),
        F_CLOSE()));
    r.loop = D->open();
    CHECK(open_conn(&r.a, "127.0.0.1", fake_port(fs_a)));
    r.noop_b = (struct cmd){ &r.b, "noop", 0, NULL, NULL, 0 };
    CHECK_INT(D->attach(r.a.c, r.loop), 0);
    imclient_send(r.a.c, redial_on_eof, &r, "NOOP");
    CHECK_INT(run_loop(r.loop), 0);
    CHECK_STR(r.a.log, "u|OK|-1|a\nnoop|EOF\n");
    CHECK(r.b.c != NULL);
    CHECK_STR(r.b.log, "u|OK|-1|b\nnoop|OK|-1|again\n");
    CHECK_INT(r.fd_b, r.fd_a); /* else the case was not made */
    imclient_close(r.b.c);
    SERVER_OK(fs_a);
    SERVER_OK(r.fs_b);
    fake_free(fs_a);
    fake_free(r.fs_b);
    LOOP_CLEAN(r.loop);
}

/* imclient_connect_start(), attached at once: the loop drives the attempt
 * through the descriptor that stands for it, then the socket that replaces
 * it.  A command sent meanwhile goes first once connected. */
struct dialing {
    struct conn k;
    int result, calls;
    int fd_attempt, fd_connected;
};

static void connected(struct imclient *c, void *rock, int result)
{
    struct dialing *d = rock;
    int ms;
    imclient_wants(c, &d->fd_connected, &ms);
    d->result = result;
    d->calls++;
    say(&d->k, "connected|%d\n", result);
}

static struct imclient *start_conn(struct dialing *d, const char *port)
{
    memset(d, 0, sizeof *d);
    if (imclient_connect_start(&d->k.c, "127.0.0.1", port, connected, d) != 0)
        return NULL;
    imclient_addcallback(d->k.c, "", 0, on_untagged, &d->k, NULL);
    return d->k.c;
}

static void connect_start_then_login(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"),
        F_EXPECT("1 LOGIN alice pw\r\n"),
        F_SEND("1 OK in\r\n"),
        F_EXPECT("2 LOGOUT\r\n"),
        F_SEND("* BYE\r\n2 OK bye\r\n"),
        F_CLOSE()));
    void *loop = D->open();
    static struct dialing d;
    CHECK(start_conn(&d, fake_port(fs)));
    struct cmd logout = { &d.k, "logout", 0, NULL, NULL, 0 };
    struct cmd login = { &d.k, "login", 0, "LOGOUT", &logout, 0 };
    int ms;
    imclient_wants(d.k.c, &d.fd_attempt, &ms);
    CHECK_INT(D->attach(d.k.c, loop), 0);
    imclient_send(d.k.c, on_finish, &login, "LOGIN %s %s", "alice", "pw");
    CHECK_INT(run_loop(loop), 0);
    CHECK_INT(d.calls, 1);
    CHECK(d.fd_connected != d.fd_attempt); /* else the case was not made */
    CHECK_STR(d.k.log, "connected|0\nu|OK|-1|hi\nlogin|OK|-1|in\nu|BYE|-1|\nlogout|OK|-1|bye\n");
    imclient_close(d.k.c);
    SERVER_OK(fs);
    RECEIVED(fs, "1 LOGIN alice pw\r\n2 LOGOUT\r\n");
    fake_free(fs);
    LOOP_CLEAN(loop);
}

/* Nobody listens: done gets ECONNREFUSED, the queued command EOF, and the
 * loop stops by itself. */
static void connect_start_refused(void)
{
    char port[16];
    int fd = listen_loopback(1, port, sizeof port);
    CHECK(fd >= 0);
    close(fd);
    void *loop = D->open();
    static struct dialing d;
    CHECK(start_conn(&d, port));
    struct cmd noop = { &d.k, "noop", 0, NULL, NULL, 0 };
    CHECK_INT(D->attach(d.k.c, loop), 0);
    imclient_send(d.k.c, on_finish, &noop, "NOOP");
    CHECK_INT(run_loop(loop), 0);
    CHECK_INT(d.calls, 1);
    CHECK_INT(d.result, ECONNREFUSED);
    CHECK_INT(noop.calls, 1);
    CHECK(strstr(d.k.log, "noop|EOF|-1|\n") != NULL);
    CHECK(!imclient_isopen(d.k.c));
    imclient_close(d.k.c);
    LOOP_CLEAN(loop);
}

/* Retrying from the failed attempt's own callback: the library has closed
 * the attempt's descriptor just before, so the new attempt's descriptor
 * takes its number while the adapter still watches the old one. */
struct retry {
    struct dialing first, second;
    struct cmd noop;
    struct fakeserver *fs;
    void *loop;
    int fd_first, fd_second;
};

static void retry_connected(struct imclient *c, void *rock, int result)
{
    struct retry *r = rock;
    int ms;
    r->first.result = result;
    r->first.calls++;
    imclient_close(c);
    if (imclient_connect_start(&r->second.k.c, "127.0.0.1", fake_port(r->fs), connected,
                               &r->second) != 0)
        return;
    imclient_wants(r->second.k.c, &r->fd_second, &ms);
    imclient_addcallback(r->second.k.c, "", 0, on_untagged, &r->second.k, NULL);
    if (D->attach(r->second.k.c, r->loop) == 0)
        imclient_send(r->second.k.c, on_finish, &r->noop, "NOOP");
}

static void retry_from_failed_attempt(void)
{
    static struct retry r;
    memset(&r, 0, sizeof r);
    char port[16];
    int lfd = listen_loopback(1, port, sizeof port);
    CHECK(lfd >= 0);
    close(lfd);
    r.fs = fake_start(FAKE(
        F_SEND("* OK again\r\n"),
        F_EXPECT("1 NOOP\r\n"),
        F_SEND("1 OK\r\n"),
        F_CLOSE()));
    r.loop = D->open();
    r.noop = (struct cmd){ &r.second.k, "noop", 0, NULL, NULL, 0 };
    int ms;
    CHECK_INT(imclient_connect_start(&r.first.k.c, "127.0.0.1", port, retry_connected, &r), 0);
    imclient_wants(r.first.k.c, &r.fd_first, &ms);
    CHECK_INT(D->attach(r.first.k.c, r.loop), 0);
    CHECK_INT(run_loop(r.loop), 0);
    CHECK_INT(r.first.result, ECONNREFUSED);
    CHECK_INT(r.fd_second, r.fd_first); /* else the case was not made */
    CHECK_STR(r.second.k.log, "connected|0\nu|OK|-1|again\nnoop|OK|-1|\n");
    imclient_close(r.second.k.c);
    SERVER_OK(r.fs);
    fake_free(r.fs);
    LOOP_CLEAN(r.loop);
}

/* ---- real servers -------------------------------------------------------- */

struct server {
    const char *prefix;
    const char *port, *user, *pass;
};

static struct server servers[] = { { "DOVECOT", NULL, NULL, NULL }, { "CYRUS", NULL, NULL, NULL } };
static int nservers;

static void load_servers(void)
{
    for (size_t i = 0; i < sizeof servers / sizeof servers[0]; i++) {
        struct server *s = &servers[i];
        s->port = realenv_var(s->prefix, "PORT");
        s->user = realenv_var(s->prefix, "USER");
        s->pass = realenv_var(s->prefix, "PASS");
        nservers += s->port && s->user && s->pass;
    }
}

/* Skips a real-server test without servers, unless they are required. */
static int servers_missing(void)
{
    if (nservers == sizeof servers / sizeof servers[0])
        return 0;
    const char *require = getenv("IMC_REQUIRE_SERVERS");
    if (require && strcmp(require, "1") == 0) {
        check_fail(__FILE__, __LINE__, "IMC_REQUIRE_SERVERS=1 but the server variables are missing");
        return 1;
    }
    printf("%s: skipped: no servers\n", D->name);
    return 1;
}

#define REAL_CONNS 4

/* What SELECT INBOX brings on a real server, counted by on_exists() and
 * on_flags() (rock: a struct seen): exactly one of each. */
struct seen {
    int exists, flags;
};

static void on_exists(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)r;
    ((struct seen *)rock)->exists++;
}

static void on_flags(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)r;
    ((struct seen *)rock)->flags++;
}

struct session {
    struct conn k;
    struct cmd login, select, logout;
    struct seen seen;
};

/* Several connections to each server on one loop: LOGIN, SELECT INBOX,
 * LOGOUT, each sent from the previous command's callback, and
 * imclient_close() from LOGOUT's. */
static void real_login_select(void)
{
    if (servers_missing())
        return;
    for (size_t si = 0; si < sizeof servers / sizeof servers[0]; si++) {
        const struct server *s = &servers[si];
        static struct session x[REAL_CONNS];
        void *loop = D->open();
        for (int i = 0; i < REAL_CONNS; i++) {
            struct session *y = &x[i];
            CHECK(open_conn(&y->k, "127.0.0.1", s->port));
            y->seen = (struct seen){ 0, 0 };
            y->logout = (struct cmd){ &y->k, "logout", 0, NULL, NULL, 1 };
            y->select = (struct cmd){ &y->k, "select", 0, "LOGOUT", &y->logout, 0 };
            y->login = (struct cmd){ &y->k, "login", 0, "SELECT INBOX", &y->select, 0 };
            imclient_addcallback(y->k.c, "EXISTS", CALLBACK_NUMBERED, on_exists, &y->seen, "FLAGS",
                                 0, on_flags, &y->seen, NULL);
            CHECK_INT(D->attach(y->k.c, loop), 0);
            imclient_send(y->k.c, on_finish, &y->login, "LOGIN %s %s", s->user, s->pass);
        }
        CHECK_INT(run_loop(loop), 0);
        for (int i = 0; i < REAL_CONNS; i++) {
            struct session *y = &x[i];
            if (!strstr(y->k.log, "select|OK|") || !strstr(y->k.log, "logout|OK|"))
                check_fail(__FILE__, __LINE__, "%s connection %d saw:\n%s", s->prefix, i, y->k.log);
            CHECK(strstr(y->k.log, "login|OK|") != NULL);
            CHECK(strstr(y->k.log, "u|BYE|") != NULL);
            CHECK_INT(y->login.calls, 1);
            CHECK_INT(y->select.calls, 1);
            CHECK_INT(y->logout.calls, 1);
            CHECK_INT(y->seen.exists, 1);
            CHECK_INT(y->seen.flags, 1);
        }
        LOOP_CLEAN(loop);
    }
}

/* Every non-blocking exchange, through the adapter: the fleet of
 * support/flowplan.h on one loop, each connection made with
 * imclient_connect_start() and attached at once.  The fleet's tick runs
 * from a timer of the application's, which stops once every connection is
 * over; after LOGOUT the servers close, so the loop then stops by itself. */
struct fleet_run {
    struct flowplan_fleet *f;
    void *loop;
};

static void fleet_tick(void *arg)
{
    struct fleet_run *r = arg;
    if (flowplan_tick(r->f) > 0)
        D->later(r->loop, 20, fleet_tick, r);
}

static void real_fleet(const char *server)
{
    if (servers_missing())
        return;
    static struct flowplan_fleet f;
    void *loop = D->open();
    if (flowplan_start(&f, server) != 0) {
        check_fail(__FILE__, __LINE__, "%s: the fleet could not start", server);
        D->close(loop);
        return;
    }
    struct fleet_run r = { &f, loop };
    for (int i = 0; i < f.n; i++)
        CHECK_INT(D->attach(f.k[i].c, loop), 0);
    D->later(loop, 20, fleet_tick, &r);
    CHECK_INT(run_loop(loop), 0);
    flowplan_check(&f);
    flowplan_close(&f);
    LOOP_CLEAN(loop);
}

static void real_fleet_dovecot(void)
{
    real_fleet("DOVECOT");
}

static void real_fleet_cyrus(void)
{
    real_fleet("CYRUS");
}

int scenarios_main(int argc, char **argv, const struct loop_driver *driver)
{
    D = driver;
    signal(SIGALRM, on_alarm);
    load_servers();
    static const struct check_test tests[] = {
        TEST(command_and_reply),
        TEST(many_connections_pipelined),
        TEST(write_interest),
        TEST(timeout_through_timer),
        TEST(timeout_of_command_sent_from_loop_timer),
        TEST(close_from_reply_callback),
        TEST(close_other_connection_from_callback),
        TEST(close_from_loop_timer),
        TEST(server_closes),
        TEST(reconnect_after_eof),
        TEST(connect_start_then_login),
        TEST(connect_start_refused),
        TEST(retry_from_failed_attempt),
        TEST(real_login_select),
        TEST(real_fleet_dovecot),
        TEST(real_fleet_cyrus),
    };
    realenv_kinit(); /* the fleet's GSSAPI plans need a ticket */
    int r = check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
    realenv_kdestroy();
    return r;
}
