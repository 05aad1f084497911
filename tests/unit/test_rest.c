/*
 * test_rest — the seed-003 REST API as a pure function (src/http/rest.c):
 * every status code and error string, on a real SQLite file and on
 * ":memory:".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/isotime.h"
#include "http/rest.h"
#include "store/store.h"

static struct rest_response res;
static int64_t now_ms;

/* Sends one request; the body of the answer is left NUL-terminated in
 * body_text for comparisons. */
static char body_text[REST_OUT_MAX + 1];

static int call(struct store *st, const char *method, const char *target, const char *body, size_t body_len)
{
    const char *q = strchr(target, '?');
    size_t plen = q ? (size_t)(q - target) : strlen(target);
    struct rest_request req = {
        .method = method, .method_len = strlen(method), .path = target, .path_len = plen,
        .query = q ? q + 1 : "", .query_len = q ? strlen(q + 1) : 0,
        .body = (const uint8_t *)body, .body_len = body ? (body_len ? body_len : strlen(body)) : 0,
        .now_ms = now_ms,
    };
    rest_handle(st, &req, &res);
    memcpy(body_text, res.body, res.body_len);
    body_text[res.body_len] = '\0';
    return res.status;
}

#define EXPECT(st, method, target, body, status, text)          \
    do {                                                        \
        assert_int_equal(call(st, method, target, body, 0), status); \
        assert_string_equal(body_text, text);                   \
    } while (0)

static int setup_memory(void **state)
{
    char err[128];
    struct store *st = store_open(":memory:", err, sizeof(err));
    assert_int_equal(isotime_parse("2026-06-01T12:00:00Z", 20, &now_ms), 0);
    *state = st;
    return st ? 0 : -1;
}

static int teardown_store(void **state)
{
    store_close(*state);
    return 0;
}

/* Copies the roomid out of {"roomid":"..."}. */
static void roomid_of(char *out, size_t len)
{
    const char *p = strstr(body_text, "\"roomid\":\"");
    assert_non_null(p);
    p += 10;
    const char *e = strchr(p, '"');
    assert_non_null(e);
    snprintf(out, len, "%.*s", (int)(e - p), p);
}

/* The seed's example sequence, then get, delete and purge. */
static void test_example_sequence(void **state)
{
    struct store *st = *state;
    char roomid[64], want[256];
    EXPECT(st, "POST", "/api/rooms", "{\"joinid\":\"ABC123\",\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"dev-a\"}",
           201, "{\"ok\":true}");
    EXPECT(st, "POST", "/api/rooms/check", "{\"joinid\":\"ABC123\",\"client1\":\"dev-a\"}", 204, "");
    assert_int_equal(call(st, "POST", "/api/rooms/accept", "{\"joinid\":\"ABC123\",\"client2\":\"dev-b\"}", 0), 200);
    roomid_of(roomid, sizeof(roomid));
    assert_int_equal(strlen(roomid), 36);
    snprintf(want, sizeof(want), "{\"roomid\":\"%s\"}", roomid);
    assert_string_equal(body_text, want);
    EXPECT(st, "POST", "/api/rooms/accept", "{\"joinid\":\"ABC123\",\"client2\":\"dev-c\"}", 409,
           "{\"error\":\"conflict\"}");
    EXPECT(st, "POST", "/api/rooms/check", "{\"joinid\":\"ABC123\",\"client1\":\"dev-a\"}", 200, want);
    EXPECT(st, "POST", "/api/rooms/check", "{\"joinid\":\"ABC123\",\"client1\":\"dev-a\"}", 404,
           "{\"error\":\"not_found_or_expired\"}");
    char target[128];
    snprintf(target, sizeof(target), "/api/rooms?roomid=%s", roomid);
    snprintf(want, sizeof(want), "{\"roomid\":\"%s\",\"client1\":\"dev-a\",\"client2\":\"dev-b\"}", roomid);
    EXPECT(st, "GET", target, NULL, 200, want);
    EXPECT(st, "HEAD", target, NULL, 200, want); /* the glue drops the body */
    char del[128];
    snprintf(del, sizeof(del), "{\"roomid\":\"%s\"}", roomid);
    EXPECT(st, "DELETE", "/api/rooms", del, 200, "{\"ok\":true}");
    EXPECT(st, "DELETE", "/api/rooms", del, 200, "{\"ok\":true}");
    EXPECT(st, "GET", target, NULL, 404, "{\"error\":\"not_found\"}");
    EXPECT(st, "POST", "/api/user/purge", "{\"deviceId\":\"dev-a\"}", 200,
           "{\"ok\":true,\"roomsDeleted\":0,\"pendingsDeleted\":0}");
}

