/*
 * What callbacks may do to the connection while the library is working:
 * close it (nothing more is delivered, STARTTLS gives up and frees it) and
 * send (refused while STARTTLS or AUTHENTICATE owns the stream).  What
 * they may not do: run the event loop or switch layers (authenticate,
 * compress) from any callback -- reply, finish, literal, trace or secret --
 * since the nested exchange would overwrite the reply and the read buffer
 * the callback is still using.
 */
#include <stdio.h>
#include <string.h>

#include "authapp.h"
#include "check.h"
#include "cyrus/imclient.h"
#include "fakeserver.h"
#include "replylog.h"

#define SERVER_OK(fs) CHECK_SERVER(fake_wait, fs)

/* ---- close from a callback: nothing more may be delivered -------------- */

struct closer {
    struct imclient *c;
    const char *on;   /* keyword whose reply closes the connection */
    int closed;       /* imclient_close() was called */
    int after_close;  /* untagged replies delivered after that */
    char seen[256];
};

static void close_on(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct closer *k = rock;
    size_t n = strlen(k->seen);
    snprintf(k->seen + n, sizeof k->seen - n, "%s;", r->keyword);
    if (k->closed) {
        k->after_close++;
        return;
    }
    if (strcmp(r->keyword, k->on) == 0) {
        k->closed = 1;
        imclient_close(c);
    }
}

/* docs/API.md: "From inside a callback the close happens when the callback
 * returns."  Two more replies in the same read are still delivered to a
 * rock the application may already have freed. */
static void close_in_callback_stops_delivery(void)
{
    struct fakeserver *fs =
        fake_start(FAKE(F_SEND("* OK hi\r\n* 1 EXISTS\r\n* 2 EXISTS\r\n"), F_DRAIN()));
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    struct closer k = { c, "OK", 0, 0, "" };
    imclient_addcallback(c, "", 0, close_on, &k, NULL);
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, close_on, &k, NULL);
    /* The event that runs the callback also frees the connection. */
    int r = imclient_processoneevent_timeout(c, 5000);
    SERVER_OK(fs);
    fake_free(fs);
    CHECK_INT(r, -1);
    CHECK_STR(k.seen, "OK;");
    CHECK_INT(k.after_close, 0);
}

/* A close requested from a callback while imclient_starttls() waits for
 * its reply is never carried out: the wait goes on delivering replies, and
 * when starttls returns the connection (socket and memory) is left alive
 * although the application asked for it to go, so nothing frees it. */
static void close_in_callback_during_starttls(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 STARTTLS\r\n"),
        F_SEND("* BYE going\r\n"), F_SLEEP(100),
        F_SEND("* 1 EXISTS\r\n1 NO not now\r\n"), F_DRAIN()));
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    struct closer k = { c, "BYE", 0, 0, "" };
    imclient_addcallback(c, "", 0, close_on, &k, NULL);
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, close_on, &k, NULL);
    CHECK_INT(imclient_processoneevent_timeout(c, 5000), 1);
    int r = imclient_starttls(c, NULL, NULL, NULL, NULL);
    int leaked = k.after_close > 0;
    if (leaked)
        imclient_close(c); /* the defect left it open; do not leak in the test */
    SERVER_OK(fs);
    fake_free(fs);
    CHECK(r != 0);
    CHECK_STR(k.seen, "OK;BYE;");
    CHECK_INT(k.after_close, 0);
}

/* ---- commands queued while AUTHENTICATE runs ----------------------------- */

struct sender {
    int sent;
};

/* The secrets the script expects on the wire, handed out by auth_secret()
 * (authapp.h); nothing else is asked for. */
static struct auth_secrets creds = { .authname = "alice", .password = "pw" };

/* A callback that reacts to an untagged reply by sending a command. */
static void send_noop(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct sender *s = rock;
    if (s->sent || strcmp(r->text, "note") != 0)
        return;
    s->sent = 1;
    imclient_send(c, finished, "noop", "NOOP");
}

