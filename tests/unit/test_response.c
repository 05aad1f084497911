/*
 * test_response — HTTP response heads (src/http/response.c).
 *
 * Every head carries the security headers; Content-Length appears exactly
 * when a body may follow; a Host that could inject header text is never
 * copied into the Content-Security-Policy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/response.h"

static const char *const security[] = {
    "\r\nStrict-Transport-Security: max-age=",
    "\r\nContent-Security-Policy: default-src 'self';",
    "\r\nX-Content-Type-Options: nosniff\r\n",
    "\r\nX-Frame-Options: DENY\r\n",
    "\r\nReferrer-Policy: no-referrer\r\n",
    "\r\nPermissions-Policy: camera=(self), microphone=(self), display-capture=(self)\r\n",
};

static char head[4096];

static size_t build(const struct http_response *r)
{
    memset(head, 0, sizeof(head));
    size_t n = http_response_head(head, sizeof(head), r);
    assert_true(n > 0);
    assert_int_equal(n, strlen(head));
    return n;
}

/* Counts occurrences of needle in head. */
static int count(const char *needle)
{
    int c = 0;
    for (const char *p = head; (p = strstr(p, needle)) != NULL; p++)
        c++;
    return c;
}

/* The value of the CSP directive connect-src, up to its ';'. */
static void connect_src(char *out, size_t len)
{
    const char *p = strstr(head, "connect-src");
    assert_non_null(p);
    const char *e = strchr(p, ';');
    assert_non_null(e);
    snprintf(out, len, "%.*s", (int)(e - p), p);
}

