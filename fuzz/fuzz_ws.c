/*
 * fuzz_ws — libFuzzer target for the WebSocket frame parser and message
 * reader (src/http/ws.c).
 *
 * The input is a stream of client bytes. It is copied into a heap block of
 * exactly its size (the reader unmasks in place, and AddressSanitizer then
 * catches any access past the end) and run through a ws_reader with a small
 * max_message until it needs more bytes or reports an error or a close.
 * Properties checked:
 *  - consumed counts stay within the input; events are well formed
 *    (messages within the limit, text messages valid UTF-8, close codes
 *    valid, error codes one of 1002/1007/1009);
 *  - the same bytes arriving in pieces give the same events as arriving at
 *    once (pieces cut at points derived from the input);
 *  - ws_frame_header() output parses back to the same header.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "http/ws.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

#define MAX_MESSAGE 200
#define MAX_EVENTS 256

struct rec {
    enum ws_event_type type;
    enum ws_opcode opcode;
    uint16_t code;
    size_t len;
    uint32_t hash;
};

static uint32_t fnv(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void check_event(const struct ws_event *ev)
{
    switch (ev->type) {
    case WS_EV_MESSAGE:
        CHECK(ev->opcode == WS_OP_TEXT || ev->opcode == WS_OP_BINARY);
        CHECK(ev->len <= MAX_MESSAGE);
        if (ev->opcode == WS_OP_TEXT)
            CHECK(utf8_validate(ev->data, ev->len) == 0);
        break;
    case WS_EV_PING:
    case WS_EV_PONG:
        CHECK(ev->len <= 125);
        break;
    case WS_EV_CLOSE:
        CHECK(ev->code == WS_CLOSE_NO_STATUS || ws_close_code_valid(ev->code));
        CHECK(ev->len <= 123);
        CHECK(utf8_validate(ev->data, ev->len) == 0);
        break;
    case WS_EV_ERROR:
        CHECK(ev->code == WS_CLOSE_PROTOCOL || ev->code == WS_CLOSE_BAD_DATA || ev->code == WS_CLOSE_TOO_BIG);
        break;
    case WS_EV_NONE:
        break;
    }
    if (ev->len)
        CHECK(ev->data != NULL);
}

static void record(struct rec *out, int *n, const struct ws_event *ev)
{
    check_event(ev);
    if (ev->type == WS_EV_NONE || *n >= MAX_EVENTS)
        return;
    out[*n] = (struct rec){ ev->type, ev->opcode, ev->code, ev->len,
                            ev->type == WS_EV_ERROR ? 0 : fnv(ev->data, ev->len) };
    (*n)++;
}

/* Feeds data all at once. */
static int run_whole(const uint8_t *data, size_t size, struct rec *out)
{
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct ws_reader r;
    ws_reader_init(&r, MAX_MESSAGE);
    int n = 0;
    size_t pos = 0;
    while (pos < size) {
        struct ws_event ev;
        size_t used = ws_reader_next(&r, buf + pos, size - pos, &ev);
        CHECK(used <= size - pos);
        if (used == 0) {
            CHECK(ev.type == WS_EV_NONE);
            break;
        }
        record(out, &n, &ev);
        pos += used;
        if (ev.type == WS_EV_ERROR || ev.type == WS_EV_CLOSE)
            break;
    }
    ws_reader_cleanup(&r);
    free(buf);
    return n;
}

/* Feeds data the way a socket might deliver it: the window of received
 * bytes grows by step each time the reader needs more. */
static int run_pieces(const uint8_t *data, size_t size, size_t step, struct rec *out)
{
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct ws_reader r;
    ws_reader_init(&r, MAX_MESSAGE);
    int n = 0;
    size_t pos = 0, avail = step < size ? step : size;
    for (;;) {
        struct ws_event ev;
        size_t used = pos < avail ? ws_reader_next(&r, buf + pos, avail - pos, &ev) : 0;
        if (used == 0) {
            if (avail == size)
                break;
            avail = avail + step < size ? avail + step : size;
            continue;
        }
        record(out, &n, &ev);
        pos += used;
        if (ev.type == WS_EV_ERROR || ev.type == WS_EV_CLOSE)
            break;
    }
    ws_reader_cleanup(&r);
    free(buf);
    return n;
}

static void check_frame_codec(const uint8_t *data, size_t size)
{
    struct ws_frame f;
    int h = ws_frame_parse(data, size, &f);
    CHECK(h == -1 || h == 0 || (h >= 2 && h <= WS_MAX_HEADER && (size_t)h <= size));
    if (h <= 0)
        return;
    uint8_t out[WS_MAX_HEADER];
    size_t n = ws_frame_header(out, f.fin, f.opcode, f.payload_len);
    CHECK(n >= 2 && n <= 10);
    struct ws_frame g;
    CHECK(ws_frame_parse(out, n, &g) == (int)n);
    CHECK(g.fin == f.fin && g.opcode == f.opcode && g.payload_len == f.payload_len);
    CHECK(g.rsv == 0 && g.masked == 0);
    /* Every shorter prefix of a header needs more bytes. */
    for (int k = 0; k < h; k++)
        CHECK(ws_frame_parse(data, (size_t)k, &g) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rec a[MAX_EVENTS], b[MAX_EVENTS];
    check_frame_codec(data, size);
    if (size == WS_KEY_LEN) {
        char accept[WS_ACCEPT_LEN + 1];
        if (ws_accept_key((const char *)data, size, accept) == 0)
            CHECK(strlen(accept) == WS_ACCEPT_LEN);
    }
    int na = run_whole(data, size, a);
    size_t step = size ? 1 + data[size - 1] % 17 : 1;
    int nb = run_pieces(data, size, step, b);
    CHECK(na == nb);
    for (int i = 0; i < na; i++) {
        CHECK(a[i].type == b[i].type);
        CHECK(a[i].code == b[i].code);
        if (a[i].type != WS_EV_ERROR) {
            CHECK(a[i].opcode == b[i].opcode);
            CHECK(a[i].len == b[i].len);
            CHECK(a[i].hash == b[i].hash);
        }
    }
    return 0;
}