/* Callbacks may send (docs/DIFFERENCES.md), but not while an AUTHENTICATE
 * exchange owns the stream: written there, "3 NOOP" would be read as the
 * client's SASL response.  The command is refused with BAD, unsent. */
static void send_from_callback_during_authenticate(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 CAPABILITY\r\n"),
        F_SEND("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n1 OK done\r\n"),
        F_EXPECT("2 AUTHENTICATE PLAIN\r\n"),
        F_SEND("* OK note\r\n"), F_SLEEP(100), F_SEND("+ \r\n"),
        F_EXPECT("AGFsaWNlAHB3\r\n"), F_SEND("2 OK welcome\r\n"), F_DRAIN()));
    reset();
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    struct sender s = { 0 };
    imclient_addcallback(c, "OK", 0, send_noop, &s, NULL);
    imclient_setsecretproc(c, auth_secret, &creds);
    imclient_setflags(c, IMCLIENT_CONN_ALLOWPLAINTEXT); /* the script has no TLS */
    CHECK_INT(imclient_processoneevent_timeout(c, 5000), 1);
    struct sasl_client *mechs[] = { &imclient_sasl_plain, NULL };
    int r = imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_NONE);
    if (r == 0)
        run_until(c, 1);
    imclient_close(c);
    char err[600];
    int sr = fake_wait(fs, err, sizeof err);
    size_t len;
    const char *got = fake_received(fs, &len);
    char wire[512];
    snprintf(wire, sizeof wire, "%.*s", (int)(len < 500 ? len : 500), got);
    fake_free(fs);
    CHECK_STR(wire, "1 CAPABILITY\r\n2 AUTHENTICATE PLAIN\r\nAGFsaWNlAHB3\r\n");
    CHECK_INT(sr, 0);
    CHECK_INT(r, 0);
    CHECK_STR(log_text(),
              "noop|BAD|-1|[CLIENTBUG] imclient_send during STARTTLS, AUTHENTICATE or COMPRESS\n");
}

/* ---- nested calls from every kind of callback ------------------------- */

enum cb_kind { FROM_REPLY, FROM_FINISH, FROM_LITERAL, FROM_TRACE, FROM_SECRET };

struct nest {
    enum cb_kind kind;
    int calls;          /* nested calls made */
    int result;         /* imclient_authenticate()'s answer */
    char error[200];    /* imclient_error() right after it */
};

static struct sasl_client *cram_only[] = { &imclient_sasl_cram_md5, NULL };

static void nest_now(struct imclient *c, struct nest *n)
{
    if (n->calls++ > 0)
        return;
    n->result = imclient_authenticate(c, cram_only, "imap", NULL, SASL_PROT_ANY);
    snprintf(n->error, sizeof n->error, "%s", imclient_error(c));
}

static void nest_reply(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)r;
    nest_now(c, rock);
}

static void nest_literal(struct imclient *c, void *rock, const struct imclient_literal *piece)
{
    (void)piece;
    nest_now(c, rock);
}

static void nest_trace(struct imclient *c, void *rock, int dir, const char *data, size_t len)
{
    (void)data;
    (void)len;
    if (dir == 'S')
        nest_now(c, rock);
}

static const char *nest_secret(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)mech;
    nest_now(c, rock);
    return what == IMCLIENT_SECRET_PASSWORD || what == IMCLIENT_SECRET_AUTHNAME ? "alice"
                                                                                : NULL;
}

/* One connection where the nested call comes from n->kind; the wire must
 * hold only what the outer code sent. */
