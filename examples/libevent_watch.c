/*
 * libevent_watch: N connections to one IMAP server, all driven by one
 * libevent loop in one thread (include/cyrus/adapters/libevent.h).
 *
 *   IMAP_PASSWORD=secret libevent_watch HOST PORT USER [N] [SECONDS]
 *
 * Each connection logs in with LOGIN, selects INBOX and idles, printing
 * every untagged reply as it arrives ("[2] * 3 EXISTS"); after SECONDS
 * (default 60, at most 29 minutes, when RFC 2177 wants IDLE renewed) each
 * ends IDLE and logs out, and the loop ends with the last connection.
 * LOGIN sends the password as it is: use a local server, or start TLS
 * first (imclient_starttls_start()).
 *
 * The commands themselves are in watch_session.c, shared with
 * libuv_watch; this file is what libevent needs.
 */
#include <stdio.h>
#include <stdlib.h>

#include <cyrus/adapters/libevent.h>

#include "watch_session.h"

static struct event *stop_timer;

/* The timer alone would keep the loop running. */
static void all_closed(void)
{
    event_del(stop_timer);
}

static void stop_all(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    watch_stop_all(arg);
}

int main(int argc, char **argv)
{
    struct watch_args a;
    int rc = watch_parse(argc, argv, &a);
    if (rc != 0)
        return rc;
    setvbuf(stdout, NULL, _IOLBF, 0);

    struct event_base *base = event_base_new();
    struct watch *w = calloc((size_t)a.n + 1, sizeof *w); /* ends with id 0 */
    if (!base || !w)
        return 1;
    watch_all_closed = all_closed;
    int open_conns = 0;
    for (int i = 0; i < a.n; i++) {
        w[i].id = i + 1;
        if (watch_open(&w[i], &a) != 0)
            continue;
        open_conns++;
        if (imclient_libevent_attach(w[i].c, base) != 0) {
            fprintf(stderr, "[%d] cannot attach to the loop\n", w[i].id);
            return 1;
        }
        watch_login(&w[i], &a);
    }
    stop_timer = evtimer_new(base, stop_all, w);
    struct timeval tv = { a.seconds, 0 };
    if (open_conns > 0)
        evtimer_add(stop_timer, &tv);

    event_base_dispatch(base);

    event_free(stop_timer);
    event_base_free(base);
    free(w);
    return watch_failed;
}
