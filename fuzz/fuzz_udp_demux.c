/*
 * fuzz_udp_demux — libFuzzer target for the main UDP port's demultiplexer
 * (src/net/udp_demux.c).
 *
 * The input is copied into a heap block of exactly its size, so
 * AddressSanitizer catches any read past the end. Properties checked:
 *  - every datagram gets exactly one kind, and the kind agrees with the
 *    first byte's RFC 7983 range;
 *  - a USERNAME found lies inside the message the header announces;
 *  - ICE is only ever a Binding request with a USERNAME, and whatever the
 *    STUN decoder accepts with a USERNAME agrees on its value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/udp_demux.h"
#include "stun/stun.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void check_range(const uint8_t *buf, size_t size, enum udp_kind k)
{
    CHECK(k < UDP_KINDS);
    if (size == 0) {
        CHECK(k == UDP_KIND_OTHER);
        return;
    }
    uint8_t b = buf[0];
    if (b <= 3)
        CHECK(k == UDP_KIND_STUN || k == UDP_KIND_ICE);
    else if (b >= 20 && b <= 63)
        CHECK(k == UDP_KIND_DTLS);
    else if (b >= 64 && b <= 127)
        CHECK(k == UDP_KIND_CHANNELDATA);
    else if (b >= 128 && b <= 191)
        CHECK(k == UDP_KIND_RTP);
    else
        CHECK(k == UDP_KIND_OTHER);
}

static void check_username(const uint8_t *buf, size_t size, enum udp_kind k)
{
    const uint8_t *user;
    size_t ulen;
    int rc = udp_demux_username(buf, size, &user, &ulen);
    if (rc == 0) {
        size_t end = STUN_HEADER_LEN + (((size_t)buf[2] << 8) | buf[3]);
        CHECK(end <= size && user >= buf + STUN_HEADER_LEN + 4 && user + ulen <= buf + end);
    }
    if (k == UDP_KIND_ICE)
        CHECK(rc == 0 && buf[0] == 0 && buf[1] == 1);
    struct stun_msg m;
    struct stun_str s;
    if (rc == 0 && stun_msg_decode(buf, size, &m) == STUN_OK && stun_msg_str(&m, STUN_ATTR_USERNAME, &s) == 0)
        CHECK(s.p == user && s.len == ulen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    enum udp_kind k = udp_demux(buf, size);
    check_range(buf, size, k);
    check_username(buf, size, k);
    free(buf);
    return 0;
}
