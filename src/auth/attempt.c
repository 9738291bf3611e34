/*
 * One mechanism, start to finish: a sasl_conn_t that knows only this
 * mechanism and this connection's secrets, the security properties the
 * application allows, the AUTHENTICATE exchange, and then the switch the
 * server's tagged reply calls for.
 */
#include "auth/auth_internal.h"

#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "transport/sasl_layer.h"

/* "addr;port", the form sasl_client_new() takes; DIGEST-MD5 and the
 * security layers of some mechanisms bind to it.  0, or -1 if unknown. */
static int endpoint(int fd, int peer, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &sl)
                 : getsockname(fd, (struct sockaddr *)&ss, &sl);
    if (r < 0)
        return -1;
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return -1;
    snprintf(buf, len, "%s;%s", host, serv);
    return 0;
}

/* SASL_PROT_NONE admits SSF 0, _INTEGRITY SSF 1, _PRIVACY anything more.
 * Where the password may not go in the clear, libsasl2 is told so too. */
static sasl_security_properties_t security_properties(int protallowed, int plaintext)
{
    sasl_security_properties_t sp;
    memset(&sp, 0, sizeof sp);
    if (protallowed & SASL_PROT_NONE)
        sp.min_ssf = 0;
    else if (protallowed & SASL_PROT_INTEGRITY)
        sp.min_ssf = 1;
    else
        sp.min_ssf = 2;
    if (protallowed & SASL_PROT_PRIVACY)
        sp.max_ssf = UINT_MAX;
    else if (protallowed & SASL_PROT_INTEGRITY)
        sp.max_ssf = 1;
    else
        sp.max_ssf = 0;
    sp.maxbufsize = IMC_SASL_MAXBUF;
    if (!plaintext)
        sp.security_flags |= SASL_SEC_NOPLAINTEXT;
    return sp;
}

static int ssf_allowed(int ssf, int protallowed)
{
    if (ssf == 0)
        return (protallowed & SASL_PROT_NONE) != 0;
    if (ssf == 1)
        return (protallowed & SASL_PROT_INTEGRITY) != 0;
    return (protallowed & SASL_PROT_PRIVACY) != 0;
}

static sasl_conn_t *new_conn(struct imclient *c, const struct imc_attempt *a,
                             struct imc_secrets *secrets, char *why, size_t whylen)
{
    char local[NI_MAXHOST + NI_MAXSERV + 2], remote[NI_MAXHOST + NI_MAXSERV + 2];
    int fd = c->transport->fd;
    int have_local = endpoint(fd, 0, local, sizeof local) == 0;
    int have_remote = endpoint(fd, 1, remote, sizeof remote) == 0;
    sasl_conn_t *conn = NULL;
    int rc = sasl_client_new(a->service, c->servername, have_local ? local : NULL,
                             have_remote ? remote : NULL, secrets->list, 0, &conn);
    if (rc != SASL_OK) {
        snprintf(why, whylen, "%s: %s", a->mech, sasl_errstring(rc, NULL, NULL));
        return NULL;
    }
    sasl_security_properties_t sp =
        security_properties(a->protallowed, imc_auth_plaintext_allowed(c));
    rc = sasl_setprop(conn, SASL_SEC_PROPS, &sp);
    if (rc == SASL_OK && imc_is(c, IMC_ST_TLS)) {
        /* EXTERNAL is offered by libsasl2 only when something below
         * authenticated us; TLS with a client certificate may have. */
        rc = sasl_setprop(conn, SASL_AUTH_EXTERNAL, "tls-client-certificate");
    }
    if (rc != SASL_OK) {
        snprintf(why, whylen, "%s: %s", a->mech, sasl_errdetail(conn));
        sasl_dispose(&conn);
        return NULL;
    }
    return conn;
}

