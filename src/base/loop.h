/*
 * loop — the event loop: fd readiness, timers and deferred work.
 *
 * One loop runs everything (like Redis's ae). Handlers are embedded in the
 * objects that own them (struct loop_io, struct loop_timer, struct
 * loop_defer) and found back with container_of, so registering costs no
 * allocation. Deferred callbacks run after every handler of the current
 * iteration has run: that is where connections are freed, so an event later
 * in the same batch never touches freed memory. The readiness backend lives
 * in loop_epoll.c.
 */
#ifndef TINCAN_LOOP_H
#define TINCAN_LOOP_H

#include <stddef.h>
#include <stdint.h>

#define LOOP_READ 1u
#define LOOP_WRITE 2u

struct loop;
struct loop_io;
struct loop_timer;
struct loop_defer;

typedef void (*loop_io_fn)(struct loop *loop, struct loop_io *io, unsigned events);
typedef void (*loop_timer_fn)(struct loop *loop, struct loop_timer *t);
typedef void (*loop_defer_fn)(struct loop *loop, struct loop_defer *d);

struct loop_io {
    int fd;
    unsigned mask;      /* LOOP_READ | LOOP_WRITE currently watched */
    loop_io_fn fn;
};

struct loop_timer {
    uint64_t deadline;  /* monotonic ms */
    size_t slot;        /* index in the heap + 1; 0 when not armed */
    loop_timer_fn fn;
};

struct loop_defer {
    struct loop_defer *next;
    loop_defer_fn fn;
    int queued;
};

/* Creates a loop; NULL with errno set if the backend cannot be created. */
struct loop *loop_new(void);
/* Frees the loop; registered objects stay owned by their owners. */
void loop_free(struct loop *loop);

/* Starts watching io->fd for mask with io->fn; 0 or -errno. */
int loop_io_add(struct loop *loop, struct loop_io *io, int fd, unsigned mask, loop_io_fn fn);
/* Changes the watched events; no system call when mask is unchanged. */
int loop_io_set(struct loop *loop, struct loop_io *io, unsigned mask);
/* Stops watching; the caller closes the fd afterwards. */
void loop_io_del(struct loop *loop, struct loop_io *io);

/* Arms (or re-arms) t to fire once after delay_ms. */
void loop_timer_start(struct loop *loop, struct loop_timer *t, uint64_t delay_ms, loop_timer_fn fn);
/* Disarms t; safe on a timer that is not armed. */
void loop_timer_stop(struct loop *loop, struct loop_timer *t);

/* Queues d->fn to run once the current iteration's events are handled. */
void loop_defer(struct loop *loop, struct loop_defer *d, loop_defer_fn fn);
/* Takes d off the queue if it is on it (before its owner is freed). */
void loop_defer_cancel(struct loop *loop, struct loop_defer *d);

/* Sets the iteration's time to now; the backend calls it when the wait ends. */
void loop_touch(struct loop *loop);
/* Monotonic time of the current iteration, in ms. */
uint64_t loop_now(const struct loop *loop);
/* Runs until loop_stop(); returns 0 or -errno of a failed wait. */
int loop_run(struct loop *loop);
/* Makes loop_run() return after the current iteration. */
void loop_stop(struct loop *loop);

/* Backend contract (loop_epoll.c). */
struct loop_backend;
struct loop_backend *loop_backend_new(void);
void loop_backend_free(struct loop_backend *b);
enum loop_ctl { LOOP_CTL_ADD, LOOP_CTL_MOD, LOOP_CTL_DEL };
/* Adds, changes or removes io in the backend; 0 or -errno. */
int loop_backend_ctl(struct loop_backend *b, struct loop_io *io, enum loop_ctl op, unsigned mask);
/* Waits up to timeout_ms (-1: forever), calls loop_touch(), then io->fn for
 * each ready io; returns the number of events or -errno. */
int loop_backend_poll(struct loop_backend *b, struct loop *loop, int timeout_ms);

#endif