static void test_accept_unknown(void **state)
{
    EXPECT(*state, "POST", "/api/rooms/accept", "{\"joinid\":\"NOPE\",\"client2\":\"b\"}", 404,
           "{\"error\":\"not_found_or_expired\"}");
    EXPECT(*state, "POST", "/api/rooms/check", "{\"joinid\":\"NOPE\",\"client1\":\"a\"}", 404,
           "{\"error\":\"not_found_or_expired\"}");
}

static void test_duplicate_create(void **state)
{
    const char *body = "{\"joinid\":\"DUP\",\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"a\"}";
    EXPECT(*state, "POST", "/api/rooms", body, 201, "{\"ok\":true}");
    EXPECT(*state, "POST", "/api/rooms", body, 409, "{\"error\":\"conflict\"}");
}

/* A pending created with exp in the past (or exactly now) is never found. */
static void test_expired(void **state)
{
    struct store *st = *state;
    EXPECT(st, "POST", "/api/rooms", "{\"joinid\":\"OLD\",\"exp\":\"2026-06-01T11:59:59.999Z\",\"client1\":\"a\"}",
           201, "{\"ok\":true}");
    EXPECT(st, "POST", "/api/rooms", "{\"joinid\":\"NOW\",\"exp\":\"2026-06-01T14:00:00+02:00\",\"client1\":\"a\"}",
           201, "{\"ok\":true}");
    EXPECT(st, "POST", "/api/rooms/accept", "{\"joinid\":\"OLD\",\"client2\":\"b\"}", 404,
           "{\"error\":\"not_found_or_expired\"}");
    EXPECT(st, "POST", "/api/rooms/check", "{\"joinid\":\"OLD\",\"client1\":\"a\"}", 404,
           "{\"error\":\"not_found_or_expired\"}");
    EXPECT(st, "POST", "/api/rooms/accept", "{\"joinid\":\"NOW\",\"client2\":\"b\"}", 404,
           "{\"error\":\"not_found_or_expired\"}");
    now_ms -= 1; /* a millisecond earlier it was still valid */
    assert_int_equal(call(st, "POST", "/api/rooms/accept", "{\"joinid\":\"NOW\",\"client2\":\"b\"}", 0), 200);
    now_ms += 1;
}

/* Absent, empty, null, 0, false, non-string: all missing_field, on every
 * endpoint (a non-zero integer is an id, see test_numeric_ids). */
static void test_missing_fields(void **state)
{
    struct store *st = *state;
    const char *const cases[][2] = {
        { "/api/rooms", "{\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"a\"}" },
        { "/api/rooms", "{\"joinid\":\"\",\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"a\"}" },
        { "/api/rooms", "{\"joinid\":\"J\",\"exp\":null,\"client1\":\"a\"}" },
        { "/api/rooms", "{\"joinid\":\"J\",\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":0}" },
        { "/api/rooms", "{\"joinid\":0,\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"a\"}" },
        { "/api/rooms", "{\"joinid\":1.5,\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"a\"}" },
        { "/api/rooms", "{}" },
        { "/api/rooms", "" },
        { "/api/rooms/accept", "{\"joinid\":\"J\"}" },
        { "/api/rooms/accept", "{\"client2\":\"b\"}" },
        { "/api/rooms/check", "{\"joinid\":\"J\",\"client1\":false}" },
        { "/api/rooms/check", "{\"joinid\":[],\"client1\":\"a\"}" },
        { "/api/user/purge", "{\"deviceid\":\"a\"}" },
        { "/api/user/purge", "{\"deviceId\":{}}" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(call(st, "POST", cases[i][0], cases[i][1], 0), 400);
        assert_string_equal(body_text, "{\"error\":\"missing_field\"}");
    }
    EXPECT(st, "DELETE", "/api/rooms", "{\"roomid\":\"\"}", 400, "{\"error\":\"missing_field\"}");
    EXPECT(st, "GET", "/api/rooms", NULL, 400, "{\"error\":\"missing_field\"}");
    EXPECT(st, "GET", "/api/rooms?roomid=", NULL, 400, "{\"error\":\"missing_field\"}");
    EXPECT(st, "GET", "/api/rooms?room=x", NULL, 400, "{\"error\":\"missing_field\"}");
}

/* A numeric join code works as its decimal text, end to end. */
static void test_numeric_ids(void **state)
{
    struct store *st = *state;
    EXPECT(st, "POST", "/api/rooms", "{\"joinid\":482913,\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"a\"}", 201,
           "{\"ok\":true}");
    EXPECT(st, "POST", "/api/rooms", "{\"joinid\":\"482913\",\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"a\"}",
           409, "{\"error\":\"conflict\"}");
    assert_int_equal(call(st, "POST", "/api/rooms/accept", "{\"joinid\":\"482913\",\"client2\":77}", 0), 200);
    EXPECT(st, "POST", "/api/rooms/check", "{\"joinid\":482913,\"client1\":\"b\"}", 404,
           "{\"error\":\"not_found_or_expired\"}");
    assert_int_equal(call(st, "POST", "/api/rooms/check", "{\"joinid\":482913,\"client1\":\"a\"}", 0), 200);
}

static void test_invalid_json(void **state)
{
    struct store *st = *state;
    const char *const bodies[] = { "{", "not json", "[]", "\"joinid\"", "42", "null", "{\"a\":1}}",
                                   "{\"joinid\":\"\\u0000\"}" };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_int_equal(call(st, "POST", "/api/rooms", bodies[i], 0), 400);
        assert_string_equal(body_text, "{\"error\":\"invalid_json\"}");
    }
    EXPECT(st, "POST", "/api/rooms/accept", "{x}", 400, "{\"error\":\"invalid_json\"}");
    EXPECT(st, "DELETE", "/api/rooms", "nope", 400, "{\"error\":\"invalid_json\"}");
}

