/*
 * Cyrus 3.x compatibility (IMCLIENT_CYRUS3) against scripted servers, for
 * the exact bytes: %B, imclient_write(), SASL-IR turned on and left off by
 * IMCLIENT_CONN_INITIALRESPONSE, secrets from a Cyrus::IMAP-style callback
 * list, the mechanism list's order and the SSF bounds.  Written in 3.x
 * mode, as a 3.x program is.
 */
#define IMCLIENT_CYRUS3
#include <stdlib.h>
#include <string.h>

#include <cyrus/imclient.h>

#include "check.h"
#include "fakeserver.h"
#include "replylog.h"

/* ---- the application's side, as Cyrus::IMAP writes it ---- */

struct account {
    const char *authname;
    const char *authz;      /* NULL: act as authname */
    sasl_secret_t *password;
    int asked;              /* callbacks called */
};

static int get_name(void *context, int id, const char **result, unsigned *len)
{
    struct account *a = context;
    a->asked++;
    const char *v = id == SASL_CB_AUTHNAME ? a->authname : a->authz ? a->authz : "";
    *result = v;
    if (len)
        *len = (unsigned)strlen(v);
    return SASL_OK;
}

static int get_secret(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
    struct account *a = context;
    (void)conn;
    a->asked++;
    if (id != SASL_CB_PASS || !a->password)
        return SASL_FAIL;
    *psecret = a->password;
    return SASL_OK;
}

/* Cyrus::IMAP copies the password into a sasl_secret_t without a NUL;
 * the byte after it is made visible garbage here. */
static sasl_secret_t *unterminated(const char *pw)
{
    size_t len = strlen(pw);
    sasl_secret_t *s = malloc(sizeof *s + len);
    s->len = (unsigned)len;
    memcpy(s->data, pw, len);
    s->data[len] = 'X';
    return s;
}

#define PROC(f) ((int (*)(void))(void (*)(void))(f))

struct app {
    struct account acct;
    sasl_callback_t cbs[4];
};

static void app_init(struct app *app)
{
    app->acct = (struct account){ "alice", NULL, unterminated("pw"), 0 };
    sasl_callback_t cbs[] = {
        { SASL_CB_USER, PROC(get_name), &app->acct },
        { SASL_CB_AUTHNAME, PROC(get_name), &app->acct },
        { SASL_CB_PASS, PROC(get_secret), &app->acct },
        { SASL_CB_LIST_END, NULL, NULL },
    };
    memcpy(app->cbs, cbs, sizeof cbs);
}

static void app_free(struct app *app)
{
    free(app->acct.password);
}

/* A connection the scripts can authenticate on: they speak no TLS, so
 * PLAIN needs IMCLIENT_CONN_ALLOWPLAINTEXT. */
static struct imclient *open_app(struct fakeserver *fs, struct app *app, int flags)
{
    struct imclient *c = NULL;
    if (imclient_connect(&c, "127.0.0.1", fake_port(fs), app ? app->cbs : NULL) != 0)
        return NULL;
    imclient_addcallback(c, "", 0, record, "u", NULL);
    imclient_setflags(c, IMCLIENT_CONN_ALLOWPLAINTEXT | flags);
    return c;
}

/* ---- %B ---- */

struct trace_log {
    char text[512];
    size_t len;
};

static void keep_trace(struct imclient *c, void *rock, int direction, const char *data,
                       size_t len)
{
    struct trace_log *t = rock;
    (void)c;
    if (direction == 'C' && t->len + len < sizeof t->text) {
        memcpy(t->text + t->len, data, len);
        t->len += len;
        t->text[t->len] = '\0';
    }
}

