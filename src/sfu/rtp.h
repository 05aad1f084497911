/*
 * rtp — the RTP fixed header (RFC 3550 §5.1) and its header extensions
 * (RFC 8285), parsed zero-copy, plus in-place rewrites for forwarding.
 *
 * The SFU reads every media packet once after SRTP unprotect: rtp_parse()
 * checks the framing and fills a struct rtp_hdr that points into the
 * caller's bytes (which must outlive it). Header extension elements are
 * indexed by offset, so the index stays valid for a copy of the packet:
 * the forwarding path copies a packet per subscriber and rewrites SSRC,
 * sequence number, timestamp, abs-send-time and transport-wide sequence
 * number in the copy with the rtp_write_*() functions.
 *
 * The extension ids are not fixed: SDP's a=extmap lines map them to URIs
 * (sdp.h), and the caller passes the negotiated id to the readers here.
 * No I/O, no allocation.
 */
#ifndef TINCAN_SFU_RTP_H
#define TINCAN_SFU_RTP_H

#include <stddef.h>
#include <stdint.h>

#define RTP_HEADER_LEN 12
#define RTP_VERSION 2
#define RTP_MAX_EXT 16          /* extension elements indexed; later ones are checked, not indexed */
#define RTP_EXT_ONE_BYTE 0xBEDE /* RFC 8285 §4.2 "defined by profile" value */
#define RTP_EXT_TWO_BYTE 0x1000 /* RFC 8285 §4.3, low 4 bits are "appbits" */
#define RTP_STR_MAX 255         /* longest mid/rid value a two-byte element can carry */

enum rtp_status {
    RTP_OK,
    RTP_TOO_SHORT,    /* fewer than 12 bytes, or the CSRC list or extension runs past the end */
    RTP_BAD_VERSION,  /* version is not 2 */
    RTP_BAD_PADDING,  /* padding count 0 or longer than what follows the header */
    RTP_BAD_EXT,      /* a one- or two-byte extension element runs past the extension block */
};

/* The form of the header extension block, if any. */
enum rtp_ext_form {
    RTP_EXT_NONE,
    RTP_EXT_FORM_ONE,   /* profile 0xBEDE: ids 1-14, 1-16 bytes each */
    RTP_EXT_FORM_TWO,   /* profile 0x100X: ids 1-255, 0-255 bytes each */
    RTP_EXT_FORM_OTHER, /* another profile: carried, not indexed */
};

/* One extension element: its value is the packet's bytes [off, off+len). */
struct rtp_ext {
    uint8_t id;
    uint8_t len;
    uint16_t off;
};

/* A parsed RTP packet; a view into the caller's buffer. */
struct rtp_hdr {
    const uint8_t *buf;
    size_t len;               /* whole packet */
    uint8_t padding;          /* P bit */
    uint8_t extension;        /* X bit */
    uint8_t cc;               /* CSRC count, 0-15 */
    uint8_t marker;
    uint8_t pt;               /* payload type, 0-127 */
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    enum rtp_ext_form ext_form;
    uint16_t ext_profile;     /* the 16-bit "defined by profile" field */
    uint16_t ext_off, ext_len;/* extension data (after its 4-byte header) */
    size_t payload_off;       /* after header, CSRCs and extension */
    size_t payload_len;       /* without padding */
    uint8_t pad_len;          /* padding bytes at the end, count included */
    size_t nexts;             /* indexed elements (padding bytes are not elements) */
    struct rtp_ext exts[RTP_MAX_EXT]; /* last: rtp_parse() clears only what precedes it */
};

/* Parses the RTP packet buf[0..len) (after SRTP unprotect). Returns RTP_OK
 * with *out filled, or why it is not a well-formed RTP packet. For one- and
 * two-byte extensions every element must fit inside the extension block;
 * id 0 is padding, and an id 15 in the one-byte form ends the block (RFC
 * 8285 §4.2). The payload may be empty. Never reads outside buf[0..len). */
enum rtp_status rtp_parse(const uint8_t *buf, size_t len, struct rtp_hdr *out);
/* A constant name for a status, for logs. */
const char *rtp_strerror(enum rtp_status s);

/* True if the datagram, already known to be RTP or RTCP (first byte
 * 128-191), is RTCP: its second byte is 192-223, which covers the RTCP
 * packet types 192-223 and is unused by RTP payload types with the marker
 * set (RFC 5761 §4). */
int rtp_is_rtcp(const uint8_t *buf, size_t len);

/* The i-th CSRC (i < h->cc). */
uint32_t rtp_csrc(const struct rtp_hdr *h, size_t i);

/* The first indexed element with this id, or NULL (id 0 is never found). */
const struct rtp_ext *rtp_ext_find(const struct rtp_hdr *h, uint8_t id);
static inline const uint8_t *rtp_ext_value(const struct rtp_hdr *h, const struct rtp_ext *e)
{
    return h->buf + e->off;
}

/* The readers below return 0 with the value, -ENOENT if the packet has no
 * element with that id, or -EINVAL if the element's length is wrong. */

/* A text element (sdes:mid, sdes:rtp-stream-id, repaired-rtp-stream-id):
 * 1-RTP_STR_MAX printable ASCII bytes (0x21-0x7E), copied into out with a
 * terminating NUL. -ENOSPC if out (cap bytes) is too small. */
int rtp_ext_string(const struct rtp_hdr *h, uint8_t id, char *out, size_t cap);
/* abs-send-time: 3 bytes, seconds in 6.18 fixed point (24 bits). */
int rtp_ext_abs_send_time(const struct rtp_hdr *h, uint8_t id, uint32_t *out);
/* transport-wide-cc-01 sequence number: 2 bytes. */
int rtp_ext_transport_seq(const struct rtp_hdr *h, uint8_t id, uint16_t *out);
/* ssrc-audio-level (RFC 6464): 1 byte; *level is -dBov 0-127 (0 loudest,
 * 127 silence) and *voice the V flag. */
int rtp_ext_audio_level(const struct rtp_hdr *h, uint8_t id, uint8_t *level, int *voice);

/* In-place rewrites of a packet that rtp_parse() accepted, or of a copy of
 * it: pkt must hold at least RTP_HEADER_LEN bytes (and e's bytes). */
void rtp_write_ssrc(uint8_t *pkt, uint32_t ssrc);
void rtp_write_seq(uint8_t *pkt, uint16_t seq);
void rtp_write_ts(uint8_t *pkt, uint32_t ts);
void rtp_write_pt(uint8_t *pkt, uint8_t pt);
void rtp_write_marker(uint8_t *pkt, int marker);
/* Overwrite an element's value found in the parsed packet. Return 0, or
 * -EINVAL if its length is not 3 (abs-send-time) or 2 (transport seq). */
int rtp_write_abs_send_time(uint8_t *pkt, const struct rtp_ext *e, uint32_t v);
int rtp_write_transport_seq(uint8_t *pkt, const struct rtp_ext *e, uint16_t seq);

/* Sequence-number order with wrap-around (RFC 1982 serial arithmetic):
 * true if a comes after b. */
static inline int rtp_seq_newer(uint16_t a, uint16_t b)
{
    return a != b && (uint16_t)(a - b) < 0x8000;
}

#endif
