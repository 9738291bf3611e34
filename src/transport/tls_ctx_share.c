/*
 * One SSL_CTX for all the connections made with the same TLS arguments.
 *
 * An SSL_CTX with its trust settings costs about 18 KiB; held per
 * connection it was most of what an idle TLS connection weighs.  Sharing
 * it is safe for the same reasons as sharing the trust store
 * (trust_store.c): a context is configured completely before it is
 * published here and never changed afterwards -- what differs between
 * connections (the host to check, the verify callback) is set on each SSL
 * -- and OpenSSL documents SSL_new() from several threads on one
 * configured context as safe.  A client context keeps no session cache by
 * default, so nothing of one connection's session reaches another.
 *
 * A context is shared only while the files it was made from are the very
 * same files, unchanged: a certificate or CA file replaced on disk gets a
 * fresh context at the next connection.  A context lives while a
 * connection holds it, so an idle process holds none.
 */
#include "transport/tls_ctx_share.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cyrus/xmalloc.h"

enum { CA_FILE, CA_PATH, CERT_FILE, KEY_FILE, NFILES };

struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

struct entry {
    struct imc_tls_ctx_share share; /* first: what holders see */
    struct entry *next;
    int listed;   /* others may find it */
    size_t users; /* holders */
    int verify;
    char *names[NFILES];
    struct file_id ids[NFILES];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *entries;

static int identify(const char *name, struct file_id *id)
{
    struct stat st;
    memset(id, 0, sizeof *id);
    if (!name)
        return 0;
    if (stat(name, &st) != 0)
        return -1;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->size = st.st_size;
    id->mtime = st.st_mtim;
    return 0;
}

static int same_id(const struct file_id *a, const struct file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static int same_name(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* The arguments and the identity of every file they name; -1 when a file
 * cannot be looked at (make() will say why, or find it there after all). */
static int describe(const struct imc_tls_options *o, struct entry *e)
{
    const char *names[NFILES] = { o->ca_file, o->ca_path, o->cert_file, o->key_file };
    e->verify = o->verify;
    int r = 0;
    for (int i = 0; i < NFILES; i++) {
        e->names[i] = (char *)names[i];
        if (identify(names[i], &e->ids[i]) < 0)
            r = -1;
    }
    return r;
}

static int matches(const struct entry *e, const struct entry *want)
{
    if (e->verify != want->verify)
        return 0;
    for (int i = 0; i < NFILES; i++)
        if (!same_name(e->names[i], want->names[i]) || !same_id(&e->ids[i], &want->ids[i]))
            return 0;
    return 1;
}

/* Under lock: the entry made from want's files, one holder more. */
static struct entry *find_and_hold(const struct entry *want)
{
    for (struct entry *e = entries; e; e = e->next)
        if (matches(e, want)) {
            e->users++;
            return e;
        }
    return NULL;
}

static struct entry *keep(const struct entry *desc, SSL_CTX *ctx, int listed)
{
    struct entry *e = xzmalloc(sizeof *e);
    *e = *desc;
    for (int i = 0; i < NFILES; i++)
        e->names[i] = desc->names[i] ? xstrdup(desc->names[i]) : NULL;
    e->share.ctx = ctx;
    e->users = 1;
    e->listed = listed;
    return e;
}

struct imc_tls_ctx_share *imc_tls_ctx_obtain(const struct imc_tls_options *o,
                                             imc_tls_ctx_make_fn *make, char *err,
                                             size_t errlen)
{
    struct entry want, after;
    memset(&want, 0, sizeof want);
    int known = describe(o, &want) == 0;
    if (known) {
        pthread_mutex_lock(&lock);
        struct entry *e = find_and_hold(&want);
        pthread_mutex_unlock(&lock);
        if (e)
            return &e->share;
    }
    /* Made outside the lock: loading CA files takes a while. */
    SSL_CTX *ctx = make(o, err, errlen);
    if (!ctx)
        return NULL;
    /* A file changed while it was being read: the context may hold some
     * of either version, so nobody else gets it. */
    if (!known || describe(o, &after) != 0 || !matches(&after, &want))
        return &keep(&want, ctx, 0)->share;
    pthread_mutex_lock(&lock);
    struct entry *e = find_and_hold(&want);
    if (!e) {
        e = keep(&want, ctx, 1);
        e->next = entries;
        entries = e;
        ctx = NULL;
    }
    pthread_mutex_unlock(&lock);
    SSL_CTX_free(ctx); /* another thread made the same one first */
    return &e->share;
}

struct imc_tls_ctx_share *imc_tls_ctx_hold(struct imc_tls_ctx_share *share)
{
    struct entry *e = (struct entry *)share;
    pthread_mutex_lock(&lock);
    e->users++;
    pthread_mutex_unlock(&lock);
    return share;
}

void imc_tls_ctx_release(struct imc_tls_ctx_share *share)
{
    struct entry *e = (struct entry *)share;
    if (!e)
        return;
    pthread_mutex_lock(&lock);
    int last = --e->users == 0;
    if (last && e->listed) {
        struct entry **p = &entries;
        while (*p != e)
            p = &(*p)->next;
        *p = e->next;
    }
    pthread_mutex_unlock(&lock);
    if (!last)
        return;
    /* SSLs made from it hold their own references. */
    SSL_CTX_free(e->share.ctx);
    for (int i = 0; i < NFILES; i++)
        free(e->names[i]);
    free(e);
}

size_t imc_tls_ctx_shared_count(void)
{
    size_t n = 0;
    pthread_mutex_lock(&lock);
    for (struct entry *e = entries; e; e = e->next)
        n++;
    pthread_mutex_unlock(&lock);
    return n;
}