static void percent_b_is_base64_and_secret(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 AUTHENTICATE PLAIN AGFsaWNlAHB3\r\n"),
        F_SEND("1 OK in\r\n"), F_EXPECT("2 XSTORE aGVsbG8gd29ybGQ=\r\n"),
        F_SEND("2 OK stored\r\n"), F_EXPECT("3 XEMPTY \r\n"), F_SEND("3 OK none\r\n"),
        F_DRAIN()));
    struct imclient *c = open_app(fs, NULL, 0);
    CHECK(c != NULL);
    struct trace_log t = { "", 0 };
    imclient_settrace(c, keep_trace, &t);
    imclient_send(c, finished, "auth", "AUTHENTICATE PLAIN %B", 9, "\0alice\0pw");
    imclient_send(c, finished, "store", "XSTORE %B", 11, "hello world");
    imclient_send(c, finished, "empty", "XEMPTY %B", 0, NULL);
    run_until(c, 3);
    CHECK_STR(log_text(), "u|OK|-1|hi\nauth|OK|-1|in\nstore|OK|-1|stored\nempty|OK|-1|none\n");
    /* Whatever command carries it, %B's bytes never reach the trace. */
    CHECK_STR(t.text, "1 AUTHENTICATE PLAIN [redacted]\r\n2 XSTORE [redacted]\r\n3 XEMPTY \r\n");
    imclient_close(c);
    CHECK_WIRE(fs, "1 AUTHENTICATE PLAIN AGFsaWNlAHB3\r\n2 XSTORE aGVsbG8gd29ybGQ=\r\n"
                   "3 XEMPTY \r\n");
    fake_free(fs);
}

/* Cyrus 3.x silently dropped what followed %B; here the command is
 * refused whole, as are a negative length and NULL data. */
static void percent_b_misuse_refused(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("4 NOOP\r\n"), F_SEND("4 OK nothing\r\n"), F_DRAIN()));
    struct imclient *c = open_app(fs, NULL, 0);
    CHECK(c != NULL);
    imclient_send(c, finished, "tail", "X %B Y", 5, "hello");
    imclient_send(c, finished, "negative", "X %B", -1, "hello");
    imclient_send(c, finished, "null", "X %B", 3, NULL);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 4);
    CHECK(strstr(log_text(), "tail|BAD|-1|") && strstr(log_text(), "not at the end"));
    CHECK(strstr(log_text(), "negative|BAD|-1|") && strstr(log_text(), "null|BAD|-1|"));
    CHECK(log_ends_with("noop|OK|-1|nothing\n"));
    imclient_close(c);
    CHECK_WIRE(fs, "4 NOOP\r\n");
    fake_free(fs);
}

/* ---- imclient_write ---- */

struct plus_answer {
    struct imclient *c;
    int seen;
};

/* The 3.x way to answer a continuation the application asked for. */
static void answer_plus(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct plus_answer *p = rock;
    (void)r;
    p->seen++;
    imclient_write(c, "AGFsaWNlAHB3\r\n", 14);
}

static void write_goes_out_as_given(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 AUTHENTICATE PLAIN\r\n"), F_SEND("+ \r\n"),
        F_EXPECT("AGFsaWNlAHB3\r\n"), F_SEND("1 OK in\r\n"),
        F_EXPECT("2 NOOP\r\nraw bytes\r\n3 NOOP\r\n"), F_SEND("2 OK a\r\n3 OK b\r\n"),
        F_DRAIN()));
    struct imclient *c = open_app(fs, NULL, 0);
    CHECK(c != NULL);
    struct plus_answer p = { c, 0 };
    imclient_addcallback(c, "+", 0, answer_plus, &p, NULL);
    imclient_send(c, finished, "auth", "AUTHENTICATE PLAIN");
    run_until(c, 1);
    CHECK_INT(p.seen, 1);
    CHECK_STR(log_text(), "u|OK|-1|hi\nauth|OK|-1|in\n");
    imclient_send(c, finished, "a", "NOOP");
    imclient_write(c, "raw bytes\r\n", 11);
    imclient_send(c, finished, "b", "NOOP");
    run_until(c, 3);
    CHECK(log_ends_with("a|OK|-1|a\nb|OK|-1|b\n"));
    imclient_close(c);
    CHECK_WIRE(fs, "1 AUTHENTICATE PLAIN\r\nAGFsaWNlAHB3\r\n2 NOOP\r\nraw bytes\r\n3 NOOP\r\n");
    fake_free(fs);
}

/* Cyrus::IMAP passes "" for CAfile and CApath when the user names no CA:
 * in 3.x mode that asks for the system's CAs, so STARTTLS goes out (the
 * page's form refuses "" before sending anything). */
