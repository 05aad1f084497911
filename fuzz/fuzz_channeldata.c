/*
 * fuzz_channeldata — libFuzzer target for ChannelData framing and for
 * cutting a TURN stream into frames (src/stun/stun_frame.c).
 *
 * The input is read twice: as one UDP datagram, and as the bytes of a TCP
 * stream. It is copied into a heap block of exactly its size, so
 * AddressSanitizer catches any read past the end. Properties checked:
 *  - a datagram parses whole or not at all: its channel is in range, its
 *    data lies right after the header, at most 3 bytes follow it, and the
 *    UDP demultiplexer (net/udp_demux) calls it ChannelData;
 *  - a stream message is consumed in multiples of 4, its data lies inside
 *    what was consumed, and every shorter prefix asks for more bytes;
 *  - datagram and stream agree on the channel and the data;
 *  - stun_frame_len() cuts the stream into frames each of which its own
 *    parser accepts at exactly that length;
 *  - stun_channeldata_frame() writes back the same header, zero padding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/udp_demux.h"
#include "stun/stun.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void check_datagram(const uint8_t *buf, size_t size)
{
    struct stun_channeldata cd;
    int rc = stun_channeldata_parse(buf, size, 0, &cd);
    CHECK(rc == -1 || rc == (int)size);
    if (rc < 0)
        return;
    CHECK(cd.channel >= STUN_CHANNEL_MIN && cd.channel <= STUN_CHANNEL_MAX);
    CHECK(cd.data == buf + 4 && cd.len + 4 <= size && size - 4 - cd.len <= 3);
    CHECK(udp_demux(buf, size) == UDP_KIND_CHANNELDATA);
    /* The stream view of the same bytes: the same message, or a need for
     * the padding that did not come. */
    struct stun_channeldata s;
    size_t padded = (cd.len + 4 + 3) & ~(size_t)3;
    int n = stun_channeldata_parse(buf, size, 1, &s);
    CHECK(n == (size >= padded ? (int)padded : 0));
    if (n > 0)
        CHECK(s.channel == cd.channel && s.len == cd.len && s.data == cd.data);
    /* Writing the header back gives the same four bytes. */
    uint8_t *out = malloc(padded);
    memcpy(out + 4, cd.data, cd.len);
    CHECK(stun_channeldata_frame(out, padded, cd.channel, cd.len, 1) == (int)padded);
    CHECK(memcmp(out, buf, 4) == 0);
    for (size_t i = 4 + cd.len; i < padded; i++)
        CHECK(out[i] == 0);
    free(out);
}

static void check_stream_message(const uint8_t *buf, size_t size)
{
    struct stun_channeldata cd;
    int rc = stun_channeldata_parse(buf, size, 1, &cd);
    CHECK(rc >= -1 && rc <= (int)size);
    if (rc <= 0)
        return;
    CHECK(rc % 4 == 0 && rc >= 4);
    CHECK(cd.data == buf + 4 && cd.len + 4 <= (size_t)rc && (size_t)rc - cd.len - 4 <= 3);
    size_t cuts[] = { 0, 1, 3, 4, (size_t)rc / 2, (size_t)rc - 1 };
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        if (cuts[i] < (size_t)rc)
            CHECK(stun_channeldata_parse(buf, cuts[i], 1, &cd) == 0);
    }
}

/* Walks the input as a TURN stream, frame by frame. */
static void check_stream_frames(const uint8_t *buf, size_t size)
{
    size_t pos = 0;
    while (pos < size) {
        int n = stun_frame_len(buf + pos, size - pos);
        CHECK(n >= -1 && n <= (int)(size - pos));
        if (n <= 0)
            break;
        const uint8_t *f = buf + pos;
        struct stun_channeldata cd;
        struct stun_msg m;
        if ((f[0] & 0xC0) == 0x40) {
            CHECK(stun_channeldata_parse(f, (size_t)n, 1, &cd) == n);
        } else {
            CHECK(n >= STUN_HEADER_LEN && n % 4 == 0);
            CHECK(stun_msg_decode(f, (size_t)n, &m) != STUN_NOT_STUN);
        }
        pos += (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    check_datagram(buf, size);
    check_stream_message(buf, size);
    check_stream_frames(buf, size);
    free(buf);
    return 0;
}
