/*
 * test_accounts_api — the accounts API as a pure function
 * (src/http/accounts_*.c) with its cookie parser (src/http/cookie.c) and
 * SQL (src/store/users.c), on an in-memory store: body parsing, the CSRF
 * check, user names, a register / session / room / logout sequence, and
 * the login and registration limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/accounts_api.h"
#include "http/cookie.h"
#include "store/store.h"
#include "store/users.h"

static struct accounts_response res;
static char text[ACCOUNTS_OUT_MAX + 1];

static void test_cookie_find(void **state)
{
    (void)state;
    const char *v;
    size_t n;
    const char *h = "a=1; tincan_session=abc_DEF-9;b=2";
    assert_int_equal(cookie_find(h, strlen(h), "tincan_session", &v, &n), 1);
    assert_int_equal(n, 9);
    assert_memory_equal(v, "abc_DEF-9", 9);
    assert_int_equal(cookie_find(h, strlen(h), "b", &v, &n), 1);
    assert_memory_equal(v, "2", 1);
    assert_int_equal(cookie_find(h, strlen(h), "tincan", &v, &n), 0);
    assert_int_equal(cookie_find("x_tincan_session=1", 18, "tincan_session", &v, &n), 0);
    assert_int_equal(cookie_find("tincan_session=\"q\"", 18, "tincan_session", &v, &n), 1);
    assert_int_equal(n, 1);
    assert_int_equal(cookie_find("tincan_session=a b", 18, "tincan_session", &v, &n), 0);
    assert_int_equal(cookie_find("", 0, "tincan_session", &v, &n), 0);
    assert_int_equal(cookie_find(";;  ;", 5, "tincan_session", &v, &n), 0);
    char out[128];
    assert_true(cookie_format(out, sizeof(out), "s", "v", 60) > 0);
    assert_string_equal(out, "s=v; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Strict");
    assert_int_equal(cookie_format(out, 10, "s", "v", 60), -1);
}

static void test_parse_body(void **state)
{
    (void)state;
    struct accounts_body b;
    const char *ok = "{\"username\":\"al\",\"password\":\"pw\",\"disabled\":true,\"other\":1}";
    assert_int_equal(accounts_parse_body((const uint8_t *)ok, strlen(ok), &b), 0);
    assert_string_equal(b.username, "al");
    assert_string_equal(b.password, "pw");
    assert_int_equal(b.disabled, 1);
    assert_string_equal(b.invite, "");
    assert_int_equal(accounts_parse_body(NULL, 0, &b), 0);
    assert_int_equal(b.disabled, -1);
    static const char *const bad[] = {
        "[]", "{", "{\"username\":1}", "{\"disabled\":\"yes\"}", "{\"a\":1,\"a\":2}", "{\"name\":\"a\\u0000b\"}", "null",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(accounts_parse_body((const uint8_t *)bad[i], strlen(bad[i]), &b), -1);
    char big[ACCOUNTS_FIELD_MAX + 40];
    int n = snprintf(big, sizeof(big), "{\"name\":\"%0*d\"}", ACCOUNTS_FIELD_MAX + 1, 0);
    assert_int_equal(accounts_parse_body((const uint8_t *)big, (size_t)n, &b), -1);
}

static int same_origin(const char *origin, const char *site, const char *host)
{
    struct accounts_request r = {
        .origin = origin, .origin_len = origin ? strlen(origin) : 0, .fetch_site = site,
        .fetch_site_len = site ? strlen(site) : 0, .host = host,
    };
    return accounts_same_origin(&r);
}

static void test_same_origin(void **state)
{
    (void)state;
    assert_true(same_origin("https://h:8443", NULL, "h:8443"));
    assert_true(same_origin("HTTPS://H:8443", "same-origin", "h:8443"));
    assert_true(same_origin(NULL, "same-origin", "h"));
    assert_false(same_origin(NULL, NULL, "h"));
    assert_false(same_origin("https://h:8443", "cross-site", "h:8443"));
    assert_false(same_origin("http://h:8443", NULL, "h:8443"));
    assert_false(same_origin("https://h:8443.evil", NULL, "h:8443"));
    assert_false(same_origin("null", NULL, "h"));
    assert_false(same_origin("https://", NULL, ""));
    assert_false(same_origin(NULL, "same-site", "h"));
}

static void test_usernames(void **state)
{
    (void)state;
    assert_true(accounts_valid_username("alice.B_2-x"));
    assert_false(accounts_valid_username(""));
    assert_false(accounts_valid_username("a b"));
    assert_false(accounts_valid_username("é"));
    assert_false(accounts_valid_username("012345678901234567890123456789012"));
}

/* One request from source (the client's address as text) into res/text. */
static void call_from(struct accounts *a, const char *source, const char *method, const char *path, const char *body,
                      const char *cookie)
{
    struct accounts_request r = {
        .method = method, .method_len = strlen(method), .path = path, .path_len = strlen(path),
        .body = (const uint8_t *)body, .body_len = body ? strlen(body) : 0, .cookie = cookie,
        .cookie_len = cookie ? strlen(cookie) : 0, .origin = "https://h", .origin_len = 9, .host = "h",
        .source = source, .now_ms = 1700000000000,
    };
    accounts_handle_now(a, &r, &res);
    memcpy(text, res.body, res.body_len);
    text[res.body_len] = '\0';
}