static void starttls_empty_ca_means_none(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_EXPECT("1 STARTTLS\r\n"),
                                            F_SEND("1 NO not now\r\n"), F_DRAIN()));
    struct imclient *c = open_app(fs, NULL, 0);
    CHECK(c != NULL);
    CHECK(imclient_starttls(c, "", "", "", "") != 0); /* the server said NO */
    CHECK(strstr(imclient_error(c), "CAfile") == NULL);
    imclient_close(c);
    CHECK_WIRE(fs, "1 STARTTLS\r\n");
    fake_free(fs);
}

/* The trace procedure runs while bytes are being written: what it wrote
 * would land in the middle of them. */
static void write_from_trace(struct imclient *c, void *rock, int direction, const char *data,
                             size_t len)
{
    (void)data;
    (void)len;
    if (direction == 'C') {
        imclient_write(c, "inside\r\n", 8);
        *(int *)rock = imclient_errcode(c);
    }
}

static void write_refused_from_trace(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 NOOP\r\n"), F_SEND("1 OK done\r\n"), F_DRAIN()));
    struct imclient *c = open_app(fs, NULL, 0);
    CHECK(c != NULL);
    int code = -1;
    imclient_settrace(c, write_from_trace, &code);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK_INT(code, IMCLIENT_EMISUSE);
    CHECK(log_ends_with("noop|OK|-1|done\n"));
    imclient_close(c);
    CHECK_WIRE(fs, "1 NOOP\r\n");
    fake_free(fs);
}

/* ---- SASL-IR and IMCLIENT_CONN_INITIALRESPONSE ---- */

#define GREET_NO_IR                                                              \
    F_SEND("* OK hi\r\n"), F_EXPECT("1 CAPABILITY\r\n"),                         \
        F_SEND("* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=CRAM-MD5\r\n1 OK done\r\n")

/* The application (callbacks as above) authenticates once against the
 * script: imclient_authenticate()'s result, or -1 when it failed and took
 * the connection with it. */
static int authenticate_once(struct fakeserver *fs, int flags, char *mechlist, int minssf,
                             int maxssf)
{
    struct app app;
    app_init(&app);
    struct imclient *c = open_app(fs, &app, flags);
    int r = -1;
    if (c) {
        r = imclient_authenticate(c, mechlist, "imap", NULL, minssf, maxssf);
        if (r != 0 && !imclient_isopen(c))
            r = -1;
        imclient_close(c);
    }
    app_free(&app);
    return r;
}

/* The server does not list SASL-IR; the flag vouches for it. */
static void initialresponse_turns_sasl_ir_on(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        GREET_NO_IR, F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAHB3\r\n"),
        F_SEND("2 OK in\r\n"), F_DRAIN()));
    CHECK_INT(authenticate_once(fs, IMCLIENT_CONN_INITIALRESPONSE, "PLAIN", 0, 256), 0);
    CHECK_WIRE(fs, "1 CAPABILITY\r\n2 AUTHENTICATE PLAIN AGFsaWNlAHB3\r\n");
    fake_free(fs);
}

static void without_initialresponse_the_response_waits(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        GREET_NO_IR, F_EXPECT("2 AUTHENTICATE PLAIN\r\n"), F_SEND("+ \r\n"),
        F_EXPECT("AGFsaWNlAHB3\r\n"), F_SEND("2 OK in\r\n"), F_DRAIN()));
    CHECK_INT(authenticate_once(fs, 0, "PLAIN", 0, 256), 0);
    CHECK_WIRE(fs, "1 CAPABILITY\r\n2 AUTHENTICATE PLAIN\r\nAGFsaWNlAHB3\r\n");
    fake_free(fs);
}

/* In Cyrus 3.x the flag had LITERAL+'s value; here literals still wait. */
static void initialresponse_is_not_literal_plus(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 XSET {4}\r\n"), F_SEND("+ go\r\n"),
        F_EXPECT("a\r\nb\r\n"), F_SEND("1 OK set\r\n"), F_DRAIN()));
    struct imclient *c = open_app(fs, NULL, IMCLIENT_CONN_INITIALRESPONSE);
    CHECK(c != NULL);
    imclient_send(c, finished, "set", "XSET %s", "a\r\nb");
    run_until(c, 1);
    CHECK_STR(log_text(), "u|OK|-1|hi\nset|OK|-1|set\n");
    imclient_close(c);
    CHECK_WIRE(fs, "1 XSET {4}\r\na\r\nb\r\n");
    fake_free(fs);
}

