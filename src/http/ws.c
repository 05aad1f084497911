/*
 * ws — RFC 6455 handshake key, frame codec and message reader (see ws.h).
 */
#include "ws.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN + 1])
{
    uint8_t raw[20];
    if (key_len != WS_KEY_LEN || key[22] != '=' || key[23] != '=')
        return -1;
    for (size_t i = 0; i < 22; i++) {
        char c = key[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (!ok)
            return -1;
    }
    if (EVP_DecodeBlock(raw, (const unsigned char *)key, WS_KEY_LEN) != 18)
        return -1;
    char joined[WS_KEY_LEN + sizeof(ws_guid)];
    memcpy(joined, key, WS_KEY_LEN);
    memcpy(joined + WS_KEY_LEN, ws_guid, sizeof(ws_guid) - 1);
    SHA1((const unsigned char *)joined, WS_KEY_LEN + sizeof(ws_guid) - 1, raw);
    EVP_EncodeBlock((unsigned char *)out, raw, 20);
    out[WS_ACCEPT_LEN] = '\0';
    return 0;
}

int ws_frame_parse(const uint8_t *buf, size_t len, struct ws_frame *f)
{
    if (len < 2)
        return 0;
    f->fin = (buf[0] & 0x80) != 0;
    f->rsv = (buf[0] >> 4) & 0x7;
    f->opcode = (enum ws_opcode)(buf[0] & 0x0f);
    f->masked = (buf[1] & 0x80) != 0;
    uint64_t plen = buf[1] & 0x7f;
    size_t pos = 2;
    if (plen == 126) {
        if (len < 4)
            return 0;
        plen = ((uint64_t)buf[2] << 8) | buf[3];
        pos = 4;
    } else if (plen == 127) {
        if (len < 10)
            return 0;
        plen = 0;
        for (int i = 0; i < 8; i++)
            plen = (plen << 8) | buf[2 + i];
        if (plen >> 63)
            return -1;
        pos = 10;
    }
    if (f->masked) {
        if (len < pos + 4)
            return 0;
        memcpy(f->mask, buf + pos, 4);
        pos += 4;
    } else {
        memset(f->mask, 0, 4);
    }
    f->payload_len = plen;
    return (int)pos;
}

size_t ws_frame_header(uint8_t out[WS_MAX_HEADER], int fin, enum ws_opcode op, uint64_t payload_len)
{
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (op & 0x0f));
    if (payload_len < 126) {
        out[1] = (uint8_t)payload_len;
        return 2;
    }
    if (payload_len <= 0xffff) {
        out[1] = 126;
        out[2] = (uint8_t)(payload_len >> 8);
        out[3] = (uint8_t)payload_len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
    return 10;
}

void ws_mask(uint8_t *p, size_t len, const uint8_t mask[4], uint64_t off)
{
    for (size_t i = 0; i < len; i++)
        p[i] ^= mask[(off + i) & 3];
}

int ws_close_code_valid(unsigned code)
{
    if (code >= 3000 && code <= 4999)
        return 1;
    if (code < 1000 || code > 1014)
        return 0;
    return code != 1004 && code != 1005 && code != 1006;
}

void ws_reader_init(struct ws_reader *r, size_t max_message)
{
    r->max_message = max_message;
    buf_init(&r->frag, max_message);
    r->frag_op = WS_OP_CONT;
    utf8_init(&r->utf8);
}

void ws_reader_cleanup(struct ws_reader *r)
{
    buf_cleanup(&r->frag);
    r->frag_op = WS_OP_CONT;
}

static size_t fail(struct ws_event *ev, uint16_t code, size_t len)
{
    ev->type = WS_EV_ERROR;
    ev->code = code;
    ev->data = NULL;
    ev->len = 0;
    return len ? len : 1;
}

/* Checks what can be checked from the header alone; 0 or a close code. */
static uint16_t check_header(const struct ws_reader *r, const struct ws_frame *f)
{
    if (f->rsv || !f->masked)
        return WS_CLOSE_PROTOCOL;
    switch (f->opcode) {
    case WS_OP_CLOSE:
    case WS_OP_PING:
    case WS_OP_PONG:
        return (!f->fin || f->payload_len > 125) ? WS_CLOSE_PROTOCOL : 0;
    case WS_OP_TEXT:
    case WS_OP_BINARY:
        if (r->frag_op != WS_OP_CONT)
            return WS_CLOSE_PROTOCOL; /* a new message inside an open one */
        return f->payload_len > r->max_message ? WS_CLOSE_TOO_BIG : 0;
    case WS_OP_CONT:
        if (r->frag_op == WS_OP_CONT)
            return WS_CLOSE_PROTOCOL; /* nothing to continue */
        return f->payload_len > r->max_message - r->frag.len ? WS_CLOSE_TOO_BIG : 0;
    }
    return WS_CLOSE_PROTOCOL; /* reserved opcodes */
}

static void on_close(const uint8_t *p, size_t n, struct ws_event *ev)
{
    ev->type = WS_EV_CLOSE;
    ev->code = WS_CLOSE_NO_STATUS;
    ev->data = NULL;
    ev->len = 0;
    if (n == 0)
        return;
    unsigned code = n >= 2 ? ((unsigned)p[0] << 8) | p[1] : 0;
    if (n == 1 || !ws_close_code_valid(code)) {
        ev->type = WS_EV_ERROR;
        ev->code = WS_CLOSE_PROTOCOL;
        return;
    }
    if (utf8_validate(p + 2, n - 2) < 0) {
        ev->type = WS_EV_ERROR;
        ev->code = WS_CLOSE_BAD_DATA;
        return;
    }
    ev->code = (uint16_t)code;
    ev->data = p + 2;
    ev->len = n - 2;
}

/* A data frame: a whole message, the start of one, or a continuation. */
static int on_data(struct ws_reader *r, const struct ws_frame *f, const uint8_t *p, size_t n,
                   struct ws_event *ev)
{
    enum ws_opcode op = f->opcode == WS_OP_CONT ? r->frag_op : f->opcode;
    if (f->opcode != WS_OP_CONT)
        utf8_init(&r->utf8);
    if (op == WS_OP_TEXT && utf8_feed(&r->utf8, p, n) < 0)
        return WS_CLOSE_BAD_DATA;
    if (f->fin && op == WS_OP_TEXT && !utf8_complete(&r->utf8))
        return WS_CLOSE_BAD_DATA;
    if (f->fin && f->opcode != WS_OP_CONT) {
        *ev = (struct ws_event){ .type = WS_EV_MESSAGE, .opcode = op, .data = p, .len = n };
        return 0;
    }
    if (buf_append(&r->frag, p, n) < 0)
        return WS_CLOSE_TOO_BIG;
    r->frag_op = op;
    if (f->fin) {
        *ev = (struct ws_event){ .type = WS_EV_MESSAGE, .opcode = op,
                                 .data = buf_head(&r->frag), .len = r->frag.len };
        r->frag_op = WS_OP_CONT;
    }
    return 0;
}

size_t ws_reader_next(struct ws_reader *r, uint8_t *buf, size_t len, struct ws_event *ev)
{
    struct ws_frame f;
    memset(ev, 0, sizeof(*ev));
    if (r->frag_op == WS_OP_CONT && r->frag.len > 0)
        buf_cleanup(&r->frag); /* the last call returned an assembled message */
    int hlen = ws_frame_parse(buf, len, &f);
    if (hlen < 0)
        return fail(ev, WS_CLOSE_PROTOCOL, len);
    if (hlen == 0)
        return 0;
    uint16_t code = check_header(r, &f);
    if (code)
        return fail(ev, code, len);
    if (len - (size_t)hlen < f.payload_len)
        return 0;
    uint8_t *payload = buf + hlen;
    size_t n = (size_t)f.payload_len;
    size_t used = (size_t)hlen + n;
    ws_mask(payload, n, f.mask, 0);
    switch (f.opcode) {
    case WS_OP_PING:
        *ev = (struct ws_event){ .type = WS_EV_PING, .data = payload, .len = n };
        return used;
    case WS_OP_PONG:
        *ev = (struct ws_event){ .type = WS_EV_PONG, .data = payload, .len = n };
        return used;
    case WS_OP_CLOSE:
        on_close(payload, n, ev);
        return used;
    default:
        break;
    }
    code = (uint16_t)on_data(r, &f, payload, n, ev);
    if (code)
        return fail(ev, code, len);
    return used;
}
