/*
 * bench_tls_setup: what putting a TLS layer on a connection costs before
 * any byte is exchanged, with the system's trusted CAs (CAfile and CApath
 * both NULL).  That cost is paid by every imclient_starttls() and
 * imclient_begintls(), so it is the floor of a connection's set-up time.
 *
 *     bench_tls_setup [-n LAYERS]
 *
 * The layers sit on one end of a socketpair; nothing is sent.  The first
 * layer is reported apart: it may pay for loading the store once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stats.h"
#include "transport/socket.h"
#include "transport/tls.h"

/* Seconds to create and destroy one layer; -1 if it could not be made. */
static double one_layer(void)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        return -1;
    struct imc_transport *lower = imc_socket_transport_new(fds[0]);
    struct imc_tls_options o = { "imap.example.org", 1, NULL, NULL, NULL, NULL };
    char err[300];
    double t0 = bench_now();
    struct imc_transport *t = imc_tls_new(lower, &o, err, sizeof err);
    double took = bench_now() - t0;
    if (!t) {
        fprintf(stderr, "bench_tls_setup: %s\n", err);
        imc_transport_destroy(lower);
        took = -1;
    } else {
        imc_transport_destroy(t);
    }
    close(fds[1]);
    return took;
}

int main(int argc, char **argv)
{
    int n = 50;
    if (argc == 3 && argv[1][0] == '-' && argv[1][1] == 'n')
        n = atoi(argv[2]);
    if (n < 2 || n > 100000) {
        fprintf(stderr, "usage: bench_tls_setup [-n LAYERS (2..100000)]\n");
        return 2;
    }
    double *rest = malloc(sizeof *rest * (size_t)n);
    double first = one_layer(), total = first;
    for (int i = 0; i < n - 1; i++) {
        rest[i] = one_layer();
        if (rest[i] < 0 || first < 0)
            return 1;
        total += rest[i];
    }
    struct bench_summary s = bench_summarize(rest, (size_t)n - 1);
    printf("%d TLS layers with the system store: %.1f ms in all\n", n, total * 1e3);
    printf("  first layer: %.2f ms\n", first * 1e3);
    printf("  each later layer: %.3f ms [%.3f .. %.3f]\n", s.median * 1e3, s.min * 1e3,
           s.max * 1e3);
    free(rest);
    return 0;
}
