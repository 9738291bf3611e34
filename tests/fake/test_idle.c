/*
 * IDLE through the public API against a scripted server: the exact bytes,
 * an idling server's long silence that must not time the connection out,
 * DONE from an EXISTS callback, and a server that drops the connection
 * while we idle.
 */
#include <string.h>

#include "check.h"
#include "cyrus/imclient.h"
#include "fakeserver.h"
#include "replylog.h"

static void done_on_exists(struct imclient *c, void *rock, struct imclient_reply *r)
{
    record(c, rock, r);
    CHECK_INT(imclient_idle_done(c), 0);
}

static struct imclient *open_short_timeout(struct fakeserver *fs)
{
    struct imclient *c = open_logged("127.0.0.1", fake_port(fs));
    if (!c)
        return NULL;
    struct imclient_limits l = { 0, 0, 0, 300, 0 };
    imclient_setlimits(c, &l);
    return c;
}

/* Silence four times the timeout while idling, then new mail. */
static void silence_while_idling_is_fine(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 IDLE\r\n"), F_SEND("+ idling\r\n"), F_SLEEP(1200),
        F_SEND("* 3 EXISTS\r\n"), F_EXPECT("DONE\r\n"), F_SEND("1 OK done idling\r\n"),
        F_EXPECT("2 NOOP\r\n"), F_SEND("2 OK nothing\r\n"), F_DRAIN()));
    struct imclient *c = open_short_timeout(fs);
    CHECK(c != NULL);
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, done_on_exists, "exists", NULL);
    CHECK_INT(imclient_idle(c, finished, "idle"), 0);
    run_until(c, 1);
    CHECK(imclient_isopen(c));
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 2);
    imclient_close(c);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
    CHECK_STR(log_text(), "u|OK|-1|hi\nexists|EXISTS|3|\nidle|OK|-1|done idling\n"
                          "noop|OK|-1|nothing\n");
}

/* Before the server accepts IDLE, its silence counts as usual. */
static void silence_before_acceptance_times_out(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 IDLE\r\n"), F_SLEEP(1500), F_DRAIN()));
    struct imclient *c = open_short_timeout(fs);
    CHECK(c != NULL);
    CHECK_INT(imclient_idle(c, finished, "idle"), 0);
    run_until(c, 1);
    CHECK(!imclient_isopen(c));
    CHECK(strstr(imclient_error(c), "timed out") != NULL);
    imclient_close(c);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
    CHECK_STR(log_text(), "u|OK|-1|hi\nidle|EOF|-1|\n");
}

/* After DONE the tagged reply is owed again: silence then times out. */
static void silence_after_done_times_out(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 IDLE\r\n"), F_SEND("+ idling\r\n"),
        F_EXPECT("DONE\r\n"), F_SLEEP(1500), F_DRAIN()));
    struct imclient *c = open_short_timeout(fs);
    CHECK(c != NULL);
    CHECK_INT(imclient_idle(c, finished, "idle"), 0);
    for (int i = 0; i < 50 && !imclient_idling(c); i++)
        imclient_processoneevent_timeout(c, 100);
    CHECK(imclient_idling(c));
    CHECK_INT(imclient_idle_done(c), 0);
    run_until(c, 1);
    CHECK(!imclient_isopen(c));
    imclient_close(c);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
    CHECK_STR(log_text(), "u|OK|-1|hi\nidle|EOF|-1|\n");
}

/* The server drops us while we idle: IDLE's finish gets EOF once. */
static void connection_lost_while_idling(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 IDLE\r\n"), F_SEND("+ idling\r\n* BYE bye\r\n"),
        F_CLOSE()));
    struct imclient *c = open_logged("127.0.0.1", fake_port(fs));
    CHECK(c != NULL);
    CHECK_INT(imclient_idle(c, finished, "idle"), 0);
    run_until(c, 1);
    CHECK(!imclient_idling(c));
    CHECK_INT(imclient_idle_done(c), -1);
    /* A failed connection keeps its first reason. */
    CHECK_STR(imclient_error(c), "connection closed by 127.0.0.1");
    imclient_close(c);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
    CHECK_STR(log_text(), "u|OK|-1|hi\nu|BYE|-1|bye\nidle|EOF|-1|\n");
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(silence_while_idling_is_fine),
        TEST(silence_before_acceptance_times_out),
        TEST(silence_after_done_times_out),
        TEST(connection_lost_while_idling),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
