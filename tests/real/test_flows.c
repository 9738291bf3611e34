/*
 * Every exchange without blocking, against real Dovecot and Cyrus: a fleet
 * of connections at once in one thread, driven by one poll() loop through
 * imclient_wants()/imclient_handle_events() only.  The plans and their
 * checks (support/flowplan.h) -- connect_start, STARTTLS, SCRAM-SHA-256,
 * GSSAPI with the KDC, DIGEST-MD5, a security layer on Cyrus, COMPRESS,
 * SELECT, IDLE until an APPEND from another connection arrives, DONE,
 * LOGOUT -- are the ones the event-loop adapters' scenarios run too.
 */
#include <poll.h>
#include <stdlib.h>

#include "check.h"
#include "flowplan.h"
#include "realenv.h"
#include <cyrus/imclient.h>

/* One poll() over every running connection, then the fleet's tick;
 * returns how many connections are still running. */
static int turn(struct flowplan_fleet *f)
{
    struct pollfd p[FLOWPLAN_MAX];
    int who[FLOWPLAN_MAX], n = 0, wait = 200;
    for (int i = 0; i < f->n; i++) {
        struct flowplan_conn *k = &f->k[i];
        int fd, t;
        if (k->step == FLOWPLAN_OVER || !k->c)
            continue;
        int ev = imclient_wants(k->c, &fd, &t);
        if (fd < 0) /* ended: the tick says so */
            continue;
        p[n] = (struct pollfd){ fd, (short)((ev & IMCLIENT_EV_READ ? POLLIN : 0) |
                                            (ev & IMCLIENT_EV_WRITE ? POLLOUT : 0)), 0 };
        who[n++] = i;
        if (t >= 0 && t < wait)
            wait = t;
    }
    poll(p, (nfds_t)n, wait);
    for (int j = 0; j < n; j++) {
        int ready = (p[j].revents & (POLLIN | POLLHUP | POLLERR) ? IMCLIENT_EV_READ : 0) |
                    (p[j].revents & POLLOUT ? IMCLIENT_EV_WRITE : 0);
        /* Another connection's failure may have closed this one meanwhile. */
        struct imclient *c = f->k[who[j]].c;
        if (c)
            imclient_handle_events(c, ready);
    }
    return flowplan_tick(f);
}

static void run_fleet(const char *server)
{
    static struct flowplan_fleet f;
    if (flowplan_start(&f, server) != 0) {
        check_fail(__FILE__, __LINE__, "%s: the fleet could not start", server);
        return;
    }
    while (turn(&f) > 0)
        ;
    flowplan_check(&f);
    flowplan_close(&f);
}

static void dovecot_fleet(void)
{
    run_fleet("DOVECOT");
}

static void cyrus_fleet(void)
{
    run_fleet("CYRUS");
}

int main(int argc, char **argv)
{
    const char *ca_file = getenv("IMC_CA_FILE");
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
