/* The fuzz targets' scripted server end: an imclient connected over
 * 127.0.0.1 to a socket the target plays the server on (non-blocking,
 * Nagle off so every turn leaves at once).  Aborts when that fails: the
 * machine, not the input, is at fault then. */
#ifndef IMC_FUZZ_LOOPBACK_H
#define IMC_FUZZ_LOOPBACK_H

struct imclient;

/* The connection, and the server's end in *server_fd. */
struct imclient *fuzz_connect(int *server_fd);

#endif
