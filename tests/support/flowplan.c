#include "flowplan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "realenv.h"
#include <cyrus/imclient.h>

/* The idlers of each server's fleet; the appender comes first, always
 * TLS+SCRAM.  Cyrus offers DIGEST-MD5 and gives it and GSSAPI a layer;
 * Dovecot gives GSSAPI none, so its GSSAPI idlers compress. */
static const enum flowplan_auth dovecot_idlers[] = {
    FLOWPLAN_TLS_SCRAM, FLOWPLAN_TLS_SCRAM, FLOWPLAN_TLS_SCRAM,
    FLOWPLAN_TLS_SCRAM, FLOWPLAN_GSSAPI,    FLOWPLAN_GSSAPI,
};
static const enum flowplan_auth cyrus_idlers[] = {
    FLOWPLAN_TLS_SCRAM, FLOWPLAN_TLS_SCRAM, FLOWPLAN_TLS_SCRAM, FLOWPLAN_GSSAPI,
    FLOWPLAN_GSSAPI,    FLOWPLAN_DIGEST,    FLOWPLAN_DIGEST,
};

/* A fleet still running after this is stuck: ending it reports where each
 * connection stopped, well before the drivers' own limits (60 s). */
#define FLOWPLAN_SECONDS 45

static const char *const step_names[] = {
    "connect", "STARTTLS", "AUTHENTICATE", "COMPRESS", "CREATE", "wait for the mailbox",
    "SELECT", "IDLE", "wait for the idlers", "APPEND", "wait for the logouts", "DELETE",
    "LOGOUT", "over",
};

static const char *const auth_names[] = { "TLS+SCRAM-SHA-256", "GSSAPI", "DIGEST-MD5" };

static int has_layer(const struct flowplan_conn *k)
{
    return k->fleet->layers && k->auth != FLOWPLAN_TLS_SCRAM;
}

static int is_wait(enum flowplan_step s)
{
    return s == FLOWPLAN_WAIT_MAILBOX || s == FLOWPLAN_WAIT_IDLERS || s == FLOWPLAN_WAIT_LOGOUTS;
}

int flowplan_takes(const struct flowplan_conn *k, enum flowplan_step s)
{
    int appender = k->role == FLOWPLAN_APPENDER;
    switch (s) {
    case FLOWPLAN_CONNECT:
    case FLOWPLAN_AUTHENTICATE:
    case FLOWPLAN_LOGOUT:
    case FLOWPLAN_OVER:
        return 1;
    case FLOWPLAN_STARTTLS:
        return k->auth == FLOWPLAN_TLS_SCRAM;
    case FLOWPLAN_COMPRESS:
        /* RFC 4978: no compression over a SASL security layer. */
        return !has_layer(k);
    case FLOWPLAN_CREATE:
    case FLOWPLAN_WAIT_IDLERS:
    case FLOWPLAN_APPEND:
    case FLOWPLAN_WAIT_LOGOUTS:
    case FLOWPLAN_DELETE:
        return appender;
    case FLOWPLAN_WAIT_MAILBOX:
    case FLOWPLAN_SELECT:
    case FLOWPLAN_IDLE:
        return !appender;
    }
    return 0;
}

/* The first failure is the one reported; the connection is closed so that
 * a loop left with nothing to watch stops. */
static void fail(struct flowplan_conn *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail(struct flowplan_conn *k, const char *fmt, ...)
{
    if (k->failed)
        return;
    k->failed = 1;
    int n = snprintf(k->why, sizeof k->why, "at %s: ", step_names[k->step]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->why + n, sizeof k->why - (size_t)n, fmt, ap);
    va_end(ap);
    k->step = FLOWPLAN_OVER;
    struct imclient *c = k->c;
    k->c = NULL; /* before closing: EOF callbacks from the close come back here */
    if (c)
        imclient_close(c);
}

static const char *secret(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)c;
    (void)mech;
    const struct flowplan_conn *k = rock;
    if (what == IMCLIENT_SECRET_AUTHNAME)
        return k->fleet->user;
    return what == IMCLIENT_SECRET_PASSWORD ? k->fleet->pass : NULL;
}

