/*
 * sniff — first-byte demultiplexing (see sniff.h).
 *
 * TLS is recognised by its content type 0x16 (handshake) alone, so one
 * byte decides and a client is never kept waiting on the sniffer. STUN message types below 0x4000 put 0x00 or 0x01 in the first byte,
 * which no TLS record or HTTP method starts with; the cookie confirms it.
 * HTTP methods are upper-case tokens, so an ASCII capital letter is enough
 * to hand the bytes to the HTTP parser, which rejects what is not HTTP.
 */
#include "sniff.h"

enum sniff_result sniff_classify(const uint8_t *buf, size_t len, int allow_tls)
{
    if (len == 0)
        return SNIFF_NEED_MORE;
    uint8_t b0 = buf[0];
    if (allow_tls && b0 == 0x16)
        return SNIFF_TLS; /* nothing else starts with 0x16; the TLS stack rejects what is not TLS */
    if (b0 >= 'A' && b0 <= 'Z')
        return SNIFF_HTTP;
    if ((b0 & 0xC0) == 0 && b0 <= 0x03) {
        if (len < SNIFF_MAX_BYTES)
            return SNIFF_NEED_MORE;
        uint32_t cookie = ((uint32_t)buf[4] << 24) | ((uint32_t)buf[5] << 16) |
                          ((uint32_t)buf[6] << 8) | buf[7];
        return cookie == SNIFF_STUN_COOKIE ? SNIFF_STUN : SNIFF_UNKNOWN;
    }
    return SNIFF_UNKNOWN;
}

const char *sniff_name(enum sniff_result r)
{
    static const char *const names[] = { "need_more", "tls", "http", "stun", "unknown" };
    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}
