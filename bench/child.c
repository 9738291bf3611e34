#include "child.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static size_t read_all(int fd, void *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, (char *)p + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    return got;
}

int bench_in_child(void (*fn)(const void *arg, void *out), const void *arg, void *out,
                   size_t size, const char *prog, const char *name)
{
    int fds[2];
    if (pipe(fds) < 0) {
        fprintf(stderr, "%s: %s: pipe: %s\n", prog, name, strerror(errno));
        return -1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: %s: fork: %s\n", prog, name, strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        fn(arg, out);
        _exit(write_all(fds[1], out, size) < 0 ? 3 : 0);
    }
    close(fds[1]);
    size_t got = read_all(fds[0], out, size);
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (got != size || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: %s: child died (status %d)\n", prog, name, status);
        return -1;
    }
    return 0;
}
