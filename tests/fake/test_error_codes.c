/*
 * imclient_errcode(): every way a connection fails, or a call is refused,
 * has its code beside its reason, under the same rule (the first failure
 * is final; before it, the latest refusal stands and a queued command
 * clears it).
 */
#include <string.h>

#include "authapp.h"
#include "check.h"
#include "cyrus/imclient.h"
#include "fakeserver.h"
#include "replylog.h"

#define GREETING F_SEND("* OK hi\r\n")

/* Connect to a script, let it greet, and return the connection. */
static struct imclient *greeted(struct fakeserver *fs)
{
    struct imclient *c = NULL;
    if (imclient_connect(&c, "127.0.0.1", fake_port(fs)) != 0)
        return NULL;
    imclient_processoneevent_timeout(c, 5000);
    return c;
}

#define FINISH(c, fs)               \
    do {                            \
        imclient_close(c);          \
        CHECK_SERVER(fake_wait, fs); \
        fake_free(fs);              \
    } while (0)

static void refusal_then_cleared(void)
{
    struct fakeserver *fs = fake_start(FAKE(GREETING, F_EXPECT("2 NOOP\r\n"),
                                            F_SEND("2 OK fine\r\n"), F_DRAIN()));
    struct imclient *c = greeted(fs);
    CHECK(c != NULL);
    CHECK_INT(imclient_errcode(c), IMCLIENT_OK);
    reset();
    imclient_send(c, finished, "bad", "SELECT %a", "two words");
    CHECK_INT(imclient_errcode(c), IMCLIENT_EMISUSE);
    imclient_send(c, finished, "noop", "NOOP");
    CHECK_INT(imclient_errcode(c), IMCLIENT_OK);
    CHECK_STR(imclient_error(c), "");
    run_until(c, 2);
    FINISH(c, fs);
}

static void server_closes(void)
{
    struct fakeserver *fs = fake_start(FAKE(GREETING, F_EXPECT("1 NOOP\r\n"), F_CLOSE()));
    struct imclient *c = greeted(fs);
    CHECK(c != NULL);
    reset();
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK_INT(imclient_errcode(c), IMCLIENT_EEOF);
    FINISH(c, fs);
}

static void silence_times_out(void)
{
    struct fakeserver *fs = fake_start(FAKE(GREETING, F_EXPECT("1 NOOP\r\n"), F_SLEEP(1000),
                                            F_DRAIN()));
    struct imclient *c = greeted(fs);
    CHECK(c != NULL);
    struct imclient_limits l = { 0, 0, 0, 200, 0 };
    imclient_setlimits(c, &l);
    reset();
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK_INT(imclient_errcode(c), IMCLIENT_ETIMEOUT);
    FINISH(c, fs);
}

static void broken_protocol(void)
{
    struct fakeserver *fs = fake_start(FAKE(GREETING, F_EXPECT("1 NOOP\r\n"),
                                            F_SEND("9 OK never sent\r\n"), F_DRAIN()));
    struct imclient *c = greeted(fs);
    CHECK(c != NULL);
    reset();
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK_INT(imclient_errcode(c), IMCLIENT_EPROTOCOL);
    FINISH(c, fs);
}

static void limit_exceeded(void)
{
    struct fakeserver *fs = fake_start(FAKE(GREETING, F_EXPECT("1 NOOP\r\n"),
                                            F_SEND("* 1 FETCH (BODY[] {100}\r\n"), F_DRAIN()));
    struct imclient *c = greeted(fs);
    CHECK(c != NULL);
    struct imclient_limits l = { 0, 10, 0, 0, 0 };
    imclient_setlimits(c, &l);
    imclient_addcallback(c, "FETCH", CALLBACK_NUMBERED, record, "f", NULL);
    reset();
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK_INT(imclient_errcode(c), IMCLIENT_ELIMIT);
    FINISH(c, fs);
}

/* The secrets the script expects on the wire, handed out by auth_secret()
 * (authapp.h); nothing else is asked for. */
static struct auth_secrets creds = { .authname = "a", .password = "a" };

static void authentication_fails(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        GREETING, F_EXPECT("1 CAPABILITY\r\n"),
        F_SEND("* CAPABILITY IMAP4rev1 AUTH=CRAM-MD5\r\n1 OK done\r\n"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"), F_SEND("2 NO no\r\n"), F_DRAIN()));
    struct imclient *c = greeted(fs);
    CHECK(c != NULL);
    imclient_setsecretproc(c, auth_secret, &creds);
    struct sasl_client *mechs[] = { &imclient_sasl_cram_md5, NULL };
    CHECK_INT(imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 1);
    CHECK_INT(imclient_errcode(c), IMCLIENT_EAUTH);
    FINISH(c, fs);
}

static void starttls_refused(void)
{
    struct fakeserver *fs = fake_start(FAKE(GREETING, F_EXPECT("1 STARTTLS\r\n"),
                                            F_SEND("1 NO not here\r\n"), F_DRAIN()));
    struct imclient *c = greeted(fs);
    CHECK(c != NULL);
    CHECK_INT(imclient_starttls(c, NULL, NULL, NULL, NULL), -1);
    CHECK_INT(imclient_errcode(c), IMCLIENT_EREFUSED);
    FINISH(c, fs);
}

/* Not a TLS server at all: the handshake fails. */
static void tls_fails(void)
{
    struct fakeserver *fs = fake_start(FAKE(GREETING, F_EXPECT("1 STARTTLS\r\n"),
                                            F_SEND("1 OK go\r\n"), F_SLEEP(50),
                                            F_SEND("this is no TLS record\r\n"), F_DRAIN()));
    struct imclient *c = greeted(fs);
    CHECK(c != NULL);
    CHECK_INT(imclient_starttls(c, NULL, NULL, NULL, NULL), -1);
    CHECK_INT(imclient_errcode(c), IMCLIENT_ETLS);
    FINISH(c, fs);
}

/* The EOF callbacks imclient_close() runs see why. */
static int code_at_close = -1;
static void note_code(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)rock;
    (void)r;
    code_at_close = imclient_errcode(c);
}

static void closed_by_application(void)
{
    struct fakeserver *fs = fake_start(FAKE(GREETING, F_EXPECT("1 NOOP\r\n"), F_DRAIN()));
    struct imclient *c = greeted(fs);
    CHECK(c != NULL);
    imclient_send(c, note_code, NULL, "NOOP");
    imclient_close(c);
    CHECK_INT(code_at_close, IMCLIENT_ECLOSED);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
}

static void sentences(void)
{
    CHECK_STR(imclient_strerror(IMCLIENT_OK), "no error");
    CHECK_STR(imclient_strerror(IMCLIENT_ETLS), "TLS failed");
    CHECK_STR(imclient_strerror(IMCLIENT_ECLOSED), "the application closed the connection");
    CHECK_STR(imclient_strerror(-1), "unknown error code");
    CHECK_STR(imclient_strerror(1000), "unknown error code");
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(refusal_then_cleared), TEST(server_closes), TEST(silence_times_out),
        TEST(broken_protocol),      TEST(limit_exceeded), TEST(authentication_fails),
        TEST(starttls_refused),     TEST(tls_fails),      TEST(closed_by_application),
        TEST(sentences),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
