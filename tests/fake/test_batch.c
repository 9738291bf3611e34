/*
 * IMCLIENT_CONN_BATCH and imclient_flush(): commands queue without being
 * written, leave together in one write at a flush or when events are
 * handled, and a deep pipeline finishes even when the server stops reading
 * until its own replies have been read.  The default is unchanged: each
 * command leaves as it is sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cyrus/imclient.h"
#include "dynserver.h"
#include "fakeserver.h"
#include "replylog.h"

#define SERVER_OK(fs) CHECK_SERVER(fake_wait, fs)

/* The client's writes as the trace sees them: one call per write. */
struct writes {
    int count;
    size_t bytes;
};

static void count_writes(struct imclient *c, void *rock, int dir, const char *data, size_t len)
{
    (void)c;
    (void)data;
    struct writes *w = rock;
    if (dir == 'C') {
        w->count++;
        w->bytes += len;
    }
}

static struct imclient *connect_traced(const char *port, struct writes *w)
{
    struct imclient *c = NULL;
    if (imclient_connect(&c, "127.0.0.1", port) != 0)
        return NULL;
    imclient_settrace(c, count_writes, w);
    return c;
}

static const char noops[] = "1 NOOP\r\n2 NOOP\r\n3 NOOP\r\n";
static const char oks[] = "1 OK a\r\n2 OK b\r\n3 OK c\r\n";

/* A server that expects the three NOOPs and answers them, and a traced
 * connection to it with IMCLIENT_CONN_BATCH set or not. */
struct three {
    struct fakeserver *fs;
    struct imclient *c;
    struct writes w;
};

static int three_start(struct three *t, int batch)
{
    reset();
    t->fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_EXPECT(noops), F_SEND(oks), F_DRAIN()));
    t->w = (struct writes){ 0, 0 };
    t->c = connect_traced(fake_port(t->fs), &t->w);
    if (t->c && batch)
        imclient_setflags(t->c, IMCLIENT_CONN_BATCH);
    return t->c ? 0 : -1;
}

static void three_finish(struct three *t)
{
    while (finished_count() < 3)
        imclient_processoneevent(t->c);
    imclient_close(t->c);
}

static void batched_until_flush(void)
{
    struct three t;
    CHECK_INT(three_start(&t, 1), 0);
    for (int i = 0; i < 3; i++)
        imclient_send(t.c, finished, (void *)"noop", "NOOP");
    CHECK_INT(t.w.count, 0); /* queued, nothing written */
    int fd, wanttowrite;
    imclient_getselectinfo(t.c, &fd, &wanttowrite);
    CHECK_INT(wanttowrite, 1);
    CHECK_INT(imclient_flush(t.c), 0);
    CHECK_INT(t.w.count, 1); /* all three in one write */
    CHECK_INT(t.w.bytes, sizeof noops - 1);
    CHECK_INT(imclient_flush(t.c), 0); /* nothing left: no write */
    CHECK_INT(t.w.count, 1);
    three_finish(&t);
    CHECK_STR(log_text(), "noop|OK|-1|a\nnoop|OK|-1|b\nnoop|OK|-1|c\n");
    SERVER_OK(t.fs);
    fake_free(t.fs);
}

/* Without a flush, the event handling writes the queue. */
static void batched_written_by_events(void)
{
    struct three t;
    CHECK_INT(three_start(&t, 1), 0);
    for (int i = 0; i < 3; i++)
        imclient_send(t.c, finished, (void *)"noop", "NOOP");
    three_finish(&t);
    CHECK_INT(t.w.count, 1);
    CHECK_INT(finished_count(), 3);
    SERVER_OK(t.fs);
    fake_free(t.fs);
}

/* The page's meaning stays the default, and clearing the flag restores it. */
static void default_writes_each_command(void)
{
    struct three t;
    CHECK_INT(three_start(&t, 1), 0);
    imclient_clearflags(t.c, IMCLIENT_CONN_BATCH);
    for (int i = 0; i < 3; i++) {
        imclient_send(t.c, finished, (void *)"noop", "NOOP");
        CHECK_INT(t.w.count, i + 1);
    }
    three_finish(&t);
    SERVER_OK(t.fs);
    fake_free(t.fs);
}

/* A flush on a connection that has failed says so. */
static void flush_after_failure(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_CLOSE()));
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    while (imclient_processoneevent_timeout(c, 2000) >= 0)
        ;
    imclient_setflags(c, IMCLIENT_CONN_BATCH);
    imclient_send(c, finished, (void *)"noop", "NOOP");
    CHECK_INT(imclient_flush(c), -1);
    CHECK_STR(log_text(), "noop|EOF|-1|\n");
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

/* The trace procedure runs while bytes are being written: a flush from
 * there is refused, with a reason. */
static int flush_in_trace = 99;

static void flush_from_trace(struct imclient *c, void *rock, int dir, const char *data, size_t len)
{
    (void)rock;
    (void)data;
    (void)len;
    if (dir == 'C' && flush_in_trace == 99)
        flush_in_trace = imclient_flush(c);
}

static void flush_refused_in_trace(void)
{
    struct three t;
    CHECK_INT(three_start(&t, 1), 0);
    imclient_settrace(t.c, flush_from_trace, NULL);
    for (int i = 0; i < 3; i++)
        imclient_send(t.c, finished, (void *)"noop", "NOOP");
    CHECK_INT(imclient_flush(t.c), 0);
    CHECK_INT(flush_in_trace, -1);
    CHECK_STR(imclient_error(t.c), "imclient_flush from the trace procedure");
    three_finish(&t);
    SERVER_OK(t.fs);
    fake_free(t.fs);
}

/* ---- a deep pipeline against a server that stops reading --------------- */

#define DEEP 20000
/* Long enough that neither direction's socket buffers hold the whole
 * exchange: the server blocks writing replies, and so stops reading
 * commands, until the client reads. */
#define PAD "x-pad-0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789"

static void answer_each(struct dynserver *d)
{
    if (dyn_send(d, "* OK ready\r\n") < 0)
        return;
    char reply[400];
    for (int i = 0; i < DEEP; i++) {
        char *line = dyn_line(d);
        if (!line)
            return;
        char *sp = strchr(line, ' ');
        if (!sp || strcmp(sp + 1, PAD) != 0) {
            dyn_fail(d, "command %d: %s", i + 1, line);
            free(line);
            return;
        }
        *sp = '\0';
        snprintf(reply, sizeof reply, "%s OK " PAD " " PAD "\r\n", line);
        free(line);
        if (dyn_send(d, reply) < 0)
            return;
    }
}

struct tally {
    int ok, other;
};

static void count_ok(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct tally *t = rock;
    if (strcmp(r->keyword, "OK") == 0)
        t->ok++;
    else
        t->other++;
}

static void deep_pipeline_server_stops_reading(void)
{
    struct dynserver *d = dyn_start(answer_each, NULL);
    CHECK(d != NULL);
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", d->port), 0);
    imclient_setflags(c, IMCLIENT_CONN_BATCH);
    struct tally t = { 0, 0 };
    for (int i = 0; i < DEEP; i++)
        imclient_send(c, count_ok, &t, "%a", PAD);
    while (t.ok + t.other < DEEP && imclient_processoneevent_timeout(c, 5000) > 0)
        ;
    CHECK_INT(t.ok, DEEP);
    CHECK_INT(t.other, 0);
    imclient_close(c);
    DYN_OK(d);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(batched_until_flush),
        TEST(batched_written_by_events),
        TEST(default_writes_each_command),
        TEST(flush_after_failure),
        TEST(flush_refused_in_trace),
        TEST(deep_pipeline_server_stops_reading),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
