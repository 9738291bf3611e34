/*
 * The pieces of imclient_authenticate(), shared by the files of src/auth/.
 *
 *   sasl_init.c       libsasl2's one process-wide initialisation
 *   plaintext.c       whether a mechanism that exposes the password may run
 *   secrets.c         the per-connection SASL callbacks: names and
 *                     passwords come from the application's secret proc only
 *   capability.c      a fresh CAPABILITY: which AUTH= mechanisms, SASL-IR
 *   base64.c          bounded, strict decoding of challenges; encoding
 *   exchange.c        one AUTHENTICATE command with one mechanism
 *   attempt.c         one mechanism: its sasl_conn_t, security properties,
 *                     the exchange, and what follows the tagged reply
 *   switch.c          after the tagged reply: plain text again, or the
 *                     security layer pushed on the transport
 *   loop.c            sending and waiting, as the façade does
 *   authenticate.c    the public entry points; trying mechanisms in turn
 */
#ifndef IMC_AUTH_INTERNAL_H
#define IMC_AUTH_INTERNAL_H

#include <sasl/sasl.h>
#include <stddef.h>

#include "imclient_internal.h"

/* sasl_callback_t keeps every callback as int (*)(void); going through
 * void (*)(void) says the cast is deliberate (-Wcast-function-type). */
#define IMC_SASL_PROC(f) ((int (*)(void))(void (*)(void))(f))

/* ---- sasl_init.c --------------------------------------------------------- */

/* Initialise libsasl2's client side once per process.  Returns 0, or -1
 * with the reason in err. */
int imc_sasl_init(char *err, size_t errlen);

/* ---- secrets.c ------------------------------------------------------------ */

struct imc_secrets {
    struct imclient *c;
    const char *mech;
    const char *user;      /* imclient_authenticate()'s user argument */
    int user_is_authzid;   /* the mechanism proves who we are by itself */
    sasl_secret_t *password; /* our copy, wiped when the attempt ends */
    char loginname[256];   /* the current user's login name, when needed */
    char missing[64];      /* what the application did not provide */
    sasl_callback_t list[6];
};

/*
 * The callbacks of one attempt with mechanism mech; s->list goes to
 * sasl_client_new().  libsasl2 keeps pointers to the list, so s lives on
 * the heap as long as the sasl_conn_t: with a security layer that is the
 * life of the connection.  imc_secrets_retire() ends the attempt: the
 * password is wiped and the callbacks answer nothing any more (the
 * application's strings are valid only during imclient_authenticate()).
 * free() s after sasl_dispose().
 */
struct imc_secrets *imc_secrets_new(struct imclient *c, const char *mech, const char *user);
void imc_secrets_retire(struct imc_secrets *s);
/*
 * Ask for the password before the mechanism starts, when it will need
 * one: LOGIN, for one, sends the name before it asks for the password,
 * and without a password nothing at all should go to the server.
 * Returns 0, or -1 with s->missing set.
 */
int imc_secrets_prepare(struct imc_secrets *s);

/* ---- plaintext.c ---------------------------------------------------------- */

/* Nonzero when mechanisms that expose the password may run here: TLS is
 * active, or IMCLIENT_CONN_ALLOWPLAINTEXT is set. */
int imc_auth_plaintext_allowed(const struct imclient *c);
/* Nonzero when the installed plugin for mech sends the password itself. */
int imc_auth_exposes_password(const char *mech);

/* ---- capability.c --------------------------------------------------------- */

struct imc_caps {
    char *text;  /* the CAPABILITY replies' texts, space-separated */
    size_t len;
};

/* Send CAPABILITY and collect the answer.  Returns 0, or -1 with the reason
 * in c->session.error (refused, or the connection failed). */
int imc_caps_fetch(struct imclient *c, struct imc_caps *caps);
/* Nonzero if the capability atom is listed (case-insensitive). */
int imc_caps_has(const struct imc_caps *caps, const char *atom);
/* Nonzero if AUTH=mech is listed. */
int imc_caps_has_auth(const struct imc_caps *caps, const char *mech);
void imc_caps_free(struct imc_caps *caps);

/* ---- base64.c ------------------------------------------------------------- */

/* A challenge larger than this, decoded, is refused. */
#define IMC_AUTH_MAX_CHALLENGE (64 * 1024)

enum imc_b64_result { IMC_B64_OK, IMC_B64_MALFORMED, IMC_B64_TOO_LARGE };

/* Decode len bytes of base64 (no whitespace, padded) into a new buffer of
 * at most max bytes.  *out is NULL unless the result is IMC_B64_OK. */
enum imc_b64_result imc_b64_decode(const char *text, size_t len, size_t max, char **out,
                                   unsigned *outlen);
/* Encode into a new NUL-terminated buffer. */
char *imc_b64_encode(const char *data, unsigned len, size_t *outlen);

/* ---- exchange.c ----------------------------------------------------------- */

enum imc_exchange_result {
    IMC_EXCHANGE_OK,          /* server said OK after a complete exchange */
    IMC_EXCHANGE_LOCAL,       /* failed here before or during the exchange */
    IMC_EXCHANGE_REFUSED,     /* server said NO or BAD */
    IMC_EXCHANGE_PREMATURE,   /* server said OK before the exchange was done */
    IMC_EXCHANGE_HOSTILE,     /* server broke the protocol; we cancelled */
    IMC_EXCHANGE_CLOSED,      /* the connection is gone */
};

struct imc_exchange_params {
    struct imclient *c;
    sasl_conn_t *conn;
    const char *mech;
    int sasl_ir;              /* the server takes an initial response */
    struct imc_secrets *secrets;
};

/*
 * Run one AUTHENTICATE with the mechanism.  On return the session is paused
 * right after the tagged reply (unless the result is LOCAL before anything
 * was sent, or CLOSED); the caller decides what the bytes after it are.
 * why gets a sentence for imclient_error().
 */
enum imc_exchange_result imc_exchange_run(const struct imc_exchange_params *p, char *why,
                                          size_t whylen);

/* ---- attempt.c ------------------------------------------------------------ */

struct imc_attempt {
    const char *mech;
    const char *service;
    const char *user;
    int protallowed;   /* SASL_PROT_* */
    int sasl_ir;
};

/* Try one mechanism.  Afterwards the session takes input again, through
 * the security layer if one was negotiated, and c->ssf is set on success. */
enum imc_exchange_result imc_attempt_run(struct imclient *c, const struct imc_attempt *a,
                                         char *why, size_t whylen);

/* ---- switch.c ------------------------------------------------------------- */

/* The session paused after a tagged reply with no layer to start: feed it
 * the bytes that followed in the same read and take input again. */
void imc_switch_plain(struct imclient *c);

/*
 * Push the security layer of conn on the transport, pass the bytes that
 * followed the OK through it, and take input again.  The layer takes conn
 * and keep (freed after conn is disposed) in every case.  Returns 0, or -1
 * when the connection had to be closed (reason in c->session.error).
 */
int imc_switch_layer(struct imclient *c, sasl_conn_t *conn, void *keep);

/* ---- loop.c --------------------------------------------------------------- */

/* Commands go out through imc_send() (imclient_internal.h). */

/* Pause the session after the reply to the command just sent and run
 * events until it arrived.  0, or -1 if the connection is gone (the
 * command's finish callback has run either way). */
int imc_auth_wait_paused(struct imclient *c);

#endif
