/*
 * libuv_watch: N connections to one IMAP server, all driven by one libuv
 * loop in one thread (include/cyrus/adapters/libuv.h).
 *
 *   IMAP_PASSWORD=secret libuv_watch HOST PORT USER [N] [SECONDS]
 *
 * Each connection logs in with LOGIN, selects INBOX and idles, printing
 * every untagged reply as it arrives ("[2] * 3 EXISTS"); after SECONDS
 * (default 60, at most 29 minutes, when RFC 2177 wants IDLE renewed) each
 * ends IDLE and logs out, and the loop ends with the last connection.
 * LOGIN sends the password as it is: use a local server, or start TLS
 * first (imclient_starttls_start()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cyrus/adapters/libuv.h>

struct watch {
    int id;
    struct imclient *c; /* NULL once closed */
};

static const char *password;
static int failed, stopping;

static void end(struct watch *w)
{
    if (!w->c) /* EOF to the commands still pending runs their callbacks */
        return;
    imclient_close(w->c);
    w->c = NULL;
}

/* A command that did not say OK ends the connection. */
static int ok(struct watch *w, const char *what, struct imclient_reply *r)
{
    if (strcmp(r->keyword, "OK") == 0)
        return 1;
    fprintf(stderr, "[%d] %s: %s %s\n", w->id, what, r->keyword,
            strcmp(r->keyword, "EOF") == 0 && w->c ? imclient_error(w->c) : r->text);
    failed = 1;
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

static void stop_all(uv_timer_t *t)
{
    struct watch *w = t->data;
    stopping = 1;
    for (int i = 0; w[i].id; i++)
        if (w[i].c)
            imclient_idle_done(w[i].c); /* -1, harmless, when not idling */
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT USER [N] [SECONDS]\n", argv[0]);
        return 2;
    }
    password = getenv("IMAP_PASSWORD");
    if (!password) {
        fprintf(stderr, "%s: set IMAP_PASSWORD\n", argv[0]);
        return 2;
    }
    int n = argc > 4 ? atoi(argv[4]) : 3;
    int seconds = argc > 5 ? atoi(argv[5]) : 60;
    if (n < 1 || n > 1000 || seconds < 0) {
        fprintf(stderr, "%s: N from 1 to 1000, SECONDS from 0\n", argv[0]);
        return 2;
    }
    if (seconds > 29 * 60)
        seconds = 29 * 60;
    setvbuf(stdout, NULL, _IOLBF, 0);

    uv_loop_t *loop = uv_default_loop();
    struct watch *w = calloc((size_t)n + 1, sizeof *w); /* ends with id 0 */
    if (!w)
        return 1;
    for (int i = 0; i < n; i++) {
        w[i].id = i + 1;
        if (imclient_connect_start(&w[i].c, argv[1], argv[2], connected, &w[i]) != 0) {
            fprintf(stderr, "[%d] cannot connect to %s:%s\n", w[i].id, argv[1], argv[2]);
            failed = 1;
            w[i].c = NULL;
            continue;
        }
        imclient_addcallback(w[i].c, "", 0, show, &w[i], NULL);
        if (imclient_libuv_attach(w[i].c, loop) != 0) {
            fprintf(stderr, "[%d] cannot attach to the loop\n", w[i].id);
            return 1;
        }
        /* Queued now, written once connected. */
        imclient_send(w[i].c, logged_in, &w[i], "LOGIN %s %s", argv[3], password);
    }
    uv_timer_t stop;
    uv_timer_init(loop, &stop);
    stop.data = w;
    uv_timer_start(&stop, stop_all, (uint64_t)seconds * 1000, 0);
    uv_unref((uv_handle_t *)&stop); /* the connections alone keep the loop running */

    uv_run(loop, UV_RUN_DEFAULT);

    uv_close((uv_handle_t *)&stop, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    free(w);
    return failed;
}
