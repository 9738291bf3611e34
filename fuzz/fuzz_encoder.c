/*
 * libFuzzer target for the command encoder, through the public API only
 * (<cyrus/imclient.h>, <cyrus/imparse.h>): internal changes cannot break it.
 *
 * Each input is a connection to a scripted server on 127.0.0.1 in this
 * process.  The input chooses the server's capabilities (LITERAL+,
 * LITERAL-, UTF8=ACCEPT, BINARY), the connection flags (NONSYNCLITERAL,
 * BATCH), two numbers and up to eight strings (split at NUL, which %s
 * cannot carry; a string starting with \x01 k is the rest repeated k
 * times, so long strings cost few input bytes).  Commands with %s, %d, %u,
 * %v and %a arguments are sent; the server answers "+" to every
 * synchronizing literal and OK once the command line is complete.
 *
 * What the server received is then read back with the imparse tokenizer,
 * which reads quoted strings and literals as a server does, and every
 * argument must come back byte for byte (abort otherwise).  Also checked:
 * a {n+} literal only where the flag or the capabilities allow it (LITERAL-
 * only up to 4096 bytes); quoted strings carry no 8-bit byte unless
 * UTF8=ACCEPT is enabled, and then only valid UTF-8; an argument %a refuses
 * is answered at once with BAD [CLIENTBUG] and nothing reaches the server;
 * every command's completion runs exactly once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cyrus/imclient.h>
#include <cyrus/imparse.h>

#include "loopback.h"

#define MAX_ARGS 8
#define MAX_ARG (64 * 1024)

enum {
    F_NONSYNC = 1,  /* the application sets IMCLIENT_CONN_NONSYNCLITERAL */
    F_LITPLUS = 2,  /* the server offers LITERAL+ */
    F_LITMINUS = 4, /* ... LITERAL- */
    F_UTF8 = 8,     /* ... UTF8=ACCEPT, and the client ENABLEs it */
    F_BINARY = 16,  /* ... BINARY */
    F_BATCH = 32    /* the application sets IMCLIENT_CONN_BATCH */
};

/* ---- the server's side ----------------------------------------------------- */

struct conn {
    struct imclient *c;
    int fd;            /* the server's end */
    int flags;
    int greeted;
    int finished;      /* completions of the current command */
    char keyword[16];  /* the last completion's */
    char text[64];
    char *in;          /* what the server read for the current command */
    size_t len, cap;
};

static void on_untagged(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct conn *k = rock;
    if (strcmp(r->keyword, "OK") == 0)
        k->greeted = 1;
}

static void on_finish(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct conn *k = rock;
    k->finished++;
    snprintf(k->keyword, sizeof k->keyword, "%s", r->keyword);
    snprintf(k->text, sizeof k->text, "%s", r->text);
}

static void put(struct conn *k, const char *s)
{
    size_t n = strlen(s);
    if (write(k->fd, s, n) != (ssize_t)n)
        abort();
}

