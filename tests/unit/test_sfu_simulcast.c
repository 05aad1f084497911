/*
 * test_sfu_simulcast — VP8 payload descriptors (src/sfu/vp8.c), layer
 * choice and switching with the rewriting across switches and loss
 * (src/sfu/simulcast.c), and the router with real Chromium and Firefox
 * simulcast offers: layers learnt from rid header extensions, one layer
 * per subscriber switched at a key frame, NACKs by the subscriber's
 * numbers across a switch, pause and the allocator's cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "sfu/rtcp.h"
#include "sfu/rtp.h"
#include "sfu/room.h"
#include "sfu/sdp.h"
#include "sfu/simulcast.h"
#include "sfu/srtp.h"
#include "sfu/vp8.h"
#include "test_sfu_sdp_interop_vectors.h"
#include "test_sfu_sdp_vectors.h"
#include "test_sfu_room_util.h"
#include "test_sfu_sent.h"

/* A VP8 payload: descriptor with a 15-bit picture ID and TL0PICIDX, then
 * a frame header (key frame: with its size). */
static size_t vp8(uint8_t *p, int start, int key, uint16_t pid, uint8_t tl0, uint16_t w, uint16_t h)
{
    size_t n = 0;
    p[n++] = (uint8_t)(0x80 | (start ? 0x10 : 0));
    p[n++] = 0xC0; /* I, L */
    p[n++] = (uint8_t)(0x80 | (pid >> 8));
    p[n++] = (uint8_t)pid;
    p[n++] = tl0;
    p[n++] = key ? 0x10 : 0x11; /* P bit clear: key frame */
    p[n++] = 0x02;
    p[n++] = 0x00;
    p[n++] = 0x9d, p[n++] = 0x01, p[n++] = 0x2a;
    p[n++] = (uint8_t)w, p[n++] = (uint8_t)(w >> 8), p[n++] = (uint8_t)h, p[n++] = (uint8_t)(h >> 8);
    for (int i = 0; i < 10; i++)
        p[n++] = 0xAA;
    return n;
}

static void test_vp8_parse(void **state)
{
    (void)state;
    uint8_t p[64];
    struct sfu_vp8 v;
    size_t n = vp8(p, 1, 1, 0x1234, 7, 1280, 720);
    assert_int_equal(sfu_vp8_parse(p, n, &v), 0);
    assert_true(v.start && v.keyframe && v.has_pid && v.has_tl0);
    assert_int_equal(v.pid_bits, 15);
    assert_int_equal(v.pid, 0x1234);
    assert_int_equal(v.tl0, 7);
    assert_int_equal(v.width, 1280);
    assert_int_equal(v.height, 720);
    assert_int_equal(v.desc_len, 5);
    n = vp8(p, 1, 0, 5, 1, 0, 0);
    assert_int_equal(sfu_vp8_parse(p, n, &v), 0);
    assert_true(v.start && !v.keyframe);
    n = vp8(p, 0, 1, 5, 1, 0, 0); /* not the first packet of its frame */
    assert_int_equal(sfu_vp8_parse(p, n, &v), 0);
    assert_false(v.keyframe);
    const uint8_t seven[] = { 0x90, 0x80, 0x05, 0x00 }; /* 7-bit picture ID 5, key frame */
    assert_int_equal(sfu_vp8_parse(seven, sizeof(seven), &v), 0);
    assert_int_equal(v.pid_bits, 7);
    assert_int_equal(v.pid, 5);
    assert_true(v.keyframe);
    assert_int_equal(v.height, 0); /* too short for a size */
    const uint8_t plain[] = { 0x10, 0x00 };
    assert_int_equal(sfu_vp8_parse(plain, sizeof(plain), &v), 0);
    assert_true(v.keyframe && !v.has_pid);
    /* Truncated: every prefix of a full descriptor with nothing after it fails. */
    n = vp8(p, 1, 1, 0x1234, 7, 1280, 720);
    for (size_t k = 0; k <= 5; k++)
        assert_int_equal(sfu_vp8_parse(p, k, &v), -1);
}

