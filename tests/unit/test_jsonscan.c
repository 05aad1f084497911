/*
 * test_jsonscan — top-level member spans in JSON text (src/signal/jsonscan.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "signal/jsonscan.h"

/* Cuts key out of text and returns the rest (static buffer). */
static const char *without(const char *text, const char *key, enum jsonscan_result *res)
{
    static char out[1024];
    size_t start = 0, end = 0, len = strlen(text);
    *res = jsonscan_member(text, len, key, &start, &end);
    if (*res != JSONSCAN_FOUND)
        return NULL;
    snprintf(out, sizeof(out), "%.*s%s", (int)start, text, text + end);
    return out;
}

/* The cut text must still parse, without the key, with everything else equal. */
static void assert_cut(const char *text, const char *key, const char *expect)
{
    enum jsonscan_result res;
    const char *out = without(text, key, &res);
    assert_int_equal(res, JSONSCAN_FOUND);
    json_error_t err;
    json_t *got = json_loads(out, 0, &err), *want = json_loads(expect, 0, &err);
    assert_non_null(got);
    assert_non_null(want);
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
}

static void test_positions(void **state)
{
    (void)state;
    assert_cut("{\"target\":\"a\",\"type\":\"offer\"}", "target", "{\"type\":\"offer\"}");
    assert_cut("{\"type\":\"offer\",\"target\":\"a\"}", "target", "{\"type\":\"offer\"}");
    assert_cut("{\"type\":\"offer\",\"target\":\"a\",\"sdp\":{\"x\":1}}", "target",
               "{\"type\":\"offer\",\"sdp\":{\"x\":1}}");
    assert_cut(" { \"type\" : \"offer\" , \"target\" : \"a\" } ", "target", "{\"type\":\"offer\"}");
    assert_cut("{\"target\":\"a\"}", "target", "{}");
}

/* Keys inside nested values and strings that look like keys are not members. */
static void test_nested_and_strings(void **state)
{
    (void)state;
    const char *t = "{\"sdp\":{\"target\":\"inner\",\"a\":[1,{\"target\":2}]},\"note\":\"\\\"target\\\":1\","
                    "\"target\":\"outer\",\"n\":-1.5e3,\"b\":true,\"z\":null}";
    assert_cut(t, "target",
               "{\"sdp\":{\"target\":\"inner\",\"a\":[1,{\"target\":2}]},\"note\":\"\\\"target\\\":1\","
               "\"n\":-1.5e3,\"b\":true,\"z\":null}");
    size_t s, e;
    assert_int_equal(jsonscan_member("{\"sdp\":{\"from\":1}}", 18, "from", &s, &e), JSONSCAN_ABSENT);
    assert_int_equal(jsonscan_member("{}", 2, "from", &s, &e), JSONSCAN_ABSENT);
}

/* An escaped key could decode to "from": the caller must take the slow path. */
static void test_escaped_keys(void **state)
{
    (void)state;
    size_t s, e;
    const char *t = "{\"type\":\"offer\",\"fr\\u006fm\":\"spoof\"}";
    assert_int_equal(jsonscan_member(t, strlen(t), "from", &s, &e), JSONSCAN_ESCAPED);
    assert_int_equal(jsonscan_member("[1]", 3, "from", &s, &e), JSONSCAN_BAD);
    assert_int_equal(jsonscan_member("{\"a\" 1}", 7, "a", &s, &e), JSONSCAN_BAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_nested_and_strings),
        cmocka_unit_test(test_escaped_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