/* The server said OK to a complete exchange: start what was negotiated. */
static enum imc_exchange_result succeed(struct imclient *c, const struct imc_attempt *a,
                                        sasl_conn_t **conn, struct imc_secrets **secrets,
                                        char *why, size_t whylen)
{
    const void *p = NULL;
    int ssf = 0;
    if (sasl_getprop(*conn, SASL_SSF, &p) == SASL_OK && p)
        ssf = (int)*(const sasl_ssf_t *)p;
    if (!ssf_allowed(ssf, a->protallowed)) {
        /* The server now speaks through that layer; we may not. */
        imc_fail(c, IMCLIENT_EAUTH, "%s negotiated a security layer of strength %d, which was not allowed",
                 a->mech, ssf);
        snprintf(why, whylen, "%s", imc_session_error(&c->session));
        return IMC_EXCHANGE_CLOSED;
    }
    /* Set before the switch: it feeds the bytes after the OK, and the
     * callbacks they reach may ask. */
    c->ssf = ssf;
    if (ssf == 0) {
        imc_switch_plain(c);
        return IMC_EXCHANGE_OK;
    }
    imc_secrets_retire(*secrets);
    int r = imc_switch_layer(c, *conn, *secrets);
    *conn = NULL;
    *secrets = NULL;
    if (r < 0) {
        c->ssf = -1;
        snprintf(why, whylen, "%s", imc_session_error(&c->session));
        return IMC_EXCHANGE_CLOSED;
    }
    return IMC_EXCHANGE_OK;
}

static void let_go(struct imc_attempt_state *st)
{
    if (st->conn)
        sasl_dispose(&st->conn);
    if (st->secrets) {
        imc_secrets_retire(st->secrets);
        free(st->secrets);
        st->secrets = NULL;
    }
}

int imc_attempt_begin(struct imclient *c, const struct imc_attempt *a,
                      struct imc_attempt_state *st, enum imc_exchange_result *r, char *why,
                      size_t whylen)
{
    memset(st, 0, sizeof *st);
    /* The reply that ended the last attempt may have failed the
     * connection (a hostile line right behind a NO). */
    if (!c->transport) {
        *r = IMC_EXCHANGE_CLOSED;
        snprintf(why, whylen, "%s", imclient_error(c)[0] ? imclient_error(c) : "connection closed");
        return -1;
    }
    *r = IMC_EXCHANGE_LOCAL;
    if (!imc_auth_plaintext_allowed(c) && imc_auth_exposes_password(a->mech)) {
        snprintf(why, whylen, "%s refused: it sends the password itself and the connection "
                 "has no TLS (start TLS first, or set IMCLIENT_CONN_ALLOWPLAINTEXT)", a->mech);
        return -1;
    }
    st->secrets = imc_secrets_new(c, a->mech, a->user);
    if (imc_secrets_prepare(st->secrets) < 0) {
        snprintf(why, whylen, "%s needs %s, and the secret procedure gave none", a->mech,
                 st->secrets->missing);
        let_go(st);
        return -1;
    }
    st->conn = new_conn(c, a, st->secrets, why, whylen);
    if (!st->conn) {
        let_go(st);
        return -1;
    }
    struct imc_exchange_params p = { c, st->conn, a->mech, a->sasl_ir, st->secrets };
    if (imc_exchange_begin(&st->x, &p, r, why, whylen) == 0)
        return 0;
    if (c->transport && imc_session_paused(&c->session))
        imc_switch_plain(c);
    let_go(st);
    return -1;
}

enum imc_exchange_result imc_attempt_end(struct imclient *c, const struct imc_attempt *a,
                                         struct imc_attempt_state *st, char *why,
                                         size_t whylen)
{
    enum imc_exchange_result r = imc_exchange_end(&st->x, why, whylen);
    if (r == IMC_EXCHANGE_OK)
        r = succeed(c, a, &st->conn, &st->secrets, why, whylen);
    else if (c->transport)
        imc_switch_plain(c);
    let_go(st);
    return r;
}
