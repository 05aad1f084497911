/*
 * test_udp_demux — what a datagram on the main UDP port is
 * (src/net/udp_demux.c): RFC 7983's first-byte ranges, TURN channels up to
 * 0x7FFF, and ICE checks told from TURN's STUN by their USERNAME.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/udp_demux.h"
#include "stun/stun.h"

static const uint8_t txid[STUN_TXID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

/* A STUN message of type with USERNAME user (NULL: none) and a FINGERPRINT. */
static size_t stun_with_user(uint8_t *out, size_t cap, uint16_t type, const char *user)
{
    struct stun_builder b;
    stun_builder_init(&b, out, cap, type, txid);
    stun_builder_add_u32(&b, STUN_ATTR_PRIORITY, 12345);
    if (user)
        stun_builder_add(&b, STUN_ATTR_USERNAME, user, strlen(user));
    stun_builder_add_fingerprint(&b);
    int n = stun_builder_finish(&b);
    assert_true(n > 0);
    return (size_t)n;
}

static void test_first_byte_ranges(void **state)
{
    (void)state;
    uint8_t b[8] = { 0 };
    struct {
        uint8_t first;
        enum udp_kind kind;
    } cases[] = {
        { 16, UDP_KIND_OTHER },       { 19, UDP_KIND_OTHER },      { 20, UDP_KIND_DTLS },
        { 22, UDP_KIND_DTLS },        { 63, UDP_KIND_DTLS },       { 64, UDP_KIND_CHANNELDATA },
        { 0x4f, UDP_KIND_CHANNELDATA }, { 0x50, UDP_KIND_CHANNELDATA }, { 0x7f, UDP_KIND_CHANNELDATA },
        { 128, UDP_KIND_RTP },        { 191, UDP_KIND_RTP },       { 192, UDP_KIND_OTHER },
        { 255, UDP_KIND_OTHER },      { 4, UDP_KIND_OTHER },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        b[0] = cases[i].first;
        assert_int_equal(udp_demux(b, sizeof(b)), cases[i].kind);
    }
    assert_int_equal(udp_demux(b, 0), UDP_KIND_OTHER);
    /* Every first byte, as one-byte datagrams. */
    static const struct { uint8_t lo, hi; enum udp_kind want; } ranges[] = {
        { 0, 3, UDP_KIND_STUN }, { 4, 19, UDP_KIND_OTHER }, { 20, 63, UDP_KIND_DTLS },
        { 64, 127, UDP_KIND_CHANNELDATA }, { 128, 191, UDP_KIND_RTP }, { 192, 255, UDP_KIND_OTHER },
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        for (unsigned v = ranges[i].lo; v <= ranges[i].hi; v++) {
            uint8_t byte = (uint8_t)v;
            assert_int_equal(udp_demux(&byte, 1), ranges[i].want);
        }
    }
}

static void test_ice_check_by_username(void **state)
{
    (void)state;
    uint8_t m[256];
    size_t n = stun_with_user(m, sizeof(m), stun_type(STUN_BINDING, STUN_REQUEST), "sfuA:browserB");
    assert_int_equal(udp_demux(m, n), UDP_KIND_ICE);
    const uint8_t *user;
    size_t ulen;
    assert_int_equal(udp_demux_username(m, n, &user, &ulen), 0);
    assert_int_equal(ulen, strlen("sfuA:browserB"));
    assert_memory_equal(user, "sfuA:browserB", ulen);
}

static void test_turn_stun(void **state)
{
    (void)state;
    uint8_t m[256];
    /* A plain Binding (server-reflexive discovery) goes to the STUN server. */
    size_t n = stun_with_user(m, sizeof(m), stun_type(STUN_BINDING, STUN_REQUEST), NULL);
    assert_int_equal(udp_demux(m, n), UDP_KIND_STUN);
    /* TURN requests carry USERNAME too, but are not Binding. */
    n = stun_with_user(m, sizeof(m), stun_type(STUN_ALLOCATE, STUN_REQUEST), "1700000000:ada");
    assert_int_equal(udp_demux(m, n), UDP_KIND_STUN);
    /* A Binding success with USERNAME is no check to answer. */
    n = stun_with_user(m, sizeof(m), stun_type(STUN_BINDING, STUN_SUCCESS), "a:b");
    assert_int_equal(udp_demux(m, n), UDP_KIND_STUN);
    n = stun_with_user(m, sizeof(m), stun_type(STUN_SEND, STUN_INDICATION), NULL);
    assert_int_equal(udp_demux(m, n), UDP_KIND_STUN);
}

static void test_malformed_stun(void **state)
{
    (void)state;
    uint8_t m[256];
    size_t n = stun_with_user(m, sizeof(m), stun_type(STUN_BINDING, STUN_REQUEST), "a:b");
    const uint8_t *user;
    size_t ulen;
    /* Cut short: the header's length runs past the datagram. */
    assert_int_equal(udp_demux_username(m, n - 4, &user, &ulen), -1);
    assert_int_equal(udp_demux(m, n - 4), UDP_KIND_STUN);
    /* An attribute whose length runs past the message. */
    uint8_t bad[256];
    memcpy(bad, m, n);
    bad[STUN_HEADER_LEN + 2] = 0xff;
    assert_int_equal(udp_demux_username(bad, n, &user, &ulen), -1);
    assert_int_equal(udp_demux(bad, n), UDP_KIND_STUN);
    /* Shorter than a header, down to one byte (a heap copy of exactly that
     * size, so ASan sees any read past it). */
    assert_int_equal(udp_demux(m, 3), UDP_KIND_STUN);
    uint8_t *one = malloc(1);
    one[0] = 0;
    assert_int_equal(udp_demux(one, 1), UDP_KIND_STUN);
    free(one);
    assert_int_equal(udp_demux_username(m, 19, &user, &ulen), -1);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(udp_kind_name(UDP_KIND_ICE), "ice");
    assert_string_equal(udp_kind_name(UDP_KIND_CHANNELDATA), "channeldata");
    for (int k = 0; k < UDP_KINDS; k++)
        assert_non_null(udp_kind_name((enum udp_kind)k));
    assert_string_equal(udp_kind_name(UDP_KINDS), "other");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_byte_ranges), cmocka_unit_test(test_ice_check_by_username),
        cmocka_unit_test(test_turn_stun),         cmocka_unit_test(test_malformed_stun),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
