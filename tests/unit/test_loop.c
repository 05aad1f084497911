/*
 * test_loop — timers, deferred callbacks and fd events of the event loop
 * (src/base/loop.c, loop_epoll.c).
 *
 * A real loop runs with delays of a few milliseconds; each test ends with a
 * timer that calls loop_stop(), and a guard timer that stops a loop which
 * would otherwise hang.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/loop.h"

#define MAXT 512

struct tt {
    struct loop_timer timer;
    int id;
    int fired;
    uint64_t deadline_at_fire;
};

static int order[MAXT];
static int norder;

static void on_timer(struct loop *loop, struct loop_timer *t)
{
    (void)loop;
    struct tt *x = container_of(t, struct tt, timer);
    x->fired++;
    x->deadline_at_fire = t->deadline;
    assert_int_equal(t->slot, 0); /* disarmed before its callback runs */
    if (norder < MAXT)
        order[norder++] = x->id;
}

static void on_stop(struct loop *loop, struct loop_timer *t)
{
    (void)t;
    loop_stop(loop);
}

static void start(struct loop *loop, struct tt *x, int id, uint64_t delay)
{
    memset(x, 0, sizeof(*x));
    x->id = id;
    loop_timer_start(loop, &x->timer, delay, on_timer);
}

static void test_deadline_order(void **state)
{
    (void)state;
    struct loop *loop = loop_new();
    assert_non_null(loop);
    norder = 0;
    struct tt a, b, c;
    struct loop_timer stop = { 0 };
    uint64_t t0 = clock_mono_ms();
    start(loop, &c, 3, 6);
    start(loop, &a, 1, 2);
    start(loop, &b, 2, 4);
    loop_timer_start(loop, &stop, 8, on_stop);
    /* Started out of order; unless the test was descheduled for
     * milliseconds between the starts, the deadlines are a < b < c. */
    int in_order = a.timer.deadline < b.timer.deadline && b.timer.deadline < c.timer.deadline;
    assert_int_equal(loop_run(loop), 0);
    uint64_t elapsed = clock_mono_ms() - t0;
    assert_int_equal(norder, 3);
    struct tt *byid[4] = { NULL, &a, &b, &c };
    for (int k = 1; k < 3; k++)
        assert_true(byid[order[k - 1]]->deadline_at_fire <= byid[order[k]]->deadline_at_fire);
    if (in_order) {
        assert_int_equal(order[0], 1);
        assert_int_equal(order[1], 2);
        assert_int_equal(order[2], 3);
    }
    assert_true(elapsed >= 8);
    assert_true(loop_now(loop) >= t0 + 8);
    loop_free(loop);
}

static void test_stop_before_firing(void **state)
{
    (void)state;
    struct loop *loop = loop_new();
    norder = 0;
    struct tt a, b;
    struct loop_timer stop = { 0 };
    start(loop, &a, 1, 1);
    start(loop, &b, 2, 2);
    loop_timer_stop(loop, &a.timer);
    assert_int_equal(a.timer.slot, 0);
    loop_timer_stop(loop, &a.timer); /* stopping twice is harmless */
    loop_timer_start(loop, &stop, 5, on_stop);
    assert_int_equal(loop_run(loop), 0);
    assert_int_equal(a.fired, 0);
    assert_int_equal(b.fired, 1);
    /* Stopping a timer that already fired is harmless too. */
    loop_timer_stop(loop, &b.timer);
    loop_free(loop);
}

static void test_rearm(void **state)
{
    (void)state;
    struct loop *loop = loop_new();
    norder = 0;
    struct tt a, b;
    struct loop_timer stop = { 0 };
    start(loop, &a, 1, 2);
    start(loop, &b, 2, 4);
    /* Re-arming moves the deadline; it does not add a second firing. */
    uint64_t t0 = clock_mono_ms();
    loop_timer_start(loop, &a.timer, 7, on_timer);
    loop_timer_start(loop, &stop, 9, on_stop);
    assert_int_equal(loop_run(loop), 0);
    assert_int_equal(a.fired, 1);
    assert_int_equal(b.fired, 1);
    assert_int_equal(norder, 2);
    assert_int_equal(order[0], 2);
    assert_int_equal(order[1], 1);
    assert_true(a.deadline_at_fire >= t0 + 7);
    loop_free(loop);
}

/* A timer that re-arms itself from its own callback fires again; the third
 * firing stops the loop (a guard timer far away ends a hung test). */
static int periodic_count;
static void on_periodic(struct loop *loop, struct loop_timer *t)
{
    if (++periodic_count < 3)
        loop_timer_start(loop, t, 1, on_periodic);
    else
        loop_stop(loop);
}

static void test_rearm_from_callback(void **state)
{
    (void)state;
    struct loop *loop = loop_new();
    struct loop_timer p = { 0 }, stop = { 0 };
    periodic_count = 0;
    uint64_t t0 = clock_mono_ms();
    loop_timer_start(loop, &p, 1, on_periodic);
    loop_timer_start(loop, &stop, 2000, on_stop);
    assert_int_equal(loop_run(loop), 0);
    assert_int_equal(periodic_count, 3);
    assert_int_equal(p.slot, 0);
    assert_true(clock_mono_ms() - t0 >= 3);
    loop_free(loop);
}

static struct tt many[300];

