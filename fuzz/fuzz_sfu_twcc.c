/*
 * fuzz_sfu_twcc — libFuzzer target for the sending side of transport-cc
 * and the estimate (src/sfu/twcc.c, src/sfu/bwe.c).
 *
 * The first byte chooses the path, the rest is one datagram in a heap
 * block of exactly its size:
 *  - even: a subscriber's compound RTCP. Its transport-cc feedback is
 *    matched against a send history (packets 0-4095 sent 1 ms apart) and
 *    fed to an estimator, and its REMB too; every sample must be a packet
 *    of the history with its recorded send time and size, and the
 *    estimate must stay within [SFU_BWE_MIN_BPS, SFU_BWE_MAX_BPS].
 *  - odd: an RTP packet; if it parses, sfu_twcc_stamp() must give a packet
 *    that parses with the same header fields and payload, whose
 *    transport-wide sequence number and abs-send-time read back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/bwe.h"
#include "sfu/rtcp.h"
#include "sfu/rtp.h"
#include "sfu/twcc.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static struct sfu_twcc hist;
static struct sfu_bwe bwe;
static struct rtcp_twcc_packet pkts[1 << 16];
static struct sfu_twcc_sample samples[1 << 16];

static void feedback(const struct rtcp_pkt *p, uint64_t now_ms)
{
    struct rtcp_twcc fb;
    struct rtcp_remb remb;
    if (rtcp_parse_remb(p, &remb) == 0)
        sfu_bwe_remb(&bwe, remb.bitrate, now_ms);
    if (rtcp_parse_twcc(p, &fb, pkts, sizeof(pkts) / sizeof(pkts[0])) != 0)
        return;
    size_t n = sfu_twcc_feedback(&hist, &fb, pkts, fb.status_count, samples, sizeof(samples) / sizeof(samples[0]));
    CHECK(n <= fb.status_count);
    for (size_t i = 0; i < n; i++) {
        CHECK(samples[i].send_us >= 1000000 && samples[i].send_us < 1000000 + 1000 * SFU_TWCC_HISTORY);
        uint16_t seq = (uint16_t)((samples[i].send_us - 1000000) / 1000);
        CHECK(samples[i].size == 100 + seq % 1000);
    }
    sfu_bwe_feedback(&bwe, samples, n, now_ms);
}

static void rtcp_path(const uint8_t *buf, size_t size)
{
    if (!hist.hist[0].valid) {
        sfu_twcc_init(&hist, 0);
        for (size_t i = 0; i < SFU_TWCC_HISTORY; i++)
            sfu_twcc_sent(&hist, 100 + i % 1000, 1000000 + 1000 * i);
    }
    sfu_bwe_init(&bwe);
    struct rtcp_iter it;
    struct rtcp_pkt p;
    uint64_t now = 5000;
    rtcp_iter_init(&it, buf, size);
    while (rtcp_iter_next(&it, &p) == RTCP_OK) {
        feedback(&p, now);
        now += 100;
        uint64_t e = sfu_bwe_estimate(&bwe);
        CHECK(e >= (uint64_t)SFU_BWE_MIN_BPS && e <= (uint64_t)SFU_BWE_MAX_BPS);
    }
}

static void rtp_path(const uint8_t *buf, size_t size)
{
    struct rtp_hdr h, o;
    static uint8_t out[70000];
    if (rtp_parse(buf, size, &h) != RTP_OK)
        return;
    int n = sfu_twcc_stamp(out, sizeof(out), &h, 3, 0xA55A, 14, 0x89ABCD);
    CHECK(n > 0);
    CHECK(rtp_parse(out, (size_t)n, &o) == RTP_OK);
    CHECK(o.seq == h.seq && o.ts == h.ts && o.ssrc == h.ssrc && o.pt == h.pt && o.cc == h.cc);
    CHECK(o.payload_len == h.payload_len && memcmp(o.buf + o.payload_off, h.buf + h.payload_off, h.payload_len) == 0);
    uint16_t seq;
    uint32_t ast;
    CHECK(rtp_ext_transport_seq(&o, 3, &seq) == 0 && seq == 0xA55A);
    CHECK(rtp_ext_abs_send_time(&o, 14, &ast) == 0 && ast == 0x89ABCD);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t *buf = malloc(size - 1 ? size - 1 : 1);
    memcpy(buf, data + 1, size - 1);
    if (data[0] & 1)
        rtp_path(buf, size - 1);
    else
        rtcp_path(buf, size - 1);
    free(buf);
    return 0;
}
