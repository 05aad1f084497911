/*
 * test_alloc — the socket-free state of a TURN allocation (src/turn/alloc.c):
 * lifetimes, permissions (per peer IP, 300 s) and channels (number <-> peer
 * transport address, 600 s), RFC 8656 §3.6, §9 and §12.
 *
 * Time is the `now` argument (monotonic ms), so every expiry is checked at
 * the last millisecond it is alive and the first it is not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "turn/alloc.h"

#define T0 1000000u /* an arbitrary start time (ms) */
#define SEC 1000u

static struct stun_addr P(const char *ip, uint16_t port)
{
    struct stun_addr a;
    memset(&a, 0, sizeof(a));
    a.port = port;
    if (inet_pton(AF_INET, ip, a.ip) == 1) {
        a.family = STUN_IPV4;
    } else {
        assert_int_equal(inet_pton(AF_INET6, ip, a.ip), 1);
        a.family = STUN_IPV6;
    }
    return a;
}

static struct alloc_state *fresh(void)
{
    static struct alloc_state st;
    memset(&st, 0, sizeof(st));
    return &st;
}

/* --- lifetimes --- */

static void test_lifetime(void **state)
{
    (void)state;
    assert_int_equal(alloc_lifetime(0), 600);
    assert_int_equal(alloc_lifetime(1), 600);
    assert_int_equal(alloc_lifetime(100), 600);
    assert_int_equal(alloc_lifetime(599), 600);
    assert_int_equal(alloc_lifetime(600), 600);
    assert_int_equal(alloc_lifetime(601), 601);
    assert_int_equal(alloc_lifetime(1000), 1000);
    assert_int_equal(alloc_lifetime(3600), 3600);
    assert_int_equal(alloc_lifetime(3601), 3600);
    assert_int_equal(alloc_lifetime(7200), 3600);
    assert_int_equal(alloc_lifetime(UINT32_MAX), 3600);
}

/* --- addresses --- */

static void test_addr_equal(void **state)
{
    (void)state;
    struct stun_addr a = P("8.8.8.8", 1000), b = P("8.8.8.8", 1000);
    assert_true(stun_addr_equal(&a, &b));
    b.ip[7] = 0x55; /* bytes past an IPv4 address do not count */
    assert_true(stun_addr_equal(&a, &b));
    b = P("8.8.8.8", 1001);
    assert_false(stun_addr_equal(&a, &b));
    b = P("8.8.4.4", 1000);
    assert_false(stun_addr_equal(&a, &b));
    b = P("::ffff:8.8.8.8", 1000);
    assert_false(stun_addr_equal(&a, &b));
    a = P("2606:4700::1", 5);
    b = P("2606:4700::1", 5);
    assert_true(stun_addr_equal(&a, &b));
    b = P("2606:4700::2", 5);
    assert_false(stun_addr_equal(&a, &b));
}

/* --- permissions --- */

static void test_permission_expires_after_300s(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    struct stun_addr peer = P("8.8.8.8", 5000);
    assert_false(alloc_permitted(a, &peer, T0));
    assert_int_equal(alloc_permit(a, &peer, T0), 0);
    assert_true(alloc_permitted(a, &peer, T0));
    assert_true(alloc_permitted(a, &peer, T0 + 300 * SEC - 1));
    assert_false(alloc_permitted(a, &peer, T0 + 300 * SEC));
    assert_false(alloc_permitted(a, &peer, T0 + 3600 * SEC));
}

static void test_permission_is_per_ip(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    struct stun_addr peer = P("8.8.8.8", 5000), other_port = P("8.8.8.8", 6000), other_ip = P("8.8.4.4", 5000),
                     mapped = P("::ffff:8.8.8.8", 5000);
    assert_int_equal(alloc_permit(a, &peer, T0), 0);
    assert_true(alloc_permitted(a, &other_port, T0));
    assert_false(alloc_permitted(a, &other_ip, T0));
    assert_false(alloc_permitted(a, &mapped, T0));
    struct stun_addr v6 = P("2606:4700::1", 1), v6b = P("2606:4700::1", 2), v6c = P("2606:4700::2", 1);
    assert_false(alloc_permitted(a, &v6, T0));
    assert_int_equal(alloc_permit(a, &v6, T0), 0);
    assert_true(alloc_permitted(a, &v6b, T0));
    assert_false(alloc_permitted(a, &v6c, T0));
    assert_int_equal(a->nperms, 2);
}

