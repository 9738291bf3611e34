/*
 * imclient_authenticate() against scripted servers: the exact bytes of
 * CAPABILITY and AUTHENTICATE, SASL-IR or "+", each mechanism's answers,
 * results 0/1/2, hostile challenges (malformed base64, oversized, out of
 * turn), bytes after the OK, capabilities asked afresh rather than taken
 * from the greeting, and no prompt without secrets.
 *
 * The security layers DIGEST-MD5 negotiates are tested in test_auth_layer.c
 * (libsasl2's server side over a socket) and unit/test_sasl_layer.c (the
 * layer over a mock lower layer); the challenge decoder alone in
 * unit/test_base64.c.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authapp.h"
#include "check.h"
#include "cyrus/imclient.h"
#include "dynserver.h"
#include "fakeserver.h"
#include "imclient_internal.h"
#include "replylog.h"
#include "util/buf.h"

#define SERVER_OK(fs) CHECK_SERVER(fake_wait, fs)

/* Close, let the script end, and compare everything the client sent. */
#define CLOSE_AND_CHECK_WIRE(c, fs, want)                        \
    do {                                                         \
        imclient_close(c);                                       \
        SERVER_OK(fs);                                           \
        size_t len_;                                             \
        const char *got_ = fake_received(fs, &len_);             \
        CHECK_BYTES(got_, len_, want);                           \
        fake_free(fs);                                           \
    } while (0)

/* Close, and the script must have run to its end. */
#define CLOSE_AND_FINISH(c, fs) \
    do {                        \
        imclient_close(c);      \
        SERVER_OK(fs);          \
        fake_free(fs);          \
    } while (0)


static struct sasl_client *only_plain[] = { &imclient_sasl_plain, NULL };
static struct sasl_client *only_login[] = { &imclient_sasl_login, NULL };
static struct sasl_client *only_cram[] = { &imclient_sasl_cram_md5, NULL };

#define GREET F_SEND("* OK hi\r\n"), F_EXPECT("1 CAPABILITY\r\n")
#define CAPS(list) F_SEND("* CAPABILITY IMAP4rev1 " list "\r\n1 OK done\r\n")

/* The common start: empty the log, play the script, connect with s's
 * secrets (no secret procedure when s is NULL) and authenticate with
 * mechs as the service "imap", no user given, any layer.  The connection,
 * or NULL (reported) when it could not be made or the result was not
 * want; *fs is the server either way. */
static struct imclient *authenticate_to(struct fakeserver **fs, struct auth_secrets *s,
                                        struct sasl_client **mechs, int want,
                                        const struct fake_step *steps, size_t n)
{
    reset();
    *fs = fake_start(steps, n);
    struct imclient *c = auth_open(fake_port(*fs), s);
    if (!c)
        return NULL;
    int got = imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY);
    if (got != want) {
        check_fail(__FILE__, __LINE__, "authenticate: got %d, want %d (error: %s)", got, want,
                   imclient_error(c));
        imclient_close(c);
        return NULL;
    }
    return c;
}

/* ---- PLAIN -------------------------------------------------------------- */

static void plain_with_sasl_ir(void)
{
    reset();
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK [CAPABILITY IMAP4rev1] welcome\r\n")));
    struct imclient *c = auth_open(fake_port(fs), &s);
    CHECK(c != NULL);
    CHECK_INT(imclient_getssf(c), -1);
    CHECK_AUTH(c, imclient_authenticate(c, only_plain, "imap", NULL, SASL_PROT_ANY), 0);
    CHECK_INT(imclient_getssf(c), 0);
    CHECK_STR(imclient_error(c), "");
    CHECK(imclient_isopen(c));
    /* The library's own CAPABILITY is not the application's business. */
    CHECK_STR(log_text(), "u|OK|-1|hi\n");
    CHECK_STR(s.asked, "P:PLAIN A:PLAIN U:PLAIN");
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n");
}

static void plain_with_authzid(void)
{
    struct auth_secrets s = auth_alice();
    s.user = "bob";
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 0, FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN Ym9iAGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n")));
    CHECK(c != NULL);
    CLOSE_AND_FINISH(c, fs);
}

/* The page's user argument is the login name for a password mechanism. */
static void plain_user_argument_is_login_name(void)
{
    reset();
    struct auth_secrets s = { NULL, NULL, "alicepw", NULL, "" };
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n")));
    struct imclient *c = auth_open(fake_port(fs), &s);
    CHECK(c != NULL);
    CHECK_AUTH(c, imclient_authenticate(c, only_plain, "imap", "alice", SASL_PROT_ANY), 0);
    CLOSE_AND_FINISH(c, fs);
}

