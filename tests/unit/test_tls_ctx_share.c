/*
 * TLS contexts shared by the connections made with the same arguments
 * (src/transport/tls_ctx_share.c): the same files give the same context,
 * anything else -- other files, other verification, a file changed on
 * disk -- a context of its own; a context lives while someone holds it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "tlsfake.h"
#include "transport/tls.h"
#include "transport/tls_config.h"
#include "transport/tls_ctx_share.h"

static char certdir[64];
static char path_buf[8][160];

static const char *cert(int slot, const char *name)
{
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", certdir, name);
    return path_buf[slot];
}

static struct imc_tls_config *config(int verify, const char *ca, const char *client_cert)
{
    struct imc_tls_options o = { "localhost", verify, client_cert, NULL, ca, NULL };
    char err[300];
    struct imc_tls_config *cfg = imc_tls_config_new(&o, err, sizeof err);
    if (!cfg)
        fprintf(stderr, "  %s\n", err);
    return cfg;
}

static void same_arguments_one_context(void)
{
    const char *ca = cert(0, "ca.pem");
    struct imc_tls_config *a = config(1, ca, NULL), *b = config(1, ca, NULL);
    struct imc_tls_config *sys1 = config(1, NULL, NULL), *sys2 = config(1, NULL, NULL);
    CHECK(a && b && sys1 && sys2);
    CHECK(a->ctx == b->ctx);
    CHECK(sys1->ctx == sys2->ctx);
    CHECK(a->ctx != sys1->ctx);
    CHECK_INT(imc_tls_ctx_shared_count(), 2);
    imc_tls_config_free(a);
    CHECK_INT(imc_tls_ctx_shared_count(), 2); /* b still holds it */
    imc_tls_config_free(b);
    imc_tls_config_free(sys1);
    imc_tls_config_free(sys2);
    CHECK_INT(imc_tls_ctx_shared_count(), 0);
}

/* Every argument that changes what is trusted or presented separates. */
static void other_arguments_other_context(void)
{
    const char *ca = cert(0, "ca.pem"), *other = cert(1, "other-ca.pem");
    struct imc_tls_config *c[5] = {
        config(1, ca, NULL),
        config(1, other, NULL),
        config(0, ca, NULL),
        config(1, ca, cert(2, "client-all.pem")),
        config(0, NULL, NULL),
    };
    for (int i = 0; i < 5; i++)
        CHECK(c[i] != NULL);
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            if (c[i]->ctx == c[j]->ctx)
                check_fail(__FILE__, __LINE__, "configurations %d and %d share a context", i, j);
    CHECK_INT(imc_tls_ctx_shared_count(), 5);
    for (int i = 0; i < 5; i++)
        imc_tls_config_free(c[i]);
    CHECK_INT(imc_tls_ctx_shared_count(), 0);
}

/* A CA file replaced on disk is read anew; whoever holds the old context
 * keeps it. */
static void changed_file_new_context(void)
{
    const char *ca = cert(3, "changing-ca.pem");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp %s/ca.pem %s", certdir, ca);
    CHECK_INT(system(cmd), 0);
    struct imc_tls_config *before = config(1, ca, NULL);
    CHECK(before != NULL);
    /* The other CA, then a later time than any the first copy could have. */
    snprintf(cmd, sizeof cmd, "cp %s/other-ca.pem %s.new && touch -d '+1 hour' %s.new && mv %s.new %s",
             certdir, ca, ca, ca, ca);
    CHECK_INT(system(cmd), 0);
    struct imc_tls_config *after = config(1, ca, NULL);
    CHECK(after != NULL);
    CHECK(after->ctx != before->ctx);
    X509_STORE *old_store = SSL_CTX_get_cert_store(before->ctx);
    X509_STORE *new_store = SSL_CTX_get_cert_store(after->ctx);
    CHECK(old_store != new_store);
    imc_tls_config_free(before);
    imc_tls_config_free(after);
    CHECK_INT(imc_tls_ctx_shared_count(), 0);
    unlink(ca);
}

/* Refusals are the same as without sharing, and leave nothing held. */
static void refusals_unchanged(void)
{
    struct imc_tls_options o = { "localhost", 1, NULL, NULL, "", NULL };
    char err[300];
    CHECK(imc_tls_config_new(&o, err, sizeof err) == NULL);
    CHECK(strncmp(err, "CAfile is \"\"", 12) == 0);
    o.ca_file = cert(4, "no-such-ca.pem");
    CHECK(imc_tls_config_new(&o, err, sizeof err) == NULL);
    CHECK(strstr(err, "No such file or directory") != NULL);
    CHECK_INT(imc_tls_ctx_shared_count(), 0);
}

#define THREADS 4
#define PER_THREAD 25

struct worker {
    pthread_t thread;
    struct imc_tls_config *cfg[PER_THREAD];
};

static void *obtain_many(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++)
        w->cfg[i] = config(1, path_buf[0], NULL);
    return NULL;
}

/* Threads asking at once end up sharing one context. */
static void concurrent_obtain(void)
{
    cert(0, "ca.pem");
    static struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK_INT(pthread_create(&w[i].thread, NULL, obtain_many, &w[i]), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(w[i].thread, NULL);
    SSL_CTX *one = w[0].cfg[0] ? w[0].cfg[0]->ctx : NULL;
    CHECK(one != NULL);
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < PER_THREAD; j++)
            CHECK(w[i].cfg[j] && w[i].cfg[j]->ctx == one);
    CHECK_INT(imc_tls_ctx_shared_count(), 1);
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < PER_THREAD; j++)
            imc_tls_config_free(w[i].cfg[j]);
    CHECK_INT(imc_tls_ctx_shared_count(), 0);
}

int main(int argc, char **argv)
{
    snprintf(certdir, sizeof certdir, "/tmp/imc-ctxshare.XXXXXX");
    if (!mkdtemp(certdir) || tlsfake_certs_make(certdir) < 0)
        return 1;
    static const struct check_test tests[] = {
        TEST(same_arguments_one_context),
        TEST(other_arguments_other_context),
        TEST(changed_file_new_context),
        TEST(refusals_unchanged),
        TEST(concurrent_obtain),
    };
    int r = check_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
    tlsfake_certs_remove(certdir);
    return r;
}
