/*
 * rtp — RTP header and header-extension parsing, element readers and
 * in-place rewrites (see rtp.h).
 */
#include "rtp.h"

#include <errno.h>
#include <string.h>

#include "wire.h"

/* Adds one element to the index unless it is full; later elements were
 * still checked to fit, they are just not findable. */
static void add_ext(struct rtp_hdr *h, uint8_t id, size_t len, size_t off)
{
    if (h->nexts == RTP_MAX_EXT)
        return;
    h->exts[h->nexts++] = (struct rtp_ext){ .id = id, .len = (uint8_t)len, .off = (uint16_t)off };
}

/* RFC 8285 §4.2: each element is one byte (id << 4 | len - 1) and its
 * value. id 0 is a padding byte; id 15 stops the walk. */
static enum rtp_status parse_one_byte(struct rtp_hdr *h, size_t off, size_t end)
{
    while (off < end) {
        uint8_t id = h->buf[off] >> 4;
        size_t len = (size_t)(h->buf[off] & 0x0F) + 1;
        if (id == 0) {
            off++;
            continue;
        }
        if (id == 15)
            return RTP_OK;
        if (off + 1 + len > end)
            return RTP_BAD_EXT;
        add_ext(h, id, len, off + 1);
        off += 1 + len;
    }
    return RTP_OK;
}

/* RFC 8285 §4.3: an id byte, a length byte, the value. id 0 is a padding
 * byte with no length byte. */
static enum rtp_status parse_two_byte(struct rtp_hdr *h, size_t off, size_t end)
{
    while (off < end) {
        uint8_t id = h->buf[off];
        if (id == 0) {
            off++;
            continue;
        }
        if (off + 2 > end)
            return RTP_BAD_EXT;
        size_t len = h->buf[off + 1];
        if (off + 2 + len > end)
            return RTP_BAD_EXT;
        add_ext(h, id, len, off + 2);
        off += 2 + len;
    }
    return RTP_OK;
}

/* Reads the extension header at h->payload_off and moves payload_off past
 * the extension block. */
static enum rtp_status parse_extension(struct rtp_hdr *h, size_t end)
{
    size_t off = h->payload_off;
    if (off + 4 > end)
        return RTP_TOO_SHORT;
    h->ext_profile = wire_rd16(h->buf + off);
    size_t len = (size_t)wire_rd16(h->buf + off + 2) * 4;
    if (off + 4 + len > end)
        return RTP_TOO_SHORT;
    h->ext_off = (uint16_t)(off + 4);
    h->ext_len = (uint16_t)len;
    h->payload_off = off + 4 + len;
    if (h->ext_profile == RTP_EXT_ONE_BYTE) {
        h->ext_form = RTP_EXT_FORM_ONE;
        return parse_one_byte(h, off + 4, off + 4 + len);
    }
    if ((h->ext_profile & 0xFFF0) == RTP_EXT_TWO_BYTE) {
        h->ext_form = RTP_EXT_FORM_TWO;
        return parse_two_byte(h, off + 4, off + 4 + len);
    }
    h->ext_form = RTP_EXT_FORM_OTHER;
    return RTP_OK;
}

static void parse_fixed(const uint8_t *buf, struct rtp_hdr *h)
{
    h->padding = (buf[0] >> 5) & 1;
    h->extension = (buf[0] >> 4) & 1;
    h->cc = buf[0] & 0x0F;
    h->marker = buf[1] >> 7;
    h->pt = buf[1] & 0x7F;
    h->seq = wire_rd16(buf + 2);
    h->ts = wire_rd32(buf + 4);
    h->ssrc = wire_rd32(buf + 8);
}

enum rtp_status rtp_parse(const uint8_t *buf, size_t len, struct rtp_hdr *out)
{
    memset(out, 0, offsetof(struct rtp_hdr, exts));
    if (len < RTP_HEADER_LEN)
        return RTP_TOO_SHORT;
    if (buf[0] >> 6 != RTP_VERSION)
        return RTP_BAD_VERSION;
    /* Offsets are stored in 16 bits: a UDP datagram never needs more. */
    if (len > 0xFFFF)
        return RTP_TOO_SHORT;
    out->buf = buf;
    out->len = len;
    parse_fixed(buf, out);
    size_t end = len;
    if (out->padding) {
        out->pad_len = buf[len - 1];
        if (out->pad_len == 0 || out->pad_len > len - RTP_HEADER_LEN)
            return RTP_BAD_PADDING;
        end = len - out->pad_len;
    }
    out->payload_off = RTP_HEADER_LEN + (size_t)out->cc * 4;
    if (out->payload_off > end)
        return RTP_TOO_SHORT;
    if (out->extension) {
        enum rtp_status st = parse_extension(out, end);
        if (st != RTP_OK)
            return st;
    }
    out->payload_len = end - out->payload_off;
    return RTP_OK;
}

