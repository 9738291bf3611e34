/*
 * One connection attempt that never blocks: look the host up
 * (transport/resolve.h), then connect to each address in turn, each with
 * its own timeout.  Everything it waits for -- c-ares's sockets, the
 * connecting socket, its timers -- sits in one epoll set, so an event loop
 * watches a single descriptor for reading, with no timeout of its own:
 * when that descriptor is readable, imc_dial_step() has work.
 */
#ifndef IMC_DIAL_H
#define IMC_DIAL_H

#include <limits.h>
#include <stddef.h>

/* imc_dial_step()'s answer while the attempt goes on. */
#define IMC_DIAL_MORE INT_MIN

struct imc_dial_options {
    /* Bound on the lookup and, apart, on each address's connect, in ms;
     * -1: none of ours (c-ares's own retries still end a lookup). */
    int timeout_ms;
    /* DNS servers instead of /etc/resolv.conf's, as c-ares's
     * "host:port,..." list; NULL for the system's.  For tests. */
    const char *dns_servers;
};

struct imc_dial;

/*
 * Start connecting to host (UTF-8 or ASCII, a name or an address) at port
 * (a number or a service name; NULL: "imap").  Returns 0 with *d set; or,
 * for what is known at once, -2 unknown service, -1 a name with no
 * A-label form, an errno value when the attempt's own descriptors cannot
 * be made; the reason goes to err.  The outcome may already be known (a
 * refused connect to an address): imc_dial_fd() is then readable at once.
 */
int imc_dial_start(struct imc_dial **d, const char *host, const char *port,
                   const struct imc_dial_options *o, char *err, size_t errlen);

/* The descriptor to watch for reading while the attempt runs. */
int imc_dial_fd(const struct imc_dial *d);

/*
 * Do what is ready and what is due, never waiting.  Returns IMC_DIAL_MORE
 * while the attempt goes on; else its outcome, every time it is asked: 0
 * connected (imc_dial_take_socket()), an errno value (that of the last
 * address tried, ETIMEDOUT for a lookup past its time), -1 unknown host;
 * the reason then goes to err.
 */
int imc_dial_step(struct imc_dial *d, char *err, size_t errlen);

/* After 0: the connected non-blocking socket, now the caller's. */
int imc_dial_take_socket(struct imc_dial *d);

/* Stop the attempt and close what it holds.  NULL is ignored. */
void imc_dial_free(struct imc_dial *d);

#endif
