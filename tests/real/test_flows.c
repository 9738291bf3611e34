/*
 * Every exchange without blocking, against real Dovecot and Cyrus: several
 * connections at once in one thread, driven by one poll() loop through
 * imclient_wants()/imclient_handle_events() only.  Each connection runs a
 * plan -- STARTTLS, SCRAM-SHA-256, COMPRESS, SELECT, IDLE until every
 * connection idles, DONE, LOGOUT; or GSSAPI with the KDC (a security layer
 * on Cyrus); or DIGEST-MD5 with a layer on Cyrus -- moving on from its
 * callbacks, as an event-driven program does.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "realenv.h"
#include <cyrus/imclient.h>

enum plan { PLAN_TLS_SCRAM, PLAN_GSSAPI, PLAN_DIGEST };
enum step { S_TLS, S_AUTH, S_COMPRESS, S_SELECT, S_IDLE, S_LOGOUT, S_OVER };

struct conn {
    struct imclient *c;
    enum plan plan;
    enum step step;
    int failed;        /* a step did not give what it should */
    char why[200];
    int idling;
    int ssf;
    const char *user, *pass;
};

struct fleet {
    struct conn *k;
    int n;
    int idle_target;   /* connections that must idle before DONE */
};

static struct fleet fleet;
static const char *ca_file;

static void fail_step(struct conn *k, const char *what, int result)
{
    k->failed = 1;
    snprintf(k->why, sizeof k->why, "%s gave %d: %s", what, result, imclient_error(k->c));
    k->step = S_OVER;
}

static const char *secret(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)c;
    (void)mech;
    struct conn *k = rock;
    if (what == IMCLIENT_SECRET_AUTHNAME)
        return k->user;
    return what == IMCLIENT_SECRET_PASSWORD ? k->pass : NULL;
}

static void next(struct conn *k);

static void on_result(struct imclient *c, void *rock, int result)
{
    (void)c;
    struct conn *k = rock;
    static const char *const names[] = { "STARTTLS", "AUTHENTICATE", "COMPRESS" };
    if (result != 0) {
        fail_step(k, names[k->step], result);
        return;
    }
    k->step++;
    next(k);
}

static void on_command(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct conn *k = rock;
    if (k->step == S_LOGOUT) { /* LOGOUT: OK, or EOF when the server is quick */
        k->step = S_OVER;
        return;
    }
    if (strcmp(r->keyword, "OK") != 0) {
        fail_step(k, k->step == S_IDLE ? "IDLE" : "SELECT", -1);
        return;
    }
    k->step++;
    next(k);
}

/* Take the connection's next step; results come back to the callbacks. */
static void next(struct conn *k)
{
    struct imclient *c = k->c;
    switch (k->step) {
    case S_TLS:
        if (imclient_starttls_start(c, NULL, NULL, (char *)ca_file, NULL, on_result, k) < 0)
            fail_step(k, "starttls_start", -1);
        break;
    case S_AUTH: {
        static struct sasl_client digest = { "DIGEST-MD5", 0 };
        struct sasl_client *scram[] = { &imclient_sasl_scram_sha256, NULL };
        struct sasl_client *gss[] = { &krb_sasl_client, NULL };
        struct sasl_client *dig[] = { &digest, NULL };
        struct sasl_client **mechs =
            k->plan == PLAN_GSSAPI ? gss : k->plan == PLAN_DIGEST ? dig : scram;
        if (imclient_authenticate_start(c, mechs, "imap", NULL, SASL_PROT_ANY, on_result, k) < 0)
            fail_step(k, "authenticate_start", -1);
        break;
    }
    case S_COMPRESS:
        k->ssf = imclient_getssf(c);
        /* RFC 4978: no compression over a SASL security layer's own. */
        if (k->ssf > 0 || imclient_compress_start(c, on_result, k) < 0) {
            if (k->ssf <= 0) {
                fail_step(k, "compress_start", -1);
                break;
            }
            k->step = S_SELECT;
            next(k);
        }
        break;
    case S_SELECT:
        imclient_send(c, on_command, k, "SELECT INBOX");
        break;
    case S_IDLE:
        if (imclient_idle(c, on_command, k) < 0)
            fail_step(k, "idle", -1);
        break;
    case S_LOGOUT:
        imclient_send(c, on_command, k, "LOGOUT");
        break;
    case S_OVER:
        break;
    }
}

static int everyone_idles(void)
{
    int idling = 0;
    for (int i = 0; i < fleet.n; i++)
        idling += fleet.k[i].c && imclient_idling(fleet.k[i].c);
    return idling >= fleet.idle_target;
}

