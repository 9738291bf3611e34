/*
 * peer_server: the replay server every peer of bench/peers talks to.
 *
 *     peer_server [-l LITERAL_BYTES]
 *
 * It listens on 127.0.0.1, prints "PORT n" and serves one connection at a
 * time until its standard input closes (the driver is gone).  Each
 * connection gets a PREAUTH greeting; then it answers by tag:
 *
 *   FETCH 1:N ... BODY[] ...  N literals of LITERAL_BYTES (W1, W4)
 *   FETCH 1:N ...             N lines "* i FETCH (UID i FLAGS (\Seen))" (W2)
 *   NOOP                      tagged OK (W3)
 *   any command ending {N}    "+ " then N bytes read and dropped (W5's APPEND)
 *   SELECT, EXAMINE, CAPABILITY, LOGOUT, and OK for anything else
 *
 * The socket is non-blocking and the answers to everything read so far
 * are queued without bound, so a client that writes 400k NOOPs before
 * reading a reply never blocks the server, and the server never blocks it.
 * The W2 stream is built once per size and the literal body once, so the
 * server sends from memory at full speed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "listener.h"
#include "peer_workload.h"
#include "stats.h"

#define READ_CHUNK (256 * 1024)

struct buf {
    char *data;
    size_t len, cap, head; /* bytes [head, len) are pending */
};

static int buf_add(struct buf *b, const char *p, size_t n)
{
    if (b->head == b->len)
        b->head = b->len = 0;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* What the server sends after the queued replies: a FETCH's stream. */
struct stream {
    int active;
    int literals;        /* W1/W4; else W2's prebuilt lines */
    uint64_t next, count; /* literals: the next message number */
    char head[64];
    size_t head_len, head_off, body_off;
    size_t small_off;
    char tag[64];
};

struct server {
    uint64_t literal;
    char *body; /* one literal and PEER_LITERAL_TAIL */
    size_t body_len;
    char *small; /* W2's lines for small_count messages */
    size_t small_len;
    uint64_t small_count;
};

struct conn {
    int fd;
    struct buf in, out;
    struct stream st;
    size_t seg;       /* in c->in: where the command's text after its last literal begins */
    uint64_t discard; /* literal bytes of a command still to drop */
    int closing;      /* LOGOUT answered: close once out is sent */
};

static int build_small(struct server *sv, uint64_t count)
{
    if (sv->small && sv->small_count == count)
        return 0;
    free(sv->small);
    sv->small = malloc(count * 64 + 1);
    if (!sv->small)
        return -1;
    static const char mid[] = " FETCH (UID ", tail[] = " FLAGS (\\Seen))\r\n";
    char *p = sv->small;
    for (uint64_t i = 1; i <= count; i++) {
        *p++ = '*';
        *p++ = ' ';
        p += bench_put_uint(p, i);
        memcpy(p, mid, sizeof mid - 1);
        p += sizeof mid - 1;
        p += bench_put_uint(p, i);
        memcpy(p, tail, sizeof tail - 1);
        p += sizeof tail - 1;
    }
    sv->small_len = (size_t)(p - sv->small);
    sv->small_count = count;
    return 0;
}

/* The first word after the tag, and what follows it. */
static void split_command(char *line, char **tag, char **verb, char **args)
{
    *tag = line;
    char *sp = strchr(line, ' ');
    *verb = sp ? sp + 1 : line + strlen(line);
    if (sp)
        *sp = '\0';
    sp = strchr(*verb, ' ');
    *args = sp ? sp + 1 : *verb + strlen(*verb);
    if (sp)
        *sp = '\0';
}

static int reply(struct conn *c, const char *tag, const char *text)
{
    char line[256];
    int n = snprintf(line, sizeof line, "%s %s\r\n", tag, text);
    return buf_add(&c->out, line, (size_t)n);
}

static int start_fetch(struct server *sv, struct conn *c, const char *tag, const char *args)
{
    if (strncasecmp(args, "UID ", 4) == 0)
        args += 4;
    unsigned long long first, last;
    if (sscanf(args, "%llu:%llu", &first, &last) != 2 || first != 1)
        return reply(c, tag, "BAD this server serves FETCH 1:N only");
    memset(&c->st, 0, sizeof c->st);
    snprintf(c->st.tag, sizeof c->st.tag, "%s", tag);
    c->st.count = last;
    c->st.next = 1;
    c->st.literals = strstr(args, "BODY[") != NULL || strstr(args, "body[") != NULL;
    if (!c->st.literals && build_small(sv, last) < 0)
        return -1;
    c->st.active = 1;
    return 0;
}

static int command(struct server *sv, struct conn *c, char *line)
{
    char *tag, *verb, *args;
    split_command(line, &tag, &verb, &args);
    if (strcasecmp(verb, "NOOP") == 0)
        return reply(c, tag, "OK NOOP done");
    if (strcasecmp(verb, "FETCH") == 0 || strcasecmp(verb, "UID") == 0)
        return start_fetch(sv, c, tag, args);
    if (strcasecmp(verb, "CAPABILITY") == 0) {
        static const char cap[] = "* CAPABILITY IMAP4rev1\r\n";
        return buf_add(&c->out, cap, sizeof cap - 1) < 0 ? -1 : reply(c, tag, "OK done");
    }
    if (strcasecmp(verb, "SELECT") == 0 || strcasecmp(verb, "EXAMINE") == 0) {
        static const char sel[] = "* FLAGS (\\Seen)\r\n* 0 EXISTS\r\n* 0 RECENT\r\n";
        return buf_add(&c->out, sel, sizeof sel - 1) < 0 ? -1
                                                        : reply(c, tag, "OK [READ-WRITE] done");
    }
    if (strcasecmp(verb, "LOGOUT") == 0) {
        static const char bye[] = "* BYE peer replay server\r\n";
        c->closing = 1;
        return buf_add(&c->out, bye, sizeof bye - 1) < 0 ? -1 : reply(c, tag, "OK bye");
    }
    return reply(c, tag, "OK done"); /* APPEND, LOGIN, ... */
}

/* A line ending in {N} or {N+}: N, and whether the client waits for "+ ". */
static int literal_suffix(const char *line, size_t len, uint64_t *n, int *sync)
{
    if (len < 3 || line[len - 1] != '}')
        return 0;
    size_t i = len - 1;
    *sync = 1;
    if (line[i - 1] == '+') {
        *sync = 0;
        i--;
    }
    uint64_t v = 0, mul = 1;
    size_t digits = 0;
    while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9') {
        v += (uint64_t)(line[i - 1] - '0') * mul;
        mul *= 10;
        i--;
        digits++;
    }
    if (!digits || i == 0 || line[i - 1] != '{')
        return 0;
    *n = v;
    return 1;
}

