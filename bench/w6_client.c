/*
 * w6_client: the W6 benchmark -- N concurrent IMAP connections from one
 * client thread, each connecting (imclient_connect_start), starting TLS
 * verified against the benchmark's own CA (imclient_starttls_start),
 * authenticating with SCRAM-SHA-256 (imclient_authenticate_start),
 * selecting INBOX and idling (imclient_idle), every step started from the
 * previous step's callback.  It reports how long bringing all N up takes
 * and how much memory each idle connection costs the client.
 *
 *   w6_client [-n N] [-c WINDOW] [-i ITERATIONS] [-t SECONDS] [-l LOOPS] [-m MODES]
 *
 *   -n N        connections (10000)
 *   -c WINDOW   connections being set up at once (256): a new one starts
 *               when one reaches IDLE, so the server's accept queue never
 *               overflows
 *   -i ITER     SCRAM iteration count the server asks for (4096)
 *   -t SECONDS  bound on each case's bring-up (120); teardown gets 60 more
 *   -l LOOPS    comma-separated: libevent (the header-only adapter),
 *               poll (imclient_wants/imclient_handle_events over one
 *               poll(2) of every descriptor), epoll (the same calls over an
 *               epoll set kept up to date); default libevent,poll
 *   -m MODES    plain,tls (default both): plain skips STARTTLS
 *
 * The driver makes a temporary directory with a CA and server certificates
 * (tlsfake_certs_make) and a sasldb (saslpasswd2 -f), starts w6_server
 * from its own directory, runs every case in a fresh process (this
 * program, re-executed with --case), prints one table and removes what it
 * made.  Each case first takes one connection through the whole plan and
 * back (so one-time costs -- loading SASL plugins, OpenSSL's tables -- are
 * not counted per connection), samples RSS, brings the N up, samples RSS
 * again with all N idling, then ends every IDLE with DONE and LOGOUT.
 *
 * KiB/conn = (RSS with all N idle - RSS before the first of them) / N.
 * RLIMIT_NOFILE is raised as far as the hard limit allows (never in the
 * library): an idle connection holds one descriptor, one being made three
 * (the socket, the attempt's epoll set and its timer).
 * Built as w6_client_count, the program also counts every live malloc'd
 * byte by the library that asked (w6_malloc_count.c) and prints where the
 * per-connection bytes go.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cyrus/adapters/libevent.h>
#include <cyrus/imclient.h>

#include "stats.h"
#include "tlsfake.h"
#ifdef W6_MALLOC_COUNT
#include "w6_malloc_count.h"
#endif

#define W6_USER "w6user"
#define W6_PASS "w6-secret-pass"
#define WANT_FDS 70000
#define TEARDOWN_S 60

/* ======================================================================
 * One case: N connections through one loop
 * ====================================================================== */

enum loopkind { LOOP_LIBEVENT, LOOP_POLL, LOOP_EPOLL };
static const char *const loop_names[] = { "libevent", "poll", "epoll" };

enum step {
    S_CONNECT, S_TLS, S_AUTH, S_SELECT, S_IDLE_WAIT, /* setting up */
    S_IDLING,                                        /* the server accepted IDLE */
    S_DONE_WAIT, S_LOGOUT,                           /* tearing down */
    S_OVER, S_FAILED
};

struct conn {
    struct imclient *c;
    unsigned char step;
    unsigned char counted_over;
    int wfd;          /* epoll loop: the descriptor registered, -1 none */
    unsigned wev;     /* epoll loop: its events */
};

static struct run {
    enum loopkind loop;
    int tls;
    int n, window;
    const char *port;
    char *ca_file;
    struct conn *k;
    int started, idling, failed, over;
    int *setting;       /* indices of connections being set up */
    int nsetting;
    double t_first, t_last_idle;
    char first_error[400];
    struct event_base *base;
    struct pollfd *pfd; /* poll loop */
    int *who;
    int *tmo;
    int epfd;           /* epoll loop */
    int *again;         /* epoll loop: connections to run without waiting */
    int nagain;
    unsigned char *in_again;
} R;

/* A field of /proc/PID/status ("VmHWM", "VmRSS") in KiB; pid 0: self. */
static long status_kib(int pid, const char *field)
{
    char path[64], line[256];
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/status", pid);
    else
        snprintf(path, sizeof path, "/proc/self/status");
    FILE *f = fopen(path, "r");
    long v = -1;
    size_t fl = strlen(field);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            v = atol(line + fl + 1);
            break;
        }
    fclose(f);
    return v;
}

