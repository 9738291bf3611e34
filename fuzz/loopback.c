#include "loopback.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <cyrus/imclient.h>

#include "listener.h"

struct imclient *fuzz_connect(int *server_fd)
{
    static int listen_fd = -1;
    static char port[16];
    if (listen_fd < 0) {
        signal(SIGPIPE, SIG_IGN);
        listen_fd = listen_loopback(8, port, sizeof port);
        if (listen_fd < 0)
            abort();
    }
    struct imclient *c;
    if (imclient_connect(&c, "127.0.0.1", port) != 0)
        abort();
    int fd = accept(listen_fd, NULL, NULL);
    int one = 1;
    if (fd < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        abort();
    *server_fd = fd;
    return c;
}