/* Reads what the client has written so far; 0 if nothing was waiting. */
static int take(struct conn *k)
{
    int got = 0;
    for (;;) {
        if (k->cap - k->len < 65536) {
            k->cap = k->cap * 2 + 65536;
            k->in = realloc(k->in, k->cap);
            if (!k->in)
                abort();
        }
        ssize_t n = read(k->fd, k->in + k->len, k->cap - k->len);
        if (n > 0) {
            k->len += (size_t)n;
            got = 1;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return got;
        abort(); /* the client closed or the socket failed mid-command */
    }
}

/* A literal header ending the line s[0, end): its size, whether it is
 * {n+} and where its '{' (or '~') is; 0 if the line ends otherwise.  s is
 * the line's start: the bytes before it (a literal's) are not looked at. */
static int literal_head(const char *s, size_t end, uint64_t *n, int *plus, size_t *at)
{
    if (end == 0 || s[end - 1] != '}')
        return 0;
    size_t i = end - 1;
    *plus = i > 0 && s[i - 1] == '+';
    if (*plus)
        i--;
    size_t digits_end = i;
    while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
        i--;
    /* An atom may end in '}' ("x}"); a literal header is "{" digits. */
    if (i == digits_end || i == 0 || s[i - 1] != '{')
        return 0;
    *n = 0;
    for (size_t j = i; j < digits_end; j++) {
        if (*n > (UINT64_MAX - 9) / 10)
            abort();
        *n = *n * 10 + (uint64_t)(s[j] - '0');
    }
    *at = i - 1;
    if (*at > 0 && s[*at - 1] == '~')
        (*at)--;
    return 1;
}

/* The literal headers of a command, for the read-back. */
struct heads {
    size_t at[4 * MAX_ARGS + 8];
    int plus[4 * MAX_ARGS + 8];
    int n;
};

/* Serve one command: answer "+" to each synchronizing literal, and once
 * the line is complete send untagged (may be "") and the tagged OK.
 * Returns the command's length in k->in. */
static size_t serve(struct conn *k, const char *untagged, struct heads *h)
{
    size_t scan = 0;      /* start of the line being read */
    size_t answered = 0;  /* literal headers answered up to here */
    h->n = 0;
    for (int rounds = 0; rounds < 10000; rounds++) {
        take(k);
        for (;;) {
            const char *crlf = NULL;
            for (size_t i = scan; i + 1 < k->len; i++)
                if (k->in[i] == '\r' && k->in[i + 1] == '\n') {
                    crlf = k->in + i;
                    break;
                }
            if (!crlf)
                break;
            size_t end = (size_t)(crlf - k->in);
            uint64_t n;
            int plus;
            size_t at;
            if (!literal_head(k->in + scan, end - scan, &n, &plus, &at)) {
                /* The command's last line: its tag is the first word. */
                size_t tl = 0;
                while (tl < k->len && k->in[tl] != ' ')
                    tl++;
                /* One write: a second small one would wait for the
                 * first's ACK (Nagle), tens of milliseconds. */
                char answer[160];
                snprintf(answer, sizeof answer, "%s%.*s OK done\r\n", untagged,
                         (int)(tl < 40 ? tl : 40), k->in);
                put(k, answer);
                if (end + 2 != k->len)
                    abort(); /* bytes after the command: none was sent */
                return k->len;
            }
            if (h->n == (int)(sizeof h->at / sizeof h->at[0]))
                abort();
            if (answered <= end) {
                h->at[h->n] = scan + at;
                h->plus[h->n] = plus;
                h->n++;
                answered = end + 1;
                if (!plus)
                    put(k, "+ go on\r\n");
            }
            if (k->len < end + 2 + n)
                break;
            scan = end + 2 + (size_t)n;
        }
        /* Let the client read "+" or write what it still holds. */
        if (imclient_processoneevent_timeout(k->c, 20) < 0)
            abort();
    }
    abort(); /* the command never completed */
}

/* Run events until the current command's completion came. */
static void await_finish(struct conn *k)
{
    for (int i = 0; i < 1000 && !k->finished; i++)
        if (imclient_processoneevent_timeout(k->c, 20) < 0)
            break;
    if (k->finished != 1 || strcmp(k->keyword, "OK") != 0)
        abort();
}

/* ---- reading the command back ---------------------------------------------- */

struct reader {
    const char *s;   /* the command without its final CRLF, {n+} made {n} */
    size_t len, pos;
    int utf8;        /* UTF8=ACCEPT is enabled */
};

/* A broken invariant: say which and show the command, escaped. */
static void fail(const struct reader *r, const char *why)
{
    fprintf(stderr, "fuzz_encoder: %s at %zu in: ", why, r->pos);
    for (size_t i = 0; i < r->len && i < 4096; i++) {
        unsigned char b = (unsigned char)r->s[i];
        if (b >= 0x20 && b < 0x7f && b != '\\')
            fputc(b, stderr);
        else
            fprintf(stderr, "\\x%02x", b);
    }
    fputc('\n', stderr);
    abort();
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char b = s[i];
        size_t need;
        uint32_t cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if (b >= 0xc2 && b <= 0xdf) {
            need = 1;
            cp = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
            need = 2;
            cp = b & 0x0f;
        } else if (b >= 0xf0 && b <= 0xf4) {
            need = 3;
            cp = b & 0x07;
        } else
            return 0;
        if (i + need >= n)
            return 0;
        for (size_t j = 1; j <= need; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

static void expect_text(struct reader *r, const char *t)
{
    size_t n = strlen(t);
    if (r->len - r->pos < n || memcmp(r->s + r->pos, t, n) != 0)
        fail(r, "unexpected bytes");
    r->pos += n;
}

/* 1*ASTRING-CHAR (RFC 3501), other than NIL. */
static int is_astring_atom(const char *s, size_t n)
{
    if (n == 0 || (n == 3 && strncasecmp(s, "NIL", 3) == 0))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x21 || b > 0x7e || strchr("(){%*\"\\", b))
            return 0;
    }
    return 1;
}

/* One astring, read by the tokenizer, must be want. */
static void expect_astring(struct reader *r, const char *want, size_t wlen)
{
    /* A server reads an atom with '[' or ']' as a run of ASTRING-CHARs;
     * the tokenizer, made for replies, opens a response code at a leading
     * '[', reads "a[b ...]" as one BODY[section]-like atom and refuses a
     * run of digits above 2^64 - 1 as a number.  Such an atom is compared
     * as the server would read it. */
    if (is_astring_atom(want, wlen) &&
        (memchr(want, '[', wlen) || memchr(want, ']', wlen) || strspn(want, "0123456789") == wlen) &&
        r->len - r->pos >= wlen &&
        memcmp(r->s + r->pos, want, wlen) == 0 &&
        (r->pos + wlen == r->len || r->s[r->pos + wlen] == ' ' ||
         r->s[r->pos + wlen] == ')')) {
        r->pos += wlen;
        return;
    }
    struct imparse p;
    struct imparse_token t;
    imparse_init(&p, r->s + r->pos, r->len - r->pos, 8);
    if (imparse_next(&p, &t) != 0 || t.pos != 0)
        fail(r, "no token");
    size_t end = 0;
    switch (t.type) {
    case IMPARSE_ATOM:
    case IMPARSE_NUMBER:
        end = (size_t)(t.data - (r->s + r->pos)) + t.len;
        break;
    case IMPARSE_QUOTED:
        end = (size_t)(t.data - (r->s + r->pos)) + t.len + 1;
        for (size_t i = 0; i < t.len; i++)
            if ((unsigned char)t.data[i] >= 0x80) {
                if (!r->utf8 || !valid_utf8((const unsigned char *)t.data, t.len))
                    fail(r, "8-bit quoted string");
                break;
            }
        break;
    case IMPARSE_LITERAL:
    case IMPARSE_LITERAL8:
        end = (size_t)(t.data - (r->s + r->pos)) + t.len;
        break;
    default:
        fail(r, "NIL, a list or a bracket");
    }
    struct imparse_str s = imparse_token_str(&t);
    static char buf[MAX_ARG + 1];
    size_t n;
    if (imparse_str_copy(&s, buf, sizeof buf, &n) != 0 || n != wlen || memcmp(buf, want, n) != 0)
        fail(r, "the argument changed");
    r->pos += end;
}

/* The command as the server read it, for the tokenizer: {n+} as {n} (the
 * tokenizer reads replies, where '+' does not occur), checking each {n+}
 * was allowed. */
static char *clean_copy(const struct conn *k, size_t len, const struct heads *h, size_t *outlen)
{
    char *out = malloc(len + 1);
    if (!out)
        abort();
    size_t o = 0, from = 0;
    for (int i = 0; i < h->n; i++) {
        size_t close = h->at[i];
        while (k->in[close] != '}')
            close++;
        if (h->plus[i]) {
            uint64_t n = strtoull(k->in + h->at[i] + (k->in[h->at[i]] == '~' ? 2 : 1), NULL, 10);
            int allowed = (k->flags & (F_NONSYNC | F_LITPLUS)) ||
                          ((k->flags & F_LITMINUS) && n <= 4096);
            if (!allowed)
                abort();
            memcpy(out + o, k->in + from, close - 1 - from);
            o += close - 1 - from;
            from = close; /* skip the '+' */
        }
    }
    memcpy(out + o, k->in + from, len - from);
    o += len - from;
    if (o < 2 || out[o - 2] != '\r' || out[o - 1] != '\n')
        abort();
    *outlen = o - 2;
    return out;
}

/* ---- the commands ----------------------------------------------------------- */

struct args {
    char *s[MAX_ARGS];
    size_t len[MAX_ARGS];
    int n;
    int d;
    unsigned u;
};

/* Send a command, serve it and read back its tag; returns the reader. */
#define SEND(k, r, untagged, ...)                                              \
    do {                                                                       \
        (k)->finished = 0;                                                     \
        (k)->len = 0;                                                          \
        imclient_send((k)->c, on_finish, (k), __VA_ARGS__);                    \
        struct heads h_;                                                       \
        size_t n_ = serve((k), (untagged), &h_);                               \
        await_finish(k);                                                       \
        (r)->s = clean_copy((k), n_, &h_, &(r)->len);                          \
        (r)->pos = 0;                                                          \
        while ((r)->pos < (r)->len && (r)->s[(r)->pos] != ' ')                 \
            (r)->pos++;                                                        \
        if ((r)->pos == 0)                                                     \
            abort();                                                           \
    } while (0)

static int is_a_atom(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x21 || b > 0x7e || b == '(' || b == ')' || b == '{' || b == '"')
            return 0;
    }
    return 1;
}

