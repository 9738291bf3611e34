/*
 * What callbacks may do to the connection while the library is working:
 * close it (nothing more is delivered, STARTTLS gives up and frees it) and
 * send (refused while STARTTLS or AUTHENTICATE owns the stream).
 */
#include <stdio.h>
#include <string.h>

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

static const char *secret(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)c;
    (void)rock;
    (void)mech;
    if (what == IMCLIENT_SECRET_AUTHNAME)
        return "alice";
    if (what == IMCLIENT_SECRET_PASSWORD)
        return "pw";
    return NULL;
}

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
    imclient_setsecretproc(c, secret, NULL);
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

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(close_in_callback_stops_delivery),
        TEST(close_in_callback_during_starttls),
        TEST(send_from_callback_during_authenticate),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
