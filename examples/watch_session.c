/* The loop-independent half of libevent_watch and libuv_watch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watch_session.h"

int watch_failed;
void (*watch_all_closed)(void);

static int open_conns, stopping;

static void end(struct watch *w)
{
    if (!w->c) /* EOF to the commands still pending runs their callbacks */
        return;
    imclient_close(w->c);
    w->c = NULL;
    if (--open_conns == 0 && watch_all_closed)
        watch_all_closed();
}

/* A command that did not say OK ends the connection. */
static int ok(struct watch *w, const char *what, struct imclient_reply *r)
{
    if (strcmp(r->keyword, "OK") == 0)
        return 1;
    fprintf(stderr, "[%d] %s: %s %s\n", w->id, what, r->keyword,
            strcmp(r->keyword, "EOF") == 0 && w->c ? imclient_error(w->c) : r->text);
    watch_failed = 1;
    end(w);
    return 0;
}

static void show(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct watch *w = rock;
    const char *sp = r->text[0] ? " " : "";
    if (r->msgno >= 0)
        printf("[%d] * %ld %s%s%s\n", w->id, r->msgno, r->keyword, sp, r->text);
    else
        printf("[%d] * %s%s%s\n", w->id, r->keyword, sp, r->text);
}

static void logged_out(struct imclient *c, void *rock, struct imclient_reply *r)
{
    (void)c;
    struct watch *w = rock;
    if (ok(w, "LOGOUT", r)) {
        printf("[%d] logged out\n", w->id);
        end(w);
    }
}

static void idle_over(struct imclient *c, void *rock, struct imclient_reply *r)
{
    if (ok(rock, "IDLE", r))
        imclient_send(c, logged_out, rock, "LOGOUT");
}

static void selected(struct imclient *c, void *rock, struct imclient_reply *r)
{
    struct watch *w = rock;
    if (!ok(w, "SELECT", r))
        return;
    if (stopping)
        imclient_send(c, logged_out, w, "LOGOUT");
    else if (imclient_idle(c, idle_over, w) == 0)
        printf("[%d] idling\n", w->id);
}

static void logged_in(struct imclient *c, void *rock, struct imclient_reply *r)
{
    if (ok(rock, "LOGIN", r))
        imclient_send(c, selected, rock, "SELECT INBOX");
}

static void connected(struct imclient *c, void *rock, int result)
{
    (void)c;
    if (result == 0)
        printf("[%d] connected\n", ((struct watch *)rock)->id);
    /* else LOGIN, queued meanwhile, gets EOF and says why */
}

int watch_parse(int argc, char **argv, struct watch_args *a)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT USER [N] [SECONDS]\n", argv[0]);
        return 2;
    }
    a->host = argv[1];
    a->port = argv[2];
    a->user = argv[3];
    a->password = getenv("IMAP_PASSWORD");
    if (!a->password) {
        fprintf(stderr, "%s: set IMAP_PASSWORD\n", argv[0]);
        return 2;
    }
    a->n = argc > 4 ? atoi(argv[4]) : 3;
    a->seconds = argc > 5 ? atoi(argv[5]) : 60;
    if (a->n < 1 || a->n > 1000 || a->seconds < 0) {
        fprintf(stderr, "%s: N from 1 to 1000, SECONDS from 0\n", argv[0]);
        return 2;
    }
    if (a->seconds > 29 * 60) /* RFC 2177: renew IDLE within 29 minutes */
        a->seconds = 29 * 60;
    return 0;
}

int watch_open(struct watch *w, const struct watch_args *a)
{
    if (imclient_connect_start(&w->c, a->host, a->port, connected, w) != 0) {
        fprintf(stderr, "[%d] cannot connect to %s:%s\n", w->id, a->host, a->port);
        watch_failed = 1;
        w->c = NULL;
        return -1;
    }
    open_conns++;
    imclient_addcallback(w->c, "", 0, show, w, NULL);
    return 0;
}

void watch_login(struct watch *w, const struct watch_args *a)
{
    /* Queued now, written once connected. */
    imclient_send(w->c, logged_in, w, "LOGIN %s %s", a->user, a->password);
}

void watch_stop_all(struct watch *w)
{
    stopping = 1;
    for (int i = 0; w[i].id; i++)
        if (w[i].c)
            imclient_idle_done(w[i].c); /* -1, harmless, when not idling */
}
