/*
 * ws — the WebSocket protocol (RFC 6455) without I/O.
 *
 * Three layers, each pure:
 *  - the handshake: ws_accept_key() computes Sec-WebSocket-Accept;
 *  - frames: ws_frame_parse() reads one frame header, ws_frame_header()
 *    writes one;
 *  - messages: struct ws_reader turns a stream of client frames into
 *    messages, pings, pongs and a close, enforcing the rules a server must:
 *    client frames are masked, control frames are short and whole, text is
 *    UTF-8, a message fits the limit, continuation frames continue something.
 *    A violation yields the close code to send (1002, 1007, 1009).
 */
#ifndef TINCAN_WS_H
#define TINCAN_WS_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/utf8.h"

enum ws_opcode {
    WS_OP_CONT = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA,
};

enum ws_close_code {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL = 1002,
    WS_CLOSE_NO_STATUS = 1005,
    WS_CLOSE_BAD_DATA = 1007,
    WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_INTERNAL = 1011,
};

#define WS_KEY_LEN 24          /* base64 of 16 bytes */
#define WS_ACCEPT_LEN 28       /* base64 of a SHA-1 */
#define WS_MAX_HEADER 14

struct ws_frame {
    int fin;
    int rsv;                  /* RSV1-3 bits; nonzero is an error without extensions */
    enum ws_opcode opcode;
    int masked;
    uint8_t mask[4];
    uint64_t payload_len;
};

/* Writes the Sec-WebSocket-Accept value for key (NUL-terminated) into out
 * (WS_ACCEPT_LEN + 1 bytes). Returns 0, or -1 if key is not 24 base64
 * characters that decode to 16 bytes. */
int ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN + 1]);

/* Parses a frame header. Returns its length (2..14) when complete, 0 when
 * more bytes are needed, -1 when the header is malformed (64-bit length with
 * the top bit set). Payload bytes follow the header in buf. */
int ws_frame_parse(const uint8_t *buf, size_t len, struct ws_frame *f);
/* Writes an unmasked (server) frame header into out; returns its length. */
size_t ws_frame_header(uint8_t out[WS_MAX_HEADER], int fin, enum ws_opcode op, uint64_t payload_len);
/* XORs len bytes at p with mask, starting at payload offset off. */
void ws_mask(uint8_t *p, size_t len, const uint8_t mask[4], uint64_t off);

enum ws_event_type {
    WS_EV_NONE,
    WS_EV_MESSAGE,   /* data/len: a whole text or binary message */
    WS_EV_PING,      /* data/len: ping payload to echo in a pong */
    WS_EV_PONG,
    WS_EV_CLOSE,     /* code (1005 if none) and reason; reply and close */
    WS_EV_ERROR,     /* code: the close code to send; then close */
};

struct ws_event {
    enum ws_event_type type;
    enum ws_opcode opcode;   /* WS_OP_TEXT or WS_OP_BINARY for messages */
    const uint8_t *data;
    size_t len;
    uint16_t code;
};

struct ws_reader {
    size_t max_message;
    struct buf frag;          /* a fragmented message being assembled */
    enum ws_opcode frag_op;   /* WS_OP_CONT when no fragmented message is open */
    struct utf8_state utf8;
};

/* Prepares a reader that accepts messages up to max_message bytes. */
void ws_reader_init(struct ws_reader *r, size_t max_message);
/* Frees the fragment buffer. */
void ws_reader_cleanup(struct ws_reader *r);
/* Takes the next event from buf[0..len). Unmasks the payload in place.
 * Returns the bytes consumed (> 0) with *ev filled, or 0 when a whole frame
 * has not arrived yet (ev->type == WS_EV_NONE). After WS_EV_ERROR or
 * WS_EV_CLOSE the stream is over. Event data stays valid until the next
 * call and until buf changes. */
size_t ws_reader_next(struct ws_reader *r, uint8_t *buf, size_t len, struct ws_event *ev);
/* True for close codes a peer may send (RFC 6455 §7.4). */
int ws_close_code_valid(unsigned code);

#endif