static void begin(struct flowplan_conn *k);

static void advance(struct flowplan_conn *k)
{
    do
        k->step++;
    while (!flowplan_takes(k, k->step));
    begin(k);
}

static const struct flowplan_conn *appender(const struct flowplan_fleet *f)
{
    return &f->k[0];
}

/* Whether what a waiting connection waits for has come. */
static int waited_for(const struct flowplan_conn *k)
{
    const struct flowplan_fleet *f = k->fleet;
    const struct flowplan_outcome *made = &appender(f)->outcome[FLOWPLAN_CREATE];
    if (k->step == FLOWPLAN_WAIT_MAILBOX)
        return made->calls > 0 && made->result == 0;
    for (int i = 0; i < f->n; i++) {
        const struct flowplan_conn *x = &f->k[i];
        if (x->role != FLOWPLAN_IDLER)
            continue;
        if (k->step == FLOWPLAN_WAIT_IDLERS && !(x->c && imclient_idling(x->c)))
            return 0;
        if (k->step == FLOWPLAN_WAIT_LOGOUTS && (x->step != FLOWPLAN_OVER || x->failed))
            return 0;
    }
    return 1;
}

static void wake(struct flowplan_fleet *f)
{
    for (int i = 0; i < f->n; i++)
        if (is_wait(f->k[i].step) && !f->k[i].failed && waited_for(&f->k[i]))
            advance(&f->k[i]);
}

/* The step a callback reports on must be the one the connection is at. */
static int record(struct flowplan_outcome *o, int result, const char *said)
{
    struct flowplan_conn *k = o->k;
    o->calls++;
    o->result = result;
    snprintf(o->said, sizeof o->said, "%s", said);
    if (o->step != k->step) {
        fail(k, "%s reported (%s) %d time(s)", step_names[o->step], said, o->calls);
        return -1;
    }
    return 0;
}

static void on_result(struct imclient *c, void *rock, int result)
{
    struct flowplan_outcome *o = rock;
    struct flowplan_conn *k = o->k;
    if (record(o, result, "") != 0)
        return;
    if (result != 0) {
        fail(k, "result %d: %s", result, imclient_error(c));
        return;
    }
    if (k->step == FLOWPLAN_AUTHENTICATE)
        k->ssf = imclient_getssf(c);
    advance(k);
}

static void on_command(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct flowplan_outcome *o = rock;
    struct flowplan_conn *k = o->k;
    if (record(o, strcmp(r->keyword, "OK") != 0, r->keyword) != 0)
        return;
    if (o->result) {
        fail(k, "%s %s", r->keyword, r->text);
        return;
    }
    if (k->step == FLOWPLAN_LOGOUT)
        k->step = FLOWPLAN_OVER;
    else
        advance(k);
    wake(k->fleet);
}

/* The appended message arrives: IDLE has done its work, so DONE. */
static void on_exists(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct flowplan_conn *k = rock;
    k->exists = r->msgno;
    if (k->step == FLOWPLAN_IDLE && r->msgno > 0 && imclient_idling(c)) {
        k->exists_idling = 1;
        k->done_result = imclient_idle_done(c);
    }
}

static struct sasl_client **mechanisms(enum flowplan_auth auth)
{
    static struct sasl_client digest = { "DIGEST-MD5", 0 };
    static struct sasl_client *scram[] = { &imclient_sasl_scram_sha256, NULL };
    static struct sasl_client *gss[] = { &krb_sasl_client, NULL };
    static struct sasl_client *dig[] = { &digest, NULL };
    return auth == FLOWPLAN_GSSAPI ? gss : auth == FLOWPLAN_DIGEST ? dig : scram;
}

