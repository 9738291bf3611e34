/*
 * %L, a literal read from the application's source as the socket takes it,
 * against scripted servers: the exact bytes of {n}, ~{n} and {n+}; the
 * source untouched until the server's "+"; a tagged NO instead of "+"
 * (the source never read, the command finished once); sources that end
 * early, fail or have more than they announced (the connection fails with
 * IMCLIENT_EIO, every command finishes once); a descriptor as the source;
 * the trace's placeholder; and a large "%s" literal sent exactly.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cyrus/imclient.h"
#include "fakeserver.h"
#include "listener.h"
#include "replylog.h"

#define SERVER_OK(fs) CHECK_SERVER(fake_wait, fs)

/* A read procedure over bytes in memory, counting its calls; it can end
 * early (stop_at), fail at an offset (fail_at), or carry more bytes than
 * the literal announces. */
struct memsrc {
    const char *data;
    size_t len, at;
    size_t stop_at, fail_at; /* (size_t)-1: never */
    int calls;
    size_t largest;          /* the largest max it was asked for */
};

static long mem_read(void *rock, char *buf, size_t max)
{
    struct memsrc *m = rock;
    m->calls++;
    if (max > m->largest)
        m->largest = max;
    if (m->at >= m->fail_at)
        return -1;
    size_t end = m->len < m->stop_at ? m->len : m->stop_at;
    size_t n = end - m->at < max ? end - m->at : max;
    memcpy(buf, m->data + m->at, n);
    m->at += n;
    return (long)n;
}

static struct memsrc memsrc_of(const char *data, size_t len)
{
    struct memsrc m = { data, len, 0, (size_t)-1, (size_t)-1, 0, 0 };
    return m;
}

static struct imclient_literal_source source_of(struct memsrc *m, unsigned long long size,
                                                int flags)
{
    struct imclient_literal_source s = { size, mem_read, m, -1, flags };
    return s;
}

static struct imclient *connect_to(struct fakeserver *fs)
{
    struct imclient *c = NULL;
    if (imclient_connect(&c, "127.0.0.1", fake_port(fs)) != 0)
        return NULL;
    return c;
}

