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
 *   authenticate.c    the public entry points; the flow that tries
 *                     mechanisms in turn as replies arrive
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

/* The application's entry for untagged CAPABILITY, kept aside while ours is in. */
struct imc_saved_entry {
    int present;
    int flags;
    imclient_proc_t *proc;
    void *rock;
};

/* A CAPABILITY in flight; its callbacks point here. */
struct imc_offer_fetch {
    struct imclient *owner;
    struct imc_caps caps; /* a copy of what the session learnt from the reply */
    struct imc_saved_entry saved;
    char status[8];  /* keyword of the tagged reply */
    char text[160];  /* its text, for the error message */
};

/* Send CAPABILITY, the session to pause after its reply: 0, or -1 with
 * the reason in imclient_error().  imc_offer_end() once it has paused (or
 * the connection is gone): 0 with f->caps filled, or -1 with the reason
 * (refused, or the connection failed). */
int imc_offer_begin(struct imclient *c, struct imc_offer_fetch *f);
int imc_offer_end(struct imclient *c, struct imc_offer_fetch *f);
/* Nonzero if AUTH=mech is listed (case-insensitive). */
int imc_offer_has_auth(const struct imc_caps *caps, const char *mech);

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

/* One AUTHENTICATE in progress; the continuation hook and the command's
 * finish callback point here, so it stays put until imc_exchange_end(). */
struct imc_exchange {
    struct imc_exchange_params p;
    char *initial;          /* initial response held for the first "+" */
    unsigned initiallen;
    int initial_pending;
    int done_with_initial;  /* the mechanism finished at sasl_client_start() */
    int client_done;        /* the mechanism finished and its last word is queued */
    int cancelled;          /* "*" is queued */
    int hostile;            /* cancelled because the server broke the protocol */
    int rounds;
    int sent;               /* the command went into the queue */
    int finished;           /* the tagged reply (or EOF) arrived */
    char status[8];
    char text[200];
    char why[200];
};

/*
 * Start one AUTHENTICATE with the mechanism: 0 when the command is queued
 * and the session will pause right after its tagged reply, then call
 * imc_exchange_end().  -1 when it ended at once (*r and why say how).
 */
int imc_exchange_begin(struct imc_exchange *x, const struct imc_exchange_params *p,
                       enum imc_exchange_result *r, char *why, size_t whylen);
/* The tagged reply arrived (or the connection is gone): the verdict, with
 * a sentence for imclient_error() in why.  The session stays paused after
 * the reply for the caller to decide what the bytes after it are. */
enum imc_exchange_result imc_exchange_end(struct imc_exchange *x, char *why, size_t whylen);

/* ---- attempt.c ------------------------------------------------------------ */

struct imc_attempt {
    const char *mech;
    const char *service;
    const char *user;
    int protallowed;   /* SASL_PROT_* */
    int sasl_ir;
};

/* What one mechanism's attempt holds while its exchange runs. */
struct imc_attempt_state {
    struct imc_secrets *secrets;
    sasl_conn_t *conn;
    struct imc_exchange x;
};

/*
 * Try one mechanism: 0 when its AUTHENTICATE is under way (call
 * imc_attempt_end() once the session has paused after the reply or the
 * connection is gone); -1 when it ended at once (refused here: *r, why).
 * After imc_attempt_end() the session takes input again, through the
 * security layer if one was negotiated, and c->ssf is set on success.
 */
int imc_attempt_begin(struct imclient *c, const struct imc_attempt *a,
                      struct imc_attempt_state *st, enum imc_exchange_result *r, char *why,
                      size_t whylen);
enum imc_exchange_result imc_attempt_end(struct imclient *c, const struct imc_attempt *a,
                                         struct imc_attempt_state *st, char *why,
                                         size_t whylen);

/* ---- switch.c ------------------------------------------------------------- */

/* The session paused after a tagged reply with no layer to start: feed it
 * the bytes that followed in the same read and take input again. */
void imc_switch_plain(struct imclient *c);

/*
 * Push the security layer of conn on the transport, pass the bytes that
 * followed the OK through it, and take input again.  The layer takes conn
 * and keep (freed after conn is disposed) in every case.  Returns 0, or -1
 * when the connection had to be closed (reason in imclient_error()).
 */
int imc_switch_layer(struct imclient *c, sasl_conn_t *conn, void *keep);

#endif