static void test_vp8_rewrite(void **state)
{
    (void)state;
    uint8_t p[64];
    struct sfu_vp8 v;
    struct sfu_vp8_rw rw;
    sfu_vp8_rw_init(&rw);
    sfu_vp8_parse(p, vp8(p, 1, 1, 100, 10, 0, 0), &v);
    sfu_vp8_rw_apply(&rw, p, &v);
    assert_int_equal(p[2], 0x80), assert_int_equal(p[3], 100), assert_int_equal(p[4], 10); /* kept */
    sfu_vp8_parse(p, vp8(p, 1, 0, 101, 10, 0, 0), &v);
    sfu_vp8_rw_apply(&rw, p, &v);
    /* Another source, far away, continues at 102 / 11. */
    sfu_vp8_rw_switch(&rw);
    sfu_vp8_parse(p, vp8(p, 1, 1, 0x7ff0, 200, 0, 0), &v);
    sfu_vp8_rw_apply(&rw, p, &v);
    assert_int_equal(p[2], 0x80), assert_int_equal(p[3], 102), assert_int_equal(p[4], 11);
    sfu_vp8_parse(p, vp8(p, 1, 0, 0x7ff5, 201, 0, 0), &v); /* a lost picture stays a gap of the same size */
    sfu_vp8_rw_apply(&rw, p, &v);
    assert_int_equal(p[3], 107), assert_int_equal(p[4], 12);
    sfu_vp8_parse(p, vp8(p, 1, 0, 0x0002, 202, 0, 0), &v); /* the source's 15-bit wrap */
    sfu_vp8_rw_apply(&rw, p, &v);
    assert_int_equal(p[3], 120), assert_int_equal(p[4], 13); /* 0x7ff5 -> 0x0002 is 13 on */
}

/* A track of three layers 180/360/720 that all sent at now. */
static void three_layers(struct sfu_sim_track *t, uint64_t now)
{
    memset(t, 0, sizeof(*t));
    t->nlayers = 3;
    static const uint16_t h[] = { 180, 360, 720 };
    for (int l = 0; l < 3; l++)
        sfu_sim_track_packet(t, l, 1000, 1, (uint16_t)(h[l] * 16 / 9), h[l], now);
}

static void test_choose(void **state)
{
    (void)state;
    struct sfu_sim_track t;
    struct sfu_sim_fwd f;
    three_layers(&t, 1000);
    sfu_sim_fwd_init(&f, 42);
    assert_int_equal(sfu_sim_choose(&t, &f, 1000), 2); /* nothing reported: the top */
    f.want_h = 150;
    assert_int_equal(sfu_sim_choose(&t, &f, 1000), 0);
    f.want_h = 181;
    assert_int_equal(sfu_sim_choose(&t, &f, 1000), 1);
    f.want_h = 1080;
    assert_int_equal(sfu_sim_choose(&t, &f, 1000), 2);
    f.max = 1;
    assert_int_equal(sfu_sim_choose(&t, &f, 1000), 1); /* the allocator's cap */
    f.max = SFU_SIM_PAUSED;
    assert_int_equal(sfu_sim_choose(&t, &f, 1000), -1);
    f.max = SFU_SIM_ANY;
    f.want_h = 0;
    assert_int_equal(sfu_sim_choose(&t, &f, 1000), -1); /* hidden */
    /* The publisher stops its top layer: the next one down. */
    f.want_h = 720;
    sfu_sim_track_packet(&t, 0, 1000, 0, 0, 0, 1000 + SFU_SIM_IDLE_MS);
    sfu_sim_track_packet(&t, 1, 1000, 0, 0, 0, 1000 + SFU_SIM_IDLE_MS);
    assert_int_equal(sfu_sim_choose(&t, &f, 1000 + SFU_SIM_IDLE_MS), 1);
    /* A cap below every layer that sends: the lowest that does. */
    sfu_sim_track_packet(&t, 2, 1000, 0, 0, 0, 5000);
    f.max = 0;
    assert_int_equal(sfu_sim_choose(&t, &f, 5000), 2);
    /* Bitrate over a full window. */
    struct sfu_sim_track b = { .nlayers = 1 };
    for (uint64_t ms = 0; ms <= 1000; ms += 10)
        sfu_sim_track_packet(&b, 0, 1250, 0, 0, 0, 10000 + ms);
    assert_int_equal(b.layer[0].bps, 1000000);
}