static void test_permission_refresh_extends(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    struct stun_addr peer = P("8.8.8.8", 5000);
    assert_int_equal(alloc_permit(a, &peer, T0), 0);
    assert_int_equal(alloc_permit(a, &peer, T0 + 200 * SEC), 0);
    assert_int_equal(a->nperms, 1);
    assert_true(alloc_permitted(a, &peer, T0 + 300 * SEC));
    assert_true(alloc_permitted(a, &peer, T0 + 500 * SEC - 1));
    assert_false(alloc_permitted(a, &peer, T0 + 500 * SEC));
    /* Once expired, a new CreatePermission installs it again. */
    assert_int_equal(alloc_permit(a, &peer, T0 + 900 * SEC), 0);
    assert_true(alloc_permitted(a, &peer, T0 + 900 * SEC));
    assert_true(alloc_permitted(a, &peer, T0 + 1200 * SEC - 1));
}

static void test_permission_table_full(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    char ip[32];
    for (int i = 0; i < ALLOC_MAX_PERMS; i++) {
        snprintf(ip, sizeof(ip), "8.8.%d.%d", i / 200, i % 200 + 1);
        struct stun_addr p = P(ip, 1);
        assert_int_equal(alloc_permit(a, &p, T0), 0);
    }
    struct stun_addr extra = P("1.1.1.1", 1), first = P("8.8.0.1", 9);
    assert_int_equal(alloc_permit(a, &extra, T0 + 1), -ENOSPC);
    assert_false(alloc_permitted(a, &extra, T0 + 1));
    /* Refreshing one that is there still works. */
    assert_int_equal(alloc_permit(a, &first, T0 + 1), 0);
    /* Expired permissions make room. */
    assert_int_equal(alloc_permit(a, &extra, T0 + 300 * SEC), 0);
    assert_true(alloc_permitted(a, &extra, T0 + 300 * SEC));
    assert_true(alloc_permitted(a, &first, T0 + 300 * SEC)); /* refreshed at T0 + 1 */
}

static void test_prune(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    struct stun_addr p1 = P("8.8.8.8", 1), p2 = P("1.1.1.1", 1);
    assert_int_equal(alloc_permit(a, &p1, T0), 0);
    assert_int_equal(alloc_permit(a, &p2, T0 + 100 * SEC), 0);
    alloc_prune(a, T0 + 300 * SEC);
    assert_int_equal(a->nperms, 1);
    assert_true(alloc_permitted(a, &p2, T0 + 300 * SEC));
    alloc_prune(a, T0 + 400 * SEC);
    assert_int_equal(a->nperms, 0);
}

/* --- channels --- */

static void test_channel_number_range(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    static const uint16_t bad[] = { 0, 0x0001, 0x3FFF, 0x8000, 0xBFFF, 0xFFFF };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct stun_addr p = P("8.8.8.8", (uint16_t)(1000 + i));
        assert_int_equal(alloc_bind(a, bad[i], &p, T0), -EINVAL);
    }
    assert_int_equal(a->nchannels, 0);
    assert_int_equal(a->nperms, 0); /* a refused bind installs no permission */
    struct stun_addr lo = P("8.8.8.8", 1), hi = P("8.8.8.8", 2);
    assert_int_equal(alloc_bind(a, 0x4000, &lo, T0), 0);
    assert_int_equal(alloc_bind(a, 0x4FFF, &hi, T0), 0);
    struct stun_addr top = P("8.8.8.8", 3), mid = P("8.8.8.8", 4);
    assert_int_equal(alloc_bind(a, 0x7FFF, &top, T0), 0); /* RFC 5766's range, as coturn */
    assert_int_equal(alloc_bind(a, 0x5000, &mid, T0), 0);
    assert_non_null(alloc_channel_by_number(a, 0x4000, T0));
    assert_non_null(alloc_channel_by_number(a, 0x4FFF, T0));
    assert_non_null(alloc_channel_by_number(a, 0x7FFF, T0));
    assert_null(alloc_channel_by_number(a, 0x4001, T0));
}

