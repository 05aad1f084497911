/*
 * test_ratetable — token buckets keyed by a string, at most max of them
 * (src/base/ratetable.c): the REST, accounts and PIN limiters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/ratetable.h"

#define T0 1000000 /* a time well after 0, as loop_now() gives */

static struct ratetable table;

/* A table of 16 that answers 60 s when full (the tests that do not fill it). */
static int setup(void **state)
{
    ratetable_init(&table, 16, 60000);
    *state = &table;
    return 0;
}

/* A table of 4 that answers 1 s when full. */
static int setup_small(void **state)
{
    ratetable_init(&table, 4, 1000);
    *state = &table;
    return 0;
}

static int teardown(void **state)
{
    ratetable_cleanup(*state);
    return 0;
}

/* 3 per minute: three pass, the fourth waits about 20 s (one token's
 * refill); a refusal adds no bucket. */
static void test_limit(void **state)
{
    struct ratetable *t = *state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(ratetable_take(t, "10.0.0.1", 3, 60000, T0), 0);
    uint64_t wait = ratetable_take(t, "10.0.0.1", 3, 60000, T0);
    assert_true(wait >= 20000 && wait <= 20001);
    assert_int_not_equal(ratetable_take(t, "10.0.0.1", 3, 60000, T0 + 1000), 0);
    assert_int_equal(ratetable_count(t), 1);
}

/* The window: a token comes back after per_ms / rate, the whole burst
 * after per_ms, and a long pause buys no more than one burst. */
static void test_window_expiry(void **state)
{
    struct ratetable *t = *state;
    for (int i = 0; i < 4; i++)
        assert_int_equal(ratetable_take(t, "k", 4, 2000, T0), 0);
    uint64_t wait = ratetable_take(t, "k", 4, 2000, T0);
    assert_true(wait >= 500 && wait <= 501);
    assert_int_not_equal(ratetable_take(t, "k", 4, 2000, T0 + wait - 2), 0);
    assert_int_equal(ratetable_take(t, "k", 4, 2000, T0 + wait + 1), 0);
    uint64_t later = T0 + 10 * 2000;
    for (int i = 0; i < 4; i++)
        assert_int_equal(ratetable_take(t, "k", 4, 2000, later), 0);
    assert_int_not_equal(ratetable_take(t, "k", 4, 2000, later), 0);
}

/* Each key has its own bucket: one spent does not touch the others, and
 * keys that share a prefix are still different keys. */
static void test_distinct_keys(void **state)
{
    struct ratetable *t = *state;
    const char *keys[] = { "l:10.0.0.1", "l:10.0.0.10", "a:alice", "a:alice2", "10.0.0.1" };
    for (size_t k = 0; k < 5; k++) {
        assert_int_equal(ratetable_take(t, keys[k], 2, 60000, T0), 0);
        assert_int_equal(ratetable_take(t, keys[k], 2, 60000, T0), 0);
        assert_int_not_equal(ratetable_take(t, keys[k], 2, 60000, T0), 0);
    }
    assert_int_equal(ratetable_count(t), 5);
    assert_int_equal(ratetable_take(t, "l:10.0.0.2", 2, 60000, T0), 0);
}

/* The key is copied: the caller's buffer may change after the take. */
static void test_key_is_copied(void **state)
{
    struct ratetable *t = *state;
    char key[300];
    memset(key, 'x', sizeof(key) - 1); /* as long as an accounts key gets */
    key[sizeof(key) - 1] = '\0';
    assert_int_equal(ratetable_take(t, key, 1, 60000, T0), 0);
    char again[300];
    memcpy(again, key, sizeof(key));
    memset(key, 'y', sizeof(key) - 1);
    assert_int_not_equal(ratetable_take(t, again, 1, 60000, T0), 0);
    assert_int_equal(ratetable_take(t, key, 1, 60000, T0), 0);
    assert_int_equal(ratetable_count(t), 2);
}

/* rate 0 is no limit: always allowed and nothing is stored. */
static void test_rate_zero(void **state)
{
    struct ratetable *t = *state;
    for (int i = 0; i < 100; i++)
        assert_int_equal(ratetable_take(t, "k", 0, 60000, T0), 0);
    assert_int_equal(ratetable_count(t), 0);
}