/* One poll() over every open connection; returns how many are not over. */
static int turn(void)
{
    struct pollfd p[64];
    int who[64], n = 0, wait = 200, busy = 0;
    for (int i = 0; i < fleet.n; i++) {
        struct conn *k = &fleet.k[i];
        if (k->step == S_OVER || !k->c)
            continue;
        busy++;
        int fd, t;
        int ev = imclient_wants(k->c, &fd, &t);
        if (fd < 0) {
            fail_step(k, "connection", -1);
            continue;
        }
        p[n] = (struct pollfd){ fd, (short)((ev & IMCLIENT_EV_READ ? POLLIN : 0) |
                                            (ev & IMCLIENT_EV_WRITE ? POLLOUT : 0)), 0 };
        who[n++] = i;
        if (t >= 0 && t < wait)
            wait = t;
    }
    if (n == 0)
        return busy;
    poll(p, (nfds_t)n, wait);
    for (int j = 0; j < n; j++) {
        int ready = (p[j].revents & (POLLIN | POLLHUP | POLLERR) ? IMCLIENT_EV_READ : 0) |
                    (p[j].revents & POLLOUT ? IMCLIENT_EV_WRITE : 0);
        struct conn *k = &fleet.k[who[j]];
        if (imclient_handle_events(k->c, ready) < 0 && k->step != S_OVER)
            fail_step(k, "the connection", -1);
    }
    /* IDLE ends once the whole fleet idles: each went there on its own. */
    if (everyone_idles())
        for (int i = 0; i < fleet.n; i++)
            if (fleet.k[i].c && imclient_idling(fleet.k[i].c))
                imclient_idle_done(fleet.k[i].c);
    return busy;
}

static void run_fleet(const char *prefix, const enum plan *plans, int n)
{
    const char *port = realenv_var(prefix, "PORT");
    struct conn k[16];
    memset(k, 0, sizeof k);
    fleet = (struct fleet){ k, n, 0 };
    for (int i = 0; i < n; i++) {
        k[i].plan = plans[i];
        k[i].user = realenv_var(prefix, "USER");
        k[i].pass = realenv_var(prefix, "PASS");
        /* Certificates, Kerberos and DIGEST-MD5 all name the host. */
        CHECK_INT(imclient_connect(&k[i].c, "localhost", port), 0);
        imclient_setsecretproc(k[i].c, secret, &k[i]);
        k[i].step = plans[i] == PLAN_TLS_SCRAM ? S_TLS : S_AUTH;
        fleet.idle_target++;
        next(&k[i]);
    }
    time_t end = time(NULL) + 60;
    while (turn() > 0 && time(NULL) < end)
        ;
    for (int i = 0; i < n; i++) {
        if (k[i].failed || k[i].step != S_OVER)
            check_fail(__FILE__, __LINE__, "%s connection %d (plan %d) stopped at step %d: %s",
                       prefix, i, k[i].plan, k[i].step, k[i].why);
        imclient_close(k[i].c);
    }
    for (int i = 0; i < n; i++) {
        CHECK(!k[i].failed);
        CHECK_INT(k[i].step, S_OVER);
        /* Cyrus gives GSSAPI and DIGEST-MD5 a layer; Dovecot gives none. */
        if (strcmp(prefix, "CYRUS") == 0 && k[i].plan != PLAN_TLS_SCRAM)
            CHECK(k[i].ssf > 0);
    }
}

static void dovecot_fleet(void)
{
    static const enum plan plans[] = { PLAN_TLS_SCRAM, PLAN_TLS_SCRAM, PLAN_TLS_SCRAM,
                                       PLAN_TLS_SCRAM, PLAN_GSSAPI,    PLAN_GSSAPI };
    run_fleet("DOVECOT", plans, 6);
}

static void cyrus_fleet(void)
{
    static const enum plan plans[] = { PLAN_TLS_SCRAM, PLAN_TLS_SCRAM, PLAN_TLS_SCRAM,
                                       PLAN_GSSAPI,    PLAN_GSSAPI,    PLAN_DIGEST,
                                       PLAN_DIGEST };
    run_fleet("CYRUS", plans, 7);
}

int main(int argc, char **argv)
{
    ca_file = getenv("IMC_CA_FILE");
    struct check_test chosen[2];
    size_t n = 0;
    if (realenv_var("DOVECOT", "PORT") && ca_file)
        chosen[n++] = (struct check_test)TEST(dovecot_fleet);
    if (realenv_var("CYRUS", "PORT") && ca_file)
        chosen[n++] = (struct check_test)TEST(cyrus_fleet);
    if (n == 0)
        return realenv_none(argv[0]);
    realenv_kinit();
    int r = check_main(argc, argv, chosen, n);
    realenv_kdestroy();
    return r;
}
