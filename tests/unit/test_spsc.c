/*
 * test_spsc — the single-producer, single-consumer queue between the main
 * loop and the SFU's media threads (src/base/spsc.c).
 *
 * Order and capacity on one thread, the eventfd's wake-ups, and two real
 * threads passing a million numbered slots through a small queue (the
 * consumer checks every number and every byte of the payload arrives
 * once, in order).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>

#include <cmocka.h>

#include "base/spsc.h"

struct msg {
    uint64_t seq;
    uint8_t fill[40];
};

static int readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) == 1;
}

static void test_order_and_capacity(void **state)
{
    (void)state;
    struct spsc *q = spsc_new(5, sizeof(struct msg));
    assert_non_null(q);
    assert_int_equal(spsc_capacity(q), 8);
    assert_null(spsc_peek(q));
    for (uint64_t round = 0; round < 3; round++) { /* the indices wrap past the capacity */
        for (uint64_t i = 0; i < 8; i++) {
            struct msg *m = spsc_reserve(q);
            assert_non_null(m);
            m->seq = round * 100 + i;
            spsc_commit(q);
        }
        assert_null(spsc_reserve(q)); /* full */
        assert_int_equal(spsc_count(q), 8);
        for (uint64_t i = 0; i < 8; i++) {
            struct msg *m = spsc_peek(q);
            assert_non_null(m);
            assert_int_equal(m->seq, round * 100 + i);
            spsc_pop(q);
        }
        assert_null(spsc_peek(q));
        assert_int_equal(spsc_count(q), 0);
    }
    spsc_free(q);
    spsc_free(NULL);
}

static void test_uncommitted_is_invisible(void **state)
{
    (void)state;
    struct spsc *q = spsc_new(4, sizeof(struct msg));
    struct msg *m = spsc_reserve(q);
    m->seq = 7;
    assert_null(spsc_peek(q)); /* reserved, not committed */
    assert_ptr_equal(spsc_reserve(q), m); /* the same slot until committed */
    spsc_commit(q);
    assert_int_equal(((struct msg *)spsc_peek(q))->seq, 7);
    spsc_free(q);
}

static void test_kick_wakes(void **state)
{
    (void)state;
    struct spsc *q = spsc_new(4, 8);
    assert_false(readable(spsc_fd(q)));
    spsc_kick(q);
    spsc_kick(q);
    assert_true(readable(spsc_fd(q)));
    spsc_drain_fd(q); /* one read resets however many kicks */
    assert_false(readable(spsc_fd(q)));
    spsc_drain_fd(q); /* nothing to read: harmless */
    spsc_free(q);
}

#define PUMPED 1000000u

static void *producer(void *arg)
{
    struct spsc *q = arg;
    for (uint64_t i = 0; i < PUMPED; i++) {
        struct msg *m;
        while (!(m = spsc_reserve(q)))
            sched_yield();
        m->seq = i;
        memset(m->fill, (int)(i & 0xff), sizeof(m->fill));
        spsc_commit(q);
        if ((i & 63) == 63)
            spsc_kick(q);
    }
    spsc_kick(q);
    return NULL;
}

static void test_two_threads(void **state)
{
    (void)state;
    struct spsc *q = spsc_new(64, sizeof(struct msg));
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, q), 0);
    uint64_t want = 0, bad = 0;
    while (want < PUMPED) {
        struct pollfd p = { .fd = spsc_fd(q), .events = POLLIN };
        poll(&p, 1, 10); /* the kicks wake us; the timeout covers the last batch */
        spsc_drain_fd(q);
        struct msg *m;
        while ((m = spsc_peek(q))) {
            uint8_t f[sizeof(m->fill)];
            memset(f, (int)(want & 0xff), sizeof(f));
            if (m->seq != want || memcmp(f, m->fill, sizeof(f)) != 0)
                bad++;
            want++;
            spsc_pop(q);
        }
    }
    pthread_join(t, NULL);
    assert_int_equal(bad, 0);
    assert_null(spsc_peek(q));
    spsc_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_capacity),
        cmocka_unit_test(test_uncommitted_is_invisible),
        cmocka_unit_test(test_kick_wakes),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
