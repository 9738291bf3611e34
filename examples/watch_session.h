/*
 * watch_session: what libevent_watch and libuv_watch do on every
 * connection, whatever loop drives it: the command line, LOGIN, SELECT
 * INBOX, IDLE, LOGOUT and printing what arrives.  Each example keeps only
 * its loop: attaching the connections, the stop timer and running it.
 *
 * The callbacks chain one command to the next, so a connection moves on
 * whenever its loop calls imclient_handle_events() for it.
 */
#ifndef WATCH_SESSION_H
#define WATCH_SESSION_H

#include <cyrus/imclient.h>

struct watch {
    int id;             /* from 1; 0 ends the array */
    struct imclient *c; /* NULL once closed */
};

/* HOST PORT USER [N] [SECONDS] and IMAP_PASSWORD. */
struct watch_args {
    const char *host, *port, *user, *password;
    int n, seconds;
};

/* 1 once any connection failed: the process's exit status. */
extern int watch_failed;

/*
 * Called when the last open connection closes, or NULL.  A loop whose stop
 * timer would keep it running past the last connection removes it here.
 */
extern void (*watch_all_closed)(void);

/* Parses the command line; 0, or 2 (the exit status) after saying why. */
int watch_parse(int argc, char **argv, struct watch_args *a);

/*
 * Starts connecting w and prints its untagged replies; 0, or -1 after
 * saying why (w->c is then NULL).  The caller attaches w->c to its loop
 * next, then calls watch_login().
 */
int watch_open(struct watch *w, const struct watch_args *a);

/* Queues LOGIN, written once connected; SELECT and IDLE follow it. */
void watch_login(struct watch *w, const struct watch_args *a);

/* The stop timer's work: every connection ends IDLE and logs out. */
void watch_stop_all(struct watch *w);

#endif
