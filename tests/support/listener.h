/* The listening half every scripted server shares: one socket on
 * 127.0.0.1 whose port the kernel picks, so tests never collide. */
#ifndef IMC_LISTENER_H
#define IMC_LISTENER_H

#include <stddef.h>

/* Listen on 127.0.0.1; the port, as text, goes to port.  Returns the
 * socket, or -1 with errno set. */
int listen_loopback(int backlog, char *port, size_t portlen);
/* Accept one connection if it comes within ms: the socket, -1 when
 * accept() fails, -2 when nobody came. */
int accept_within(int listen_fd, int ms);

#endif
