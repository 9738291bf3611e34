/*
 * cyrus/adapters/libevent.h - drive imclient connections from a libevent 2
 * event_base, as many as you like on one base, in one thread.
 *
 * Header-only: libcyrus does not link libevent; the program that includes
 * this header does (pkg-config libevent_core).
 *
 *   struct event_base *base = event_base_new();
 *   struct imclient *c;
 *   if (imclient_connect(&c, host, "imap") == 0 && imclient_libevent_attach(c, base) == 0)
 *       imclient_send(c, done, rock, "LOGIN %s %s", user, pass);
 *   event_base_dispatch(base);   // returns once every connection has ended
 *
 * int imclient_libevent_attach(struct imclient *c, struct event_base *base)
 *   From now on base drives c, made by imclient_connect() or by
 *   imclient_connect_start() (attach it at once: the attempt goes on as
 *   the loop runs): its descriptor is watched for reading always and for
 *   writing while output waits, and watched anew when it changes (from
 *   the attempt's to the socket); one timer keeps the connection's
 *   deadlines (the "timed out" of imclient_setlimits()); and each event
 *   runs imclient_handle_events(), so callbacks run from the loop.
 *   Returns 0, or -1 (c or base NULL, c already closed, out of memory,
 *   libevent refused the events).  Attach a connection once.
 *
 * When the connection ends (the server closed, a limit or a timeout, a
 * failure) its pending commands get EOF and the adapter stops watching;
 * the connection stays the application's, to read imclient_error() and
 * close.  imclient_close() -- from anywhere, a callback of the connection
 * included -- frees what the adapter holds.  The adapter owns the
 * connection's imclient_setcleanup() and imclient_setfdclosing() slots:
 * setting another procedure in either detaches it and leaks its events.
 *
 * What the connection waits for is asked again after each of its events.
 * Work done on it from elsewhere -- imclient_send() from a timer of yours
 * or from another connection's callback -- is seen at its next event; so
 * that no deadline is missed meanwhile, the adapter's timer never sleeps
 * longer than the connection's shortest limit (timeout_ms or
 * command_timeout_ms).  Output such a send could not write at once (a
 * large literal on a full socket) may wait for that long.
 *
 * Define IMCLIENT_ADAPTER_CALLOC(n, size) and IMCLIENT_ADAPTER_FREE(p)
 * before including this header to allocate the adapter's state your way.
 */
#ifndef CYRUS_ADAPTERS_LIBEVENT_H
#define CYRUS_ADAPTERS_LIBEVENT_H

#include <stdlib.h>
#include <sys/time.h>

#include <event2/event.h>

#include <cyrus/imclient.h>

#ifndef IMCLIENT_ADAPTER_CALLOC
#define IMCLIENT_ADAPTER_CALLOC(n, size) calloc((n), (size))
#define IMCLIENT_ADAPTER_FREE(p) free(p)
#endif

struct imclient_libevent {
    struct imclient *c;
    struct event_base *base;
    struct event *rd, *wr, *timer;
    int fd;      /* the descriptor rd and wr watch, -1: none */
    int writing; /* wr is pending */
    int busy;           /* imclient_handle_events() called from here is running */
    int freed;          /* c was freed while busy: the state goes when it returns */
};

static inline void imclient_libevent__on_event(evutil_socket_t fd, short what, void *arg);

static inline void imclient_libevent__unwatch(struct imclient_libevent *s)
{
    if (s->rd)
        event_free(s->rd);
    if (s->wr)
        event_free(s->wr);
    s->rd = s->wr = NULL;
    s->fd = -1;
    s->writing = 0;
}

/* libevent counts the events on each descriptor number and tells the
 * kernel only when the count leaves or reaches zero: events left on a
 * number the library has closed would hide from the kernel the next
 * socket to get that number.  The library says before it closes. */
static inline void imclient_libevent__fdclosing(struct imclient *c, void *rock, int fd)
{
    struct imclient_libevent *s = (struct imclient_libevent *)rock;
    (void)c;
    if (fd == s->fd)
        imclient_libevent__unwatch(s);
}

static inline int imclient_libevent__watch(struct imclient_libevent *s, int fd)
{
    s->fd = fd;
    s->rd = event_new(s->base, fd, EV_READ | EV_PERSIST, imclient_libevent__on_event, s);
    s->wr = event_new(s->base, fd, EV_WRITE | EV_PERSIST, imclient_libevent__on_event, s);
    if (!s->rd || !s->wr || event_add(s->rd, NULL) != 0) {
        imclient_libevent__unwatch(s);
        return -1;
    }
    return 0;
}

