/*
 * imclient_authenticate() against scripted servers: the exact bytes of
 * CAPABILITY and AUTHENTICATE, SASL-IR or "+", each mechanism's answers,
 * results 0/1/2, hostile challenges (ADVERSARIAL #37), bytes after the OK
 * (#12), capabilities asked afresh (#17), and no prompt without secrets.
 *
 * The security layer needs a mechanism that negotiates one; DIGEST-MD5
 * does with a password, so a small server thread runs libsasl2's server
 * side (with a throwaway sasldb) to test the layer end to end, and the
 * layer's transport is also driven directly over a mock lower layer to
 * pin down partial writes and split reads.
 */
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <sasl/sasl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/auth_internal.h"
#include "check.h"
#include "cyrus/imclient.h"
#include "fakeserver.h"
#include "listener.h"
#include "replylog.h"
#include "transport/sasl_layer.h"
#include "util/buf.h"

/* libsasl2's DIGEST-MD5 plugin fetches its RC4/DES ciphers from OpenSSL 3
 * and never frees them; LeakSanitizer is told about that plugin only.
 * The fast unwinder stops inside libcrypto (no frame pointers), so the
 * plugin would not show in the stacks without the slow one.  (Read by the
 * sanitizers when they are built in; unused functions otherwise.) */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libdigestmd5.so\n";
}

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

/* ---- what the application saw ------------------------------------------ */

/* An untagged reply, with the SSF the connection reports while it is
 * delivered: "exists@1" and the like. */
static void record_ssf(struct imclient *c, void *rock, struct imclient_reply *r)
{
    char label[32];
    snprintf(label, sizeof label, "%s@%d", (const char *)rock, imclient_getssf(c));
    record(c, label, r);
}

/* Secrets the application hands out; NULL fields are "none". */
struct secrets {
    const char *authname, *user, *password, *realm;
    char asked[128]; /* "A:PLAIN P:PLAIN ..." */
};

static const char *secret(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)c;
    struct secrets *s = rock;
    static const char letters[] = "?AUPR";
    size_t n = strlen(s->asked);
    snprintf(s->asked + n, sizeof s->asked - n, "%s%c:%s", n ? " " : "",
             what >= 1 && what <= 4 ? letters[what] : '?', mech);
    switch (what) {
    case IMCLIENT_SECRET_AUTHNAME:
        return s->authname;
    case IMCLIENT_SECRET_USER:
        return s->user;
    case IMCLIENT_SECRET_PASSWORD:
        return s->password;
    case IMCLIENT_SECRET_REALM:
        return s->realm;
    }
    return NULL;
}

static struct secrets alice(void)
{
    struct secrets s = { "alice", NULL, "alicepw", NULL, "" };
    return s;
}

/* The scripts speak no TLS; PLAIN and LOGIN are allowed here so that their
 * exchanges can be tested (test_auth_plaintext.c tests the default). */
static struct imclient *open_conn(const char *port, struct secrets *s)
{
    struct imclient *c = open_logged("127.0.0.1", port);
    if (c && s)
        imclient_setsecretproc(c, secret, s);
    if (c)
        imclient_setflags(c, IMCLIENT_CONN_ALLOWPLAINTEXT);
    return c;
}

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

/* imclient_authenticate()'s result, with imclient_error() when it is not
 * the one wanted. */
