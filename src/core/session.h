/*
 * The protocol session: everything imclient does that is not I/O.
 *
 * Bytes from the server go in through imc_session_feed(), which frames them,
 * matches replies to commands and callbacks and runs the callbacks.
 * Commands go in through imc_session_send(); the bytes to write come out of
 * imc_session_output() and are acknowledged with imc_session_written().
 * No system call, TLS or SASL function is made here, so tests drive a
 * session with byte strings alone.
 */
#ifndef IMC_SESSION_H
#define IMC_SESSION_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/callbacks.h"
#include "core/capabilities.h"
#include "core/framer.h"
#include "core/idle.h"
#include "core/outqueue.h"
#include "core/reply.h"
#include "core/tagtable.h"
#include "cyrus/imclient.h"
#include "util/buf.h"

/* The longest reason a connection gives, with its NUL. */
#define IMC_REASON_MAX 256

/* Takes continuation requests while an exchange such as AUTHENTICATE owns
 * them; returns 0, or -1 to fail the session with the error it set. */
typedef int imc_continuation_fn(void *rock, const char *text, size_t len);

struct imc_session {
    struct imclient *owner; /* first argument of every callback */
    int flags;              /* IMCLIENT_CONN_* */
    int chosen;             /* flags the application set or cleared itself */
    struct imc_caps caps;   /* what the server said it can do */
    int caps_adding;        /* an untagged CAPABILITY came since the last tagged reply */
    struct imclient_limits limits;
    struct imc_framer framer;
    struct imc_tagtable pending;
    struct imc_callbacks callbacks;
    struct imc_outq out;
    uint64_t next_tag;
    uint64_t oldest;  /* no pending tag is smaller */
    long now;         /* the caller's clock, stamped on commands it queues */

    /* The response being received. */
    enum { IMC_RESP_NONE, IMC_RESP_COLLECT, IMC_RESP_SKIP } resp;
    struct imc_reply_head head;
    imclient_proc_t *resp_proc;
    void *resp_rock;
    imclient_literal_proc_t *resp_lit_proc; /* literals stream here */
    void *resp_lit_rock;
    int resp_is_data;        /* untagged, not a status, first line ending in "}" */
    struct imclient_literal lit;            /* the literal being streamed */
    struct imc_buf reply;

    imc_continuation_fn *cont;
    void *cont_rock;

    /* Input stops right after the tagged reply to pause_tag (STARTTLS,
     * AUTHENTICATE): what follows belongs to another layer, and leftover
     * counts the bytes of the last feed left unread. */
    uint64_t pause_tag;
    int paused;
    size_t leftover;
    int halted; /* the application closed the connection from a callback */

    struct imc_idle idle;

    int failed; /* no more input is accepted; pending commands got EOF */
    char error[IMC_REASON_MAX];
    int errcode; /* IMCLIENT_E*, with error */
    int dispatching; /* > 0 while a callback holds the reply buffer's text */
};

void imc_session_init(struct imc_session *s, struct imclient *owner);
void imc_session_free(struct imc_session *s);
void imc_session_setlimits(struct imc_session *s, const struct imclient_limits *l);

/* Returns 0, or -1 once the session has failed (see error).  A paused or
 * halted session stops short: imc_session_unread() then says how many of
 * the last feed's bytes, at its end, it did not consume. */
int imc_session_feed(struct imc_session *s, const char *data, size_t len);
size_t imc_session_unread(const struct imc_session *s);

/*
 * Reading a collected literal in place: while the bytes next due are a
 * literal that will be kept whole in the reply, the session offers the
 * spot in its reply buffer where they belong (at most *cap bytes; NULL when
 * they are not such bytes), so the reader reads straight there instead of
 * into its own buffer to be copied.  imc_session_feed_in_place() then
 * takes the n bytes just written at that spot; the rest of the response
 * comes through imc_session_feed() as usual.
 */
char *imc_session_read_spot(struct imc_session *s, size_t *cap);
int imc_session_feed_in_place(struct imc_session *s, size_t n);

/*
 * Queue a command.  Returns 0 when queued.  Returns -1 when the command was
 * refused (bad format or argument: finish already ran with "BAD") or the
 * session is closed (finish already ran with "EOF").
 */
int imc_session_send(struct imc_session *s, imclient_proc_t *finish, void *rock,
                     const char *fmt, va_list ap);

/* imc_session_send() with the arguments in place. */
int imc_session_sendf(struct imc_session *s, imclient_proc_t *finish, void *rock,
                      const char *fmt, ...);

/* Queue bytes outside any command: the answer to a continuation request
 * (an AUTHENTICATE response line).  secret: they are a credential, wiped
 * once written and hidden by imc_session_redact(). */
void imc_session_send_raw(struct imc_session *s, const char *data, size_t len, int secret);

const char *imc_session_output(const struct imc_session *s, size_t *len);
/* Read the next chunk of a literal source when its bytes are next (see
 * imc_outq_fill()); -1 with why filled when the source failed. */
int imc_session_fill(struct imc_session *s, imc_outq_pull_fn *pull, char *why,
                     size_t whylen);
/* Whether the next output comes from a literal source (imc_outq_from_source()). */
int imc_session_output_source(const struct imc_session *s, uint64_t *size);
/* For a trace of the next n bytes of output: nonzero when they hold a
 * secret, out then getting them with the secret runs replaced. */
