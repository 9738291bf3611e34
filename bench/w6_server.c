/*
 * w6_server: the IMAP server of the W6 benchmark (many idle connections).
 *
 * One process, one thread, epoll (level-triggered), non-blocking sockets.
 * It speaks just enough IMAP for a client that connects, starts TLS,
 * authenticates with SCRAM-SHA-256 and idles:
 *
 *   greeting with CAPABILITY; CAPABILITY, NOOP, STARTTLS (OpenSSL server
 *   side), AUTHENTICATE with or without SASL-IR (Cyrus SASL's server API,
 *   secrets from a sasldb file made with saslpasswd2), SELECT/EXAMINE (an
 *   empty mailbox), IDLE ("+ idling", then DONE -> OK), LOGOUT.
 *
 * Anything else gets BAD.  It keeps per connection only what the current
 * state needs: no input or output buffer while nothing is pending, the
 * SASL context only during AUTHENTICATE, and OpenSSL's record buffers
 * released while the connection is quiet (SSL_MODE_RELEASE_BUFFERS).
 *
 *   w6_server -d DIR [-i ITERATIONS] [-T SECONDS]
 *
 * DIR holds both.pem and leaf.key (tests/support/tlsfake.c's
 * tlsfake_certs_make) and sasldb2.  -i is SCRAM's iteration count for
 * secrets computed from the stored password (4096 by default, the SASL
 * plugin's own default).  The server listens on 127.0.0.1 on a port the
 * kernel picks and prints "PORT n" on stdout.  It ends on SIGTERM or
 * SIGINT, when its standard input reaches EOF (the benchmark that started
 * it is gone), or after -T seconds (600 by default), whichever comes
 * first; it then prints one line of statistics on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include "stats.h"

#define MAX_LINE 8192       /* a longer line closes the connection */
#define READ_BUF 16384
#define MAX_EVENTS 512
#define ACCEPTS_PER_WAKE 256
#define WANT_FDS 70000

enum state {
    ST_CMD,      /* waiting for a command */
    ST_TLS,      /* server side of the handshake running */
    ST_AUTH,     /* AUTHENTICATE: waiting for a client response line */
    ST_IDLE,     /* IDLE accepted: waiting for DONE */
    ST_CLOSE,    /* close once the output is written */
};

struct sconn {
    int fd;
    unsigned char state;
    unsigned char tls_on;
    unsigned char authed;
    unsigned char auth_last;  /* the SASL exchange is over; OK after the next line */
    unsigned evmask;          /* what epoll watches */
    SSL *ssl;
    sasl_conn_t *sasl;
    char *tag;                /* of AUTHENTICATE or IDLE while it runs */
    char *in;                 /* an incomplete line; NULL when none */
    unsigned inlen, incap;
    char *out;                /* output not yet written; NULL when none */
    unsigned outlen, outcap;
};

static struct sconn **conns;  /* by descriptor */
static int nconns_max;
static int epfd;
static SSL_CTX *tls_ctx;
static char sasldb_path[4096];
static char iterations[16] = "4096";
static volatile sig_atomic_t stopping;

