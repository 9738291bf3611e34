/*
 * IDLE (RFC 2177) against real Dovecot and Cyrus: one connection idles on
 * a mailbox of its own while a second one appends to it; the new message
 * must arrive as EXISTS during IDLE, the EXISTS callback ends IDLE with
 * imclient_idle_done(), and IDLE's finish callback gets OK once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "realenv.h"
#include <cyrus/imclient.h>

static struct realenv_server *servers;

struct watch {
    long exists;     /* the last EXISTS seen */
    int end_on_new;  /* call imclient_idle_done() when a message arrives */
    int done_result; /* what that call returned */
    int finished;    /* finish callbacks run, all commands together */
    char status[16]; /* the last one's keyword */
};

static void on_exists(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct watch *w = rock;
    long before = w->exists;
    w->exists = r->msgno;
    if (w->end_on_new && before >= 0 && r->msgno > before && imclient_idling(c))
        w->done_result = imclient_idle_done(c);
}

static void on_done(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct watch *w = rock;
    w->finished++;
    snprintf(w->status, sizeof w->status, "%s", r->keyword);
    if (getenv("IMC_TEST_DEBUG"))
        fprintf(stderr, "finish: %s %s\n", r->keyword, r->text);
}

/* Run events until cond holds or seconds pass. */
#define RUN_UNTIL(c, cond, seconds)                                              \
    do {                                                                         \
        time_t end_ = time(NULL) + (seconds);                                    \
        while (!(cond) && time(NULL) < end_ &&                                   \
               imclient_processoneevent_timeout((c), 200) >= 0)                  \
            ;                                                                    \
    } while (0)

/* A logged-in connection; w gets its finish callbacks. */
static struct imclient *login(const struct realenv_server *s, struct watch *w)
{
    struct imclient *c = NULL;
    if (imclient_connect(&c, "127.0.0.1", s->port) != 0)
        return NULL;
    int before = w->finished;
    imclient_send(c, on_done, w, "LOGIN %s %s", s->user, s->pass);
    RUN_UNTIL(c, w->finished > before, 10);
    if (strcmp(w->status, "OK") != 0) {
        imclient_close(c);
        return NULL;
    }
    return c;
}

/* Send a command and wait for its tagged reply; its keyword. */
static const char *run(struct imclient *c, struct watch *w, const char *fmt, const char *arg)
{
    int before = w->finished;
    w->status[0] = '\0';
    imclient_send(c, on_done, w, fmt, arg);
    RUN_UNTIL(c, w->finished > before, 10);
    return w->status;
}

static void idle_sees_append(const struct realenv_server *s)
{
    char mailbox[64];
    snprintf(mailbox, sizeof mailbox, "idle-%ld-%ld", (long)getpid(), (long)time(NULL));
    struct watch wa = { -1, 1, 99, 0, "" }, wb = { -1, 0, 99, 0, "" }, wi = { -1, 0, 99, 0, "" };
    struct imclient *a = login(s, &wa);
    CHECK(a != NULL);
    struct imclient *b = login(s, &wb);
    CHECK(b != NULL);
    imclient_addcallback(a, "EXISTS", CALLBACK_NUMBERED, on_exists, &wa, NULL);
    CHECK_STR(run(a, &wa, "CREATE %s", mailbox), "OK");
    CHECK_STR(run(a, &wa, "SELECT %s", mailbox), "OK");
    CHECK_INT(wa.exists, 0);

    CHECK_INT(imclient_idle(a, on_done, &wi), 0);
    RUN_UNTIL(a, imclient_idling(a), 10);
    CHECK(imclient_idling(a));
    /* Nothing else may go while idling. */
    CHECK_STR(run(a, &wa, "NOOP", NULL), "BAD");

    imclient_send(b, on_done, &wb, "APPEND %s %s", mailbox, "Subject: x\r\n\r\nhello\r\n");
    RUN_UNTIL(b, wb.finished > 1, 10);
    CHECK_STR(wb.status, "OK");
    RUN_UNTIL(a, wi.finished > 0, 30);
    CHECK_INT(wa.exists, 1);
    CHECK_INT(wa.done_result, 0);
    CHECK_INT(wi.finished, 1);
    CHECK_STR(wi.status, "OK");
    CHECK(!imclient_idling(a));

    /* The connection goes on as usual. */
    CHECK_STR(run(a, &wa, "CLOSE", NULL), "OK");
    CHECK_STR(run(a, &wa, "DELETE %s", mailbox), "OK");
    imclient_close(a);
    imclient_close(b);
    CHECK_INT(wi.finished, 1);
}

/* DONE asked for at once, before the server's "+": it follows the "+". */
static void idle_done_at_once(const struct realenv_server *s)
{
    struct watch w = { -1, 0, 99, 0, "" }, wi = { -1, 0, 99, 0, "" };
    struct imclient *c = login(s, &w);
    CHECK(c != NULL);
    CHECK_STR(run(c, &w, "SELECT %s", "INBOX"), "OK");
    CHECK_INT(imclient_idle(c, on_done, &wi), 0);
    CHECK_INT(imclient_idle_done(c), 0);
    RUN_UNTIL(c, wi.finished > 0, 10);
    CHECK_STR(wi.status, "OK");
    CHECK_STR(run(c, &w, "NOOP", NULL), "OK");
    CHECK_INT(imclient_idle_done(c), -1);
    imclient_close(c);
}

static void dovecot_idle_sees_append(void) { idle_sees_append(&servers[0]); }
static void cyrus_idle_sees_append(void) { idle_sees_append(&servers[1]); }
static void dovecot_idle_done_at_once(void) { idle_done_at_once(&servers[0]); }
static void cyrus_idle_done_at_once(void) { idle_done_at_once(&servers[1]); }

int main(int argc, char **argv)
{
    static const struct check_test all[] = {
        TEST(dovecot_idle_sees_append), TEST(dovecot_idle_done_at_once),
        TEST(cyrus_idle_sees_append), TEST(cyrus_idle_done_at_once),
    };
    servers = realenv_servers();
    return realenv_main(argc, argv, all, 2);
}
