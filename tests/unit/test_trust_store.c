/*
 * The system's trusted CAs are loaded once per process and shared by
 * reference (src/transport/trust_store.c).  The first test must stay first:
 * its threads race to the store's first use.  The sanitizer build runs it
 * too, where a use after free or a double free of the store would show.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "tlsfake.h"
#include "transport/socket.h"
#include "transport/tls.h"

static char certdir[64];
static char ca_file[128];

#define THREADS 4
#define LAYERS_PER_THREAD 5

/* A layer over one end of a socketpair: nothing is ever exchanged. */
struct idle_layer {
    struct imc_transport *t;
    int peer;
};

static int idle_layer_new(struct idle_layer *il, const char *ca)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        return -1;
    struct imc_transport *lower = imc_socket_transport_new(fds[0]);
    struct imc_tls_options o = { "imap.example.org", 1, NULL, NULL, ca, NULL };
    char err[300];
    il->t = imc_tls_new(lower, &o, err, sizeof err);
    il->peer = fds[1];
    if (!il->t) {
        fprintf(stderr, "  %s\n", err);
        imc_transport_destroy(lower);
        close(fds[1]);
        return -1;
    }
    return 0;
}

static void idle_layer_free(struct idle_layer *il)
{
    imc_transport_destroy(il->t);
    close(il->peer);
}

/* ---- threads ------------------------------------------------------------ */

struct worker {
    pthread_t thread;
    const void *stores[LAYERS_PER_THREAD];
    int failed;
};

static pthread_barrier_t start_line;

static void *make_layers(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(&start_line);
    for (int i = 0; i < LAYERS_PER_THREAD; i++) {
        struct idle_layer il;
        if (idle_layer_new(&il, NULL) < 0) {
            w->failed = 1;
            return NULL;
        }
        w->stores[i] = imc_tls_trust_store(il.t);
        idle_layer_free(&il);
    }
    return NULL;
}

/* Threads that create layers at once all get the one store, made once. */
static void concurrent_first_use(void)
{
    struct worker w[THREADS];
    memset(w, 0, sizeof w);
    CHECK(pthread_barrier_init(&start_line, NULL, THREADS) == 0);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&w[i].thread, NULL, make_layers, &w[i]) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(w[i].thread, NULL);
    pthread_barrier_destroy(&start_line);
    const void *first = w[0].stores[0];
    int differ = 0, failed = 0;
    for (int i = 0; i < THREADS; i++) {
        failed |= w[i].failed;
        for (int k = 0; k < LAYERS_PER_THREAD; k++)
            differ |= w[i].stores[k] != first;
    }
    CHECK(!failed);
    CHECK(first != NULL);
    CHECK(!differ);
}

/* Poll the socket the way the layer asks, at most ms. */
static int wait_ready(struct imc_transport *t, int ms)
{
    struct pollfd p = { t->fd, POLLIN, 0 };
    if (imc_transport_wants(t) & IMC_WANT_WRITE)
        p.events |= POLLOUT;
    return poll(&p, 1, ms);
}

struct verifier {
    pthread_t thread;
    struct tlsfake *fs;
    char err[300];
};

/* Verify a certificate the system does not trust: the lookups in the
 * shared store run while the other threads do the same. */
static void *verify_against_system(void *arg)
{
    struct verifier *v = arg;
    int fd;
    pthread_barrier_wait(&start_line);
    if (imc_socket_connect("127.0.0.1", tlsfake_port(v->fs), 5000, &fd, v->err,
                           sizeof v->err) != 0)
        return NULL;
    struct imc_tls_options o = { "localhost", 1, NULL, NULL, NULL, NULL };
    struct imc_transport *t =
        imc_tls_new(imc_socket_transport_new(fd), &o, v->err, sizeof v->err);
    if (!t)
        return NULL;
    int r = 0;
    for (int i = 0; i < 100 && r == 0; i++)
        if ((r = imc_tls_handshake(t)) == 0 && wait_ready(t, 5000) <= 0)
            break;
    snprintf(v->err, sizeof v->err, "%s", r > 0 ? "accepted" : t->error);
    imc_transport_destroy(t);
    return NULL;
}

static void concurrent_handshakes(void)
{
    struct verifier v[THREADS];
    memset(v, 0, sizeof v);
    char good[128], key[128];
    snprintf(good, sizeof good, "%s/good.pem", certdir);
    snprintf(key, sizeof key, "%s/leaf.key", certdir);
    struct tlsfake_config cfg = { good, key, NULL, 0 };
    CHECK(pthread_barrier_init(&start_line, NULL, THREADS) == 0);
    for (int i = 0; i < THREADS; i++) {
        v[i].fs = tlsfake_start(&cfg, TLSFAKE(T_TLS_MAYFAIL()));
        CHECK(pthread_create(&v[i].thread, NULL, verify_against_system, &v[i]) == 0);
    }
    int bad = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(v[i].thread, NULL);
        char serr[600];
        bad += tlsfake_wait(v[i].fs, serr, sizeof serr) != 0;
        tlsfake_free(v[i].fs);
        if (!strstr(v[i].err, "unable to get local issuer certificate")) {
            fprintf(stderr, "  thread %d: %s\n", i, v[i].err);
            bad++;
        }
    }
    pthread_barrier_destroy(&start_line);
    CHECK_INT(bad, 0);
}

/* ---- sharing ------------------------------------------------------------- */

/* The system store is shared by reference and outlives every layer;
 * a CAfile gives its layers a store apart from it (one for all the layers
 * made with that file: test_tls_ctx_share). */
static void shared_by_reference(void)
{
    struct idle_layer a, b, own1, own2;
    CHECK(idle_layer_new(&a, NULL) == 0);
    CHECK(idle_layer_new(&b, NULL) == 0);
    CHECK(idle_layer_new(&own1, ca_file) == 0);
    CHECK(idle_layer_new(&own2, ca_file) == 0);
    const void *shared = imc_tls_trust_store(a.t);
    CHECK(shared != NULL);
    CHECK(imc_tls_trust_store(b.t) == shared);
    CHECK(imc_tls_trust_store(own1.t) != shared);
    CHECK(imc_tls_trust_store(own2.t) != shared);
    CHECK(imc_tls_trust_store(own1.t) == imc_tls_trust_store(own2.t));
    idle_layer_free(&a);
    idle_layer_free(&b);
    idle_layer_free(&own1);
    idle_layer_free(&own2);
    /* With no layer left holding it, the store is still the same one. */
    struct idle_layer c;
    CHECK(idle_layer_new(&c, NULL) == 0);
    CHECK(imc_tls_trust_store(c.t) == shared);
    idle_layer_free(&c);
}

int main(int argc, char **argv)
{
    snprintf(certdir, sizeof certdir, "/tmp/imc-truststore.XXXXXX");
    if (!mkdtemp(certdir) || tlsfake_certs_make(certdir) < 0)
        return 1;
    snprintf(ca_file, sizeof ca_file, "%s/ca.pem", certdir);
    static const struct check_test tests[] = {
        TEST(concurrent_first_use), /* first: nothing has loaded the store yet */
        TEST(concurrent_handshakes),
        TEST(shared_by_reference),
    };
    int r = check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
    tlsfake_certs_remove(certdir);
    return r;
}