/* utime + stime of another process, in seconds. */
static double proc_cpu_s(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long malloc_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long)(mi.uordblks + mi.hblkhd);
}

/* Freed bytes the heap keeps (fragmentation between live blocks). */
static long malloc_free(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long)mi.fordblks;
}

static void fail_conn(struct conn *k, const char *what, int result)
{
    if (k->step == S_FAILED)
        return;
    if (!R.first_error[0])
        snprintf(R.first_error, sizeof R.first_error, "connection %d: %s gave %d: %s",
                 (int)(k - R.k), what, result, k->c ? imclient_error(k->c) : "");
    k->step = S_FAILED;
    R.failed++;
}

static const char *secret(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)c;
    (void)rock;
    (void)mech;
    if (what == IMCLIENT_SECRET_AUTHNAME)
        return W6_USER;
    return what == IMCLIENT_SECRET_PASSWORD ? W6_PASS : NULL;
}

static void next(struct conn *k);

static void on_result(struct imclient *c, void *rock, int result)
{
    (void)c;
    struct conn *k = rock;
    static const char *const names[] = { "connect", "STARTTLS", "AUTHENTICATE" };
    if (k->step == S_FAILED)
        return;
    if (result != 0) {
        fail_conn(k, names[k->step], result);
        return;
    }
    k->step = k->step == S_CONNECT && !R.tls ? S_AUTH : k->step + 1;
    next(k);
}

static void on_logout(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)r;
    struct conn *k = rock;
    /* OK, or EOF when the server closed first: both end the connection. */
    if (k->step == S_LOGOUT) {
        k->step = S_OVER;
        R.over++;
    }
}

static void on_idle_end(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct conn *k = rock;
    if (k->step == S_FAILED)
        return;
    if (k->step != S_DONE_WAIT || strcmp(r->keyword, "OK") != 0) {
        fail_conn(k, "IDLE", -1);
        return;
    }
    k->step = S_LOGOUT;
    imclient_send(c, on_logout, k, "LOGOUT");
}

static void on_select(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct conn *k = rock;
    if (k->step != S_SELECT)
        return;
    if (strcmp(r->keyword, "OK") != 0) {
        fail_conn(k, "SELECT", -1);
        return;
    }
    k->step = S_IDLE_WAIT;
    next(k);
}

static void next(struct conn *k)
{
    struct imclient *c = k->c;
    switch (k->step) {
    case S_TLS:
        if (imclient_starttls_start(c, NULL, NULL, R.ca_file, NULL, on_result, k) < 0)
            fail_conn(k, "imclient_starttls_start", -1);
        break;
    case S_AUTH: {
        struct sasl_client *mechs[] = { &imclient_sasl_scram_sha256, NULL };
        if (imclient_authenticate_start(c, mechs, "imap", NULL, SASL_PROT_ANY, on_result, k) < 0)
            fail_conn(k, "imclient_authenticate_start", -1);
        break;
    }
    case S_SELECT:
        imclient_send(c, on_select, k, "SELECT INBOX");
        break;
    case S_IDLE_WAIT:
        if (imclient_idle(c, on_idle_end, k) < 0)
            fail_conn(k, "imclient_idle", -1);
        break;
    default:
        break;
    }
}

/* ---- the epoll loop's bookkeeping ---- */

static void epoll_rearm(struct conn *k)
{
    int i = (int)(k - R.k), fd, ms;
    if (!k->c)
        return;
    int want = imclient_wants(k->c, &fd, &ms);
    if (fd != k->wfd && k->wfd >= 0) {
        /* The attempt's descriptor is closed once connected: this fails
         * harmlessly then. */
        epoll_ctl(R.epfd, EPOLL_CTL_DEL, k->wfd, NULL);
        k->wfd = -1;
    }
    if (fd < 0)
        return;
    unsigned ev = (want & IMCLIENT_EV_READ ? EPOLLIN : 0) | (want & IMCLIENT_EV_WRITE ? EPOLLOUT : 0);
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.events = ev;
    e.data.u64 = ((uint64_t)(uint32_t)fd << 32) | (uint32_t)i;
    if (k->wfd < 0) {
        if (epoll_ctl(R.epfd, EPOLL_CTL_ADD, fd, &e) == 0) {
            k->wfd = fd;
            k->wev = ev;
        }
    } else if (ev != k->wev && epoll_ctl(R.epfd, EPOLL_CTL_MOD, fd, &e) == 0) {
        k->wev = ev;
    }
    /* Bytes already inside TLS: no descriptor will say so. */
    if (ms == 0 && !R.in_again[i]) {
        R.in_again[i] = 1;
        R.again[R.nagain++] = i;
    }
}

