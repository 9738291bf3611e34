/* How much a read asks for (io.c): IMC_READ_CHUNK at first and after a read
 * that ends inside a literal, whose start a read copies into the reply;
 * IMC_READ_STREAMING while small replies stream in.  Every reply arrives
 * whole and in order either way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fakeserver.h"
#include "imclient_internal.h"
#include "replylog.h"
#include "util/buf.h"

#define LINES 160000 /* about 4 MB of small replies */
#define LITERAL (1024 * 1024)

struct seen {
    long next;         /* the message number due */
    long wrong;        /* replies out of order or with the wrong text */
    int streamed;      /* a small reply came from a read of IMC_READ_STREAMING */
    int literal_ok;    /* the big literal arrived whole */
    int streaming_at_literal;
    int done;
};

static void on_fetch(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct seen *s = rock;
    if (r->msgno == 0) { /* the one with the literal */
        s->streaming_at_literal = c->streaming;
        size_t head = strlen("(BODY[] {1048576}\r\n");
        s->literal_ok = r->textlen == head + LITERAL + 1 && r->text[head] == 'a' &&
                        r->text[head + LITERAL - 1] == 'a' + (LITERAL - 1) % 26 &&
                        r->text[r->textlen - 1] == ')';
        return;
    }
    char want[32];
    snprintf(want, sizeof want, "(UID %ld)", r->msgno);
    if (r->msgno != s->next++ || strcmp(r->text, want) != 0)
        s->wrong++;
    if (c->streaming && c->readcap >= IMC_READ_STREAMING)
        s->streamed = 1;
    /* Let the server fill the socket behind the last small reply before the
     * literal, so the read that meets the literal's header is a full one. */
    if (r->msgno == LINES)
        usleep(100 * 1000);
}

static void on_done(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct seen *s = rock;
    s->done = strcmp(r->keyword, "OK") == 0 ? 1 : -1;
}

/* LINES small replies numbered from first, into b. */
static void small_lines(struct imc_buf *b, long first)
{
    char line[64];
    for (long n = first; n < first + LINES; n++)
        imc_buf_append(b, line, (size_t)snprintf(line, sizeof line, "* %ld FETCH (UID %ld)\r\n", n, n));
}

static void reads_grow_while_small_replies_stream(void)
{
    struct imc_buf stream;
    imc_buf_init(&stream);
    small_lines(&stream, 1);
    /* Message 0 carries a big literal between two runs of small replies. */
    imc_buf_appendstr(&stream, "* 0 FETCH (BODY[] {1048576}\r\n");
    imc_buf_reserve(&stream, LITERAL);
    for (size_t i = 0; i < LITERAL; i++)
        stream.data[stream.len++] = (char)('a' + i % 26);
    imc_buf_appendstr(&stream, ")\r\n");
    small_lines(&stream, 1 + LINES);
    imc_buf_appendstr(&stream, "1 OK done\r\n");

    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_EXPECT("1 NOOP\r\n"),
                                            F_SEND_BUF(stream.data, stream.len), F_DRAIN()));
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    if (!c) {
        fake_free(fs);
        imc_buf_free(&stream);
        return;
    }
    struct seen s = { .next = 1 };
    imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED, on_fetch, &s, (char *)NULL);
    imclient_send(c, on_done, &s, "NOOP");
    for (int i = 0; i < 1000000 && !s.done; i++)
        if (imclient_processoneevent_timeout(c, 5000) < 0)
            break;
    CHECK_INT(s.done, 1);
    CHECK_INT(s.next, 1 + 2 * LINES);
    CHECK_INT(s.wrong, 0);
    CHECK(s.streamed);
    CHECK(s.literal_ok);
    /* The read that met the literal's header ended inside it: the reads
     * after it are in place or ask for the small size again. */
    CHECK_INT(s.streaming_at_literal, 0);
    imclient_close(c);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
    imc_buf_free(&stream);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = { TEST(reads_grow_while_small_replies_stream) };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
