/*
 * test_sfu_bwe — transport-wide sequence numbers and feedback matching
 * (src/sfu/twcc.c), the per-subscriber bandwidth estimate (src/sfu/bwe.c)
 * and the active speaker (src/sfu/speaker.c): feedback parsed from bytes
 * to samples, our extension block written into a packet and read back,
 * a delay ramp that makes the estimate fall (but not under the floor of
 * the lowest layers), a quiet link that lets it
 * rise (but not past what was acknowledged plus headroom), heavy loss,
 * REMB, the allocator (audio never cut, layers before videos, lowest
 * priority first, screen shares last, no flapping) and speaker
 * hysteresis.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sfu/alloc.h"
#include "sfu/bwe.h"
#include "sfu/rtcp.h"
#include "sfu/rtp.h"
#include "sfu/speaker.h"
#include "sfu/twcc.h"
#include "sfu/wire.h"

/* --- twcc --- */

/* transport-cc feedback for base 100, 4 packets: received, lost, received,
 * received (a status vector chunk of 2-bit symbols 1, 0, 1, 2) with deltas
 * 4 (1 ms), 8 (2 ms) and the large -4 (-1 ms), built by hand from the
 * draft's layout. */
static size_t build_fb(uint8_t *b)
{
    static const uint8_t fb[] = {
        0x8F, 205, 0x00, 0x06,             /* V=2 FMT=15 PT=205 length 6 */
        0, 0, 0, 1, 0, 0, 0, 2,            /* sender, media SSRC */
        0x00, 100, 0x00, 4,                /* base 100, status count 4 */
        0x00, 0x00, 0x10, 0x07,            /* reference time 16 (1.024 s), fb count 7 */
        0xD1, 0x80,                        /* SV chunk, 2-bit symbols 01 00 01 10 00 00 00 */
        4, 8, 0xFF, 0xFC, 0, 0,            /* deltas 1, 2 (small), -4 (large); padding */
    };
    memcpy(b, fb, sizeof(fb));
    return sizeof(fb);
}

static void test_twcc_feedback(void **state)
{
    (void)state;
    static struct sfu_twcc t;
    sfu_twcc_init(&t, 98);
    for (int i = 0; i < 6; i++)
        assert_int_equal(sfu_twcc_sent(&t, 1000 + (size_t)i, 5000000 + (uint64_t)i * 1000), 98 + i);
    uint8_t b[64];
    size_t len = build_fb(b);
    struct rtcp_iter it;
    struct rtcp_pkt p;
    rtcp_iter_init(&it, b, len);
    assert_int_equal(rtcp_iter_next(&it, &p), RTCP_OK);
    struct rtcp_twcc fb;
    struct rtcp_twcc_packet pk[8];
    assert_int_equal(rtcp_parse_twcc(&p, &fb, pk, 8), 0);
    struct sfu_twcc_sample s[8];
    assert_int_equal(sfu_twcc_feedback(&t, &fb, pk, fb.status_count, s, 8), 4);
    assert_int_equal(s[0].send_us, 5002000); /* seq 100 was the third sent */
    assert_int_equal(s[0].size, 1002);
    assert_true(s[0].received);
    assert_int_equal(s[0].recv_us, 1024000 + 1000);
    assert_false(s[1].received);
    assert_int_equal(s[2].recv_us, 1024000 + 3000);
    assert_int_equal(s[3].recv_us, 1024000 + 2000);
    /* A packet we never sent (or long overwritten) gives no sample. */
    pk[0].seq = 7;
    assert_int_equal(sfu_twcc_feedback(&t, &fb, pk, 1, s, 8), 0);
}