/* Statistics, printed at the end. */
static long n_accepted, n_closed, n_tls, n_auth_ok, n_auth_fail, n_idle_now, n_idle_max,
    n_open, n_open_max;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("w6_server: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}


/* ---- SASL ----------------------------------------------------------------- */

static int sasl_getopt(void *context, const char *plugin, const char *option,
                       const char **result, unsigned *len)
{
    (void)context;
    (void)plugin;
    const char *v = NULL;
    if (strcmp(option, "sasldb_path") == 0)
        v = sasldb_path;
    else if (strcmp(option, "scram_iteration_counter") == 0)
        v = iterations;
    else if (strcmp(option, "mech_list") == 0)
        v = "SCRAM-SHA-256";
    else if (strcmp(option, "auxprop_plugin") == 0)
        v = "sasldb";
    else if (strcmp(option, "pwcheck_method") == 0)
        v = "auxprop";
    if (!v)
        return SASL_FAIL;
    *result = v;
    if (len)
        *len = (unsigned)strlen(v);
    return SASL_OK;
}

static int sasl_log(void *context, int level, const char *message)
{
    (void)context;
    if (level <= SASL_LOG_ERR)
        fprintf(stderr, "w6_server: sasl: %s\n", message);
    return SASL_OK;
}

typedef int (*sasl_cb_fn)(void);
static sasl_callback_t sasl_callbacks[] = {
    { SASL_CB_GETOPT, (sasl_cb_fn)(void (*)(void))sasl_getopt, NULL },
    { SASL_CB_LOG, (sasl_cb_fn)(void (*)(void))sasl_log, NULL },
    { SASL_CB_LIST_END, NULL, NULL },
};

/* ---- output ------------------------------------------------------------------ */

static void close_conn(struct sconn *k);

/* Append n bytes to a connection's buffer (its output or its input),
 * doubling it from first bytes as it fills. */
static void buf_add(char **data, unsigned *len, unsigned *cap, unsigned first, const char *p,
                    size_t n)
{
    if (*len + n > *cap) {
        unsigned c = *cap ? *cap : first;
        while (c < *len + n)
            c *= 2;
        char *d = realloc(*data, c);
        if (!d)
            die("out of memory");
        *data = d;
        *cap = c;
    }
    memcpy(*data + *len, p, n);
    *len += (unsigned)n;
}

static void out_add(struct sconn *k, const char *p, size_t n)
{
    buf_add(&k->out, &k->outlen, &k->outcap, 256, p, n);
}

static void out_printf(struct sconn *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct sconn *k, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        die("response too long");
    out_add(k, buf, (size_t)n);
}

static void out_consume(struct sconn *k, size_t n)
{
    if (n >= k->outlen) {
        free(k->out);
        k->out = NULL;
        k->outlen = k->outcap = 0;
        return;
    }
    memmove(k->out, k->out + n, k->outlen - n);
    k->outlen -= (unsigned)n;
}

/* Write what may go now; -1 when the connection is dead. */
static int flush_out(struct sconn *k)
{
    while (k->outlen > 0) {
        if (k->ssl) {
            size_t w = 0;
            ERR_clear_error();
            /* Without SSL_MODE_ENABLE_PARTIAL_WRITE a retry after WANT_WRITE
             * carries the same bytes (and perhaps more after them). */
            int r = SSL_write_ex(k->ssl, k->out, k->outlen, &w);
            if (r == 1) {
                out_consume(k, w);
                continue;
            }
            int e = SSL_get_error(k->ssl, r);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
                return 0;
            return -1;
        }
        ssize_t w = send(k->fd, k->out, k->outlen, MSG_NOSIGNAL);
        if (w > 0) {
            out_consume(k, (size_t)w);
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        return -1;
    }
    return 0;
}

static void set_events(struct sconn *k, unsigned want)
{
    if (want == k->evmask)
        return;
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = want;
    ev.data.fd = k->fd;
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, k->fd, &ev) == 0)
        k->evmask = want;
}

/* ---- IMAP ---------------------------------------------------------------------- */

static const char *caps(const struct sconn *k)
{
    if (k->authed)
        return "IMAP4rev1 IDLE";
    return k->tls_on ? "IMAP4rev1 SASL-IR IDLE AUTH=SCRAM-SHA-256"
                     : "IMAP4rev1 SASL-IR IDLE STARTTLS AUTH=SCRAM-SHA-256";
}

static void auth_end(struct sconn *k)
{
    if (k->sasl)
        sasl_dispose(&k->sasl);
    k->auth_last = 0;
    k->state = ST_CMD;
    free(k->tag);
    k->tag = NULL;
}

/* Answer one SASL step's result: a challenge, success or failure. */
static void auth_result(struct sconn *k, int rc, const char *out, unsigned outlen)
{
    if (rc == SASL_CONTINUE || (rc == SASL_OK && outlen > 0)) {
        /* SCRAM's last server message goes as a challenge with an empty
         * answer, IMAP having no data with success (RFC 3501 6.2.2). */
        char b64[4096];
        unsigned n = 0;
        if (sasl_encode64(out, outlen, b64, sizeof b64, &n) != SASL_OK) {
            out_printf(k, "%s NO [AUTHENTICATIONFAILED] challenge too long\r\n", k->tag);
            n_auth_fail++;
            auth_end(k);
            return;
        }
        out_printf(k, "+ %.*s\r\n", (int)n, b64);
        k->auth_last = rc == SASL_OK;
        k->state = ST_AUTH;
        return;
    }
    if (rc == SASL_OK) {
        out_printf(k, "%s OK [CAPABILITY IMAP4rev1 IDLE] authenticated\r\n", k->tag);
        k->authed = 1;
        n_auth_ok++;
    } else {
        out_printf(k, "%s NO [AUTHENTICATIONFAILED] %s\r\n", k->tag,
                   k->sasl ? sasl_errdetail(k->sasl) : "failed");
        n_auth_fail++;
    }
    auth_end(k);
}