static void test_many_random(void **state)
{
    (void)state;
    struct loop *loop = loop_new();
    norder = 0;
    unsigned seed = 4242;
    size_t n = sizeof(many) / sizeof(many[0]);
    for (size_t i = 0; i < n; i++)
        start(loop, &many[i], (int)i, (uint64_t)(rand_r(&seed) % 8));
    /* Re-arm and stop a random third of them, which moves timers around
     * inside the heap. */
    int stopped[300] = { 0 };
    for (size_t k = 0; k < n / 3; k++) {
        size_t i = (size_t)rand_r(&seed) % n;
        if (rand_r(&seed) % 2) {
            loop_timer_stop(loop, &many[i].timer);
            stopped[i] = 1;
        } else {
            loop_timer_start(loop, &many[i].timer, (uint64_t)(rand_r(&seed) % 8), on_timer);
            stopped[i] = 0;
        }
    }
    struct loop_timer stop = { 0 };
    loop_timer_start(loop, &stop, 10, on_stop);
    assert_int_equal(loop_run(loop), 0);
    size_t want = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(many[i].fired, stopped[i] ? 0 : 1);
        want += !stopped[i];
    }
    assert_int_equal((size_t)norder, want);
    for (int k = 1; k < norder; k++) {
        if (many[order[k - 1]].deadline_at_fire > many[order[k]].deadline_at_fire)
            fail_msg("timer %d (deadline %llu) fired before %d (deadline %llu)", order[k - 1],
                     (unsigned long long)many[order[k - 1]].deadline_at_fire, order[k],
                     (unsigned long long)many[order[k]].deadline_at_fire);
    }
    loop_free(loop);
}

/* Deferred work runs once per queueing, after the handler that queued it. */
struct dd {
    struct loop_defer defer;
    int runs;
};
static struct dd deferred;
static int defer_seen_by_timer;

static void on_defer(struct loop *loop, struct loop_defer *d)
{
    (void)loop;
    struct dd *x = container_of(d, struct dd, defer);
    x->runs++;
}

static void on_timer_defer(struct loop *loop, struct loop_timer *t)
{
    (void)t;
    loop_defer(loop, &deferred.defer, on_defer);
    loop_defer(loop, &deferred.defer, on_defer); /* queued once only */
    defer_seen_by_timer = deferred.runs;
}

static void test_defer(void **state)
{
    (void)state;
    struct loop *loop = loop_new();
    memset(&deferred, 0, sizeof(deferred));
    struct loop_timer t = { 0 }, stop = { 0 };
    loop_timer_start(loop, &t, 1, on_timer_defer);
    loop_timer_start(loop, &stop, 4, on_stop);
    assert_int_equal(loop_run(loop), 0);
    assert_int_equal(defer_seen_by_timer, 0);
    assert_int_equal(deferred.runs, 1);
    loop_free(loop);
}

/* A cancelled callback does not run; the others queued around it do. */
static struct dd cancel_a, cancel_c;
static void on_timer_cancel(struct loop *loop, struct loop_timer *t)
{
    (void)t;
    struct dd *a = &cancel_a, *c = &cancel_c;
    loop_defer(loop, &a->defer, on_defer);
    loop_defer(loop, &deferred.defer, on_defer);
    loop_defer(loop, &c->defer, on_defer);
    loop_defer_cancel(loop, &c->defer);     /* the tail */
    loop_defer_cancel(loop, &deferred.defer); /* the middle */
    loop_defer_cancel(loop, &deferred.defer); /* twice is harmless */
    loop_defer(loop, &c->defer, on_defer);  /* the queue still takes more */
}

static void test_defer_cancel(void **state)
{
    (void)state;
    struct loop *loop = loop_new();
    memset(&deferred, 0, sizeof(deferred));
    memset(&cancel_a, 0, sizeof(cancel_a));
    memset(&cancel_c, 0, sizeof(cancel_c));
    struct loop_timer t = { 0 }, stop = { 0 };
    loop_timer_start(loop, &t, 1, on_timer_cancel);
    loop_timer_start(loop, &stop, 4, on_stop);
    assert_int_equal(loop_run(loop), 0);
    assert_int_equal(deferred.runs, 0);
    assert_int_equal(deferred.defer.queued, 0);
    assert_int_equal(cancel_a.runs, 1);
    assert_int_equal(cancel_c.runs, 1);
    loop_free(loop);
}

/* A readable pipe calls its handler with LOOP_READ. */
static unsigned io_events;
static void on_io(struct loop *loop, struct loop_io *io, unsigned events)
{
    char c;
    io_events |= events;
    assert_int_equal(read(io->fd, &c, 1), 1);
    assert_int_equal(c, 'x');
    loop_io_del(loop, io);
    loop_stop(loop);
}

static void test_io(void **state)
{
    (void)state;
    struct loop *loop = loop_new();
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct loop_io io = { 0 };
    struct loop_timer guard = { 0 };
    io_events = 0;
    assert_int_equal(loop_io_add(loop, &io, p[0], LOOP_READ, on_io), 0);
    assert_int_equal(io.mask, LOOP_READ);
    assert_int_equal(loop_io_set(loop, &io, LOOP_READ), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    loop_timer_start(loop, &guard, 50, on_stop);
    assert_int_equal(loop_run(loop), 0);
    assert_true(io_events & LOOP_READ);
    assert_int_equal(io.mask, 0);
    loop_timer_stop(loop, &guard);
    /* Adding a bad fd fails with -errno and watches nothing. */
    struct loop_io bad = { 0 };
    assert_true(loop_io_add(loop, &bad, -1, LOOP_READ, on_io) < 0);
    assert_int_equal(bad.mask, 0);
    close(p[0]);
    close(p[1]);
    loop_free(loop);
    loop_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_order),
        cmocka_unit_test(test_stop_before_firing),
        cmocka_unit_test(test_rearm),
        cmocka_unit_test(test_rearm_from_callback),
        cmocka_unit_test(test_many_random),
        cmocka_unit_test(test_defer),
        cmocka_unit_test(test_defer_cancel),
        cmocka_unit_test(test_io),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
