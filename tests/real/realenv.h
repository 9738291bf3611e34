/*
 * Where the real servers are: tests/servers/all.sh writes their ports and
 * accounts to DIR/env as IMC_<SERVER>_<WHAT>, and the real/ tests read
 * them from the environment.
 */
#ifndef IMC_REALENV_H
#define IMC_REALENV_H

#include <stddef.h>

#include "check.h"

/* IMC_<prefix>_<what>, or NULL when unset or empty. */
const char *realenv_var(const char *prefix, const char *what);

/* For a program that found no server to test: main's exit code.  The
 * program skips and succeeds, unless IMC_REQUIRE_SERVERS=1 makes the
 * missing servers a failure. */
int realenv_none(const char *prog);

/* Dovecot and Cyrus as the tests know them. */
struct realenv_server {
    const char *name;   /* "dovecot", "cyrus": as in the test names */
    const char *prefix; /* of its variables: IMC_<prefix>_PORT ... */
    const char *port, *user, *pass;
    int present;        /* all three are set */
};

/* Both (0 Dovecot, 1 Cyrus), their variables read at the first call. */
struct realenv_server *realenv_servers(void);

/* main() for a program whose tests come per server: all[k * per + j] is
 * server k's j-th.  Runs those of the servers present, or returns
 * realenv_none() when there is none. */
int realenv_main(int argc, char **argv, const struct check_test *all, size_t per);

/* A Kerberos ticket for IMC_KRB5_PRINCIPAL in a private credential cache
 * (KRB5CCNAME is set to it), for GSSAPI tests; has_ticket() says whether
 * kinit worked; kdestroy() removes the cache. */
void realenv_kinit(void);
int realenv_has_ticket(void);
void realenv_kdestroy(void);

#endif