static void plain_without_sasl_ir(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 0, FAKE(
        GREET, CAPS("AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN\r\n"),
        F_SEND("+ \r\n"),
        F_EXPECT("AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n")));
    CHECK(c != NULL);
    CHECK_INT(imclient_getssf(c), 0);
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n2 AUTHENTICATE PLAIN\r\n"
                                "AGFsaWNlAGFsaWNlcHc=\r\n");
}

/* "+" alone, without the space, is a continuation request all the same. */
static void continuation_without_space(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 0, FAKE(
        GREET, CAPS("AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN\r\n"),
        F_SEND("+\r\n"),
        F_EXPECT("AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n")));
    CHECK(c != NULL);
    CLOSE_AND_FINISH(c, fs);
}

/* ---- LOGIN and CRAM-MD5 ------------------------------------------------- */

static void login_mechanism(void)
{
    struct auth_secrets s = auth_alice();
    /* LOGIN has no initial response, so SASL-IR changes nothing. */
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_login, 0, FAKE(
        GREET, CAPS("SASL-IR AUTH=LOGIN"),
        F_EXPECT("2 AUTHENTICATE LOGIN\r\n"),
        F_SLOW("+ VXNlcm5hbWU6\r\n"),
        F_EXPECT("YWxpY2U=\r\n"),
        F_SEND("+ UGFzc3dvcmQ6\r\n"),
        F_EXPECT("YWxpY2Vwdw==\r\n"),
        F_SEND("2 OK welcome\r\n")));
    CHECK(c != NULL);
    CHECK_INT(imclient_getssf(c), 0);
    CLOSE_AND_FINISH(c, fs);
}

/* RFC 2195: "user hex(HMAC-MD5(password, challenge))", base64. */
static char *cram_answer(const char *user, const char *password, const char *challenge)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    HMAC(EVP_md5(), password, (int)strlen(password), (const unsigned char *)challenge,
         strlen(challenge), mac, &maclen);
    char text[256];
    int n = snprintf(text, sizeof text, "%s ", user);
    for (unsigned i = 0; i < maclen; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%02x", mac[i]);
    char *enc = dyn_b64(text, (size_t)n);
    char *line = malloc(strlen(enc) + 3);
    sprintf(line, "%s\r\n", enc);
    free(enc);
    return line;
}

static void cram_md5_mechanism(void)
{
    struct auth_secrets s = auth_alice();
    char *answer = cram_answer("alice", "alicepw", "<1896.697170952@postoffice.example.net>");
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_cram, 0, FAKE(
        GREET, CAPS("SASL-IR AUTH=CRAM-MD5"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"),
        F_SEND("+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+\r\n"),
        { FAKE_EXPECT, answer, strlen(answer), 0 },
        F_SEND("2 OK welcome\r\n")));
    CHECK(c != NULL);
    CLOSE_AND_FINISH(c, fs);
    free(answer);
}

/* ---- choosing mechanisms ------------------------------------------------ */

static void unadvertised_mechanism_is_skipped(void)
{
    struct auth_secrets s = auth_alice();
    struct sasl_client *mechs[] = { &imclient_sasl_cram_md5, &imclient_sasl_plain, NULL };
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, mechs, 0, FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN AUTH=LOGIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n")));
    CHECK(c != NULL);
    CHECK_STR(s.asked, "P:PLAIN A:PLAIN U:PLAIN");
    CLOSE_AND_FINISH(c, fs);
}

static void nothing_offered_sends_nothing(void)
{
    struct auth_secrets s = auth_alice();
    struct sasl_client *mechs[] = { &imclient_sasl_cram_md5, &krb_sasl_client, NULL };
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, mechs, 1, FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN")));
    CHECK(c != NULL);
    CHECK_STR(imclient_error(c),
              "the server offers none of the mechanisms asked for (CRAM-MD5 GSSAPI)");
    CHECK(imclient_isopen(c));
    CHECK_STR(s.asked, "");
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n");
}

static void next_mechanism_after_no(void)
{
    struct auth_secrets s = auth_alice();
    struct sasl_client *mechs[] = { &imclient_sasl_cram_md5, &imclient_sasl_plain, NULL };
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, mechs, 0, FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN AUTH=CRAM-MD5"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"),
        F_SEND("2 NO [UNAVAILABLE] not today\r\n"),
        F_EXPECT("3 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("3 OK welcome\r\n")));
    CHECK(c != NULL);
    CHECK_STR(imclient_error(c), "");
    CLOSE_AND_FINISH(c, fs);
}

/* The line behind the NO that ends the first attempt names a tag not in
 * flight: the connection fails there, and the search ends with it instead
 * of starting the next mechanism on a connection that is gone. */