/* Fills t (max 4) with keys k0..k3 at now, each spending one of 2 tokens
 * a minute (idle again 30 s later). */
static void fill(struct ratetable *t, uint64_t now)
{
    char key[] = "k0";
    for (int i = 0; i < 4; i++) {
        key[1] = (char)('0' + i);
        assert_int_equal(ratetable_take(t, key, 2, 60000, now), 0);
    }
    assert_int_equal(ratetable_count(t), 4);
}

/* A full table of busy buckets refuses a new key with full_wait_ms and
 * keeps the buckets it has (a flood of new keys resets no limit); keys
 * already in it are served as before. */
static void test_full_refuses_new_keys(void **state)
{
    struct ratetable *t = *state;
    fill(t, T0);
    assert_int_equal(ratetable_take(t, "new", 2, 60000, T0 + 29000), 1000);
    assert_int_equal(ratetable_take(t, "other", 2, 60000, T0 + 29000), 1000);
    assert_int_equal(ratetable_count(t), 4);
    assert_int_equal(ratetable_take(t, "k0", 2, 60000, T0 + 29000), 0); /* its second token */
    assert_int_not_equal(ratetable_take(t, "k0", 2, 60000, T0 + 29000), 0);
}

/* A new key that finds the table full drops the buckets that have
 * refilled, and only those, then gets a bucket of its own. */
static void test_full_evicts_idle(void **state)
{
    struct ratetable *t = *state;
    /* One of 2 tokens a minute each: idle again 30 s after the take. */
    assert_int_equal(ratetable_take(t, "k0", 2, 60000, T0), 0);
    assert_int_equal(ratetable_take(t, "k1", 2, 60000, T0 + 20000), 0);
    assert_int_equal(ratetable_take(t, "k2", 2, 60000, T0 + 20000), 0);
    assert_int_equal(ratetable_take(t, "k3", 2, 60000, T0), 0);
    assert_int_equal(ratetable_take(t, "new", 2, 60000, T0 + 31000), 0);
    assert_int_equal(ratetable_count(t), 3); /* k0 and k3 went, "new" came */
    /* k1 kept its bucket (1.37 tokens): one more take, not a fresh burst. */
    assert_int_equal(ratetable_take(t, "k1", 2, 60000, T0 + 31000), 0);
    assert_int_not_equal(ratetable_take(t, "k1", 2, 60000, T0 + 31000), 0);
    /* k0 comes back as a new bucket with a full burst. */
    assert_int_equal(ratetable_take(t, "k0", 2, 60000, T0 + 31000), 0);
    assert_int_equal(ratetable_take(t, "k0", 2, 60000, T0 + 31000), 0);
    assert_int_equal(ratetable_count(t), 4);
    assert_int_equal(ratetable_take(t, "k3", 2, 60000, T0 + 31000), 1000);
}

/* The sweep drops refilled buckets only, each judged by its own rate and
 * window (the accounts table holds hourly and 15-minute buckets). */
static void test_sweep(void **state)
{
    struct ratetable *t = *state;
    assert_int_equal(ratetable_take(t, "fast", 2, 1000, T0), 0);
    assert_int_equal(ratetable_take(t, "slow", 5, 3600000, T0), 0);
    ratetable_sweep(t, T0 + 499);
    assert_int_equal(ratetable_count(t), 2);
    ratetable_sweep(t, T0 + 500);
    assert_int_equal(ratetable_count(t), 1); /* "fast" refilled in 500 ms */
    ratetable_sweep(t, T0 + 700000);
    assert_int_equal(ratetable_count(t), 1);
    assert_int_equal(ratetable_take(t, "slow", 5, 3600000, T0 + 700000), 0);
    ratetable_sweep(t, T0 + 700000 + 720000); /* 3.97 + 1 tokens of 5 */
    assert_int_equal(ratetable_count(t), 1);
    ratetable_sweep(t, T0 + 700000 + 741000);
    assert_int_equal(ratetable_count(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_distinct_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_is_copied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_refuses_new_keys, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_full_evicts_idle, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