int imc_session_redact(const struct imc_session *s, size_t n, struct imc_buf *out);
void imc_session_written(struct imc_session *s, size_t n);
/* Nonzero when bytes are queued, whether or not they may go yet. */
int imc_session_has_output(const struct imc_session *s);

/* Free the buffers that hold nothing now (the reply between responses, an
 * empty output queue, the framer between lines): an idle connection keeps
 * only its tables. */
void imc_session_trim(struct imc_session *s);

/* What the rest of the library reads and sets of a session, so that none
 * of it depends on the struct's fields. */
const char *imc_session_error(const struct imc_session *s);
int imc_session_errcode(const struct imc_session *s);
int imc_session_paused(const struct imc_session *s);
int imc_session_halted(const struct imc_session *s);
/* No callback runs any more (the application closed from one). */
void imc_session_halt(struct imc_session *s);
int imc_session_flags(const struct imc_session *s);
void imc_session_setflags(struct imc_session *s, int flags);
/* The application set or cleared these flags itself: for them its choice
 * wins over what the server advertises.  unchoose gives them back to the
 * server's list (TLS discards what was said before it). */
void imc_session_choose_flags(struct imc_session *s, int flags);
void imc_session_unchoose_flags(struct imc_session *s, int flags);
/* The server's capabilities as learnt (see core/capabilities.h); forget
 * when the list may have changed or been forged. */
const struct imc_caps *imc_session_caps(const struct imc_session *s);
void imc_session_forget_caps(struct imc_session *s);
/* IMC_LIT_* for the next command: the application's LITERAL+ flag if it
 * chose one, else LITERAL+/LITERAL- as advertised, and UTF-8 once enabled. */
unsigned imc_session_literal_caps(const struct imc_session *s);
const struct imclient_limits *imc_session_limits(const struct imc_session *s);
struct imc_callbacks *imc_session_callbacks(struct imc_session *s);
/* The caller's clock, stamped on commands queued from now on. */
void imc_session_settime(struct imc_session *s, long now_ms);
/* Nonzero while a literal of some command waits for "+". */
int imc_session_literal_waiting(const struct imc_session *s);
/* The continuation hook now in place (to put it back later). */
imc_continuation_fn *imc_session_continuation(const struct imc_session *s, void **rock);
/* The oldest command the server owes a reply: an accepted IDLE, which
 * waits for our DONE, is not one. */
const struct imc_command *imc_session_oldest_owed(struct imc_session *s);

/* Name the exchange a failure came from: the reason becomes "<what>
 * failed: <reason>" unless it already starts with what. */
void imc_session_blame(struct imc_session *s, const char *what);

/* Commands waiting for their tagged reply. */
size_t imc_session_inflight(const struct imc_session *s);
/* The oldest of them, or NULL. */
const struct imc_command *imc_session_oldest(struct imc_session *s);

/* Refuse a command without sending it: finish gets BAD "[CLIENTBUG] why". */
void imc_session_refuse(struct imc_session *s, imclient_proc_t *finish, void *rock,
                        const char *why);

/* Mark the session failed with a reason (first reason wins) and give every
 * pending command EOF.  Queued output is dropped. */
void imc_session_failc(struct imc_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Set the reason without failing; a failed session keeps its own.  Every
 * reason, however set, is made safe to print (util/safe_text.h). */
void imc_session_explainc(struct imc_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for the session's own failures: the server broke the protocol;
 * and for refusals of a call (IMCLIENT_EMISUSE). */
#define imc_session_fail(s, ...) imc_session_failc((s), IMCLIENT_EPROTOCOL, __VA_ARGS__)
#define imc_session_explain(s, ...) imc_session_explainc((s), IMCLIENT_EMISUSE, __VA_ARGS__)

/* Stop taking input once the tagged reply to tag has been delivered. */
void imc_session_pause_after(struct imc_session *s, uint64_t tag);
/* Take input again (leftover is forgotten). */
void imc_session_resume(struct imc_session *s);
/* The tag the last imc_session_send() used. */
uint64_t imc_session_last_tag(const struct imc_session *s);

/* Nonzero when no response is partly received: the framer holds no piece of
 * a line or literal.  A security layer may only begin at such a boundary. */
int imc_session_at_boundary(const struct imc_session *s);
/* Nonzero while the bytes next due belong to a literal. */
int imc_session_in_literal(const struct imc_session *s);

void imc_session_set_continuation(struct imc_session *s, imc_continuation_fn *fn,
                                  void *rock);

/* ---- IDLE (core/idle.c) ----------------------------------------------------
 * imc_session_idle() queues IDLE like imc_session_send() (same results;
 * also refused while an IDLE runs).  _idle_done()
 * ends it: DONE goes now, or as soon as the server's "+" arrives; -1 when
 * no IDLE runs.  _idling(): the server accepted IDLE and DONE is not
 * queued. */
int imc_session_idle(struct imc_session *s, imclient_proc_t *finish, void *rock);
int imc_session_idle_done(struct imc_session *s);
int imc_session_idling(const struct imc_session *s);
/* For the session itself: a "+" that IDLE takes (1) or not (0); the end of
 * command tag; why a command may not be queued now, or NULL. */
int imc_idle_continuation(struct imc_session *s);
void imc_idle_ended(struct imc_session *s, uint64_t tag);
const char *imc_idle_blocks_send(const struct imc_session *s);
/* Commands owed a reply: those in flight, less an IDLE the server accepted
 * (it answers only after DONE). */
size_t imc_session_owed(const struct imc_session *s);

#endif