/* Over-long ids and timestamps that are not ISO-8601: invalid_field. */
static void test_invalid_fields(void **state)
{
    struct store *st = *state;
    char body[1024], id[300];
    memset(id, 'x', 257);
    id[257] = '\0';
    snprintf(body, sizeof(body), "{\"joinid\":\"%s\",\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"a\"}", id);
    EXPECT(st, "POST", "/api/rooms", body, 400, "{\"error\":\"invalid_field\"}");
    id[256] = '\0'; /* 256 bytes is still fine */
    snprintf(body, sizeof(body), "{\"joinid\":\"%s\",\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"a\"}", id);
    EXPECT(st, "POST", "/api/rooms", body, 201, "{\"ok\":true}");
    EXPECT(st, "POST", "/api/rooms", "{\"joinid\":\"T\",\"exp\":\"tomorrow\",\"client1\":\"a\"}", 400,
           "{\"error\":\"invalid_field\"}");
    EXPECT(st, "POST", "/api/rooms", "{\"joinid\":\"T\",\"exp\":\"2030-02-30T00:00:00Z\",\"client1\":\"a\"}", 400,
           "{\"error\":\"invalid_field\"}");
    /* Missing wins over invalid. */
    EXPECT(st, "POST", "/api/rooms", "{\"joinid\":\"T\",\"exp\":\"tomorrow\"}", 400, "{\"error\":\"missing_field\"}");
    char target[400];
    memset(id, 'y', 257);
    id[257] = '\0';
    snprintf(target, sizeof(target), "/api/rooms?roomid=%s", id);
    EXPECT(st, "GET", target, NULL, 400, "{\"error\":\"invalid_field\"}");
    EXPECT(st, "GET", "/api/rooms?roomid=a%00b", NULL, 400, "{\"error\":\"invalid_field\"}");
}

/* The query is percent-decoded ('+' is a space), the first roomid counts. */
static void test_query_decoding(void **state)
{
    struct store *st = *state;
    EXPECT(st, "POST", "/api/rooms", "{\"joinid\":\"Q\",\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"a b/é\"}", 201,
           "{\"ok\":true}");
    assert_int_equal(call(st, "POST", "/api/rooms/accept", "{\"joinid\":\"Q\",\"client2\":\"c&d\"}", 0), 200);
    char roomid[64], target[256], want[256];
    roomid_of(roomid, sizeof(roomid));
    snprintf(want, sizeof(want), "{\"roomid\":\"%s\",\"client1\":\"a b/é\",\"client2\":\"c&d\"}", roomid);
    snprintf(target, sizeof(target), "/api/rooms?x=1&roomid=%.8s%%2d%s&roomid=zzz", roomid, roomid + 9);
    EXPECT(st, "GET", target, NULL, 200, want);
    EXPECT(st, "GET", "/api/rooms?roomid=%zz", NULL, 404, "{\"error\":\"not_found\"}");
    EXPECT(st, "GET", "/api/rooms?roomid=a+b", NULL, 404, "{\"error\":\"not_found\"}");
}