static void connection_failed_behind_no(void)
{
    struct auth_secrets s = auth_alice();
    struct sasl_client *mechs[] = { &imclient_sasl_cram_md5, &imclient_sasl_plain, NULL };
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, mechs, 1, FAKE(
        GREET, CAPS("AUTH=PLAIN AUTH=CRAM-MD5"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"),
        F_SEND("2 NO no\r\n2 OK bogus\r\n")));
    CHECK(c != NULL);
    CHECK(!imclient_isopen(c));
    CHECK(strstr(imclient_error(c), "tag 2, which is not in flight") != NULL);
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n2 AUTHENTICATE CRAM-MD5\r\n");
}

static void server_no_returns_1(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 1, FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
        F_EXPECT("3 NOOP\r\n"),
        F_SEND("3 OK noop\r\n")));
    CHECK(c != NULL);
    CHECK_STR(imclient_error(c),
              "PLAIN: the server said NO [AUTHENTICATIONFAILED] Authentication failed.");
    CHECK_INT(imclient_getssf(c), -1);
    /* The connection is still usable, unauthenticated. */
    CHECK(imclient_isopen(c));
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK_STR(log_text(), "u|OK|-1|hi\nnoop|OK|-1|noop\n");
    CLOSE_AND_FINISH(c, fs);
}

static void server_bad_returns_1(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 1, FAKE(
        GREET, CAPS("AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN\r\n"),
        F_SEND("2 BAD no such thing\r\n")));
    CHECK(c != NULL);
    CHECK_STR(imclient_error(c), "PLAIN: the server said BAD no such thing");
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n2 AUTHENTICATE PLAIN\r\n");
}

/* ---- premature OK (result 2) ------------------------------------------- */

static void ok_before_initial_response(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 2, FAKE(
        GREET, CAPS("AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN\r\n"),
        F_SEND("2 OK come in\r\n")));
    CHECK(c != NULL);
    CHECK_STR(imclient_error(c), "PLAIN: the server said OK before the exchange was complete");
    CHECK_INT(imclient_getssf(c), -1);
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n2 AUTHENTICATE PLAIN\r\n");
}

static void ok_before_cram_response(void)
{
    reset();
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("AUTH=CRAM-MD5 AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"),
        F_SEND("2 OK come in\r\n")));
    struct sasl_client *mechs[] = { &imclient_sasl_cram_md5, &imclient_sasl_plain, NULL };
    struct imclient *c = auth_open(fake_port(fs), &s);
    CHECK(c != NULL);
    /* 2 ends the search: PLAIN is not tried after it. */
    CHECK_AUTH(c, imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 2);
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n2 AUTHENTICATE CRAM-MD5\r\n");
}

/* The server says OK to our "*": the exchange never completed. */
static void ok_after_cancel(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_cram, 2, FAKE(
        GREET, CAPS("AUTH=CRAM-MD5"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"),
        F_SEND("+ !!!!\r\n"),
        F_EXPECT("*\r\n"),
        F_SEND("2 OK fine then\r\n")));
    CHECK(c != NULL);
    CLOSE_AND_FINISH(c, fs);
}

/* ---- hostile challenges ------------------------------------------------ */

static void hostile_challenge(const char *challenge, size_t len, const char *why)
{
    reset();
    struct auth_secrets s = auth_alice();
    struct sasl_client *mechs[] = { &imclient_sasl_cram_md5, &imclient_sasl_plain, NULL };
    char *line = malloc(len + 3);
    memcpy(line, challenge, len);
    memcpy(line + len, "\r\n", 2);
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("AUTH=CRAM-MD5 AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"),
        { FAKE_SEND, line, len + 2, 0 },
        F_EXPECT("*\r\n"),
        F_SEND("2 BAD cancelled\r\n")));
    struct imclient *c = auth_open(fake_port(fs), &s);
    CHECK(c != NULL);
    struct imclient_limits lim = { 4u << 20, 0, 8u << 20, 0, 0 };
    imclient_setlimits(c, &lim);
    /* A server breaking the exchange gets no second mechanism to try. */
    CHECK_AUTH(c, imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 1);
    CHECK(strstr(imclient_error(c), why) != NULL);
    CHECK_ERROR_HAS(c, "(server: BAD cancelled)");
    CHECK(imclient_isopen(c));
    /* The password was fetched before the start, nothing after. */
    CHECK_STR(s.asked, "P:CRAM-MD5");
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n2 AUTHENTICATE CRAM-MD5\r\n*\r\n");
    free(line);
}

#define HOSTILE(s, why) hostile_challenge(s, sizeof(s) - 1, why)

static void challenge_all_padding(void)
{
    HOSTILE("+ ====", "not base64");
}

static void challenge_not_alphabet(void)
{
    HOSTILE("+ !!!", "not base64");
}

