/*
 * test_metrics — the /metrics renderer and its access rule
 * (src/server/metrics.c), and conf_value() that check-config prints with
 * (src/base/conf.c).
 *
 * The renderer is pure: a snapshot of numbers in, exposition text out, in a
 * bounded buffer. The access rule decides 200/401/403/404 from the
 * settings, the peer address and the Authorization header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/conf.h"
#include "server/metrics.h"

static struct metrics_snapshot sample(void)
{
    struct metrics_snapshot m;
    memset(&m, 0, sizeof(m));
    m.version = "9.8.7";
    m.start_time_s = 1700000000;
    m.cert_not_after_s = 1800000000;
    m.open[SERVER_KIND_WS] = 3;
    m.opened[SERVER_KIND_HTTP] = 12345678901ull;
    m.hub.peers = 5;
    m.hub.detached = 2;
    m.hub.rooms[1] = 4;
    m.hub.limited[HUB_LIMIT_PIN] = 7;
    m.turn_on = 1;
    m.turn.active[TURN_TLS] = 2;
    m.turn.to_client_bytes = 99;
    return m;
}

static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++) {
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    }
    return 0;
}

static void test_render_values(void **state)
{
    (void)state;
    struct metrics_snapshot m = sample();
    char out[METRICS_MAX_BYTES];
    int n = metrics_render(&m, out, sizeof(out));
    assert_true(n > 0 && (size_t)n < sizeof(out));
    assert_int_equal(strlen(out), (size_t)n);
    assert_true(has_line(out, "tincan_build_info{version=\"9.8.7\"} 1"));
    assert_true(has_line(out, "tincan_process_start_time_seconds 1700000000"));
    assert_true(has_line(out, "tincan_tls_cert_expiry_timestamp_seconds 1800000000"));
    assert_true(has_line(out, "tincan_connections{kind=\"ws\"} 3"));
    assert_true(has_line(out, "tincan_connections_opened_total{kind=\"http\"} 12345678901"));
    assert_true(has_line(out, "tincan_signal_peers{state=\"connected\"} 3"));
    assert_true(has_line(out, "tincan_signal_peers{state=\"resumable\"} 2"));
    assert_true(has_line(out, "tincan_rooms{kind=\"pin\"} 4"));
    assert_true(has_line(out, "tincan_rate_limited_total{limit=\"pin\"} 7"));
    assert_true(has_line(out, "tincan_turn_allocations{transport=\"tls\"} 2"));
    assert_true(has_line(out, "tincan_turn_relayed_bytes_total{direction=\"to_client\"} 99"));
    assert_true(has_line(out, "# TYPE tincan_rate_limited_total counter"));
    assert_true(has_line(out, "# TYPE tincan_connections gauge"));
    assert_int_equal(out[n - 1], '\n');
}

static void test_render_without_turn_or_cert(void **state)
{
    (void)state;
    struct metrics_snapshot m = sample();
    m.turn_on = 0;
    m.cert_not_after_s = -1;
    char out[METRICS_MAX_BYTES];
    assert_true(metrics_render(&m, out, sizeof(out)) > 0);
    assert_null(strstr(out, "tincan_turn_allocations"));
    assert_null(strstr(out, "tls_cert_expiry"));
    assert_non_null(strstr(out, "tincan_rate_limited_total{limit=\"turn_quota\"} 0"));
}

/* Every buffer size short of the whole text is refused, never overrun. */
static void test_render_bounded(void **state)
{
    (void)state;
    struct metrics_snapshot m = sample();
    char full[METRICS_MAX_BYTES];
    int n = metrics_render(&m, full, sizeof(full));
    char *small = malloc((size_t)n + 1);
    for (int cap = 0; cap <= n; cap++) {
        memset(small, 'Z', (size_t)n + 1);
        assert_int_equal(metrics_render(&m, small, (size_t)cap), -1);
        if (cap < n)
            assert_int_equal(small[cap], 'Z');
    }
    assert_int_equal(metrics_render(&m, small, (size_t)n + 1), n);
    assert_memory_equal(small, full, (size_t)n);
    free(small);
}

static struct sock_ip ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct sock_ip ip = { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d } };
    return ip;
}

#define AUTH(s) (s), strlen(s)

