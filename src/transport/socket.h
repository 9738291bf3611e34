/* The bottom transport layer: a non-blocking TCP socket, and the layer
 * that stands in for it while the connection is being made. */
#ifndef IMC_SOCKET_H
#define IMC_SOCKET_H

#include "transport/dial.h"
#include "transport/transport.h"

/* A port given as a number or a TCP service name: its number, or -1 when
 * the name is unknown. */
int imc_socket_port(const char *port);

/*
 * Resolve host and port (a number or a service name) and connect, trying
 * each address in turn, waiting at most timeout_ms for each (-1: no limit)
 * and as long for the name lookup.  A host given in Unicode is resolved by
 * its A-label form (transport/idn.h).  Blocks the caller (its own poll
 * loop over transport/dial.h).  Returns 0 with *fd set to a connected
 * non-blocking socket; the errno of the last failed system call
 * (ETIMEDOUT for a lookup past its time); -1 for an unknown host (a name
 * with no A-label form included); -2 for an unknown service.  A readable
 * reason goes to err.
 */
int imc_socket_connect(const char *host, const char *port, int timeout_ms, int *fd,
                       char *err, size_t errlen);

struct imc_transport *imc_socket_transport_new(int fd);

/*
 * The layer while an attempt runs (it owns d).  Its fd is the attempt's
 * (imc_dial_fd), which an event loop watches for reading; reads find
 * nothing; writes are accepted and held -- in memory wiped when it lets go
 * of it, since a LOGIN may be among them -- for the socket to send first.
 */
struct imc_transport *imc_socket_connecting_new(struct imc_dial *d);
/* The attempt of a layer made by imc_socket_connecting_new(). */
struct imc_dial *imc_socket_connecting_dial(struct imc_transport *t);
/* Once the attempt has connected: the socket layer that replaces t (which
 * is freed), holding t's bytes to write before any other. */
struct imc_transport *imc_socket_connected(struct imc_transport *t);
/* Write what a socket layer still holds from the attempt, as far as the
 * socket takes it now.  0 (EAGAIN included: the rest goes before the next
 * write, or when a read finds the socket writable), or -1 with errno. */
int imc_socket_flush_held(struct imc_transport *t);

#endif