#define CHECK_AUTH(c, call, want)                                            \
    do {                                                                     \
        int got_ = (call);                                                   \
        if (got_ != (want)) {                                                \
            check_fail(__FILE__, __LINE__, "%s: got %d, want %d (error: %s)", \
                       #call, got_, (want), imclient_error(c));              \
            return;                                                          \
        }                                                                    \
    } while (0)

/* imclient_error() contains want. */
#define CHECK_ERROR_HAS(c, want)                                              \
    do {                                                                      \
        if (!strstr(imclient_error(c), (want))) {                             \
            check_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"",         \
                       imclient_error(c), (want));                            \
            return;                                                           \
        }                                                                     \
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
static struct imclient *authenticate_to(struct fakeserver **fs, struct secrets *s,
                                        struct sasl_client **mechs, int want,
                                        const struct fake_step *steps, size_t n)
{
    reset();
    *fs = fake_start(steps, n);
    struct imclient *c = open_conn(fake_port(*fs), s);
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
    struct secrets s = alice();
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK [CAPABILITY IMAP4rev1] welcome\r\n")));
    struct imclient *c = open_conn(fake_port(fs), &s);
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
    struct secrets s = alice();
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
    struct secrets s = { NULL, NULL, "alicepw", NULL, "" };
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n")));
    struct imclient *c = open_conn(fake_port(fs), &s);
    CHECK(c != NULL);
    CHECK_AUTH(c, imclient_authenticate(c, only_plain, "imap", "alice", SASL_PROT_ANY), 0);
    CLOSE_AND_FINISH(c, fs);
}

static void plain_without_sasl_ir(void)
{
    struct secrets s = alice();
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
    struct secrets s = alice();
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
    struct secrets s = alice();
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

static char *b64(const void *data, size_t len)
{
    char *out = malloc(len / 3 * 4 + 8);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    out[n] = '\0';
    return out;
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
    char *enc = b64(text, (size_t)n);
    char *line = malloc(strlen(enc) + 3);
    sprintf(line, "%s\r\n", enc);
    free(enc);
    return line;
}

static void cram_md5_mechanism(void)
{
    struct secrets s = alice();
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
    struct secrets s = alice();
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
    struct secrets s = alice();
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
    struct secrets s = alice();
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

static void server_no_returns_1(void)
{
    struct secrets s = alice();
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
    struct secrets s = alice();
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
    struct secrets s = alice();
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
    struct secrets s = alice();
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("AUTH=CRAM-MD5 AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE CRAM-MD5\r\n"),
        F_SEND("2 OK come in\r\n")));
    struct sasl_client *mechs[] = { &imclient_sasl_cram_md5, &imclient_sasl_plain, NULL };
    struct imclient *c = open_conn(fake_port(fs), &s);
    CHECK(c != NULL);
    /* 2 ends the search: PLAIN is not tried after it. */
    CHECK_AUTH(c, imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 2);
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n2 AUTHENTICATE CRAM-MD5\r\n");
}

/* The server says OK to our "*": the exchange never completed. */
static void ok_after_cancel(void)
{
    struct secrets s = alice();
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

/* ---- ADVERSARIAL #37: hostile challenges --------------------------------- */

static void hostile_challenge(const char *challenge, size_t len, const char *why)
{
    reset();
    struct secrets s = alice();
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
    struct imclient *c = open_conn(fake_port(fs), &s);
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
    struct secrets s = alice();
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

/* The decoder refuses by size before it allocates anything. */
static void decode_bound_checked_first(void)
{
    size_t n = 1u << 20;
    char *big = malloc(n);
    memset(big, 'A', n);
    char *out = (char *)1;
    unsigned outlen = 7;
    CHECK_INT(imc_b64_decode(big, n, IMC_AUTH_MAX_CHALLENGE, &out, &outlen),
              IMC_B64_TOO_LARGE);
    CHECK(out == NULL);
    CHECK_INT(outlen, 0);
    /* Exactly at the bound is fine, one quantum more is not. */
    size_t at = (IMC_AUTH_MAX_CHALLENGE + 2) / 3 * 4;
    CHECK_INT(imc_b64_decode(big, at - 4, IMC_AUTH_MAX_CHALLENGE, &out, &outlen), IMC_B64_OK);
    CHECK_INT(outlen, (at - 4) / 4 * 3);
    free(out);
    CHECK_INT(imc_b64_decode(big, at + 4, IMC_AUTH_MAX_CHALLENGE, &out, &outlen),
              IMC_B64_TOO_LARGE);
    CHECK_INT(imc_b64_decode("", 0, 10, &out, &outlen), IMC_B64_OK);
    CHECK_INT(outlen, 0);
    free(out);
    CHECK_INT(imc_b64_decode("YWJjZA==", 8, 10, &out, &outlen), IMC_B64_OK);
    CHECK_MEM(out, outlen, "abcd", 4);
    free(out);
    free(big);
}

/* After "*" the server owes a tagged reply; another "+" closes the
 * connection instead of an endless cancel loop. */
static void challenge_after_cancel(void)
{
    struct secrets s = alice();
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
    struct secrets s = alice();
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
    struct secrets s = alice();
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
    struct secrets s = alice();
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
    struct secrets s = alice();
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
    struct secrets s = alice();
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
    struct imclient *c = open_conn(fake_port(fs), NULL);
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
    struct imclient *c = open_conn(fake_port(fs), NULL);
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
    struct secrets s = { "alice", NULL, NULL, NULL, "" };
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
    struct secrets s = alice();
    char ccache[64];
    snprintf(ccache, sizeof ccache, "FILE:/nonexistent/imc-test-%d", (int)getpid());
    char *old = getenv("KRB5CCNAME") ? strdup(getenv("KRB5CCNAME")) : NULL;
    setenv("KRB5CCNAME", ccache, 1);
    struct sasl_client *mechs[] = { &krb_sasl_client, &imclient_sasl_plain, NULL };
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("SASL-IR AUTH=GSSAPI AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n")));
    struct imclient *c = open_conn(fake_port(fs), &s);
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
    struct secrets s = alice();
    struct fakeserver *fs = fake_start(FAKE(GREET, CAPS("SASL-IR AUTH=PLAIN")));
    struct imclient *c = open_conn(fake_port(fs), &s);
    CHECK(c != NULL);
    CHECK_AUTH(c, imclient_authenticate(c, only_plain, "imap", NULL, SASL_PROT_PRIVACY), 1);
    CHECK(strstr(imclient_error(c), "PLAIN: ") == imclient_error(c));
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n");
}

static void no_protection_allowed_at_all(void)
{
    reset();
    struct secrets s = alice();
    struct fakeserver *fs = fake_start(FAKE(F_SEND("* OK hi\r\n")));
    struct imclient *c = open_conn(fake_port(fs), &s);
    CHECK(c != NULL);
    CHECK_AUTH(c, imclient_authenticate(c, only_plain, "imap", NULL, 0), 1);
    CHECK_STR(imclient_error(c), "protallowed admits no security layer, not even none");
    CLOSE_AND_CHECK_WIRE(c, fs, "");
}

/* ---- capabilities -------------------------------------------------------- */

/* #17: what the greeting said is not trusted; CAPABILITY is asked. */
static void greeting_capabilities_are_not_used(void)
{
    struct secrets s = alice();
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
    struct secrets s = alice();
    struct fakeserver *fs;
    struct imclient *c = authenticate_to(&fs, &s, only_plain, 1, FAKE(
        GREET, F_SEND("1 BAD unknown command\r\n")));
    CHECK(c != NULL);
    CHECK_STR(imclient_error(c), "the server refused CAPABILITY: BAD unknown command");
    CLOSE_AND_CHECK_WIRE(c, fs, "1 CAPABILITY\r\n");
}

static void capability_lists_are_merged_and_long(void)
{
    struct secrets s = alice();
    struct imc_buf caps;
    imc_buf_init(&caps);
    imc_buf_appendstr(&caps, "* CAPABILITY IMAP4rev1");
    for (int i = 0; i < 56; i++) {
        char atom[32];
        snprintf(atom, sizeof atom, " AUTH=X-UNKNOWN-%d", i);
        imc_buf_appendstr(&caps, atom);
    }
    imc_buf_appendstr(&caps, " AUTH=PLAINISH\r\n* CAPABILITY sasl-ir auth=plain\r\n1 OK done\r\n");
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
    struct secrets s = alice();
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n"),
        F_EXPECT("3 CAPABILITY\r\n"),
        F_SEND("* CAPABILITY IMAP4rev1 IDLE\r\n3 OK done\r\n")));
    struct imclient *c = open_conn(fake_port(fs), &s);
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

/* #12 with no layer: what follows the OK in the same read is plain
 * protocol and reaches the application, in order. */
static void bytes_after_ok_without_layer(int slow)
{
    reset();
    struct secrets s = alice();
    struct fake_step fast = F_SEND("2 OK welcome\r\n* 1 EXISTS\r\n* 2 EXPUNGE\r\n");
    struct fake_step byte = F_SLOW("2 OK welcome\r\n* 1 EXISTS\r\n* 2 EXPUNGE\r\n");
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        slow ? byte : fast,
        F_EXPECT("3 NOOP\r\n"),
        F_SEND("3 OK noop\r\n")));
    struct imclient *c = open_conn(fake_port(fs), &s);
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
    struct secrets s = alice();
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
    struct secrets s = alice();
    struct fakeserver *fs = fake_start(FAKE(
        GREET, CAPS("SASL-IR AUTH=PLAIN"),
        F_EXPECT("2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n"),
        F_SEND("2 OK welcome\r\n"),
        F_EXPECT("3 IDLE\r\n"),
        F_SEND("+ idling\r\n"),
        F_SLEEP(20),
        F_SEND("3 OK done\r\n")));
    struct imclient *c = open_conn(fake_port(fs), &s);
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
    struct secrets s = alice();
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
    struct imclient *c = open_conn(fake_port(fs), NULL);
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
    struct secrets s = alice();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 APPEND INBOX {3}\r\n"),
        F_SEND("1 NO [TRYCREATE] no\r\n")));
    struct imclient *c = open_conn(fake_port(fs), &s);
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
    struct secrets s = alice();
    struct imclient *c = open_conn(fake_port(t->fs), &s);
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

