/*
 * test_ratelimit — the token bucket (src/base/ratelimit.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/ratelimit.h"

/* 20 per 2 s: a burst of 20 passes, the 21st waits about 100 ms. */
static void test_burst_then_wait(void **state)
{
    (void)state;
    struct ratelimit r = { 0 };
    uint64_t now = 1000000;
    for (int i = 0; i < 20; i++)
        assert_int_equal(ratelimit_take(&r, now, 20, 2000), 0);
    uint64_t wait = ratelimit_take(&r, now, 20, 2000);
    assert_true(wait > 0 && wait <= 101);
    assert_int_not_equal(ratelimit_take(&r, now + wait - 2, 20, 2000), 0);
    assert_int_equal(ratelimit_take(&r, now + wait + 1, 20, 2000), 0);
}

/* The bucket refills at the set rate and never above its size. */
static void test_refill_is_capped(void **state)
{
    (void)state;
    struct ratelimit r = { 0 };
    uint64_t now = 5000;
    for (int i = 0; i < 10; i++)
        assert_int_equal(ratelimit_take(&r, now, 10, 60000), 0);
    assert_int_not_equal(ratelimit_take(&r, now, 10, 60000), 0);
    assert_false(ratelimit_idle(&r, now + 30000, 10, 60000));
    assert_true(ratelimit_idle(&r, now + 60000, 10, 60000));
    now += 10 * 60000; /* a long pause buys no more than one burst */
    for (int i = 0; i < 10; i++)
        assert_int_equal(ratelimit_take(&r, now, 10, 60000), 0);
    assert_int_not_equal(ratelimit_take(&r, now, 10, 60000), 0);
}

/* Bytes as tokens: 1000 per second; a message costs its size, one larger
 * than the bucket costs the whole bucket, a refused one costs nothing. */
static void test_take_n(void **state)
{
    (void)state;
    struct ratelimit r = { 0 };
    uint64_t now = 1000;
    assert_int_equal(ratelimit_take_n(&r, now, 600, 1000, 1000), 0);
    uint64_t wait = ratelimit_take_n(&r, now, 600, 1000, 1000);
    assert_true(wait >= 200 && wait <= 201);
    assert_int_equal(ratelimit_take_n(&r, now, 400, 1000, 1000), 0); /* the refusal took nothing */
    assert_int_equal(ratelimit_take_n(&r, now + 1000, 5000, 1000, 1000), 0);
    wait = ratelimit_take_n(&r, now + 1000, 1, 1000, 1000);
    assert_true(wait >= 1 && wait <= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_wait),
        cmocka_unit_test(test_refill_is_capped),
        cmocka_unit_test(test_take_n),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
