#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int listen_loopback(int backlog, char *port, size_t portlen)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, backlog) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    snprintf(port, portlen, "%u", ntohs(a.sin_port));
    return fd;
}

int accept_within(int listen_fd, int ms)
{
    struct pollfd p = { listen_fd, POLLIN, 0 };
    if (poll(&p, 1, ms) <= 0)
        return -2;
    return accept(listen_fd, NULL, NULL);
}