/* ---- a server thread with its own logic ----------------------------------- */

struct dynserver {
    int listen_fd, fd;
    char port[16];
    pthread_t thread;
    void (*fn)(struct dynserver *);
    void *arg;
    char error[512];
    struct imc_buf in; /* bytes read, not yet taken as a line */
};

static void dyn_fail(struct dynserver *d, const char *fmt, ...)
{
    if (d->error[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->error, sizeof d->error, fmt, ap);
    va_end(ap);
    if (getenv("IMC_TEST_DEBUG"))
        fprintf(stderr, "dynserver: %s\n", d->error);
}

static int dyn_write(struct dynserver *d, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = send(d->fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            dyn_fail(d, "write: %s", strerror(errno));
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int dyn_send(struct dynserver *d, const char *s)
{
    return dyn_write(d, s, strlen(s));
}

/* Read more raw bytes (5 s at most); the count, 0 at EOF, -1 otherwise. */
static ssize_t dyn_read_raw(struct dynserver *d, char *buf, size_t cap)
{
    struct pollfd p = { d->fd, POLLIN, 0 };
    if (poll(&p, 1, 5000) <= 0) {
        dyn_fail(d, "timeout waiting for the client");
        return -1;
    }
    ssize_t n = read(d->fd, buf, cap);
    if (n < 0)
        dyn_fail(d, "read: %s", strerror(errno));
    return n;
}

/* One line from the client, CRLF removed, into a malloc'd string. */
static char *dyn_line(struct dynserver *d)
{
    for (;;) {
        char *eol = d->in.len ? memchr(d->in.data, '\n', d->in.len) : NULL;
        if (eol) {
            size_t n = (size_t)(eol - d->in.data) + 1;
            char *line = strndup(d->in.data, n > 1 && eol[-1] == '\r' ? n - 2 : n - 1);
            imc_buf_consume(&d->in, n);
            return line;
        }
        char buf[4096];
        ssize_t n = dyn_read_raw(d, buf, sizeof buf);
        if (n <= 0) {
            dyn_fail(d, "client went away before a line");
            return NULL;
        }
        imc_buf_append(&d->in, buf, (size_t)n);
    }
}

static int dyn_expect(struct dynserver *d, const char *want)
{
    char *line = dyn_line(d);
    if (!line)
        return -1;
    int ok = strcmp(line, want) == 0;
    if (!ok)
        dyn_fail(d, "got \"%s\", want \"%s\"", line, want);
    free(line);
    return ok ? 0 : -1;
}

static void *dyn_serve(void *arg)
{
    struct dynserver *d = arg;
    d->fd = accept_within(d->listen_fd, 10000);
    if (d->fd == -2) {
        d->fd = -1;
        dyn_fail(d, "no client connected");
        return NULL;
    }
    d->fn(d);
    /* Let the client see everything before it sees the close. */
    char buf[4096];
    shutdown(d->fd, SHUT_WR);
    while (dyn_read_raw(d, buf, sizeof buf) > 0)
        ;
    close(d->fd);
    return NULL;
}

static struct dynserver *dyn_start(void (*fn)(struct dynserver *), void *arg)
{
    struct dynserver *d = calloc(1, sizeof *d);
    d->fn = fn;
    d->arg = arg;
    d->fd = -1;
    d->listen_fd = listen_loopback(4, d->port, sizeof d->port);
    if (d->listen_fd < 0)
        abort();
    pthread_create(&d->thread, NULL, dyn_serve, d);
    return d;
}

static int dyn_finish(struct dynserver *d, char *err, size_t errlen)
{
    pthread_join(d->thread, NULL);
    snprintf(err, errlen, "%s", d->error);
    close(d->listen_fd);
    imc_buf_free(&d->in);
    int r = d->error[0] ? -1 : 0;
    free(d);
    return r;
}

/* For scripts the client is expected to break off. */
static void dyn_finish_quiet(struct dynserver *d)
{
    char err[600];
    dyn_finish(d, err, sizeof err);
}

#define DYN_OK(d) CHECK_SERVER(dyn_finish, d)

static char *unb64(const char *s, size_t *len)
{
    size_t n = strlen(s);
    unsigned char *out = malloc(n / 4 * 3 + 4);
    int r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (r < 0) {
        free(out);
        return NULL;
    }
    size_t pad = (n >= 1 && s[n - 1] == '=') + (n >= 2 && s[n - 2] == '=');
    *len = (size_t)r - pad;
    out[*len] = '\0';
    return (char *)out;
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
    char *first = unb64(line + strlen(prefix), &len);
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
    char *enc = b64(msg, strlen(msg));
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
    struct secrets s = alice();
    struct dynserver *d = dyn_start(scram_huge_iterations_server, NULL);
    struct imclient *c = open_conn(d->port, &s);
    CHECK(c != NULL);
    struct sasl_client *mechs[] = { &imclient_sasl_scram_sha256, NULL };
    CHECK_AUTH(c, imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY), 1);
    CHECK(strstr(imclient_error(c), "SCRAM-SHA-256: ") == imclient_error(c));
    CHECK_ERROR_HAS(c, "(server: BAD cancelled)");
    imclient_close(c);
    DYN_OK(d);
}

/* ---- DIGEST-MD5 with libsasl2's server: the security layer --------------- */

static char sasldb_path[128];

/* Accounts user0 ... user63, all with password alicepw (see fresh_user). */
#define DIGEST_USERS 64

static int server_getopt(void *ctx, const char *plugin, const char *opt, const char **res,
                         unsigned *len)
{
    (void)ctx;
    (void)plugin;
    if (strcmp(opt, "sasldb_path") == 0)
        *res = sasldb_path;
    else if (strcmp(opt, "auxprop_plugin") == 0)
        *res = "sasldb";
    else if (strcmp(opt, "pwcheck_method") == 0)
        *res = "auxprop";
    else if (strcmp(opt, "reauth_timeout") == 0)
        *res = "10"; /* minutes: the server accepts DIGEST-MD5 reauthentication */
    else
        return SASL_FAIL;
    if (len)
        *len = (unsigned)strlen(*res);
    return SASL_OK;
}

static const sasl_callback_t server_callbacks[] = {
    { SASL_CB_GETOPT, IMC_SASL_PROC(server_getopt), NULL },
    { SASL_CB_LIST_END, NULL, NULL },
};

static pthread_once_t server_once = PTHREAD_ONCE_INIT;
static int server_ready = -1;

/* A throwaway sasldb holding alice/alicepw for the realm 127.0.0.1. */
static void init_server_side(void)
{
    snprintf(sasldb_path, sizeof sasldb_path, "/tmp/imc-auth-test-%d.db", (int)getpid());
    unlink(sasldb_path);
    if (sasl_server_init(server_callbacks, "imctest") != SASL_OK)
        return;
    sasl_conn_t *s = NULL;
    if (sasl_server_new("imap", "127.0.0.1", NULL, NULL, NULL, NULL, 0, &s) != SASL_OK)
        return;
    int r = SASL_OK;
    for (int i = 0; i < DIGEST_USERS && r == SASL_OK; i++) {
        char user[16];
        snprintf(user, sizeof user, "user%d", i);
        r = sasl_setpass(s, user, "alicepw", 7, NULL, 0, SASL_SET_CREATE);
    }
    sasl_dispose(&s);
    server_ready = r == SASL_OK ? 0 : -1;
}

static int server_side(void)
{
    pthread_once(&server_once, init_server_side);
    return server_ready;
}

/*
 * libsasl2's DIGEST-MD5 client keeps, process-wide, the last nonce per
 * server and user and reuses it (RFC 2831 subsequent authentication),
 * with the layer of that earlier session.  Each test takes a user of its
 * own (all with password alicepw) so that it runs a full exchange, except
 * the one that tests reauthentication on purpose.
 */
static const char *fresh_user(void)
{
    static char names[DIGEST_USERS][16];
    static int next;
    int i = next++ % DIGEST_USERS;
    snprintf(names[i], sizeof names[i], "user%d", i);
    return names[i];
}

static sasl_conn_t *server_conn(unsigned max_ssf)
{
    sasl_conn_t *s = NULL;
    if (sasl_server_new("imap", "127.0.0.1", NULL, NULL, NULL, NULL, 0, &s) != SASL_OK)
        return NULL;
    sasl_security_properties_t sp;
    memset(&sp, 0, sizeof sp);
    sp.max_ssf = max_ssf;
    sp.maxbufsize = 65536;
    sasl_setprop(s, SASL_SEC_PROPS, &sp);
    return s;
}

/* Client and server conns that completed DIGEST-MD5 in memory. */
static int digest_pair(unsigned min_ssf, unsigned max_ssf, sasl_conn_t **cp, sasl_conn_t **sp,
                       void **keep)
{
    static struct imclient fake; /* only read by the secret callbacks */
    static struct secrets sec = { NULL, NULL, "alicepw", NULL, "" };
    char err[200];
    if (imc_sasl_init(err, sizeof err) < 0 || server_side() < 0)
        return -1;
    fake.secretproc = secret;
    fake.secretrock = &sec;
    sec.authname = fresh_user();
    struct imc_secrets *secrets = imc_secrets_new(&fake, "DIGEST-MD5", NULL);
    sasl_conn_t *c = NULL, *s = server_conn(256);
    if (!s || sasl_client_new("imap", "127.0.0.1", NULL, NULL, secrets->list, 0, &c) != SASL_OK)
        return -1;
    sasl_security_properties_t props;
    memset(&props, 0, sizeof props);
    props.min_ssf = min_ssf;
    props.max_ssf = max_ssf;
    props.maxbufsize = IMC_SASL_MAXBUF;
    sasl_setprop(c, SASL_SEC_PROPS, &props);
    sasl_interact_t *in = NULL;
    const char *out, *sout, *mech;
    unsigned outlen, soutlen;
    int rc = sasl_client_start(c, "DIGEST-MD5", &in, &out, &outlen, &mech);
    int sr = sasl_server_start(s, "DIGEST-MD5", out, outlen, &sout, &soutlen);
    for (int i = 0; i < 5 && sr == SASL_CONTINUE; i++) {
        rc = sasl_client_step(c, sout, soutlen, &in, &out, &outlen);
        if (rc != SASL_OK && rc != SASL_CONTINUE)
            return -1;
        sr = sasl_server_step(s, out, outlen, &sout, &soutlen);
    }
    if (sr != SASL_OK || rc != SASL_OK)
        return -1;
    imc_secrets_retire(secrets);
    *cp = c;
    *sp = s;
    *keep = secrets;
    return 0;
}

/* The server's side of the wire once the layer is on. */
struct layered {
    struct dynserver *d;
    sasl_conn_t *conn;
    struct imc_buf plain; /* decoded, not yet taken */
};

static int layered_send(struct layered *l, const char *data, size_t len, int slow)
{
    while (len > 0) {
        const void *p;
        sasl_getprop(l->conn, SASL_MAXOUTBUF, &p);
        unsigned max = *(const unsigned *)p;
        unsigned n = len > max ? max : (unsigned)len;
        const char *enc;
        unsigned enclen;
        if (sasl_encode(l->conn, data, n, &enc, &enclen) != SASL_OK) {
            dyn_fail(l->d, "server encode failed");
            return -1;
        }
        for (unsigned k = 0; k < enclen; k += slow ? 1 : enclen)
            if (dyn_write(l->d, enc + k, slow ? 1 : enclen) < 0)
                return -1;
        data += n;
        len -= n;
    }
    return 0;
}

/* n decoded bytes from the client (5 s per read at most). */
static char *layered_read(struct layered *l, size_t n)
{
    while (l->plain.len < n) {
        char buf[8192];
        ssize_t r = dyn_read_raw(l->d, buf, sizeof buf);
        if (r <= 0) {
            dyn_fail(l->d, "client went away after %zu of %zu bytes", l->plain.len, n);
            return NULL;
        }
        const char *out;
        unsigned outlen;
        if (sasl_decode(l->conn, buf, (unsigned)r, &out, &outlen) != SASL_OK) {
            dyn_fail(l->d, "server decode failed: %s", sasl_errdetail(l->conn));
            return NULL;
        }
        imc_buf_append(&l->plain, out, outlen);
    }
    char *s = malloc(n + 1);
    memcpy(s, l->plain.data, n);
    s[n] = '\0';
    imc_buf_consume(&l->plain, n);
    return s;
}

static int layered_expect(struct layered *l, const char *want)
{
    char *got = layered_read(l, strlen(want));
    if (!got)
        return -1;
    int ok = strcmp(got, want) == 0;
    if (!ok)
        dyn_fail(l->d, "layer: got \"%s\", want \"%s\"", got, want);
    free(got);
    return ok ? 0 : -1;
}

enum digest_after { AFTER_LAYERED, AFTER_INJECTED, AFTER_PLAIN };

struct digest_script {
    const char *user;
    unsigned server_max_ssf;
    enum digest_after after;
    int slow;            /* encoded replies one byte per write */
    size_t append_size;  /* an APPEND literal of this size after NOOP */
    char *append_data;
    int server_ssf;      /* what the server negotiated */
    int cancelled;       /* the client sent "*" */
};

/* The client may open with an initial response: libsasl2's DIGEST-MD5
 * remembers the last server's nonce and tries RFC 2831 subsequent
 * authentication, which our server may accept or answer with a fresh
 * challenge. */
static int digest_exchange(struct dynserver *d, sasl_conn_t *s)
{
    char *cmd = dyn_line(d);
    const char *head = "2 AUTHENTICATE DIGEST-MD5";
    if (!cmd || strncmp(cmd, head, strlen(head)) != 0 ||
        (cmd[strlen(head)] != '\0' && cmd[strlen(head)] != ' ')) {
        dyn_fail(d, "unexpected \"%s\"", cmd ? cmd : "");
        free(cmd);
        return -1;
    }
    char *ir = NULL;
    size_t irlen = 0;
    if (cmd[strlen(head)] == ' ')
        ir = unb64(cmd + strlen(head) + 1, &irlen);
    free(cmd);
    const char *out;
    unsigned outlen;
    int r = sasl_server_start(s, "DIGEST-MD5", ir, (unsigned)irlen, &out, &outlen);
    free(ir);
    while (r == SASL_CONTINUE) {
        char *enc = b64(out, outlen);
        char *line = malloc(strlen(enc) + 8);
        sprintf(line, "+ %s\r\n", enc);
        dyn_send(d, line);
        free(line);
        free(enc);
        char *resp = dyn_line(d);
        if (!resp)
            return -1;
        if (strcmp(resp, "*") == 0) {
            free(resp);
            dyn_send(d, "2 BAD cancelled\r\n");
            return 1;
        }
        size_t len = 0;
        char *dec = resp[0] ? unb64(resp, &len) : strdup("");
        free(resp);
        if (!dec) {
            dyn_fail(d, "response is not base64");
            return -1;
        }
        r = sasl_server_step(s, dec, (unsigned)len, &out, &outlen);
        free(dec);
    }
    if (r != SASL_OK)
        dyn_fail(d, "server side of DIGEST-MD5: %s", sasl_errdetail(s));
    return r == SASL_OK ? 0 : -1;
}

static void digest_server(struct dynserver *d)
{
    struct digest_script *sc = d->arg;
    dyn_send(d, "* OK hi\r\n");
    if (dyn_expect(d, "1 CAPABILITY") < 0)
        return;
    dyn_send(d, "* CAPABILITY IMAP4rev1 SASL-IR AUTH=DIGEST-MD5\r\n1 OK done\r\n");
    sasl_conn_t *s = server_conn(sc->server_max_ssf);
    int r = s ? digest_exchange(d, s) : -1;
    if (r != 0) {
        sc->cancelled = r > 0;
        sasl_dispose(&s);
        return;
    }
    const void *p;
    sasl_getprop(s, SASL_SSF, &p);
    sc->server_ssf = (int)*(const sasl_ssf_t *)p;
    struct layered l = { d, s, { NULL, 0, 0, 0 } };
    const char *ok = "2 OK welcome\r\n";
    const char *more = "* 1 EXISTS\r\n";
    if (sc->after == AFTER_INJECTED || sc->after == AFTER_PLAIN) {
        /* One write: the OK and plaintext behind it. */
        char both[64];
        snprintf(both, sizeof both, "%s%s", ok, more);
        dyn_send(d, both);
    } else {
        /* One write: the plain OK and the first encoded packet behind it. */
        const char *enc;
        unsigned enclen;
        sasl_encode(s, more, (unsigned)strlen(more), &enc, &enclen);
        char *both = malloc(strlen(ok) + enclen);
        memcpy(both, ok, strlen(ok));
        memcpy(both + strlen(ok), enc, enclen);
        dyn_write(d, both, strlen(ok) + enclen);
        free(both);
    }
    if (sc->after == AFTER_INJECTED) {
        sasl_dispose(&s);
        return;
    }
    if (sc->after == AFTER_PLAIN) {
        if (dyn_expect(d, "3 NOOP") == 0)
            dyn_send(d, "3 OK noop\r\n");
        sasl_dispose(&s);
        return;
    }
    if (layered_expect(&l, "3 NOOP\r\n") == 0) {
        const char *reply = "* 2 EXISTS\r\n3 OK noop\r\n";
        layered_send(&l, reply, strlen(reply), sc->slow);
    }
    if (sc->append_size && !d->error[0]) {
        char head[64];
        snprintf(head, sizeof head, "4 APPEND INBOX {%zu}\r\n", sc->append_size);
        if (layered_expect(&l, head) == 0) {
            layered_send(&l, "+ go\r\n", 6, 0);
            char *body = layered_read(&l, sc->append_size);
            if (body && memcmp(body, sc->append_data, sc->append_size) != 0)
                dyn_fail(d, "APPEND data differs");
            free(body);
            if (!d->error[0] && layered_expect(&l, "\r\n") == 0)
                layered_send(&l, "4 OK appended\r\n", 15, 0);
        }
    }
    imc_buf_free(&l.plain);
    sasl_dispose(&s);
}

static struct sasl_client digest_md5 = { "DIGEST-MD5", 128 };
static struct sasl_client *only_digest[] = { &digest_md5, NULL };

/* A script for a user of its own, no slow replies, no APPEND. */
static struct digest_script digest_script_for(unsigned server_max_ssf, enum digest_after after)
{
    struct digest_script sc = { fresh_user(), server_max_ssf, after, 0, 0, NULL, -1, 0 };
    return sc;
}

/* Empty the log, start digest_server playing sc and connect to it as
 * sc's user with the password alicepw, from s (which must outlive the
 * connection); NULL (reported) when the server side or the connection
 * could not be set up.  *d is the server when the connection is made. */
static struct imclient *digest_connect(struct dynserver **d, struct digest_script *sc,
                                       struct secrets *s)
{
    reset();
    if (server_side() != 0) {
        check_fail(__FILE__, __LINE__, "libsasl2's server side could not be set up");
        return NULL;
    }
    *s = alice();
    s->authname = sc->user;
    *d = dyn_start(digest_server, sc);
    return open_conn((*d)->port, s);
}

#define CHECK_DIGEST_AUTH(c, protallowed, want) \
    CHECK_AUTH(c, imclient_authenticate(c, only_digest, "imap", NULL, protallowed), want)

static void digest_layer_run(int protallowed, unsigned server_max, int slow, size_t append,
                             int want_ssf_min, int want_ssf_max)
{
    struct digest_script sc = digest_script_for(server_max, AFTER_LAYERED);
    sc.slow = slow;
    sc.append_size = append;
    if (append) {
        sc.append_data = malloc(append);
        for (size_t i = 0; i < append; i++)
            sc.append_data[i] = (char)('a' + i % 26);
        for (size_t i = 78; i < append; i += 80) {
            sc.append_data[i] = '\r';
            sc.append_data[i + 1 < append ? i + 1 : i] = '\n';
        }
    }
    struct secrets s;
    struct dynserver *d;
    struct imclient *c = digest_connect(&d, &sc, &s);
    CHECK(c != NULL);
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, record_ssf, "exists", NULL);
    CHECK_DIGEST_AUTH(c, protallowed, 0);
    int ssf = imclient_getssf(c);
    CHECK(ssf >= want_ssf_min && ssf <= want_ssf_max);
    CHECK_INT(ssf, sc.server_ssf);
    /* The EXISTS that came in the OK's read was decoded and delivered, with
     * the layer already reported. */
    char want[160];
    snprintf(want, sizeof want, "u|OK|-1|hi\nexists@%d|EXISTS|1|\n", ssf);
    CHECK_STR(log_text(), want);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    snprintf(want, sizeof want,
             "u|OK|-1|hi\nexists@%d|EXISTS|1|\nexists@%d|EXISTS|2|\nnoop|OK|-1|noop\n", ssf,
             ssf);
    CHECK_STR(log_text(), want);
    if (append) {
        char *msg = malloc(append + 1);
        memcpy(msg, sc.append_data, append);
        msg[append] = '\0';
        imclient_send(c, finished, "append", "APPEND INBOX %s", msg);
        run_until(c, 2);
        free(msg);
        CHECK(strstr(log_text(), "append|OK|-1|appended\n") != NULL);
    }
    imclient_close(c);
    DYN_OK(d);
    free(sc.append_data);
}

static void digest_integrity_layer(void)
{
    digest_layer_run(SASL_PROT_INTEGRITY, 256, 0, 0, 1, 1);
}

static void digest_privacy_layer(void)
{
    digest_layer_run(SASL_PROT_PRIVACY, 256, 0, 0, 2, 256);
}

static void digest_any_takes_the_strongest(void)
{
    digest_layer_run(SASL_PROT_ANY, 256, 0, 0, 2, 256);
}

static void digest_layer_byte_at_a_time(void)
{
    digest_layer_run(SASL_PROT_INTEGRITY, 256, 1, 0, 1, 1);
}

/* More than one maximum packet: the layer splits and the server joins. */
static void digest_layer_large_append(void)
{
    digest_layer_run(SASL_PROT_INTEGRITY, 256, 0, 300000, 1, 1);
}

/* #12 with a layer: plaintext behind the OK is an injection. */
static void digest_layer_injection_closes(void)
{
    struct digest_script sc = digest_script_for(256, AFTER_INJECTED);
    struct secrets s;
    struct dynserver *d;
    struct imclient *c = digest_connect(&d, &sc, &s);
    CHECK(c != NULL);
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, record, "exists", NULL);
    CHECK_DIGEST_AUTH(c, SASL_PROT_INTEGRITY, 1);
    CHECK(!imclient_isopen(c));
    CHECK_ERROR_HAS(c, "did not come through the security layer");
    CHECK_STR(log_text(), "u|OK|-1|hi\n");
    imclient_close(c);
    DYN_OK(d);
}