/* A packet of layer l (its own numbering) through f: 1 if sent, with the
 * outgoing numbers in *seq, *ts. */
static int through(struct sfu_sim_fwd *f, int l, uint16_t in_seq, uint32_t in_ts, int key, uint64_t now,
                   uint16_t *seq, uint32_t *ts)
{
    uint8_t pkt[12] = { 0x80, 96 };
    if (!sfu_sim_accept(f, l, key))
        return 0;
    if (sfu_sim_rewrite(f, pkt, in_seq, in_ts, now, 90000, 0, NULL) != 0)
        return 0;
    *seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
    *ts = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | (uint32_t)pkt[6] << 8 | pkt[7];
    assert_int_equal(pkt[11], 42);
    return 1;
}

static void test_switch(void **state)
{
    (void)state;
    struct sfu_sim_track t;
    struct sfu_sim_fwd f;
    uint16_t seq, in;
    uint32_t ts;
    struct sfu_sim_src src;
    three_layers(&t, 1000);
    sfu_sim_fwd_init(&f, 42);
    assert_int_equal(sfu_sim_update(&f, &t, 1000), 1); /* waits for a key frame of the top */
    assert_int_equal(sfu_sim_want_pli(&f, 1000), 1);
    assert_int_equal(sfu_sim_want_pli(&f, 1000 + SFU_SIM_PLI_MS - 1), 0);
    assert_int_equal(through(&f, 2, 500, 9000, 0, 1000, &seq, &ts), 0); /* not a key frame */
    assert_int_equal(through(&f, 1, 500, 9000, 1, 1000, &seq, &ts), 0); /* not the target */
    assert_int_equal(through(&f, 2, 501, 9000, 1, 1000, &seq, &ts), 1);
    assert_int_equal(seq, 501), assert_int_equal(ts, 9000); /* the first source keeps its numbers */
    assert_int_equal(through(&f, 2, 502, 9000, 0, 1000, &seq, &ts), 1);
    /* Loss: 503 never comes; 504 keeps the gap, so the subscriber NACKs 503. */
    assert_int_equal(through(&f, 2, 504, 12000, 0, 1033, &seq, &ts), 1);
    assert_int_equal(seq, 504);
    /* The tile becomes small: layer 0 at its next key frame, the top until then. */
    f.want_h = 180;
    sfu_sim_update(&f, &t, 1040);
    assert_int_equal(f.target, 0);
    assert_int_equal(through(&f, 0, 7000, 555000, 0, 1040, &seq, &ts), 0);
    assert_int_equal(through(&f, 2, 505, 12000, 0, 1040, &seq, &ts), 1);
    assert_int_equal(seq, 505);
    assert_int_equal(through(&f, 0, 7001, 558000, 1, 1066, &seq, &ts), 1);
    assert_int_equal(seq, 506); /* no gap */
    assert_int_equal(ts, 12000 + 26 * 90); /* moved on by the time that passed */
    assert_int_equal(through(&f, 2, 506, 15000, 0, 1066, &seq, &ts), 0); /* the old layer stops */
    assert_int_equal(through(&f, 0, 7003, 561000, 0, 1100, &seq, &ts), 1);
    assert_int_equal(seq, 508);
    assert_int_equal(through(&f, 0, 7000, 555000, 0, 1100, &seq, &ts), 0); /* before the switch: stale */
    assert_int_equal(f.switches, 2);
    /* NACKs: 507 from layer 0, 503 from the top, 600 from nowhere. */
    assert_int_equal(sfu_sim_unmap(&f, 507, &src, &in), 0);
    assert_int_equal(src.layer, 0), assert_int_equal(in, 7002);
    assert_int_equal(sfu_sim_unmap(&f, 503, &src, &in), 0);
    assert_int_equal(src.layer, 2), assert_int_equal(in, 503);
    assert_int_equal(sfu_sim_unmap(&f, 600, &src, &in), -1);
    assert_int_equal(sfu_sim_unmap(&f, 400, &src, &in), -1);
    /* Hidden: paused at once; shown again: at a key frame, continuing. */
    f.want_h = 0;
    sfu_sim_update(&f, &t, 1200);
    assert_int_equal(through(&f, 0, 7004, 564000, 1, 1200, &seq, &ts), 0);
    f.want_h = 100;
    assert_int_equal(sfu_sim_update(&f, &t, 1300), 1);
    assert_int_equal(through(&f, 0, 7010, 580000, 0, 1300, &seq, &ts), 0);
    assert_int_equal(through(&f, 0, 7011, 583000, 1, 1333, &seq, &ts), 1);
    assert_int_equal(seq, 509);
}

