/*
 * The trace procedure: what it shows of secrets the client writes.  The
 * password of LOGIN, the initial response of AUTHENTICATE and each response
 * line of its exchange appear as "[redacted]" unless the application asks
 * for them with IMCLIENT_TRACE_SECRETS; everything else appears as sent.
 */
#include <stdlib.h>
#include <string.h>

#include "authapp.h"
#include "check.h"
#include "cyrus/imclient.h"
#include "fakeserver.h"
#include "replylog.h"
#include "util/buf.h"

static void collect(struct imclient *c, void *rock, int dir, const char *data, size_t len)
{
    (void)c;
    if (dir == 'C')
        imc_buf_append(rock, data, len);
}

/* The secrets the script expects on the wire, handed out by auth_secret()
 * (authapp.h); nothing else is asked for. */
static struct auth_secrets creds = { .authname = "alice", .password = "pw" };

/* Connect with the trace collecting what the client writes into out. */
static struct imclient *traced(struct fakeserver *fs, struct imc_buf *out, int flags)
{
    struct imclient *c = NULL;
    if (imclient_connect(&c, "127.0.0.1", fake_port(fs)) != 0)
        return NULL;
    imclient_settrace(c, collect, out);
    imclient_settraceflags(c, flags);
    imclient_setsecretproc(c, auth_secret, &creds);
    imclient_setflags(c, IMCLIENT_CONN_ALLOWPLAINTEXT); /* the script has no TLS */
    return c;
}

#define FINISH(c, fs, out, want)                                        \
    do {                                                                \
        imclient_close(c);                                              \
        CHECK_SERVER(fake_wait, fs);                                    \
        fake_free(fs);                                                  \
        char shown_[512];                                               \
        snprintf(shown_, sizeof shown_, "%.*s", (int)(out).len,         \
                 (out).data ? (out).data : "");                         \
        imc_buf_free(&(out));                                           \
        CHECK_STR(shown_, want);                                        \
    } while (0)

static void login_password_redacted(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 LOGIN alice \"s3cr3t pw\"\r\n"),
        F_SEND("1 OK in\r\n"), F_EXPECT("2 LOGOUT\r\n"), F_DRAIN()));
    struct imc_buf out;
    imc_buf_init(&out);
    reset();
    struct imclient *c = traced(fs, &out, 0);
    CHECK(c != NULL);
    imclient_send(c, finished, "login", "LOGIN %s %s", "alice", "s3cr3t pw");
    run_until(c, 1);
    imclient_send(c, NULL, NULL, "LOGOUT");
    FINISH(c, fs, out, "1 LOGIN alice [redacted]\r\n2 LOGOUT\r\n");
}

/* A password that must go as a synchronizing literal: its header and its
 * bytes are written apart, and neither shows. */
static void login_literal_password_redacted(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 login alice {4}\r\n"), F_SEND("+ go\r\n"),
        F_EXPECT("p\"w\n\r\n"), F_SEND("1 OK in\r\n"), F_DRAIN()));
    struct imc_buf out;
    imc_buf_init(&out);
    reset();
    struct imclient *c = traced(fs, &out, 0);
    CHECK(c != NULL);
    imclient_send(c, finished, "login", "login %s %s", "alice", "p\"w\n");
    run_until(c, 1);
    FINISH(c, fs, out, "1 login alice [redacted][redacted]\r\n");
}

static void sasl_ir_redacted(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 CAPABILITY\r\n"),
        F_SEND("* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\n1 OK done\r\n"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAHB3\r\n"), F_SEND("2 OK welcome\r\n"),
        F_DRAIN()));
    struct imc_buf out;
    imc_buf_init(&out);
    struct imclient *c = traced(fs, &out, 0);
    CHECK(c != NULL);
    struct sasl_client *mechs[] = { &imclient_sasl_plain, NULL };
    CHECK_INT(imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 0);
    FINISH(c, fs, out, "1 CAPABILITY\r\n2 AUTHENTICATE PLAIN [redacted]\r\n");
}

/* LOGIN answers two challenges; both answers are hidden, "*" would not be. */
static void response_lines_redacted(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 CAPABILITY\r\n"),
        F_SEND("* CAPABILITY IMAP4rev1 AUTH=LOGIN\r\n1 OK done\r\n"),
        F_EXPECT("2 AUTHENTICATE LOGIN\r\n"), F_SEND("+ VXNlcm5hbWU6\r\n"),
        F_EXPECT("YWxpY2U=\r\n"), F_SEND("+ UGFzc3dvcmQ6\r\n"), F_EXPECT("cHc=\r\n"),
        F_SEND("2 OK welcome\r\n"), F_DRAIN()));
    struct imc_buf out;
    imc_buf_init(&out);
    struct imclient *c = traced(fs, &out, 0);
    CHECK(c != NULL);
    struct sasl_client *mechs[] = { &imclient_sasl_login, NULL };
    CHECK_INT(imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 0);
    FINISH(c, fs, out,
           "1 CAPABILITY\r\n2 AUTHENTICATE LOGIN\r\n[redacted]\r\n[redacted]\r\n");
}

static void secrets_shown_on_request(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 LOGIN alice pw\r\n"), F_SEND("1 OK in\r\n"),
        F_DRAIN()));
    struct imc_buf out;
    imc_buf_init(&out);
    reset();
    struct imclient *c = traced(fs, &out, IMCLIENT_TRACE_SECRETS);
    CHECK(c != NULL);
    imclient_send(c, finished, "login", "LOGIN %s %s", "alice", "pw");
    run_until(c, 1);
    FINISH(c, fs, out, "1 LOGIN alice pw\r\n");
}

/* Only the secret token: a command that merely mentions LOGIN further on,
 * or a LOGIN without its password, shows whole. */
static void other_commands_shown_whole(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 SELECT LOGIN\r\n2 LOGIN alice\r\n"),
        F_SEND("1 OK sel\r\n2 BAD args\r\n"), F_DRAIN()));
    struct imc_buf out;
    imc_buf_init(&out);
    reset();
    struct imclient *c = traced(fs, &out, 0);
    CHECK(c != NULL);
    imclient_send(c, finished, "sel", "SELECT LOGIN");
    imclient_send(c, finished, "login", "LOGIN %s", "alice");
    run_until(c, 2);
    FINISH(c, fs, out, "1 SELECT LOGIN\r\n2 LOGIN alice\r\n");
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(login_password_redacted),
        TEST(login_literal_password_redacted),
        TEST(sasl_ir_redacted),
        TEST(response_lines_redacted),
        TEST(secrets_shown_on_request),
        TEST(other_commands_shown_whole),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