/* With SASL_PROT_NONE, DIGEST-MD5 negotiates no layer: SSF 0, and what
 * follows the OK is plain. */
static void digest_without_layer(void)
{
    struct digest_script sc = digest_script_for(256, AFTER_PLAIN);
    struct secrets s;
    struct dynserver *d;
    struct imclient *c = digest_connect(&d, &sc, &s);
    CHECK(c != NULL);
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, record, "exists", NULL);
    CHECK_DIGEST_AUTH(c, SASL_PROT_NONE, 0);
    CHECK_INT(imclient_getssf(c), 0);
    CHECK_INT(sc.server_ssf, 0);
    imclient_send(c, finished, "noop", "NOOP");
    run_until(c, 1);
    CHECK_STR(log_text(), "u|OK|-1|hi\nexists|EXISTS|1|\nnoop|OK|-1|noop\n");
    imclient_close(c);
    DYN_OK(d);
}

/* The server can give no layer but only integrity is allowed: DIGEST-MD5
 * fails on our side, "*" goes out, result 1. */
static void digest_layer_unavailable(void)
{
    struct digest_script sc = digest_script_for(0, AFTER_LAYERED);
    struct secrets s;
    struct dynserver *d;
    struct imclient *c = digest_connect(&d, &sc, &s);
    CHECK(c != NULL);
    CHECK_DIGEST_AUTH(c, SASL_PROT_INTEGRITY, 1);
    CHECK(strstr(imclient_error(c), "DIGEST-MD5: ") == imclient_error(c));
    CHECK_INT(imclient_getssf(c), -1);
    CHECK(imclient_isopen(c));
    imclient_close(c);
    DYN_OK(d);
    CHECK(sc.cancelled);
}