const char *rtp_strerror(enum rtp_status s)
{
    switch (s) {
    case RTP_OK: return "ok";
    case RTP_TOO_SHORT: return "too short";
    case RTP_BAD_VERSION: return "bad version";
    case RTP_BAD_PADDING: return "bad padding";
    case RTP_BAD_EXT: return "bad header extension";
    }
    return "unknown";
}

int rtp_is_rtcp(const uint8_t *buf, size_t len)
{
    return len >= 2 && buf[1] >= 192 && buf[1] <= 223;
}

uint32_t rtp_csrc(const struct rtp_hdr *h, size_t i)
{
    return wire_rd32(h->buf + RTP_HEADER_LEN + i * 4);
}

const struct rtp_ext *rtp_ext_find(const struct rtp_hdr *h, uint8_t id)
{
    for (size_t i = 0; i < h->nexts; i++) {
        if (h->exts[i].id == id && id != 0)
            return &h->exts[i];
    }
    return NULL;
}

/* The element with this id and a length in [min, max], as the readers'
 * contract says: -ENOENT or -EINVAL otherwise. */
static int find_len(const struct rtp_hdr *h, uint8_t id, size_t min, size_t max, const struct rtp_ext **e)
{
    *e = rtp_ext_find(h, id);
    if (!*e)
        return -ENOENT;
    if ((*e)->len < min || (*e)->len > max)
        return -EINVAL;
    return 0;
}

int rtp_ext_string(const struct rtp_hdr *h, uint8_t id, char *out, size_t cap)
{
    const struct rtp_ext *e;
    int rc = find_len(h, id, 1, RTP_STR_MAX, &e);
    if (rc)
        return rc;
    const uint8_t *v = rtp_ext_value(h, e);
    for (size_t i = 0; i < e->len; i++) {
        if (v[i] < 0x21 || v[i] > 0x7E)
            return -EINVAL;
    }
    if ((size_t)e->len + 1 > cap)
        return -ENOSPC;
    memcpy(out, v, e->len);
    out[e->len] = '\0';
    return 0;
}

int rtp_ext_abs_send_time(const struct rtp_hdr *h, uint8_t id, uint32_t *out)
{
    const struct rtp_ext *e;
    int rc = find_len(h, id, 3, 3, &e);
    if (rc == 0)
        *out = wire_rd24(rtp_ext_value(h, e));
    return rc;
}

int rtp_ext_transport_seq(const struct rtp_hdr *h, uint8_t id, uint16_t *out)
{
    const struct rtp_ext *e;
    int rc = find_len(h, id, 2, 2, &e);
    if (rc == 0)
        *out = wire_rd16(rtp_ext_value(h, e));
    return rc;
}

int rtp_ext_audio_level(const struct rtp_hdr *h, uint8_t id, uint8_t *level, int *voice)
{
    const struct rtp_ext *e;
    int rc = find_len(h, id, 1, 1, &e);
    if (rc)
        return rc;
    uint8_t b = rtp_ext_value(h, e)[0];
    *level = b & 0x7F;
    *voice = b >> 7;
    return 0;
}

void rtp_write_ssrc(uint8_t *pkt, uint32_t ssrc)
{
    wire_wr32(pkt + 8, ssrc);
}

void rtp_write_seq(uint8_t *pkt, uint16_t seq)
{
    wire_wr16(pkt + 2, seq);
}

void rtp_write_ts(uint8_t *pkt, uint32_t ts)
{
    wire_wr32(pkt + 4, ts);
}

void rtp_write_pt(uint8_t *pkt, uint8_t pt)
{
    pkt[1] = (uint8_t)((pkt[1] & 0x80) | (pt & 0x7F));
}

void rtp_write_marker(uint8_t *pkt, int marker)
{
    pkt[1] = (uint8_t)((pkt[1] & 0x7F) | (marker ? 0x80 : 0));
}

int rtp_write_abs_send_time(uint8_t *pkt, const struct rtp_ext *e, uint32_t v)
{
    if (e->len != 3)
        return -EINVAL;
    wire_wr24(pkt + e->off, v & 0xFFFFFF);
    return 0;
}

int rtp_write_transport_seq(uint8_t *pkt, const struct rtp_ext *e, uint16_t seq)
{
    if (e->len != 2)
        return -EINVAL;
    wire_wr16(pkt + e->off, seq);
    return 0;
}
