#include "dynserver.h"

#include <errno.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"

void dyn_fail(struct dynserver *d, const char *fmt, ...)
{
    if (d->error[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->error, sizeof d->error, fmt, ap);
    va_end(ap);
    if (getenv("IMC_TEST_DEBUG"))
        fprintf(stderr, "dynserver: %s\n", d->error);
}

int dyn_write(struct dynserver *d, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = send(d->fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            dyn_fail(d, "write: %s", strerror(errno));
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int dyn_send(struct dynserver *d, const char *s)
{
    return dyn_write(d, s, strlen(s));
}

ssize_t dyn_read_raw(struct dynserver *d, char *buf, size_t cap)
{
    struct pollfd p = { d->fd, POLLIN, 0 };
    if (poll(&p, 1, 5000) <= 0) {
        dyn_fail(d, "timeout waiting for the client");
        return -1;
    }
    ssize_t n = read(d->fd, buf, cap);
    if (n < 0)
        dyn_fail(d, "read: %s", strerror(errno));
    return n;
}

char *dyn_line(struct dynserver *d)
{
    for (;;) {
        char *eol = d->in.len ? memchr(d->in.data, '\n', d->in.len) : NULL;
        if (eol) {
            size_t n = (size_t)(eol - d->in.data) + 1;
            char *line = strndup(d->in.data, n > 1 && eol[-1] == '\r' ? n - 2 : n - 1);
            imc_buf_consume(&d->in, n);
            return line;
        }
        char buf[4096];
        ssize_t n = dyn_read_raw(d, buf, sizeof buf);
        if (n <= 0) {
            dyn_fail(d, "client went away before a line");
            return NULL;
        }
        imc_buf_append(&d->in, buf, (size_t)n);
    }
}

int dyn_expect(struct dynserver *d, const char *want)
{
    char *line = dyn_line(d);
    if (!line)
        return -1;
    int ok = strcmp(line, want) == 0;
    if (!ok)
        dyn_fail(d, "got \"%s\", want \"%s\"", line, want);
    free(line);
    return ok ? 0 : -1;
}

static void *dyn_serve(void *arg)
{
    struct dynserver *d = arg;
    d->fd = accept_within(d->listen_fd, 10000);
    if (d->fd == -2) {
        d->fd = -1;
        dyn_fail(d, "no client connected");
        return NULL;
    }
    d->fn(d);
    /* Let the client see everything before it sees the close. */
    char buf[4096];
    shutdown(d->fd, SHUT_WR);
    while (dyn_read_raw(d, buf, sizeof buf) > 0)
        ;
    close(d->fd);
    return NULL;
}

struct dynserver *dyn_start(void (*fn)(struct dynserver *), void *arg)
{
    struct dynserver *d = calloc(1, sizeof *d);
    d->fn = fn;
    d->arg = arg;
    d->fd = -1;
    d->listen_fd = listen_loopback(4, d->port, sizeof d->port);
    if (d->listen_fd < 0)
        abort();
    pthread_create(&d->thread, NULL, dyn_serve, d);
    return d;
}

int dyn_finish(struct dynserver *d, char *err, size_t errlen)
{
    pthread_join(d->thread, NULL);
    snprintf(err, errlen, "%s", d->error);
    close(d->listen_fd);
    imc_buf_free(&d->in);
    int r = d->error[0] ? -1 : 0;
    free(d);
    return r;
}

void dyn_finish_quiet(struct dynserver *d)
{
    char err[600];
    dyn_finish(d, err, sizeof err);
}

char *dyn_b64(const void *data, size_t len)
{
    char *out = malloc(len / 3 * 4 + 8);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    out[n] = '\0';
    return out;
}

char *dyn_unb64(const char *s, size_t *len)
{
    size_t n = strlen(s);
    unsigned char *out = malloc(n / 4 * 3 + 4);
    int r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (r < 0) {
        free(out);
        return NULL;
    }
    size_t pad = (n >= 1 && s[n - 1] == '=') + (n >= 2 && s[n - 2] == '=');
    *len = (size_t)r - pad;
    out[*len] = '\0';
    return (char *)out;
}