/* libsasl2 reauthenticates DIGEST-MD5 with the layer of the previous
 * session even when the new properties forbid it (here: integrity, then
 * none allowed).  The library checks the SSF it got against protallowed
 * and closes rather than talk through a layer the caller refused. */
static void digest_reauth_layer_is_checked(void)
{
    reset();
    CHECK(server_side() == 0);
    struct secrets s = alice();
    s.authname = fresh_user();
    struct digest_script first = { s.authname, 256, AFTER_PLAIN, 0, 0, NULL, -1, 0 };
    struct digest_script second = { s.authname, 256, AFTER_INJECTED, 0, 0, NULL, -1, 0 };
    struct sasl_client *mechs[] = { &digest_md5, NULL };

    struct dynserver *d = dyn_start(digest_server, &first);
    struct imclient *c = open_conn(d->port, &s);
    CHECK(c != NULL);
    first.after = AFTER_INJECTED;
    CHECK_AUTH(c, imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_INTEGRITY), 1);
    imclient_close(c);
    dyn_finish_quiet(d);

    d = dyn_start(digest_server, &second);
    c = open_conn(d->port, &s);
    CHECK(c != NULL);
    int r = imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_NONE);
    if (getenv("IMC_TEST_DEBUG"))
        fprintf(stderr, "reauth: %d %s\n", r, imclient_error(c));
    if (r == 0) {
        /* A libsasl2 that honours the new properties: no layer at all. */
        CHECK_INT(imclient_getssf(c), 0);
    } else {
        CHECK_INT(r, 1);
        CHECK_ERROR_HAS(c, "DIGEST-MD5 negotiated a security layer of strength 1, "
                           "which was not allowed");
        CHECK(!imclient_isopen(c));
    }
    imclient_close(c);
    dyn_finish_quiet(d);
}

