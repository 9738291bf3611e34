/*
 * imclient_authenticate_cyrus3(): Cyrus 3.x's authenticate (a mechanism
 * list string, SSF bounds) on the library's authentication flow, with the
 * callbacks given to imclient_connect_cyrus3() answering for secrets.
 *
 * The bounds become the page's protallowed classes -- none (SSF 0),
 * integrity (1), privacy (more) -- which is what the flow negotiates with;
 * finer bounds (say 56 to 128) are checked once the layer is known.
 */
#include "compat/compat.h"

#include "auth/auth_internal.h"

_Static_assert(IMCLIENT_CONN_INITIALRESPONSE != IMCLIENT_CONN_NONSYNCLITERAL &&
                   IMCLIENT_CONN_INITIALRESPONSE != IMCLIENT_CONN_ALLOWPLAINTEXT,
               "IMCLIENT_CONN_INITIALRESPONSE needs a bit of its own");

static int protallowed(int minssf, int maxssf)
{
    int prot = 0;
    if (minssf > maxssf)
        return 0;
    if (minssf <= 0)
        prot |= SASL_PROT_NONE;
    if (minssf <= 1 && maxssf >= 1)
        prot |= SASL_PROT_INTEGRITY;
    if (maxssf >= 2)
        prot |= SASL_PROT_PRIVACY;
    return prot;
}

/* After a success: the layer's strength against the caller's bounds. */
static int check_bounds(struct imclient *c, int minssf, int maxssf)
{
    int ssf = imclient_getssf(c);
    if (ssf >= minssf && ssf <= maxssf)
        return 0;
    /* Both sides already speak through the layer: there is no going back
     * to a connection without it. */
    imc_fail(c, IMCLIENT_EAUTH,
             "the security layer negotiated has strength %d, outside the %d to %d asked for",
             ssf, minssf, maxssf);
    return 1;
}

int imclient_authenticate_cyrus3(struct imclient *imclient, char *mechlist, char *service,
                                 char *user, int minssf, int maxssf)
{
    struct imclient *c = imclient;
    char err[200];
    /* The list is ordered by the plugins libsasl2 has. */
    if (imc_sasl_init(err, sizeof err) < 0) {
        imc_explain(c, IMCLIENT_EAUTH, "%s", err);
        return 1;
    }
    struct sasl_client **mechs = imc_cyrus3_mechs(mechlist);
    if (!mechs) {
        imc_explain(c, IMCLIENT_EMISUSE, "imclient_authenticate: the mechanism list names none");
        return 1;
    }
    int prot = protallowed(minssf, maxssf);
    if (!prot) {
        imc_cyrus3_mechs_free(mechs);
        imc_explain(c, IMCLIENT_EMISUSE, "imclient_authenticate: minssf %d is above maxssf %d",
                    minssf, maxssf);
        return 1;
    }
    struct imc_cyrus3_answers answers;
    imc_cyrus3_answers_begin(&answers, c);
    int r = imclient_authenticate(c, mechs, service, user, prot);
    int alive = answers.c != NULL;
    imc_cyrus3_answers_end(&answers);
    imc_cyrus3_mechs_free(mechs);
    if (r == 0 && alive)
        r = check_bounds(c, minssf, maxssf);
    return r;
}
