/*
 * cyrus/adapters/libuv.h - drive imclient connections from a libuv loop,
 * as many as you like on one loop, in one thread.
 *
 * Header-only: libcyrus does not link libuv; the program that includes
 * this header does (pkg-config libuv).
 *
 *   uv_loop_t *loop = uv_default_loop();
 *   struct imclient *c;
 *   if (imclient_connect(&c, host, "imap") == 0 && imclient_libuv_attach(c, loop) == 0)
 *       imclient_send(c, done, rock, "LOGIN %s %s", user, pass);
 *   uv_run(loop, UV_RUN_DEFAULT);   // returns once every connection has ended
 *
 * int imclient_libuv_attach(struct imclient *c, uv_loop_t *loop)
 *   From now on loop drives c, made by imclient_connect() or by
 *   imclient_connect_start() (attach it at once: the attempt goes on as
 *   the loop runs): its descriptor is watched for reading always and for
 *   writing while output waits, and watched anew when it changes (from
 *   the attempt's to the socket); one timer keeps the connection's
 *   deadlines (the "timed out" of imclient_setlimits()); and each event
 *   runs imclient_handle_events(), so callbacks run from the loop.  What
 *   the connection waits for is asked again before every wait of the loop
 *   (a prepare handle, which does not keep the loop alive by itself), so
 *   commands sent from anywhere -- a timer of yours, another connection's
 *   callback -- are seen at once.  Returns 0, or -1 (c or loop NULL, c
 *   already closed, out of memory, libuv refused to poll).
 *   Attach a connection once.
 *
 * When the connection ends (the server closed, a limit or a timeout, a
 * failure) its pending commands get EOF and the adapter closes its
 * handles; the connection stays the application's, to read
 * imclient_error() and close.  imclient_close() -- from anywhere, a
 * callback of the connection included -- frees what the adapter holds.
 * libuv closes handles asynchronously: after imclient_close() of a
 * connection whose loop has stopped, run the loop once more
 * (uv_run(loop, UV_RUN_DEFAULT)) before uv_loop_close().  The adapter owns
 * the connection's imclient_setcleanup() and imclient_setfdclosing()
 * slots: setting another procedure in either detaches it and leaks its
 * handles.
 *
 * Define IMCLIENT_ADAPTER_CALLOC(n, size) and IMCLIENT_ADAPTER_FREE(p)
 * before including this header to allocate the adapter's state your way.
 */
#ifndef CYRUS_ADAPTERS_LIBUV_H
#define CYRUS_ADAPTERS_LIBUV_H

#include <stdint.h>
#include <stdlib.h>

#include <uv.h>

#include <cyrus/imclient.h>

#ifndef IMCLIENT_ADAPTER_CALLOC
#define IMCLIENT_ADAPTER_CALLOC(n, size) calloc((n), (size))
#define IMCLIENT_ADAPTER_FREE(p) free(p)
#endif

struct imclient_libuv;

/* A poll handle lives until its close callback, possibly longer than the
 * watch it served, so each has its own allocation. */
struct imclient_libuv__poll {
    uv_poll_t handle;
    struct imclient_libuv *s;
};

struct imclient_libuv {
    uv_timer_t timer;
    uv_prepare_t prepare;
    uv_loop_t *loop;
    struct imclient *c;                /* NULL once c has been freed */
    struct imclient_libuv__poll *poll; /* NULL while nothing is watched */
    int fd;                            /* the descriptor polled, -1: none */
    int polling;                       /* UV_READABLE / UV_WRITABLE asked for, 0: none */
    uint64_t due;                      /* loop time the timer fires at, while it runs */
    int closing;                       /* uv_close() has been called on timer and prepare */
    int refs;                          /* handles not yet closed, and one while c lives */
};

static inline void imclient_libuv__release(struct imclient_libuv *s)
{
    if (--s->refs == 0)
        IMCLIENT_ADAPTER_FREE(s);
}

static inline void imclient_libuv__closed(uv_handle_t *h)
{
    imclient_libuv__release((struct imclient_libuv *)h->data);
}

static inline void imclient_libuv__poll_closed(uv_handle_t *h)
{
    struct imclient_libuv__poll *p = (struct imclient_libuv__poll *)h->data;
    struct imclient_libuv *s = p->s;
    IMCLIENT_ADAPTER_FREE(p);
    imclient_libuv__release(s);
}

/* uv_close() has forgotten the descriptor by the time it returns, though
 * the handle's memory lives on until its close callback. */
static inline void imclient_libuv__unwatch(struct imclient_libuv *s)
{
    struct imclient_libuv__poll *p = s->poll;
    if (!p)
        return;
    uv_close((uv_handle_t *)&p->handle, imclient_libuv__poll_closed);
    s->poll = NULL;
    s->fd = -1;
    s->polling = 0;
}

static inline int imclient_libuv__watch(struct imclient_libuv *s, int fd)
{
    struct imclient_libuv__poll *p =
        (struct imclient_libuv__poll *)IMCLIENT_ADAPTER_CALLOC(1, sizeof *p);
    if (!p)
        return -1;
    if (uv_poll_init(s->loop, &p->handle, fd) != 0) {
        IMCLIENT_ADAPTER_FREE(p);
        return -1;
    }
    p->handle.data = p;
    p->s = s;
    s->poll = p;
    s->fd = fd;
    s->polling = 0;
    s->refs++;
    return 0;
}

/* libuv knows a polled descriptor by its number: a watch left on a number
 * the library has closed would be taken for the next socket to get that
 * number.  The library says before it closes. */