/* ---- starting and watching connections ---- */

static void start_one(void)
{
    int i = R.started++;
    struct conn *k = &R.k[i];
    k->wfd = -1;
    k->step = S_CONNECT;
    if (R.t_first == 0)
        R.t_first = bench_now();
    int r = imclient_connect_start(&k->c, "127.0.0.1", R.port, on_result, k);
    if (r != 0) {
        k->c = NULL;
        fail_conn(k, "imclient_connect_start", r);
        return;
    }
    imclient_setsecretproc(k->c, secret, k);
    if (R.loop == LOOP_LIBEVENT && imclient_libevent_attach(k->c, R.base) != 0) {
        fail_conn(k, "imclient_libevent_attach", -1);
        return;
    }
    if (R.loop == LOOP_EPOLL)
        epoll_rearm(k);
    R.setting[R.nsetting++] = i;
}

/* Start connections while the window has room; note the ones that reached
 * IDLE or failed. */
static void tend(void)
{
    for (int j = 0; j < R.nsetting;) {
        struct conn *k = &R.k[R.setting[j]];
        if (k->step == S_IDLE_WAIT && imclient_idling(k->c)) {
            k->step = S_IDLING;
            R.idling++;
            R.t_last_idle = bench_now();
        }
        if (k->step == S_IDLING || k->step == S_FAILED)
            R.setting[j] = R.setting[--R.nsetting];
        else
            j++;
    }
    while (R.started < R.n && R.nsetting < R.window)
        start_one();
}

/* A connection whose event handling said it is closed. */
static void handled(struct conn *k, int r)
{
    if (r >= 0)
        return;
    if (k->step == S_LOGOUT || k->step == S_OVER) {
        if (k->step == S_LOGOUT) {
            k->step = S_OVER;
            R.over++;
        }
    } else {
        fail_conn(k, "the connection", -1);
    }
}

static int live(const struct conn *k)
{
    return k->c && k->step != S_FAILED && k->step != S_OVER;
}

