/*
 * The SASL callbacks of one authentication attempt.  They are registered
 * per connection (sasl_client_new()), never process-wide, and answer only
 * from the application's secret procedure: a question it cannot answer
 * fails the mechanism.  No callback here can prompt, and none of the
 * prompting kinds (SASL_CB_ECHOPROMPT, _NOECHOPROMPT) is registered, so a
 * mechanism that wants one asks for an interaction, which the exchange
 * treats as a local failure.
 */
#include "auth/auth_internal.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cyrus/xmalloc.h"
#include "util/ascii.h"

/* Mechanisms that prove the identity by themselves (a Kerberos ticket, a
 * TLS client certificate): imclient_authenticate()'s user can only be the
 * identity to act as.  For the others it is the name to log in as. */
static int proves_identity(const char *mech)
{
    static const char *const names[] = {
        "GSSAPI", "GS2-KRB5", "GS2-IAKERB", "GSS-SPNEGO", "EXTERNAL",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(mech) == strlen(names[i]) && imc_ascii_eq(mech, names[i], strlen(mech)))
            return 1;
    return 0;
}

static const char *ask(struct imc_secrets *s, int what)
{
    struct imclient *c = s->c;
    if (!c || !c->secretproc)
        return NULL;
    return c->secretproc(c, c->secretrock, what, s->mech);
}

static void note_missing(struct imc_secrets *s, const char *what)
{
    if (!s->missing[0])
        snprintf(s->missing, sizeof s->missing, "%s", what);
}

/* "The current user" of the page, as Cyrus's own client took it. */
static const char *login_name(struct imc_secrets *s)
{
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) != 0 || !res)
        return NULL;
    snprintf(s->loginname, sizeof s->loginname, "%s", pw.pw_name);
    return s->loginname;
}

static const char *authname(struct imc_secrets *s)
{
    const char *v = ask(s, IMCLIENT_SECRET_AUTHNAME);
    if (!v && s->user && !s->user_is_authzid)
        v = s->user;
    if (!v)
        v = login_name(s);
    return v;
}

/* "" means "act as whoever I authenticate as". */
static const char *authzid(struct imc_secrets *s)
{
    const char *v = ask(s, IMCLIENT_SECRET_USER);
    if (!v && s->user && s->user_is_authzid)
        v = s->user;
    return v ? v : "";
}

static int get_simple(void *context, int id, const char **result, unsigned *len)
{
    struct imc_secrets *s = context;
    const char *v;
    if (id == SASL_CB_AUTHNAME)
        v = authname(s);
    else if (id == SASL_CB_USER)
        v = authzid(s);
    else
        return SASL_BADPARAM;
    if (!v) {
        note_missing(s, "a name to authenticate as");
        return SASL_FAIL;
    }
    *result = v;
    if (len)
        *len = (unsigned)strlen(v);
    return SASL_OK;
}

static void drop_password(struct imc_secrets *s)
{
    if (!s->password)
        return;
    explicit_bzero(s->password->data, s->password->len);
    free(s->password);
    s->password = NULL;
}

/* The mechanism may keep the pointer across steps: our copy lives in s
 * until the attempt ends. */
static void keep_password(struct imc_secrets *s, const char *v)
{
    size_t len = strlen(v);
    drop_password(s);
    s->password = xmalloc(sizeof(sasl_secret_t) + len);
    s->password->len = len;
    memcpy(s->password->data, v, len + 1);
}

static int get_password(sasl_conn_t *conn, void *context, int id, sasl_secret_t **secret)
{
    struct imc_secrets *s = context;
    (void)conn;
    if (id != SASL_CB_PASS)
        return SASL_BADPARAM;
    if (!s->password) {
        const char *v = ask(s, IMCLIENT_SECRET_PASSWORD);
        if (!v) {
            note_missing(s, "a password");
            return SASL_FAIL;
        }
        keep_password(s, v);
    }
    *secret = s->password;
    return SASL_OK;
}

/* Mechanisms that neither prove identity by other means nor go without
 * one: they need a secret from the application. */
static int needs_password(const char *mech)
{
    return !proves_identity(mech) &&
           !(strlen(mech) == 9 && imc_ascii_eq(mech, "ANONYMOUS", 9));
}

int imc_secrets_prepare(struct imc_secrets *s)
{
    if (!needs_password(s->mech) || s->password)
        return 0;
    const char *v = ask(s, IMCLIENT_SECRET_PASSWORD);
    if (!v) {
        note_missing(s, "a password");
        return -1;
    }
    keep_password(s, v);
    return 0;
}

static int get_realm(void *context, int id, const char **availrealms, const char **result)
{
    struct imc_secrets *s = context;
    if (id != SASL_CB_GETREALM)
        return SASL_BADPARAM;
    const char *v = ask(s, IMCLIENT_SECRET_REALM);
    if (!v && availrealms && availrealms[0])
        v = availrealms[0];
    /* RFC 2831: no realm is the empty realm. */
    *result = v ? v : "";
    return SASL_OK;
}

/* Per-connection messages would go to syslog; the error detail of the
 * connection (sasl_errdetail) is what reaches imclient_error(). */
static int drop_log(void *context, int level, const char *message)
{
    (void)context;
    (void)level;
    (void)message;
    return SASL_OK;
}

struct imc_secrets *imc_secrets_new(struct imclient *c, const char *mech, const char *user)
{
    struct imc_secrets *s = xzmalloc(sizeof *s);
    s->c = c;
    s->mech = mech;
    s->user = user;
    s->user_is_authzid = proves_identity(mech);
    const sasl_callback_t list[] = {
        { SASL_CB_AUTHNAME, IMC_SASL_PROC(get_simple), s },
        { SASL_CB_USER, IMC_SASL_PROC(get_simple), s },
        { SASL_CB_PASS, IMC_SASL_PROC(get_password), s },
        { SASL_CB_GETREALM, IMC_SASL_PROC(get_realm), s },
        { SASL_CB_LOG, IMC_SASL_PROC(drop_log), s },
        { SASL_CB_LIST_END, NULL, NULL },
    };
    memcpy(s->list, list, sizeof list);
    return s;
}

void imc_secrets_retire(struct imc_secrets *s)
{
    drop_password(s);
    explicit_bzero(s->loginname, sizeof s->loginname);
    /* The mechanism name and user belong to the caller's call. */
    s->c = NULL;
    s->mech = "";
    s->user = NULL;
}
