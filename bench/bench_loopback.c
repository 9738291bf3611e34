/*
 * bench_loopback: the whole library over a real TCP connection on
 * 127.0.0.1, against the ceiling of the same bytes read by a bare recv()
 * loop.
 *
 * A server thread in the same process plays a minimal IMAP server: a
 * greeting, then, on the one command it expects, a stream of responses and
 * a tagged OK.  The client side uses only the public API.  Every run is a
 * forked child (server thread included), so its peak RSS is its own; the
 * server sends its literals from one 64 KiB pattern, so the figure is the
 * client's memory, not the stream's.
 *
 *     bench_loopback [-r RUNS] [-m MIB] [-n REPLIES] [-p NOOPS] [CASE...]
 *
 * Figures are printed, never judged; the exit status is non-zero only when
 * a reply was missing, of the wrong length or out of order.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cyrus/imclient.h"
#include "child.h"
#include "listener.h"
#include "stats.h"

#define CHUNK (64 * 1024)
#define MIB (1024 * 1024)
#define MAX_RUNS 51
#define IO_TIMEOUT_S 60
#define RUN_DEADLINE_S 600.0

static const char greeting[] = "* OK bench server ready\r\n";
static const char done_line[] = "1 OK done\r\n";
static const char fetch_body[] = "1 FETCH 1:* BODY[]\r\n";
static const char fetch_flags[] = "1 FETCH 1:* FLAGS\r\n";

/* MODE_STREAMED is MODE_LITERALS on the wire; the library client streams
 * each literal (imclient_addliteralcallback) instead of collecting it. */
enum mode { MODE_LITERALS, MODE_SMALL, MODE_PIPELINE, MODE_BATCHED, MODE_STREAMED };

/* Both pipeline cases play the same exchange; only the library's flag differs. */
static int pipelined(enum mode m)
{
    return m == MODE_PIPELINE || m == MODE_BATCHED;
}

static int has_literals(enum mode m)
{
    return m == MODE_LITERALS || m == MODE_STREAMED;
}

struct server {
    enum mode mode;
    uint64_t count; /* responses to stream, or NOOPs to answer */
    int listen_fd;
    int port;
    pthread_t thread;
    uint64_t bytes_sent;
    char why[200]; /* "" unless the server saw something wrong */
};

struct result {
    int ok;
    char why[300];
    double seconds;
    double cpu_seconds; /* the client thread's CPU time, kernel included */
    double bytes;
    double items;
    double reads; /* how many reads the client made: small reads cost syscalls */
    long rss_before_kib;
    long rss_peak_kib;
};

/* ---- the server thread -------------------------------------------------- */

