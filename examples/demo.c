/*
 * demo: a short IMAP session with a readable transcript.
 *
 *   demo HOST PORT USER PASSWORD [CAFILE]
 *
 * Connects, lists the capabilities, and, given a CA file, starts TLS
 * (verifying the server against that CA and the host name) and
 * authenticates with SCRAM-SHA-256; without one it logs in with LOGIN.  Then
 * it lists the mailboxes, selects INBOX, fetches the envelopes of the first
 * messages and logs out.  Lines the client sends are shown as "C:", lines it
 * receives as "S:"; a password is masked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cyrus/imclient.h>

struct outcome {
    int done;
    char status[8];
    char text[256];
};

static const char *password;

/* Print one direction of the conversation line by line, hiding the password. */
static void show(struct imclient *c, void *rock, int direction, const char *data,
                 size_t len)
{
    (void)c;
    (void)rock;
    static char pending[2][4096];
    static size_t fill[2];
    int d = direction == 'C';
    for (size_t i = 0; i < len; i++) {
        char ch = data[i];
        if (ch != '\n' && fill[d] < sizeof pending[d] - 1) {
            if (ch != '\r')
                pending[d][fill[d]++] = ch;
            continue;
        }
        pending[d][fill[d]] = '\0';
        char *pw = password && *password ? strstr(pending[d], password) : NULL;
        if (pw)
            memset(pw, '*', strlen(password));
        printf("%c: %s\n", direction, pending[d]);
        fill[d] = 0;
    }
}

static void finished(struct imclient *c, void *rock, struct imclient_reply *reply)
{
    (void)c;
    struct outcome *o = rock;
    snprintf(o->status, sizeof o->status, "%s", reply->keyword);
    snprintf(o->text, sizeof o->text, "%s", reply->text);
    o->done = 1;
}

/* Wait (boundedly) for a command to complete; nonzero if it said OK. */
static int wait_ok(struct imclient *c, struct outcome *o, const char *what)
{
    while (!o->done && imclient_processoneevent_timeout(c, 15000) > 0)
        ;
    if (!o->done)
        snprintf(o->status, sizeof o->status, "EOF");
    if (strcmp(o->status, "OK") != 0) {
        fprintf(stderr, "demo: %s failed: %s %s %s\n", what, o->status, o->text,
                imclient_error(c));
        return 0;
    }
    return 1;
}

#define RUN(c, what, ...)                                                  \
    do {                                                                   \
        struct outcome o_ = { 0, "", "" };                                 \
        imclient_send(c, finished, &o_, __VA_ARGS__);                      \
        if (!wait_ok(c, &o_, what))                                        \
            goto fail;                                                     \
    } while (0)

/* Names and secrets for SASL come from here; the library never prompts. */
static const char *secrets(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)c;
    (void)mech;
    const char *user = rock;
    if (what == IMCLIENT_SECRET_AUTHNAME)
        return user;
    if (what == IMCLIENT_SECRET_PASSWORD)
        return password;
    return NULL;
}

static void on_capability(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    snprintf(rock, 1024, "%s", r->text);
}

static void on_list(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    ++*(int *)rock;
    printf("   callback: LIST %s\n", r->text);
}

static void on_exists(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    *(long *)rock = r->msgno;
}

static void on_fetch(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)rock;
    /* ENVELOPE's second field is the subject: the quoted string after the date. */
    const char *subject = strstr(r->text, "\" \"");
    const char *end = subject ? strchr(subject + 3, '"') : NULL;
    int len = end ? (int)(end - subject - 3) : 0;
    printf("   callback: FETCH for message %ld, subject: %.*s\n", r->msgno, len,
           end ? subject + 3 : "");
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: demo HOST PORT USER PASSWORD [CAFILE]\n");
        return 2;
    }
    const char *host = argv[1], *port = argv[2], *user = argv[3];
    const char *cafile = argc > 5 ? argv[5] : NULL;
    password = argv[4];
    setvbuf(stdout, NULL, _IOLBF, 0);

    struct imclient *c;
    int r = imclient_connect(&c, host, port);
    if (r != 0) {
        fprintf(stderr, "demo: cannot connect to %s port %s (code %d)\n", host, port, r);
        return 1;
    }
    printf("== connected to %s port %s\n", imclient_servername(c), port);
    imclient_settrace(c, show, NULL);

    char caps[1024] = "";
    int mailboxes = 0;
    long exists = -1;
    imclient_addcallback(c, "CAPABILITY", CALLBACK_NOLITERAL, on_capability, caps,
                         "LIST", 0, on_list, &mailboxes,
                         "EXISTS", CALLBACK_NUMBERED, on_exists, &exists,
                         "FETCH", CALLBACK_NUMBERED, on_fetch, NULL,
                         NULL);

    printf("== capabilities\n");
    RUN(c, "CAPABILITY", "CAPABILITY");
    if (strstr(caps, "LITERAL+"))
        imclient_setflags(c, IMCLIENT_CONN_NONSYNCLITERAL);

    if (cafile) {
        printf("== STARTTLS, verifying %s against %s\n", host, cafile);
        if (imclient_starttls(c, NULL, NULL, (char *)cafile, NULL) != 0) {
            fprintf(stderr, "demo: STARTTLS failed: %s\n", imclient_error(c));
            goto fail;
        }
        printf("== TLS is up; capabilities again\n");
        RUN(c, "CAPABILITY", "CAPABILITY");

        printf("== authenticate as %s with SCRAM-SHA-256\n", user);
        struct sasl_client *mechs[] = { &imclient_sasl_scram_sha256, NULL };
        imclient_setsecretproc(c, secrets, (void *)user);
        if (imclient_authenticate(c, mechs, "imap", user, SASL_PROT_ANY) != 0) {
            fprintf(stderr, "demo: authentication failed: %s\n", imclient_error(c));
            goto fail;
        }
        printf("   authenticated (security layer: %d)\n", imclient_getssf(c));
    } else {
        printf("== log in as %s\n", user);
        RUN(c, "LOGIN", "LOGIN %s %s", user, password);
    }

    printf("== mailboxes\n");
    RUN(c, "LIST", "LIST %s %s", "", "*");

    printf("== select INBOX\n");
    RUN(c, "SELECT", "SELECT %s", "INBOX");
    printf("   INBOX holds %ld messages\n", exists);

    if (exists > 0) {
        printf("== envelopes\n");
        RUN(c, "FETCH", "FETCH 1:%d (ENVELOPE)", exists < 5 ? (int)exists : 5);
    }

    printf("== log out\n");
    RUN(c, "LOGOUT", "LOGOUT");
    while (imclient_processoneevent_timeout(c, 5000) > 0)
        ;
    printf("== closed: %s\n", imclient_error(c));
    imclient_close(c);
    printf("== demo finished: %d mailboxes, %ld messages in INBOX\n", mailboxes, exists);
    return 0;

fail:
    imclient_close(c);
    return 1;
}