/* --- the router --- */

static uint8_t scratch[1500 + SFU_SRTP_TRAILER_MAX];
static struct sfu_room_stats stats;
static const char A = 'A', B = 'B';

/* The publisher's offer text answered and published by m. */
static void publish_text(struct sfu_room *r, struct sfu_member *m, const char *text, int nlayers)
{
    struct sdp *o = xcalloc(1, sizeof(*o)), *a = xcalloc(1, sizeof(*a));
    assert_int_equal(sdp_parse(text, strlen(text), o), 0);
    assert_int_equal(sdp_answer(o, NULL, 0, a), 0);
    assert_int_equal(sfu_room_publish(r, m, o, a), 2);
    size_t n;
    const struct sfu_track *t = sfu_room_tracks(m, &n);
    assert_int_equal(n, 2);
    assert_int_equal(t[1].kind, SDP_VIDEO);
    assert_int_equal(t[1].nlayers, nlayers);
    xfree(o);
    xfree(a);
}

/* An RTP packet with the mid and rid extensions (one-byte form, RFC 8285)
 * and a VP8 payload. Returns its length. */
static size_t mkpkt(uint8_t *b, uint32_t ssrc, uint16_t seq, uint32_t ts, uint8_t mid_id, uint8_t rid_id,
                    const char *rid, int key, uint16_t pid, uint16_t h)
{
    size_t n = 0;
    b[n++] = 0x90, b[n++] = 96;
    b[n++] = (uint8_t)(seq >> 8), b[n++] = (uint8_t)seq;
    for (int s = 24; s >= 0; s -= 8)
        b[n++] = (uint8_t)(ts >> s);
    for (int s = 24; s >= 0; s -= 8)
        b[n++] = (uint8_t)(ssrc >> s);
    b[n++] = 0xBE, b[n++] = 0xDE, b[n++] = 0, b[n++] = 2; /* 8 bytes of elements */
    b[n++] = (uint8_t)(mid_id << 4), b[n++] = '1';
    b[n++] = (uint8_t)(rid_id << 4), b[n++] = (uint8_t)rid[0];
    b[n++] = 0, b[n++] = 0, b[n++] = 0, b[n++] = 0;
    return n + vp8(b + n, 1, key, pid, (uint8_t)pid, (uint16_t)(h * 16 / 9), h);
}

static uint16_t seq_of(const struct sent *s)
{
    return wire_rd16(s->buf + 2);
}

static uint32_t ssrc_of(const struct sent *s)
{
    return wire_rd32(s->buf + 8);
}

/* The 15-bit picture ID of a forwarded packet (the layout of mkpkt). */
static uint16_t pid_of(const struct sent *s)
{
    return (uint16_t)((s->buf[26] & 0x7f) << 8 | s->buf[27]);
}

