/*
 * Host name lookup that never blocks: c-ares, one channel per lookup, its
 * sockets kept in an epoll set the caller owns, so that one descriptor
 * tells an event loop when the lookup can move on (transport/dial.h adds
 * the timer).  /etc/hosts is read before DNS, as the system's resolver
 * does ("hosts: files dns").
 */
#ifndef IMC_RESOLVE_H
#define IMC_RESOLVE_H

#include <stddef.h>
#include <sys/socket.h>

/* One address to connect to, its port already set. */
struct imc_addr {
    struct sockaddr_storage sa;
    socklen_t len;
};

struct imc_resolve;

/*
 * Start looking up host (ASCII: an A-label form, never raw UTF-8) for TCP
 * to port.  c-ares's sockets go into epfd, each with its own descriptor as
 * the event's data.fd, and leave it before they close.  servers: DNS
 * servers as c-ares's "host:port,..." list instead of /etc/resolv.conf's
 * (tests point lookups at servers of their own), or NULL.  Returns 0 with
 * *r set -- the lookup may already be complete (/etc/hosts) -- or an errno
 * value with the reason in err.
 */
int imc_resolve_start(struct imc_resolve **r, const char *host, int port, int epfd,
                      const char *servers, char *err, size_t errlen);

/* Tell c-ares that fd (one of its sockets) saw events (EPOLLIN ...), or
 * with fd -1 only let it act on its timeouts (resend, try the next
 * server, give up). */
void imc_resolve_process(struct imc_resolve *r, int fd, unsigned events);

/* Milliseconds until c-ares must be called for its timeouts, or -1 when it
 * waits for nothing. */
long imc_resolve_next_ms(struct imc_resolve *r);

/*
 * The outcome, once there is one: returns 1 with *result set -- 0 with
 * addresses (*addrs, *n: valid until imc_resolve_free), -1 unknown host,
 * an errno value otherwise (ETIMEDOUT when the DNS servers never
 * answered) -- and the reason in err when not 0.  Returns 0 while the
 * lookup goes on.
 */
int imc_resolve_outcome(struct imc_resolve *r, int *result, const struct imc_addr **addrs,
                        size_t *n, char *err, size_t errlen);

/* Stop the lookup if it still runs, close its sockets (they leave epfd,
 * which must still be open) and free it.  NULL is ignored. */
void imc_resolve_free(struct imc_resolve *r);

#endif
