/*
 * test_strmap — the intrusive string-keyed hash map (src/base/strmap.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "base/siphash.h"
#include "base/strmap.h"

struct item {
    struct strmap_entry entry;
    char key[16];
    int value;
};

static void test_put_get_del(void **state)
{
    (void)state;
    struct strmap m;
    strmap_init(&m);
    struct item a = { .value = 1 }, b = { .value = 2 };
    strcpy(a.key, "alpha");
    strcpy(b.key, "beta");
    assert_null(strmap_get(&m, "alpha"));
    strmap_put(&m, &a.entry, a.key);
    strmap_put(&m, &b.entry, b.key);
    assert_int_equal(m.count, 2);
    struct strmap_entry *e = strmap_get(&m, "beta");
    assert_non_null(e);
    assert_int_equal(container_of(e, struct item, entry)->value, 2);
    assert_null(strmap_get(&m, "gamma"));
    assert_null(strmap_get(&m, "alph"));
    strmap_del(&m, &a.entry);
    assert_null(strmap_get(&m, "alpha"));
    assert_non_null(strmap_get(&m, "beta"));
    assert_int_equal(m.count, 1);
    strmap_cleanup(&m);
}

static void count_and_delete_odd(struct strmap_entry *e, void *arg)
{
    struct strmap *m = arg;
    struct item *it = container_of(e, struct item, entry);
    if (it->value % 2)
        strmap_del(m, e);
}

/* Many entries force the table to grow; every one stays findable, and
 * deleting during iteration is allowed. */
static void test_growth_and_each(void **state)
{
    (void)state;
    enum { N = 5000 };
    struct item *items = xcalloc(N, sizeof(*items));
    struct strmap m;
    strmap_init(&m);
    for (int i = 0; i < N; i++) {
        snprintf(items[i].key, sizeof(items[i].key), "k%d", i);
        items[i].value = i;
        strmap_put(&m, &items[i].entry, items[i].key);
    }
    assert_true(m.nbuckets >= N);
    for (int i = 0; i < N; i++) {
        struct strmap_entry *e = strmap_get(&m, items[i].key);
        assert_ptr_equal(e, &items[i].entry);
    }
    strmap_each(&m, count_and_delete_odd, &m);
    assert_int_equal(m.count, N / 2);
    for (int i = 0; i < N; i++)
        assert_true((strmap_get(&m, items[i].key) != NULL) == (i % 2 == 0));
    strmap_cleanup(&m);
    xfree(items);
}

/* Keys a client chooses cannot be made to collide: every map hashes
 * under its own random SipHash key, so the same key lands in different
 * buckets in two maps, and FNV-1a's collisions are gone. */
static void test_keyed_hash(void **state)
{
    (void)state;
    struct strmap a, b;
    strmap_init(&a);
    strmap_init(&b);
    assert_false(a.k0 == b.k0 && a.k1 == b.k1);
    assert_false(a.k0 == 0 && a.k1 == 0);
    struct item x = { .key = "alice" }, y = { .key = "alice" };
    strmap_put(&a, &x.entry, x.key);
    strmap_put(&b, &y.entry, y.key);
    assert_int_not_equal(x.entry.hash, y.entry.hash);
    assert_int_equal(x.entry.hash, (unsigned)siphash13(a.k0, a.k1, (const uint8_t *)"alice", 5));
    /* "costarring" and "liquid" collide under 32-bit FNV-1a. */
    struct item c = { .key = "costarring" }, d = { .key = "liquid" };
    strmap_put(&a, &c.entry, c.key);
    strmap_put(&a, &d.entry, d.key);
    assert_int_not_equal(c.entry.hash, d.entry.hash);
    assert_ptr_equal(strmap_get(&a, "liquid"), &d.entry);
    strmap_cleanup(&a);
    strmap_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_del),
        cmocka_unit_test(test_growth_and_each),
        cmocka_unit_test(test_keyed_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