/* One turn of the chosen loop, waiting at most 100 ms. */
static void turn(void)
{
    if (R.loop == LOOP_LIBEVENT) {
        event_base_loop(R.base, EVLOOP_ONCE);
        return;
    }
    if (R.loop == LOOP_POLL) {
        int n = 0, wait = 100;
        for (int i = 0; i < R.started; i++) {
            struct conn *k = &R.k[i];
            if (!live(k))
                continue;
            int fd, t;
            int ev = imclient_wants(k->c, &fd, &t);
            if (fd < 0) {
                handled(k, -1);
                continue;
            }
            R.pfd[n] = (struct pollfd){ fd, (short)((ev & IMCLIENT_EV_READ ? POLLIN : 0) |
                                                    (ev & IMCLIENT_EV_WRITE ? POLLOUT : 0)), 0 };
            R.who[n] = i;
            R.tmo[n] = t;
            if (t >= 0 && t < wait)
                wait = t;
            n++;
        }
        double t0 = bench_now();
        if (poll(R.pfd, (nfds_t)n, wait) < 0 && errno != EINTR)
            return;
        int waited = (int)((bench_now() - t0) * 1000);
        for (int j = 0; j < n; j++) {
            short re = R.pfd[j].revents;
            int ready = (re & (POLLIN | POLLHUP | POLLERR) ? IMCLIENT_EV_READ : 0) |
                        (re & POLLOUT ? IMCLIENT_EV_WRITE : 0);
            if (!ready && !(R.tmo[j] >= 0 && R.tmo[j] <= waited))
                continue;
            struct conn *k = &R.k[R.who[j]];
            if (live(k))
                handled(k, imclient_handle_events(k->c, ready));
        }
        return;
    }
    /* epoll */
    struct epoll_event ev[1024];
    int n = epoll_wait(R.epfd, ev, 1024, R.nagain ? 0 : 100);
    for (int j = 0; j < n; j++) {
        uint32_t i = (uint32_t)ev[j].data.u64;
        int fd = (int)(ev[j].data.u64 >> 32);
        struct conn *k = &R.k[i];
        if (!live(k) || fd != k->wfd)
            continue;
        int ready = (ev[j].events & (EPOLLIN | EPOLLHUP | EPOLLERR) ? IMCLIENT_EV_READ : 0) |
                    (ev[j].events & EPOLLOUT ? IMCLIENT_EV_WRITE : 0);
        handled(k, imclient_handle_events(k->c, ready));
        if (live(k))
            epoll_rearm(k);
    }
    int na = R.nagain;
    R.nagain = 0;
    for (int j = 0; j < na; j++) {
        int i = R.again[j];
        struct conn *k = &R.k[i];
        R.in_again[i] = 0;
        if (!live(k))
            continue;
        handled(k, imclient_handle_events(k->c, 0));
        if (live(k))
            epoll_rearm(k);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Bring n connections up (into IDLE); stops at the deadline. */
static void bring_up(double deadline)
{
    while (R.idling + R.failed < R.n && bench_now() < deadline) {
        tend();
        turn();
    }
    tend();
}

/* DONE and LOGOUT on every idling connection; then close them all. */
static double tear_down(double deadline)
{
    double t0 = bench_now();
    int want = 0;
    for (int i = 0; i < R.started; i++) {
        struct conn *k = &R.k[i];
        if (k->step == S_IDLING) {
            k->step = S_DONE_WAIT;
            if (imclient_idle_done(k->c) < 0)
                fail_conn(k, "imclient_idle_done", -1);
            else
                want++;
            if (R.loop == LOOP_EPOLL && live(k))
                epoll_rearm(k);
        }
    }
    while (R.over < want && R.over + R.failed < R.started && bench_now() < deadline)
        turn();
    double t = bench_now() - t0;
    for (int i = 0; i < R.started; i++)
        if (R.k[i].c) {
            imclient_close(R.k[i].c);
            R.k[i].c = NULL;
        }
    return t;
}

static void raise_nofile(void)
{
    struct rlimit rl = { WANT_FDS, WANT_FDS };
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Set R up for n connections; arrays are touched now, so that they are
 * resident before the baseline is taken. */
static void prepare(int n)
{
    R.n = n;
    R.started = R.idling = R.failed = R.over = 0;
    R.nsetting = R.nagain = 0;
    R.t_first = R.t_last_idle = 0;
    free(R.k);
    free(R.setting);
    free(R.pfd);
    free(R.who);
    free(R.tmo);
    free(R.again);
    free(R.in_again);
    R.k = calloc((size_t)n, sizeof *R.k);
    R.setting = calloc((size_t)n, sizeof *R.setting);
    R.pfd = calloc((size_t)n, sizeof *R.pfd);
    R.who = calloc((size_t)n, sizeof *R.who);
    R.tmo = calloc((size_t)n, sizeof *R.tmo);
    R.again = calloc((size_t)n, sizeof *R.again);
    R.in_again = calloc((size_t)n, 1);
    if (!R.k || !R.setting || !R.pfd || !R.who || !R.tmo || !R.again || !R.in_again) {
        fprintf(stderr, "w6_client: out of memory\n");
        exit(2);
    }
    memset(R.k, 0xff, (size_t)n * sizeof *R.k);
    memset(R.k, 0, (size_t)n * sizeof *R.k);
    memset(R.setting, 0xff, (size_t)n * sizeof *R.setting);
    memset(R.pfd, 0xff, (size_t)n * sizeof *R.pfd);
    memset(R.who, 0xff, (size_t)n * sizeof *R.who);
    memset(R.tmo, 0xff, (size_t)n * sizeof *R.tmo);
    memset(R.again, 0xff, (size_t)n * sizeof *R.again);
    memset(R.in_again, 0, (size_t)n);
}

/* --case LOOP MODE N WINDOW PORT CAFILE CAP SERVERPID: prints one W6RESULT line. */
static int run_case(char **a)
{
    int loop = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(a[0], loop_names[i]) == 0)
            loop = i;
    if (loop < 0)
        return 2;
    R.loop = (enum loopkind)loop;
    R.tls = strcmp(a[1], "tls") == 0;
    int n = atoi(a[2]);
    R.window = atoi(a[3]);
    R.port = a[4];
    R.ca_file = a[5];
    double cap = atof(a[6]);
    int server_pid = atoi(a[7]);
    raise_nofile();
    signal(SIGPIPE, SIG_IGN);

    struct event *tick = NULL;
    if (R.loop == LOOP_LIBEVENT) {
        R.base = event_base_new();
        /* EVLOOP_ONCE returns at least this often, so every bound is seen. */
        tick = event_new(R.base, -1, EV_PERSIST, on_tick, NULL);
        struct timeval tv = { 0, 100000 };
        event_add(tick, &tv);
    }
    if (R.loop == LOOP_EPOLL)
        R.epfd = epoll_create1(EPOLL_CLOEXEC);

    /* One connection through the whole plan and back first. */
    prepare(1);
    R.window = 1;
    double t_end = bench_now() + 30;
    bring_up(t_end);
    if (R.idling != 1) {
        printf("W6ERROR warm-up connection did not reach IDLE: %s\n",
               R.first_error[0] ? R.first_error : "timed out");
        return 1;
    }
    tear_down(t_end);
    R.window = atoi(a[3]);
    prepare(n);

    long rss0 = bench_rss_kib();
    long mall0 = malloc_in_use();
    long free0 = malloc_free();
#ifdef W6_MALLOC_COUNT
    struct w6_count *before = w6_count_snapshot();
#endif
    double srv_cpu0 = proc_cpu_s(server_pid);
    double cpu0 = bench_cpu();
    double t0 = bench_now();
    bring_up(t0 + cap);
    double cpu1 = bench_cpu();
    double srv_cpu1 = proc_cpu_s(server_pid);
    long rss1 = bench_rss_kib();
    long mall1 = malloc_in_use();
    long free1 = malloc_free();
    long hwm1 = status_kib(0, "VmHWM");
    long srv_rss = status_kib(server_pid, "VmRSS");
    double up = R.idling > 0 ? R.t_last_idle - R.t_first : -1;
#ifdef W6_MALLOC_COUNT
    struct w6_count *after = w6_count_snapshot();
    w6_count_report(stdout, before, after, R.idling > 0 ? R.idling : 1);
#endif
    int idling = R.idling, failed = R.failed, started = R.started;
    double down = tear_down(bench_now() + TEARDOWN_S);
    long hwm2 = status_kib(0, "VmHWM");
    int denom = idling > 0 ? idling : 1;
    printf("W6RESULT %s %s n=%d idle=%d failed=%d started=%d up_s=%.3f rss0=%ld rss1=%ld "
           "kib_per_conn=%.2f malloc_per_conn=%.0f peak=%ld peak_end=%ld cpu_ms_per_conn=%.3f "
           "srv_cpu_ms_per_conn=%.3f srv_rss=%ld down_s=%.3f over=%d heap_free_per_conn=%.0f\n",
           loop_names[loop], R.tls ? "tls" : "plain", n, idling, failed, started, up, rss0, rss1,
           (double)(rss1 - rss0) / denom, (double)(mall1 - mall0) / denom, hwm1, hwm2,
           (cpu1 - cpu0) * 1000 / denom, (srv_cpu1 - srv_cpu0) * 1000 / denom, srv_rss, down,
           R.over, (double)(free1 - free0) / denom);
    if (R.first_error[0])
        printf("W6ERROR %s\n", R.first_error);
    fflush(stdout);
    if (tick)
        event_free(tick);
    return idling == n ? 0 : 1;
}

/* ======================================================================
 * The driver
 * ====================================================================== */

static char tmpdir[256];
static int server_pid;

static void cleanup(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        for (int i = 0; i < 50; i++) {
            if (waitpid(server_pid, NULL, WNOHANG) == server_pid) {
                server_pid = 0;
                break;
            }
            usleep(100000);
        }
        if (server_pid > 0) {
            kill(server_pid, SIGKILL);
            waitpid(server_pid, NULL, 0);
            server_pid = 0;
        }
    }
    if (tmpdir[0]) {
        char p[400];
        snprintf(p, sizeof p, "%s/sasldb2", tmpdir);
        unlink(p);
        tlsfake_certs_remove(tmpdir);
        tmpdir[0] = '\0';
    }
}

static void on_fatal_signal(int sig)
{
    cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The directory this program lives in, where w6_server is. */
static void self_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0) {
        snprintf(buf, len, ".");
        return;
    }
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
}