/* Take whole commands out of c->in, from c->in.head.  A command with a
 * literal goes on after it: its text so far stays in c->in, the CRLF and
 * the literal's bytes are cut out, and c->seg marks where the text after
 * the literal begins (only that part may announce the next literal). */
static int consume_input(struct server *sv, struct conn *c)
{
    for (;;) {
        /* replies to later commands must not cut into a FETCH's stream */
        if (c->st.active)
            return 0;
        if (c->discard) {
            size_t have = c->in.len - c->seg;
            size_t take = have < c->discard ? have : (size_t)c->discard;
            memmove(c->in.data + c->seg, c->in.data + c->seg + take, have - take);
            c->in.len -= take;
            c->discard -= take;
            if (c->discard)
                return 0;
        }
        char *nl = memchr(c->in.data + c->seg, '\n', c->in.len - c->seg);
        if (!nl)
            return 0;
        size_t lf = (size_t)(nl - c->in.data);
        size_t text_end = lf > c->seg && c->in.data[lf - 1] == '\r' ? lf - 1 : lf;
        uint64_t lit;
        int sync;
        if (literal_suffix(c->in.data + c->seg, text_end - c->seg, &lit, &sync)) {
            if (sync && buf_add(&c->out, "+ go ahead\r\n", 12) < 0)
                return -1;
            memmove(c->in.data + text_end, c->in.data + lf + 1, c->in.len - lf - 1);
            c->in.len -= lf + 1 - text_end;
            c->seg = text_end;
            c->discard = lit;
            continue;
        }
        c->in.data[text_end] = '\0';
        if (command(sv, c, c->in.data + c->in.head) < 0)
            return -1;
        c->in.head = c->seg = lf + 1;
    }
}

/* Move what is left of c->in to its start, with room for one more read. */
static int make_room(struct conn *c)
{
    if (c->in.head) {
        memmove(c->in.data, c->in.data + c->in.head, c->in.len - c->in.head);
        c->in.len -= c->in.head;
        c->seg -= c->in.head;
        c->in.head = 0;
    }
    if (c->in.cap - c->in.len >= READ_CHUNK)
        return 0;
    char *d = realloc(c->in.data, c->in.len + READ_CHUNK);
    if (!d)
        return -1;
    c->in.data = d;
    c->in.cap = c->in.len + READ_CHUNK;
    return 0;
}

/* Write what is pending: queued replies first, then the FETCH stream, and
 * its tagged reply once the stream is done.  0, or -1 when the peer went. */