static void test_channel_conflicts(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    struct stun_addr peer = P("8.8.8.8", 1000), other = P("1.1.1.1", 1000), other_port = P("8.8.8.8", 1001);
    assert_int_equal(alloc_bind(a, 0x4001, &peer, T0), 0);
    /* The number is taken by another peer. */
    assert_int_equal(alloc_bind(a, 0x4001, &other, T0), -EINVAL);
    assert_int_equal(alloc_bind(a, 0x4001, &other_port, T0), -EINVAL);
    /* The peer is bound to another number. */
    assert_int_equal(alloc_bind(a, 0x4002, &peer, T0), -EINVAL);
    /* Another port of the same IP is another transport address. */
    assert_int_equal(alloc_bind(a, 0x4002, &other_port, T0), 0);
    const struct alloc_channel *c = alloc_channel_by_number(a, 0x4001, T0);
    assert_non_null(c);
    assert_true(stun_addr_equal(&c->peer, &peer));
    c = alloc_channel_by_peer(a, &other_port, T0);
    assert_non_null(c);
    assert_int_equal(c->number, 0x4002);
    assert_null(alloc_channel_by_peer(a, &other, T0));
    assert_int_equal(a->nchannels, 2);
}

static void test_channel_rebind_refreshes(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    struct stun_addr peer = P("2606:4700::1", 3478);
    assert_int_equal(alloc_bind(a, 0x4abc, &peer, T0), 0);
    assert_int_equal(alloc_bind(a, 0x4abc, &peer, T0 + 500 * SEC), 0);
    assert_int_equal(a->nchannels, 1);
    assert_non_null(alloc_channel_by_number(a, 0x4abc, T0 + 600 * SEC));
    assert_non_null(alloc_channel_by_peer(a, &peer, T0 + 1100 * SEC - 1));
    assert_null(alloc_channel_by_number(a, 0x4abc, T0 + 1100 * SEC));
    /* The rebind refreshed the permission too. */
    assert_true(alloc_permitted(a, &peer, T0 + 800 * SEC - 1));
    assert_false(alloc_permitted(a, &peer, T0 + 800 * SEC));
}

static void test_channel_expires_after_600s(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    struct stun_addr peer = P("8.8.8.8", 1000);
    assert_int_equal(alloc_bind(a, 0x4000, &peer, T0), 0);
    assert_non_null(alloc_channel_by_number(a, 0x4000, T0 + 600 * SEC - 1));
    assert_non_null(alloc_channel_by_peer(a, &peer, T0 + 600 * SEC - 1));
    assert_null(alloc_channel_by_number(a, 0x4000, T0 + 600 * SEC));
    assert_null(alloc_channel_by_peer(a, &peer, T0 + 600 * SEC));
}

static void test_channel_reserved_after_expiry(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    struct stun_addr peer = P("8.8.8.8", 1000), other = P("1.1.1.1", 2000);
    assert_int_equal(alloc_bind(a, 0x4000, &peer, T0), 0);
    /* Expired, but for 5 minutes neither the number nor the peer may be
     * bound to something else. */
    assert_int_equal(alloc_bind(a, 0x4000, &other, T0 + 600 * SEC), -EINVAL);
    assert_int_equal(alloc_bind(a, 0x4000, &other, T0 + 900 * SEC - 1), -EINVAL);
    assert_int_equal(alloc_bind(a, 0x4001, &peer, T0 + 900 * SEC - 1), -EINVAL);
    alloc_prune(a, T0 + 900 * SEC - 1);
    assert_int_equal(alloc_bind(a, 0x4000, &other, T0 + 900 * SEC - 1), -EINVAL);
    assert_null(alloc_channel_by_number(a, 0x4000, T0 + 900 * SEC - 1));
    /* Afterwards both are free. */
    assert_int_equal(alloc_bind(a, 0x4000, &other, T0 + 900 * SEC), 0);
    const struct alloc_channel *c = alloc_channel_by_number(a, 0x4000, T0 + 900 * SEC);
    assert_non_null(c);
    assert_true(stun_addr_equal(&c->peer, &other));
    assert_int_equal(alloc_bind(a, 0x4001, &peer, T0 + 900 * SEC), 0);
    assert_int_equal(a->nchannels, 2);
}

