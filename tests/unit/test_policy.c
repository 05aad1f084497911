/*
 * test_policy — which peers a TURN allocation may reach (src/turn/policy.c).
 *
 * Every IANA special-purpose range of the default policy is probed at its
 * edges: the first and the last address inside are refused, the addresses
 * just outside are allowed (where they are ordinary unicast space). Every
 * IPv4-mapped IPv6 address is refused, whatever it maps to. Then the
 * operator's knobs: --allow-loopback-peers opens 127/8 and ::1 and nothing
 * else, --allow-peer opens a range, --deny-peer closes one and wins over
 * both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "turn/policy.h"

/* A peer address from text; IPv4-mapped IPv6 text stays IPv6 (as a client
 * can send it in XOR-PEER-ADDRESS). */
static struct stun_addr A(const char *text)
{
    struct stun_addr a;
    memset(&a, 0, sizeof(a));
    a.port = 3478;
    if (inet_pton(AF_INET, text, a.ip) == 1) {
        a.family = STUN_IPV4;
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, a.ip), 1);
        a.family = STUN_IPV6;
    }
    return a;
}

static int allowed(const struct turn_policy *p, const char *text)
{
    struct stun_addr a = A(text);
    return policy_peer_allowed(p, &a);
}

#define REFUSED(p, text)                        \
    do {                                        \
        if (allowed((p), (text)))               \
            fail_msg("allowed: %s", (text));    \
    } while (0)
#define ALLOWED(p, text)                        \
    do {                                        \
        if (!allowed((p), (text)))              \
            fail_msg("refused: %s", (text));    \
    } while (0)

static void add_rule(struct cidr *list, int *n, const char *text)
{
    assert_int_equal(policy_parse_cidr(text, &list[*n]), 0);
    (*n)++;
}

/* --- policy_parse_cidr --- */

static void test_parse_v4(void **state)
{
    (void)state;
    struct cidr c;
    static const uint8_t want[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0 };
    assert_int_equal(policy_parse_cidr("10.0.0.0/8", &c), 0);
    assert_memory_equal(c.ip, want, 16);
    assert_int_equal(c.bits, 96 + 8);
    assert_int_equal(policy_parse_cidr("100.64.0.0/10", &c), 0);
    assert_int_equal(c.bits, 106);
    assert_int_equal(c.ip[12], 100);
    assert_int_equal(c.ip[13], 64);
    assert_int_equal(policy_parse_cidr("0.0.0.0/0", &c), 0);
    assert_int_equal(c.bits, 96);
    assert_int_equal(policy_parse_cidr("255.255.255.255/32", &c), 0);
    assert_int_equal(c.bits, 128);
}

static void test_parse_v6(void **state)
{
    (void)state;
    struct cidr c;
    static const uint8_t fc[16] = { 0xfc };
    assert_int_equal(policy_parse_cidr("fc00::/7", &c), 0);
    assert_memory_equal(c.ip, fc, 16);
    assert_int_equal(c.bits, 7);
    assert_int_equal(policy_parse_cidr("2001:db8::/32", &c), 0);
    assert_int_equal(c.bits, 32);
    assert_int_equal(c.ip[0], 0x20);
    assert_int_equal(c.ip[3], 0xb8);
    assert_int_equal(policy_parse_cidr("::/0", &c), 0);
    assert_int_equal(c.bits, 0);
    assert_int_equal(policy_parse_cidr("::ffff:0:0/96", &c), 0);
    assert_int_equal(c.bits, 96);
    assert_int_equal(policy_parse_cidr("ff00::/128", &c), 0);
    assert_int_equal(c.bits, 128);
}

static void test_parse_single(void **state)
{
    (void)state;
    struct cidr c;
    assert_int_equal(policy_parse_cidr("192.0.2.7", &c), 0);
    assert_int_equal(c.bits, 128);
    assert_int_equal(c.ip[11], 0xff);
    assert_int_equal(c.ip[15], 7);
    assert_int_equal(policy_parse_cidr("::1", &c), 0);
    assert_int_equal(c.bits, 128);
    assert_int_equal(c.ip[15], 1);
    assert_int_equal(c.ip[11], 0);
}