static void test_200_full(void **state)
{
    (void)state;
    struct http_response r = {
        .status = 200, .content_type = "text/html; charset=utf-8", .content_length = 3710,
        .etag = "\"abc\"", .cache_control = "no-cache", .content_encoding = "gzip",
        .vary_accept_encoding = 1, .keep_alive = 1, .host = "call.example.org:8443",
        .extra = "X-Test: 1\r\n",
    };
    size_t n = build(&r);
    assert_true(strncmp(head, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_int_equal(count("Content-Type: text/html; charset=utf-8\r\n"), 1);
    assert_int_equal(count("\r\nContent-Length: 3710\r\n"), 1);
    assert_int_equal(count("\r\nETag: \"abc\"\r\n"), 1);
    assert_int_equal(count("\r\nCache-Control: no-cache\r\n"), 1);
    assert_int_equal(count("\r\nContent-Encoding: gzip\r\n"), 1);
    assert_int_equal(count("\r\nVary: Accept-Encoding\r\n"), 1);
    assert_int_equal(count("\r\nConnection: keep-alive\r\n"), 1);
    assert_int_equal(count("\r\nX-Test: 1\r\n"), 1);
    for (size_t i = 0; i < sizeof(security) / sizeof(security[0]); i++)
        assert_int_equal(count(security[i]), 1);
    char cs[256];
    connect_src(cs, sizeof(cs));
    assert_string_equal(cs, "connect-src 'self' wss://call.example.org:8443");
    /* One empty line, at the very end. */
    assert_int_equal(count("\r\n\r\n"), 1);
    assert_true(n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0);
    /* Every line ends in CRLF: no bare LF anywhere. */
    for (size_t i = 0; i < n; i++) {
        if (head[i] == '\n')
            assert_true(i > 0 && head[i - 1] == '\r');
    }
}

static void test_minimal(void **state)
{
    (void)state;
    struct http_response r = { .status = 404, .content_length = 10 };
    build(&r);
    assert_true(strncmp(head, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
    assert_int_equal(count("\r\nContent-Type:"), 0);
    assert_int_equal(count("\r\nETag:"), 0);
    assert_int_equal(count("\r\nCache-Control:"), 0);
    assert_int_equal(count("\r\nContent-Encoding:"), 0);
    assert_int_equal(count("\r\nVary:"), 0);
    assert_int_equal(count("\r\nConnection: close\r\n"), 1);
    assert_int_equal(count("\r\nContent-Length: 10\r\n"), 1);
    char cs[256];
    connect_src(cs, sizeof(cs));
    assert_string_equal(cs, "connect-src 'self'");
}

static void test_content_length_presence(void **state)
{
    (void)state;
    static const int with[] = { 200, 308, 400, 404, 413, 426, 431, 500, 505 };
    static const int without[] = { 101, 204, 304 };
    for (size_t i = 0; i < sizeof(with) / sizeof(with[0]); i++) {
        struct http_response r = { .status = with[i], .content_length = 0 };
        build(&r);
        if (count("\r\nContent-Length: 0\r\n") != 1)
            fail_msg("status %d: no Content-Length", with[i]);
    }
    for (size_t i = 0; i < sizeof(without) / sizeof(without[0]); i++) {
        struct http_response r = { .status = without[i], .content_length = 1234, .keep_alive = 1 };
        build(&r);
        if (count("Content-Length") != 0)
            fail_msg("status %d has a Content-Length", without[i]);
    }
}

static void test_security_headers_everywhere(void **state)
{
    (void)state;
    static const int statuses[] = { 101, 200, 204, 304, 308, 400, 403, 404, 405, 413, 414, 426, 431, 500, 503 };
    for (size_t s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++) {
        struct http_response r = { .status = statuses[s] };
        build(&r);
        for (size_t i = 0; i < sizeof(security) / sizeof(security[0]); i++) {
            if (count(security[i]) != 1)
                fail_msg("status %d lacks '%s'", statuses[s], security[i] + 2);
        }
        assert_int_equal(count("frame-ancestors 'none'"), 1);
        assert_int_equal(count("object-src 'none'"), 1);
    }
}

static void test_unsafe_host(void **state)
{
    (void)state;
    static const char *const hosts[] = {
        "evil.example; script-src *",
        "a b",
        "x\r\nSet-Cookie: y=1",
        "x'",
        "wss://other",
        "h\"",
        "",
    };
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        struct http_response r = { .status = 200, .host = hosts[i] };
        build(&r);
        char cs[256];
        connect_src(cs, sizeof(cs));
        if (strcmp(cs, "connect-src 'self'") != 0)
            fail_msg("host '%s' gave '%s'", hosts[i], cs);
        assert_int_equal(count("Set-Cookie"), 0);
        assert_int_equal(count("evil"), 0);
    }
    /* A long but safe name is still bounded. */
    char longhost[300];
    memset(longhost, 'a', sizeof(longhost) - 1);
    longhost[sizeof(longhost) - 1] = '\0';
    struct http_response r = { .status = 200, .host = longhost };
    build(&r);
    char cs[512];
    connect_src(cs, sizeof(cs));
    assert_string_equal(cs, "connect-src 'self'");
    /* IPv6 literals are fine. */
    r.host = "[::1]:8443";
    build(&r);
    connect_src(cs, sizeof(cs));
    assert_string_equal(cs, "connect-src 'self' wss://[::1]:8443");
}

static void test_host_safe(void **state)
{
    (void)state;
    assert_true(http_host_safe("example.com", 11));
    assert_true(http_host_safe("127.0.0.1:8443", 14));
    assert_true(http_host_safe("[2001:db8::1]:443", 17));
    assert_true(http_host_safe("xn--bcher-kva.example", 21));
    assert_false(http_host_safe("", 0));
    assert_false(http_host_safe("a b", 3));
    assert_false(http_host_safe("a;b", 3));
    assert_false(http_host_safe("a\r\nb", 4));
    assert_false(http_host_safe("a/b", 3));
    assert_false(http_host_safe("a@b", 3));
    assert_false(http_host_safe("a\0b", 3));
    assert_false(http_host_safe("caf\xc3\xa9", 5));
    /* Only len bytes are looked at. */
    assert_true(http_host_safe("ok;bad", 2));
}

static void test_small_buffer(void **state)
{
    (void)state;
    struct http_response r = { .status = 200, .content_type = "text/plain", .content_length = 5 };
    char full[4096];
    size_t n = http_response_head(full, sizeof(full), &r);
    assert_true(n > 0);
    char *exact = malloc(n + 1);
    assert_non_null(exact);
    assert_int_equal(http_response_head(exact, n + 1, &r), n);
    assert_memory_equal(exact, full, n);
    free(exact);
    char *shorter = malloc(n);
    assert_non_null(shorter);
    assert_int_equal(http_response_head(shorter, n, &r), 0);
    free(shorter);
    char tiny[16];
    assert_int_equal(http_response_head(tiny, sizeof(tiny), &r), 0);
}

static void test_reason(void **state)
{
    (void)state;
    assert_string_equal(http_reason(101), "Switching Protocols");
    assert_string_equal(http_reason(200), "OK");
    assert_string_equal(http_reason(304), "Not Modified");
    assert_string_equal(http_reason(308), "Permanent Redirect");
    assert_string_equal(http_reason(400), "Bad Request");
    assert_string_equal(http_reason(403), "Forbidden");
    assert_string_equal(http_reason(404), "Not Found");
    assert_string_equal(http_reason(405), "Method Not Allowed");
    assert_string_equal(http_reason(413), "Content Too Large");
    assert_string_equal(http_reason(414), "URI Too Long");
    assert_string_equal(http_reason(426), "Upgrade Required");
    assert_string_equal(http_reason(431), "Request Header Fields Too Large");
    assert_string_equal(http_reason(505), "HTTP Version Not Supported");
    assert_non_null(http_reason(299));
    assert_true(strlen(http_reason(299)) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_200_full),
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_content_length_presence),
        cmocka_unit_test(test_security_headers_everywhere),
        cmocka_unit_test(test_unsafe_host),
        cmocka_unit_test(test_host_safe),
        cmocka_unit_test(test_small_buffer),
        cmocka_unit_test(test_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