static void test_channel_same_pair_during_reservation(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    struct stun_addr peer = P("8.8.8.8", 1000);
    assert_int_equal(alloc_bind(a, 0x4100, &peer, T0), 0);
    /* The same pair may be bound again while reserved: it lives again. */
    assert_null(alloc_channel_by_number(a, 0x4100, T0 + 700 * SEC));
    assert_int_equal(alloc_bind(a, 0x4100, &peer, T0 + 700 * SEC), 0);
    assert_non_null(alloc_channel_by_number(a, 0x4100, T0 + 1300 * SEC - 1));
    assert_int_equal(a->nchannels, 1);
}

static void test_channel_installs_permission(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    struct stun_addr peer = P("8.8.8.8", 1000), same_ip = P("8.8.8.8", 9999);
    assert_false(alloc_permitted(a, &peer, T0));
    assert_int_equal(alloc_bind(a, 0x4000, &peer, T0), 0);
    assert_true(alloc_permitted(a, &peer, T0));
    assert_true(alloc_permitted(a, &same_ip, T0));
    /* A permission lasts 300 s even when installed by a channel. */
    assert_true(alloc_permitted(a, &peer, T0 + 300 * SEC - 1));
    assert_false(alloc_permitted(a, &peer, T0 + 300 * SEC));
    assert_non_null(alloc_channel_by_number(a, 0x4000, T0 + 300 * SEC));
}

static void test_channel_table_full(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    for (int i = 0; i < ALLOC_MAX_CHANNELS; i++) {
        struct stun_addr p = P("8.8.8.8", (uint16_t)(1000 + i));
        assert_int_equal(alloc_bind(a, (uint16_t)(0x4000 + i), &p, T0), 0);
    }
    struct stun_addr extra = P("8.8.8.8", 5000);
    assert_int_equal(alloc_bind(a, 0x4800, &extra, T0), -ENOSPC);
    assert_null(alloc_channel_by_number(a, 0x4800, T0));
    /* Rebinding an existing pair still works when full. */
    struct stun_addr first = P("8.8.8.8", 1000);
    assert_int_equal(alloc_bind(a, 0x4000, &first, T0 + 1), 0);
    /* Channels free their slot once past the reservation. */
    assert_int_equal(alloc_bind(a, 0x4800, &extra, T0 + 900 * SEC), 0);
}

static void test_channel_permission_table_full(void **state)
{
    (void)state;
    struct alloc_state *a = fresh();
    char ip[32];
    for (int i = 0; i < ALLOC_MAX_PERMS; i++) {
        snprintf(ip, sizeof(ip), "8.8.%d.%d", i / 200, i % 200 + 1);
        struct stun_addr p = P(ip, 1);
        assert_int_equal(alloc_bind(a, (uint16_t)(0x4000 + i), &p, T0), 0);
    }
    struct stun_addr extra = P("1.1.1.1", 1);
    assert_int_equal(alloc_bind(a, 0x4fff, &extra, T0), -ENOSPC);
    assert_null(alloc_channel_by_number(a, 0x4fff, T0));
    assert_null(alloc_channel_by_peer(a, &extra, T0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifetime),
        cmocka_unit_test(test_addr_equal),
        cmocka_unit_test(test_permission_expires_after_300s),
        cmocka_unit_test(test_permission_is_per_ip),
        cmocka_unit_test(test_permission_refresh_extends),
        cmocka_unit_test(test_permission_table_full),
        cmocka_unit_test(test_prune),
        cmocka_unit_test(test_channel_number_range),
        cmocka_unit_test(test_channel_conflicts),
        cmocka_unit_test(test_channel_rebind_refreshes),
        cmocka_unit_test(test_channel_expires_after_600s),
        cmocka_unit_test(test_channel_reserved_after_expiry),
        cmocka_unit_test(test_channel_same_pair_during_reservation),
        cmocka_unit_test(test_channel_installs_permission),
        cmocka_unit_test(test_channel_table_full),
        cmocka_unit_test(test_channel_permission_table_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
