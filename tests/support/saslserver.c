#include "saslserver.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth_internal.h"

/* libsasl2's DIGEST-MD5 plugin fetches its RC4/DES ciphers from OpenSSL 3
 * and never frees them; LeakSanitizer is told about that plugin only.
 * The fast unwinder stops inside libcrypto (no frame pointers), so the
 * plugin would not show in the stacks without the slow one.  (Read by the
 * sanitizers when they are built in; unused functions otherwise.)  They
 * live here because every program that runs the server side runs
 * DIGEST-MD5, and this file is linked into exactly those programs: the
 * linker takes it from the archive for the saslserver_ functions. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libdigestmd5.so\n";
}

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

static char sasldb_path[128];

static int server_getopt(void *ctx, const char *plugin, const char *opt, const char **res,
                         unsigned *len)
{
    (void)ctx;
    (void)plugin;
    if (strcmp(opt, "sasldb_path") == 0)
        *res = sasldb_path;
    else if (strcmp(opt, "auxprop_plugin") == 0)
        *res = "sasldb";
    else if (strcmp(opt, "pwcheck_method") == 0)
        *res = "auxprop";
    else if (strcmp(opt, "reauth_timeout") == 0)
        *res = "10"; /* minutes: the server accepts DIGEST-MD5 reauthentication */
    else
        return SASL_FAIL;
    if (len)
        *len = (unsigned)strlen(*res);
    return SASL_OK;
}

static const sasl_callback_t server_callbacks[] = {
    { SASL_CB_GETOPT, IMC_SASL_PROC(server_getopt), NULL },
    { SASL_CB_LIST_END, NULL, NULL },
};

static pthread_once_t server_once = PTHREAD_ONCE_INIT;
static int server_state = -1;

static void remove_sasldb(void)
{
    unlink(sasldb_path);
}

static void init_server_side(void)
{
    snprintf(sasldb_path, sizeof sasldb_path, "/tmp/imc-auth-test-%d.db", (int)getpid());
    unlink(sasldb_path);
    atexit(remove_sasldb);
    if (sasl_server_init(server_callbacks, "imctest") != SASL_OK)
        return;
    sasl_conn_t *s = NULL;
    if (sasl_server_new("imap", "127.0.0.1", NULL, NULL, NULL, NULL, 0, &s) != SASL_OK)
        return;
    int r = SASL_OK;
    for (int i = 0; i < SASLSERVER_USERS && r == SASL_OK; i++) {
        char user[16];
        snprintf(user, sizeof user, "user%d", i);
        r = sasl_setpass(s, user, SASLSERVER_PASSWORD, (unsigned)strlen(SASLSERVER_PASSWORD),
                         NULL, 0, SASL_SET_CREATE);
    }
    sasl_dispose(&s);
    server_state = r == SASL_OK ? 0 : -1;
}

int saslserver_ready(void)
{
    pthread_once(&server_once, init_server_side);
    return server_state;
}

const char *saslserver_fresh_user(void)
{
    static char names[SASLSERVER_USERS][16];
    static int next;
    int i = next++ % SASLSERVER_USERS;
    snprintf(names[i], sizeof names[i], "user%d", i);
    return names[i];
}

sasl_conn_t *saslserver_conn(unsigned max_ssf)
{
    sasl_conn_t *s = NULL;
    if (sasl_server_new("imap", "127.0.0.1", NULL, NULL, NULL, NULL, 0, &s) != SASL_OK)
        return NULL;
    sasl_security_properties_t sp;
    memset(&sp, 0, sizeof sp);
    sp.max_ssf = max_ssf;
    sp.maxbufsize = 65536;
    sasl_setprop(s, SASL_SEC_PROPS, &sp);
    return s;
}