static void test_methods_and_paths(void **state)
{
    struct store *st = *state;
    EXPECT(st, "PUT", "/api/rooms", "{}", 405, "{\"error\":\"method_not_allowed\"}");
    assert_string_equal(res.allow, "GET, HEAD, POST, DELETE, OPTIONS");
    EXPECT(st, "GET", "/api/rooms/accept", NULL, 405, "{\"error\":\"method_not_allowed\"}");
    assert_string_equal(res.allow, "POST, OPTIONS");
    EXPECT(st, "DELETE", "/api/user/purge", NULL, 405, "{\"error\":\"method_not_allowed\"}");
    EXPECT(st, "post", "/api/rooms/check", "{}", 405, "{\"error\":\"method_not_allowed\"}");
    EXPECT(st, "OPTIONS", "/api/rooms/check", NULL, 204, "");
    assert_true(res.preflight);
    assert_string_equal(res.allow, "POST, OPTIONS");
    EXPECT(st, "POST", "/API/Rooms/Check/", "{}", 400, "{\"error\":\"missing_field\"}");
    EXPECT(st, "POST", "/api/other", "{}", 404, "{\"error\":\"not_found\"}");
    assert_true(rest_is_api_path("/api/rooms/", 11));
    assert_true(rest_is_api_path("/api/user/purge", 15));
    assert_false(rest_is_api_path("/api/rooms//", 12));
    assert_false(rest_is_api_path("/api/roomsx", 11));
    assert_false(rest_is_api_path("/api/ice", 8));
}

static void test_too_large(void **state)
{
    size_t n = REST_BODY_MAX + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    assert_int_equal(call(*state, "POST", "/api/rooms", big, n), 413);
    assert_string_equal(body_text, "{\"error\":\"payload_too_large\"}");
    assert_int_equal(call(*state, "POST", "/api/rooms", big, n - 1), 400); /* at the limit it is parsed */
    free(big);
    rest_error(&res, 429, "rate_limited");
    assert_int_equal(res.status, 429);
    assert_int_equal(res.body_len, strlen("{\"error\":\"rate_limited\"}"));
}

/* Purge counts on a real file, and a storage failure is a 500 "internal"
 * after which the handler keeps working. */
static void test_file_purge_and_failure(void **state)
{
    (void)state;
    char dir[] = "/tmp/tincan-rest-XXXXXX", path[64], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/tincan.db", dir);
    struct store *st = store_open(path, err, sizeof(err));
    assert_non_null(st);
    const char *creates[] = {
        "{\"joinid\":\"P1\",\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"me\"}",
        "{\"joinid\":\"P2\",\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"me\"}",
        "{\"joinid\":\"P3\",\"exp\":\"2030-01-01T00:00:00Z\",\"client1\":\"other\"}",
    };
    for (int i = 0; i < 3; i++)
        assert_int_equal(call(st, "POST", "/api/rooms", creates[i], 0), 201);
    assert_int_equal(call(st, "POST", "/api/rooms/accept", "{\"joinid\":\"P1\",\"client2\":\"you\"}", 0), 200);
    assert_int_equal(call(st, "POST", "/api/rooms/accept", "{\"joinid\":\"P3\",\"client2\":\"me\"}", 0), 200);
    EXPECT(st, "POST", "/api/user/purge", "{\"deviceId\":\"me\"}", 200,
           "{\"ok\":true,\"roomsDeleted\":2,\"pendingsDeleted\":3}");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "ALTER TABLE rooms RENAME TO rooms_away", NULL, NULL, NULL), SQLITE_OK);
    EXPECT(st, "GET", "/api/rooms?roomid=x", NULL, 500, "{\"error\":\"internal\"}");
    EXPECT(st, "POST", "/api/user/purge", "{\"deviceId\":\"me\"}", 500, "{\"error\":\"internal\"}");
    assert_int_equal(sqlite3_exec(db, "ALTER TABLE rooms_away RENAME TO rooms", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    EXPECT(st, "GET", "/api/rooms?roomid=x", NULL, 404, "{\"error\":\"not_found\"}");
    store_close(st);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_example_sequence, setup_memory, teardown_store),
        cmocka_unit_test_setup_teardown(test_accept_unknown, setup_memory, teardown_store),
        cmocka_unit_test_setup_teardown(test_duplicate_create, setup_memory, teardown_store),
        cmocka_unit_test_setup_teardown(test_expired, setup_memory, teardown_store),
        cmocka_unit_test_setup_teardown(test_missing_fields, setup_memory, teardown_store),
        cmocka_unit_test_setup_teardown(test_numeric_ids, setup_memory, teardown_store),
        cmocka_unit_test_setup_teardown(test_invalid_json, setup_memory, teardown_store),
        cmocka_unit_test_setup_teardown(test_invalid_fields, setup_memory, teardown_store),
        cmocka_unit_test_setup_teardown(test_query_decoding, setup_memory, teardown_store),
        cmocka_unit_test_setup_teardown(test_methods_and_paths, setup_memory, teardown_store),
        cmocka_unit_test_setup_teardown(test_too_large, setup_memory, teardown_store),
        cmocka_unit_test_setup_teardown(test_file_purge_and_failure, setup_memory, teardown_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