static void nested_from(struct nest *n)
{
    int secret_kind = n->kind == FROM_SECRET;
    struct fakeserver *fs = secret_kind
        ? fake_start(FAKE(F_SEND("* OK hi\r\n"), F_EXPECT("1 CAPABILITY\r\n"),
                          F_SEND("* CAPABILITY IMAP4rev1 AUTH=CRAM-MD5\r\n1 OK done\r\n"),
                          F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"), F_SEND("2 NO bye\r\n"),
                          F_DRAIN()))
        : fake_start(FAKE(F_SEND("* OK hi\r\n"), F_EXPECT("1 NOOP\r\n"),
                          F_SEND("* 1 FETCH (BODY[] {3}\r\nabc)\r\n* OK note\r\n1 OK done\r\n"),
                          F_DRAIN()));
    reset();
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    CHECK_INT(imclient_processoneevent_timeout(c, 5000), 1);
    switch (n->kind) {
    case FROM_REPLY:
        imclient_addcallback(c, "OK", 0, nest_reply, n, NULL);
        break;
    case FROM_LITERAL:
        imclient_addliteralcallback(c, "FETCH", CALLBACK_NUMBERED, nest_literal, n);
        break;
    case FROM_TRACE:
        imclient_settrace(c, nest_trace, n);
        break;
    case FROM_SECRET:
        imclient_setsecretproc(c, nest_secret, n);
        break;
    case FROM_FINISH:
        break;
    }
    if (secret_kind) {
        CHECK_INT(imclient_authenticate(c, cram_only, "imap", NULL, SASL_PROT_ANY), 1);
    } else {
        imclient_send(c, n->kind == FROM_FINISH ? nest_reply : finished, n, "NOOP");
        run_until(c, n->kind == FROM_FINISH ? 0 : 1);
        for (int i = 0; i < 20 && n->calls == 0; i++)
            imclient_processoneevent_timeout(c, 200);
    }
    imclient_close(c);
    SERVER_OK(fs);
    size_t len;
    const char *wire = fake_received(fs, &len);
    char got[128];
    snprintf(got, sizeof got, "%.*s", (int)(len < 120 ? len : 120), wire);
    fake_free(fs);
    CHECK_STR(got, secret_kind ? "1 CAPABILITY\r\n2 AUTHENTICATE CRAM-MD5\r\n" : "1 NOOP\r\n");
}

#define CHECK_NESTED_REFUSED(kind_)                                                   \
    do {                                                                              \
        struct nest n_ = { (kind_), 0, -99, "" };                                     \
        nested_from(&n_);                                                             \
        if (check_failed_now)                                                         \
            return;                                                                   \
        CHECK(n_.calls >= 1);                                                         \
        CHECK_INT(n_.result, 1);                                                      \
        CHECK_STR(n_.error, "imclient_authenticate cannot run inside a callback");    \
    } while (0)

static void authenticate_refused_in_reply_callback(void) { CHECK_NESTED_REFUSED(FROM_REPLY); }
static void authenticate_refused_in_finish_callback(void) { CHECK_NESTED_REFUSED(FROM_FINISH); }
static void authenticate_refused_in_literal_callback(void)
{
    CHECK_NESTED_REFUSED(FROM_LITERAL);
}
static void authenticate_refused_in_trace(void) { CHECK_NESTED_REFUSED(FROM_TRACE); }
static void authenticate_refused_in_secret_proc(void) { CHECK_NESTED_REFUSED(FROM_SECRET); }

/* ---- the trace procedure runs inside the guard ------------------------- */

struct tracer {
    int close_on;        /* direction whose first trace closes, or 0 */
    int send;            /* send a command from the first trace */
    int loop_result;     /* imclient_processoneevent_timeout() from the trace */
    int compress_result; /* imclient_compress() from the trace */
    char compress_error[160];
    int traces;
};

static void tracer_proc(struct imclient *c, void *rock, int dir, const char *data, size_t len)
{
    struct tracer *t = rock;
    (void)data;
    (void)len;
    if (t->traces++ > 0)
        return;
    t->loop_result = imclient_processoneevent_timeout(c, 0);
    t->compress_result = imclient_compress(c);
    snprintf(t->compress_error, sizeof t->compress_error, "%s", imclient_error(c));
    if (t->send)
        imclient_send(c, finished, "fromtrace", "NOOP");
    if (t->close_on == dir)
        imclient_close(c);
}

/* The loop and a layer switch are refused from the trace as from any
 * callback; the connection goes on. */
