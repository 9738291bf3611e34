/*
 * The non-blocking forms of STARTTLS and AUTHENTICATE, driven the way an
 * application's own event loop drives them: imclient_wants() for what to
 * wait on, poll(), imclient_handle_events() for what came.  Each result
 * procedure runs exactly once, with what the blocking form would return,
 * whether the exchange succeeds, fails, or the connection goes under it.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authapp.h"
#include "check.h"
#include "cyrus/imclient.h"
#include "fakeserver.h"
#include "replylog.h"
#include "tlsfake.h"

static char certdir[64];

struct result {
    int calls;
    int value;
};

static void got(struct imclient *c, void *rock, int result)
{
    (void)c;
    struct result *r = rock;
    r->calls++;
    r->value = result;
}

/* One step of an application's loop for one connection. */
static int loop_once(struct imclient *c, int cap_ms)
{
    int fd, wait;
    int ev = imclient_wants(c, &fd, &wait);
    if (fd < 0)
        return -1;
    struct pollfd p = { fd, (short)((ev & IMCLIENT_EV_READ ? POLLIN : 0) |
                                    (ev & IMCLIENT_EV_WRITE ? POLLOUT : 0)), 0 };
    int n = poll(&p, 1, wait >= 0 && wait < cap_ms ? wait : cap_ms);
    int ready = n <= 0 ? 0
                       : (p.revents & (POLLIN | POLLHUP | POLLERR) ? IMCLIENT_EV_READ : 0) |
                             (p.revents & POLLOUT ? IMCLIENT_EV_WRITE : 0);
    return imclient_handle_events(c, ready);
}

/* Drive until r has its answer (or 10 s pass). */
static void run_until_result(struct imclient *c, const struct result *r)
{
    for (int i = 0; i < 2000 && r->calls == 0; i++)
        if (loop_once(c, 5) < 0 && r->calls == 0)
            break;
}

/* The secrets the script expects on the wire, handed out by auth_secret()
 * (authapp.h); nothing else is asked for. */
static struct auth_secrets creds = { .authname = "alice", .password = "pw" };

static struct tlsfake *serve_tls(const struct tlsfake_step *steps, size_t n)
{
    static char cert[96], key[96];
    snprintf(cert, sizeof cert, "%s/good.pem", certdir);
    snprintf(key, sizeof key, "%s/leaf.key", certdir);
    struct tlsfake_config cfg = { cert, key, NULL, 0 };
    return tlsfake_start(&cfg, steps, n);
}

static const char *ca_file(void)
{
    static char ca[96];
    snprintf(ca, sizeof ca, "%s/ca.pem", certdir);
    return ca;
}

/* STARTTLS, then PLAIN over it, then a command: all without blocking. */
static void starttls_then_authenticate(void)
{
    struct tlsfake *fs = serve_tls(TLSFAKE(
        T_SEND("* OK hi\r\n"), T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK begin\r\n"), T_TLS(),
        T_EXPECT("2 CAPABILITY\r\n"),
        T_SEND("* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\n2 OK done\r\n"),
        T_EXPECT("3 AUTHENTICATE PLAIN AGFsaWNlAHB3\r\n"), T_SEND("3 OK welcome\r\n"),
        T_EXPECT("4 NOOP\r\n"), T_SEND("4 OK fine\r\n"), T_DRAIN()));
    reset();
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "localhost", tlsfake_port(fs)), 0);
    imclient_setsecretproc(c, auth_secret, &creds);
    struct result tls = { 0, 99 }, auth = { 0, 99 };
    CHECK_INT(imclient_starttls_start(c, NULL, NULL, (char *)ca_file(), NULL, got, &tls), 0);
    /* The flow owns the stream: the application's commands wait. */
    imclient_send(c, finished, "early", "NOOP");
    run_until_result(c, &tls);
    CHECK_INT(tls.calls, 1);
    CHECK_INT(tls.value, 0);
    struct sasl_client *mechs[] = { &imclient_sasl_plain, NULL };
    CHECK_INT(imclient_authenticate_start(c, mechs, "imap", NULL, SASL_PROT_ANY, got, &auth), 0);
    run_until_result(c, &auth);
    CHECK_INT(auth.calls, 1);
    CHECK_INT(auth.value, 0);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 2);
    imclient_close(c);
    char err[600];
    int sr = tlsfake_wait(fs, err, sizeof err);
    tlsfake_free(fs);
    CHECK_INT(sr, 0);
    CHECK_STR(log_text(), "early|BAD|-1|[CLIENTBUG] imclient_send during STARTTLS, "
                          "AUTHENTICATE or COMPRESS\nnoop|OK|-1|fine\n");
    CHECK_INT(tls.calls, 1);
    CHECK_INT(auth.calls, 1);
}