static void test_twcc_stamp(void **state)
{
    (void)state;
    /* A publisher packet with its own one-byte extensions (mid, audio level). */
    uint8_t pkt[] = {
        0x90, 111, 0x12, 0x34, 0, 0, 0, 9, 0xAA, 0xBB, 0xCC, 0xDD,
        0xBE, 0xDE, 0x00, 0x02, 0x10, '0', 0x30, 0x85, 0x00, 0x00, 0x00, 0x00,
        'o', 'p', 'u', 's',
    };
    struct rtp_hdr h, o;
    assert_int_equal(rtp_parse(pkt, sizeof(pkt), &h), RTP_OK);
    uint8_t out[64];
    int n = sfu_twcc_stamp(out, sizeof(out), &h, 5, 0xBEEF, 2, 0x123456);
    assert_int_equal(n, 12 + 4 + 8 + 4);
    assert_int_equal(rtp_parse(out, (size_t)n, &o), RTP_OK);
    uint16_t seq;
    uint32_t ast;
    assert_int_equal(rtp_ext_transport_seq(&o, 5, &seq), 0);
    assert_int_equal(seq, 0xBEEF);
    assert_int_equal(rtp_ext_abs_send_time(&o, 2, &ast), 0);
    assert_int_equal(ast, 0x123456);
    assert_null(rtp_ext_find(&o, 1)); /* the publisher's elements are gone */
    assert_int_equal(o.seq, 0x1234);
    assert_memory_equal(out + o.payload_off, "opus", 4);
    assert_int_equal(sfu_twcc_stamp(out, 20, &h, 5, 1, 0, 0), -ENOBUFS);
    /* No ids: the packet leaves without an extension. */
    n = sfu_twcc_stamp(out, sizeof(out), &h, 0, 0, 0, 0);
    assert_int_equal(n, 16);
    assert_int_equal(rtp_parse(out, (size_t)n, &o), RTP_OK);
    assert_int_equal(o.extension, 0);
    assert_int_equal(sfu_twcc_abs_send_time(1500000), (3u << 17));
    /* In place, as fan-out stamps: a block of the same size (the payload
     * stays where it is), then none (the payload moves up). */
    n = sfu_twcc_stamp(pkt, sizeof(pkt), &h, 5, 0xBEEF, 2, 0x123456);
    assert_int_equal(n, (int)sizeof(pkt));
    assert_int_equal(rtp_parse(pkt, (size_t)n, &o), RTP_OK);
    assert_int_equal(rtp_ext_transport_seq(&o, 5, &seq), 0);
    assert_int_equal(seq, 0xBEEF);
    assert_null(rtp_ext_find(&o, 1));
    assert_memory_equal(pkt + o.payload_off, "opus", 4);
    assert_int_equal(rtp_parse(pkt, sizeof(pkt), &h), RTP_OK);
    n = sfu_twcc_stamp(pkt, sizeof(pkt), &h, 0, 0, 0, 0);
    assert_int_equal(n, 16);
    assert_int_equal(rtp_parse(pkt, (size_t)n, &o), RTP_OK);
    assert_int_equal(o.extension, 0);
    assert_int_equal(o.ssrc, 0xAABBCCDD);
    assert_memory_equal(pkt + o.payload_off, "opus", 4);
}

/* --- bwe --- */

#define PKT_BYTES 1200

/* Sends 100 packets/s of PKT_BYTES from *t_us for ms milliseconds; the
 * subscriber receives each after base_ms plus growth_ms per packet more
 * than the one before (a queue filling), loses every lose-th (0: none),
 * and sends feedback every 100 ms. */
static void run(struct sfu_bwe *b, uint64_t *t_us, int ms, double *delay_ms, double growth_ms, int lose)
{
    struct sfu_twcc_sample s[10];
    size_t n = 0;
    for (int i = 0; i < ms / 10; i++) {
        *delay_ms += growth_ms;
        s[n].send_us = *t_us;
        s[n].recv_us = (int64_t)*t_us + (int64_t)(*delay_ms * 1000);
        s[n].size = PKT_BYTES;
        s[n].received = !(lose && i % lose == 0);
        n++;
        *t_us += 10000;
        if (n == 10) {
            sfu_bwe_feedback(b, s, n, *t_us / 1000 + (uint64_t)*delay_ms);
            n = 0;
        }
    }
}

static void test_bwe_delay_ramp_falls(void **state)
{
    (void)state;
    struct sfu_bwe b;
    sfu_bwe_init(&b);
    uint64_t t = 1000000;
    double d = 20;
    run(&b, &t, 2000, &d, 0, 0);
    assert_int_equal(sfu_bwe_usage(&b), SFU_BWE_NORMAL);
    uint64_t before = sfu_bwe_estimate(&b);
    assert_true(before >= 2000000); /* nothing objected: the start value holds */
    /* The queue grows 1 ms per 10 ms: we send 10 % more than the link carries. */
    run(&b, &t, 3000, &d, 1.0, 0);
    uint64_t after = sfu_bwe_estimate(&b);
    assert_true(after < 960000 * 0.9); /* under the 960 kbit/s acknowledged */
    assert_true(after >= SFU_BWE_MIN_BPS);
}

/* With a floor (what audio and the lowest video layers need), the same
 * ramp cuts no lower than the floor; loss still does. */
static void test_bwe_delay_floor(void **state)
{
    (void)state;
    struct sfu_bwe b;
    sfu_bwe_init(&b);
    sfu_bwe_set_floor(&b, 700000);
    uint64_t t = 1000000;
    double d = 20;
    run(&b, &t, 2000, &d, 0, 0);
    run(&b, &t, 3000, &d, 1.0, 0);
    assert_int_equal(sfu_bwe_estimate(&b), 700000);
    run(&b, &t, 3000, &d, 0, 3); /* a third lost */
    assert_true(sfu_bwe_estimate(&b) < 700000 / 2);
}