static void auth_line(struct sconn *k, const char *line, size_t len)
{
    if (len == 1 && line[0] == '*') {
        out_printf(k, "%s BAD AUTHENTICATE cancelled\r\n", k->tag);
        n_auth_fail++;
        auth_end(k);
        return;
    }
    if (k->auth_last) {
        auth_result(k, len == 0 ? SASL_OK : SASL_BADPROT, NULL, 0);
        return;
    }
    char in[4096];
    unsigned inlen = 0;
    if (len > 0 && sasl_decode64(line, (unsigned)len, in, sizeof in, &inlen) != SASL_OK) {
        out_printf(k, "%s BAD response is not base64\r\n", k->tag);
        n_auth_fail++;
        auth_end(k);
        return;
    }
    const char *out = NULL;
    unsigned outlen = 0;
    int rc = sasl_server_step(k->sasl, in, inlen, &out, &outlen);
    auth_result(k, rc, out, outlen);
}

static void cmd_authenticate(struct sconn *k, const char *tag, char *args)
{
    char *mech = strtok_r(args, " ", &args);
    char *ir = strtok_r(NULL, " ", &args);
    if (k->authed || !mech) {
        out_printf(k, "%s BAD %s\r\n", tag, k->authed ? "already authenticated" : "no mechanism");
        return;
    }
    if (strcasecmp(mech, "SCRAM-SHA-256") != 0) {
        out_printf(k, "%s NO unsupported mechanism\r\n", tag);
        return;
    }
    if (sasl_server_new("imap", "localhost", "w6", NULL, NULL, NULL, 0, &k->sasl) != SASL_OK) {
        out_printf(k, "%s NO cannot start SASL\r\n", tag);
        return;
    }
    k->tag = strdup(tag);
    char in[4096];
    unsigned inlen = 0;
    const char *clientin = NULL;
    if (ir) {
        clientin = in;
        if (strcmp(ir, "=") != 0 &&
            sasl_decode64(ir, (unsigned)strlen(ir), in, sizeof in, &inlen) != SASL_OK) {
            out_printf(k, "%s BAD initial response is not base64\r\n", tag);
            auth_end(k);
            return;
        }
    }
    const char *out = NULL;
    unsigned outlen = 0;
    int rc = sasl_server_start(k->sasl, "SCRAM-SHA-256", clientin, inlen, &out, &outlen);
    auth_result(k, rc, out, outlen);
}

/* One command line in ST_CMD.  Returns 1 when the rest of the input must
 * be dropped (STARTTLS: what follows in the clear is not the client's). */
static int command(struct sconn *k, char *line)
{
    char *rest = line;
    char *tag = strtok_r(rest, " ", &rest);
    char *cmd = tag ? strtok_r(NULL, " ", &rest) : NULL;
    if (!tag || !cmd) {
        out_printf(k, "* BAD no command\r\n");
        return 0;
    }
    if (strcasecmp(cmd, "CAPABILITY") == 0) {
        out_printf(k, "* CAPABILITY %s\r\n%s OK CAPABILITY completed\r\n", caps(k), tag);
    } else if (strcasecmp(cmd, "NOOP") == 0) {
        out_printf(k, "%s OK NOOP completed\r\n", tag);
    } else if (strcasecmp(cmd, "STARTTLS") == 0) {
        if (k->tls_on || k->authed) {
            out_printf(k, "%s BAD TLS is not possible now\r\n", tag);
            return 0;
        }
        out_printf(k, "%s OK Begin TLS negotiation now\r\n", tag);
        k->state = ST_TLS;
        return 1;
    } else if (strcasecmp(cmd, "AUTHENTICATE") == 0) {
        cmd_authenticate(k, tag, rest);
    } else if (strcasecmp(cmd, "SELECT") == 0 || strcasecmp(cmd, "EXAMINE") == 0) {
        if (!k->authed)
            out_printf(k, "%s NO not authenticated\r\n", tag);
        else
            out_printf(k,
                       "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                       "* 0 EXISTS\r\n* 0 RECENT\r\n"
                       "* OK [UIDVALIDITY 1] UIDs valid\r\n* OK [UIDNEXT 1] next UID\r\n"
                       "%s OK [READ-WRITE] %s completed\r\n",
                       tag, cmd);
    } else if (strcasecmp(cmd, "IDLE") == 0) {
        if (!k->authed) {
            out_printf(k, "%s NO not authenticated\r\n", tag);
        } else {
            out_printf(k, "+ idling\r\n");
            k->tag = strdup(tag);
            k->state = ST_IDLE;
            if (++n_idle_now > n_idle_max)
                n_idle_max = n_idle_now;
        }
    } else if (strcasecmp(cmd, "LOGOUT") == 0) {
        out_printf(k, "* BYE w6 logging out\r\n%s OK LOGOUT completed\r\n", tag);
        k->state = ST_CLOSE;
        return 1;
    } else {
        out_printf(k, "%s BAD unknown command\r\n", tag);
    }
    return 0;
}

