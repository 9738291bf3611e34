/*
 * The one process-wide object the TLS layer keeps.
 *
 * Loading the system's CA bundle costs tens of milliseconds, paid by every
 * connection when each built its own store.  The store is instead built
 * once, on first use, and every SSL_CTX that verifies against the system's
 * CAs holds a reference to it.  Why sharing it is safe:
 *
 *  - It is written only inside pthread_once(), which completes before any
 *    thread's call returns; no thread sees it half made.
 *  - Nothing here or in the TLS layer modifies it afterwards: no
 *    certificate is added, no flag, depth, purpose or callback set.
 *    What differs between connections (the host name to check, the verify
 *    callback, client certificates) lives on each SSL_CTX and SSL.
 *  - OpenSSL documents concurrent lookups on a store, and the certificates
 *    its directory lookup caches in it under the store's own lock, as safe
 *    for holders that took a reference, which SSL_CTX_set1_cert_store()
 *    does.  Configuration calls are the unsafe ones, and none is made
 *    after loading.
 *  - It is never freed, so no holder can outlive it.
 *
 * The cost: a process sees a change to the system's CA bundle only when it
 * starts again (certificates the hashed directory gains may still be found).
 */
#include "transport/trust_store.h"

#include <pthread.h>

static pthread_once_t system_once = PTHREAD_ONCE_INIT;
static X509_STORE *system_store;

static void load_system_store(void)
{
    X509_STORE *s = X509_STORE_new();
    if (s && X509_STORE_set_default_paths(s) != 1) {
        X509_STORE_free(s);
        s = NULL;
    }
    system_store = s;
}

X509_STORE *imc_system_trust_store(void)
{
    pthread_once(&system_once, load_system_store);
    return system_store;
}