static const char *const rids[] = { "q", "h", "f" };
static const uint16_t heights[] = { 180, 360, 720 };

/* One packet on each layer (SSRCs 100, 200, 300), numbers k, all key frames when key. */
static void round_of(struct sfu_room *r, struct sfu_member *a, uint16_t k, int key, uint64_t now)
{
    uint8_t pkt[128];
    for (int l = 0; l < 3; l++) {
        size_t n = mkpkt(pkt, (uint32_t)(100 * (l + 1)), (uint16_t)(1000 * (l + 1) + k), 3000u * k,
                         4, 10, rids[l], key, (uint16_t)(50 * (l + 1) + k), heights[l]);
        sfu_room_rtp(r, a, pkt, n, now);
    }
}

static void test_room_chromium(void **state)
{
    (void)state;
    struct sfu_room *r = sfu_room_new(&sent_ops, scratch, sizeof(scratch), &stats);
    struct sfu_member *a = sfu_room_join(r, "alice", (void *)&A);
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    publish_text(r, a, chromium_simulcast_offer, 3);
    struct sdp *d = xcalloc(1, sizeof(*d));
    assert_int_equal(sfu_room_offer(r, b, d), 2);
    const struct sdp_media *v = &d->media[1];
    assert_int_equal(v->kind, SDP_VIDEO);
    assert_int_equal(v->nrids, 0); /* bob gets a plain track */
    uint32_t out = v->ssrcs[0].ssrc;
    nsent = 0;
    round_of(r, a, 0, 1, 1000);
    /* Every layer's first key frame: bob climbs to the top at once, without a gap. */
    assert_int_equal(stats.unknown_ssrc, 0);
    /* Alice is told she may send SFU_SIM_PUBLISH_BPS (REMB) with her first video packet. */
    assert_int_equal(nsent, 4);
    assert_int_equal(sent[1].to, 'A'); /* after the packet that started alice's reports */
    struct rtcp_iter it;
    struct rtcp_pkt p;
    struct rtcp_remb remb;
    rtcp_iter_init(&it, sent[1].buf, sent[1].len);
    assert_int_equal(rtcp_iter_next(&it, &p), RTCP_OK);
    assert_int_equal(rtcp_parse_remb(&p, &remb), 0);
    assert_true(remb.bitrate <= SFU_SIM_PUBLISH_BPS && remb.bitrate > SFU_SIM_PUBLISH_BPS * 99 / 100);
    memmove(&sent[1], &sent[2], 2 * sizeof(sent[0]));
    nsent = 3;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(sent[i].to, 'B');
        assert_int_equal(ssrc_of(&sent[i]), out);
        assert_int_equal(seq_of(&sent[i]), 1000 + i);
    }
    uint16_t last_pid;
    for (uint16_t k = 1; k < 5; k++)
        round_of(r, a, k, 0, 1000 + 33u * k);
    assert_int_equal(nsent, 7);
    assert_int_equal(seq_of(&sent[6]), 1006);
    /* Bob's tile is small: a PLI for layer q (SSRC 100), the top until its key frame. */
    nsent = 0;
    assert_int_equal(sfu_room_sim_view(r, b, "alice", 320, 180, 1200), 1);
    assert_int_equal(nsent, 1);
    assert_int_equal(sent[0].rtcp, 1);
    struct rtcp_fb fb;
    rtcp_iter_init(&it, sent[0].buf, sent[0].len);
    assert_int_equal(rtcp_iter_next(&it, &p), RTCP_OK);
    assert_int_equal(rtcp_parse_pli(&p, &fb), 0);
    assert_int_equal(fb.media_ssrc, 100);
    nsent = 0;
    round_of(r, a, 5, 0, 1233);
    assert_int_equal(nsent, 1);
    assert_int_equal(seq_of(&sent[0]), 1007);
    last_pid = pid_of(&sent[0]);
    nsent = 0;
    round_of(r, a, 6, 1, 1266); /* key frames: bob switches to q */
    assert_int_equal(nsent, 1);
    assert_int_equal(seq_of(&sent[0]), 1008);
    assert_int_equal(pid_of(&sent[0]), (uint16_t)(last_pid + 1));
    assert_int_equal(sent[0].len, 24 + 25);
    round_of(r, a, 8, 0, 1333); /* 7 lost on every layer (NACKed upstream at once) */
    size_t to_b = 0;
    for (size_t i = 1; i < nsent; i++)
        if (sent[i].to == 'B' && ++to_b)
            assert_int_equal(seq_of(&sent[i]), 1010);
    assert_int_equal(to_b, 1);
    /* Bob NACKs 1007 (the top's 3005, before the switch) and 1009 (lost upstream). */
    nsent = 0;
    uint16_t want[] = { 1007, 1009 };
    room_nack(r, b, out, want, 2, 1340);
    assert_int_equal(stats.retransmitted, 1);
    size_t resent = 0, up = 0;
    for (size_t i = 0; i < nsent; i++) {
        if (sent[i].to == 'B' && sent[i].rtcp == 0) {
            resent++; /* as RTX if bob took it; either way the original number comes through */
            uint16_t osn = sent[i].len == 24 + 25 ? seq_of(&sent[i]) : (uint16_t)(sent[i].buf[24] << 8 | sent[i].buf[25]);
            assert_int_equal(osn, 1007);
            if (sent[i].len == 24 + 25)
                assert_int_equal(pid_of(&sent[i]), last_pid);
        }
        up += sent[i].to == 'A' && sent[i].rtcp == 1;
    }
    assert_int_equal(resent, 1);
    assert_int_equal(up, 1); /* 7 of layer q (its 1007) asked of alice */
    /* The allocator pauses bob's video: nothing more, whatever comes. */
    struct sfu_sim_info info;
    assert_int_equal(sfu_room_sim_info(r, b, out, &info, 1400), 0);
    assert_int_equal(info.nlayers, 3);
    assert_int_equal(info.cur, 0);
    assert_int_equal(info.height[2], 720);
    assert_int_equal(sfu_room_sim_set_max(r, b, out, SFU_SIM_PAUSED, 1400), 0);
    assert_int_equal(sfu_room_sim_set_max(r, b, 12345, 0, 1400), -1);
    nsent = 0;
    round_of(r, a, 9, 1, 1400);
    assert_int_equal(nsent, 0);
    xfree(d);
    sfu_room_free(r);
}

