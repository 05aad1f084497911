/*
 * fuzz_sfu_twcc_rx — libFuzzer target for the transport-cc feedback tincan
 * writes for publishers (src/sfu/twcc_rx.c).
 *
 * The input is a list of 5-byte records: a transport-wide sequence number
 * (2 bytes), a time step in µs (2 bytes, so pauses up to 65 ms; a step of
 * 0xFFFF means 10 s, past what a delta holds) and a flag byte (bit 0:
 * build a feedback after this packet; bit 1: into a buffer that is too
 * small). Every feedback must parse with rtcp_parse_twcc(), cover at most
 * SFU_TWCC_RX_MAX_FB packets, start where the previous one ended (or
 * later, when more than the window waited), end on
 * a received packet, and reproduce the arrival time kept for each packet
 * to within 250 µs.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sfu/rtcp.h"
#include "sfu/twcc_rx.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static struct sfu_twcc_rx rx;
static struct rtcp_twcc_packet pk[SFU_TWCC_RX_MAX_FB];
/* The arrival times the receiver kept for the packets a feedback is about
 * to cover (which arrival of a duplicated or wrapped seq counts is the
 * unit tests' business; here: that the feedback carries what was kept). */
static int64_t kept[SFU_TWCC_RX_MAX_FB];

/* How far receive time t is from arrival a (the 24-bit reference wraps
 * every 12 days: compared modulo that). */
static int64_t distance(int64_t a, int64_t t)
{
    const int64_t wrap = (int64_t)64000 << 24;
    int64_t err = (a - t) % wrap;
    if (err > wrap / 2)
        err -= wrap;
    if (err < -wrap / 2)
        err += wrap;
    return err < 0 ? -err : err;
}

static void check_feedback(const uint8_t *buf, size_t len, uint64_t base)
{
    struct rtcp_iter it;
    struct rtcp_pkt p;
    struct rtcp_twcc fb;
    rtcp_iter_init(&it, buf, len);
    CHECK(rtcp_iter_next(&it, &p) == RTCP_OK);
    CHECK(rtcp_parse_twcc(&p, &fb, pk, SFU_TWCC_RX_MAX_FB) == 0);
    CHECK(fb.status_count >= 1 && fb.status_count <= SFU_TWCC_RX_MAX_FB);
    CHECK(fb.base_seq == (uint16_t)base);
    int64_t t = (int64_t)fb.ref_time * 64000;
    int any = 0;
    for (size_t i = 0; i < fb.status_count; i++) {
        if (pk[i].status == RTCP_TWCC_NOT_RECEIVED)
            continue;
        t += (int64_t)pk[i].delta * 250;
        CHECK(kept[i] >= 0);
        CHECK(distance(kept[i], t) < 250); /* each delta is rounded toward zero from where the last left */
        any = 1;
    }
    CHECK(!any || pk[fb.status_count - 1].status != RTCP_TWCC_NOT_RECEIVED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[4096];
    sfu_twcc_rx_init(&rx);
    uint64_t now = 1000000;
    uint64_t reported = 0; /* unwrapped: one past the last packet reported */
    for (size_t off = 0; off + 5 <= size; off += 5) {
        uint16_t seq = (uint16_t)(data[off] << 8 | data[off + 1]);
        uint16_t step = (uint16_t)(data[off + 2] << 8 | data[off + 3]);
        now += step == 0xFFFF ? 10000000 : step;
        sfu_twcc_rx_packet(&rx, seq, now);
        if (!(data[off + 4] & 1))
            continue;
        uint64_t base = rx.base;
        for (size_t i = 0; i < SFU_TWCC_RX_MAX_FB; i++)
            kept[i] = rx.arrival_us[(base + i) % SFU_TWCC_RX_WINDOW];
        /* where the last ended, or later if the window dropped the oldest unreported */
        CHECK(base >= reported);
        int len = sfu_twcc_rx_build(&rx, 1, 2, buf, (data[off + 4] & 2) ? 24 : sizeof(buf), now / 1000);
        CHECK(len >= 0 || len == -ENOBUFS);
        if (len <= 0)
            continue;
        check_feedback(buf, (size_t)len, base);
        CHECK(rx.base > base && rx.base - base <= SFU_TWCC_RX_MAX_FB);
        reported = rx.base;
    }
    return 0;
}