static int make_sasldb(void)
{
    char db[400];
    snprintf(db, sizeof db, "%s/sasldb2", tmpdir);
    int in[2];
    if (pipe(in) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        close(in[0]);
        close(in[1]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        execlp("saslpasswd2", "saslpasswd2", "-p", "-c", "-f", db, "-u", "w6", "-a", "w6", W6_USER,
               (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    if (write(in[1], W6_PASS, strlen(W6_PASS)) < 0)
        perror("w6_client: write");
    close(in[1]);
    int st = 0;
    waitpid(pid, &st, 0);
    struct stat sb;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || stat(db, &sb) < 0) {
        fprintf(stderr, "w6_client: saslpasswd2 -f %s failed (status %d)\n", db, st);
        return -1;
    }
    return 0;
}

static int server_stdin = -1;

static int start_server(const char *iter, char *port, size_t portlen)
{
    char dir[PATH_MAX], exe[PATH_MAX + 16];
    self_dir(dir, sizeof dir);
    snprintf(exe, sizeof exe, "%s/w6_server", dir);
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execl(exe, "w6_server", "-d", tmpdir, "-i", iter, "-T", "3600", (char *)NULL);
        fprintf(stderr, "w6_client: cannot run %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    server_pid = pid;
    close(in[0]);
    close(out[1]);
    server_stdin = in[1]; /* closed when we exit: the server then stops */
    char line[64];
    size_t got = 0;
    struct pollfd p = { out[0], POLLIN, 0 };
    while (got < sizeof line - 1 && poll(&p, 1, 10000) > 0) {
        ssize_t r = read(out[0], line + got, sizeof line - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        if (memchr(line, '\n', got))
            break;
    }
    line[got] = '\0';
    close(out[0]);
    int portnum;
    if (sscanf(line, "PORT %d", &portnum) != 1) {
        fprintf(stderr, "w6_client: the server did not start (said \"%s\")\n", line);
        return -1;
    }
    snprintf(port, portlen, "%d", portnum);
    return 0;
}

struct result {
    char loop[16], mode[8];
    int n, idle, failed, started, over;
    double up, kib, mall, cpu_ms, srv_cpu_ms, down, heapfree;
    long rss0, rss1, peak, peak_end, srv_rss;
};

/* Run one case in a fresh process; 0 when its W6RESULT line came back. */
static int run_child(const char *loop, const char *mode, int n, int window, const char *port,
                     const char *ca, int cap, struct result *res)
{
    char ns[16], ws[16], caps[16], pids[16];
    snprintf(ns, sizeof ns, "%d", n);
    snprintf(ws, sizeof ws, "%d", window);
    snprintf(caps, sizeof caps, "%d", cap);
    snprintf(pids, sizeof pids, "%d", server_pid);
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        execl("/proc/self/exe", "w6_client", "--case", loop, mode, ns, ws, port, ca, caps, pids,
              (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    /* The case bounds itself (bring-up cap + teardown); this is the
     * backstop. */
    double deadline = bench_now() + cap + TEARDOWN_S + 60;
    char buf[65536];
    size_t got = 0;
    int killed = 0;
    for (;;) {
        int left = (int)((deadline - bench_now()) * 1000);
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
        struct pollfd p = { out[0], POLLIN, 0 };
        if (poll(&p, 1, left) <= 0)
            continue;
        ssize_t r = read(out[0], buf + got, sizeof buf - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got >= sizeof buf - 1)
            got = 0; /* a runaway child: keep reading, forget the start */
    }
    buf[got] = '\0';
    close(out[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    /* Echo everything but the result line (errors, the malloc breakdown). */
    char *line = buf, *found = NULL;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(line, "W6RESULT ", 9) == 0)
            found = line;
        else if (*line)
            printf("  [%s/%s] %s\n", loop, mode, line);
        line = nl ? nl + 1 : NULL;
    }
    if (killed)
        printf("  [%s/%s] killed after %d s\n", loop, mode, cap + TEARDOWN_S + 60);
    if (!found)
        return -1;
    memset(res, 0, sizeof *res);
    int k = sscanf(found,
                   "W6RESULT %15s %7s n=%d idle=%d failed=%d started=%d up_s=%lf rss0=%ld "
                   "rss1=%ld kib_per_conn=%lf malloc_per_conn=%lf peak=%ld peak_end=%ld "
                   "cpu_ms_per_conn=%lf srv_cpu_ms_per_conn=%lf srv_rss=%ld down_s=%lf over=%d "
                   "heap_free_per_conn=%lf",
                   res->loop, res->mode, &res->n, &res->idle, &res->failed, &res->started,
                   &res->up, &res->rss0, &res->rss1, &res->kib, &res->mall, &res->peak,
                   &res->peak_end, &res->cpu_ms, &res->srv_cpu_ms, &res->srv_rss, &res->down,
                   &res->over, &res->heapfree);
    return k == 19 ? 0 : -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: w6_client [-n N] [-c WINDOW] [-i ITERATIONS] [-t SECONDS] "
                    "[-l libevent,poll,epoll] [-m plain,tls]\n");
    exit(2);
}

int main(int argc, char **argv)
{
#ifdef W6_MALLOC_COUNT
    w6_count_init();
#endif
    if (argc == 10 && strcmp(argv[1], "--case") == 0)
        return run_case(argv + 2);

    int n = 10000, window = 256, cap = 120;
    const char *iter = "4096", *loops = "libevent,poll", *modes = "plain,tls";
    int opt;
    while ((opt = getopt(argc, argv, "n:c:i:t:l:m:")) != -1) {
        switch (opt) {
        case 'n':
            n = atoi(optarg);
            break;
        case 'c':
            window = atoi(optarg);
            break;
        case 'i':
            iter = optarg;
            break;
        case 't':
            cap = atoi(optarg);
            break;
        case 'l':
            loops = optarg;
            break;
        case 'm':
            modes = optarg;
            break;
        default:
            usage();
        }
    }
    if (n < 1 || window < 1 || cap < 1)
        usage();
    raise_nofile();
    /* Idle: one descriptor per connection, two through the libevent
     * adapter (it watches a duplicate); being made: three (socket, the
     * attempt's epoll set and timerfd), four through the adapter. */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)(n + 3 * window + 64) > rl.rlim_cur)
        printf("note: RLIMIT_NOFILE is %lu (the hard limit): one descriptor per connection "
               "and three per connection being made will not fit; the cases will stop short "
               "of %d\n",
               (unsigned long)rl.rlim_cur, n);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_fatal_signal);
    signal(SIGTERM, on_fatal_signal);
    atexit(cleanup);

    snprintf(tmpdir, sizeof tmpdir, "/tmp/w6.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        tmpdir[0] = '\0';
        perror("w6_client: mkdtemp");
        return 2;
    }
    char port[16], ca[400];
    snprintf(ca, sizeof ca, "%s/ca.pem", tmpdir);
    if (tlsfake_certs_make(tmpdir) < 0 || make_sasldb() < 0 ||
        start_server(iter, port, sizeof port) < 0)
        return 2;

    printf("W6: %d connections, window %d, SCRAM-SHA-256 with %s iterations, bring-up bound "
           "%d s, server pid %d on 127.0.0.1:%s\n",
           n, window, iter, cap, server_pid, port);
    printf("%-9s %-5s %6s %6s %8s %9s %11s %9s %9s %9s %11s %11s %8s\n", "loop", "mode", "N",
           "idle", "up s", "KiB/conn", "malloc/conn", "heapfree", "peak MiB", "base MiB",
           "cli ms/conn", "srv ms/conn", "srv MiB");
    fflush(stdout);

    int bad = 0;
    char lbuf[128], mbuf[128];
    snprintf(lbuf, sizeof lbuf, "%s", loops);
    char *ls, *lsave = NULL;
    for (ls = strtok_r(lbuf, ",", &lsave); ls; ls = strtok_r(NULL, ",", &lsave)) {
        snprintf(mbuf, sizeof mbuf, "%s", modes);
        char *ms, *msave = NULL;
        for (ms = strtok_r(mbuf, ",", &msave); ms; ms = strtok_r(NULL, ",", &msave)) {
            struct result r;
            if (run_child(ls, ms, n, window, port, ca, cap, &r) < 0) {
                printf("%-9s %-5s %6d   (no result)\n", ls, ms, n);
                bad = 1;
                continue;
            }
            printf("%-9s %-5s %6d %6d %8.2f %9.2f %11.0f %9.0f %9.1f %9.1f %11.2f %11.2f %8.1f\n",
                   r.loop, r.mode, r.n, r.idle, r.up, r.kib, r.mall, r.heapfree, r.peak / 1024.0,
                   r.rss0 / 1024.0, r.cpu_ms, r.srv_cpu_ms, r.srv_rss / 1024.0);
            if (r.idle != r.n || r.failed)
                bad = 1;
            fflush(stdout);
        }
    }
    close(server_stdin);
    cleanup();
    return bad;
}