/* Returns 1 when the remaining input must be dropped. */
static int handle_line(struct sconn *k, char *line, size_t len)
{
    switch (k->state) {
    case ST_AUTH:
        auth_line(k, line, len);
        return 0;
    case ST_IDLE:
        if (strcasecmp(line, "DONE") == 0) {
            out_printf(k, "%s OK IDLE terminated\r\n", k->tag);
            n_idle_now--;
            free(k->tag);
            k->tag = NULL;
            k->state = ST_CMD;
        } else {
            out_printf(k, "* BAD expected DONE\r\n");
        }
        return 0;
    case ST_CMD:
        return command(k, line);
    default:
        return 1;
    }
}

/* Take the complete lines out of k->in.  -1: the connection must close. */
static int process_input(struct sconn *k, int *drop)
{
    size_t off = 0;
    *drop = 0;
    while (off < k->inlen) {
        char *start = k->in + off;
        char *nl = memchr(start, '\n', k->inlen - off);
        if (!nl)
            break;
        size_t len = (size_t)(nl - start);
        if (len > 0 && start[len - 1] == '\r')
            len--;
        start[len] = '\0';
        off = (size_t)(nl - k->in) + 1;
        if (handle_line(k, start, len)) {
            *drop = 1;
            off = k->inlen;
            break;
        }
    }
    if (k->inlen - off > MAX_LINE)
        return -1;
    if (off == k->inlen) {
        free(k->in);
        k->in = NULL;
        k->inlen = k->incap = 0;
    } else if (off > 0) {
        memmove(k->in, k->in + off, k->inlen - off);
        k->inlen -= (unsigned)off;
    }
    return 0;
}

static void in_add(struct sconn *k, const char *p, size_t n)
{
    buf_add(&k->in, &k->inlen, &k->incap, 512, p, n);
}

static int start_tls(struct sconn *k);

/* Read what is there (through TLS when on).  -1: close. */
static int read_input(struct sconn *k)
{
    static char buf[READ_BUF];
    for (int rounds = 0; rounds < 64; rounds++) {
        size_t n = 0;
        if (k->ssl) {
            ERR_clear_error();
            int r = SSL_read_ex(k->ssl, buf, sizeof buf, &n);
            if (r != 1) {
                int e = SSL_get_error(k->ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                    return 0;
                return -1;
            }
        } else {
            ssize_t r = recv(k->fd, buf, sizeof buf, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return 0;
            if (r <= 0)
                return -1;
            n = (size_t)r;
        }
        in_add(k, buf, n);
        int drop;
        if (process_input(k, &drop) < 0)
            return -1;
        if (drop) {
            free(k->in);
            k->in = NULL;
            k->inlen = k->incap = 0;
            if (k->state == ST_TLS)
                return start_tls(k);
            return 0;
        }
        if (!k->ssl)
            return 0; /* level-triggered: epoll says when there is more */
    }
    return 0;
}

/* ---- TLS ----------------------------------------------------------------------- */

static int handshake(struct sconn *k)
{
    ERR_clear_error();
    int r = SSL_do_handshake(k->ssl);
    if (r == 1) {
        k->state = ST_CMD;
        k->tls_on = 1;
        n_tls++;
        /* The client's first command may already sit in OpenSSL's buffer,
         * where epoll cannot see it. */
        return read_input(k);
    }
    int e = SSL_get_error(k->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    return -1;
}

/* The OK to STARTTLS is queued: write it in the clear, then begin. */
static int start_tls(struct sconn *k)
{
    if (flush_out(k) < 0 || k->outlen > 0)
        return -1; /* a few bytes into an empty socket buffer: it always goes */
    k->ssl = SSL_new(tls_ctx);
    if (!k->ssl || SSL_set_fd(k->ssl, k->fd) != 1)
        return -1;
    SSL_set_accept_state(k->ssl);
    return handshake(k);
}

static int make_tls_ctx(const char *dir)
{
    char cert[4200], key[4200];
    snprintf(cert, sizeof cert, "%s/both.pem", dir);
    snprintf(key, sizeof key, "%s/leaf.key", dir);
    tls_ctx = SSL_CTX_new(TLS_server_method());
    if (!tls_ctx)
        return -1;
    SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(tls_ctx) != 1)
        return -1;
    return 0;
}

/* ---- connections ------------------------------------------------------------------ */

static void close_conn(struct sconn *k)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, k->fd, NULL);
    if (k->state == ST_IDLE)
        n_idle_now--;
    if (k->ssl)
        SSL_free(k->ssl);
    if (k->sasl)
        sasl_dispose(&k->sasl);
    close(k->fd);
    conns[k->fd] = NULL;
    free(k->tag);
    free(k->in);
    free(k->out);
    free(k);
    n_closed++;
    n_open--;
}