static void test_room_firefox(void **state)
{
    (void)state;
    struct sfu_room *r = sfu_room_new(&sent_ops, scratch, sizeof(scratch), &stats);
    struct sfu_member *a = sfu_room_join(r, "alice", (void *)&A);
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    publish_text(r, a, firefox_simulcast_offer, 3);
    struct sdp *d = xcalloc(1, sizeof(*d));
    assert_int_equal(sfu_room_offer(r, b, d), 2);
    /* Firefox's second FID pair: media 2523620618 learnt as rid h finds its RTX. */
    uint8_t pkt[128];
    size_t n = mkpkt(pkt, 2523620618u, 10, 0, 3, 9, "h", 1, 1, 360);
    sfu_room_rtp(r, a, pkt, n, 1000);
    size_t nt;
    const struct sfu_track *t = sfu_room_tracks(a, &nt);
    assert_int_equal(nt, 2);
    assert_int_equal(stats.unknown_ssrc, 0);
    const struct sfu_track *all = t; /* the layer entries follow the visible ones */
    int found = 0;
    for (size_t i = 0; i < 4; i++)
        found |= all[i].ssrc == 2523620618u && all[i].rtx_ssrc == 3887826096u && strcmp(all[i].rid, "h") == 0;
    assert_true(found);
    xfree(d);
    sfu_room_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vp8_parse),   cmocka_unit_test(test_vp8_rewrite),
        cmocka_unit_test(test_choose),      cmocka_unit_test(test_switch),
        cmocka_unit_test(test_room_chromium), cmocka_unit_test(test_room_firefox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