static void test_bwe_quiet_rises(void **state)
{
    (void)state;
    struct sfu_bwe b;
    sfu_bwe_init(&b);
    uint64_t t = 1000000;
    double d = 20;
    run(&b, &t, 3000, &d, 1.0, 0); /* down first */
    uint64_t low = sfu_bwe_estimate(&b);
    run(&b, &t, 1000, &d, -2.0, 0); /* the queue drains: held */
    assert_true(sfu_bwe_estimate(&b) <= low);
    run(&b, &t, 8000, &d, 0, 0); /* a quiet link */
    uint64_t high = sfu_bwe_estimate(&b);
    assert_true(high > 2 * low);
    /* ... but not past 1.5 × the 960 kbit/s acknowledged plus headroom. */
    assert_true(high <= (uint64_t)(960000 * 1.5 * 1.05 + SFU_BWE_HEADROOM_BPS));
}

static void test_bwe_loss(void **state)
{
    (void)state;
    struct sfu_bwe b;
    sfu_bwe_init(&b);
    uint64_t t = 1000000;
    double d = 20;
    run(&b, &t, 1000, &d, 0, 0);
    uint64_t before = sfu_bwe_estimate(&b);
    run(&b, &t, 3000, &d, 0, 3); /* a third lost */
    assert_true(sfu_bwe_estimate(&b) < before / 2);
    /* 5 % loss holds the estimate where it is. */
    uint64_t held = sfu_bwe_estimate(&b);
    run(&b, &t, 3000, &d, 0, 20);
    assert_true(sfu_bwe_estimate(&b) <= held);
}

static void test_bwe_remb(void **state)
{
    (void)state;
    struct sfu_bwe b;
    sfu_bwe_init(&b);
    sfu_bwe_remb(&b, 400000, 1000);
    assert_int_equal(sfu_bwe_estimate(&b), 400000); /* REMB only: its value */
    sfu_bwe_remb(&b, 10, 2000);
    assert_int_equal(sfu_bwe_estimate(&b), (uint64_t)SFU_BWE_MIN_BPS);
    /* With transport-cc too, a fresh REMB caps the estimate. */
    uint64_t t = 3000000;
    double d = 20;
    sfu_bwe_remb(&b, 300000, 3000);
    run(&b, &t, 500, &d, 0, 0);
    assert_int_equal(sfu_bwe_estimate(&b), 300000);
}

static void test_bwe_remb_idle(void **state)
{
    (void)state;
    struct sfu_bwe b;
    sfu_bwe_init(&b);
    sfu_bwe_remb(&b, 100000, 1000);
    sfu_bwe_idle(&b, 2000);
    sfu_bwe_idle(&b, 2400);
    assert_int_equal(sfu_bwe_estimate(&b), 100000); /* a fresh REMB holds */
    for (uint64_t t = 3000; t <= 9000; t += 1000)
        sfu_bwe_idle(&b, t);
    assert_true(sfu_bwe_estimate(&b) > 1000000); /* stale: it grows, so paused video is tried again */
    sfu_bwe_remb(&b, 200000, 14500);
    assert_int_equal(sfu_bwe_estimate(&b), 200000);
}

/* --- alloc --- */

