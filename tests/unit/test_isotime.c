/*
 * test_isotime — ISO-8601 parsing and the normal form (src/base/isotime.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/isotime.h"

static void expect_norm(const char *in, const char *want)
{
    char out[ISOTIME_LEN + 1];
    if (isotime_normalize(in, strlen(in), out) != 0)
        fail_msg("'%s' was refused", in);
    assert_string_equal(out, want);
}

static void expect_bad(const char *in)
{
    char out[ISOTIME_LEN + 1];
    if (isotime_normalize(in, strlen(in), out) == 0)
        fail_msg("'%s' was accepted as %s", in, out);
}

/* The forms clients send all end up as JavaScript's toISOString(). */
static void test_accepted_forms(void **state)
{
    (void)state;
    expect_norm("2030-01-01T00:00:00Z", "2030-01-01T00:00:00.000Z");
    expect_norm("2030-01-01T00:00:00.123Z", "2030-01-01T00:00:00.123Z");
    expect_norm("2030-01-01T00:00:00.123456789Z", "2030-01-01T00:00:00.123Z");
    expect_norm("2030-01-01T00:00:00.5Z", "2030-01-01T00:00:00.500Z");
    expect_norm("2030-01-01T02:30:00+02:30", "2030-01-01T00:00:00.000Z");
    expect_norm("2029-12-31T19:00:00-0500", "2030-01-01T00:00:00.000Z");
    expect_norm("2030-01-01 00:00:00", "2030-01-01T00:00:00.000Z");
    expect_norm("2030-01-01T00:00", "2030-01-01T00:00:00.000Z");
    expect_norm("2024-02-29T23:59:59.999z", "2024-02-29T23:59:59.999Z");
    expect_norm("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z");
    expect_norm("2000-03-01T00:30:00+01:00", "2000-02-29T23:30:00.000Z");
}

static void test_refused_forms(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "tomorrow", "2030-01-01", "2030-13-01T00:00:00Z", "2030-02-29T00:00:00Z", "2030-04-31T00:00:00Z",
        "2030-01-01T24:00:00Z", "2030-01-01T00:60:00Z", "2030-01-01T00:00:60Z", "2030-01-01T00:00:00.Z",
        "2030-01-01T00:00:00ZZ", "2030-01-01T00:00:00+25:00", "2030-01-01T00:00:00 Z", "30-01-01T00:00:00Z",
        "2030-1-01T00:00:00Z", "9999-12-31T23:00:00-02:00", "0000-01-01T00:00:00+01:00", "2030-01-01T00:00:00+01",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_bad(bad[i]);
    /* A NUL inside the text is not a terminator. */
    int64_t ms;
    assert_int_equal(isotime_parse("2030-01-01T00:00:00Z\0x", 22, &ms), -1);
}

/* Text order of the normal form is time order, which the store relies on. */
static void test_format_orders_like_time(void **state)
{
    (void)state;
    char a[ISOTIME_LEN + 1], b[ISOTIME_LEN + 1];
    int64_t t = 1893456000000LL; /* 2030-01-01 */
    assert_int_equal(isotime_format(t, a), 0);
    assert_string_equal(a, "2030-01-01T00:00:00.000Z");
    for (int64_t step = 1; step < 400LL * 86400000; step *= 7) {
        assert_int_equal(isotime_format(t + step, b), 0);
        assert_true(strcmp(a, b) < 0);
        int64_t back;
        assert_int_equal(isotime_parse(b, strlen(b), &back), 0);
        assert_true(back == t + step);
    }
    assert_int_equal(isotime_format(0, a), 0);
    assert_string_equal(a, "1970-01-01T00:00:00.000Z");
    assert_int_equal(isotime_format(253402300800000LL, a), -1);
    assert_true(isotime_now_ms() > 1700000000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_forms),
        cmocka_unit_test(test_refused_forms),
        cmocka_unit_test(test_format_orders_like_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