static inline void imclient_libevent__stop(struct imclient_libevent *s)
{
    imclient_libevent__unwatch(s);
    event_del(s->timer);
}

static inline void imclient_libevent__free(struct imclient_libevent *s)
{
    imclient_libevent__unwatch(s);
    if (s->timer)
        event_free(s->timer);
    IMCLIENT_ADAPTER_FREE(s);
}

/* Interest changes after every event: output appears and drains, deadlines
 * move with each reply. */
static inline void imclient_libevent__arm(struct imclient_libevent *s)
{
    int fd, ms;
    int want = imclient_wants(s->c, &fd, &ms);
    /* The descriptor changes when an imclient_connect_start() attempt
     * ends: the socket replaces the one standing for the attempt. */
    if (fd != s->fd)
        imclient_libevent__unwatch(s);
    if (fd < 0 || (!s->rd && imclient_libevent__watch(s, fd) != 0)) {
        imclient_libevent__stop(s);
        return;
    }
    if ((want & IMCLIENT_EV_WRITE) && !s->writing)
        s->writing = event_add(s->wr, NULL) == 0;
    else if (!(want & IMCLIENT_EV_WRITE) && s->writing) {
        event_del(s->wr);
        s->writing = 0;
    }
    /* A deadline that work done elsewhere starts lies at least one limit
     * after now: waking by then catches it in time. */
    struct imclient_limits l;
    imclient_getlimits(s->c, &l);
    int bound = l.timeout_ms > 0 ? l.timeout_ms : -1;
    if (l.command_timeout_ms > 0 && (bound < 0 || l.command_timeout_ms < bound))
        bound = l.command_timeout_ms;
    if (bound >= 0 && (ms < 0 || ms > bound))
        ms = bound;
    if (ms < 0) {
        event_del(s->timer);
        return;
    }
    /* libevent measures from the time it cached before running callbacks,
     * a little earlier than the library's clock: a millisecond more keeps
     * the timer from firing just before the deadline. */
    if (ms > 0 && ms < 0x7fffffff)
        ms++;
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    evtimer_add(s->timer, &tv);
}

static inline void imclient_libevent__on_event(evutil_socket_t fd, short what, void *arg)
{
    struct imclient_libevent *s = (struct imclient_libevent *)arg;
    int events = (what & EV_READ ? IMCLIENT_EV_READ : 0) | (what & EV_WRITE ? IMCLIENT_EV_WRITE : 0);
    (void)fd;
    s->busy = 1;
    int r = imclient_handle_events(s->c, events);
    s->busy = 0;
    if (s->freed) {
        imclient_libevent__free(s);
        return;
    }
    /* Closed but not freed: the library has closed its socket, and c
     * belongs to the application, which will close it. */
    if (r < 0) {
        imclient_libevent__stop(s);
        return;
    }
    imclient_libevent__arm(s);
}

/* Runs as the connection is freed, before its socket closes, possibly
 * inside imclient_handle_events() called from on_event above, which reads
 * the state after that returns. */
static inline void imclient_libevent__cleanup(void *rock)
{
    struct imclient_libevent *s = (struct imclient_libevent *)rock;
    if (s->busy) {
        imclient_libevent__stop(s);
        s->freed = 1;
    } else
        imclient_libevent__free(s);
}

static inline int imclient_libevent_attach(struct imclient *c, struct event_base *base)
{
    int fd, ms;
    if (!c || !base)
        return -1;
    imclient_wants(c, &fd, &ms);
    if (fd < 0)
        return -1;
    struct imclient_libevent *s =
        (struct imclient_libevent *)IMCLIENT_ADAPTER_CALLOC(1, sizeof *s);
    if (!s)
        return -1;
    s->c = c;
    s->base = base;
    s->fd = -1;
    s->timer = evtimer_new(base, imclient_libevent__on_event, s);
    if (!s->timer || imclient_libevent__watch(s, fd) != 0) {
        imclient_libevent__free(s);
        return -1;
    }
    imclient_setcleanup(c, imclient_libevent__cleanup, s);
    imclient_setfdclosing(c, imclient_libevent__fdclosing, s);
    imclient_libevent__arm(s);
    return 0;
}

#endif /* CYRUS_ADAPTERS_LIBEVENT_H */
