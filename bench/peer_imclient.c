/*
 * One peer client for both imclient libraries: built as peer_libcyrus
 * against this library (through its Cyrus 3.x source compatibility,
 * IMCLIENT_CYRUS3, so the calls are written the same), and as peer_cyrus36
 * with PEER_CYRUS36 against Debian's libcyrus.so.0.
 *
 * Cyrus 3.6's imclient_processoneevent() blocks in select() with no time
 * limit, so the loop below calls it only while a reply is still owed; each
 * call writes pending output or reads once, in both libraries.  The driver
 * kills a client that hangs.
 *
 * W4 streams literals through imclient_addliteralcallback() here; Cyrus
 * 3.6 has no such facility, so its W4 collects them as W1 does.
 *
 * Built a third time as peer_libcyrus_ext with PEER_EXT, using what this
 * library offers beyond the page when asked: W3 with IMCLIENT_CONN_BATCH
 * (the NOOPs leave in large writes), and W5 giving the message through
 * "%L" and a read procedure copying from the same payload as the socket
 * takes it, instead of "%s".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef PEER_CYRUS36
#include "cyrus36_imclient.h"
/* 3.6 says nothing of a reply's length; its text ends at the first NUL,
 * and the benchmark's literals hold none. */
#define REPLY_LEN(r) strlen((r)->text)

void fatal(const char *message, int code)
{
    fprintf(stderr, "libcyrus.so.0: fatal: %s (%d)\n", message, code);
    _exit(70);
}
#else
#define IMCLIENT_CYRUS3
#include <cyrus/imclient.h>
#define REPLY_LEN(r) ((r)->textlen)
#endif

#include "peer_client.h"

static struct imclient *conn;

struct tally_state {
    const struct peer_job *job;
    struct peer_tally *t;
    long next_msgno;
    size_t reply_len;    /* what every FETCH reply's text must measure */
    char head[64];       /* and how it must start */
    size_t head_len;
    int collected;       /* the literal's bytes are in the reply's text */
    uint64_t piece_off;  /* streamed: where the next piece of a literal starts */
    uint64_t finished, not_ok, wrong;
};

int peer_connect(const struct peer_job *job, char *why, size_t whylen)
{
    int r = imclient_connect(&conn, "127.0.0.1", job->port, NULL);
    if (r != 0) {
        snprintf(why, whylen, "imclient_connect: %d", r);
        return -1;
    }
    return 0;
}

void peer_close(void)
{
    if (conn)
        imclient_close(conn);
}

static void on_fetch(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct tally_state *st = rock;
    (void)c;
    st->t->items++;
    if (r->msgno != st->next_msgno++)
        st->wrong++;
    else if (st->reply_len && (REPLY_LEN(r) != st->reply_len ||
                               memcmp(r->text, st->head, st->head_len) != 0 ||
                               r->text[st->reply_len - 1] != ')'))
        st->wrong++;
    else if (st->collected)
        st->t->bytes += st->job->literal;
}

static void on_done(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct tally_state *st = rock;
    (void)c;
    st->finished++;
    if (strcmp(r->keyword, "OK") != 0)
        st->not_ok++;
}

#ifndef PEER_CYRUS36
static void on_piece(struct imclient *c, void *rock, const struct imclient_literal *p)
{
    struct tally_state *st = rock;
    (void)c;
    if (p->size != st->job->literal || p->offset != st->piece_off)
        st->wrong++;
    st->piece_off = p->offset + p->len == p->size ? 0 : p->offset + p->len;
    st->t->bytes += p->len;
}
#endif

#ifdef PEER_EXT
struct payload_reader {
    const char *data;
    uint64_t size, at;
};

static long read_payload(void *rock, char *buf, size_t max)
{
    struct payload_reader *r = rock;
    uint64_t left = r->size - r->at;
    size_t n = left < max ? (size_t)left : max;
    memcpy(buf, r->data + r->at, n);
    r->at += n;
    return (long)n;
}
#endif

static void run_until(struct tally_state *st, uint64_t finished)
{
    while (st->finished < finished)
        imclient_processoneevent(conn);
}

static void expect_fetch_text(struct tally_state *st, int with_literal)
{
    st->collected = with_literal;
    st->head_len = (size_t)snprintf(st->head, sizeof st->head, "(BODY[] {%llu}\r\n",
                                    (unsigned long long)st->job->literal);
    st->reply_len = st->head_len + (with_literal ? st->job->literal : 0) + 1;
}

int peer_work(const struct peer_job *job, struct peer_tally *t, char *why, size_t whylen)
{
    struct tally_state st;
    memset(&st, 0, sizeof st);
    st.job = job;
    st.t = t;
    st.next_msgno = 1;
    uint64_t commands = 1;
    switch (job->workload) {
    case PEER_W1:
    case PEER_W4:
#ifdef PEER_CYRUS36
        expect_fetch_text(&st, 1);
#else
        expect_fetch_text(&st, job->workload == PEER_W1);
        if (job->workload == PEER_W4)
            imclient_addliteralcallback(conn, "FETCH", CALLBACK_NUMBERED, on_piece, &st);
#endif
        imclient_addcallback(conn, "FETCH", CALLBACK_NUMBERED, on_fetch, &st, (char *)NULL);
        imclient_send(conn, on_done, &st, "FETCH 1:%u BODY[]", (unsigned)job->count);
        break;
    case PEER_W2:
        imclient_addcallback(conn, "FETCH", CALLBACK_NUMBERED, on_fetch, &st, (char *)NULL);
        imclient_send(conn, on_done, &st, "FETCH 1:%u (UID FLAGS)", (unsigned)job->count);
        break;
    case PEER_W3:
#ifdef PEER_EXT
        imclient_setflags(conn, IMCLIENT_CONN_BATCH);
#endif
        for (uint64_t i = 0; i < job->count; i++)
            imclient_send(conn, on_done, &st, "NOOP");
        commands = job->count;
        break;
    case PEER_W5: {
#ifdef PEER_EXT
        struct payload_reader reader = { job->payload, job->count, 0 };
        struct imclient_literal_source src = { job->count, read_payload, &reader, -1, 0 };
        imclient_send(conn, on_done, &st, "APPEND INBOX %L", &src);
        run_until(&st, 1); /* the reader lives here */
#else
        imclient_send(conn, on_done, &st, "APPEND INBOX %s", job->payload);
#endif
        t->bytes = job->count;
        break;
    }
    default:
        break;
    }
    run_until(&st, commands);
    if (job->workload == PEER_W3 || job->workload == PEER_W5)
        t->items = st.finished - st.not_ok;
    if (st.not_ok || st.wrong || !peer_tally_complete(job, t)) {
        snprintf(why, whylen, "%llu items (%llu wrong), %llu bytes, %llu commands not OK",
                 (unsigned long long)t->items, (unsigned long long)st.wrong,
                 (unsigned long long)t->bytes, (unsigned long long)st.not_ok);
        return -1;
    }
    return 0;
}
