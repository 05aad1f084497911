/*
 * test_ws — the WebSocket codec and message reader (src/http/ws.c).
 *
 * Frame headers are checked byte for byte against the examples of RFC 6455
 * §5.7 and the accept key against §1.3. The reader is driven with masked
 * client frames built here and must produce the messages, control events and
 * close codes (1002, 1007, 1009) a server owes its peer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/ws.h"

static const uint8_t rfc_mask[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* Writes a client frame (masked when mask != NULL) into out; returns its size. */
static size_t frame(uint8_t *out, uint8_t first_byte, const void *payload, size_t n, const uint8_t *mask)
{
    size_t pos = 0;
    out[pos++] = first_byte;
    uint8_t m = mask ? 0x80 : 0;
    if (n < 126) {
        out[pos++] = (uint8_t)(m | n);
    } else if (n <= 0xffff) {
        out[pos++] = m | 126;
        out[pos++] = (uint8_t)(n >> 8);
        out[pos++] = (uint8_t)n;
    } else {
        out[pos++] = m | 127;
        for (int i = 7; i >= 0; i--)
            out[pos++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    if (mask) {
        memcpy(out + pos, mask, 4);
        pos += 4;
    }
    const uint8_t *p = payload;
    for (size_t i = 0; i < n; i++)
        out[pos + i] = mask ? (uint8_t)(p[i] ^ mask[i & 3]) : p[i];
    return pos + n;
}

/* A masked client frame with FIN set as given. */
static size_t cframe(uint8_t *out, int fin, enum ws_opcode op, const void *payload, size_t n)
{
    static const uint8_t mask[4] = { 0xa1, 0x5c, 0x03, 0xee };
    return frame(out, (uint8_t)((fin ? 0x80 : 0) | op), payload, n, mask);
}

/* Runs one ws_reader_next over a fresh reader and returns the event. */
static struct ws_event one_event(uint8_t *buf, size_t len, size_t max, size_t *used)
{
    struct ws_reader r;
    struct ws_event ev;
    ws_reader_init(&r, max);
    *used = ws_reader_next(&r, buf, len, &ev);
    ws_reader_cleanup(&r);
    return ev;
}

static void assert_error(uint8_t *buf, size_t len, size_t max, uint16_t code)
{
    size_t used;
    struct ws_event ev = one_event(buf, len, max, &used);
    assert_int_equal(ev.type, WS_EV_ERROR);
    assert_int_equal(ev.code, code);
    assert_true(used > 0);
}

/* --- RFC 6455 §5.7 examples --- */

static void test_rfc_unmasked_text(void **state)
{
    (void)state;
    uint8_t b[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    struct ws_frame f;
    assert_int_equal(ws_frame_parse(b, sizeof(b), &f), 2);
    assert_int_equal(f.fin, 1);
    assert_int_equal(f.rsv, 0);
    assert_int_equal(f.opcode, WS_OP_TEXT);
    assert_int_equal(f.masked, 0);
    assert_int_equal(f.payload_len, 5);
    assert_memory_equal(b + 2, "Hello", 5);
    /* A server must close the connection on an unmasked client frame. */
    assert_error(b, sizeof(b), 1024, WS_CLOSE_PROTOCOL);
}

static void test_rfc_masked_text(void **state)
{
    (void)state;
    uint8_t b[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    struct ws_frame f;
    assert_int_equal(ws_frame_parse(b, sizeof(b), &f), 6);
    assert_int_equal(f.masked, 1);
    assert_memory_equal(f.mask, rfc_mask, 4);
    assert_int_equal(f.payload_len, 5);
    size_t used;
    struct ws_event ev = one_event(b, sizeof(b), 1024, &used);
    assert_int_equal(used, sizeof(b));
    assert_int_equal(ev.type, WS_EV_MESSAGE);
    assert_int_equal(ev.opcode, WS_OP_TEXT);
    assert_int_equal(ev.len, 5);
    assert_memory_equal(ev.data, "Hello", 5);
}

static void test_rfc_fragmented_unmasked(void **state)
{
    (void)state;
    uint8_t a[] = { 0x01, 0x03, 0x48, 0x65, 0x6c };
    uint8_t b[] = { 0x80, 0x02, 0x6c, 0x6f };
    struct ws_frame f;
    assert_int_equal(ws_frame_parse(a, sizeof(a), &f), 2);
    assert_int_equal(f.fin, 0);
    assert_int_equal(f.opcode, WS_OP_TEXT);
    assert_int_equal(f.payload_len, 3);
    assert_int_equal(ws_frame_parse(b, sizeof(b), &f), 2);
    assert_int_equal(f.fin, 1);
    assert_int_equal(f.opcode, WS_OP_CONT);
    assert_int_equal(f.payload_len, 2);
}

static void test_rfc_ping_pong(void **state)
{
    (void)state;
    uint8_t ping[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    struct ws_frame f;
    assert_int_equal(ws_frame_parse(ping, sizeof(ping), &f), 2);
    assert_int_equal(f.fin, 1);
    assert_int_equal(f.opcode, WS_OP_PING);
    assert_int_equal(f.masked, 0);
    assert_int_equal(f.payload_len, 5);

    uint8_t pong[] = { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    assert_int_equal(ws_frame_parse(pong, sizeof(pong), &f), 6);
    assert_int_equal(f.opcode, WS_OP_PONG);
    assert_int_equal(f.masked, 1);
    size_t used;
    struct ws_event ev = one_event(pong, sizeof(pong), 1024, &used);
    assert_int_equal(used, sizeof(pong));
    assert_int_equal(ev.type, WS_EV_PONG);
    assert_int_equal(ev.len, 5);
    assert_memory_equal(ev.data, "Hello", 5);

    /* The same ping, masked, reaches the server as a ping event. */
    uint8_t mping[11];
    size_t n = frame(mping, 0x89, "Hello", 5, rfc_mask);
    ev = one_event(mping, n, 1024, &used);
    assert_int_equal(ev.type, WS_EV_PING);
    assert_int_equal(ev.len, 5);
    assert_memory_equal(ev.data, "Hello", 5);
}

static void test_rfc_binary_lengths(void **state)
{
    (void)state;
    uint8_t b256[] = { 0x82, 0x7E, 0x01, 0x00 };
    struct ws_frame f;
    assert_int_equal(ws_frame_parse(b256, sizeof(b256), &f), 4);
    assert_int_equal(f.opcode, WS_OP_BINARY);
    assert_int_equal(f.fin, 1);
    assert_int_equal(f.payload_len, 256);
    uint8_t b64k[] = { 0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00 };
    assert_int_equal(ws_frame_parse(b64k, sizeof(b64k), &f), 10);
    assert_int_equal(f.opcode, WS_OP_BINARY);
    assert_int_equal(f.payload_len, 65536);
    /* Masked variants are 4 bytes longer. */
    uint8_t m[] = { 0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4 };
    assert_int_equal(ws_frame_parse(m, sizeof(m), &f), 8);
    assert_int_equal(f.payload_len, 256);
    assert_int_equal(f.mask[3], 4);
}

static void test_frame_parse_partial_and_malformed(void **state)
{
    (void)state;
    static const uint8_t headers[][14] = {
        { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d },
        { 0x82, 0x7E, 0x01, 0x00 },
        { 0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4 },
        { 0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00 },
        { 0x82, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 9, 9, 9, 9 },
    };
    static const int lens[] = { 6, 4, 8, 10, 14 };
    for (size_t i = 0; i < 5; i++) {
        struct ws_frame f;
        for (int k = 0; k < lens[i]; k++)
            assert_int_equal(ws_frame_parse(headers[i], (size_t)k, &f), 0);
        assert_int_equal(ws_frame_parse(headers[i], (size_t)lens[i], &f), lens[i]);
    }
    /* A 64-bit length with the most significant bit set is invalid. */
    uint8_t top[] = { 0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0 };
    struct ws_frame f;
    assert_int_equal(ws_frame_parse(top, sizeof(top), &f), -1);
    assert_error(top, sizeof(top), 1024, WS_CLOSE_PROTOCOL);
    uint8_t rsv[] = { 0xC1, 0x80, 0, 0, 0, 0 };
    assert_int_equal(ws_frame_parse(rsv, sizeof(rsv), &f), 6);
    assert_int_equal(f.rsv, 4);
}

static void test_frame_header_bytes(void **state)
{
    (void)state;
    uint8_t out[WS_MAX_HEADER];
    assert_int_equal(ws_frame_header(out, 1, WS_OP_TEXT, 5), 2);
    assert_memory_equal(out, ((uint8_t[]){ 0x81, 0x05 }), 2);
    assert_int_equal(ws_frame_header(out, 0, WS_OP_TEXT, 3), 2);
    assert_memory_equal(out, ((uint8_t[]){ 0x01, 0x03 }), 2);
    assert_int_equal(ws_frame_header(out, 1, WS_OP_CONT, 2), 2);
    assert_memory_equal(out, ((uint8_t[]){ 0x80, 0x02 }), 2);
    assert_int_equal(ws_frame_header(out, 1, WS_OP_PING, 5), 2);
    assert_memory_equal(out, ((uint8_t[]){ 0x89, 0x05 }), 2);
    assert_int_equal(ws_frame_header(out, 1, WS_OP_PONG, 5), 2);
    assert_memory_equal(out, ((uint8_t[]){ 0x8a, 0x05 }), 2);
    assert_int_equal(ws_frame_header(out, 1, WS_OP_BINARY, 256), 4);
    assert_memory_equal(out, ((uint8_t[]){ 0x82, 0x7E, 0x01, 0x00 }), 4);
    assert_int_equal(ws_frame_header(out, 1, WS_OP_BINARY, 65536), 10);
    assert_memory_equal(out, ((uint8_t[]){ 0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00 }), 10);
    /* The boundaries between the three length encodings. */
    assert_int_equal(ws_frame_header(out, 1, WS_OP_CLOSE, 0), 2);
    assert_memory_equal(out, ((uint8_t[]){ 0x88, 0x00 }), 2);
    assert_int_equal(ws_frame_header(out, 1, WS_OP_TEXT, 125), 2);
    assert_int_equal(out[1], 125);
    assert_int_equal(ws_frame_header(out, 1, WS_OP_TEXT, 126), 4);
    assert_memory_equal(out, ((uint8_t[]){ 0x81, 0x7E, 0x00, 0x7E }), 4);
    assert_int_equal(ws_frame_header(out, 1, WS_OP_TEXT, 65535), 4);
    assert_memory_equal(out, ((uint8_t[]){ 0x81, 0x7E, 0xFF, 0xFF }), 4);
    assert_int_equal(ws_frame_header(out, 1, WS_OP_TEXT, 0x0102030405060708ull), 10);
    assert_memory_equal(out, ((uint8_t[]){ 0x81, 0x7F, 1, 2, 3, 4, 5, 6, 7, 8 }), 10);

    /* What the server writes, the parser reads back. */
    static const uint64_t lens[] = { 0, 1, 125, 126, 127, 65535, 65536, 1ull << 40 };
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        struct ws_frame f;
        size_t n = ws_frame_header(out, 1, WS_OP_BINARY, lens[i]);
        assert_int_equal(ws_frame_parse(out, n, &f), (int)n);
        assert_int_equal(f.payload_len, lens[i]);
        assert_int_equal(f.masked, 0);
    }
}

static void test_mask(void **state)
{
    (void)state;
    uint8_t p[] = { 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    ws_mask(p, sizeof(p), rfc_mask, 0);
    assert_memory_equal(p, "Hello", 5);
    /* Unmasking in two pieces with the right offset gives the same result. */
    uint8_t q[] = { 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    ws_mask(q, 3, rfc_mask, 0);
    ws_mask(q + 3, 2, rfc_mask, 3);
    assert_memory_equal(q, "Hello", 5);
}

/* --- handshake key, RFC 6455 §1.3 --- */

static void test_accept_key(void **state)
{
    (void)state;
    char out[WS_ACCEPT_LEN + 1];
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    assert_int_equal(ws_accept_key(key, strlen(key), out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

    static const char *const bad[] = {
        "",
        "dGhlIHNhbXBsZSBub25jZQ=",       /* 23 characters */
        "dGhlIHNhbXBsZSBub25jZQ==x",     /* 25 */
        "dGhlIHNhbXBsZSBub25jZQAA",      /* 18 bytes, not 16 */
        "dGhlIHNhbXBsZSBub25j*Q==",      /* not base64 */
        "dGhlIHNhbXBs ZSBub25jZQ=",
        "dGhlIHNhbXBsZSBub25jZ===",
        "=GhlIHNhbXBsZSBub25jZQ==",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ws_accept_key(bad[i], strlen(bad[i]), out) != -1)
            fail_msg("key '%s' accepted", bad[i]);
    }
    /* The length is what counts, not a terminating NUL. */
    assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==xyz", 24, out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* --- the reader --- */

/* Collects the events of buf through one reader, advancing over what it consumes. */
struct run {
    struct ws_event ev[16];
    uint8_t data[16][512];
    int n;
    size_t left; /* bytes not consumed */
};

static void run_reader(struct ws_reader *r, uint8_t *buf, size_t len, struct run *out)
{
    memset(out, 0, sizeof(*out));
    while (len > 0 && out->n < 16) {
        struct ws_event ev;
        size_t used = ws_reader_next(r, buf, len, &ev);
        if (used == 0) {
            assert_int_equal(ev.type, WS_EV_NONE);
            break;
        }
        assert_true(used <= len);
        if (ev.type != WS_EV_NONE) {
            if (ev.len) {
                assert_true(ev.len <= sizeof(out->data[0]));
                memcpy(out->data[out->n], ev.data, ev.len);
            }
            out->ev[out->n++] = ev;
        }
        buf += used;
        len -= used;
        if (ev.type == WS_EV_ERROR || ev.type == WS_EV_CLOSE)
            break;
    }
    out->left = len;
}

static void test_reader_fragments_with_ping(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = 0;
    n += cframe(buf + n, 0, WS_OP_TEXT, "Hel", 3);
    n += cframe(buf + n, 1, WS_OP_PING, "ping!", 5);
    n += cframe(buf + n, 0, WS_OP_CONT, "l", 1);
    n += cframe(buf + n, 1, WS_OP_CONT, "o", 1);
    n += cframe(buf + n, 1, WS_OP_BINARY, "\x00\xff", 2);
    struct ws_reader r;
    struct run run;
    ws_reader_init(&r, 64);
    run_reader(&r, buf, n, &run);
    assert_int_equal(run.left, 0);
    assert_int_equal(run.n, 3);
    assert_int_equal(run.ev[0].type, WS_EV_PING);
    assert_int_equal(run.ev[0].len, 5);
    assert_memory_equal(run.data[0], "ping!", 5);
    assert_int_equal(run.ev[1].type, WS_EV_MESSAGE);
    assert_int_equal(run.ev[1].opcode, WS_OP_TEXT);
    assert_int_equal(run.ev[1].len, 5);
    assert_memory_equal(run.data[1], "Hello", 5);
    assert_int_equal(run.ev[2].type, WS_EV_MESSAGE);
    assert_int_equal(run.ev[2].opcode, WS_OP_BINARY);
    assert_int_equal(run.ev[2].len, 2);
    assert_memory_equal(run.data[2], "\x00\xff", 2);
    ws_reader_cleanup(&r);
}

static void test_reader_second_fragmented_message(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = 0;
    n += cframe(buf + n, 0, WS_OP_BINARY, "ab", 2);
    n += cframe(buf + n, 1, WS_OP_CONT, "cd", 2);
    n += cframe(buf + n, 0, WS_OP_TEXT, "", 0);
    n += cframe(buf + n, 0, WS_OP_CONT, "x", 1);
    n += cframe(buf + n, 1, WS_OP_CONT, "yz", 2);
    n += cframe(buf + n, 1, WS_OP_TEXT, "", 0);
    struct ws_reader r;
    struct run run;
    ws_reader_init(&r, 64);
    run_reader(&r, buf, n, &run);
    assert_int_equal(run.left, 0);
    assert_int_equal(run.n, 3);
    assert_int_equal(run.ev[0].opcode, WS_OP_BINARY);
    assert_int_equal(run.ev[0].len, 4);
    assert_memory_equal(run.data[0], "abcd", 4);
    assert_int_equal(run.ev[1].opcode, WS_OP_TEXT);
    assert_int_equal(run.ev[1].len, 3);
    assert_memory_equal(run.data[1], "xyz", 3);
    assert_int_equal(run.ev[2].type, WS_EV_MESSAGE);
    assert_int_equal(run.ev[2].len, 0);
    ws_reader_cleanup(&r);
}

static void test_reader_continuation_without_start(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t n = cframe(buf, 1, WS_OP_CONT, "x", 1);
    assert_error(buf, n, 64, WS_CLOSE_PROTOCOL);
    n = cframe(buf, 0, WS_OP_CONT, "x", 1);
    assert_error(buf, n, 64, WS_CLOSE_PROTOCOL);
    /* Also after a complete fragmented message. */
    n = 0;
    n += cframe(buf + n, 0, WS_OP_TEXT, "a", 1);
    n += cframe(buf + n, 1, WS_OP_CONT, "b", 1);
    n += cframe(buf + n, 1, WS_OP_CONT, "c", 1);
    struct ws_reader r;
    struct run run;
    ws_reader_init(&r, 64);
    run_reader(&r, buf, n, &run);
    assert_int_equal(run.n, 2);
    assert_int_equal(run.ev[0].type, WS_EV_MESSAGE);
    assert_int_equal(run.ev[1].type, WS_EV_ERROR);
    assert_int_equal(run.ev[1].code, WS_CLOSE_PROTOCOL);
    ws_reader_cleanup(&r);
}

static void test_reader_new_message_inside_fragmented(void **state)
{
    (void)state;
    static const enum ws_opcode ops[] = { WS_OP_TEXT, WS_OP_BINARY };
    for (int i = 0; i < 2; i++) {
        uint8_t buf[64];
        size_t n = 0;
        n += cframe(buf + n, 0, WS_OP_TEXT, "a", 1);
        n += cframe(buf + n, 1, ops[i], "b", 1);
        struct ws_reader r;
        struct run run;
        ws_reader_init(&r, 64);
        run_reader(&r, buf, n, &run);
        assert_int_equal(run.n, 1);
        assert_int_equal(run.ev[0].type, WS_EV_ERROR);
        assert_int_equal(run.ev[0].code, WS_CLOSE_PROTOCOL);
        ws_reader_cleanup(&r);
    }
}

static void test_reader_reserved_opcodes_and_rsv(void **state)
{
    (void)state;
    uint8_t buf[64];
    static const uint8_t reserved[] = { 3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF };
    for (size_t i = 0; i < sizeof(reserved); i++) {
        size_t n = frame(buf, (uint8_t)(0x80 | reserved[i]), "x", 1, rfc_mask);
        assert_error(buf, n, 64, WS_CLOSE_PROTOCOL);
    }
    static const uint8_t rsv[] = { 0x40, 0x20, 0x10, 0x70 };
    for (size_t i = 0; i < sizeof(rsv); i++) {
        size_t n = frame(buf, (uint8_t)(0x80 | rsv[i] | WS_OP_TEXT), "x", 1, rfc_mask);
        assert_error(buf, n, 64, WS_CLOSE_PROTOCOL);
        n = frame(buf, (uint8_t)(0x80 | rsv[i] | WS_OP_PING), "", 0, rfc_mask);
        assert_error(buf, n, 64, WS_CLOSE_PROTOCOL);
    }
}

static void test_reader_control_frame_rules(void **state)
{
    (void)state;
    uint8_t buf[256];
    static const enum ws_opcode ops[] = { WS_OP_PING, WS_OP_PONG, WS_OP_CLOSE };
    for (int i = 0; i < 3; i++) {
        /* 126 bytes is one too many for a control frame. */
        uint8_t p[126];
        memset(p, 'x', sizeof(p));
        if (ops[i] == WS_OP_CLOSE) {
            p[0] = 0x03;
            p[1] = 0xe8;
        }
        size_t n = cframe(buf, 1, ops[i], p, 126);
        assert_error(buf, n, 4096, WS_CLOSE_PROTOCOL);
        /* Detected from the header alone, before the payload arrives. */
        assert_error(buf, 8, 4096, WS_CLOSE_PROTOCOL);
        /* Control frames must not be fragmented. */
        n = cframe(buf, 0, ops[i], "", 0);
        assert_error(buf, n, 4096, WS_CLOSE_PROTOCOL);
        /* 125 is allowed. */
        n = cframe(buf, 1, ops[i], p, 125);
        size_t used;
        struct ws_event ev = one_event(buf, n, 4096, &used);
        assert_int_equal(used, n);
        assert_int_not_equal(ev.type, WS_EV_ERROR);
    }
}

static void test_reader_too_big(void **state)
{
    (void)state;
    uint8_t payload[300], buf[1024];
    memset(payload, 'a', sizeof(payload));
    /* One frame, one byte over the limit. */
    size_t n = cframe(buf, 1, WS_OP_TEXT, payload, 101);
    assert_error(buf, n, 100, WS_CLOSE_TOO_BIG);
    /* The header alone (2 + 4 mask bytes) is enough to know. */
    assert_error(buf, 6, 100, WS_CLOSE_TOO_BIG);
    n = cframe(buf, 1, WS_OP_BINARY, payload, 101);
    assert_error(buf, n, 100, WS_CLOSE_TOO_BIG);
    /* A 64-bit length far beyond any limit. */
    uint8_t huge[] = { 0x82, 0xFF, 0, 0, 0x01, 0, 0, 0, 0, 0, 1, 2, 3, 4 };
    assert_error(huge, sizeof(huge), 65536, WS_CLOSE_TOO_BIG);
    /* Exactly the limit is fine. */
    n = cframe(buf, 1, WS_OP_TEXT, payload, 100);
    size_t used;
    struct ws_event ev = one_event(buf, n, 100, &used);
    assert_int_equal(ev.type, WS_EV_MESSAGE);
    assert_int_equal(ev.len, 100);

    /* Across fragments: 60 + 40 fits, 60 + 41 does not. */
    struct ws_reader r;
    struct run run;
    n = cframe(buf, 0, WS_OP_TEXT, payload, 60);
    n += cframe(buf + n, 1, WS_OP_CONT, payload, 40);
    ws_reader_init(&r, 100);
    run_reader(&r, buf, n, &run);
    assert_int_equal(run.n, 1);
    assert_int_equal(run.ev[0].type, WS_EV_MESSAGE);
    assert_int_equal(run.ev[0].len, 100);
    ws_reader_cleanup(&r);

    n = cframe(buf, 0, WS_OP_BINARY, payload, 60);
    n += cframe(buf + n, 0, WS_OP_CONT, payload, 30);
    n += cframe(buf + n, 1, WS_OP_CONT, payload, 11);
    ws_reader_init(&r, 100);
    run_reader(&r, buf, n, &run);
    assert_int_equal(run.n, 1);
    assert_int_equal(run.ev[0].type, WS_EV_ERROR);
    assert_int_equal(run.ev[0].code, WS_CLOSE_TOO_BIG);
    ws_reader_cleanup(&r);

    /* The limit applies to each message, not to the connection. */
    n = 0;
    for (int i = 0; i < 3; i++) {
        n += cframe(buf + n, 0, WS_OP_BINARY, payload, 50);
        n += cframe(buf + n, 1, WS_OP_CONT, payload, 50);
    }
    ws_reader_init(&r, 100);
    run_reader(&r, buf, n, &run);
    assert_int_equal(run.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(run.ev[i].type, WS_EV_MESSAGE);
        assert_int_equal(run.ev[i].len, 100);
    }
    ws_reader_cleanup(&r);
}

static void test_reader_utf8(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = cframe(buf, 1, WS_OP_TEXT, "a\xff", 2);
    assert_error(buf, n, 64, WS_CLOSE_BAD_DATA);
    n = cframe(buf, 1, WS_OP_TEXT, "\xed\xa0\x80", 3); /* a surrogate */
    assert_error(buf, n, 64, WS_CLOSE_BAD_DATA);
    n = cframe(buf, 1, WS_OP_TEXT, "\xe2\x82", 2);     /* ends mid-character */
    assert_error(buf, n, 64, WS_CLOSE_BAD_DATA);
    /* Binary messages are not UTF-8 checked. */
    n = cframe(buf, 1, WS_OP_BINARY, "\xff\xfe", 2);
    size_t used;
    struct ws_event ev = one_event(buf, n, 64, &used);
    assert_int_equal(ev.type, WS_EV_MESSAGE);

    /* A 3-byte character (U+20AC) split over two fragments is valid. */
    struct ws_reader r;
    struct run run;
    n = cframe(buf, 0, WS_OP_TEXT, "x\xe2", 2);
    n += cframe(buf + n, 1, WS_OP_PING, "", 0);
    n += cframe(buf + n, 0, WS_OP_CONT, "\x82", 1);
    n += cframe(buf + n, 1, WS_OP_CONT, "\xac", 1);
    ws_reader_init(&r, 64);
    run_reader(&r, buf, n, &run);
    assert_int_equal(run.left, 0);
    assert_int_equal(run.n, 2);
    assert_int_equal(run.ev[1].type, WS_EV_MESSAGE);
    assert_int_equal(run.ev[1].len, 4);
    assert_memory_equal(run.data[1], "x\xe2\x82\xac", 4);
    ws_reader_cleanup(&r);

    /* Split, but the continuation is not a continuation byte. */
    n = cframe(buf, 0, WS_OP_TEXT, "\xe2", 1);
    n += cframe(buf + n, 1, WS_OP_CONT, "A", 1);
    ws_reader_init(&r, 64);
    run_reader(&r, buf, n, &run);
    assert_int_equal(run.n, 1);
    assert_int_equal(run.ev[0].type, WS_EV_ERROR);
    assert_int_equal(run.ev[0].code, WS_CLOSE_BAD_DATA);
    ws_reader_cleanup(&r);

    /* Every fragment valid so far, but the message ends mid-character. */
    n = cframe(buf, 0, WS_OP_TEXT, "ok", 2);
    n += cframe(buf + n, 1, WS_OP_CONT, "\xf0\x9f\x98", 3);
    ws_reader_init(&r, 64);
    run_reader(&r, buf, n, &run);
    assert_int_equal(run.n, 1);
    assert_int_equal(run.ev[0].type, WS_EV_ERROR);
    assert_int_equal(run.ev[0].code, WS_CLOSE_BAD_DATA);
    ws_reader_cleanup(&r);

    /* Invalid bytes in the first fragment are caught before the message ends. */
    n = cframe(buf, 0, WS_OP_TEXT, "\xc0\x80", 2);
    assert_error(buf, n, 64, WS_CLOSE_BAD_DATA);
}

static struct ws_event close_event(const void *payload, size_t n, uint8_t *store)
{
    size_t len = cframe(store, 1, WS_OP_CLOSE, payload, n), used;
    struct ws_event ev = one_event(store, len, 1024, &used);
    assert_int_equal(used, len);
    return ev;
}

static void test_reader_close(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct ws_event ev = close_event("", 0, buf);
    assert_int_equal(ev.type, WS_EV_CLOSE);
    assert_int_equal(ev.code, WS_CLOSE_NO_STATUS);
    assert_int_equal(ev.len, 0);

    ev = close_event("\x03\xe8" "bye", 5, buf);
    assert_int_equal(ev.type, WS_EV_CLOSE);
    assert_int_equal(ev.code, 1000);
    assert_int_equal(ev.len, 3);
    assert_memory_equal(ev.data, "bye", 3);

    ev = close_event("\x0f\xa0", 2, buf); /* 4000, application range */
    assert_int_equal(ev.type, WS_EV_CLOSE);
    assert_int_equal(ev.code, 4000);

    ev = close_event("\x03", 1, buf);
    assert_int_equal(ev.type, WS_EV_ERROR);
    assert_int_equal(ev.code, WS_CLOSE_PROTOCOL);

    static const unsigned bad_codes[] = { 0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535 };
    for (size_t i = 0; i < sizeof(bad_codes) / sizeof(bad_codes[0]); i++) {
        uint8_t p[2] = { (uint8_t)(bad_codes[i] >> 8), (uint8_t)bad_codes[i] };
        ev = close_event(p, 2, buf);
        if (ev.type != WS_EV_ERROR || ev.code != WS_CLOSE_PROTOCOL)
            fail_msg("close code %u: event %d code %u", bad_codes[i], ev.type, ev.code);
    }

    ev = close_event("\x03\xe8\xff", 3, buf);
    assert_int_equal(ev.type, WS_EV_ERROR);
    assert_int_equal(ev.code, WS_CLOSE_BAD_DATA);
    ev = close_event("\x03\xe8\xe2\x82", 4, buf);
    assert_int_equal(ev.type, WS_EV_ERROR);
    assert_int_equal(ev.code, WS_CLOSE_BAD_DATA);
}

static void test_close_code_valid(void **state)
{
    (void)state;
    static const unsigned good[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999 };
    static const unsigned bad[] = { 0, 999, 1004, 1005, 1006, 1015, 1100, 2999, 5000 };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(ws_close_code_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ws_close_code_valid(bad[i]));
}

static void test_reader_partial(void **state)
{
    (void)state;
    uint8_t payload[300];
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)('a' + i % 26);
    static const size_t sizes[] = { 0, 5, 125, 126, 300 };
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        uint8_t ref[400], buf[400];
        size_t n = cframe(ref, 1, WS_OP_TEXT, payload, sizes[s]);
        struct ws_reader r;
        ws_reader_init(&r, 1024);
        for (size_t k = 0; k < n; k++) {
            struct ws_event ev;
            memcpy(buf, ref, n);
            assert_int_equal(ws_reader_next(&r, buf, k, &ev), 0);
            assert_int_equal(ev.type, WS_EV_NONE);
            /* Nothing was unmasked in place while waiting. */
            assert_memory_equal(buf, ref, n);
        }
        struct ws_event ev;
        memcpy(buf, ref, n);
        assert_int_equal(ws_reader_next(&r, buf, n, &ev), n);
        assert_int_equal(ev.type, WS_EV_MESSAGE);
        assert_int_equal(ev.len, sizes[s]);
        if (sizes[s])
            assert_memory_equal(ev.data, payload, sizes[s]);
        ws_reader_cleanup(&r);
    }
    /* An incomplete frame after a complete one. */
    uint8_t buf[64];
    size_t a = cframe(buf, 1, WS_OP_TEXT, "one", 3);
    size_t b = cframe(buf + a, 1, WS_OP_TEXT, "two", 3);
    struct ws_reader r;
    struct run run;
    ws_reader_init(&r, 64);
    run_reader(&r, buf, a + b - 1, &run);
    assert_int_equal(run.n, 1);
    assert_int_equal(run.left, b - 1);
    ws_reader_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_unmasked_text),
        cmocka_unit_test(test_rfc_masked_text),
        cmocka_unit_test(test_rfc_fragmented_unmasked),
        cmocka_unit_test(test_rfc_ping_pong),
        cmocka_unit_test(test_rfc_binary_lengths),
        cmocka_unit_test(test_frame_parse_partial_and_malformed),
        cmocka_unit_test(test_frame_header_bytes),
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_accept_key),
        cmocka_unit_test(test_reader_fragments_with_ping),
        cmocka_unit_test(test_reader_second_fragmented_message),
        cmocka_unit_test(test_reader_continuation_without_start),
        cmocka_unit_test(test_reader_new_message_inside_fragmented),
        cmocka_unit_test(test_reader_reserved_opcodes_and_rsv),
        cmocka_unit_test(test_reader_control_frame_rules),
        cmocka_unit_test(test_reader_too_big),
        cmocka_unit_test(test_reader_utf8),
        cmocka_unit_test(test_reader_close),
        cmocka_unit_test(test_close_code_valid),
        cmocka_unit_test(test_reader_partial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
