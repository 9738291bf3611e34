/* The adapter scenarios (scenarios.c) on a libuv loop. */
#include <stdlib.h>

/* First: it counts the adapter's allocations. */
#include "scenarios.h"
#include <cyrus/adapters/libuv.h>

static void *open_loop(void)
{
    uv_loop_t *loop = malloc(sizeof *loop);
    if (!loop || uv_loop_init(loop) != 0)
        abort();
    return loop;
}

static int attach(struct imclient *c, void *loop)
{
    return imclient_libuv_attach(c, loop);
}

static int run(void *loop)
{
    /* 0: no active handles were left */
    return uv_run(loop, UV_RUN_DEFAULT) == 0 ? 0 : -1;
}

struct call {
    uv_timer_t timer;
    void (*fn)(void *);
    void *arg;
};

static void free_call(uv_handle_t *h)
{
    free(h->data);
}

static void call_now(uv_timer_t *t)
{
    struct call *k = t->data;
    k->fn(k->arg);
    uv_close((uv_handle_t *)&k->timer, free_call);
}

static void later(void *loop, int ms, void (*fn)(void *), void *arg)
{
    struct call *k = malloc(sizeof *k);
    if (!k)
        abort();
    k->fn = fn;
    k->arg = arg;
    uv_timer_init(loop, &k->timer);
    k->timer.data = k;
    uv_timer_start(&k->timer, call_now, (uint64_t)ms, 0);
}

static void count_handle(uv_handle_t *h, void *arg)
{
    (void)h;
    ++*(int *)arg;
}

static int registered(void *loop)
{
    int n = 0;
    uv_walk(loop, count_handle, &n);
    return n;
}

static int close_loop(void *loop)
{
    int r = uv_loop_close(loop);
    free(loop);
    return r == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const struct loop_driver driver = {
        "libuv", open_loop, attach, run, later, registered, close_loop,
    };
    return scenarios_main(argc, argv, &driver);
}
