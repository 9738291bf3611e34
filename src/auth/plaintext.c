/*
 * Mechanisms that send the password itself (libsasl2 marks every other
 * one SASL_SEC_NOPLAINTEXT: PLAIN and LOGIN are the usual two) are refused
 * on a connection without TLS, unless the application allowed them.  The
 * server's list of mechanisms cannot be trusted there either: whoever can
 * read the password on the path can also strip SCRAM from the list.
 */
#include "auth/auth_internal.h"

#include <sasl/saslplug.h>

int imc_auth_plaintext_allowed(const struct imclient *c)
{
    return imc_is(c, IMC_ST_TLS) || (imc_session_flags(&c->session) & IMCLIENT_CONN_ALLOWPLAINTEXT);
}

static void note_flags(client_sasl_mechanism_t *m, sasl_info_callback_stage_t stage,
                       void *rock)
{
    if (stage == SASL_INFO_LIST_MECH && m && m->plug)
        *(int *)rock |= (m->plug->security_flags & SASL_SEC_NOPLAINTEXT) ? 1 : 2;
}

int imc_auth_exposes_password(const char *mech)
{
    int seen = 0;
    /* A mechanism no plugin provides is left to fail as unavailable. */
    if (sasl_client_plugin_info(mech, note_flags, &seen) != SASL_OK)
        return 0;
    return (seen & 2) != 0;
}
