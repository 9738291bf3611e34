/*
 * imclient_error() quotes the server (a NO to AUTHENTICATE, a refused
 * CAPABILITY, a BYE) and applications print it.  Whatever path the text
 * takes, escape sequences, C1 controls and bidirectional overrides arrive
 * as '?', while well-formed UTF-8 stays readable.
 */
#include <string.h>

#include "authapp.h"
#include "check.h"
#include "cyrus/imclient.h"
#include "fakeserver.h"
#include "replylog.h"

/* ESC [2J clears a terminal; U+009B (CSI) is the same in C1 form; U+202E
 * reverses the text after it. */
#define HOSTILE "\x1b[2Jgone \xc2\x9b" "31m \xe2\x80\xae" "dlrow \xc3\xa9t\xc3\xa9"
#define DEFANGED "?[2Jgone ?31m ?dlrow \xc3\xa9t\xc3\xa9"

/* The secrets the script expects on the wire, handed out by auth_secret()
 * (authapp.h); nothing else is asked for. */
static struct auth_secrets creds = { .authname = "alice", .password = "alice" };

/* imclient_error() holds no byte a terminal would act on. */
static int harmless(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return 0;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return 0;
        if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
            return 0;
    }
    return 1;
}

#define CHECK_ERROR_IS(c, want)                              \
    do {                                                     \
        CHECK(harmless(imclient_error(c)));                  \
        CHECK_STR(imclient_error(c), want);                  \
    } while (0)

static void authenticate_refusal_text(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 CAPABILITY\r\n"),
        F_SEND("* CAPABILITY IMAP4rev1 AUTH=CRAM-MD5\r\n1 OK done\r\n"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"), F_SEND("2 NO " HOSTILE "\r\n"), F_DRAIN()));
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    imclient_setsecretproc(c, auth_secret, &creds);
    struct sasl_client *mechs[] = { &imclient_sasl_cram_md5, NULL };
    CHECK_INT(imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 1);
    CHECK_ERROR_IS(c, "CRAM-MD5: the server said NO " DEFANGED);
    imclient_close(c);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
}

static void capability_refusal_text(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 CAPABILITY\r\n"), F_SEND("1 BAD " HOSTILE "\r\n"),
        F_DRAIN()));
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    struct sasl_client *mechs[] = { &imclient_sasl_cram_md5, NULL };
    CHECK_INT(imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 1);
    CHECK_ERROR_IS(c, "the server refused CAPABILITY: BAD " DEFANGED);
    imclient_close(c);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
}

/* A protocol error quotes nothing raw either: here a tag we never sent. */
static void protocol_error_text(void)
{
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 NOOP\r\n"),
        F_SEND("\x1b[31m7 OK x\r\n"), F_DRAIN()));
    struct imclient *c = NULL;
    CHECK_INT(imclient_connect(&c, "127.0.0.1", fake_port(fs)), 0);
    reset();
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK(!imclient_isopen(c));
    CHECK(harmless(imclient_error(c)));
    CHECK(strstr(imclient_error(c), "protocol error") != NULL);
    imclient_close(c);
    CHECK_SERVER(fake_wait, fs);
    fake_free(fs);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(authenticate_refusal_text),
        TEST(capability_refusal_text),
        TEST(protocol_error_text),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