/* ---- the layer as a transport, over a mock lower layer ------------------- */

struct mock {
    struct imc_transport base;
    struct imc_buf written;
    size_t accept;        /* bytes taken per write */
    int eagain_every;     /* every n-th write call says EAGAIN (0: never) */
    int calls;
    const char *input;    /* what reads return, piece by piece */
    size_t inlen, inpos, piece;
    int destroyed;
};

static ssize_t mock_read(struct imc_transport *t, char *buf, size_t len)
{
    struct mock *m = (struct mock *)t;
    if (++m->calls % 2 == 0 && m->inpos < m->inlen) {
        errno = EAGAIN;
        return -1;
    }
    if (m->inpos == m->inlen) {
        errno = EAGAIN;
        return -1;
    }
    size_t n = m->inlen - m->inpos;
    if (n > m->piece)
        n = m->piece;
    if (n > len)
        n = len;
    memcpy(buf, m->input + m->inpos, n);
    m->inpos += n;
    return (ssize_t)n;
}

static ssize_t mock_write(struct imc_transport *t, const char *buf, size_t len)
{
    struct mock *m = (struct mock *)t;
    if (m->eagain_every && ++m->calls % m->eagain_every == 0) {
        errno = EAGAIN;
        return -1;
    }
    size_t n = len < m->accept ? len : m->accept;
    imc_buf_append(&m->written, buf, n);
    return (ssize_t)n;
}

