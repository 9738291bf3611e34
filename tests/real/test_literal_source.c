/*
 * Uploads against real Dovecot and Cyrus: multi-MiB APPENDs from a file
 * descriptor and from a read procedure ("%L"), as literal8 ("~{n}") where
 * the server advertises BINARY, and from a "%s" string; each message is
 * FETCHed back (BODY.PEEK[], streamed to a literal callback) and compared
 * byte for byte.  Each run uses a mailbox of its own and deletes it.  The
 * same again through TLS (STARTTLS verified against the throwaway CA, when
 * IMC_CA_FILE names it) and COMPRESS=DEFLATE: a source's bytes take the
 * same write path as any.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "realenv.h"
#include <cyrus/imclient.h>

static struct realenv_server *servers;

/* ---- the messages: a header, then 80-byte lines, all computed ---------- */

#define MAX_MSGS 4

struct msg {
    int seed;
    size_t size;
    char header[80];
    size_t header_len;
};

static void msg_init(struct msg *m, int seed, size_t approx)
{
    m->seed = seed;
    m->header_len = (size_t)snprintf(m->header, sizeof m->header,
                                     "From: t@example.org\r\nSubject: source %d\r\n\r\n", seed);
    m->size = m->header_len + (approx / 80) * 80;
}

static char msg_byte(const struct msg *m, size_t i)
{
    if (i < m->header_len)
        return m->header[i];
    size_t j = i - m->header_len, col = j % 80;
    if (col == 78)
        return '\r';
    if (col == 79)
        return '\n';
    return (char)('A' + (j / 80 * 7 + col + (size_t)m->seed) % 26);
}

/* A read procedure over a computed message. */
struct reader {
    const struct msg *m;
    size_t at;
    int calls;
};

static long read_msg(void *rock, char *buf, size_t max)
{
    struct reader *r = rock;
    r->calls++;
    size_t n = 0;
    while (n < max && r->at < r->m->size)
        buf[n++] = msg_byte(r->m, r->at++);
    return (long)n;
}