static void test_alloc(void **state)
{
    (void)state;
    struct sfu_alloc_stream s[4] = {
        { .kind = SFU_ALLOC_AUDIO, .allowed = 1, .nlayers = 1, .bps = { 40000 }, .cur = 0 },
        { .kind = SFU_ALLOC_VIDEO, .prio = 2, .allowed = 1, .nlayers = 3, .bps = { 150000, 500000, 1500000 }, .cur = 2 },
        { .kind = SFU_ALLOC_VIDEO, .prio = 1, .allowed = 1, .nlayers = 3, .bps = { 150000, 500000, 1500000 }, .cur = 2 },
        { .kind = SFU_ALLOC_SCREEN, .prio = 0, .allowed = 1, .nlayers = 1, .bps = { 800000 }, .cur = 0 },
    };
    /* Plenty: everything at the top. */
    assert_int_equal(sfu_alloc_plan(s, 4, 10000000), 40000 + 1500000 * 2 + 800000);
    assert_int_equal(s[1].out, 2);
    assert_int_equal(s[2].out, 2);
    /* 1.6 Mbit/s: the screen, both cameras at their lowest, one a layer up. */
    sfu_alloc_plan(s, 4, 1600000);
    assert_int_equal(s[0].out, 0);
    assert_int_equal(s[3].out, 0);
    assert_int_equal(s[1].out, 1); /* the higher priority goes up */
    assert_int_equal(s[2].out, 0);
    /* 1 Mbit/s: the lower-priority camera is paused, not the screen or audio. */
    sfu_alloc_plan(s, 4, 1000000);
    assert_int_equal(s[3].out, 0);
    assert_int_equal(s[1].out, 0);
    assert_int_equal(s[2].out, -1);
    /* 100 kbit/s: audio only, never cut, even past the budget. */
    assert_int_equal(sfu_alloc_plan(s, 4, 10000), 40000);
    assert_int_equal(s[0].out, 0);
    assert_int_equal(s[1].out + s[2].out + s[3].out, -3);
    /* A paused video comes back only with spare room; a playing one stays
     * at exactly its cost. */
    s[1].cur = s[2].cur = s[3].cur = -1;
    sfu_alloc_plan(s, 4, 40000 + 960000);
    assert_int_equal(s[3].out, 0);
    assert_int_equal(s[1].out, -1);
    s[1].cur = 0;
    s[3].cur = 0;
    sfu_alloc_plan(s, 4, 40000 + 960000);
    assert_int_equal(s[1].out, 0);
    /* Not allowed (last-N): off whatever the budget. */
    s[1].allowed = 0;
    sfu_alloc_plan(s, 4, 10000000);
    assert_int_equal(s[1].out, -1);
    assert_int_equal(s[2].out, 2);
}

/* --- speaker --- */

struct voices {
    struct sfu_level lv[3];
    struct sfu_speaker sp;
    const void *keys[3];
    uint64_t now;
};

/* ms of audio: member i at dbov[i] every 20 ms, the speaker looked at
 * every 100 ms. Returns when it changed last (0: never). */
static uint64_t talk(struct voices *v, const uint8_t dbov[3], int ms)
{
    uint64_t changed = 0;
    for (int t = 0; t < ms; t += 20) {
        v->now += 20;
        for (int i = 0; i < 3; i++)
            sfu_level_packet(&v->lv[i], dbov[i], v->now);
        if (v->now % 100)
            continue;
        double l[3];
        for (int i = 0; i < 3; i++)
            l[i] = sfu_level_get(&v->lv[i], v->now);
        if (sfu_speaker_update(&v->sp, v->keys, l, 3, v->now))
            changed = v->now;
    }
    return changed;
}

static void test_speaker_hysteresis(void **state)
{
    (void)state;
    static int a, b, c;
    struct voices v = { .keys = { &a, &b, &c }, .now = 100000 };
    const uint8_t a_talks[3] = { 30, 127, 127 }, b_talks[3] = { 127, 30, 127 };
    const uint8_t b_coughs[3] = { 30, 10, 127 };
    /* Nobody is chosen before a second of being loud enough. */
    assert_int_equal(talk(&v, a_talks, 1000), 0);
    assert_null(v.sp.current);
    assert_true(talk(&v, a_talks, 3000) > 0);
    assert_ptr_equal(v.sp.current, &a);
    /* A loud cough from b for 400 ms changes nothing. */
    assert_int_equal(talk(&v, b_coughs, 400), 0);
    assert_int_equal(talk(&v, a_talks, 2000), 0);
    assert_ptr_equal(v.sp.current, &a);
    /* b takes over, but not within the first second. */
    uint64_t start = v.now;
    assert_int_equal(talk(&v, b_talks, 1000), 0);
    uint64_t at = talk(&v, b_talks, 4000);
    assert_ptr_equal(v.sp.current, &b);
    assert_true(at >= start + 1000 + SFU_SPEAKER_HOLD_MS / 2);
    /* Silence (no packets) decays a level toward 0. */
    assert_true(sfu_level_get(&v.lv[1], v.now + 5000) < SFU_SPEAKER_MIN / 2);
    /* The current speaker leaving the list is forgotten. */
    double l[2] = { 0, 0 };
    assert_int_equal(sfu_speaker_update(&v.sp, v.keys, l, 1, v.now), 0);
    assert_null(v.sp.current);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twcc_feedback),
        cmocka_unit_test(test_twcc_stamp),
        cmocka_unit_test(test_bwe_delay_ramp_falls),
        cmocka_unit_test(test_bwe_delay_floor),
        cmocka_unit_test(test_bwe_quiet_rises),
        cmocka_unit_test(test_bwe_loss),
        cmocka_unit_test(test_bwe_remb),
        cmocka_unit_test(test_bwe_remb_idle),
        cmocka_unit_test(test_alloc),
        cmocka_unit_test(test_speaker_hysteresis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
