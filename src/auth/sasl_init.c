/*
 * libsasl2 keeps its table of client plugins in process globals and has
 * to be initialised once before any connection uses it; its init is not
 * safe to race from two threads.  So this pthread_once and the result it
 * records are the one process-wide state of the library: the state belongs
 * to libsasl2, not to any connection, and cannot be moved into one.
 * sasl_done() is never called: another part of the program may use
 * libsasl2 too, and a library cannot know when the last user is gone.
 */
#include "auth/auth_internal.h"

#include <pthread.h>
#include <stdio.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = SASL_FAIL;

/* Process-wide messages (plugin loading) would otherwise go to syslog,
 * which a library has no business writing to. */
static int quiet_log(void *context, int level, const char *message)
{
    (void)context;
    (void)level;
    (void)message;
    return SASL_OK;
}

static const sasl_callback_t global_callbacks[] = {
    { SASL_CB_LOG, IMC_SASL_PROC(quiet_log), NULL },
    { SASL_CB_LIST_END, NULL, NULL },
};

static void init_sasl(void)
{
    init_result = sasl_client_init(global_callbacks);
}

int imc_sasl_init(char *err, size_t errlen)
{
    pthread_once(&init_once, init_sasl);
    if (init_result == SASL_OK)
        return 0;
    snprintf(err, errlen, "cannot initialise SASL: %s",
             sasl_errstring(init_result, NULL, NULL));
    return -1;
}
