/*
 * loop — timers (a binary min-heap), deferred callbacks and the run loop.
 * The readiness backend is in loop_epoll.c.
 */
#include "loop.h"

#include <errno.h>

#include "alloc.h"
#include "clock.h"

struct loop {
    struct loop_backend *backend;
    struct loop_timer **heap;
    size_t heap_len, heap_cap;
    struct loop_defer *defer_head, **defer_tail;
    uint64_t now;
    int stopping;
};

struct loop *loop_new(void)
{
    struct loop *loop = xcalloc(1, sizeof(*loop));
    loop->backend = loop_backend_new();
    if (!loop->backend) {
        xfree(loop);
        return NULL;
    }
    loop->defer_tail = &loop->defer_head;
    loop->now = clock_mono_ms();
    return loop;
}

void loop_free(struct loop *loop)
{
    if (!loop)
        return;
    loop_backend_free(loop->backend);
    xfree(loop->heap);
    xfree(loop);
}

void loop_touch(struct loop *loop)
{
    loop->now = clock_mono_ms();
}

uint64_t loop_now(const struct loop *loop)
{
    return loop->now;
}

int loop_io_add(struct loop *loop, struct loop_io *io, int fd, unsigned mask, loop_io_fn fn)
{
    io->fd = fd;
    io->fn = fn;
    io->mask = 0;
    int rc = loop_backend_ctl(loop->backend, io, LOOP_CTL_ADD, mask);
    if (rc == 0)
        io->mask = mask;
    return rc;
}

int loop_io_set(struct loop *loop, struct loop_io *io, unsigned mask)
{
    if (mask == io->mask)
        return 0;
    int rc = loop_backend_ctl(loop->backend, io, LOOP_CTL_MOD, mask);
    if (rc == 0)
        io->mask = mask;
    return rc;
}

void loop_io_del(struct loop *loop, struct loop_io *io)
{
    if (io->fn)
        loop_backend_ctl(loop->backend, io, LOOP_CTL_DEL, 0);
    io->mask = 0;
    io->fn = NULL;
}

/* --- timer heap; slot is index + 1 so that 0 means "not armed" --- */

static int timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
    return a->deadline < b->deadline;
}

static void heap_place(struct loop *loop, size_t i, struct loop_timer *t)
{
    loop->heap[i] = t;
    t->slot = i + 1;
}

static void heap_up(struct loop *loop, size_t i)
{
    struct loop_timer *t = loop->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, loop->heap[parent]))
            break;
        heap_place(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_place(loop, i, t);
}

static void heap_down(struct loop *loop, size_t i)
{
    struct loop_timer *t = loop->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= loop->heap_len)
            break;
        if (child + 1 < loop->heap_len && timer_before(loop->heap[child + 1], loop->heap[child]))
            child++;
        if (!timer_before(loop->heap[child], t))
            break;
        heap_place(loop, i, loop->heap[child]);
        i = child;
    }
    heap_place(loop, i, t);
}

void loop_timer_stop(struct loop *loop, struct loop_timer *t)
{
    if (!t->slot)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    struct loop_timer *last = loop->heap[--loop->heap_len];
    if (i == loop->heap_len)
        return;
    heap_place(loop, i, last);
    heap_up(loop, i);
    heap_down(loop, last->slot - 1);
}

void loop_timer_start(struct loop *loop, struct loop_timer *t, uint64_t delay_ms, loop_timer_fn fn)
{
    loop_timer_stop(loop, t);
    t->fn = fn;
    t->deadline = clock_mono_ms() + delay_ms;
    if (loop->heap_len == loop->heap_cap) {
        loop->heap_cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        loop->heap = xrealloc(loop->heap, loop->heap_cap * sizeof(*loop->heap));
    }
    heap_place(loop, loop->heap_len++, t);
    heap_up(loop, loop->heap_len - 1);
}

static void run_timers(struct loop *loop)
{
    while (loop->heap_len > 0 && loop->heap[0]->deadline <= loop->now) {
        struct loop_timer *t = loop->heap[0];
        loop_timer_stop(loop, t);
        t->fn(loop, t);
    }
}

static int next_timeout(const struct loop *loop)
{
    if (loop->defer_head)
        return 0;
    if (loop->heap_len == 0)
        return -1;
    uint64_t deadline = loop->heap[0]->deadline;
    if (deadline <= loop->now)
        return 0;
    uint64_t wait = deadline - loop->now;
    return wait > 60000 ? 60000 : (int)wait;
}

/* --- deferred work --- */

void loop_defer(struct loop *loop, struct loop_defer *d, loop_defer_fn fn)
{
    if (d->queued)
        return;
    d->fn = fn;
    d->next = NULL;
    d->queued = 1;
    *loop->defer_tail = d;
    loop->defer_tail = &d->next;
}

void loop_defer_cancel(struct loop *loop, struct loop_defer *d)
{
    if (!d->queued)
        return;
    for (struct loop_defer **pp = &loop->defer_head; *pp; pp = &(*pp)->next) {
        if (*pp != d)
            continue;
        *pp = d->next;
        if (loop->defer_tail == &d->next)
            loop->defer_tail = pp;
        break;
    }
    d->queued = 0;
}

static void run_deferred(struct loop *loop)
{
    while (loop->defer_head) {
        struct loop_defer *d = loop->defer_head;
        loop->defer_head = d->next;
        if (!loop->defer_head)
            loop->defer_tail = &loop->defer_head;
        d->queued = 0;
        d->fn(loop, d);
    }
}

int loop_run(struct loop *loop)
{
    loop->stopping = 0;
    while (!loop->stopping) {
        int rc = loop_backend_poll(loop->backend, loop, next_timeout(loop));
        if (rc < 0 && rc != -EINTR)
            return rc;
        loop->now = clock_mono_ms();
        run_deferred(loop);
        run_timers(loop);
        run_deferred(loop);
    }
    return 0;
}

void loop_stop(struct loop *loop)
{
    loop->stopping = 1;
}