static void on_conn(struct sconn *k, unsigned events)
{
    int r = 0;
    if (k->state == ST_TLS) {
        r = handshake(k);
    } else {
        if (events & EPOLLOUT)
            r = flush_out(k);
        if (r == 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            r = read_input(k);
    }
    if (r == 0)
        r = flush_out(k);
    if (r < 0 || (k->state == ST_CLOSE && k->outlen == 0)) {
        close_conn(k);
        return;
    }
    unsigned want = EPOLLIN;
    if (k->outlen > 0 || (k->ssl && SSL_want_write(k->ssl)))
        want |= EPOLLOUT;
    set_events(k, want);
}

static void accept_some(int lfd)
{
    for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or out of descriptors: try again next wake */
        if (fd >= nconns_max) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct sconn *k = calloc(1, sizeof *k);
        if (!k)
            die("out of memory");
        k->fd = fd;
        k->state = ST_CMD;
        conns[fd] = k;
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            conns[fd] = NULL;
            close(fd);
            free(k);
            continue;
        }
        k->evmask = EPOLLIN;
        n_accepted++;
        if (++n_open > n_open_max)
            n_open_max = n_open;
        out_printf(k, "* OK [CAPABILITY %s] w6 ready\r\n", caps(k));
        on_conn(k, 0);
    }
}

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int max_seconds = 600;
    int opt;
    while ((opt = getopt(argc, argv, "d:i:T:")) != -1) {
        switch (opt) {
        case 'd':
            dir = optarg;
            break;
        case 'i':
            snprintf(iterations, sizeof iterations, "%d", atoi(optarg));
            break;
        case 'T':
            max_seconds = atoi(optarg);
            break;
        default:
            fprintf(stderr, "usage: w6_server -d DIR [-i ITERATIONS] [-T SECONDS]\n");
            return 2;
        }
    }
    if (!dir)
        die("-d DIR is required");

    struct rlimit rl = { WANT_FDS, WANT_FDS };
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    nconns_max = (int)rl.rlim_cur;
    conns = calloc((size_t)nconns_max, sizeof *conns);
    if (!conns)
        die("out of memory");

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    snprintf(sasldb_path, sizeof sasldb_path, "%s/sasldb2", dir);
    if (sasl_server_init(sasl_callbacks, "w6") != SASL_OK)
        die("sasl_server_init failed");
    if (make_tls_ctx(dir) < 0)
        die("cannot load %s/both.pem and leaf.key", dir);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t slen = sizeof sin;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(lfd, 4096) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sin, &slen) < 0)
        die("cannot listen on 127.0.0.1: %s", strerror(errno));

    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
    /* Standard input: EOF when the benchmark that started us is gone. */
    ev.data.fd = 0;
    int watch_stdin = epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) == 0;

    printf("PORT %d\n", ntohs(sin.sin_port));
    fflush(stdout);

    double end = bench_now() + max_seconds;
    struct epoll_event evs[MAX_EVENTS];
    while (!stopping && bench_now() < end) {
        int n = epoll_wait(epfd, evs, MAX_EVENTS, 500);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                accept_some(lfd);
            } else if (fd == 0 && watch_stdin) {
                char b[64];
                ssize_t r = read(0, b, sizeof b);
                if (r <= 0 && !(r < 0 && errno == EINTR))
                    stopping = 1;
            } else if (fd < nconns_max && conns[fd]) {
                on_conn(conns[fd], evs[i].events);
            }
        }
    }
    fprintf(stderr,
            "w6_server: accepted %ld, closed %ld, open max %ld, TLS %ld, auth ok %ld failed %ld, "
            "idle max %ld, RSS %ld KiB\n",
            n_accepted, n_closed, n_open_max, n_tls, n_auth_ok, n_auth_fail, n_idle_max,
            bench_rss_kib());
    return 0;
}
