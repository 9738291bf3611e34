/* The adapter scenarios (scenarios.c) on a libevent event_base. */
#include <stdlib.h>

/* First: it counts the adapter's allocations. */
#include "scenarios.h"
#include <cyrus/adapters/libevent.h>

static void *open_loop(void)
{
    return event_base_new();
}

static int attach(struct imclient *c, void *loop)
{
    return imclient_libevent_attach(c, loop);
}

static int run(void *loop)
{
    /* 1: no events were left */
    return event_base_dispatch(loop) == 1 ? 0 : -1;
}

struct call {
    void (*fn)(void *);
    void *arg;
};

static void call_now(evutil_socket_t fd, short what, void *arg)
{
    struct call *k = arg;
    (void)fd;
    (void)what;
    k->fn(k->arg);
    free(k);
}

static void later(void *loop, int ms, void (*fn)(void *), void *arg)
{
    struct call *k = malloc(sizeof *k);
    if (!k)
        abort();
    k->fn = fn;
    k->arg = arg;
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    if (event_base_once(loop, -1, EV_TIMEOUT, call_now, k, &tv) != 0)
        abort();
}

static int registered(void *loop)
{
    return event_base_get_num_events(loop, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE);
}

static int close_loop(void *loop)
{
    event_base_free(loop);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct loop_driver driver = {
        "libevent", open_loop, attach, run, later, registered, close_loop,
    };
    return scenarios_main(argc, argv, &driver);
}
