#include "authapp.h"

#include <stdio.h>

#include "cyrus/imclient.h"
#include "replylog.h"

const char *auth_secret(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)c;
    struct auth_secrets *s = rock;
    static const char letters[] = "?AUPR";
    size_t n = strlen(s->asked);
    snprintf(s->asked + n, sizeof s->asked - n, "%s%c:%s", n ? " " : "",
             what >= 1 && what <= 4 ? letters[what] : '?', mech);
    switch (what) {
    case IMCLIENT_SECRET_AUTHNAME:
        return s->authname;
    case IMCLIENT_SECRET_USER:
        return s->user;
    case IMCLIENT_SECRET_PASSWORD:
        return s->password;
    case IMCLIENT_SECRET_REALM:
        return s->realm;
    }
    return NULL;
}

struct auth_secrets auth_alice(void)
{
    struct auth_secrets s = { "alice", NULL, "alicepw", NULL, "" };
    return s;
}

struct imclient *auth_open(const char *port, struct auth_secrets *s)
{
    struct imclient *c = open_logged("127.0.0.1", port);
    if (c && s)
        imclient_setsecretproc(c, auth_secret, s);
    if (c)
        imclient_setflags(c, IMCLIENT_CONN_ALLOWPLAINTEXT);
    return c;
}

void record_ssf(struct imclient *c, void *rock, struct imclient_reply *r)
{
    char label[32];
    snprintf(label, sizeof label, "%s@%d", (const char *)rock, imclient_getssf(c));
    record(c, label, r);
}