static void challenge_truncated_quantum(void)
{
    HOSTILE("+ YQ", "not base64");
    HOSTILE("+ YQ=", "not base64");
    HOSTILE("+ Y=Q=", "not base64");
    HOSTILE("+ YQ== ", "not base64");
}

static void challenge_one_mebibyte(void)
{
    size_t n = (1u << 20) + 2;
    char *big = malloc(n);
    memcpy(big, "+ ", 2);
    memset(big + 2, 'A', n - 2);
    hostile_challenge(big, n, "larger than 65536 bytes");
    free(big);
}

/* With the default line limit the same challenge ends the connection. */
static void challenge_beyond_line_limit(void)
{
    struct auth_secrets s = auth_alice();
    size_t n = (1u << 20) + 4;
    char *big = malloc(n);
    memcpy(big, "+ ", 2);
    memset(big + 2, 'A', n - 4);
    memcpy(big + n - 2, "\r\n", 2);
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_cram, 1, FAKE(
        GREET, CAPS("AUTH=CRAM-MD5"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"),
        { FAKE_SEND, big, n, 0 },
        F_DRAIN()));
    CHECK(c != NULL);
    CHECK(!imclient_isopen(c));
    CHECK_ERROR_HAS(c, "line longer than the limit");
    imclient_close(c);
    /* The server may see its last write fail as we hang up: not checked. */
    char err[600];
    fake_wait(fs, err, sizeof err);
    size_t len;
    const char *got = fake_received(fs, &len);
    CHECK_BYTES(got, len, "1 CAPABILITY\r\n2 AUTHENTICATE CRAM-MD5\r\n");
    fake_free(fs);
    free(big);
}

/* After "*" the server owes a tagged reply; another "+" closes the
 * connection instead of an endless cancel loop. */
static void challenge_after_cancel(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_cram, 1, FAKE(
        GREET, CAPS("AUTH=CRAM-MD5"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"),
        F_SEND("+ ====\r\n"),
        F_EXPECT("*\r\n"),
        F_SEND("+ YWJj\r\n"),
        F_DRAIN()));
    CHECK(c != NULL);
    CHECK(!imclient_isopen(c));
    CHECK_ERROR_HAS(c, "challenge after AUTHENTICATE was cancelled");
    CLOSE_AND_FINISH(c, fs);
}

/* A non-empty challenge where the initial response was due. */
static void challenge_instead_of_empty(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 1, FAKE(
        GREET, CAPS("AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN\r\n"),
        F_SEND("+ YWJj\r\n"),
        F_EXPECT("*\r\n"),
        F_SEND("2 BAD cancelled\r\n")));
    CHECK(c != NULL);
    CHECK_ERROR_HAS(c, "where an empty one was due");
    /* The password never left. */
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n2 AUTHENTICATE PLAIN\r\n*\r\n");
}

/* A challenge after the mechanism finished is refused, not stepped. */
static void challenge_after_completion(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 1, FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("+ \r\n"),
        F_EXPECT("*\r\n"),
        F_SEND("2 BAD cancelled\r\n")));
    CHECK(c != NULL);
    CHECK_ERROR_HAS(c, "after the exchange was complete");
    CLOSE_AND_FINISH(c, fs);
}

/* Without SASL-IR: the first empty challenge gets the initial response,
 * a second one finds the mechanism finished. */
static void second_challenge_after_initial_response(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 1, FAKE(
        GREET, CAPS("AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN\r\n"),
        F_SEND("+ \r\n"),
        F_EXPECT("AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("+ \r\n"),
        F_EXPECT("*\r\n"),
        F_SEND("2 BAD cancelled\r\n")));
    CHECK(c != NULL);
    CHECK_ERROR_HAS(c, "after the exchange was complete");
    CLOSE_AND_FINISH(c, fs);
}

/* ---- connection loss ----------------------------------------------------- */

static void eof_mid_exchange(void)
{
    struct auth_secrets s = auth_alice();
    char *answer = cram_answer("alice", "alicepw", "<1896.697170952@postoffice.example.net>");
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_cram, 1, FAKE(
        GREET, CAPS("AUTH=CRAM-MD5"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"),
        F_SEND("+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+\r\n"),
        { FAKE_EXPECT, answer, strlen(answer), 0 },
        F_CLOSE()));
    CHECK(c != NULL);
    CHECK(!imclient_isopen(c));
    CHECK_ERROR_HAS(c, "closed by 127.0.0.1");
    CHECK_INT(imclient_getssf(c), -1);
    /* Calling again on the closed connection is a plain failure. */
    CHECK_AUTH(c, imclient_authenticate(c, only_cram, "imap", NULL, SASL_PROT_ANY), 1);
    CLOSE_AND_FINISH(c, fs);
    free(answer);
}

