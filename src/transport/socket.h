/* The bottom transport layer: a non-blocking TCP socket. */
#ifndef IMC_SOCKET_H
#define IMC_SOCKET_H

#include "transport/transport.h"

/*
 * Resolve host and port (a number or a service name) and connect, trying
 * each address in turn, waiting at most timeout_ms for each (-1: no limit).
 * A host given in Unicode is resolved by its A-label form (transport/idn.h).
 * Returns 0 with *fd set to a connected non-blocking socket; the errno of
 * the last failed system call; -1 for an unknown host (a name with no
 * A-label form included); -2 for an unknown service.  A readable reason
 * goes to err.
 */
int imc_socket_connect(const char *host, const char *port, int timeout_ms, int *fd,
                       char *err, size_t errlen);

struct imc_transport *imc_socket_transport_new(int fd);

#endif
