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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_del),
        cmocka_unit_test(test_growth_and_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