static void eof_during_capability(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 1, FAKE(GREET, F_CLOSE()));
    CHECK(c != NULL);
    CHECK(!imclient_isopen(c));
    CHECK_ERROR_HAS(c, "closed by");
    CLOSE_AND_FINISH(c, fs);
}

/* ---- no secrets, no prompt ------------------------------------------------ */

static void no_secret_proc_plain_fails_locally(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(GREET, CAPS("SASL-IR AUTH=PLAIN")));
    struct imclient *c = auth_open(fake_port(fs), NULL);
    CHECK(c != NULL);
    CHECK_AUTH(c, imclient_authenticate(c, only_plain, "imap", "alice", SASL_PROT_ANY), 1);
    CHECK_STR(imclient_error(c), "PLAIN needs a password, and the secret procedure gave none");
    CHECK(imclient_isopen(c));
    /* No credentials, not even a name, went out. */
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n");
}

/* LOGIN would send the name before it asks for the password; the password
 * is asked for first, so nothing goes out. */
static void no_secret_proc_login_sends_nothing(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(GREET, CAPS("SASL-IR AUTH=LOGIN AUTH=PLAIN")));
    struct imclient *c = auth_open(fake_port(fs), NULL);
    CHECK(c != NULL);
    struct sasl_client *mechs[] = { &imclient_sasl_login, &imclient_sasl_plain, NULL };
    CHECK_AUTH(c, imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 1);
    CHECK_STR(imclient_error(c),
              "LOGIN needs a password, and the secret procedure gave none; "
              "PLAIN needs a password, and the secret procedure gave none");
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n");
}

static void secret_proc_without_password(void)
{
    struct auth_secrets s = { "alice", NULL, NULL, NULL, "" };
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 1, FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN")));
    CHECK(c != NULL);
    CHECK_STR(imclient_error(c), "PLAIN needs a password, and the secret procedure gave none");
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n");
}

/* GSSAPI without a ticket fails here and the next mechanism runs. */
static void gssapi_without_ticket_falls_through(void)
{
    reset();
    struct auth_secrets s = auth_alice();
    char ccache[64];
    snprintf(ccache, sizeof ccache, "FILE:/nonexistent/imc-test-%d", (int)getpid());
    char *old = getenv("KRB5CCNAME") ? strdup(getenv("KRB5CCNAME")) : NULL;
    setenv("KRB5CCNAME", ccache, 1);
    struct sasl_client *mechs[] = { &krb_sasl_client, &imclient_sasl_plain, NULL };
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("SASL-IR AUTH=GSSAPI AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n")));
    struct imclient *c = auth_open(fake_port(fs), &s);
    int r = c ? imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY) : -1;
    if (old) {
        setenv("KRB5CCNAME", old, 1);
        free(old);
    } else {
        unsetenv("KRB5CCNAME");
    }
    CHECK(c != NULL);
    CHECK_INT(r, 0);
    CLOSE_AND_FINISH(c, fs);
}

/* ---- security properties ----------------------------------------------- */

static void privacy_only_refuses_plain_locally(void)
{
    reset();
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs = fake_start(FAKE(GREET, CAPS("SASL-IR AUTH=PLAIN")));
    struct imclient *c = auth_open(fake_port(fs), &s);
    CHECK(c != NULL);
    CHECK_AUTH(c, imclient_authenticate(c, only_plain, "imap", NULL, SASL_PROT_PRIVACY), 1);
    CHECK(strstr(imclient_error(c), "PLAIN: ") == imclient_error(c));
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n");
}

static void no_protection_allowed_at_all(void)
{
    reset();
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n")));
    struct imclient *c = auth_open(fake_port(fs), &s);
    CHECK(c != NULL);
    CHECK_AUTH(c, imclient_authenticate(c, only_plain, "imap", NULL, 0), 1);
    CHECK_STR(imclient_error(c), "protallowed admits no security layer, not even none");
    CLOSE_AND_CHECK_WIRE(c, fs, "");
}

/* ---- capabilities -------------------------------------------------------- */

/* What the greeting said is not trusted; CAPABILITY is asked. */
static void greeting_capabilities_are_not_used(void)
{
    struct auth_secrets s = auth_alice();
    struct sasl_client *mechs[] = { &imclient_sasl_plain, &imclient_sasl_login, NULL };
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, mechs, 0, FAKE(
        F_SEND("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\n"),
        F_EXPECT("1 CAPABILITY\r\n"),
        CAPS("AUTH=LOGIN"),
        F_EXPECT("2 AUTHENTICATE LOGIN\r\n"),
        F_SEND("+ VXNlcm5hbWU6\r\n"),
        F_EXPECT("YWxpY2U=\r\n"),
        F_SEND("+ UGFzc3dvcmQ6\r\n"),
        F_EXPECT("YWxpY2Vwdw==\r\n"),
        F_SEND("2 OK welcome\r\n")));
    CHECK(c != NULL);
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n2 AUTHENTICATE LOGIN\r\nYWxpY2U=\r\n"
                                "YWxpY2Vwdw==\r\n");
}