static int send_iov(int fd, struct iovec *iov, int cnt, uint64_t *total)
{
    while (cnt > 0) {
        ssize_t n = writev(fd, iov, cnt);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        *total += (uint64_t)n;
        while (cnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

static int send_buf(int fd, const char *p, size_t n, uint64_t *total)
{
    struct iovec v = { (void *)p, n };
    return send_iov(fd, &v, 1, total);
}

/* Read one CRLF line (bounded) into buf; the client sends nothing after it
 * until it is answered. */
static int read_line(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = recv(fd, buf + len, 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        len++;
        if (len >= 2 && buf[len - 2] == '\r' && buf[len - 1] == '\n') {
            buf[len] = '\0';
            return 0;
        }
    }
    return -1;
}

static int stream_literals(struct server *sv, int fd)
{
    static char pattern[CHUNK];
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (char)('a' + i % 26);
    static const char trailer[] = ")\r\n";
    for (uint64_t i = 1; i <= sv->count; i++) {
        char head[64];
        int hl = snprintf(head, sizeof head, "* %llu FETCH (BODY[] {%d}\r\n",
                          (unsigned long long)i, MIB);
        struct iovec v[2 + MIB / CHUNK];
        int k = 0;
        v[k++] = (struct iovec){ head, (size_t)hl };
        for (int j = 0; j < MIB / CHUNK; j++)
            v[k++] = (struct iovec){ pattern, CHUNK };
        v[k++] = (struct iovec){ (void *)trailer, sizeof trailer - 1 };
        if (send_iov(fd, v, k, &sv->bytes_sent) < 0)
            return -1;
    }
    return 0;
}


static int stream_small(struct server *sv, int fd)
{
    static const char tail[] = " FETCH (FLAGS (\\Seen))\r\n";
    char buf[CHUNK];
    size_t len = 0;
    for (uint64_t i = 1; i <= sv->count; i++) {
        if (len > sizeof buf - 64) {
            if (send_buf(fd, buf, len, &sv->bytes_sent) < 0)
                return -1;
            len = 0;
        }
        buf[len++] = '*';
        buf[len++] = ' ';
        len += bench_put_uint(buf + len, i);
        memcpy(buf + len, tail, sizeof tail - 1);
        len += sizeof tail - 1;
    }
    return send_buf(fd, buf, len, &sv->bytes_sent);
}

/* Answer "n NOOP" lines with "n OK" until count have been answered; all
 * answers to one read go out in one write, as a real server's would. */
static int answer_noops(struct server *sv, int fd)
{
    char in[CHUNK + 64];
    size_t have = 0;
    char *out = malloc(sizeof in); /* "n OK\r\n" is shorter than "n NOOP\r\n" */
    uint64_t answered = 0;
    int rc = out ? 0 : -1;
    while (rc == 0 && answered < sv->count) {
        if (have == sizeof in) {
            snprintf(sv->why, sizeof sv->why, "server: command line too long");
            rc = -1;
            break;
        }
        ssize_t n = recv(fd, in + have, sizeof in - have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(sv->why, sizeof sv->why, "server: client stopped after %llu NOOPs",
                     (unsigned long long)answered);
            rc = -1;
            break;
        }
        have += (size_t)n;
        size_t used = 0, olen = 0;
        char *nl;
        while ((nl = memchr(in + used, '\n', have - used)) != NULL) {
            size_t ll = (size_t)(nl - (in + used)) + 1;
            const char *sp = memchr(in + used, ' ', ll);
            if (!sp || ll < 8 || memcmp(sp, " NOOP\r\n", 7) != 0) {
                snprintf(sv->why, sizeof sv->why, "server: unexpected command");
                rc = -1;
                break;
            }
            size_t tl = (size_t)(sp - (in + used));
            memcpy(out + olen, in + used, tl);
            memcpy(out + olen + tl, " OK\r\n", 5);
            olen += tl + 5;
            used += ll;
            answered++;
        }
        memmove(in, in + used, have - used);
        have -= used;
        if (rc == 0 && send_buf(fd, out, olen, &sv->bytes_sent) < 0)
            rc = -1;
    }
    free(out);
    return rc;
}

static int serve(struct server *sv, int fd)
{
    if (send_buf(fd, greeting, sizeof greeting - 1, &sv->bytes_sent) < 0)
        return -1;
    if (pipelined(sv->mode))
        return answer_noops(sv, fd);
    char line[256];
    const char *want = has_literals(sv->mode) ? fetch_body : fetch_flags;
    if (read_line(fd, line, sizeof line) < 0 || strcmp(line, want) != 0) {
        snprintf(sv->why, sizeof sv->why, "server: expected the FETCH command");
        return -1;
    }
    int r = has_literals(sv->mode) ? stream_literals(sv, fd) : stream_small(sv, fd);
    if (r < 0)
        return -1;
    return send_buf(fd, done_line, sizeof done_line - 1, &sv->bytes_sent);
}

static void *server_main(void *arg)
{
    struct server *sv = arg;
    pthread_setname_np(pthread_self(), "bench-server"); /* apart in perf's output */
    int fd = accept_within(sv->listen_fd, IO_TIMEOUT_S * 1000);
    if (fd == -2) {
        snprintf(sv->why, sizeof sv->why, "server: no connection");
        return NULL;
    }
    if (fd < 0) {
        snprintf(sv->why, sizeof sv->why, "server: accept: %s", strerror(errno));
        return NULL;
    }
    /* A stalled client must not hold the thread forever. */
    struct timeval tv = { IO_TIMEOUT_S, 0 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (serve(sv, fd) < 0 && !sv->why[0])
        snprintf(sv->why, sizeof sv->why, "server: %s", strerror(errno));
    /* Wait for the client to close, so nothing it sent is answered by RST. */
    shutdown(fd, SHUT_WR);
    char sink[4096];
    while (recv(fd, sink, sizeof sink, 0) > 0)
        ;
    close(fd);
    return NULL;
}

static int server_start(struct server *sv, enum mode mode, uint64_t count)
{
    memset(sv, 0, sizeof *sv);
    sv->mode = mode;
    sv->count = count;
    char port[16];
    sv->listen_fd = listen_loopback(1, port, sizeof port);
    if (sv->listen_fd < 0) {
        perror("bench_loopback: listen");
        return -1;
    }
    sv->port = atoi(port);
    if (pthread_create(&sv->thread, NULL, server_main, sv) != 0) {
        perror("bench_loopback: pthread_create");
        return -1;
    }
    return 0;
}

static void server_join(struct server *sv)
{
    pthread_join(sv->thread, NULL);
    close(sv->listen_fd);
}

/* ---- the library client ------------------------------------------------- */

struct lib_state {
    uint64_t replies, wrong;
    uint64_t streamed; /* literal bytes handed to the streamer */
    long next_msgno;
    size_t textlen; /* expected textlen of every FETCH, 0: not checked */
    uint64_t finished, not_ok;
};

static void on_fetch(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct lib_state *st = rock;
    (void)c;
    st->replies++;
    if (r->msgno != st->next_msgno++)
        st->wrong++;
    else if (st->textlen && (r->textlen != st->textlen || r->text[r->textlen - 1] != ')'))
        st->wrong++;
}

static void on_piece(struct imclient *c, void *rock, const struct imclient_literal *p)
{
    struct lib_state *st = rock;
    (void)c;
    if (p->size != MIB || p->offset + p->len > p->size)
        st->wrong++;
    st->streamed += p->len;
}

/* The trace hook sees each read the library makes, which is all we want. */
static void count_reads(struct imclient *c, void *rock, int direction, const char *data,
                        size_t len)
{
    (void)c;
    (void)data;
    (void)len;
    if (direction == 'S')
        ++*(double *)rock;
}

static void on_done(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct lib_state *st = rock;
    (void)c;
    st->finished++;
    if (strcmp(r->keyword, "OK") != 0)
        st->not_ok++;
}

/* Run events until want commands have finished; 0, or -1 with why set. */
static int lib_wait(struct imclient *c, struct lib_state *st, uint64_t want, char *why,
                    size_t whylen)
{
    double deadline = bench_now() + RUN_DEADLINE_S;
    while (st->finished < want) {
        int r = imclient_processoneevent_timeout(c, IO_TIMEOUT_S * 1000);
        if (r < 0 && st->finished < want) {
            snprintf(why, whylen, "connection closed: %s", imclient_error(c));
            return -1;
        }
        if (r == 0 || bench_now() > deadline) {
            snprintf(why, whylen, "timed out waiting for replies");
            return -1;
        }
    }
    return 0;
}

static struct imclient *lib_connect(const struct server *sv, char *why, size_t whylen)
{
    char port[16];
    snprintf(port, sizeof port, "%d", sv->port);
    struct imclient *c = NULL;
    int r = imclient_connect(&c, "127.0.0.1", port);
    if (r != 0) {
        snprintf(why, whylen, "imclient_connect: %d", r);
        return NULL;
    }
    return c;
}

static void lib_fetch(struct result *res, struct server *sv, enum mode mode, uint64_t n)
{
    struct lib_state st;
    memset(&st, 0, sizeof st);
    st.next_msgno = 1;
    if (mode == MODE_LITERALS)
        st.textlen = strlen("(BODY[] {1048576}\r\n") + MIB + 1;
    if (mode == MODE_STREAMED) /* the reply keeps the header, not the bytes */
        st.textlen = strlen("(BODY[] {1048576}\r\n") + 1;
    struct imclient *c = lib_connect(sv, res->why, sizeof res->why);
    if (!c)
        return;
    imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED, on_fetch, &st, NULL);
    if (mode == MODE_STREAMED)
        imclient_addliteralcallback(c, "FETCH", CALLBACK_NUMBERED, on_piece, &st);
    imclient_settrace(c, count_reads, &res->reads);
    res->rss_before_kib = bench_peak_rss_kib();
    double t0 = bench_now(), c0 = bench_thread_cpu();
    imclient_send(c, on_done, &st, has_literals(mode) ? "FETCH 1:* BODY[]" : "FETCH 1:* FLAGS");
    int r = lib_wait(c, &st, 1, res->why, sizeof res->why);
    res->seconds = bench_now() - t0;
    res->cpu_seconds = bench_thread_cpu() - c0;
    res->rss_peak_kib = bench_peak_rss_kib();
    imclient_close(c);
    res->items = (double)st.replies;
    if (r < 0)
        return;
    if (mode == MODE_STREAMED && st.streamed != n * MIB)
        st.wrong++;
    if (st.not_ok || st.replies != n || st.wrong)
        snprintf(res->why, sizeof res->why, "%llu FETCH replies (%llu wrong), expected %llu",
                 (unsigned long long)st.replies, (unsigned long long)st.wrong,
                 (unsigned long long)n);
    else
        res->ok = 1;
}

static void lib_pipeline(struct result *res, struct server *sv, uint64_t n, int batch)
{
    struct lib_state st;
    memset(&st, 0, sizeof st);
    struct imclient *c = lib_connect(sv, res->why, sizeof res->why);
    if (!c)
        return;
    imclient_settrace(c, count_reads, &res->reads);
    if (batch)
        imclient_setflags(c, IMCLIENT_CONN_BATCH);
    res->rss_before_kib = bench_peak_rss_kib();
    double t0 = bench_now(), c0 = bench_thread_cpu();
    for (uint64_t i = 0; i < n; i++)
        imclient_send(c, on_done, &st, "NOOP");
    int r = lib_wait(c, &st, n, res->why, sizeof res->why);
    res->seconds = bench_now() - t0;
    res->cpu_seconds = bench_thread_cpu() - c0;
    res->rss_peak_kib = bench_peak_rss_kib();
    imclient_close(c);
    res->items = (double)st.finished;
    if (r < 0)
        return;
    if (st.not_ok)
        snprintf(res->why, sizeof res->why, "%llu NOOPs did not get OK",
                 (unsigned long long)st.not_ok);
    else
        res->ok = 1;
}

/* ---- the ceiling: the same stream into a bare recv() loop --------------- */

static int raw_connect(const struct server *sv)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)sv->port);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct timeval tv = { IO_TIMEOUT_S, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void raw_fetch(struct result *res, struct server *sv, enum mode mode, uint64_t n)
{
    int fd = raw_connect(sv);
    if (fd < 0) {
        snprintf(res->why, sizeof res->why, "connect: %s", strerror(errno));
        return;
    }
    static char buf[CHUNK];
    const char *cmd = has_literals(mode) ? fetch_body : fetch_flags;
    res->rss_before_kib = bench_peak_rss_kib();
    double t0 = bench_now(), c0 = bench_thread_cpu();
    uint64_t got = 0, sent = 0;
    send_buf(fd, cmd, strlen(cmd), &sent);
    for (;;) {
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (uint64_t)k;
        res->reads++;
    }
    res->seconds = bench_now() - t0;
    res->cpu_seconds = bench_thread_cpu() - c0;
    res->rss_peak_kib = bench_peak_rss_kib();
    close(fd);
    server_join(sv);
    res->items = (double)n;
    res->bytes = (double)got;
    if (got != sv->bytes_sent || sv->why[0])
        snprintf(res->why, sizeof res->why, "read %llu bytes of %llu %s",
                 (unsigned long long)got, (unsigned long long)sv->bytes_sent, sv->why);
    else
        res->ok = 1;
}

/* The pipelining ceiling: every command written in as few send()s as the
 * socket takes, the answers counted by their line ends, from one poll loop
 * so neither side can block the other. */
static void raw_pipeline(struct result *res, struct server *sv, uint64_t n)
{
    int fd = raw_connect(sv);
    if (fd < 0) {
        snprintf(res->why, sizeof res->why, "connect: %s", strerror(errno));
        return;
    }
    char *cmds = malloc((size_t)n * 32);
    if (!cmds) {
        snprintf(res->why, sizeof res->why, "out of memory");
        close(fd);
        return;
    }
    size_t clen = 0;
    for (uint64_t i = 1; i <= n; i++) {
        clen += bench_put_uint(cmds + clen, i);
        memcpy(cmds + clen, " NOOP\r\n", 7);
        clen += 7;
    }
    static char buf[CHUNK];
    uint64_t lines = 0, got = 0;
    size_t off = 0;
    res->rss_before_kib = bench_peak_rss_kib();
    double t0 = bench_now(), c0 = bench_thread_cpu();
    double deadline = t0 + RUN_DEADLINE_S;
    while (lines < n + 1 && bench_now() < deadline) { /* + 1: the greeting */
        struct pollfd p = { fd, POLLIN | (off < clen ? POLLOUT : 0), 0 };
        if (poll(&p, 1, IO_TIMEOUT_S * 1000) <= 0)
            break;
        if ((p.revents & POLLOUT) && off < clen) {
            ssize_t k = send(fd, cmds + off, clen - off, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (k > 0)
                off += (size_t)k;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
                break;
            if (k > 0) {
                got += (uint64_t)k;
                res->reads++;
                for (const char *q = buf; (q = memchr(q, '\n', (size_t)(buf + k - q))); q++)
                    lines++;
            }
        }
    }
    res->seconds = bench_now() - t0;
    res->cpu_seconds = bench_thread_cpu() - c0;
    res->rss_peak_kib = bench_peak_rss_kib();
    close(fd);
    free(cmds);
    server_join(sv);
    res->items = (double)(lines - (lines > 0));
    res->bytes = (double)got;
    if (lines != n + 1 || got != sv->bytes_sent || sv->why[0])
        snprintf(res->why, sizeof res->why, "%llu answers, %llu of %llu bytes %s",
                 (unsigned long long)(lines - (lines > 0)), (unsigned long long)got,
                 (unsigned long long)sv->bytes_sent, sv->why);
    else
        res->ok = 1;
}

/* ---- cases and the driver ----------------------------------------------- */

struct params {
    uint64_t literals, small, noops;
};

struct bench_case {
    const char *name;
    int raw;
    enum mode mode;
};

static void run_once(const struct bench_case *bc, const struct params *pp,
                     struct result *res)
{
    uint64_t n = has_literals(bc->mode)   ? pp->literals
                 : bc->mode == MODE_SMALL  ? pp->small
                                           : pp->noops;
    struct server sv;
    memset(res, 0, sizeof *res);
    if (server_start(&sv, bc->mode, n) < 0) {
        snprintf(res->why, sizeof res->why, "could not start the server");
        return;
    }
    if (bc->raw) { /* these join the server: they need its byte count */
        if (pipelined(bc->mode))
            raw_pipeline(res, &sv, n);
        else
            raw_fetch(res, &sv, bc->mode, n);
        return;
    }
    if (pipelined(bc->mode))
        lib_pipeline(res, &sv, n, bc->mode == MODE_BATCHED);
    else
        lib_fetch(res, &sv, bc->mode, n);
    server_join(&sv);
    res->bytes = (double)sv.bytes_sent;
    if (res->ok && sv.why[0]) {
        res->ok = 0;
        snprintf(res->why, sizeof res->why, "%s", sv.why);
    }
}

struct job {
    const struct bench_case *bc;
    const struct params *pp;
};

static void run_job(const void *arg, void *out)
{
    const struct job *j = arg;
    run_once(j->bc, j->pp, out);
}

static int run_in_child(const struct bench_case *bc, const struct params *pp,
                        struct result *out)
{
    struct job j = { bc, pp };
    if (bench_in_child(run_job, &j, out, sizeof *out, "bench_loopback", bc->name) < 0)
        return -1;
    if (!out->ok) {
        fprintf(stderr, "bench_loopback: %s: FUNCTIONAL ERROR: %s\n", bc->name, out->why);
        return -1;
    }
    return 0;
}

struct series {
    double rate[MAX_RUNS], mbs[MAX_RUNS], cpu_ns_per_byte[MAX_RUNS], cpu_ns_per_item[MAX_RUNS];
    double per_read[MAX_RUNS];
    long rss_before, rss_peak;
    double bytes, items;
};

static void record(struct series *s, int i, const struct result *r)
{
    s->rate[i] = r->items / r->seconds;
    s->mbs[i] = r->bytes / r->seconds / 1e6;
    s->cpu_ns_per_byte[i] = r->cpu_seconds * 1e9 / r->bytes;
    s->cpu_ns_per_item[i] = r->cpu_seconds * 1e9 / r->items;
    s->per_read[i] = r->reads > 0 ? r->bytes / r->reads : 0;
    s->bytes = r->bytes;
    s->items = r->items;
    s->rss_before = r->rss_before_kib;
    if (r->rss_peak_kib > s->rss_peak)
        s->rss_peak = r->rss_peak_kib;
}

static void print_series(const char *label, const char *unit, const char *item,
                         struct series *s, int runs, struct bench_summary *rate_out)
{
    struct bench_summary m = bench_summarize(s->mbs, (size_t)runs);
    struct bench_summary q = bench_summarize(s->rate, (size_t)runs);
    printf("  %-8s %9.1f MB/s [%.1f .. %.1f]   %10.0f %s [%.0f .. %.0f]\n", label,
           m.median, m.min, m.max, q.median, unit, q.min, q.max);
    struct bench_summary c = bench_summarize(s->cpu_ns_per_byte, (size_t)runs);
    struct bench_summary ci = bench_summarize(s->cpu_ns_per_item, (size_t)runs);
    printf("  %-8s client CPU %.3f ns/byte [%.3f .. %.3f], %.0f ns per %s\n", "", c.median,
           c.min, c.max, ci.median, item);
    struct bench_summary pr = bench_summarize(s->per_read, (size_t)runs);
    printf("  %-8s %.0f bytes per read [%.0f .. %.0f]; peak RSS %ld KiB, %ld KiB before "
           "the stream\n", "", pr.median, pr.min, pr.max, s->rss_peak, s->rss_before);
    *rate_out = q;
}

/* Library and raw runs alternate, so both see the same machine. */
struct pair {
    const char *title;
    enum mode mode;
    const char *rate_unit; /* "replies/s" */
    const char *item;      /* "reply" */
    const char *items;     /* "replies" */
};

static int run_pair(const struct pair *pr, const struct params *pp, int runs)
{
    struct bench_case lib = { pr->title, 0, pr->mode }, raw = { pr->title, 1, pr->mode };
    struct series ls, rs;
    memset(&ls, 0, sizeof ls);
    memset(&rs, 0, sizeof rs);
    struct result r;
    for (int i = 0; i < runs; i++) {
        if (run_in_child(&raw, pp, &r) < 0)
            return -1;
        record(&rs, i, &r);
        if (run_in_child(&lib, pp, &r) < 0)
            return -1;
        record(&ls, i, &r);
    }
    double ratio[MAX_RUNS], cpu_ratio[MAX_RUNS];
    for (int i = 0; i < runs; i++) { /* pairwise, before summarize sorts them */
        ratio[i] = ls.mbs[i] / rs.mbs[i];
        cpu_ratio[i] = ls.cpu_ns_per_byte[i] / rs.cpu_ns_per_byte[i];
    }
    printf("%s: %.1f MB, %.0f %s\n", pr->title, ls.bytes / 1e6, ls.items, pr->items);
    struct bench_summary lq, rq;
    print_series("library", pr->rate_unit, pr->item, &ls, runs, &lq);
    print_series("raw", pr->rate_unit, pr->item, &rs, runs, &rq);
    struct bench_summary q = bench_summarize(ratio, (size_t)runs);
    struct bench_summary cq = bench_summarize(cpu_ratio, (size_t)runs);
    printf("  %-8s library/raw: throughput %.3g [%.3g .. %.3g], client CPU per byte "
           "%.3g [%.3g .. %.3g]\n", "ratio", q.median, q.min, q.max, cq.median, cq.min,
           cq.max);
    fflush(stdout);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_loopback [-r RUNS] [-m MIB] [-n REPLIES] [-p NOOPS] "
                    "[literals|streamed|small|pipeline|batched...]\n");
    exit(2);
}

static int wanted(const char *name, int argc, char **argv, int first)
{
    if (first >= argc)
        return 1;
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 15;
    struct params pp = { 1024, 1000000, 100000 };
    int opt;
    while ((opt = getopt(argc, argv, "r:m:n:p:h")) != -1) {
        long v = atol(optarg ? optarg : "0");
        if (opt == 'r')
            runs = (int)v;
        else if (opt == 'm')
            pp.literals = (uint64_t)v;
        else if (opt == 'n')
            pp.small = (uint64_t)v;
        else if (opt == 'p')
            pp.noops = (uint64_t)v;
        else
            usage();
        if (v < 1)
            usage();
    }
    if (runs > MAX_RUNS)
        usage();
    for (int i = optind; i < argc; i++)
        if (strcmp(argv[i], "literals") && strcmp(argv[i], "streamed") &&
            strcmp(argv[i], "small") && strcmp(argv[i], "pipeline") &&
            strcmp(argv[i], "batched"))
            usage();

    printf("bench_loopback: 127.0.0.1, server thread in the same process; %d run%s per "
           "case, each in its own process; median [min .. max]; MB = 10^6 bytes\n",
           runs, runs == 1 ? "" : "s");
    static const struct pair pairs[] = {
        { "literals: FETCH responses with a 1 MiB literal each", MODE_LITERALS,
          "replies/s", "reply", "replies" },
        { "streamed: the same literals, streamed to the application in pieces",
          MODE_STREAMED, "replies/s", "reply", "replies" },
        { "small: `* n FETCH (FLAGS (\\Seen))` lines", MODE_SMALL, "replies/s", "reply",
          "replies" },
        { "pipeline: NOOPs sent back to back, each answered \"n OK\"", MODE_PIPELINE,
          "commands/s", "command", "commands" },
        { "batched: the same NOOPs with IMCLIENT_CONN_BATCH", MODE_BATCHED, "commands/s",
          "command", "commands" },
    };
    static const char *const names[] = { "literals", "streamed", "small", "pipeline", "batched" };
    int failed = 0;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (wanted(names[i], argc, argv, optind))
            failed |= run_pair(&pairs[i], &pp, runs) < 0;
    return failed;
}