static inline void imclient_libuv__fdclosing(struct imclient *c, void *rock, int fd)
{
    struct imclient_libuv *s = (struct imclient_libuv *)rock;
    (void)c;
    if (fd == s->fd)
        imclient_libuv__unwatch(s);
}

static inline void imclient_libuv__close(struct imclient_libuv *s)
{
    imclient_libuv__unwatch(s);
    if (s->closing)
        return;
    s->closing = 1;
    uv_close((uv_handle_t *)&s->timer, imclient_libuv__closed);
    uv_close((uv_handle_t *)&s->prepare, imclient_libuv__closed);
}

/* The state outlives this call whatever happens inside it: a cleanup hook
 * only starts closing the handles, and their close callbacks run in a
 * later phase of the loop. */
static inline void imclient_libuv__arm(struct imclient_libuv *s);

static inline void imclient_libuv__handle(struct imclient_libuv *s, int events)
{
    /* -1: closed, and maybe freed; either way its socket is closed. */
    if (imclient_handle_events(s->c, events) < 0) {
        imclient_libuv__close(s);
        return;
    }
    /* At once, not at the prepare: when the descriptor changed (an attempt
     * handed over to its socket) nothing is polled, and with nothing
     * active the loop would end before its next prepare. */
    imclient_libuv__arm(s);
}

static inline void imclient_libuv__on_poll(uv_poll_t *h, int status, int uvevents)
{
    struct imclient_libuv *s = ((struct imclient_libuv__poll *)h->data)->s;
    int events = (uvevents & UV_READABLE ? IMCLIENT_EV_READ : 0) |
                 (uvevents & UV_WRITABLE ? IMCLIENT_EV_WRITE : 0);
    /* libuv has stopped the handle over a socket error; a read makes the
     * library find the error and give its reason. */
    if (status < 0) {
        s->polling = 0;
        events = IMCLIENT_EV_READ;
    }
    imclient_libuv__handle(s, events);
}

static inline void imclient_libuv__on_timer(uv_timer_t *h)
{
    imclient_libuv__handle((struct imclient_libuv *)h->data, 0);
}

/* Before every wait of the loop: interest changes with each event and with
 * each command sent, from wherever it was sent. */
static inline void imclient_libuv__arm(struct imclient_libuv *s)
{
    int fd, ms;
    int want = imclient_wants(s->c, &fd, &ms);
    if (fd < 0) { /* ended outside our callbacks */
        imclient_libuv__close(s);
        return;
    }
    if (fd != s->fd) {
        imclient_libuv__unwatch(s);
        if (imclient_libuv__watch(s, fd) != 0) {
            imclient_libuv__close(s);
            return;
        }
    }
    int uvwant = UV_READABLE | (want & IMCLIENT_EV_WRITE ? UV_WRITABLE : 0);
    if (uvwant != s->polling &&
        uv_poll_start(&s->poll->handle, uvwant, imclient_libuv__on_poll) == 0)
        s->polling = uvwant;
    if (ms < 0) {
        uv_timer_stop(&s->timer);
        return;
    }
    /* The loop's clock was read before this iteration's callbacks, a little
     * earlier than the library's: a millisecond more keeps the timer from
     * firing just before the deadline. */
    uint64_t delay = (uint64_t)ms + (ms > 0);
    uint64_t due = uv_now(s->loop) + delay;
    /* A later deadline leaves the timer alone: firing early costs one
     * wake-up, after which it is set again; restarting it before every wait
     * of the loop would cost more. */
    if (!uv_is_active((uv_handle_t *)&s->timer) || due < s->due) {
        s->due = due;
        uv_timer_start(&s->timer, imclient_libuv__on_timer, delay, 0);
    }
}

static inline void imclient_libuv__on_prepare(uv_prepare_t *h)
{
    imclient_libuv__arm((struct imclient_libuv *)h->data);
}

/* Runs as the connection is freed, possibly inside imclient_handle_events()
 * called from a callback above. */
static inline void imclient_libuv__cleanup(void *rock)
{
    struct imclient_libuv *s = (struct imclient_libuv *)rock;
    s->c = NULL;
    imclient_libuv__close(s);
    imclient_libuv__release(s);
}

static inline int imclient_libuv_attach(struct imclient *c, uv_loop_t *loop)
{
    int fd, ms;
    if (!c || !loop)
        return -1;
    imclient_wants(c, &fd, &ms);
    if (fd < 0)
        return -1;
    struct imclient_libuv *s = (struct imclient_libuv *)IMCLIENT_ADAPTER_CALLOC(1, sizeof *s);
    if (!s)
        return -1;
    s->loop = loop;
    s->fd = -1;
    if (imclient_libuv__watch(s, fd) != 0) {
        IMCLIENT_ADAPTER_FREE(s);
        return -1;
    }
    uv_timer_init(loop, &s->timer);
    uv_prepare_init(loop, &s->prepare);
    s->timer.data = s->prepare.data = s;
    s->c = c;
    s->refs += 3; /* timer, prepare, c */
    imclient_setcleanup(c, imclient_libuv__cleanup, s);
    imclient_setfdclosing(c, imclient_libuv__fdclosing, s);
    uv_prepare_start(&s->prepare, imclient_libuv__on_prepare);
    uv_unref((uv_handle_t *)&s->prepare);
    imclient_libuv__arm(s);
    return 0;
}

#endif /* CYRUS_ADAPTERS_LIBUV_H */