/* Take the connection's step; its callback moves it on. */
static void begin(struct flowplan_conn *k)
{
    struct imclient *c = k->c;
    struct flowplan_fleet *f = k->fleet;
    struct flowplan_outcome *o = &k->outcome[k->step];
    int r = 0;
    switch (k->step) {
    case FLOWPLAN_STARTTLS:
        r = imclient_starttls_start(c, NULL, NULL, (char *)f->ca_file, NULL, on_result, o);
        break;
    case FLOWPLAN_AUTHENTICATE:
        r = imclient_authenticate_start(c, mechanisms(k->auth), "imap", NULL, SASL_PROT_ANY,
                                        on_result, o);
        break;
    case FLOWPLAN_COMPRESS:
        r = imclient_compress_start(c, on_result, o);
        break;
    case FLOWPLAN_CREATE:
        imclient_send(c, on_command, o, "CREATE %s", f->mailbox);
        break;
    case FLOWPLAN_SELECT:
        imclient_send(c, on_command, o, "SELECT %s", f->mailbox);
        break;
    case FLOWPLAN_IDLE:
        r = imclient_idle(c, on_command, o);
        break;
    case FLOWPLAN_APPEND:
        imclient_send(c, on_command, o, "APPEND %s %s", f->mailbox,
                      "Subject: flowplan\r\n\r\nwhile the others idle\r\n");
        break;
    case FLOWPLAN_DELETE:
        imclient_send(c, on_command, o, "DELETE %s", f->mailbox);
        break;
    case FLOWPLAN_LOGOUT:
        imclient_send(c, on_command, o, "LOGOUT");
        break;
    case FLOWPLAN_WAIT_MAILBOX:
    case FLOWPLAN_WAIT_IDLERS:
    case FLOWPLAN_WAIT_LOGOUTS:
        if (waited_for(k))
            advance(k);
        break;
    case FLOWPLAN_CONNECT:
    case FLOWPLAN_OVER:
        break;
    }
    if (r != 0)
        fail(k, "refused at once: %s", imclient_error(c));
}

static void add(struct flowplan_fleet *f, enum flowplan_auth auth, enum flowplan_role role)
{
    struct flowplan_conn *k = &f->k[f->n++];
    k->fleet = f;
    k->auth = auth;
    k->role = role;
    k->step = FLOWPLAN_CONNECT;
    k->exists = -1;
    k->done_result = -1;
    for (int s = 0; s < FLOWPLAN_OVER; s++)
        k->outcome[s] = (struct flowplan_outcome){ k, (enum flowplan_step)s, 0, -1, "" };
}

int flowplan_start(struct flowplan_fleet *f, const char *server)
{
    static unsigned fleets;
    memset(f, 0, sizeof *f);
    f->server = server;
    f->port = realenv_var(server, "PORT");
    f->user = realenv_var(server, "USER");
    f->pass = realenv_var(server, "PASS");
    f->ca_file = getenv("IMC_CA_FILE");
    if (!f->port || !f->user || !f->pass || !f->ca_file)
        return -1;
    f->layers = strcmp(server, "CYRUS") == 0;
    const enum flowplan_auth *idlers = f->layers ? cyrus_idlers : dovecot_idlers;
    size_t n = f->layers ? sizeof cyrus_idlers / sizeof cyrus_idlers[0]
                         : sizeof dovecot_idlers / sizeof dovecot_idlers[0];
    snprintf(f->mailbox, sizeof f->mailbox, "flows-%ld-%ld-%u", (long)getpid(),
             (long)time(NULL), fleets++);
    f->give_up = time(NULL) + FLOWPLAN_SECONDS;
    add(f, FLOWPLAN_TLS_SCRAM, FLOWPLAN_APPENDER);
    for (size_t i = 0; i < n; i++)
        add(f, idlers[i], FLOWPLAN_IDLER);
    for (int i = 0; i < f->n; i++) {
        struct flowplan_conn *k = &f->k[i];
        /* Certificates, Kerberos and DIGEST-MD5 all name the host. */
        if (imclient_connect_start(&k->c, "localhost", f->port, on_result,
                                   &k->outcome[FLOWPLAN_CONNECT]) != 0) {
            flowplan_close(f);
            return -1;
        }
        imclient_setsecretproc(k->c, secret, k);
        imclient_addcallback(k->c, "EXISTS", CALLBACK_NUMBERED, on_exists, k, NULL);
    }
    return 0;
}

