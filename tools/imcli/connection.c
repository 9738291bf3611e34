#include "connection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cyrus/imclient.h>

#include "exitcodes.h"
#include "options.h"
#include "session.h"

#define MAX_MECHS 16

/* Mechanisms that ask for no password. */
static int passwordless(const char *mech, size_t len)
{
    static const char *const names[] = { "GSSAPI", "EXTERNAL", "ANONYMOUS" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && strncasecmp(mech, names[i], len) == 0)
            return 1;
    return 0;
}

int imcli_needs_password(const struct imcli_options *o)
{
    if (o->auth == IMCLI_AUTH_LOGIN)
        return 1;
    if (o->auth != IMCLI_AUTH_SASL)
        return 0;
    for (const char *p = o->sasl; *p;) {
        size_t len = strcspn(p, ",");
        if (len > 0 && !passwordless(p, len))
            return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

static int connect_failed(const struct imcli_options *o, int r)
{
    if (r == -1)
        fprintf(stderr, "imcli: unknown host %s\n", o->host);
    else if (r == -2)
        fprintf(stderr, "imcli: unknown port or service %s\n", o->port);
    else
        fprintf(stderr, "imcli: cannot connect to %s port %s: %s\n", o->host, o->port,
                strerror(r));
    return IMCLI_EXIT_CONNECT;
}

static int start_tls(struct imcli_session *s)
{
    const struct imcli_options *o = s->o;
    if (o->tls == IMCLI_TLS_NONE)
        return IMCLI_EXIT_OK;
    if (o->no_verify) {
        fprintf(stderr, "imcli: WARNING: --insecure-no-verify: the server is not "
                        "authenticated; anyone on the path can read and change "
                        "this session\n");
        imclient_settlsverify(s->c, IMCLIENT_TLS_NOVERIFY);
    }
    /* The library's TLS calls take char *; they do not write through it. */
    char *cert = (char *)o->cert, *key = (char *)o->key;
    char *cafile = (char *)o->cafile, *capath = (char *)o->capath;
    int r = o->tls == IMCLI_TLS_IMPLICIT ? imclient_begintls(s->c, cert, key, cafile, capath)
                                         : imclient_starttls(s->c, cert, key, cafile, capath);
    if (r != 0) {
        fprintf(stderr, "imcli: TLS failed: %s\n", imclient_error(s->c));
        return IMCLI_EXIT_TLS;
    }
    return IMCLI_EXIT_OK;
}

struct secrets {
    const struct imcli_options *o;
    const char *password;
};

static const char *secret(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)c;
    (void)mech;
    const struct secrets *k = rock;
    switch (what) {
    case IMCLIENT_SECRET_AUTHNAME: return k->o->user;
    case IMCLIENT_SECRET_USER: return k->o->authz;
    case IMCLIENT_SECRET_PASSWORD: return k->password;
    default: return NULL;
    }
}

/* The library's own descriptor for a name it knows; for any other name a
 * descriptor of ours, as the library finds a mechanism by its name in
 * libsasl2's plugins. */
static struct sasl_client *descriptor(const char *name, struct sasl_client *spare)
{
    static struct sasl_client *const known[] = {
        &imclient_sasl_scram_sha256, &imclient_sasl_scram_sha1, &krb_sasl_client,
        &imclient_sasl_plain, &imclient_sasl_login, &imclient_sasl_cram_md5,
        &imclient_sasl_external,
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcasecmp(known[i]->name, name) == 0)
            return known[i];
    spare->name = name;
    spare->maxssf = 0;
    return spare;
}

static int authenticate_sasl(struct imcli_session *s, const char *password)
{
    char names[512];
    struct sasl_client spare[MAX_MECHS], *mechs[MAX_MECHS + 1];
    size_t n = 0;
    snprintf(names, sizeof names, "%s", s->o->sasl);
    for (char *save = NULL, *m = strtok_r(names, ",", &save); m && n < MAX_MECHS;
         m = strtok_r(NULL, ",", &save)) {
        mechs[n] = descriptor(m, &spare[n]);
        n++;
    }
    mechs[n] = NULL;
    struct secrets k = { s->o, password };
    imclient_setsecretproc(s->c, secret, &k);
    int r = imclient_authenticate(s->c, mechs, "imap", s->o->user, SASL_PROT_ANY);
    imclient_setsecretproc(s->c, NULL, NULL);
    if (r != 0) {
        fprintf(stderr, "imcli: authentication failed: %s\n", imclient_error(s->c));
        return IMCLI_EXIT_AUTH;
    }
    return IMCLI_EXIT_OK;
}

static int authenticate(struct imcli_session *s, const char *password)
{
    if (s->o->auth == IMCLI_AUTH_SASL)
        return authenticate_sasl(s, password);
    if (s->o->auth != IMCLI_AUTH_LOGIN)
        return IMCLI_EXIT_OK;
    enum imcli_result r = imcli_session_run(s, "LOGIN %s %s", s->o->user, password);
    if (r == IMCLI_RESULT_OK)
        return IMCLI_EXIT_OK;
    fprintf(stderr, "imcli: LOGIN failed: %s\n",
            r == IMCLI_RESULT_EOF ? imclient_error(s->c) : s->status);
    return r == IMCLI_RESULT_EOF ? IMCLI_EXIT_LOST : IMCLI_EXIT_AUTH;
}

int imcli_connection_open(struct imcli_session *s, const char *password)
{
    const struct imcli_options *o = s->o;
    struct imclient *c = NULL;
    int r = imclient_connect(&c, o->host, o->port);
    if (r != 0)
        return connect_failed(o, r);
    imcli_session_attach(s, c);
    int code = start_tls(s);
    if (code == IMCLI_EXIT_OK)
        code = authenticate(s, password);
    return code;
}