/* The message written to an unlinked temporary file, positioned at 0. */
static int msg_file(const struct msg *m)
{
    char path[] = "/tmp/imc_real_litsrc_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    char buf[65536];
    for (size_t at = 0; at < m->size;) {
        size_t n = 0;
        while (n < sizeof buf && at < m->size)
            buf[n++] = msg_byte(m, at++);
        if (write(fd, buf, n) != (ssize_t)n) {
            close(fd);
            return -1;
        }
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* ---- the connection ------------------------------------------------------ */

struct watch {
    int finished;
    char status[16];
    char text[256];
    int binary;               /* BINARY in a capability list */
    const struct msg *msgs;   /* by message number, from 1 */
    int nmsgs;
    size_t got[MAX_MSGS + 1]; /* bytes of each literal that matched */
    int wrong;
};

static void on_done(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct watch *w = rock;
    w->finished++;
    snprintf(w->status, sizeof w->status, "%s", r->keyword);
    snprintf(w->text, sizeof w->text, "%s", r->text);
}

static void on_capability(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct watch *w = rock;
    char *words = strdup(r->text);
    for (char *t = strtok(words, " "); t; t = strtok(NULL, " "))
        if (strcasecmp(t, "BINARY") == 0)
            w->binary = 1;
    free(words);
}

static void on_piece(struct imclient *c, void *rock, const struct imclient_literal *p)
{
    (void)c;
    struct watch *w = rock;
    if (p->msgno < 1 || p->msgno > w->nmsgs) {
        w->wrong++;
        return;
    }
    const struct msg *m = &w->msgs[p->msgno - 1];
    if (p->size != m->size || p->offset != w->got[p->msgno]) {
        w->wrong++;
        return;
    }
    for (size_t i = 0; i < p->len; i++)
        if (p->data[i] != msg_byte(m, p->offset + i)) {
            w->wrong++;
            return;
        }
    w->got[p->msgno] += p->len;
}

static void wait_for(struct imclient *c, struct watch *w, int finished)
{
    time_t end = time(NULL) + 120;
    while (w->finished < finished && time(NULL) < end &&
           imclient_processoneevent_timeout(c, 500) >= 0)
        ;
}

/* Run one command to its end: its keyword, or "" if it never ended. */
static const char *run(struct imclient *c, struct watch *w, const char *fmt, ...)
{
    /* imclient_send takes no va_list: the commands here have at most one
     * pointer argument, passed through. */
    va_list ap;
    va_start(ap, fmt);
    const void *arg = va_arg(ap, const void *);
    va_end(ap);
    int before = w->finished;
    w->status[0] = '\0';
    imclient_send(c, on_done, w, fmt, arg);
    wait_for(c, w, before + 1);
    if (getenv("IMC_TEST_DEBUG"))
        fprintf(stderr, "%s: %s %s\n", fmt, w->status, w->text);
    return w->status;
}

/* layered: STARTTLS (when the CA is known) before LOGIN, COMPRESS after. */
static struct imclient *login(const struct realenv_server *s, struct watch *w, int layered)
{
    struct imclient *c = NULL;
    const char *ca = getenv("IMC_CA_FILE");
    int tls = layered && ca && *ca;
    if (imclient_connect(&c, tls ? "localhost" : "127.0.0.1", s->port) != 0)
        return NULL;
    imclient_addcallback(c, "CAPABILITY", 0, on_capability, w, (char *)NULL);
    imclient_addliteralcallback(c, "FETCH", CALLBACK_NUMBERED, on_piece, w);
    if (tls && imclient_starttls(c, NULL, NULL, (char *)ca, NULL) != 0) {
        fprintf(stderr, "%s: STARTTLS: %s\n", s->prefix, imclient_error(c));
        imclient_close(c);
        return NULL;
    }
    int before = w->finished;
    imclient_send(c, on_done, w, "LOGIN %s %s", s->user, s->pass);
    wait_for(c, w, before + 1);
    if (strcmp(w->status, "OK") != 0 || strcmp(run(c, w, "CAPABILITY", NULL), "OK") != 0) {
        imclient_close(c);
        return NULL;
    }
    if (layered && imclient_compress(c) != 0) {
        fprintf(stderr, "%s: COMPRESS: %s\n", s->prefix, imclient_error(c));
        imclient_close(c);
        return NULL;
    }
    if (layered && !tls)
        printf("%s: no IMC_CA_FILE: COMPRESS without TLS\n", s->prefix);
    return c;
}

static void uploads(const struct realenv_server *s, int layered)
{
    struct msg msgs[MAX_MSGS];
    msg_init(&msgs[0], 1, 4 * 1024 * 1024 + 123);      /* from a file */
    msg_init(&msgs[1], 2, 3 * 1024 * 1024 + 4567);     /* from a read procedure */
    msg_init(&msgs[2], 3, 2 * 1024 * 1024 + 89);       /* "%s" */
    msg_init(&msgs[3], 4, 3 * 1024 * 1024 + 1);        /* literal8, with BINARY */
    struct watch w;
    memset(&w, 0, sizeof w);
    w.msgs = msgs;
    struct imclient *c = login(s, &w, layered);
    CHECK(c != NULL);
    /* A name of its own per scenario: two in one second would share one,
     * and Cyrus refuses the second DELETE (its deleted mailboxes are kept
     * under the name and the second). */
    static int serial;
    char mbox[64];
    snprintf(mbox, sizeof mbox, "litsrc%ld-%d-%d", (long)time(NULL), (int)getpid(), ++serial);
    CHECK_STR(run(c, &w, "CREATE %s", mbox), "OK");

    int fd = msg_file(&msgs[0]);
    CHECK(fd >= 0);
    struct imclient_literal_source from_file = { msgs[0].size, NULL, NULL, fd, 0 };
    int before = w.finished;
    imclient_send(c, on_done, &w, "APPEND %s %L", mbox, &from_file);
    wait_for(c, &w, before + 1);
    CHECK_STR(w.status, "OK");
    close(fd);

    struct reader rd = { &msgs[1], 0, 0 };
    struct imclient_literal_source from_proc = { msgs[1].size, read_msg, &rd, -1, 0 };
    before = w.finished;
    imclient_send(c, on_done, &w, "APPEND %s (\\Seen) %L", mbox, &from_proc);
    wait_for(c, &w, before + 1);
    CHECK_STR(w.status, "OK");
    CHECK(rd.at == msgs[1].size);

    char *text = malloc(msgs[2].size + 1);
    for (size_t i = 0; i < msgs[2].size; i++)
        text[i] = msg_byte(&msgs[2], i);
    text[msgs[2].size] = '\0';
    before = w.finished;
    imclient_send(c, on_done, &w, "APPEND %s %s", mbox, text);
    free(text);
    wait_for(c, &w, before + 1);
    CHECK_STR(w.status, "OK");
    w.nmsgs = 3;

    if (w.binary) {
        struct reader rd8 = { &msgs[3], 0, 0 };
        struct imclient_literal_source lit8 = { msgs[3].size, read_msg, &rd8, -1,
                                                IMCLIENT_LITERAL_BINARY };
        before = w.finished;
        imclient_send(c, on_done, &w, "APPEND %s %L", mbox, &lit8);
        wait_for(c, &w, before + 1);
        CHECK_STR(w.status, "OK");
        w.nmsgs = 4;
    } else {
        printf("%s: no BINARY advertised: literal8 not tried\n", s->prefix);
    }

    CHECK_STR(run(c, &w, "SELECT %s", mbox), "OK");
    CHECK_STR(run(c, &w, w.nmsgs == 4 ? "FETCH 1:4 BODY.PEEK[]" : "FETCH 1:3 BODY.PEEK[]",
                  NULL), "OK");
    CHECK_INT(w.wrong, 0);
    for (int i = 1; i <= w.nmsgs; i++)
        CHECK(w.got[i] == msgs[i - 1].size);
    CHECK_STR(run(c, &w, "CLOSE", NULL), "OK");
    CHECK_STR(run(c, &w, "DELETE %s", mbox), "OK");
    imclient_close(c);
}

static void dovecot_uploads(void) { uploads(&servers[0], 0); }
static void cyrus_uploads(void) { uploads(&servers[1], 0); }
static void dovecot_uploads_tls_compress(void) { uploads(&servers[0], 1); }
static void cyrus_uploads_tls_compress(void) { uploads(&servers[1], 1); }

int main(int argc, char **argv)
{
    static const struct check_test all[] = {
        TEST(dovecot_uploads), TEST(dovecot_uploads_tls_compress),
        TEST(cyrus_uploads), TEST(cyrus_uploads_tls_compress),
    };
    servers = realenv_servers();
    return realenv_main(argc, argv, all, 2);
}