/* ---- the mechanism list and the SSF bounds ---- */

/* Any case, commas, "AUTH=" and repeats are accepted; CRAM-MD5 goes
 * before PLAIN because it keeps the password off the wire. */
static void mechlist_tried_strongest_first(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        GREET_NO_IR, F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"), F_SEND("+ PDEyMzRAaG9zdD4=\r\n"),
        F_EXPECT("YWxpY2UgYWE4ZmViNzE5ZWEyNzcxNGM5MGExMmM1YzcxNzYxMzY=\r\n"),
        F_SEND("2 OK welcome\r\n"), F_DRAIN()));
    CHECK_INT(authenticate_once(fs, 0, "auth=plain, Cram-MD5 PLAIN ", 0, 10000), 0);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
}

/* A refused mechanism gives way to the next, as in 3.x. */
static void refused_mechanism_gives_way(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        GREET_NO_IR, F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"), F_SEND("2 NO not today\r\n"),
        F_EXPECT("3 AUTHENTICATE PLAIN\r\n"), F_SEND("+ \r\n"), F_EXPECT("AGFsaWNlAHB3\r\n"),
        F_SEND("3 OK in\r\n"), F_DRAIN()));
    CHECK_INT(authenticate_once(fs, 0, "PLAIN CRAM-MD5", 0, 10000), 0);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
}

/* Cyrus 3.x prompted on the terminal without callbacks; nothing here
 * prompts, and nothing of PLAIN is sent without a password. */
static void no_callbacks_no_prompt(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(GREET_NO_IR, F_DRAIN()));
    struct imclient *c = open_app(fs, NULL, 0);
    CHECK(c != NULL);
    CHECK_INT(imclient_authenticate(c, "PLAIN", "imap", "alice", 0, 256), 1);
    CHECK(strstr(imclient_error(c), "needs a password") != NULL);
    CHECK(imclient_isopen(c));
    imclient_close(c);
    CHECK_WIRE(fs, "1 CAPABILITY\r\n");
    fake_free(fs);
}

/* minssf 1 asks for at least integrity, which PLAIN cannot give: it
 * fails here, before AUTHENTICATE, and the connection stays. */
static void minssf_above_mechanism_refused_locally(void)
{
    struct fakeserver *fs = fake_start(FAKE(GREET_NO_IR, F_DRAIN()));
    CHECK_INT(authenticate_once(fs, 0, "PLAIN", 1, 256), 1);
    CHECK_WIRE(fs, "1 CAPABILITY\r\n");
    fake_free(fs);
}

static void bounds_admitting_nothing_refused(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n"), F_DRAIN()));
    struct app app;
    app_init(&app);
    struct imclient *c = open_app(fs, &app, 0);
    CHECK(c != NULL);
    CHECK_INT(imclient_authenticate(c, "PLAIN", "imap", NULL, 128, 56), 1);
    CHECK_INT(imclient_errcode(c), IMCLIENT_EMISUSE);
    CHECK_INT(imclient_authenticate(c, " , ", "imap", NULL, 0, 56), 1);
    CHECK_INT(imclient_errcode(c), IMCLIENT_EMISUSE);
    CHECK_INT(app.acct.asked, 0);
    imclient_close(c);
    CHECK_WIRE(fs, "");
    fake_free(fs);
    app_free(&app);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(percent_b_is_base64_and_secret),
        TEST(percent_b_misuse_refused),
        TEST(write_goes_out_as_given),
        TEST(write_refused_from_trace),
        TEST(starttls_empty_ca_means_none),
        TEST(initialresponse_turns_sasl_ir_on),
        TEST(without_initialresponse_the_response_waits),
        TEST(initialresponse_is_not_literal_plus),
        TEST(mechlist_tried_strongest_first),
        TEST(refused_mechanism_gives_way),
        TEST(no_callbacks_no_prompt),
        TEST(minssf_above_mechanism_refused_locally),
        TEST(bounds_admitting_nothing_refused),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
