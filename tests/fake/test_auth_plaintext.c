/*
 * Mechanisms that send the password itself (PLAIN, LOGIN) on a connection
 * without TLS: refused unless the application allows them, whatever the
 * server (or whoever rewrote its CAPABILITY on the way) offers.  The
 * refusal happens before anything of the mechanism is written, and the
 * preference list goes on to mechanisms that do not expose the password.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authapp.h"
#include "check.h"
#include "cyrus/imclient.h"
#include "fakeserver.h"
#include "replylog.h"
#include "tlsfake.h"

/* The secrets the script expects on the wire, handed out by auth_secret()
 * (authapp.h); nothing else is asked for. */
static struct auth_secrets creds = { .authname = "alice", .password = "pw" };

static struct imclient *open_plain(const char *port, int allow)
{
    struct imclient *c = NULL;
    if (imclient_connect(&c, "127.0.0.1", port) != 0)
        return NULL;
    imclient_setsecretproc(c, auth_secret, &creds);
    if (allow)
        imclient_setflags(c, IMCLIENT_CONN_ALLOWPLAINTEXT);
    return c;
}

#define GREET F_SEND("* OK hi\r\n"), F_EXPECT("1 CAPABILITY\r\n")

/* The downgrade: we prefer SCRAM, the list we are shown offers only PLAIN. */
static void plain_refused_without_tls(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        GREET, F_SEND("* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\n1 OK done\r\n"),
        F_DRAIN()));
    struct imclient *c = open_plain(fake_port(fs), 0);
    CHECK(c != NULL);
    struct sasl_client *mechs[] = { &imclient_sasl_scram_sha256, &imclient_sasl_plain, NULL };
    CHECK_INT(imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 1);
    CHECK_ERROR_HAS(c, "PLAIN refused: it sends the password itself and the connection "
                       "has no TLS");
    CHECK(imclient_isopen(c));
    CHECK_INT(imclient_getssf(c), -1);
    imclient_close(c);
    CHECK_WIRE(fs, "1 CAPABILITY\r\n");
    fake_free(fs);
}

static void login_refused_without_tls(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        GREET, F_SEND("* CAPABILITY IMAP4rev1 AUTH=LOGIN\r\n1 OK done\r\n"), F_DRAIN()));
    struct imclient *c = open_plain(fake_port(fs), 0);
    CHECK(c != NULL);
    struct sasl_client *mechs[] = { &imclient_sasl_login, NULL };
    CHECK_INT(imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 1);
    CHECK_ERROR_HAS(c, "LOGIN refused");
    imclient_close(c);
    CHECK_WIRE(fs, "1 CAPABILITY\r\n");
    fake_free(fs);
}

/* The refused mechanism is skipped like one that is not offered: CRAM-MD5
 * never shows the password, so it goes ahead. */
static void refusal_moves_on_to_the_next_mechanism(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        GREET, F_SEND("* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=CRAM-MD5\r\n1 OK done\r\n"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"), F_SEND("+ PDEyMzRAaG9zdD4=\r\n"),
        F_EXPECT("YWxpY2UgYWE4ZmViNzE5ZWEyNzcxNGM5MGExMmM1YzcxNzYxMzY=\r\n"),
        F_SEND("2 OK welcome\r\n"), F_DRAIN()));
    struct imclient *c = open_plain(fake_port(fs), 0);
    CHECK(c != NULL);
    struct sasl_client *mechs[] = { &imclient_sasl_plain, &imclient_sasl_cram_md5, NULL };
    CHECK_INT(imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 0);
    CHECK_STR(imclient_error(c), "");
    imclient_close(c);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
}

static void plain_allowed_by_flag(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        GREET, F_SEND("* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\n1 OK done\r\n"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAHB3\r\n"), F_SEND("2 OK welcome\r\n"),
        F_DRAIN()));
    struct imclient *c = open_plain(fake_port(fs), 1);
    CHECK(c != NULL);
    struct sasl_client *mechs[] = { &imclient_sasl_plain, NULL };
    CHECK_INT(imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 0);
    imclient_close(c);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
}

/* Clearing the flag takes the permission back. */
static void flag_cleared_refuses_again(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        GREET, F_SEND("* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\n1 OK done\r\n"),
        F_DRAIN()));
    struct imclient *c = open_plain(fake_port(fs), 1);
    CHECK(c != NULL);
    imclient_clearflags(c, IMCLIENT_CONN_ALLOWPLAINTEXT);
    struct sasl_client *mechs[] = { &imclient_sasl_plain, NULL };
    CHECK_INT(imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 1);
    imclient_close(c);
    CHECK_WIRE(fs, "1 CAPABILITY\r\n");
    fake_free(fs);
}

/* Over TLS the password is protected: PLAIN goes without any flag. */
static void plain_allowed_over_tls(void)
{
    char dir[] = "/tmp/imc-plain-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(tlsfake_certs_make(dir), 0);
    char cert[300], key[300], ca[300];
    snprintf(cert, sizeof cert, "%s/good.pem", dir);
    snprintf(key, sizeof key, "%s/leaf.key", dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    struct tlsfake_config cfg = { cert, key, NULL, 0 };
    struct tlsfake *fs = tlsfake_start(&cfg, TLSFAKE(
        T_SEND("* OK hi\r\n"), T_EXPECT("1 STARTTLS\r\n"), T_SEND("1 OK go\r\n"), T_TLS(),
        T_EXPECT("2 CAPABILITY\r\n"),
        T_SEND("* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\n2 OK done\r\n"),
        T_EXPECT("3 AUTHENTICATE PLAIN AGFsaWNlAHB3\r\n"), T_SEND("3 OK welcome\r\n"),
        T_DRAIN()));
    struct imclient *c = NULL;
    int connected = imclient_connect(&c, "localhost", tlsfake_port(fs)) == 0;
    int started = connected && imclient_starttls(c, NULL, NULL, ca, NULL) == 0;
    struct sasl_client *mechs[] = { &imclient_sasl_plain, NULL };
    if (started)
        imclient_setsecretproc(c, auth_secret, &creds);
    int r = started ? imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY) : -1;
    if (c)
        imclient_close(c);
    char err[600];
    int sr = tlsfake_wait(fs, err, sizeof err);
    tlsfake_free(fs);
    tlsfake_certs_remove(dir);
    CHECK(started);
    CHECK_INT(r, 0);
    CHECK_INT(sr, 0);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(plain_refused_without_tls),
        TEST(login_refused_without_tls),
        TEST(refusal_moves_on_to_the_next_mechanism),
        TEST(plain_allowed_by_flag),
        TEST(flag_cleared_refuses_again),
        TEST(plain_allowed_over_tls),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
