/*
 * test_ipcount — connections per source address (src/server/ipcount.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/ipcount.h"

static struct sock_ip v4(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    sin->sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, text, &sin->sin_addr), 1);
    struct sock_ip ip;
    sock_ip_from(&ss, &ip);
    return ip;
}

static struct sock_ip v6(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    sin6->sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
    struct sock_ip ip;
    sock_ip_from(&ss, &ip);
    return ip;
}

static void test_limit_per_address(void **state)
{
    (void)state;
    struct ipcount *t = ipcount_new();
    struct sock_ip a = v4("192.0.2.1");
    assert_int_equal(ipcount_get(t, &a), 0);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(ipcount_acquire(t, &a, 3), i);
    assert_int_equal(ipcount_acquire(t, &a, 3), -1);
    assert_int_equal(ipcount_acquire(t, &a, 3), -1);
    assert_int_equal(ipcount_get(t, &a), 3); /* refusals change nothing */
    /* A higher limit (say, after a config change) lets more in. */
    assert_int_equal(ipcount_acquire(t, &a, 4), 4);
    ipcount_free(t);
}

static void test_release(void **state)
{
    (void)state;
    struct ipcount *t = ipcount_new();
    struct sock_ip a = v6("2001:db8::1");
    assert_int_equal(ipcount_acquire(t, &a, 2), 1);
    assert_int_equal(ipcount_acquire(t, &a, 2), 2);
    assert_int_equal(ipcount_acquire(t, &a, 2), -1);
    ipcount_release(t, &a);
    assert_int_equal(ipcount_get(t, &a), 1);
    assert_int_equal(ipcount_acquire(t, &a, 2), 2);
    ipcount_release(t, &a);
    ipcount_release(t, &a);
    assert_int_equal(ipcount_get(t, &a), 0);
    /* Releasing an address with no connections is harmless. */
    ipcount_release(t, &a);
    assert_int_equal(ipcount_get(t, &a), 0);
    assert_int_equal(ipcount_acquire(t, &a, 1), 1);
    ipcount_free(t);
    ipcount_free(NULL);
}

static void test_addresses_independent(void **state)
{
    (void)state;
    struct ipcount *t = ipcount_new();
    struct sock_ip a = v4("10.0.0.1"), b = v4("10.0.0.2"), c = v6("::1"), d = v6("fe80::1");
    assert_int_equal(ipcount_acquire(t, &a, 1), 1);
    assert_int_equal(ipcount_acquire(t, &a, 1), -1);
    assert_int_equal(ipcount_acquire(t, &b, 1), 1);
    assert_int_equal(ipcount_acquire(t, &c, 1), 1);
    assert_int_equal(ipcount_acquire(t, &d, 1), 1);
    ipcount_release(t, &a);
    assert_int_equal(ipcount_get(t, &a), 0);
    assert_int_equal(ipcount_get(t, &b), 1);
    assert_int_equal(ipcount_get(t, &c), 1);
    assert_int_equal(ipcount_get(t, &d), 1);
    ipcount_free(t);
}

static void test_v4_and_mapped_are_one_source(void **state)
{
    (void)state;
    struct ipcount *t = ipcount_new();
    struct sock_ip a = v4("127.0.0.1"), m = v6("::ffff:127.0.0.1");
    assert_memory_equal(a.b, m.b, 16);
    assert_int_equal(ipcount_acquire(t, &a, 2), 1);
    assert_int_equal(ipcount_acquire(t, &m, 2), 2);
    assert_int_equal(ipcount_acquire(t, &a, 2), -1);
    ipcount_free(t);
}

static void test_zero_limit(void **state)
{
    (void)state;
    struct ipcount *t = ipcount_new();
    struct sock_ip a = v4("198.51.100.9");
    assert_int_equal(ipcount_acquire(t, &a, 0), -1);
    assert_int_equal(ipcount_get(t, &a), 0);
    ipcount_release(t, &a);
    assert_int_equal(ipcount_get(t, &a), 0);
    ipcount_free(t);
}

/* Many sources (more than the buckets), so chains hold several entries and
 * entries are unlinked from the middle of a chain. */
static void test_many(void **state)
{
    (void)state;
    enum { N = 20000 };
    struct ipcount *t = ipcount_new();
    static struct sock_ip ips[N];
    for (int i = 0; i < N; i++) {
        memset(&ips[i], 0, sizeof(ips[i]));
        ips[i].b[0] = 0x20;
        ips[i].b[1] = 0x01;
        ips[i].b[14] = (uint8_t)(i >> 8);
        ips[i].b[15] = (uint8_t)i;
        ips[i].b[13] = (uint8_t)(i >> 16);
        assert_int_equal(ipcount_acquire(t, &ips[i], 2), 1);
    }
    for (int i = 0; i < N; i += 2)
        assert_int_equal(ipcount_acquire(t, &ips[i], 2), 2);
    for (int i = 0; i < N; i += 3)
        ipcount_release(t, &ips[i]);
    for (int i = 0; i < N; i++) {
        int want = (i % 2 == 0 ? 2 : 1) - (i % 3 == 0 ? 1 : 0);
        if (ipcount_get(t, &ips[i]) != want)
            fail_msg("address %d: count %d, want %d", i, ipcount_get(t, &ips[i]), want);
    }
    for (int i = 0; i < N; i++) {
        while (ipcount_get(t, &ips[i]) > 0)
            ipcount_release(t, &ips[i]);
    }
    for (int i = 0; i < N; i += 97)
        assert_int_equal(ipcount_get(t, &ips[i]), 0);
    ipcount_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_per_address),
        cmocka_unit_test(test_release),
        cmocka_unit_test(test_addresses_independent),
        cmocka_unit_test(test_v4_and_mapped_are_one_source),
        cmocka_unit_test(test_zero_limit),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