static void mock_destroy(struct imc_transport *t)
{
    ((struct mock *)t)->destroyed = 1;
}

static const struct imc_transport_ops mock_ops = {
    "mock", mock_read, mock_write, NULL, NULL, mock_destroy,
};

/* Plaintext counts as written only when all its encoded bytes are below:
 * after every successful write, what the mock holds decodes to exactly
 * the bytes reported. */
static void layer_partial_writes(void)
{
    sasl_conn_t *cc, *sc;
    void *keep;
    CHECK(digest_pair(1, 1, &cc, &sc, &keep) == 0);
    struct mock m;
    memset(&m, 0, sizeof m);
    m.base.ops = &mock_ops;
    m.base.fd = -1;
    m.accept = 7;
    m.eagain_every = 3;
    char err[160];
    struct imc_transport *t = imc_sasl_layer_new(&m.base, cc, keep, err, sizeof err);
    CHECK(t != NULL);
    size_t total = 200000;
    char *plain = malloc(total);
    for (size_t i = 0; i < total; i++)
        plain[i] = (char)(i * 7 + 3);
    size_t sent = 0, decoded_from = 0;
    struct imc_buf decoded;
    imc_buf_init(&decoded);
    int writes = 0, eagains = 0;
    for (int guard = 0; sent < total && guard < 1000000; guard++) {
        ssize_t n = imc_transport_write(t, plain + sent, total - sent);
        if (n < 0) {
            CHECK_INT(errno, EAGAIN);
            eagains++;
            CHECK(imc_transport_wants(t) & IMC_WANT_WRITE);
            continue;
        }
        CHECK(n > 0);
        CHECK((size_t)n <= 65536);
        sent += (size_t)n;
        writes++;
        const char *out;
        unsigned outlen;
        CHECK(sasl_decode(sc, m.written.data + decoded_from,
                          (unsigned)(m.written.len - decoded_from), &out, &outlen) == SASL_OK);
        decoded_from = m.written.len;
        imc_buf_append(&decoded, out, outlen);
        CHECK_INT(decoded.len, sent);
        CHECK_INT(imc_transport_wants(t) & IMC_WANT_WRITE, 0);
    }
    CHECK_INT(sent, total);
    CHECK(writes >= 4 && eagains > 0);
    CHECK(memcmp(decoded.data, plain, total) == 0);
    imc_transport_destroy(t);
    CHECK(m.destroyed);
    sasl_dispose(&sc);
    imc_buf_free(&decoded);
    imc_buf_free(&m.written);
    free(plain);
}

/* Encoded input split into 3-byte reads with EAGAIN between them comes
 * out whole; buffered() counts what is decoded but unread. */
static void layer_split_reads(void)
{
    sasl_conn_t *cc, *sc;
    void *keep;
    CHECK(digest_pair(1, 1, &cc, &sc, &keep) == 0);
    const char *msgs[] = { "* 1 EXISTS\r\n", "* 2 EXPUNGE\r\n", "3 OK done\r\n" };
    struct imc_buf enc;
    imc_buf_init(&enc);
    for (int i = 0; i < 3; i++) {
        const char *out;
        unsigned outlen;
        CHECK(sasl_encode(sc, msgs[i], (unsigned)strlen(msgs[i]), &out, &outlen) == SASL_OK);
        imc_buf_append(&enc, out, outlen);
    }
    struct mock m;
    memset(&m, 0, sizeof m);
    m.base.ops = &mock_ops;
    m.base.fd = -1;
    m.input = enc.data;
    m.inlen = enc.len;
    m.piece = 3;
    char err[160];
    struct imc_transport *t = imc_sasl_layer_new(&m.base, cc, keep, err, sizeof err);
    CHECK(t != NULL);
    struct imc_buf got;
    imc_buf_init(&got);
    for (int guard = 0; guard < 10000 && m.inpos < m.inlen; guard++) {
        char buf[5];
        ssize_t n = imc_transport_read(t, buf, sizeof buf);
        if (n < 0) {
            CHECK_INT(errno, EAGAIN);
            continue;
        }
        CHECK(n > 0);
        imc_buf_append(&got, buf, (size_t)n);
    }
    while (imc_transport_buffered(t) > 0) {
        char buf[5];
        ssize_t n = imc_transport_read(t, buf, sizeof buf);
        CHECK(n > 0);
        imc_buf_append(&got, buf, (size_t)n);
    }
    CHECK_BYTES(got.data, got.len, "* 1 EXISTS\r\n* 2 EXPUNGE\r\n3 OK done\r\n");
    imc_transport_destroy(t);
    sasl_dispose(&sc);
    imc_buf_free(&got);
    imc_buf_free(&enc);
}

