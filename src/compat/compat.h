/*
 * Cyrus 3.x source compatibility (<cyrus/imclient_cyrus3.h>): what the
 * files of src/compat/ share.
 *
 *   connect.c        imclient_connect_cyrus3: the page's connect, and the
 *                    caller's SASL callbacks remembered
 *   callbacks.c      the caller's sasl_callback_t list as the connection's
 *                    secret procedure, for one authentication at a time
 *   mechlist.c       a 3.x mechanism list string as descriptors, strongest first
 *   authenticate.c   imclient_authenticate_cyrus3: the list and SSF bounds
 *                    mapped onto the library's authentication flow
 *   write.c          imclient_write
 *   starttls.c       imclient_starttls_cyrus3: "" CA arguments as none
 *   imapurl.c        imapurl_fromURL / imapurl_toURL over imapurl_parse/_build
 *   expire.c         ;EXPIRE= date-times as time_t and back
 */
#ifndef IMC_COMPAT_H
#define IMC_COMPAT_H

#include <stddef.h>
#include <time.h>

#include "cyrus/imclient_cyrus3.h"
#include "imclient_internal.h"

/* ---- callbacks.c ---- */

/* Remember cbs on the connection (it becomes the secret procedure). */
void imc_cyrus3_remember_callbacks(struct imclient *c, sasl_callback_t *cbs);

/* While an authentication runs: answers from the remembered list, and
 * copies of what it handed out, wiped by imc_cyrus3_answers_end(). */
struct imc_cyrus3_answers {
    struct imclient *c; /* NULL once the connection was freed meanwhile */
    const sasl_callback_t *cbs;
    char **copies;      /* every answer handed out, NUL-terminated */
    size_t ncopies;
    int active;         /* the connection's secret procedure points here */
    void (*cleanup)(void *rock); /* the connection's own cleanup hook, */
    void *cleanuprock;           /*   called on from ours */
};

/* If the connection remembers callbacks, let them answer until _end().
 * Meanwhile a->c becomes NULL if a callback's imclient_close() frees the
 * connection; _end() touches it only if not. */
void imc_cyrus3_answers_begin(struct imc_cyrus3_answers *a, struct imclient *c);
void imc_cyrus3_answers_end(struct imc_cyrus3_answers *a);

/* ---- mechlist.c ---- */

/* The mechanisms of a 3.x list, deduplicated, strongest first: a
 * NULL-terminated array for imclient_authenticate(); NULL when the list
 * names none.  Free with imc_cyrus3_mechs_free(). */
struct sasl_client **imc_cyrus3_mechs(const char *mechlist);
void imc_cyrus3_mechs_free(struct sasl_client **mechs);

/* ---- expire.c ---- */

/* An RFC 3339 date-time (as ;EXPIRE= holds it) as seconds since the
 * epoch: 0, or -1 when it is not one. */
int imc_cyrus3_expire_parse(const char *s, time_t *t);
/* t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes): 0, or -1. */
int imc_cyrus3_expire_format(time_t t, char *buf, size_t len);

#endif