static void capability_refused_fails_closed(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 1, FAKE(
        GREET, F_SEND("1 BAD unknown command\r\n")));
    CHECK(c != NULL);
    CHECK_STR(imclient_error(c), "the server refused CAPABILITY: BAD unknown command");
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n");
}

static void capability_lists_are_merged_and_long(void)
{
    struct auth_secrets s = auth_alice();
    struct imc_buf caps;
    imc_buf_init(&caps);
    imc_buf_appendstr(&caps, "* CAPABILITY IMAP4rev1");
    for (int i = 0; i < 56; i++) {
        char atom[32];
        snprintf(atom, sizeof atom, " AUTH=X-UNKNOWN-%d", i);
        imc_buf_appendstr(&caps, atom);
    }
    imc_buf_appendstr(&caps, " auth=plain AUTH=PLAINISH\r\n* CAPABILITY sasl-ir\r\n1 OK done\r\n");
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 0, FAKE(
        GREET, { FAKE_SEND, caps.data, caps.len, 0 },
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n")));
    CHECK(c != NULL);
    CLOSE_AND_FINISH(c, fs);
    imc_buf_free(&caps);
}

/* A CAPABILITY after authentication reaches the application's own entry
 * for it (labelled "app-cap") when there is one, and otherwise the
 * catch-all: the library's temporary entry is gone either way. */
static void capability_after_authenticate(int app_entry, const char *want_log)
{
    reset();
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n"),
        F_EXPECT("3 CAPABILITY\r\n"),
        F_SEND("* CAPABILITY IMAP4rev1 IDLE\r\n3 OK done\r\n")));
    struct imclient *c = auth_open(fake_port(fs), &s);
    CHECK(c != NULL);
    if (app_entry)
        imclient_addcallback(c, "CAPABILITY", 0, record, "app-cap", NULL);
    CHECK_AUTH(c, imclient_authenticate(c, only_plain, "imap", NULL, SASL_PROT_ANY), 0);
    imclient_send(c, finished, "cap", "CAPABILITY");
    run_until(c, 1);
    CHECK_STR(log_text(), want_log);
    CLOSE_AND_FINISH(c, fs);
}

/* The application's CAPABILITY callback is back afterwards, and one it
 * never had does not linger to swallow replies. */
static void capability_callback_restored(void)
{
    capability_after_authenticate(
        1, "u|OK|-1|hi\napp-cap|CAPABILITY|-1|IMAP4rev1 IDLE\ncap|OK|-1|done\n");
}

static void capability_entry_removed(void)
{
    capability_after_authenticate(
        0, "u|OK|-1|hi\nu|CAPABILITY|-1|IMAP4rev1 IDLE\ncap|OK|-1|done\n");
}

/* ---- after the tagged reply ------------------------------------------- */

/* Bytes behind the OK with no layer: what follows the OK in the same
 * read is plain protocol and reaches the application, in order. */
static void bytes_after_ok_without_layer(int slow)
{
    reset();
    struct auth_secrets s = auth_alice();
    struct fake_step fast = F_SEND("2 OK welcome\r\n* 1 EXISTS\r\n* 2 EXPUNGE\r\n");
    struct fake_step byte = F_SLOW("2 OK welcome\r\n* 1 EXISTS\r\n* 2 EXPUNGE\r\n");
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        slow ? byte : fast,
        F_EXPECT("3 NOOP\r\n"),
        F_SEND("3 OK noop\r\n")));
    struct imclient *c = auth_open(fake_port(fs), &s);
    CHECK(c != NULL);
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, record_ssf, "exists", NULL);
    CHECK_AUTH(c, imclient_authenticate(c, only_plain, "imap", NULL, SASL_PROT_ANY), 0);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK_STR(log_text(), "u|OK|-1|hi\nexists@0|EXISTS|1|\nu|EXPUNGE|2|\nnoop|OK|-1|noop\n");
    CLOSE_AND_FINISH(c, fs);
}

static void bytes_after_ok_same_read(void)
{
    bytes_after_ok_without_layer(0);
}

static void bytes_after_ok_byte_at_a_time(void)
{
    bytes_after_ok_without_layer(1);
}

static void bytes_after_no_are_plain(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 1, FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 NO nope\r\n* BYE go away\r\n")));
    CHECK(c != NULL);
    CHECK_STR(log_text(), "u|OK|-1|hi\nu|BYE|-1|go away\n");
    CLOSE_AND_FINISH(c, fs);
}