static void layer_unread_and_garbage(void)
{
    sasl_conn_t *cc, *sc;
    void *keep;
    CHECK(digest_pair(1, 1, &cc, &sc, &keep) == 0);
    struct mock m;
    memset(&m, 0, sizeof m);
    m.base.ops = &mock_ops;
    m.base.fd = -1;
    char err[160];
    struct imc_transport *t = imc_sasl_layer_new(&m.base, cc, keep, err, sizeof err);
    CHECK(t != NULL);
    const char *out;
    unsigned outlen;
    CHECK(sasl_encode(sc, "* 1 EXISTS\r\n", 12, &out, &outlen) == SASL_OK);
    CHECK_INT(imc_sasl_layer_unread(t, out, outlen), 0);
    CHECK_INT(imc_sasl_layer_held(t), 12);
    CHECK_INT(imc_transport_buffered(t), 12);
    char buf[64];
    CHECK_INT(imc_transport_read(t, buf, sizeof buf), 12);
    CHECK_MEM(buf, 12, "* 1 EXISTS\r\n", 12);
    CHECK_INT(imc_transport_buffered(t), 0);
    /* Plaintext where a packet should be: its "length" is absurd. */
    CHECK_INT(imc_sasl_layer_unread(t, "* 2 EXISTS\r\n", 12), -1);
    CHECK(strstr(t->error, "SASL security layer: cannot decode") == t->error);
    imc_transport_destroy(t);
    sasl_dispose(&sc);
}

/* A rejected packet is reported by the code of the call that failed and
 * by what the plugin said of it, never by a message libsasl2 kept from the
 * authentication exchange (one is planted here to look like it). */
static void layer_rejected_packet_reason(void)
{
    sasl_conn_t *cc, *sc;
    void *keep;
    CHECK(digest_pair(1, 1, &cc, &sc, &keep) == 0);
    struct mock m;
    memset(&m, 0, sizeof m);
    m.base.ops = &mock_ops;
    m.base.fd = -1;
    char err[160];
    struct imc_transport *t = imc_sasl_layer_new(&m.base, cc, keep, err, sizeof err);
    CHECK(t != NULL);
    /* Plaintext where a packet should be: the plugin fails it silently. */
    sasl_seterror(cc, SASL_NOLOG, "stale words from the exchange");
    CHECK_INT(imc_sasl_layer_unread(t, "* 2 EXISTS\r\n", 12), -1);
    CHECK_STR(t->error, "SASL security layer: cannot decode data from the server: "
                        "generic failure");
    imc_transport_destroy(t);
    sasl_dispose(&sc);

    /* A packet whose MAC does not match: the plugin's own words stay. */
    CHECK(digest_pair(1, 1, &cc, &sc, &keep) == 0);
    t = imc_sasl_layer_new(&m.base, cc, keep, err, sizeof err);
    CHECK(t != NULL);
    sasl_seterror(cc, SASL_NOLOG, "stale words from the exchange");
    const char *out;
    unsigned outlen;
    CHECK(sasl_encode(sc, "* 1 EXISTS\r\n", 12, &out, &outlen) == SASL_OK);
    char bad[64];
    CHECK(outlen <= sizeof bad);
    memcpy(bad, out, outlen);
    bad[6] ^= 0x20; /* inside the payload, before the MAC */
    CHECK_INT(imc_sasl_layer_unread(t, bad, outlen), -1);
    CHECK(strstr(t->error, "cannot decode data from the server: generic failure: ") != NULL);
    CHECK(strstr(t->error, "MAC") != NULL);
    CHECK(!strstr(t->error, "stale words"));
    imc_transport_destroy(t);
    sasl_dispose(&sc);
}

/* ---- the session and façade hooks authentication relies on ----------------- */

static int refuse_with_reason(void *rock, const char *text, size_t len)
{
    struct imc_session *s = rock;
    (void)text;
    (void)len;
    imc_session_explain(s, "my reason");
    return -1;
}

/* core/session.c, dispatch_continuation(): a hook that sets s->error and
 * returns -1, as session.h documents, loses its reason: the session is
 * failed with imc_session_fail(s, "%s", s->error), which formats the
 * buffer into itself (overlapping vsnprintf; glibc leaves ""). */
static void continuation_hook_reason_kept(void)
{
    struct imc_session s;
    imc_session_init(&s, NULL);
    imc_session_set_continuation(&s, refuse_with_reason, &s);
    CHECK_INT(imc_session_sendf(&s, NULL, NULL, "AUTHENTICATE X"), 0);
    size_t len;
    imc_session_output(&s, &len);
    imc_session_written(&s, len);
    imc_session_feed(&s, "+ x\r\n", 5);
    CHECK(s.failed);
    CHECK_STR(s.error, "my reason");
    imc_session_free(&s);
}

/* imclient.c, imc_run_until_paused(): documented to return 0 once the
 * paused reply has been delivered, it returns -1 when the reply arrives
 * in a read, because read_once() ends with imc_flush(), which returns -1
 * whenever the session is paused. */
static void run_until_paused_succeeds(void)
{
    reset();
    struct fakeserver *fs = fake_start(FAKE(
        F_SEND("* OK hi\r\n"), F_EXPECT("1 NOOP\r\n"), F_SEND("1 OK done\r\n* 1 EXISTS\r\n")));
    struct imclient *c = open_conn(fake_port(fs), NULL);
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
        TEST(next_mechanism_after_no),
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
        TEST(decode_bound_checked_first),
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
        TEST(digest_integrity_layer),
        TEST(digest_privacy_layer),
        TEST(digest_any_takes_the_strongest),
        TEST(digest_layer_byte_at_a_time),
        TEST(digest_layer_large_append),
        TEST(digest_layer_injection_closes),
        TEST(digest_without_layer),
        TEST(digest_layer_unavailable),
        TEST(digest_reauth_layer_is_checked),
        TEST(layer_partial_writes),
        TEST(layer_split_reads),
        TEST(layer_unread_and_garbage),
        TEST(layer_rejected_packet_reason),
        TEST(continuation_hook_reason_kept),
        TEST(run_until_paused_succeeds),
    };
    int r = check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
    if (sasldb_path[0])
        unlink(sasldb_path);
    return r;
}
