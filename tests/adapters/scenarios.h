/*
 * The event-loop adapters' tests, written once against a small driver
 * that each loop's test program fills in: the scenarios only need to make
 * a loop, attach a connection, run the loop until it stops by itself,
 * schedule a call from the loop, and count what the adapter still holds.
 */
#ifndef IMC_ADAPTER_SCENARIOS_H
#define IMC_ADAPTER_SCENARIOS_H

#include <stddef.h>

struct imclient;

/*
 * The adapters allocate their state through these (included before
 * cyrus/adapters/libevent.h or libuv.h), so the scenarios can count it
 * and show it freed, not only unreachable.
 */
void *scenarios_calloc(size_t n, size_t size);
void scenarios_free(void *p);
#define IMCLIENT_ADAPTER_CALLOC(n, size) scenarios_calloc((n), (size))
#define IMCLIENT_ADAPTER_FREE(p) scenarios_free(p)

struct loop_driver {
    const char *name;
    void *(*open)(void);
    int (*attach)(struct imclient *c, void *loop);
    /* Run until nothing is left to watch: 0 when the loop stopped by
     * itself, -1 otherwise. */
    int (*run)(void *loop);
    /* Call fn(arg) from the loop after ms, outside any connection's
     * callbacks (a timer of the application's). */
    void (*later)(void *loop, int ms, void (*fn)(void *arg), void *arg);
    /* Events or handles still registered with the loop. */
    int (*registered)(void *loop);
    /* Free the loop; -1 if the loop says something was left open. */
    int (*close)(void *loop);
};

int scenarios_main(int argc, char **argv, const struct loop_driver *driver);

#endif