static void run(struct conn *k, const struct args *a, int utf8)
{
    struct reader r = { .utf8 = utf8 };
    char num[32];

    SEND(k, &r, "", "FUZZ %s", a->s[0]);
    expect_text(&r, " FUZZ ");
    expect_astring(&r, a->s[0], a->len[0]);
    if (r.pos != r.len)
        abort();
    free((char *)r.s);

    /* %v: the strings after the first, NULL-terminated. */
    char *v[MAX_ARGS + 1];
    int nv = 0;
    for (int i = 1; i < a->n; i++)
        v[nv++] = a->s[i];
    v[nv] = NULL;
    const char *last = a->s[a->n - 1];
    SEND(k, &r, "", "FUZZ %s %d %u (%v) %s", a->s[0], a->d, a->u, v, last);
    expect_text(&r, " FUZZ ");
    expect_astring(&r, a->s[0], a->len[0]);
    snprintf(num, sizeof num, " %d ", a->d);
    expect_text(&r, num);
    {
        struct imparse p;
        struct imparse_token t;
        imparse_init(&p, r.s + r.pos, r.len - r.pos, 8);
        if (imparse_next(&p, &t) != 0 || t.type != IMPARSE_NUMBER || t.number != a->u)
            abort();
        r.pos += t.len;
    }
    expect_text(&r, " (");
    for (int i = 0; i < nv; i++) {
        if (i)
            expect_text(&r, " ");
        expect_astring(&r, v[i], strlen(v[i]));
    }
    expect_text(&r, ") ");
    expect_astring(&r, last, a->len[a->n - 1]);
    if (r.pos != r.len)
        abort();
    free((char *)r.s);

    /* %a: sent as it is, or refused before anything is written. */
    if (is_a_atom(a->s[0], a->len[0])) {
        SEND(k, &r, "", "FUZZ %a", a->s[0]);
        expect_text(&r, " FUZZ ");
        expect_text(&r, a->s[0]);
        if (r.pos != r.len)
            abort();
        free((char *)r.s);
    } else {
        k->finished = 0;
        k->len = 0;
        imclient_send(k->c, on_finish, k, "FUZZ %a", a->s[0]);
        if (k->finished != 1 || strcmp(k->keyword, "BAD") != 0 ||
            strncmp(k->text, "[CLIENTBUG]", 11) != 0)
            abort();
        imclient_processoneevent_timeout(k->c, 0);
        if (take(k) || k->finished != 1)
            abort();
    }

    /* LOGIN marks its password secret: the bytes must not change. */
    const char *pass = a->n > 1 ? a->s[1] : "";
    SEND(k, &r, "", "LOGIN %s %s", a->s[0], pass);
    expect_text(&r, " LOGIN ");
    expect_astring(&r, a->s[0], a->len[0]);
    expect_text(&r, " ");
    expect_astring(&r, pass, strlen(pass));
    if (r.pos != r.len)
        abort();
    free((char *)r.s);
}