/* Nothing of the exchange stays installed: a later "+" goes to the
 * application's own "+" entry. */
static void continuation_hook_removed(void)
{
    reset();
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n"),
        F_EXPECT("3 IDLE\r\n"),
        F_SEND("+ idling\r\n"),
        F_SLEEP(20),
        F_SEND("3 OK done\r\n")));
    struct imclient *c = auth_open(fake_port(fs), &s);
    CHECK(c != NULL);
    imclient_addcallback(c, "+", 0, record, "plus", NULL);
    CHECK_AUTH(c, imclient_authenticate(c, only_plain, "imap", NULL, SASL_PROT_ANY), 0);
    imclient_send(c, finished, "idle", "IDLE");
    run_until(c, 1);
    CHECK_STR(log_text(), "u|OK|-1|hi\nplus|+|-1|idling\nidle|OK|-1|done\n");
    CLOSE_AND_FINISH(c, fs);
}

static void second_authenticate_refused(void)
{
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 0, FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n")));
    CHECK(c != NULL);
    CHECK_AUTH(c, imclient_authenticate(c, only_plain, "imap", NULL, SASL_PROT_ANY), 1);
    CHECK_STR(imclient_error(c), "already authenticated");
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n");
}

static const char *closing_secret(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)rock;
    (void)mech;
    imclient_close(c);
    if (what == IMCLIENT_SECRET_PASSWORD)
        return "alicepw";
    return what == IMCLIENT_SECRET_AUTHNAME ? "alice" : NULL;
}

/* The secret procedure closes the connection (the page forbids such calls
 * from callbacks): the close waits until authenticate returns, which then
 * stops waiting and reports failure; nothing is used after it was freed
 * (ASan would say). */
static void close_from_secret_proc(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n"),
        F_DRAIN()));
    struct imclient *c = auth_open(fake_port(fs), NULL);
    CHECK(c != NULL);
    imclient_setsecretproc(c, closing_secret, NULL);
    CHECK_INT(imclient_authenticate(c, only_plain, "imap", NULL, SASL_PROT_ANY), 1);
    /* c is gone now. */
    SERVER_OK(fs);
    fake_free(fs);
}

/* A literal still waiting for "+" would take the server's challenges. */
static void refused_while_literal_waits(void)
{
    reset();
    struct auth_secrets s = auth_alice();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 APPEND INBOX {3}\r\n"),
        F_SEND("1 NO [TRYCREATE] no\r\n")));
    struct imclient *c = auth_open(fake_port(fs), &s);
    CHECK(c != NULL);
    imclient_send(c, finished, "append", "APPEND INBOX %s", "a\r\n");
    CHECK_AUTH(c, imclient_authenticate(c, only_plain, "imap", NULL, SASL_PROT_ANY), 1);
    CHECK_STR(imclient_error(c), "a command is still waiting to send a literal");
    run_until(c, 1);
    CHECK_STR(log_text(), "u|OK|-1|hi\nappend|NO|-1|[TRYCREATE] no\n");
    CLOSE_AND_CHECK_WIRE(c, fs, "1 APPEND INBOX {3}\r\n");
}

/* ---- threads: libsasl2's one-time init ----------------------------------- */

struct thread_run {
    struct fakeserver *fs;
    int result;
};

static void *authenticate_thread(void *arg)
{
    struct thread_run *t = arg;
    struct auth_secrets s = auth_alice();
    struct imclient *c = auth_open(fake_port(t->fs), &s);
    t->result = c ? imclient_authenticate(c, only_plain, "imap", NULL, SASL_PROT_ANY) : -1;
    if (c)
        imclient_close(c);
    return NULL;
}

static void concurrent_connections(void)
{
    struct thread_run runs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        runs[i].fs = fake_start(FAKE(
            GREET, CAPS("SASL-IR AUTH=PLAIN"),
            F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
            F_SEND("2 OK welcome\r\n")));
        runs[i].result = -1;
    }
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, authenticate_thread, &runs[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        SERVER_OK(runs[i].fs);
        fake_free(runs[i].fs);
        CHECK_INT(runs[i].result, 0);
    }
}

/* ---- SCRAM: an absurd iteration count ------------------------------------ */