static void test_access(void **state)
{
    (void)state;
    struct conf c;
    conf_init(&c);
    struct sock_ip lo = ip4(127, 0, 0, 1), lo2 = ip4(127, 3, 4, 5), far = ip4(198, 51, 100, 7);
    struct sock_ip lo6 = { { [15] = 1 } }, far6 = { { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
    struct sock_ip mapped_far = ip4(128, 0, 0, 1);
    /* Default: loopback only. */
    assert_int_equal(metrics_access(&c, &lo, NULL, 0, 0), 200);
    assert_int_equal(metrics_access(&c, &lo2, NULL, 0, 0), 200);
    assert_int_equal(metrics_access(&c, &lo6, NULL, 0, 0), 200);
    assert_int_equal(metrics_access(&c, &far, NULL, 0, 0), 403);
    assert_int_equal(metrics_access(&c, &far6, NULL, 0, 0), 403);
    assert_int_equal(metrics_access(&c, &mapped_far, NULL, 0, 0), 403);
    assert_int_equal(metrics_access(&c, &lo, NULL, 0, 1), 403);       /* came through a proxy */
    assert_int_equal(metrics_access(&c, &far, AUTH("Bearer x"), 0), 403); /* no token configured */
    /* With a token. */
    c.metrics_token = strdup("s3cret-token");
    assert_int_equal(metrics_access(&c, &far, AUTH("Bearer s3cret-token"), 0), 200);
    assert_int_equal(metrics_access(&c, &far, AUTH("bearer s3cret-token"), 0), 200);
    assert_int_equal(metrics_access(&c, &far, AUTH("Bearer s3cret-tokeN"), 0), 401);
    assert_int_equal(metrics_access(&c, &far, AUTH("Bearer s3cret-token "), 0), 401);
    assert_int_equal(metrics_access(&c, &far, AUTH("Bearer s3cret-toke"), 0), 401);
    assert_int_equal(metrics_access(&c, &far, AUTH("Bearer"), 0), 401);
    assert_int_equal(metrics_access(&c, &far, AUTH("s3cret-token"), 0), 401);
    assert_int_equal(metrics_access(&c, &far, NULL, 0, 0), 401);
    assert_int_equal(metrics_access(&c, &lo, NULL, 0, 0), 200);
    assert_int_equal(metrics_access(&c, &lo, AUTH("Bearer wrong"), 0), 401);
    /* The header is taken by its length, not up to a NUL. */
    assert_int_equal(metrics_access(&c, &far, "Bearer s3cret-token-and-more", 19, 0), 200);
    /* Loopback is an address like any other. */
    c.metrics_loopback = 0;
    assert_int_equal(metrics_access(&c, &lo, NULL, 0, 0), 401);
    assert_int_equal(metrics_access(&c, &lo, AUTH("Bearer s3cret-token"), 0), 200);
    /* Off. */
    c.metrics = 0;
    assert_int_equal(metrics_access(&c, &lo, AUTH("Bearer s3cret-token"), 0), 404);
    conf_cleanup(&c);
}

static void test_conf_value(void **state)
{
    (void)state;
    struct conf c;
    char err[256], v[256];
    conf_init(&c);
    assert_int_equal(conf_set(&c, "san", "a.example, b.example", err, sizeof(err)), 0);
    size_t n = conf_count();
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = conf_name(i);
        size_t len = conf_value(&c, i, v, sizeof(v));
        assert_int_equal(len, strlen(v));
        if (strcmp(name, "port") == 0)
            found += strcmp(v, "8443") == 0;
        else if (strcmp(name, "san") == 0)
            found += strcmp(v, "a.example, b.example") == 0;
        else if (strcmp(name, "log-level") == 0)
            found += strcmp(v, "info") == 0;
        else if (strcmp(name, "metrics") == 0)
            found += strcmp(v, "true") == 0;
        else if (strcmp(name, "bind") == 0)
            found += strcmp(v, "") == 0;
    }
    assert_int_equal(found, 5);
    assert_null(conf_name(n));
    /* Truncated to the buffer. */
    char tiny[4];
    for (size_t i = 0; i < n; i++) {
        if (strcmp(conf_name(i), "san") == 0)
            assert_int_equal(conf_value(&c, i, tiny, sizeof(tiny)), 3);
    }
    assert_string_equal(tiny, "a.e");
    conf_cleanup(&c);
}

#define T(f) cmocka_unit_test(f)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_render_values),
        T(test_render_without_turn_or_cert),
        T(test_render_bounded),
        T(test_access),
        T(test_conf_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