/* ---- the input -------------------------------------------------------------- */

static void parse_input(const uint8_t *data, size_t size, struct args *a)
{
    memset(a, 0, sizeof *a);
    memcpy(&a->d, data, 4);
    memcpy(&a->u, data + 4, 4);
    data += 8;
    size -= 8;
    size_t i = 0;
    while (a->n < MAX_ARGS) {
        size_t j = i;
        while (j < size && data[j] != 0)
            j++;
        const uint8_t *s = data + i;
        size_t n = j - i, reps = 1;
        if (n >= 2 && s[0] == 1) {
            reps = s[1] ? s[1] : 1;
            s += 2;
            n -= 2;
        }
        size_t total = n * reps > MAX_ARG ? MAX_ARG - MAX_ARG % (n ? n : 1) : n * reps;
        char *p = malloc(total + 1);
        if (!p)
            abort();
        for (size_t o = 0; o < total; o += n)
            memcpy(p + o, s, n);
        p[total] = '\0';
        a->s[a->n] = p;
        a->len[a->n] = total;
        a->n++;
        if (j >= size)
            break;
        i = j + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9)
        return 0;
    struct conn k = { 0 };
    k.flags = data[0];
    struct args a;
    parse_input(data + 1, size - 1, &a);

    k.c = fuzz_connect(&k.fd);
    imclient_addcallback(k.c, "", 0, on_untagged, &k, NULL);
    char greeting[160];
    snprintf(greeting, sizeof greeting, "* OK [CAPABILITY IMAP4rev1%s%s%s%s] fuzz\r\n",
             k.flags & F_LITPLUS ? " LITERAL+" : "", k.flags & F_LITMINUS ? " LITERAL-" : "",
             k.flags & F_UTF8 ? " ENABLE UTF8=ACCEPT" : "", k.flags & F_BINARY ? " BINARY" : "");
    put(&k, greeting);
    for (int i = 0; i < 100 && !k.greeted; i++)
        if (imclient_processoneevent_timeout(k.c, 20) < 0)
            abort();
    if (!k.greeted)
        abort();
    if (k.flags & F_NONSYNC)
        imclient_setflags(k.c, IMCLIENT_CONN_NONSYNCLITERAL);
    if (k.flags & F_BATCH)
        imclient_setflags(k.c, IMCLIENT_CONN_BATCH);
    if (k.flags & F_UTF8) {
        struct reader r = { 0 };
        SEND(&k, &r, "* ENABLED UTF8=ACCEPT\r\n", "ENABLE UTF8=ACCEPT");
        expect_text(&r, " ENABLE UTF8=ACCEPT");
        free((char *)r.s);
    }
    run(&k, &a, (k.flags & F_UTF8) != 0);

    imclient_close(k.c);
    close(k.fd);
    free(k.in);
    for (int i = 0; i < a.n; i++)
        free(a.s[i]);
    return 0;
}