static void test_parse_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0.0/8/8", "10.0.0/8",
        "10.0.0.256", "hello", "fc00::/129", "fc00:::/7", "1.2.3.4:80", "fe80::1%eth0",
        "0000000000000000000000000000000000000000000000000000000000000000000000::1", "10.0.0.0/999999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cidr c;
        if (policy_parse_cidr(bad[i], &c) != -1)
            fail_msg("accepted: '%s'", bad[i]);
    }
}

/* --- the default policy --- */

struct range {
    const char *name, *first, *last, *before, *after; /* before/after: allowed neighbours, or NULL */
};

static const struct range denied[] = {
    { "0.0.0.0/8", "0.0.0.0", "0.255.255.255", NULL, "1.0.0.0" },
    { "10/8", "10.0.0.0", "10.255.255.255", "9.255.255.255", "11.0.0.0" },
    { "100.64/10", "100.64.0.0", "100.127.255.255", "100.63.255.255", "100.128.0.0" },
    { "127/8", "127.0.0.0", "127.255.255.255", "126.255.255.255", "128.0.0.0" },
    { "169.254/16", "169.254.0.0", "169.254.255.255", "169.253.255.255", "169.255.0.0" },
    { "172.16/12", "172.16.0.0", "172.31.255.255", "172.15.255.255", "172.32.0.0" },
    { "192.0.0/24", "192.0.0.0", "192.0.0.255", "191.255.255.255", "192.0.1.0" },
    { "192.0.2/24", "192.0.2.0", "192.0.2.255", "192.0.1.255", "192.0.3.0" },
    { "192.168/16", "192.168.0.0", "192.168.255.255", "192.167.255.255", "192.169.0.0" },
    { "198.18/15", "198.18.0.0", "198.19.255.255", "198.17.255.255", "198.20.0.0" },
    { "198.51.100/24", "198.51.100.0", "198.51.100.255", "198.51.99.255", "198.51.101.0" },
    { "203.0.113/24", "203.0.113.0", "203.0.113.255", "203.0.112.255", "203.0.114.0" },
    { "224/4", "224.0.0.0", "239.255.255.255", "223.255.255.255", NULL },
    { "240/4", "240.0.0.0", "255.255.255.254", NULL, NULL },
    { "255.255.255.255", "255.255.255.255", "255.255.255.255", NULL, NULL },
    { "::", "::", "::", NULL, NULL },
    { "::1", "::1", "::1", NULL, NULL },
    { "::ffff:0:0/96", "::ffff:0.0.0.0", "::ffff:255.255.255.255", "::fffe:ffff:ffff", "0:0:0:0:1::" },
    { "64:ff9b::/96", "64:ff9b::", "64:ff9b::ffff:ffff", "64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff",
      "64:ff9b::1:0:0" },
    { "100::/64", "100::", "100::ffff:ffff:ffff:ffff", "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "100:0:0:1::" },
    { "2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
      "2001:db9::" },
    { "2002::/16", "2002::", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "2003::" },
    { "::ffff:0:0:0/96 (SIIT)", "::ffff:0:0:0", "::ffff:0:ffff:ffff", "::fffe:ffff:ffff:ffff", "::ffff:1:0:0" },
    { "64:ff9b:1::/48", "64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "64:ff9b:0:ffff:ffff:ffff:ffff:ffff",
      "64:ff9b:2::" },
    { "2001::/32 (Teredo)", "2001::", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", "2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "2001:1::" },
    { "2001:2::/48", "2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff", "2001:1:ffff:ffff:ffff:ffff:ffff:ffff",
      "2001:2:1::" },
    { "3fff::/20", "3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "3fff:1000::" },
    { "5f00::/16", "5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "5f01::" },
    { "fec0::/10", "fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
    { "fc00::/7", "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      NULL },
    { "fe80::/10", "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      NULL },
    { "ff00::/8", "ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
};

static void test_default_ranges_edges(void **state)
{
    (void)state;
    struct turn_policy p;
    memset(&p, 0, sizeof(p));
    for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
        const struct range *r = &denied[i];
        if (allowed(&p, r->first))
            fail_msg("%s: first address %s allowed", r->name, r->first);
        if (allowed(&p, r->last))
            fail_msg("%s: last address %s allowed", r->name, r->last);
        if (r->before && !allowed(&p, r->before))
            fail_msg("%s: %s, just below, refused", r->name, r->before);
        if (r->after && !allowed(&p, r->after))
            fail_msg("%s: %s, just above, refused", r->name, r->after);
    }
}

static void test_default_named_addresses(void **state)
{
    (void)state;
    struct turn_policy p;
    memset(&p, 0, sizeof(p));
    /* The cloud metadata service, loopback, the unspecified addresses. */
    REFUSED(&p, "169.254.169.254");
    REFUSED(&p, "127.0.0.1");
    REFUSED(&p, "127.0.0.53");
    REFUSED(&p, "0.0.0.0");
    REFUSED(&p, "10.0.0.1");
    REFUSED(&p, "172.17.0.1");
    REFUSED(&p, "192.168.1.1");
    REFUSED(&p, "100.100.100.200");
    REFUSED(&p, "224.0.0.251");
    REFUSED(&p, "255.255.255.255");
    REFUSED(&p, "::");
    REFUSED(&p, "::1");
    REFUSED(&p, "fe80::1");
    REFUSED(&p, "fd00:ec2::254");
    REFUSED(&p, "ff02::1");
    /* IPv4 written as IPv6: refused whatever it maps to (CVE-2026-27624). */
    REFUSED(&p, "::ffff:127.0.0.1");
    REFUSED(&p, "::ffff:169.254.169.254");
    REFUSED(&p, "::ffff:10.0.0.1");
    REFUSED(&p, "::ffff:0.0.0.0");
    REFUSED(&p, "::ffff:8.8.8.8");
    /* NAT64 and 6to4 forms of IPv4 (the embedded address would be reached). */
    REFUSED(&p, "64:ff9b::7f00:1");
    REFUSED(&p, "64:ff9b::808:808");
    REFUSED(&p, "2002:7f00:1::");
    REFUSED(&p, "2002:a9fe:a9fe::1");
}

static void test_public_allowed(void **state)
{
    (void)state;
    struct turn_policy p;
    memset(&p, 0, sizeof(p));
    ALLOWED(&p, "8.8.8.8");
    ALLOWED(&p, "1.1.1.1");
    ALLOWED(&p, "93.184.216.34");
    ALLOWED(&p, "2606:4700::1");
    ALLOWED(&p, "2001:4860:4860::8888");
    ALLOWED(&p, "2a00:1450:4001::1");
}

/* --- the options --- */

static void test_allow_loopback(void **state)
{
    (void)state;
    struct turn_policy p;
    memset(&p, 0, sizeof(p));
    p.allow_loopback = 1;
    ALLOWED(&p, "127.0.0.1");
    ALLOWED(&p, "127.0.0.0");
    ALLOWED(&p, "127.255.255.255");
    ALLOWED(&p, "::1");
    /* Nothing but loopback opens. */
    REFUSED(&p, "::ffff:127.0.0.1");
    REFUSED(&p, "::");
    REFUSED(&p, "0.0.0.0");
    REFUSED(&p, "10.0.0.1");
    REFUSED(&p, "169.254.169.254");
    REFUSED(&p, "192.168.0.1");
    ALLOWED(&p, "126.255.255.255");
    ALLOWED(&p, "128.0.0.0");
    REFUSED(&p, "fe80::1");
    REFUSED(&p, "64:ff9b::7f00:1");
    ALLOWED(&p, "8.8.8.8");
}

static void test_allow_peer(void **state)
{
    (void)state;
    struct turn_policy p;
    memset(&p, 0, sizeof(p));
    add_rule(p.allow, &p.nallow, "10.1.0.0/16");
    add_rule(p.allow, &p.nallow, "fd00::/8");
    add_rule(p.allow, &p.nallow, "192.168.1.10");
    ALLOWED(&p, "10.1.0.0");
    ALLOWED(&p, "10.1.255.255");
    REFUSED(&p, "10.0.255.255");
    REFUSED(&p, "10.2.0.0");
    ALLOWED(&p, "fd12::1");
    REFUSED(&p, "fc00::1");
    ALLOWED(&p, "192.168.1.10");
    REFUSED(&p, "192.168.1.11");
    REFUSED(&p, "192.168.1.9");
    /* An opened IPv4 range does not open its IPv4-mapped spelling. */
    REFUSED(&p, "::ffff:10.1.2.3");
    REFUSED(&p, "127.0.0.1");
    ALLOWED(&p, "8.8.8.8");
}

static void test_allow_peer_loopback_range(void **state)
{
    (void)state;
    struct turn_policy p;
    memset(&p, 0, sizeof(p));
    add_rule(p.allow, &p.nallow, "127.0.0.0/8");
    ALLOWED(&p, "127.0.0.1");
    REFUSED(&p, "::1");
}

static void test_deny_peer(void **state)
{
    (void)state;
    struct turn_policy p;
    memset(&p, 0, sizeof(p));
    add_rule(p.deny, &p.ndeny, "8.8.8.0/24");
    add_rule(p.deny, &p.ndeny, "2606:4700::/32");
    REFUSED(&p, "8.8.8.0");
    REFUSED(&p, "8.8.8.8");
    REFUSED(&p, "8.8.8.255");
    ALLOWED(&p, "8.8.9.0");
    ALLOWED(&p, "8.8.7.255");
    ALLOWED(&p, "8.8.4.4");
    REFUSED(&p, "2606:4700::1");
    ALLOWED(&p, "2606:4701::1");
}

static void test_deny_wins(void **state)
{
    (void)state;
    struct turn_policy p;
    memset(&p, 0, sizeof(p));
    p.allow_loopback = 1;
    add_rule(p.allow, &p.nallow, "8.8.0.0/16");
    add_rule(p.deny, &p.ndeny, "8.8.8.8");
    add_rule(p.allow, &p.nallow, "10.0.0.0/8");
    add_rule(p.deny, &p.ndeny, "10.9.0.0/16");
    add_rule(p.deny, &p.ndeny, "127.0.0.0/8");
    add_rule(p.deny, &p.ndeny, "::1");
    REFUSED(&p, "8.8.8.8");
    ALLOWED(&p, "8.8.4.4");
    ALLOWED(&p, "10.8.0.1");
    REFUSED(&p, "10.9.0.1");
    REFUSED(&p, "127.0.0.1");
    REFUSED(&p, "::1");
}

/* --- own addresses --- */

static struct stun_addr AP(const char *text, uint16_t port)
{
    struct stun_addr a = A(text);
    a.port = port;
    return a;
}

static enum policy_verdict verdict(const struct turn_policy *p, const char *text, uint16_t port)
{
    struct stun_addr a = AP(text, port);
    return policy_peer(p, &a);
}

static void test_parse_ports(void **state)
{
    (void)state;
    struct cidr c;
    assert_int_equal(policy_parse_cidr("203.0.113.7/32@5000-5100", &c), 0);
    assert_true(c.bits == 128 && c.port_lo == 5000 && c.port_hi == 5100);
    assert_int_equal(policy_parse_cidr("2001:db8::1@3478", &c), 0);
    assert_true(c.bits == 128 && c.port_lo == 3478 && c.port_hi == 3478);
    assert_int_equal(policy_parse_cidr("10.0.0.0/8", &c), 0);
    assert_int_equal(c.port_hi, 0);
    static const char *const bad[] = { "1.2.3.4@", "1.2.3.4@0", "1.2.3.4@65536", "1.2.3.4@9-8", "1.2.3.4@1-",
                                       "1.2.3.4@x", "1.2.3.4/8@1@2", "@80", "1.2.3.4/@80" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (policy_parse_cidr(bad[i], &c) != -1)
            fail_msg("accepted: '%s'", bad[i]);
    }
}

/* 198.51.100.1 stands for the server's public address: --allow-peer opens
 * its range, yet only relay ports and ports named by a rule are peers, and
 * the main port never is. */
static void test_own_addresses(void **state)
{
    (void)state;
    struct turn_policy p;
    memset(&p, 0, sizeof(p));
    p.main_port = 443;
    p.relay_lo = 49160;
    p.relay_hi = 49200;
    add_rule(p.allow, &p.nallow, "198.51.100.0/24");
    struct stun_addr own = AP("198.51.100.1", 0), mapped = AP("::ffff:192.0.2.9", 0), v6 = AP("2001:db8::9", 0);
    assert_int_equal(policy_add_local(&p, &own), 0);
    assert_int_equal(policy_add_local(&p, &own), 0); /* no duplicate */
    assert_int_equal(policy_add_local(&p, &mapped), 0); /* stored as IPv4 */
    assert_int_equal(policy_add_local(&p, &v6), 0);
    assert_int_equal(p.nlocal, 3);
    assert_int_equal(verdict(&p, "198.51.100.1", 443), POLICY_REFUSED);
    assert_int_equal(verdict(&p, "198.51.100.1", 53), POLICY_REFUSED);
    assert_int_equal(verdict(&p, "198.51.100.1", 0), POLICY_REFUSED);
    assert_int_equal(verdict(&p, "198.51.100.1", 49160), POLICY_RELAY);
    assert_int_equal(verdict(&p, "198.51.100.1", 49200), POLICY_RELAY);
    assert_int_equal(verdict(&p, "198.51.100.1", 49201), POLICY_REFUSED);
    assert_int_equal(verdict(&p, "198.51.100.2", 53), POLICY_NETWORK); /* another host in the allowed range */
    assert_int_equal(verdict(&p, "192.0.2.9", 49170), POLICY_RELAY);
    assert_int_equal(verdict(&p, "2001:db8::9", 443), POLICY_REFUSED);
    /* With the SFU in process, the main port of an own address is it. */
    p.sfu_peer = 1;
    assert_int_equal(verdict(&p, "198.51.100.1", 443), POLICY_SFU);
    assert_int_equal(verdict(&p, "127.0.0.1", 443), POLICY_SFU);
    assert_int_equal(verdict(&p, "8.8.8.8", 443), POLICY_NETWORK);
    assert_int_equal(verdict(&p, "198.51.100.1", 444), POLICY_REFUSED);
    p.sfu_peer = 0;
    assert_int_equal(verdict(&p, "8.8.8.8", 443), POLICY_NETWORK);
    assert_int_equal(verdict(&p, "10.0.0.1", 49170), POLICY_REFUSED);
    /* All of loopback is this host, listed or not. */
    assert_int_equal(verdict(&p, "127.0.0.2", 49170), POLICY_RELAY);
    assert_int_equal(verdict(&p, "::1", 5000), POLICY_REFUSED);
    p.allow_loopback = 1;
    assert_int_equal(verdict(&p, "127.0.0.2", 5000), POLICY_NETWORK);
    assert_int_equal(verdict(&p, "127.0.0.2", 443), POLICY_REFUSED);
    assert_int_equal(verdict(&p, "198.51.100.1", 5000), POLICY_REFUSED);
    /* A rule with ports opens them; the main port stays closed; deny wins. */
    add_rule(p.allow, &p.nallow, "198.51.100.1@400-5000");
    assert_int_equal(verdict(&p, "198.51.100.1", 5000), POLICY_NETWORK);
    assert_int_equal(verdict(&p, "198.51.100.1", 5001), POLICY_REFUSED);
    assert_int_equal(verdict(&p, "198.51.100.1", 443), POLICY_REFUSED);
    add_rule(p.deny, &p.ndeny, "198.51.100.1");
    assert_int_equal(verdict(&p, "198.51.100.1", 5000), POLICY_REFUSED);
    /* The table has an end. */
    for (int i = 0; p.nlocal < POLICY_MAX_LOCAL; i++) {
        struct stun_addr x = AP("2001:db8::", 0);
        x.ip[14] = (uint8_t)(i >> 8);
        x.ip[15] = (uint8_t)(i + 100);
        assert_int_equal(policy_add_local(&p, &x), 0);
    }
    struct stun_addr one_more = AP("2001:db8:1::1", 0);
    assert_int_equal(policy_add_local(&p, &one_more), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_v4),
        cmocka_unit_test(test_parse_v6),
        cmocka_unit_test(test_parse_single),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_default_ranges_edges),
        cmocka_unit_test(test_default_named_addresses),
        cmocka_unit_test(test_public_allowed),
        cmocka_unit_test(test_allow_loopback),
        cmocka_unit_test(test_allow_peer),
        cmocka_unit_test(test_allow_peer_loopback_range),
        cmocka_unit_test(test_deny_peer),
        cmocka_unit_test(test_deny_wins),
        cmocka_unit_test(test_parse_ports),
        cmocka_unit_test(test_own_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