static int pump_output(struct server *sv, struct conn *c)
{
    for (;;) {
        struct iovec v[2];
        int k = 0;
        if (c->out.head < c->out.len) {
            v[k++] = (struct iovec){ c->out.data + c->out.head, c->out.len - c->out.head };
        } else if (c->st.active && !c->st.literals) {
            v[k++] = (struct iovec){ sv->small + c->st.small_off, sv->small_len - c->st.small_off };
        } else if (c->st.active) {
            if (c->st.head_len == 0)
                c->st.head_len = (size_t)snprintf(c->st.head, sizeof c->st.head,
                                                  PEER_LITERAL_HEAD,
                                                  (unsigned long long)c->st.next,
                                                  (unsigned long long)sv->literal);
            if (c->st.head_off < c->st.head_len)
                v[k++] = (struct iovec){ c->st.head + c->st.head_off,
                                         c->st.head_len - c->st.head_off };
            v[k++] = (struct iovec){ sv->body + c->st.body_off, sv->body_len - c->st.body_off };
        } else {
            return 0;
        }
        ssize_t n = writev(c->fd, v, k);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        size_t done = (size_t)n;
        if (c->out.head < c->out.len) {
            c->out.head += done;
            continue;
        }
        if (!c->st.literals) {
            c->st.small_off += done;
            if (c->st.small_off < sv->small_len)
                continue;
        } else {
            size_t h = c->st.head_len - c->st.head_off;
            if (done < h) {
                c->st.head_off += done;
                continue;
            }
            c->st.head_off = c->st.head_len;
            c->st.body_off += done - h;
            if (c->st.body_off < sv->body_len)
                continue;
            c->st.head_len = c->st.head_off = c->st.body_off = 0;
            if (++c->st.next <= c->st.count)
                continue;
        }
        c->st.active = 0;
        if (reply(c, c->st.tag, PEER_FETCH_DONE) < 0)
            return -1;
    }
}

/* 1 when the driver closed our standard input: time to go. */
static int driver_gone(const struct pollfd *p)
{
    return (p->revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

static void serve(struct server *sv, int fd)
{
    struct conn c;
    memset(&c, 0, sizeof c);
    c.fd = fd;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    /* A stream's last bytes and its tagged reply go in separate writes; with
     * Nagle the reply would wait for the client's delayed ACK. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int ok = buf_add(&c.out, PEER_GREETING, sizeof PEER_GREETING - 1) == 0;
    while (ok) {
        if (pump_output(sv, &c) < 0)
            break;
        if (!c.st.active && c.in.head < c.in.len && consume_input(sv, &c) < 0)
            break;
        int pending = c.out.head < c.out.len || c.st.active;
        if (c.closing && !pending)
            break;
        struct pollfd p[2] = { { fd, POLLIN | (pending ? POLLOUT : 0), 0 }, { 0, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (driver_gone(&p[1]))
            exit(0);
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (make_room(&c) < 0)
            break;
        ssize_t n = read(fd, c.in.data + c.in.len, READ_CHUNK);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            break;
        c.in.len += (size_t)n;
        ok = consume_input(sv, &c) == 0;
    }
    close(fd);
    free(c.in.data);
    free(c.out.data);
}

int main(int argc, char **argv)
{
    struct server sv;
    memset(&sv, 0, sizeof sv);
    sv.literal = 1024 * 1024;
    int opt;
    while ((opt = getopt(argc, argv, "l:")) != -1) {
        if (opt != 'l' || (sv.literal = strtoull(optarg, NULL, 10)) == 0) {
            fprintf(stderr, "usage: peer_server [-l LITERAL_BYTES]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    sv.body_len = sv.literal + sizeof PEER_LITERAL_TAIL - 1;
    sv.body = malloc(sv.body_len);
    if (!sv.body) {
        fprintf(stderr, "peer_server: out of memory\n");
        return 1;
    }
    for (uint64_t i = 0; i < sv.literal; i++)
        sv.body[i] = peer_byte_at(i);
    memcpy(sv.body + sv.literal, PEER_LITERAL_TAIL, sizeof PEER_LITERAL_TAIL - 1);
    char port[16];
    int lfd = listen_loopback(16, port, sizeof port);
    if (lfd < 0) {
        perror("peer_server: listen");
        return 1;
    }
    printf("PORT %s\n", port);
    fflush(stdout);
    for (;;) {
        struct pollfd p[2] = { { lfd, POLLIN, 0 }, { 0, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return 1;
        if (driver_gone(&p[1]))
            return 0;
        if (p[0].revents & POLLIN) {
            int fd = accept(lfd, NULL, NULL);
            if (fd >= 0)
                serve(&sv, fd);
        }
    }
}
