/*
 * test_unauth — the answer budget of unauthenticated sources
 * (src/turn/unauth.c): rates per kind, the full table recycling idle
 * sources, the shared overflow bucket, the sweep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "turn/unauth.h"

static const uint8_t secret[16] = { 1, 2, 3 };

static void key_of(uint32_t n, uint8_t key[4])
{
    memcpy(key, &n, 4);
}

/* A source gets UNAUTH_ERROR_RATE error answers and UNAUTH_BINDING_RATE
 * Binding answers a second, each counted apart, and more as time passes. */
static void test_rates(void **state)
{
    (void)state;
    struct unauth_table t;
    unauth_init(&t, secret);
    uint8_t k[4];
    key_of(7, k);
    int errors = 0, bindings = 0;
    for (int i = 0; i < 500; i++) {
        errors += unauth_take(&t, k, 4, UNAUTH_ERROR, 1000);
        bindings += unauth_take(&t, k, 4, UNAUTH_BINDING, 1000);
    }
    assert_int_equal(errors, UNAUTH_ERROR_RATE);
    assert_int_equal(bindings, UNAUTH_BINDING_RATE);
    /* Another source has its own budget. */
    uint8_t other[4];
    key_of(8, other);
    assert_int_equal(unauth_take(&t, other, 4, UNAUTH_ERROR, 1000), 1);
    /* Half a second later, half the budget is back. */
    int later = 0;
    for (int i = 0; i < 100; i++)
        later += unauth_take(&t, k, 4, UNAUTH_ERROR, 1500);
    assert_int_equal(later, UNAUTH_ERROR_RATE / 2);
    unauth_cleanup(&t);
}

/* A full table: busy sources keep their entries, newcomers share the
 * overflow bucket; once the oldest is idle, a newcomer takes its place. */
static void test_full_table(void **state)
{
    (void)state;
    struct unauth_table t;
    unauth_init(&t, secret);
    uint8_t k[4];
    for (uint32_t i = 0; i < UNAUTH_TABLE_MAX; i++) {
        key_of(i, k);
        assert_int_equal(unauth_take(&t, k, 4, UNAUTH_ERROR, 1000), 1);
    }
    assert_int_equal(t.map.count, UNAUTH_TABLE_MAX);
    int shared_ok = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        key_of(100000 + i, k);
        shared_ok += unauth_take(&t, k, 4, UNAUTH_ERROR, 1000);
    }
    assert_int_equal(t.shared, 1000);
    assert_int_equal(shared_ok, UNAUTH_ERROR_RATE * UNAUTH_OVERFLOW_SCALE);
    assert_int_equal(t.map.count, UNAUTH_TABLE_MAX);
    /* Two seconds on, every tracked bucket is full again: the least
     * recently seen source (0) makes room for a newcomer. */
    key_of(200000, k);
    assert_int_equal(unauth_take(&t, k, 4, UNAUTH_ERROR, 3000), 1);
    assert_int_equal(t.shared, 1000);
    assert_int_equal(t.map.count, UNAUTH_TABLE_MAX);
    unauth_cleanup(&t);
}

/* The sweep forgets idle sources and keeps busy ones. */
static void test_sweep(void **state)
{
    (void)state;
    struct unauth_table t;
    unauth_init(&t, secret);
    uint8_t a[4], b[4];
    key_of(1, a);
    key_of(2, b);
    unauth_take(&t, a, 4, UNAUTH_ERROR, 1000);
    unauth_take(&t, b, 4, UNAUTH_ERROR, 1000);
    for (int i = 0; i < 30; i++)
        unauth_take(&t, b, 4, UNAUTH_ERROR, 4900);
    unauth_sweep(&t, 5000);
    assert_int_equal(t.map.count, 1);
    unauth_sweep(&t, 10000);
    assert_int_equal(t.map.count, 0);
    unauth_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_full_table),
        cmocka_unit_test(test_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
