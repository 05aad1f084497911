/*
 * udp_demux — what a datagram on the main UDP port is (see udp_demux.h).
 */
#include "udp_demux.h"

/* The little of STUN (RFC 8489 §5, §14.3) that routing needs; the codec
 * itself lives in src/stun, a layer above this one. */
#define STUN_HEADER_LEN 20
#define STUN_BINDING_REQUEST 0x0001
#define STUN_ATTR_USERNAME 0x0006

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

int udp_demux_username(const uint8_t *buf, size_t len, const uint8_t **user, size_t *userlen)
{
    if (len < STUN_HEADER_LEN || (buf[0] & 0xC0) != 0)
        return -1;
    size_t end = STUN_HEADER_LEN + rd16(buf + 2);
    if (end > len)
        return -1;
    size_t pos = STUN_HEADER_LEN;
    while (pos + 4 <= end) {
        uint16_t type = rd16(buf + pos), alen = rd16(buf + pos + 2);
        if (pos + 4 + alen > end)
            return -1;
        if (type == STUN_ATTR_USERNAME) {
            *user = buf + pos + 4;
            *userlen = alen;
            return 0;
        }
        pos += 4 + (((size_t)alen + 3) & ~(size_t)3);
    }
    return -1;
}

static enum udp_kind stun_kind(const uint8_t *buf, size_t len)
{
    const uint8_t *user;
    size_t ulen;
    if (len < STUN_HEADER_LEN)
        return UDP_KIND_STUN; /* too short for a check; the STUN server drops it */
    if (rd16(buf) == STUN_BINDING_REQUEST && udp_demux_username(buf, len, &user, &ulen) == 0)
        return UDP_KIND_ICE;
    return UDP_KIND_STUN;
}

enum udp_kind udp_demux(const uint8_t *buf, size_t len)
{
    if (len == 0)
        return UDP_KIND_OTHER;
    uint8_t b = buf[0];
    if (b <= 3)
        return stun_kind(buf, len);
    if (b >= 20 && b <= 63)
        return UDP_KIND_DTLS;
    if (b >= 64 && b <= 127)
        return UDP_KIND_CHANNELDATA;
    if (b >= 128 && b <= 191)
        return UDP_KIND_RTP;
    return UDP_KIND_OTHER;
}

const char *udp_kind_name(enum udp_kind kind)
{
    static const char *const names[UDP_KINDS] = {
        [UDP_KIND_STUN] = "stun", [UDP_KIND_ICE] = "ice", [UDP_KIND_DTLS] = "dtls",
        [UDP_KIND_CHANNELDATA] = "channeldata", [UDP_KIND_RTP] = "rtp", [UDP_KIND_OTHER] = "other",
    };
    return kind < UDP_KINDS ? names[kind] : "other";
}
