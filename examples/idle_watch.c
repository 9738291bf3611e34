/*
 * idle_watch: watch a mailbox and print new mail as it arrives.
 *
 *   idle_watch HOST PORT USER MAILBOX [CAFILE] [SECONDS]
 *
 * The password comes from the environment (IMAP_PASSWORD), never from the
 * command line.  Given a CA file it starts TLS, verifying the server
 * against it, and authenticates with SCRAM-SHA-256; without one it uses
 * LOGIN in the clear (for a local test server).  It selects MAILBOX and
 * idles; when messages arrive it ends IDLE, prints the sender and subject
 * of each new one, and idles again, restarting IDLE every 29 minutes as RFC
 * 2177 asks.  With SECONDS it stops after that long (for tests); it prints
 * "new: <n> from <From> subject <Subject>" per message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cyrus/imclient.h>

#define IDLE_RESTART_S (29 * 60)

struct watch {
    long exists;    /* messages in the mailbox as last told */
    long shown;     /* messages printed so far */
    int idle_over;  /* IDLE's finish has run */
    int done;       /* a command's finish has run */
    char status[8];
};

static const char *password;

static void on_exists(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct watch *w = rock;
    w->exists = r->msgno;
    if (imclient_idling(c) && w->exists > w->shown)
        imclient_idle_done(c);
}

static void on_fetch(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    (void)rock;
    /* The header fields come as a literal; print its lines folded. */
    const char *from = strstr(r->text, "From:");
    const char *subject = strstr(r->text, "Subject:");
    int fl = from ? (int)strcspn(from + 5, "\r\n") : 0;
    int sl = subject ? (int)strcspn(subject + 8, "\r\n") : 0;
    printf("new: %ld from%.*s subject%.*s\n", r->msgno, fl, from ? from + 5 : "", sl,
           subject ? subject + 8 : "");
    fflush(stdout);
}

static void finished(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct watch *w = rock;
    snprintf(w->status, sizeof w->status, "%s", r->keyword);
    w->done = 1;
}

static void idle_finished(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct watch *w = rock;
    snprintf(w->status, sizeof w->status, "%s", r->keyword);
    w->idle_over = 1;
}

/* Send a command and wait for it; 0 if it said OK. */
static int run(struct imclient *c, struct watch *w, const char *fmt, const char *a,
               const char *b)
{
    w->done = 0;
    imclient_send(c, finished, w, fmt, a, b);
    while (!w->done && imclient_processoneevent_timeout(c, 60000) > 0)
        ;
    return w->done && strcmp(w->status, "OK") == 0 ? 0 : -1;
}

static const char *secret(struct imclient *c, void *rock, int what, const char *mech)
{
    (void)c;
    (void)mech;
    if (what == IMCLIENT_SECRET_AUTHNAME)
        return rock;
    return what == IMCLIENT_SECRET_PASSWORD ? password : NULL;
}

static int log_in(struct imclient *c, struct watch *w, char *user, char *cafile)
{
    if (!cafile)
        return run(c, w, "LOGIN %s %s", user, password);
    if (imclient_starttls(c, NULL, NULL, cafile, NULL) != 0)
        return -1;
    struct sasl_client *mechs[] = { &imclient_sasl_scram_sha256, NULL };
    imclient_setsecretproc(c, secret, user);
    return imclient_authenticate(c, mechs, "imap", NULL, SASL_PROT_ANY) == 0 ? 0 : -1;
}

/* Idle until new mail, the restart interval, or the deadline. */
static int idle_once(struct imclient *c, struct watch *w, time_t deadline)
{
    w->idle_over = 0;
    if (imclient_idle(c, idle_finished, w) != 0)
        return -1;
    time_t restart = time(NULL) + IDLE_RESTART_S;
    while (!w->idle_over) {
        time_t now = time(NULL);
        if ((deadline && now >= deadline) || now >= restart)
            imclient_idle_done(c);
        if (imclient_processoneevent_timeout(c, 1000) < 0)
            return -1;
    }
    return strcmp(w->status, "OK") == 0 ? 0 : -1;
}

static void show_new(struct imclient *c, struct watch *w)
{
    char range[48];
    for (; w->shown < w->exists; w->shown = w->exists) {
        snprintf(range, sizeof range, "%ld:%ld", w->shown + 1, w->exists);
        run(c, w, "FETCH %a BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]", range, NULL);
    }
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT USER MAILBOX [CAFILE] [SECONDS]\n", argv[0]);
        return 2;
    }
    password = getenv("IMAP_PASSWORD");
    if (!password) {
        fprintf(stderr, "%s: set IMAP_PASSWORD\n", argv[0]);
        return 2;
    }
    char *cafile = argc > 5 && argv[5][0] ? argv[5] : NULL;
    time_t deadline = argc > 6 ? time(NULL) + atol(argv[6]) : 0;
    struct imclient *c;
    if (imclient_connect(&c, argv[1], argv[2]) != 0) {
        fprintf(stderr, "%s: cannot connect to %s:%s\n", argv[0], argv[1], argv[2]);
        return 1;
    }
    struct watch w = { 0, 0, 0, 0, "" };
    imclient_addcallback(c, "EXISTS", CALLBACK_NUMBERED, on_exists, &w, "FETCH",
                         CALLBACK_NUMBERED, on_fetch, &w, NULL);
    int ok = log_in(c, &w, argv[3], cafile) == 0 && run(c, &w, "SELECT %s", argv[4], NULL) == 0;
    if (ok) {
        w.shown = w.exists;
        printf("watching %s: %ld messages\n", argv[4], w.exists);
        fflush(stdout);
    }
    while (ok && (!deadline || time(NULL) < deadline)) {
        ok = idle_once(c, &w, deadline) == 0;
        show_new(c, &w);
    }
    if (!ok)
        fprintf(stderr, "%s: %s\n", argv[0], imclient_error(c));
    run(c, &w, "LOGOUT", NULL, NULL);
    imclient_close(c);
    return ok ? 0 : 1;
}
