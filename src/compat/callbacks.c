/*
 * The caller's sasl_callback_t list, as Cyrus 3.x's imclient_connect()
 * took it, answering the library's secret procedure.
 *
 * The list is read when authentication runs, not at connect: Cyrus::IMAP
 * connects with a list whose contexts it fills in only when it is asked
 * to authenticate.  What a callback returns is copied: Cyrus::IMAP's
 * password is a sasl_secret_t whose data is not NUL-terminated, and the
 * library wants strings that live until imclient_authenticate() returns;
 * the copies are wiped when the authentication ends.  Only names, the
 * password and the realm are asked for; a list's prompting callbacks are
 * never called.
 */
#include "compat/compat.h"

#include <stdlib.h>
#include <string.h>

#include "cyrus/xmalloc.h"

/* sasl_callback_t keeps every procedure as int (*)(void); going through
 * void (*)(void) says the cast back is deliberate (-Wcast-function-type). */
#define AS(type, proc) ((type)(void (*)(void))(proc))

/* The secret procedure of a connection made by imclient_connect_cyrus3():
 * its rock is the caller's list.  It answers nothing by itself: answering
 * needs copies, and only imclient_authenticate_cyrus3() has a place to
 * keep them (imc_cyrus3_answers_begin() swaps in answer() meanwhile). */
static const char *remembered(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)c;
    (void)rock;
    (void)what;
    (void)mech;
    return NULL;
}

void imc_cyrus3_remember_callbacks(struct imclient *c, sasl_callback_t *cbs)
{
    if (cbs)
        imclient_setsecretproc(c, remembered, cbs);
}

static const sasl_callback_t *find(const sasl_callback_t *cbs, unsigned long id)
{
    for (; cbs && cbs->id != SASL_CB_LIST_END; cbs++)
        if (cbs->id == id && cbs->proc)
            return cbs;
    return NULL;
}

/* The value the caller's callback for id gives, and its length; 0 when it
 * gave one. */
static int ask(const sasl_callback_t *cbs, unsigned long id, const char **v, size_t *len)
{
    const sasl_callback_t *cb = find(cbs, id);
    if (!cb)
        return -1;
    if (id == SASL_CB_PASS) {
        sasl_secret_t *secret = NULL;
        if (AS(sasl_getsecret_t *, cb->proc)(NULL, cb->context, (int)id, &secret) != SASL_OK ||
            !secret)
            return -1;
        *v = (const char *)secret->data;
        *len = secret->len;
        return 0;
    }
    if (id == SASL_CB_GETREALM) {
        const char *realm = NULL;
        if (AS(sasl_getrealm_t *, cb->proc)(cb->context, (int)id, NULL, &realm) != SASL_OK ||
            !realm)
            return -1;
        *v = realm;
        *len = strlen(realm);
        return 0;
    }
    unsigned n = 0;
    const char *s = NULL;
    if (AS(sasl_getsimple_t *, cb->proc)(cb->context, (int)id, &s, &n) != SASL_OK || !s)
        return -1;
    *v = s;
    *len = n;
    return 0;
}

static const char *keep(struct imc_cyrus3_answers *a, const char *v, size_t len)
{
    /* The library's strings end at the first NUL: a value holding one
     * would reach the server cut short. */
    if (memchr(v, '\0', len))
        return NULL;
    a->copies = xrealloc(a->copies, (a->ncopies + 1) * sizeof *a->copies);
    char *copy = xmalloc(len + 1);
    memcpy(copy, v, len);
    copy[len] = '\0';
    a->copies[a->ncopies++] = copy;
    return copy;
}

static const char *answer(struct imclient *c, void *rock, int what, const char *mech)
{
    struct imc_cyrus3_answers *a = rock;
    (void)c;
    (void)mech;
    static const unsigned long ids[] = {
        [IMCLIENT_SECRET_AUTHNAME] = SASL_CB_AUTHNAME,
        [IMCLIENT_SECRET_USER] = SASL_CB_USER,
        [IMCLIENT_SECRET_PASSWORD] = SASL_CB_PASS,
        [IMCLIENT_SECRET_REALM] = SASL_CB_GETREALM,
    };
    if (what <= 0 || (size_t)what >= sizeof ids / sizeof ids[0] || !ids[what])
        return NULL;
    const char *v;
    size_t len;
    if (ask(a->cbs, ids[what], &v, &len) < 0)
        return NULL;
    return keep(a, v, len);
}

/* The connection is being freed under the authentication (a callback
 * closed it): forget it, and tell whoever else watches. */
static void gone(void *rock)
{
    struct imc_cyrus3_answers *a = rock;
    a->c = NULL;
    if (a->cleanup)
        a->cleanup(a->cleanuprock);
}

void imc_cyrus3_answers_begin(struct imc_cyrus3_answers *a, struct imclient *c)
{
    memset(a, 0, sizeof *a);
    a->c = c;
    a->cleanup = c->cleanup;
    a->cleanuprock = c->cleanuprock;
    imclient_setcleanup(c, gone, a);
    if (c->secretproc != remembered)
        return;
    a->cbs = c->secretrock;
    a->active = 1;
    imclient_setsecretproc(c, answer, a);
}

void imc_cyrus3_answers_end(struct imc_cyrus3_answers *a)
{
    struct imclient *c = a->c;
    if (c) {
        imclient_setcleanup(c, a->cleanup, a->cleanuprock);
        if (a->active && c->secretproc == answer && c->secretrock == a)
            imclient_setsecretproc(c, remembered, (void *)a->cbs);
    }
    for (size_t i = 0; i < a->ncopies; i++) {
        explicit_bzero(a->copies[i], strlen(a->copies[i]));
        free(a->copies[i]);
    }
    free(a->copies);
    memset(a, 0, sizeof *a);
}