/* The source is read only after "+", and the bytes are exact. */
static void synchronizing_waits_for_plus(void)
{
    reset();
    struct memsrc m = memsrc_of("Subject: hi\r\n\r\nbody\r\n", 21);
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 APPEND INBOX {21}\r\n"), F_SLEEP(100),
        F_SEND("+ go\r\n"), F_EXPECT("Subject: hi\r\n\r\nbody\r\n\r\n"),
        F_SEND("1 OK appended\r\n"), F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    struct imclient_literal_source src = source_of(&m, 21, 0);
    imclient_send(c, finished, (void *)"append", "APPEND INBOX %L", &src);
    memset(&src, 0, sizeof src); /* copied at the call */
    CHECK_INT(m.calls, 0);
    while (m.calls == 0 && finished_count() == 0)
        imclient_processoneevent(c);
    run_until(c, 1);
    CHECK_STR(log_text(), "append|OK|-1|appended\n");
    CHECK_INT(m.calls, 2); /* the bytes, then the end */
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

static void literal8_and_nonsync(void)
{
    reset();
    static const char bin[] = "a\0b\r\nc";
    static const char first[] = "a\0b\r\nc\r\n";
    static const char second[] = "2 APPEND INBOX ~{6+}\r\na\0b\r\nc {0+}\r\n\r\n";
    struct memsrc m1 = memsrc_of(bin, 6), m2 = memsrc_of(bin, 6);
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 APPEND INBOX ~{6}\r\n"), F_SEND("+ \r\n"),
        { FAKE_EXPECT, first, sizeof first - 1, 0 }, F_SEND("1 OK bin\r\n"),
        { FAKE_EXPECT, second, sizeof second - 1, 0 },
        F_SEND("2 OK both\r\n"), F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    struct imclient_literal_source s1 = source_of(&m1, 6, IMCLIENT_LITERAL_BINARY);
    imclient_send(c, finished, (void *)"one", "APPEND INBOX %L", &s1);
    run_until(c, 1);
    imclient_setflags(c, IMCLIENT_CONN_NONSYNCLITERAL);
    struct memsrc empty = memsrc_of("", 0);
    struct imclient_literal_source s2 = source_of(&m2, 6, IMCLIENT_LITERAL_BINARY);
    struct imclient_literal_source s3 = source_of(&empty, 0, 0);
    imclient_send(c, finished, (void *)"two", "APPEND INBOX %L %L", &s2, &s3);
    run_until(c, 2);
    CHECK_STR(log_text(), "one|OK|-1|bin\ntwo|OK|-1|both\n");
    CHECK_INT(empty.calls, 1); /* asked once: it has ended */
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

/* LITERAL- from the greeting: a source of up to 4096 bytes goes without
 * waiting, a larger one waits for "+", as a "%s" literal would. */
static void literal_minus(void)
{
    reset();
    enum { BIG = 5000 };
    char *big = malloc(BIG + 2);
    memset(big, 'z', BIG);
    memcpy(big + BIG, "\r\n", 2);
    struct memsrc m1 = memsrc_of("tiny", 4), m2 = memsrc_of(big, BIG);
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK [CAPABILITY IMAP4rev1 LITERAL-] hi\r\n"), F_EXPECT("1 NOOP\r\n"),
        F_SEND("1 OK read\r\n"),
        F_EXPECT("2 APPEND INBOX {4+}\r\ntiny\r\n"), F_SEND("2 OK small\r\n"),
        F_EXPECT("3 APPEND INBOX {5000}\r\n"), F_SEND("+ \r\n"),
        { FAKE_EXPECT, big, BIG + 2, 0 }, F_SEND("3 OK large\r\n"), F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    struct imclient_literal_source s1 = source_of(&m1, 4, 0), s2 = source_of(&m2, BIG, 0);
    /* The greeting's capabilities are known once it has been read. */
    imclient_send(c, finished, (void *)"noop", "NOOP");
    run_until(c, 1);
    imclient_send(c, finished, (void *)"small", "APPEND INBOX %L", &s1);
    run_until(c, 2);
    imclient_send(c, finished, (void *)"large", "APPEND INBOX %L", &s2);
    run_until(c, 3);
    CHECK_STR(log_text(), "noop|OK|-1|read\nsmall|OK|-1|small\nlarge|OK|-1|large\n");
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
    free(big);
}

/* A tagged NO instead of "+": the source is never read, the rest of the
 * command never sent, and the next command goes out behind it. */
static void tagged_reply_instead_of_plus(void)
{
    reset();
    struct memsrc m = memsrc_of("xxxx", 4);
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 APPEND INBOX {4}\r\n"),
        F_SEND("1 NO [TOOBIG] no\r\n"), F_EXPECT("2 NOOP\r\n"), F_SEND("2 OK fine\r\n"),
        F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    struct imclient_literal_source src = source_of(&m, 4, 0);
    imclient_send(c, finished, (void *)"append", "APPEND INBOX %L", &src);
    imclient_send(c, finished, (void *)"noop", "NOOP");
    run_until(c, 2);
    CHECK_STR(log_text(), "append|NO|-1|[TOOBIG] no\nnoop|OK|-1|fine\n");
    CHECK_INT(m.calls, 0);
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

/* Endless bytes, never read past what is asked. */
static long endless_read(void *rock, char *buf, size_t max)
{
    (void)rock;
    memset(buf, 'e', max);
    return (long)max;
}

/* The tagged reply while the literal is still being sent: the server did
 * not read the command whole, and the source may not be read after the
 * command finished, so the connection fails; the command finishes once. */
static void tagged_reply_during_literal(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 APPEND INBOX {67108864+}\r\n"),
        F_SEND("1 NO [TOOBIG] stop\r\n"), F_SLEEP(300), F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    imclient_setflags(c, IMCLIENT_CONN_NONSYNCLITERAL);
    struct imclient_literal_source src = { 64 << 20, endless_read, NULL, -1, 0 };
    imclient_send(c, finished, (void *)"append", "APPEND INBOX %L", &src);
    run_until(c, 1);
    CHECK_STR(log_text(), "append|EOF|-1|\n");
    CHECK_INT(imclient_errcode(c), IMCLIENT_EPROTOCOL);
    CHECK(strstr(imclient_error(c), "while its literal was being sent") != NULL);
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

/* A source that breaks its word fails the connection after the bytes it
 * gave went out; both commands in flight finish once, with EOF. */
static void broken_source(struct memsrc *m, unsigned long long size, const char *reason)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 APPEND INBOX {6}\r\n"), F_SEND("+ \r\n"),
        F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    struct imclient_literal_source src = source_of(m, size, 0);
    imclient_send(c, finished, (void *)"append", "APPEND INBOX %L", &src);
    imclient_send(c, finished, (void *)"noop", "NOOP");
    run_until(c, 2);
    CHECK_STR(log_text(), "append|EOF|-1|\nnoop|EOF|-1|\n");
    CHECK_INT(finished_count(), 2);
    CHECK_INT(imclient_errcode(c), IMCLIENT_EIO);
    if (!strstr(imclient_error(c), reason))
        check_fail(__FILE__, __LINE__, "reason \"%s\" lacks \"%s\"", imclient_error(c), reason);
    CHECK(imclient_isopen(c) == 0);
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

static void short_source(void)
{
    struct memsrc m = memsrc_of("abcdef", 6);
    m.stop_at = 4;
    broken_source(&m, 6, "ended after 4 of its 6 bytes");
}

static void failing_source(void)
{
    struct memsrc m = memsrc_of("abcdef", 6);
    m.fail_at = 0;
    broken_source(&m, 6, "read procedure failed");
}

static void oversize_source(void)
{
    struct memsrc m = memsrc_of("abcdefgh", 8);
    broken_source(&m, 6, "more than its 6 bytes");
}

/* A descriptor as the source, read from where it stands; the trace shows
 * the placeholder once, never the bytes. */
struct trace_log {
    char text[4096];
    size_t len;
    int writes;
};

static void trace_into(struct imclient *c, void *rock, int dir, const char *data, size_t len)
{
    (void)c;
    struct trace_log *t = rock;
    if (dir != 'C')
        return;
    t->writes++;
    if (t->len + len < sizeof t->text) {
        memcpy(t->text + t->len, data, len);
        t->len += len;
    }
}

static void descriptor_source(void)
{
    reset();
    enum { SIZE = 600 * 1024 }; /* more than two chunks */
    char *data = malloc(SIZE + 7);
    for (size_t i = 0; i < SIZE; i++)
        data[i] = (char)('a' + i % 26);
    char path[] = "/tmp/imc_litsrc_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    CHECK(write(fd, "skip", 4) == 4);
    CHECK(write(fd, data, SIZE) == SIZE);
    CHECK(lseek(fd, 4, SEEK_SET) == 4);
    memcpy(data + SIZE, "\r\n", 2);
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 APPEND INBOX {614400}\r\n"), F_SEND("+ \r\n"),
        { FAKE_EXPECT, data, SIZE + 2, 0 }, F_SEND("1 OK done\r\n"), F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    struct trace_log t = { "", 0, 0 };
    imclient_settrace(c, trace_into, &t);
    struct imclient_literal_source src = { SIZE, NULL, NULL, fd, 0 };
    imclient_send(c, finished, (void *)"append", "APPEND INBOX %L", &src);
    run_until(c, 1);
    CHECK_STR(log_text(), "append|OK|-1|done\n");
    t.text[t.len] = '\0';
    CHECK_STR(t.text, "1 APPEND INBOX {614400}\r\n[614400 bytes from a literal source]\r\n");
    imclient_close(c);
    close(fd);
    SERVER_OK(fs);
    fake_free(fs);
    free(data);
}

/* Refused before anything is sent: no source, flags unknown, a secret. */
static void refusals(void)
{
    reset();
    /* A refused command has used up its tag. */
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_EXPECT("5 NOOP\r\n"),
                                            F_SEND("5 OK x\r\n"), F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    struct memsrc m = memsrc_of("pw", 2);
    struct imclient_literal_source src = source_of(&m, 2, 0);
    imclient_send(c, finished, (void *)"null", "APPEND INBOX %L", (void *)NULL);
    imclient_send(c, finished, (void *)"login", "LOGIN alice %L", &src);
    src.flags = 8;
    imclient_send(c, finished, (void *)"flags", "APPEND INBOX %L", &src);
    src.flags = 0;
    imclient_send(c, finished, (void *)"atom", "APPEND %L %a", &src, "a b");
    imclient_send(c, finished, (void *)"noop", "NOOP");
    run_until(c, 5);
    const char *log = log_text();
    CHECK(strstr(log, "null|BAD|-1|[CLIENTBUG]") == log);
    CHECK(strstr(log, "\nlogin|BAD|-1|[CLIENTBUG] imclient_send: %L in a command that "
                      "carries a secret") != NULL);
    CHECK(strstr(log, "\nflags|BAD|-1|[CLIENTBUG]") != NULL);
    CHECK(strstr(log, "\natom|BAD|-1|[CLIENTBUG]") != NULL);
    CHECK(strstr(log, "\nnoop|OK|-1|x\n") != NULL);
    CHECK_INT(m.calls, 0);
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

/* A "%s" literal larger than a block's threshold: the same bytes as any. */
static void large_string_literal(void)
{
    reset();
    enum { SIZE = 200 * 1024 };
    char *msg = malloc(SIZE + 1);
    for (size_t i = 0; i < SIZE; i++)
        msg[i] = (char)(i % 64 == 63 ? '\n' : 'A' + i % 26);
    msg[SIZE] = '\0';
    char *wire = malloc(SIZE + 2);
    memcpy(wire, msg, SIZE);
    memcpy(wire + SIZE, "\r\n", 2);
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 APPEND INBOX {204800}\r\n"), F_SEND("+ \r\n"),
        { FAKE_EXPECT, wire, SIZE + 2, 0 }, F_SEND("1 OK done\r\n"), F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    imclient_send(c, finished, (void *)"append", "APPEND INBOX %s", msg);
    memset(msg, 0, SIZE); /* copied at the call */
    run_until(c, 1);
    CHECK_STR(log_text(), "append|OK|-1|done\n");
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
    free(msg);
    free(wire);
}

/* The read procedure runs as a callback does: it may not queue. */
struct sending_src {
    struct imclient *c;
    int done;
    int flushed; /* what imclient_flush() said from the read procedure */
};

static long send_from_read(void *rock, char *buf, size_t max)
{
    struct sending_src *s = rock;
    (void)max;
    if (s->done)
        return 0;
    imclient_send(s->c, finished, (void *)"inner", "NOOP");
    s->flushed = imclient_flush(s->c);
    s->done = 1;
    buf[0] = 'x';
    return 1;
}

static void read_procedure_may_not_send(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 APPEND INBOX {1+}\r\nx\r\n"),
        F_SEND("1 OK done\r\n"), F_DRAIN()));
    struct imclient *c = connect_to(fs);
    CHECK(c != NULL);
    imclient_setflags(c, IMCLIENT_CONN_NONSYNCLITERAL);
    struct sending_src s = { c, 0, 0 };
    struct imclient_literal_source src = { 1, send_from_read, &s, -1, 0 };
    imclient_send(c, finished, (void *)"append", "APPEND INBOX %L", &src);
    run_until(c, 2);
    CHECK_STR(log_text(), "inner|BAD|-1|[CLIENTBUG] imclient_send from a literal source's "
                          "read procedure\nappend|OK|-1|done\n");
    CHECK_INT(s.flushed, -1);
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

/* ---- a gigabyte in bounded memory ---------------------------------------
 * A server that takes one APPEND with a synchronizing literal and drops
 * its bytes as they come (a scripted server would keep them all). */
struct sink {
    int lfd;
    char port[16];
    unsigned long long size, got;
    int ok;
};

static void *sink_run(void *rock)
{
    struct sink *k = rock;
    int fd = accept_within(k->lfd, 10000);
    if (fd < 0)
        return NULL;
    static const char hello[] = "* OK sink\r\n", plus[] = "+ go\r\n", done[] = "1 OK sunk\r\n";
    char head[128];
    size_t hl = 0;
    static char buf[65536];
    if (write(fd, hello, sizeof hello - 1) < 0)
        goto out;
    /* The command line up to its literal's header. */
    while (hl < sizeof head - 1 && (hl < 2 || memcmp(head + hl - 2, "\r\n", 2) != 0)) {
        if (read(fd, head + hl, 1) != 1)
            goto out;
        hl++;
    }
    head[hl] = '\0';
    char want[128];
    snprintf(want, sizeof want, "1 APPEND INBOX {%llu}\r\n", k->size);
    if (strcmp(head, want) != 0 || write(fd, plus, sizeof plus - 1) < 0)
        goto out;
    unsigned long long left = k->size + 2; /* and the command's CRLF */
    while (left > 0) {
        ssize_t n = read(fd, buf, left < sizeof buf ? (size_t)left : sizeof buf);
        if (n <= 0)
            goto out;
        left -= (unsigned long long)n;
        k->got += (unsigned long long)n;
    }
    k->ok = write(fd, done, sizeof done - 1) > 0;
    while (read(fd, buf, sizeof buf) > 0)
        ;
out:
    close(fd);
    return NULL;
}

/* Peak resident memory in KiB (VmHWM), and its reset to what is resident
 * now, so the peak measured is the upload's own. */
static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static int reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int r = fputs("5", f) >= 0;
    return fclose(f) == 0 && r ? 0 : -1;
}

/* 1 GiB from a sparse file: the library holds one chunk of it at a time,
 * so the process's peak grows by well under 8 MiB (memory is measured, no
 * time is). */
static void gigabyte_from_file_in_bounded_memory(void)
{
    reset();
    const unsigned long long size = 1ULL << 30;
    char path[] = "/tmp/imc_litsrc_big_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    CHECK(ftruncate(fd, (off_t)size) == 0);
    struct sink k = { -1, "", size, 0, 0 };
    k.lfd = listen_loopback(1, k.port, sizeof k.port);
    CHECK(k.lfd >= 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, sink_run, &k) == 0);
    struct imclient *c = NULL;
    CHECK(imclient_connect(&c, "127.0.0.1", k.port) == 0);
    if (reset_peak_rss() < 0) {
        printf("no /proc/self/clear_refs: peak memory not measured\n");
    }
    long before = peak_rss_kib();
    struct imclient_literal_source src = { size, NULL, NULL, fd, 0 };
    imclient_send(c, finished, (void *)"append", "APPEND INBOX %L", &src);
    while (finished_count() < 1)
        imclient_processoneevent(c);
    long grew = peak_rss_kib() - before;
    printf("1 GiB APPEND from a file: peak resident memory grew by %ld KiB\n", grew);
    CHECK_STR(log_text(), "append|OK|-1|sunk\n");
    CHECK(k.got == size + 2);
    CHECK(grew < 8 * 1024);
    imclient_close(c);
    pthread_join(th, NULL);
    close(k.lfd);
    close(fd);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(synchronizing_waits_for_plus), TEST(literal8_and_nonsync), TEST(literal_minus),
        TEST(tagged_reply_instead_of_plus), TEST(tagged_reply_during_literal), TEST(short_source), TEST(failing_source),
        TEST(oversize_source), TEST(descriptor_source), TEST(refusals),
        TEST(large_string_literal), TEST(read_procedure_may_not_send),
        TEST(gigabyte_from_file_in_bounded_memory),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