static void loop_and_layers_refused_in_trace(void)
{
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_EXPECT("1 NOOP\r\n"),
                                            F_SEND("1 OK done\r\n"), F_DRAIN()));
    reset();
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    struct tracer t = { 0, 0, 99, 99, "", 0 };
    imclient_settrace(c, tracer_proc, &t);
    CHECK_INT(imclient_processoneevent_timeout(c, 5000), 1);
    CHECK_INT(t.loop_result, -1);
    CHECK_INT(t.compress_result, -1);
    CHECK_STR(t.compress_error, "COMPRESS refused: it cannot run inside a callback");
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK_STR(log_text(), "noop|OK|-1|done\n");
    imclient_close(c);
    SERVER_OK(fs);
    fake_free(fs);
}

/* A close from the trace of a read is carried out when the event returns:
 * the bytes just read are not parsed, the pending command gets EOF once. */
static void close_in_trace_of_a_read(void)
{
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_EXPECT("1 NOOP\r\n"),
                                            F_SEND("* 1 EXISTS\r\n1 OK done\r\n"), F_DRAIN()));
    reset();
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    CHECK_INT(imclient_processoneevent_timeout(c, 5000), 1);
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, record, "u", NULL);
    imclient_send(c, finished, "noop", "NOOP");
    struct tracer t = { 'S', 0, 0, 0, "", 0 };
    imclient_settrace(c, tracer_proc, &t);
    int r = 1;
    for (int i = 0; i < 50 && r >= 0; i++)
        r = imclient_processoneevent_timeout(c, 200);
    CHECK_INT(r, -1);
    SERVER_OK(fs);
    fake_free(fs);
    CHECK_STR(log_text(), "noop|EOF|-1|\n");
}

/* A close from the trace of a write, inside imclient_send(): the command
 * was written; the connection goes when imclient_send() returns. */
static void close_in_trace_of_a_write(void)
{
    struct fakeserver *fs =
        fake_start(FAKE(F_SEND("* OK hi\r\n"), F_EXPECT("1 NOOP\r\n"), F_DRAIN()));
    reset();
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    CHECK_INT(imclient_processoneevent_timeout(c, 5000), 1);
    struct tracer t = { 'C', 0, 0, 0, "", 0 };
    imclient_settrace(c, tracer_proc, &t);
    imclient_send(c, finished, "noop", "NOOP");
    SERVER_OK(fs);
    fake_free(fs);
    CHECK_STR(log_text(), "noop|EOF|-1|\n");
}

/* A command queued from the trace of a write would be written ahead of
 * the bytes being traced: it is refused. */
static void send_in_trace_refused(void)
{
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_EXPECT("1 NOOP\r\n"),
                                            F_SEND("1 OK done\r\n"), F_DRAIN()));
    reset();
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    CHECK_INT(imclient_processoneevent_timeout(c, 5000), 1);
    struct tracer t = { 0, 1, 0, 0, "", 0 };
    imclient_settrace(c, tracer_proc, &t);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 2);
    imclient_close(c);
    SERVER_OK(fs);
    size_t len;
    const char *wire = fake_received(fs, &len);
    CHECK_BYTES(wire, len, "1 NOOP\r\n");
    fake_free(fs);
    CHECK_STR(log_text(), "fromtrace|BAD|-1|[CLIENTBUG] imclient_send from the trace procedure\n"
                          "noop|OK|-1|done\n");
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(close_in_callback_stops_delivery),
        TEST(close_in_callback_during_starttls),
        TEST(send_from_callback_during_authenticate),
        TEST(authenticate_refused_in_reply_callback),
        TEST(authenticate_refused_in_finish_callback),
        TEST(authenticate_refused_in_literal_callback),
        TEST(authenticate_refused_in_trace),
        TEST(authenticate_refused_in_secret_proc),
        TEST(loop_and_layers_refused_in_trace),
        TEST(close_in_trace_of_a_read),
        TEST(close_in_trace_of_a_write),
        TEST(send_in_trace_refused),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
