/* IDLE as a flow of the sans-I/O session: the bytes it writes, when DONE
 * may go, what it refuses meanwhile, and how it ends, fed whole and one
 * byte at a time. */
#include <stdlib.h>

#include "check.h"
#include "core/session.h"

static char log_[512];

static void record(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    size_t n = strlen(log_);
    snprintf(log_ + n, sizeof log_ - n, "%s|%s|%ld|%s\n", (const char *)rock, r->keyword,
             r->msgno, r->text);
}

struct run {
    struct imc_session s;
    char wire[256];
};

static void start(struct run *t)
{
    log_[0] = '\0';
    t->wire[0] = '\0';
    imc_session_init(&t->s, NULL);
    imc_callbacks_set(&t->s.callbacks, "EXISTS", CALLBACK_NUMBERED, record, "u");
}

/* Take what the session would write now. */
static void drain(struct run *t)
{
    size_t len;
    const char *p = imc_session_output(&t->s, &len);
    size_t n = strlen(t->wire);
    snprintf(t->wire + n, sizeof t->wire - n, "%.*s", (int)len, p);
    imc_session_written(&t->s, len);
}

static void feed(struct run *t, const char *bytes, int one_at_a_time)
{
    size_t len = strlen(bytes);
    if (!one_at_a_time) {
        imc_session_feed(&t->s, bytes, len);
        return;
    }
    for (size_t i = 0; i < len; i++)
        imc_session_feed(&t->s, bytes + i, 1);
}

static void idle_then_done(int split)
{
    struct run t;
    start(&t);
    CHECK_INT(imc_session_idle(&t.s, record, "idle"), 0);
    drain(&t);
    CHECK_STR(t.wire, "1 IDLE\r\n");
    CHECK(!imc_session_idling(&t.s));
    CHECK_INT(imc_session_owed(&t.s), 1);
    feed(&t, "+ idling\r\n* 4 EXISTS\r\n", split);
    CHECK(imc_session_idling(&t.s));
    CHECK_INT(imc_session_owed(&t.s), 0);
    CHECK_STR(log_, "u|EXISTS|4|\n");
    /* Nothing else may go while idling. */
    CHECK_INT(imc_session_sendf(&t.s, record, "noop", "NOOP"), -1);
    CHECK_STR(t.s.error, "IDLE is running: end it with imclient_idle_done() first");
    CHECK_INT(imc_session_idle(&t.s, record, "again"), -1);
    CHECK_INT(imc_session_idle_done(&t.s), 0);
    CHECK(!imc_session_idling(&t.s));
    CHECK_INT(imc_session_owed(&t.s), 1);
    /* Once DONE is queued, the next command may follow at once. */
    CHECK_INT(imc_session_sendf(&t.s, record, "noop", "NOOP"), 0);
    drain(&t);
    CHECK_STR(t.wire, "1 IDLE\r\nDONE\r\n2 NOOP\r\n");
    feed(&t, "1 OK idle done\r\n2 OK noop done\r\n", split);
    CHECK_STR(log_, "u|EXISTS|4|\n"
                    "noop|BAD|-1|[CLIENTBUG] IDLE is running: end it with imclient_idle_done() first\n"
                    "again|BAD|-1|[CLIENTBUG] IDLE is already running\n"
                    "idle|OK|-1|idle done\n"
                    "noop|OK|-1|noop done\n");
    CHECK_INT(imc_session_idle_done(&t.s), -1);
    imc_session_free(&t.s);
}

static void idle_then_done_whole(void) { idle_then_done(0); }
static void idle_then_done_bytewise(void) { idle_then_done(1); }

/* DONE asked for before the server's "+": held until it comes, since DONE
 * before "+" would be read as a command. */
static void done_before_continuation(void)
{
    struct run t;
    start(&t);
    CHECK_INT(imc_session_idle(&t.s, record, "idle"), 0);
    drain(&t);
    CHECK_INT(imc_session_idle_done(&t.s), 0);
    drain(&t);
    CHECK_STR(t.wire, "1 IDLE\r\n");
    feed(&t, "+ idling\r\n", 0);
    drain(&t);
    CHECK_STR(t.wire, "1 IDLE\r\nDONE\r\n");
    feed(&t, "1 OK done\r\n", 0);
    CHECK_STR(log_, "idle|OK|-1|done\n");
    imc_session_free(&t.s);
}

/* A server without IDLE answers NO or BAD instead of "+": the flow ends,
 * DONE is never written, commands may go again. */
static void refused_idle(void)
{
    struct run t;
    start(&t);
    CHECK_INT(imc_session_idle(&t.s, record, "idle"), 0);
    drain(&t);
    CHECK_INT(imc_session_idle_done(&t.s), 0);
    feed(&t, "1 BAD unknown command\r\n", 0);
    drain(&t);
    CHECK_STR(t.wire, "1 IDLE\r\n");
    CHECK_INT(imc_session_sendf(&t.s, record, "noop", "NOOP"), 0);
    CHECK_STR(log_, "idle|BAD|-1|unknown command\n");
    imc_session_free(&t.s);
}

/* The connection fails while idling: EOF once, and IDLE is over. */
static void failure_while_idling(void)
{
    struct run t;
    start(&t);
    CHECK_INT(imc_session_idle(&t.s, record, "idle"), 0);
    drain(&t);
    feed(&t, "+ idling\r\n", 0);
    imc_session_fail(&t.s, "connection closed by the server");
    CHECK_STR(log_, "idle|EOF|-1|\n");
    CHECK(!imc_session_idling(&t.s));
    CHECK_INT(imc_session_idle_done(&t.s), -1);
    imc_session_free(&t.s);
}

/* A "+" while no IDLE waits for one is not IDLE's (an unsolicited one
 * goes to a "+" callback, a literal's releases the literal). */
static void plus_for_a_literal_is_not_idle(void)
{
    struct run t;
    start(&t);
    CHECK_INT(imc_session_sendf(&t.s, record, "login", "LOGIN %s %s", "a", "p\nw"), 0);
    drain(&t);
    feed(&t, "+ go\r\n", 0);
    drain(&t);
    CHECK_STR(t.wire, "1 LOGIN a {3}\r\np\nw\r\n");
    CHECK(!imc_session_idling(&t.s));
    imc_session_free(&t.s);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(idle_then_done_whole),
        TEST(idle_then_done_bytewise),
        TEST(done_before_continuation),
        TEST(refused_idle),
        TEST(failure_while_idling),
        TEST(plus_for_a_literal_is_not_idle),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