/* A second exchange may not start while one runs. */
static void one_flow_at_a_time(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 CAPABILITY\r\n"), F_SLEEP(200),
        F_SEND("* CAPABILITY IMAP4rev1 AUTH=CRAM-MD5\r\n1 OK done\r\n"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"), F_SEND("2 NO nope\r\n"), F_DRAIN()));
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    imclient_setsecretproc(c, auth_secret, &creds);
    struct result a = { 0, 99 }, b = { 0, 99 }, z = { 0, 99 };
    struct sasl_client *mechs[] = { &imclient_sasl_cram_md5, NULL };
    CHECK_INT(imclient_authenticate_start(c, mechs, "imap", NULL, SASL_PROT_ANY, got, &a), 0);
    CHECK_INT(imclient_authenticate_start(c, mechs, "imap", NULL, SASL_PROT_ANY, got, &b), -1);
    CHECK_STR(imclient_error(c), "imclient_authenticate while AUTHENTICATE runs");
    CHECK_INT(imclient_compress_start(c, got, &z), -1);
    CHECK_STR(imclient_error(c), "COMPRESS refused: AUTHENTICATE is running");
    run_until_result(c, &a);
    CHECK_INT(a.value, 1);
    CHECK_STR(imclient_error(c), "CRAM-MD5: the server said NO nope");
    CHECK(imclient_isopen(c));
    imclient_close(c);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
    CHECK_INT(a.calls, 1);
    CHECK_INT(b.calls, 0);
    CHECK_INT(z.calls, 0);
}

/* The server goes away in the middle: the result comes once, as failure. */
static void connection_lost_mid_exchange(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 CAPABILITY\r\n"),
        F_SEND("* CAPABILITY IMAP4rev1 AUTH=CRAM-MD5\r\n1 OK done\r\n"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"), F_CLOSE()));
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    imclient_setsecretproc(c, auth_secret, &creds);
    struct result a = { 0, 99 };
    struct sasl_client *mechs[] = { &imclient_sasl_cram_md5, NULL };
    CHECK_INT(imclient_authenticate_start(c, mechs, "imap", NULL, SASL_PROT_ANY, got, &a), 0);
    run_until_result(c, &a);
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.value, 1);
    CHECK(!imclient_isopen(c));
    CHECK_INT(loop_once(c, 5), -1);
    imclient_close(c);
    CHECK_INT(a.calls, 1);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
}

/* The application closes while STARTTLS waits for its reply: the result
 * procedure runs from imclient_close(), once, with failure. */
static void closed_by_the_application(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 STARTTLS\r\n"), F_DRAIN()));
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "localhost", fake_port(fs)), 0);
    struct result tls = { 0, 99 };
    CHECK_INT(imclient_starttls_start(c, NULL, NULL, (char *)ca_file(), NULL, got, &tls), 0);
    for (int i = 0; i < 20; i++)
        loop_once(c, 10);
    CHECK_INT(tls.calls, 0);
    imclient_close(c);
    CHECK_INT(tls.calls, 1);
    CHECK_INT(tls.value, -1);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
}

/* A handshake that never completes ends at the connection's timeout,
 * through the loop's timer: wants() gives the deadline. */
static void handshake_times_out(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 STARTTLS\r\n"), F_SEND("1 OK go\r\n"),
        F_SLEEP(1500), F_DRAIN()));
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "localhost", fake_port(fs)), 0);
    struct imclient_limits l = { 0, 0, 0, 300, 0 };
    imclient_setlimits(c, &l);
    struct result tls = { 0, 99 };
    CHECK_INT(imclient_starttls_start(c, NULL, NULL, (char *)ca_file(), NULL, got, &tls), 0);
    run_until_result(c, &tls);
    CHECK_INT(tls.calls, 1);
    CHECK_INT(tls.value, -1);
    CHECK_STR(imclient_error(c), "TLS handshake with localhost timed out after 300 ms");
    imclient_close(c);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
}

int main(int argc, char **argv)
{
    snprintf(certdir, sizeof certdir, "/tmp/imc-flows-XXXXXX");
    if (!mkdtemp(certdir) || tlsfake_certs_make(certdir) < 0)
        return 1;
    static const struct check_test tests[] = {
        TEST(starttls_then_authenticate),
        TEST(one_flow_at_a_time),
        TEST(connection_lost_mid_exchange),
        TEST(closed_by_the_application),
        TEST(handshake_times_out),
    };
    int r = check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
    tlsfake_certs_remove(certdir);
    return r;
}