static void call(struct accounts *a, const char *method, const char *path, const char *body, const char *cookie)
{
    call_from(a, "127.0.0.1", method, path, body, cookie);
}

/* Open registration on an in-memory store (*st), with these limits. */
static struct accounts *open_accounts(struct store **st, unsigned login_rate, unsigned register_rate)
{
    char err[128];
    *st = store_open(":memory:", err, sizeof(err));
    assert_non_null(*st);
    struct accounts_conf conf = { ACCOUNTS_REG_OPEN, 3600000, login_rate, register_rate };
    return accounts_new(*st, &conf);
}

static void test_sequence(void **state)
{
    (void)state;
    struct store *st;
    struct accounts *a = open_accounts(&st, 20, 5);
    call(a, "POST", "/api/auth/register", "{\"username\":\"al\",\"password\":\"short\"}", NULL);
    assert_int_equal(res.status, 400);
    assert_string_equal(text, "{\"error\":\"invalid_password\"}");
    call(a, "POST", "/api/auth/register", "{\"username\":\"al\",\"password\":\"long enough\"}", NULL);
    assert_int_equal(res.status, 201);
    char cookie[300];
    snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(res.set_cookie, ";"), res.set_cookie);
    call(a, "GET", "/api/auth/me", NULL, cookie);
    assert_int_equal(res.status, 200);
    assert_string_equal(text, "{\"user\":{\"id\":1,\"name\":\"al\",\"admin\":false}}");
    call(a, "POST", "/api/team-rooms", "{\"name\":\"r\"}", cookie);
    assert_int_equal(res.status, 201);
    call(a, "GET", "/api/team-rooms", NULL, cookie);
    assert_non_null(strstr(text, "\"name\":\"r\""));
    call(a, "DELETE", "/api/team-rooms/", NULL, cookie);
    assert_int_equal(res.status, 404);
    call(a, "POST", "/api/auth/logout", NULL, cookie);
    assert_int_equal(res.status, 204);
    call(a, "GET", "/api/auth/me", NULL, cookie);
    assert_int_equal(res.status, 401);
    struct accounts_stats s;
    accounts_stats(a, &s);
    assert_int_equal(s.unauthenticated, 1);
    accounts_free(a);
    store_close(st);
}

/* Login: 2 attempts per address and per name (login_rate 2 here). An
 * address over its limit takes nothing from the name it tries, and the
 * name buckets share no key with the registration buckets of an address
 * (an IPv6 /64 such as "a:b:c:d::" against the name "b:c:d::"). */
static void test_login_limits(void **state)
{
    (void)state;
    struct store *st;
    struct accounts *a = open_accounts(&st, 2, 1);
    const char *x = "{\"username\":\"x\",\"password\":\"long enough\"}";
    const char *victim = "{\"username\":\"victim\",\"password\":\"long enough\"}";
    for (int i = 0; i < 2; i++) {
        call_from(a, "10.0.0.1", "POST", "/api/auth/login", x, NULL);
        assert_int_equal(res.status, 401);
    }
    for (int i = 0; i < 3; i++) {
        call_from(a, "10.0.0.1", "POST", "/api/auth/login", victim, NULL);
        assert_int_equal(res.status, 429);
    }
    call_from(a, "10.0.0.2", "POST", "/api/auth/login", victim, NULL);
    assert_int_equal(res.status, 401);
    const char *odd = "{\"username\":\"b:c:d::\",\"password\":\"long enough\"}";
    for (int i = 0; i < 2; i++) {
        call_from(a, "10.0.0.3", "POST", "/api/auth/login", odd, NULL);
        assert_int_equal(res.status, 401);
    }
    call_from(a, "a:b:c:d::", "POST", "/api/auth/register", victim, NULL);
    assert_int_equal(res.status, 201);
    call_from(a, "a:b:c:d::", "POST", "/api/auth/register", x, NULL);
    assert_int_equal(res.status, 429); /* register_rate 1 */
    struct accounts_stats s;
    accounts_stats(a, &s);
    assert_int_equal(s.limited_login, 3);
    assert_int_equal(s.limited_register, 1);
    accounts_free(a);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie_find), cmocka_unit_test(test_parse_body), cmocka_unit_test(test_same_origin),
        cmocka_unit_test(test_usernames), cmocka_unit_test(test_sequence), cmocka_unit_test(test_login_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