int flowplan_tick(struct flowplan_fleet *f)
{
    int broken = 0, running = 0;
    for (int i = 0; i < f->n; i++) {
        struct flowplan_conn *k = &f->k[i];
        if (k->step != FLOWPLAN_OVER && k->c && !imclient_isopen(k->c))
            fail(k, "the connection ended: %s", imclient_error(k->c));
        broken |= k->failed;
    }
    int late = time(NULL) >= f->give_up;
    for (int i = 0; i < f->n; i++) {
        struct flowplan_conn *k = &f->k[i];
        if (k->step == FLOWPLAN_OVER)
            continue;
        if (broken)
            fail(k, "given up: another connection failed");
        else if (late)
            fail(k, "given up after %d s", FLOWPLAN_SECONDS);
    }
    wake(f);
    for (int i = 0; i < f->n; i++)
        running += f->k[i].step != FLOWPLAN_OVER;
    return running;
}

/* One connection's checks; the first that fails says which connection. */
static void check_conn(const struct flowplan_fleet *f, int i)
{
    const struct flowplan_conn *k = &f->k[i];
#define EXPECT(cond)                                                                      \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            check_fail(__FILE__, __LINE__, "%s connection %d (%s): %s", f->server, i,     \
                       auth_names[k->auth], #cond);                                       \
            return;                                                                       \
        }                                                                                 \
    } while (0)
    for (int s = 0; s < FLOWPLAN_OVER; s++) {
        const struct flowplan_outcome *o = &k->outcome[s];
        if (!flowplan_takes(k, s) || is_wait(s))
            continue;
        if (o->calls != 1 || o->result != 0) {
            check_fail(__FILE__, __LINE__, "%s connection %d (%s): %s ran %d time(s), gave %d %s",
                       f->server, i, auth_names[k->auth], step_names[s], o->calls, o->result,
                       o->said);
            return;
        }
    }
    EXPECT(!k->failed);
    EXPECT(k->step == FLOWPLAN_OVER);
    if (has_layer(k))
        EXPECT(k->ssf > 0);
    else
        EXPECT(k->ssf == 0);
    if (k->role == FLOWPLAN_IDLER) {
        EXPECT(k->exists_idling);
        EXPECT(k->exists == 1);
        EXPECT(k->done_result == 0);
    }
#undef EXPECT
}

void flowplan_check(const struct flowplan_fleet *f)
{
    for (int i = 0; i < f->n; i++) {
        const struct flowplan_conn *k = &f->k[i];
        const char *role = k->role == FLOWPLAN_APPENDER ? "appender" : "idler";
        if (k->failed)
            check_fail(__FILE__, __LINE__, "%s connection %d (%s, %s) failed %s", f->server, i,
                       auth_names[k->auth], role, k->why);
        else if (k->step != FLOWPLAN_OVER)
            check_fail(__FILE__, __LINE__, "%s connection %d (%s, %s) stopped at %s", f->server,
                       i, auth_names[k->auth], role, step_names[k->step]);
    }
    for (int i = 0; i < f->n; i++)
        check_conn(f, i);
}

void flowplan_close(struct flowplan_fleet *f)
{
    for (int i = 0; i < f->n; i++) {
        struct imclient *c = f->k[i].c;
        f->k[i].c = NULL;
        if (c)
            imclient_close(c);
    }
}