static void scram_huge_iterations_server(struct dynserver *d)
{
    dyn_send(d, "* OK hi\r\n");
    if (dyn_expect(d, "1 CAPABILITY") < 0)
        return;
    dyn_send(d, "* CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256\r\n1 OK done\r\n");
    char *line = dyn_line(d);
    const char *prefix = "2 AUTHENTICATE SCRAM-SHA-256 ";
    if (!line || strncmp(line, prefix, strlen(prefix)) != 0) {
        dyn_fail(d, "unexpected \"%s\"", line ? line : "");
        free(line);
        return;
    }
    size_t len;
    char *first = dyn_unb64(line + strlen(prefix), &len);
    free(line);
    const char *r = first ? strstr(first, ",r=") : NULL;
    if (!r) {
        dyn_fail(d, "no nonce in the client-first message");
        free(first);
        return;
    }
    char msg[256];
    snprintf(msg, sizeof msg, "r=%sSERVERNONCE,s=QSXCR+Q6sek8bf92,i=2147483647", r + 3);
    free(first);
    char *enc = dyn_b64(msg, strlen(msg));
    char out[400];
    snprintf(out, sizeof out, "+ %s\r\n", enc);
    free(enc);
    dyn_send(d, out);
    if (dyn_expect(d, "*") < 0)
        return;
    dyn_send(d, "2 BAD cancelled\r\n");
}

/* libsasl2 refuses counts above its cap; we must cancel, not compute
 * PBKDF2 for two billion rounds (the test would time out). */
static void scram_iteration_count_is_capped(void)
{
    reset();
    struct auth_secrets s = auth_alice();
    struct dynserver *d = dyn_start(scram_huge_iterations_server, NULL);
    struct imclient *c = auth_open(d->port, &s);
    CHECK(c != NULL);
    struct sasl_client *mechs[] = { &imclient_sasl_scram_sha256, NULL };
    CHECK_AUTH(c, imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 1);
    CHECK(strstr(imclient_error(c), "SCRAM-SHA-256: ") == imclient_error(c));
    CHECK_ERROR_HAS(c, "(server: BAD cancelled)");
    imclient_close(c);
    DYN_OK(d);
}

/* ---- the façade hook authentication relies on ---------------------------- */

/* imclient.c, imc_run_until_paused(): documented to return 0 once the
 * paused reply has been delivered, it returns -1 when the reply arrives
 * in a read, because read_once() ends with imc_flush(), which returns -1
 * whenever the session is paused. */
static void run_until_paused_succeeds(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 NOOP\r\n"), F_SEND("1 OK done\r\n* 1 EXISTS\r\n")));
    struct imclient *c = auth_open(fake_port(fs), NULL);
    CHECK(c != NULL);
    imclient_send(c, finished, "noop", "NOOP");
    imc_session_pause_after(&c->session, imc_session_last_tag(&c->session));
    int r = imc_run_until_paused(c);
    CHECK(c->session.paused);
    CHECK(imclient_isopen(c));
    CHECK_INT(r, 0);
    CLOSE_AND_FINISH(c, fs);
}

int main(int argc, char **argv)
{
    static const struct check_test tests[] = {
        TEST(plain_with_sasl_ir),
        TEST(plain_with_authzid),
        TEST(plain_user_argument_is_login_name),
        TEST(plain_without_sasl_ir),
        TEST(continuation_without_space),
        TEST(login_mechanism),
        TEST(cram_md5_mechanism),
        TEST(unadvertised_mechanism_is_skipped),
        TEST(nothing_offered_sends_nothing),
        TEST(next_mechanism_after_no), TEST(connection_failed_behind_no),
        TEST(server_no_returns_1),
        TEST(server_bad_returns_1),
        TEST(ok_before_initial_response),
        TEST(ok_before_cram_response),
        TEST(ok_after_cancel),
        TEST(challenge_all_padding),
        TEST(challenge_not_alphabet),
        TEST(challenge_truncated_quantum),
        TEST(challenge_one_mebibyte),
        TEST(challenge_beyond_line_limit),
        TEST(challenge_after_cancel),
        TEST(challenge_instead_of_empty),
        TEST(challenge_after_completion),
        TEST(second_challenge_after_initial_response),
        TEST(eof_mid_exchange),
        TEST(eof_during_capability),
        TEST(no_secret_proc_plain_fails_locally),
        TEST(no_secret_proc_login_sends_nothing),
        TEST(secret_proc_without_password),
        TEST(gssapi_without_ticket_falls_through),
        TEST(privacy_only_refuses_plain_locally),
        TEST(no_protection_allowed_at_all),
        TEST(greeting_capabilities_are_not_used),
        TEST(capability_refused_fails_closed),
        TEST(capability_lists_are_merged_and_long),
        TEST(capability_callback_restored),
        TEST(capability_entry_removed),
        TEST(bytes_after_ok_same_read),
        TEST(bytes_after_ok_byte_at_a_time),
        TEST(bytes_after_no_are_plain),
        TEST(continuation_hook_removed),
        TEST(second_authenticate_refused),
        TEST(refused_while_literal_waits),
        TEST(close_from_secret_proc),
        TEST(concurrent_connections),
        TEST(scram_iteration_count_is_capped),
        TEST(run_until_paused_succeeds),
    };
    return check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
