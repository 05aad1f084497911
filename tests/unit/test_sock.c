/*
 * Unit tests for the address helpers of src/net/sock.c: sock_ip_from() and
 * the per-source key sock_ip_source().
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "net/sock.h"

static struct sockaddr_storage v6(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
    return ss;
}

static struct sockaddr_storage v4(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, text, &a->sin_addr), 1);
    return ss;
}

static const char *source_text(struct sockaddr_storage ss, char *out, size_t len)
{
    struct sock_ip ip;
    sock_ip_source(&ss, &ip);
    return sock_ip_str(&ip, out, len);
}

static void test_native_ipv6_keeps_its_64(void **state)
{
    (void)state;
    char t[64];
    assert_string_equal(source_text(v6("2001:db8:a:1::1"), t, sizeof(t)), "2001:db8:a:1::");
    assert_string_equal(source_text(v6("2001:db8:a:1:1234:5678:9abc:def0"), t, sizeof(t)), "2001:db8:a:1::");
    assert_string_equal(source_text(v6("2001:db8:a:2::1"), t, sizeof(t)), "2001:db8:a:2::");
    assert_string_equal(source_text(v6("::1"), t, sizeof(t)), "::");
}

static void test_ipv4_and_mapped_unchanged(void **state)
{
    (void)state;
    char t[64];
    assert_string_equal(source_text(v4("192.0.2.7"), t, sizeof(t)), "192.0.2.7");
    assert_string_equal(source_text(v6("::ffff:192.0.2.7"), t, sizeof(t)), "192.0.2.7");
    struct sock_ip a, b;
    struct sockaddr_storage x = v4("198.51.100.1"), y = v6("::ffff:198.51.100.1");
    sock_ip_source(&x, &a);
    sock_ip_source(&y, &b);
    assert_memory_equal(a.b, b.b, 16); /* both socket families count alike */
}

static void test_from_keeps_the_whole_address(void **state)
{
    (void)state;
    struct sockaddr_storage x = v6("2001:db8::42");
    struct sock_ip ip, src;
    sock_ip_from(&x, &ip);
    char t[64];
    assert_string_equal(sock_ip_str(&ip, t, sizeof(t)), "2001:db8::42");
    src = ip;
    sock_ip_to_source(&src);
    assert_string_equal(sock_ip_str(&src, t, sizeof(t)), "2001:db8::");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_ipv6_keeps_its_64),
        cmocka_unit_test(test_ipv4_and_mapped_unchanged),
        cmocka_unit_test(test_from_keeps_the_whole_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
