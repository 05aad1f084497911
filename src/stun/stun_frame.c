/*
 * stun_frame — what surrounds STUN messages on TURN's transports (see
 * stun.h): ChannelData messages (RFC 8656 §12.5), cutting a TCP or TLS
 * stream into STUN and ChannelData frames, telling datagrams apart by their
 * first byte (RFC 7983), and converting addresses to and from sockaddr.
 *
 * On a stream every ChannelData message is padded to a multiple of 4 bytes
 * and the padding is not counted in its length field; in a datagram the
 * padding is optional. A stream frame that cannot be parsed leaves no way to
 * find the next one, so stream callers close the connection on -1.
 */
#include "stun.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* True if a first byte can start a ChannelData message of a valid channel. */
static int channel_byte(uint8_t b)
{
    return b >= (STUN_CHANNEL_MIN >> 8) && b <= (STUN_CHANNEL_MAX >> 8);
}

int stun_channeldata_parse(const uint8_t *buf, size_t len, int stream, struct stun_channeldata *out)
{
    if (len > 0 && !channel_byte(buf[0]))
        return -1;
    if (len < STUN_CHANNELDATA_HEADER)
        return stream ? 0 : -1;
    size_t need = STUN_CHANNELDATA_HEADER + rd16(buf + 2);
    size_t used;
    if (stream) {
        used = (need + 3) & ~(size_t)3;
        if (len < used)
            return 0;
    } else {
        /* RFC 8656 §12.6 discards datagrams shorter than the claimed
         * length; more than 3 bytes after it cannot be padding. */
        if (len < need || len - need > 3)
            return -1;
        used = len;
    }
    out->channel = rd16(buf);
    out->data = buf + STUN_CHANNELDATA_HEADER;
    out->len = need - STUN_CHANNELDATA_HEADER;
    return (int)used;
}

int stun_channeldata_frame(uint8_t *buf, size_t cap, uint16_t channel, size_t len, int stream)
{
    if (channel < STUN_CHANNEL_MIN || channel > STUN_CHANNEL_MAX || len > 0xFFFF)
        return -1;
    size_t total = STUN_CHANNELDATA_HEADER + len;
    size_t padded = stream ? (total + 3) & ~(size_t)3 : total;
    if (padded > cap)
        return -1;
    buf[0] = (uint8_t)(channel >> 8);
    buf[1] = (uint8_t)channel;
    buf[2] = (uint8_t)(len >> 8);
    buf[3] = (uint8_t)len;
    memset(buf + total, 0, padded - total); /* never send stale bytes as padding */
    return (int)padded;
}

int stun_frame_len(const uint8_t *buf, size_t len)
{
    static const uint8_t cookie[4] = { 0x21, 0x12, 0xA4, 0x42 };
    struct stun_channeldata cd;
    if (len == 0)
        return 0;
    if ((buf[0] & 0xC0) == 0x40)
        return stun_channeldata_parse(buf, len, 1, &cd);
    if (buf[0] & 0xC0)
        return -1;
    /* Compare what has arrived of the cookie, so junk fails early. */
    for (size_t i = 4; i < 8 && i < len; i++) {
        if (buf[i] != cookie[i - 4])
            return -1;
    }
    if (len < 8)
        return 0;
    size_t body = rd16(buf + 2);
    if (body % 4)
        return -1;
    return len >= STUN_HEADER_LEN + body ? (int)(STUN_HEADER_LEN + body) : 0;
}

int stun_addr_from_sockaddr(struct stun_addr *out, const struct sockaddr *sa)
{
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        out->family = STUN_IPV4;
        out->port = ntohs(in->sin_port);
        memcpy(out->ip, &in->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        out->family = STUN_IPV6;
        out->port = ntohs(in6->sin6_port);
        memcpy(out->ip, &in6->sin6_addr, 16);
        return 0;
    }
    return -EAFNOSUPPORT;
}

socklen_t stun_addr_to_sockaddr(const struct stun_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == STUN_IPV4) {
        struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(a->port);
        memcpy(&in->sin_addr, a->ip, 4);
        return sizeof(*in);
    }
    if (a->family == STUN_IPV6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(a->port);
        memcpy(&in6->sin6_addr, a->ip, 16);
        return sizeof(*in6);
    }
    return 0;
}
