/*
 * fuzz_jsonscan — for any JSON object jansson accepts, cutting a member
 * found by jsonscan leaves valid JSON equal to the object without it.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signal/jsonscan.h"

static void check(const char *text, size_t len, json_t *obj, const char *key)
{
    size_t start, end;
    enum jsonscan_result r = jsonscan_member(text, len, key, &start, &end);
    if (r == JSONSCAN_ESCAPED)
        return;
    if (r == JSONSCAN_BAD)
        abort(); /* a valid object must be understood */
    if ((r == JSONSCAN_FOUND) != (json_object_get(obj, key) != NULL))
        abort();
    if (r != JSONSCAN_FOUND)
        return;
    char *cut = malloc(len + 1);
    memcpy(cut, text, start);
    memcpy(cut + start, text + end, len - end);
    json_error_t err;
    json_t *got = json_loadb(cut, len - (end - start), 0, &err);
    json_t *want = json_deep_copy(obj);
    json_object_del(want, key);
    if (!got || !json_equal(got, want))
        abort();
    json_decref(got);
    json_decref(want);
    free(cut);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t err;
    json_t *obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
    if (obj && json_is_object(obj)) {
        check((const char *)data, size, obj, "target");
        check((const char *)data, size, obj, "from");
    }
    json_decref(obj);
    return 0;
}
