/*
 * test_sniff — telling TLS, HTTP and STUN apart on one port (src/net/sniff.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/sniff.h"

/* A STUN Binding request header (RFC 5389 §6) with a transaction id. */
static const uint8_t stun_binding[20] = {
    0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
};

static enum sniff_result classify(const void *p, size_t n, int allow_tls)
{
    return sniff_classify(p, n, allow_tls);
}

static void test_tls(void **state)
{
    (void)state;
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc };
    assert_int_equal(classify(hello, sizeof(hello), 1), SNIFF_TLS);
    /* One byte decides, so a client is never kept waiting. */
    assert_int_equal(classify(hello, 1, 1), SNIFF_TLS);
    /* Inside TLS, another handshake record is nothing of ours. */
    assert_int_equal(classify(hello, sizeof(hello), 0), SNIFF_UNKNOWN);
    assert_int_not_equal(classify(hello, 1, 0), SNIFF_TLS);
}

static void test_http(void **state)
{
    (void)state;
    static const char *const methods[] = { "GET ", "HEAD /", "POST / HTTP/1.1\r\n", "OPTIONS * HTTP/1.1", "G" };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        assert_int_equal(classify(methods[i], strlen(methods[i]), 1), SNIFF_HTTP);
        assert_int_equal(classify(methods[i], strlen(methods[i]), 0), SNIFF_HTTP);
    }
}

static void test_stun(void **state)
{
    (void)state;
    assert_int_equal(classify(stun_binding, sizeof(stun_binding), 1), SNIFF_STUN);
    assert_int_equal(classify(stun_binding, sizeof(stun_binding), 0), SNIFF_STUN);
    assert_int_equal(classify(stun_binding, SNIFF_MAX_BYTES, 1), SNIFF_STUN);
    /* A binding success response (0x0101) and a TURN Allocate request (0x0003). */
    uint8_t m[20];
    memcpy(m, stun_binding, sizeof(m));
    m[0] = 0x01;
    m[1] = 0x01;
    assert_int_equal(classify(m, sizeof(m), 1), SNIFF_STUN);
    m[0] = 0x00;
    m[1] = 0x03;
    assert_int_equal(classify(m, sizeof(m), 1), SNIFF_STUN);
    /* Too short to see the cookie: wait. */
    for (size_t n = 1; n < SNIFF_MAX_BYTES; n++)
        assert_int_equal(classify(stun_binding, n, 1), SNIFF_NEED_MORE);
    /* Wrong cookie. */
    memcpy(m, stun_binding, sizeof(m));
    m[7] = 0x43;
    assert_int_equal(classify(m, sizeof(m), 1), SNIFF_UNKNOWN);
    memcpy(m, stun_binding, sizeof(m));
    m[4] = 0x12;
    m[5] = 0x21;
    assert_int_equal(classify(m, sizeof(m), 1), SNIFF_UNKNOWN);
    /* The two most significant bits of a STUN message are zero. */
    memcpy(m, stun_binding, sizeof(m));
    m[0] = 0x40;
    assert_int_not_equal(classify(m, sizeof(m), 1), SNIFF_STUN);
    m[0] = 0x80;
    assert_int_not_equal(classify(m, sizeof(m), 1), SNIFF_STUN);
}

static void test_nothing_yet(void **state)
{
    (void)state;
    assert_int_equal(classify("", 0, 1), SNIFF_NEED_MORE);
    assert_int_equal(classify("", 0, 0), SNIFF_NEED_MORE);
}

static void test_unknown(void **state)
{
    (void)state;
    static const char *const junk[] = {
        "get / HTTP/1.1\r\n", /* methods are upper case */
        "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8",
        "\x80\x00\x00\x00\x00\x00\x00\x00",
        "SSH-2.0-OpenSSH_9.6",
    };
    assert_int_equal(classify(junk[0], strlen(junk[0]), 1), SNIFF_UNKNOWN);
    assert_int_equal(classify(junk[1], 8, 1), SNIFF_UNKNOWN);
    assert_int_equal(classify(junk[2], 8, 1), SNIFF_UNKNOWN);
    assert_int_equal(classify(junk[3], strlen(junk[3]), 1), SNIFF_HTTP); /* the HTTP parser rejects it */
    /* Random bytes are mostly unknown, never TLS without allow_tls, and the
     * verdict never changes once made (more bytes don't flip it). */
    unsigned seed = 99;
    int unknown = 0;
    for (int i = 0; i < 10000; i++) {
        uint8_t p[SNIFF_MAX_BYTES];
        for (size_t k = 0; k < sizeof(p); k++)
            p[k] = (uint8_t)rand_r(&seed);
        enum sniff_result r = classify(p, sizeof(p), 0);
        assert_int_not_equal(r, SNIFF_TLS);
        assert_int_not_equal(r, SNIFF_NEED_MORE);
        unknown += r == SNIFF_UNKNOWN;
        for (size_t n = 1; n < sizeof(p); n++) {
            enum sniff_result early = classify(p, n, 0);
            if (early != SNIFF_NEED_MORE && early != r)
                fail_msg("verdict %d after %zu bytes, %d after %zu", early, n, r, sizeof(p));
        }
    }
    assert_true(unknown > 8000);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(sniff_name(SNIFF_TLS), "tls");
    assert_string_equal(sniff_name(SNIFF_HTTP), "http");
    assert_string_equal(sniff_name(SNIFF_STUN), "stun");
    assert_string_equal(sniff_name(SNIFF_UNKNOWN), "unknown");
    assert_string_equal(sniff_name(SNIFF_NEED_MORE), "need_more");
    assert_non_null(sniff_name((enum sniff_result)42));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_stun),
        cmocka_unit_test(test_nothing_yet),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
