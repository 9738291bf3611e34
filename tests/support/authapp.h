/*
 * The application's side of the authentication tests: a secret procedure
 * that hands out what the test gives it and notes every question, a
 * connection set up for it, and checks of imclient_authenticate()'s
 * result and reason that say imclient_error() when they fail.
 */
#ifndef IMC_AUTHAPP_H
#define IMC_AUTHAPP_H

#include <string.h>

struct imclient;
struct imclient_reply;

/* Secrets the application hands out; NULL fields are "none". */
struct auth_secrets {
    const char *authname, *user, *password, *realm;
    char asked[128]; /* every question, in order: "P:PLAIN A:PLAIN U:PLAIN" */
};

/* A secret procedure (imclient_setsecretproc); rock is a struct
 * auth_secrets. */
const char *auth_secret(struct imclient *c, void *rock, int what, const char *mech);
/* alice / alicepw, nothing else. */
struct auth_secrets auth_alice(void);

/* Connect with open_logged() (replylog.h) and, when s is given, s's
 * secrets.  The scripts speak no TLS, so PLAIN and LOGIN are allowed here
 * to let their exchanges be tested (test_auth_plaintext.c tests the
 * default).  NULL if the connection fails. */
struct imclient *auth_open(const char *port, struct auth_secrets *s);

/* An untagged reply logged (replylog.h) with the SSF the connection
 * reports while it is delivered: rock "exists" logs as "exists@1". */
void record_ssf(struct imclient *c, void *rock, struct imclient_reply *r);

/* imclient_authenticate()'s result must be want; imclient_error() is
 * reported when it is not. */
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

#endif
