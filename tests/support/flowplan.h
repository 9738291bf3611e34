/*
 * A fleet of connections to one real server, each going through every
 * non-blocking exchange on its own, moved on only by its callbacks, as an
 * event-driven program is.  Whoever drives the fleet -- the poll() loop of
 * tests/real/test_flows.c, the libevent and libuv adapters' scenarios --
 * only waits on the connections and calls flowplan_tick() now and then;
 * the plans and what is checked afterwards are the same for every loop.
 * It lives in support/ because programs of two folders (real/, adapters/)
 * use it; it reads the servers' variables through real/realenv.h.
 *
 * Every connection starts with imclient_connect_start() to "localhost"
 * (certificates and Kerberos name the host).  One connection, the
 * appender, makes a mailbox of the fleet's own, waits until every other
 * connection idles on it, APPENDs a message, waits until they have all
 * logged out, deletes the mailbox and logs out.  The others, the idlers,
 * authenticate as their plan says, COMPRESS unless a SASL security layer
 * protects the connection (RFC 4978 forbids both), SELECT the mailbox,
 * IDLE, end IDLE with DONE when the appended message arrives as EXISTS,
 * and log out.
 */
#ifndef IMC_FLOWPLAN_H
#define IMC_FLOWPLAN_H

#include <time.h>

struct imclient;

enum flowplan_auth {
    FLOWPLAN_TLS_SCRAM, /* STARTTLS verified against IMC_CA_FILE, SCRAM-SHA-256 */
    FLOWPLAN_GSSAPI,    /* Kerberos with the KDC's ticket: a layer on Cyrus */
    FLOWPLAN_DIGEST,    /* DIGEST-MD5: a layer on Cyrus */
};

enum flowplan_role { FLOWPLAN_IDLER, FLOWPLAN_APPENDER };

/* In the order a connection takes them; each connection takes those of
 * its role and authentication (flowplan_takes()). */
enum flowplan_step {
    FLOWPLAN_CONNECT,
    FLOWPLAN_STARTTLS,
    FLOWPLAN_AUTHENTICATE,
    FLOWPLAN_COMPRESS,
    FLOWPLAN_CREATE,          /* appender */
    FLOWPLAN_WAIT_MAILBOX,    /* idler: until CREATE has said OK */
    FLOWPLAN_SELECT,          /* idler */
    FLOWPLAN_IDLE,            /* idler: from IDLE to its tagged reply */
    FLOWPLAN_WAIT_IDLERS,     /* appender: until every idler idles */
    FLOWPLAN_APPEND,          /* appender */
    FLOWPLAN_WAIT_LOGOUTS,    /* appender: until every idler is over */
    FLOWPLAN_DELETE,          /* appender */
    FLOWPLAN_LOGOUT,
    FLOWPLAN_OVER,
};

struct flowplan_conn;

/* How a step ended: result callbacks give an int, commands a keyword.  It
 * is the rock of the step's callback, so a call that comes twice or late
 * is counted where it belongs. */
struct flowplan_outcome {
    struct flowplan_conn *k;
    enum flowplan_step step;
    int calls;
    int result;    /* the result, or 0 for a tagged OK and 1 for anything else */
    char said[16]; /* the keyword of a command's reply */
};

struct flowplan_fleet;

struct flowplan_conn {
    struct flowplan_fleet *fleet;
    struct imclient *c; /* NULL once the plan closed it after a failure */
    enum flowplan_auth auth;
    enum flowplan_role role;
    enum flowplan_step step;
    struct flowplan_outcome outcome[FLOWPLAN_OVER];
    int ssf;               /* imclient_getssf() once authenticated */
    long exists;           /* the last EXISTS, -1: none yet */
    int exists_idling;     /* EXISTS of the appended message arrived during IDLE */
    int done_result;       /* imclient_idle_done() on that EXISTS */
    int failed;
    char why[240];
};

#define FLOWPLAN_MAX 12

struct flowplan_fleet {
    const char *server; /* the realenv prefix: "DOVECOT" or "CYRUS" */
    const char *port, *user, *pass, *ca_file;
    int layers;         /* GSSAPI and DIGEST-MD5 negotiate a security layer */
    char mailbox[64];
    time_t give_up;     /* flowplan_tick() ends a fleet still running then */
    struct flowplan_conn k[FLOWPLAN_MAX];
    int n;
};

/* Starts the fleet for "DOVECOT" or "CYRUS" (IMC_<server>_PORT, _USER,
 * _PASS; IMC_CA_FILE): every connection is made with
 * imclient_connect_start(), so attach them to a loop at once.  0, or -1
 * when the variables are missing or a connection could not be begun. */
int flowplan_start(struct flowplan_fleet *f, const char *server);

/* Call from the loop, outside the connections' callbacks, often (after
 * each round of events, or from a short timer): wakes the appender once
 * every idler idles (no callback says when a server has accepted IDLE),
 * fails a connection that ended on its way, and closes every connection
 * still running once one has failed or the fleet has run too long.
 * Returns how many connections are still running (not over). */
int flowplan_tick(struct flowplan_fleet *f);

/* Whether connection k takes step s. */
int flowplan_takes(const struct flowplan_conn *k, enum flowplan_step s);

/* The test's checks on every connection, once the loop has stopped. */
void flowplan_check(const struct flowplan_fleet *f);

/* imclient_close() of every connection the fleet still holds. */
void flowplan_close(struct flowplan_fleet *f);

#endif
