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
 *
 * The commands themselves are in watch_session.c, shared with
 * libevent_watch; this file is what libuv needs.
 */
#include <stdio.h>
#include <stdlib.h>

#include <cyrus/adapters/libuv.h>

#include "watch_session.h"

static void stop_all(uv_timer_t *t)
{
    watch_stop_all(t->data);
}

int main(int argc, char **argv)
{
    struct watch_args a;
    int rc = watch_parse(argc, argv, &a);
    if (rc != 0)
        return rc;
    setvbuf(stdout, NULL, _IOLBF, 0);

    uv_loop_t *loop = uv_default_loop();
    struct watch *w = calloc((size_t)a.n + 1, sizeof *w); /* ends with id 0 */
    if (!w)
        return 1;
    for (int i = 0; i < a.n; i++) {
        w[i].id = i + 1;
        if (watch_open(&w[i], &a) != 0)
            continue;
        if (imclient_libuv_attach(w[i].c, loop) != 0) {
            fprintf(stderr, "[%d] cannot attach to the loop\n", w[i].id);
            return 1;
        }
        watch_login(&w[i], &a);
    }
    uv_timer_t stop;
    uv_timer_init(loop, &stop);
    stop.data = w;
    uv_timer_start(&stop, stop_all, (uint64_t)a.seconds * 1000, 0);
    uv_unref((uv_handle_t *)&stop); /* the connections alone keep the loop running */

    uv_run(loop, UV_RUN_DEFAULT);

    uv_close((uv_handle_t *)&stop, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    free(w);
    return watch_failed;
}
