/*
 * test_buf — the bounded byte buffer (src/base/buf.c).
 *
 * A buffer never holds more than its ceiling; a refused append leaves it as
 * it was; consumed bytes are gone; storage is released once it is empty.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"

static void test_init_empty(void **state)
{
    (void)state;
    struct buf b;
    memset(&b, 0xAA, sizeof(b));
    buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_room(&b), 100);
    assert_null(buf_head(&b));
    buf_cleanup(&b);
    buf_cleanup(&b); /* twice is harmless */
}

static void test_append_and_ceiling(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_append(&b, "hello", 5), 0);
    assert_int_equal(b.len, 5);
    assert_memory_equal(buf_head(&b), "hello", 5);
    assert_int_equal(buf_room(&b), 5);

    /* Past the ceiling: refused, nothing changes. */
    const uint8_t *before = buf_head(&b);
    assert_int_equal(buf_append(&b, "world!", 6), -ENOBUFS);
    assert_int_equal(b.len, 5);
    assert_ptr_equal(buf_head(&b), before);
    assert_memory_equal(buf_head(&b), "hello", 5);

    /* Exactly up to the ceiling is fine, one more byte is not. */
    assert_int_equal(buf_append(&b, "world", 5), 0);
    assert_int_equal(b.len, 10);
    assert_memory_equal(buf_head(&b), "helloworld", 10);
    assert_int_equal(buf_room(&b), 0);
    assert_int_equal(buf_append(&b, "x", 1), -ENOBUFS);
    assert_int_equal(b.len, 10);
    assert_int_equal(buf_append(&b, "", 0), 0);
    assert_true(b.cap <= b.max);
    buf_cleanup(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    /* Reusable after cleanup, with the same ceiling. */
    assert_int_equal(buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(buf_append(&b, "a", 1), -ENOBUFS);
    buf_cleanup(&b);
}

static void test_zero_ceiling(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append(&b, "a", 1), -ENOBUFS);
    assert_null(b.data);
    assert_null(buf_reserve(&b, 1));
    buf_cleanup(&b);
}

static void test_consume(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_append(&b, "abcdefgh", 8), 0);
    buf_consume(&b, 3);
    assert_int_equal(b.len, 5);
    assert_memory_equal(buf_head(&b), "defgh", 5);
    /* Consumed bytes no longer count against the ceiling. */
    assert_int_equal(buf_room(&b), 59);
    buf_consume(&b, 5);
    assert_int_equal(b.len, 0);
    assert_null(b.data); /* storage released when empty */
    assert_null(buf_head(&b));
    assert_int_equal(b.cap, 0);
    /* Consuming more than is stored empties the buffer too. */
    assert_int_equal(buf_append(&b, "xyz", 3), 0);
    buf_consume(&b, 100);
    assert_int_equal(b.len, 0);
    assert_null(b.data);
    buf_consume(&b, 1); /* on an empty buffer */
    assert_null(b.data);
    buf_cleanup(&b);
}

static void test_reserve_commit(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 32);
    uint8_t *p = buf_reserve(&b, 10);
    assert_non_null(p);
    assert_int_equal(b.len, 0); /* reserving stores nothing */
    memcpy(p, "0123456789", 10);
    buf_commit(&b, 4);
    assert_int_equal(b.len, 4);
    assert_memory_equal(buf_head(&b), "0123", 4);
    /* The next reservation starts right after the committed bytes. */
    p = buf_reserve(&b, 28);
    assert_non_null(p);
    assert_ptr_equal(p, buf_head(&b) + 4);
    memset(p, 'z', 28);
    buf_commit(&b, 28);
    assert_int_equal(b.len, 32);
    assert_null(buf_reserve(&b, 1));
    buf_consume(&b, 30);
    assert_null(buf_reserve(&b, 31));
    p = buf_reserve(&b, 30);
    assert_non_null(p);
    memcpy(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcd", 30);
    buf_commit(&b, 30);
    assert_int_equal(b.len, 32);
    assert_memory_equal(buf_head(&b), "zzABCDEFGHIJKLMNOPQRSTUVWXYZabcd", 32);
    assert_true(b.cap <= b.max);
    buf_cleanup(&b);
}

/* Fills a buffer through many appends and partial consumes and compares it
 * with a plain array kept alongside (a model). */
static void test_model(void **state)
{
    (void)state;
    enum { MAX = 5000 };
    static uint8_t model[1 << 20];
    size_t mstart = 0, mlen = 0;
    struct buf b;
    buf_init(&b, MAX);
    unsigned seed = 7;
    uint8_t chunk[700];
    uint8_t next = 0;
    for (int iter = 0; iter < 20000; iter++) {
        unsigned r = (unsigned)rand_r(&seed);
        if (r % 3 != 0) {
            size_t n = (r >> 4) % sizeof(chunk);
            for (size_t i = 0; i < n; i++)
                chunk[i] = next++;
            int rc = buf_append(&b, chunk, n);
            if (mlen + n > MAX) {
                assert_int_equal(rc, -ENOBUFS);
                next = (uint8_t)(next - n);
            } else {
                assert_int_equal(rc, 0);
                if (mstart + mlen + n > sizeof(model)) {
                    memmove(model, model + mstart, mlen);
                    mstart = 0;
                }
                memcpy(model + mstart + mlen, chunk, n);
                mlen += n;
            }
        } else {
            size_t n = (r >> 4) % 1200;
            buf_consume(&b, n);
            if (n >= mlen) {
                mstart += mlen;
                mlen = 0;
            } else {
                mstart += n;
                mlen -= n;
            }
        }
        assert_int_equal(b.len, mlen);
        assert_true(b.len <= MAX);
        assert_true(b.cap <= MAX);
        if (mlen)
            assert_memory_equal(buf_head(&b), model + mstart, mlen);
        else
            assert_null(b.data);
    }
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_empty),
        cmocka_unit_test(test_append_and_ceiling),
        cmocka_unit_test(test_zero_ceiling),
        cmocka_unit_test(test_consume),
        cmocka_unit_test(test_reserve_commit),
        cmocka_unit_test(test_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
