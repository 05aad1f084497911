/*
 * test_sfu_room — the SFU router (src/sfu/room.c): which member gets which
 * packet, the subscriber offers it writes as tracks come and go, and key
 * frame requests with their rate limit. Members are plain ids; the
 * callbacks record what would have been sent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "sfu/pktcache.h"
#include "sfu/room.h"
#include "sfu/rtcp.h"
#include "sfu/srtp.h"
#include "sfu/wire.h"
#include "test_sfu_room_util.h"
#include "test_sfu_sent.h"

static uint8_t scratch[1500 + SFU_SRTP_TRAILER_MAX];
static struct sfu_room_stats stats;

static size_t rtp(uint8_t *buf, uint32_t ssrc)
{
    return rtp_pkt(buf, 40, 96, ssrc, 0, 0);
}

static int setup(void **state)
{
    nsent = 0;
    memset(&stats, 0, sizeof(stats));
    *state = sfu_room_new(&sent_ops, scratch, sizeof(scratch), &stats);
    return 0;
}

static int teardown(void **state)
{
    sfu_room_free(*state);
    return 0;
}

static const char A = 'A', B = 'B', C = 'C';

static void test_forwarding(void **state)
{
    struct sfu_room *r = *state;
    struct sfu_member *a = sfu_room_join(r, "alice", (void *)&A);
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    struct sfu_member *c = sfu_room_join(r, "carol", (void *)&C);
    room_publish(r, a, 1000, 2000, PUB_FID);
    uint8_t pkt[64];
    size_t n = rtp(pkt, 2000);
    /* Nobody has been offered alice's tracks yet: nothing goes out. */
    sfu_room_rtp(r, a, pkt, n, 1000);
    assert_int_equal(nsent, 0);
    struct sdp *d = xcalloc(1, sizeof(*d));
    assert_int_equal(sfu_room_offer(r, b, d), 2);
    assert_int_equal(sfu_room_offer(r, c, d), 2);
    assert_int_equal(sfu_room_offer(r, a, d), 0); /* nothing of the others to offer alice */
    sfu_room_rtp(r, a, pkt, n, 1000);
    assert_int_equal(nsent, 2);
    assert_int_equal(sent_to('B', 0), 1);
    assert_int_equal(sent_to('C', 0), 1);
    assert_int_equal(sent_to('A', 0), 0);
    assert_memory_equal(sent[0].buf, pkt, n); /* SSRC, sequence number and timestamp kept */
    assert_int_equal(stats.forwarded_packets, 2);
    assert_int_equal(stats.forwarded_bytes, 2 * n);
    /* RTX repairing a packet we have, a stranger's SSRC and garbage are not forwarded. */
    nsent = 0;
    sfu_room_rtp(r, a, pkt, rtp(pkt, 2001), 1000);
    sfu_room_rtp(r, b, pkt, rtp(pkt, 2000), 1000); /* bob does not publish alice's SSRC */
    pkt[0] = 0x40;
    sfu_room_rtp(r, a, pkt, n, 1000);
    assert_int_equal(nsent, 0);
    assert_int_equal(stats.unknown_ssrc, 1);
    assert_int_equal(stats.rtx_dropped, 1);
    assert_int_equal(stats.bad_rtp, 1);
    xfree(d);
}

static void test_offer_slots(void **state)
{
    struct sfu_room *r = *state;
    struct sfu_member *a = sfu_room_join(r, "alice", (void *)&A);
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    room_publish(r, a, 1000, 2000, PUB_FID);
    struct sdp *d = xcalloc(1, sizeof(*d));
    assert_int_equal(sfu_room_offer(r, b, d), 2);
    assert_int_equal(d->nbundle, 2);
    const struct sdp_media *v = d->media[0].kind == SDP_VIDEO ? &d->media[0] : &d->media[1];
    assert_int_equal(v->dir, SDP_SENDONLY);
    assert_int_equal(v->ssrcs[0].ssrc, 2000);
    assert_int_equal(v->nssrcs, 1);
    assert_int_equal(v->codecs[0].pt, 96);
    assert_int_equal(v->codecs[0].fb, SDP_FB_NACK | SDP_FB_PLI | SDP_FB_FIR | SDP_FB_TRANSPORT_CC | SDP_FB_REMB);
    assert_int_equal(v->nextmaps, 2); /* abs-send-time and transport-cc: ours, see test_sfu_room_bwe.c */
    assert_string_equal(v->msid_stream, "alice");
    assert_string_equal(v->msid_track, "cam");
    char mid0[SDP_TOKEN_MAX], mid1[SDP_TOKEN_MAX];
    strcpy(mid0, d->media[0].mid);
    strcpy(mid1, d->media[1].mid);
    /* Carol joins and publishes: bob's offer keeps the old m-sections first. */
    struct sfu_member *c = sfu_room_join(r, "carol", (void *)&C);
    room_publish(r, c, 3000, 4000, PUB_FID);
    assert_int_equal(sfu_room_offer(r, b, d), 4);
    assert_string_equal(d->media[0].mid, mid0);
    assert_string_equal(d->media[1].mid, mid1);
    assert_int_equal(d->media[2].ssrcs[0].ssrc + d->media[3].ssrcs[0].ssrc, 7000);
    /* Alice leaves: her m-sections stay. The first, BUNDLE's tag, stays in
     * the group, inactive and without a stream (rejecting it would move the
     * tag and make the browser start a new transport); the second is
     * rejected and leaves the group. */
    sfu_room_leave(r, a);
    assert_int_equal(sfu_room_offer(r, b, d), 4);
    assert_int_equal(d->media[0].port, 9);
    assert_int_equal(d->media[0].dir, SDP_INACTIVE);
    assert_int_equal(d->media[0].nssrcs, 0);
    assert_string_equal(d->media[0].msid_track, "");
    assert_int_equal(d->media[1].port, 0);
    assert_int_equal(d->media[2].port, 9);
    assert_int_equal(d->nbundle, 3);
    assert_string_equal(d->bundle[0], mid0);
    /* Answered, the parked tag is not recycled: it never was rejected. */
    sfu_room_answered(r, b, d);
    assert_int_equal(sfu_room_offer(r, b, d), 4);
    assert_string_equal(d->media[0].mid, mid0);
    assert_int_equal(d->media[0].port, 9);
    xfree(d);
}

/* Past SFU_ROOM_SLOTS (64) m-sections a rejected one is recycled, but
 * only once the browser answered the offer that rejected it: a browser
 * refuses a new mid where its current m-section is not rejected. */
#define FULL (SFU_ROOM_SLOTS / 2) /* publishers of audio and video that fill a subscriber */

/* FULL publishers p0..p(FULL-1) of audio 1000+i and video 2000+i, with
 * flags; ids[FULL] is named for a newcomer. */
static void join_full(struct sfu_room *r, char ids[][16], struct sfu_member **pubs, unsigned flags)
{
    for (int i = 0; i <= FULL; i++)
        snprintf(ids[i], 16, "p%d", i);
    for (int i = 0; i < FULL; i++) {
        pubs[i] = sfu_room_join(r, ids[i], (void *)&A);
        room_publish(r, pubs[i], 1000 + (uint32_t)i, 2000 + (uint32_t)i, flags);
    }
}
static void test_slot_recycling(void **state)
{
    struct sfu_room *r = *state;
    char ids[FULL + 1][16];
    struct sfu_member *pubs[FULL + 1];
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    struct sdp *d = xcalloc(1, sizeof(*d));
    join_full(r, ids, pubs, PUB_FID);
    assert_int_equal(sfu_room_offer(r, b, d), SFU_ROOM_SLOTS);
    assert_int_equal(sfu_room_answered(r, b, d), 0);
    /* p0 leaves and the next one comes in one go: p0's sections are
     * rejected, the newcomer's tracks wait (no section may change its mid
     * yet). */
    sfu_room_leave(r, pubs[0]);
    pubs[FULL] = sfu_room_join(r, ids[FULL], (void *)&A);
    room_publish(r, pubs[FULL], 1000 + FULL, 2000 + FULL, PUB_FID);
    assert_int_equal(sfu_room_offer(r, b, d), SFU_ROOM_SLOTS);
    size_t k = 0, rejected = 0;
    for (size_t i = 0; i < d->nmedia; i++) {
        assert_int_not_equal(d->media[i].ssrcs[0].ssrc % 1000, FULL);
        if (d->media[i].port == 0 && rejected++ == 0)
            k = i; /* the first of p0's two */
    }
    assert_int_equal(rejected, 2);
    char mid0[SDP_TOKEN_MAX];
    strcpy(mid0, d->media[k].mid);
    /* The answer settles them: offer again, with the newcomer in the recycled ones. */
    assert_int_equal(sfu_room_answered(r, b, d), 1);
    assert_int_equal(sfu_room_offer(r, b, d), SFU_ROOM_SLOTS);
    assert_string_not_equal(d->media[k].mid, mid0);
    assert_int_equal(d->media[k].port, 9);
    assert_int_equal(d->media[k].ssrcs[0].ssrc % 1000, FULL);
    for (size_t i = 0; i < d->nmedia; i++)
        assert_int_equal(d->media[i].port, 9);
    assert_int_equal(sfu_room_answered(r, b, d), 0);
    xfree(d);
}

/* One RTP packet of ssrc from pub (Opus below 2000, else VP8): how many
 * went out to who, as ssrc. */
static size_t reaches(struct sfu_room *r, struct sfu_member *pub, uint32_t ssrc, char who)
{
    static uint16_t seq;
    uint8_t pkt[64];
    seq++;
    nsent = 0;
    sfu_room_rtp(r, pub, pkt, rtp_pkt(pkt, 40, ssrc < 2000 ? 111 : 96, ssrc, seq, seq * 960u), 1000);
    size_t n = 0;
    for (size_t i = 0; i < nsent; i++)
        n += sent[i].to == who && sent[i].rtcp == 0 && wire_rd32(sent[i].buf + 8) == ssrc;
    return n;
}

/* Fan-out finds a subscriber's slot of each track through an index by
 * outgoing SSRC: it follows slots as they are made, made inactive and
 * recycled, here for a subscriber with all 64 slots in use, and with an
 * SSRC that a gone slot had coming back in a recycled one. */
static void test_slot_index(void **state)
{
    struct sfu_room *r = *state;
    char ids[FULL + 1][16];
    struct sfu_member *pubs[FULL + 1];
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    struct sdp *d = xcalloc(1, sizeof(*d));
    join_full(r, ids, pubs, 0);
    assert_int_equal(reaches(r, pubs[3], 2003, 'B'), 0); /* no slots before the offer */
    assert_int_equal(sfu_room_offer(r, b, d), SFU_ROOM_SLOTS);
    assert_int_equal(sfu_room_answered(r, b, d), 0);
    for (int i = 0; i < FULL; i++) {
        assert_int_equal(reaches(r, pubs[i], 1000 + (uint32_t)i, 'B'), 1);
        assert_int_equal(reaches(r, pubs[i], 2000 + (uint32_t)i, 'B'), 1);
    }
    /* p0 and p1 go; a newcomer publishes p0's SSRCs. Its tracks wait for
     * a slot, the others keep theirs. */
    sfu_room_leave(r, pubs[0]);
    sfu_room_unpublish(r, pubs[1]);
    pubs[FULL] = sfu_room_join(r, ids[FULL], (void *)&C);
    room_publish(r, pubs[FULL], 1000, 2000, 0);
    assert_int_equal(sfu_room_offer(r, b, d), SFU_ROOM_SLOTS);
    assert_int_equal(reaches(r, pubs[FULL], 1000, 'B'), 0);
    assert_int_equal(reaches(r, pubs[FULL], 2000, 'B'), 0);
    for (int i = 2; i < FULL; i++) {
        assert_int_equal(reaches(r, pubs[i], 1000 + (uint32_t)i, 'B'), 1);
        assert_int_equal(reaches(r, pubs[i], 2000 + (uint32_t)i, 'B'), 1);
    }
    /* Answered, the rejected slots are recycled for the newcomer. */
    assert_int_equal(sfu_room_answered(r, b, d), 1);
    assert_int_equal(sfu_room_offer(r, b, d), SFU_ROOM_SLOTS);
    assert_int_equal(reaches(r, pubs[FULL], 1000, 'B'), 1);
    assert_int_equal(reaches(r, pubs[FULL], 2000, 'B'), 1);
    for (int i = 2; i < FULL; i++) {
        assert_int_equal(reaches(r, pubs[i], 1000 + (uint32_t)i, 'B'), 1);
        assert_int_equal(reaches(r, pubs[i], 2000 + (uint32_t)i, 'B'), 1);
    }
    xfree(d);
}

/* The same with many more tracks coming and going than the index has
 * entries: the slots of a full subscriber recycled again and again (all
 * but the BUNDLE tag's, which would be parked). */
#define CHURN_ROUNDS (3 * (SFU_ROOM_SLOTS - 1))
static void test_slot_index_churn(void **state)
{
    struct sfu_room *r = *state;
    char ids[SFU_ROOM_SLOTS][16];
    struct sfu_member *pubs[SFU_ROOM_SLOTS];
    uint32_t ssrc[SFU_ROOM_SLOTS];
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    struct sdp *d = xcalloc(1, sizeof(*d));
    for (int i = 0; i < SFU_ROOM_SLOTS; i++) {
        snprintf(ids[i], sizeof(ids[i]), "p%d", i);
        pubs[i] = sfu_room_join(r, ids[i], (void *)&A);
        room_publish_audio(r, pubs[i], ssrc[i] = 1000 + (uint32_t)i);
    }
    assert_int_equal(sfu_room_offer(r, b, d), SFU_ROOM_SLOTS);
    assert_int_equal(sfu_room_answered(r, b, d), 0);
    int tag = (int)(d->media[0].ssrcs[0].ssrc - 1000); /* the publisher in the first slot stays */
    for (uint32_t round = 0; round < CHURN_ROUNDS; round++) {
        int i = (int)(round % (SFU_ROOM_SLOTS - 1));
        i += i >= tag;
        sfu_room_leave(r, pubs[i]);
        pubs[i] = sfu_room_join(r, ids[i], (void *)&A);
        room_publish_audio(r, pubs[i], ssrc[i] = 1500 + round);
        assert_int_equal(sfu_room_offer(r, b, d), SFU_ROOM_SLOTS);
        assert_int_equal(sfu_room_answered(r, b, d), 1);
        assert_int_equal(sfu_room_offer(r, b, d), SFU_ROOM_SLOTS);
        assert_int_equal(sfu_room_answered(r, b, d), 0);
        assert_int_equal(reaches(r, pubs[i], ssrc[i], 'B'), 1);
    }
    for (int i = 0; i < SFU_ROOM_SLOTS; i++)
        assert_int_equal(reaches(r, pubs[i], ssrc[i], 'B'), 1);
    xfree(d);
}

/* A room of 30 (issue 12): each member's subscriber offer carries all 29
 * others' audio and video, every SSRC once, and the text of that offer
 * parses back into the same 58 m-sections. */
static void test_room_of_30(void **state)
{
    struct sfu_room *r = *state;
    struct sfu_member *m[30];
    for (int i = 0; i < 30; i++) {
        char id[16];
        snprintf(id, sizeof(id), "m%d", i);
        m[i] = sfu_room_join(r, id, (void *)&A);
        room_publish(r, m[i], 1000 + (uint32_t)i, 2000 + (uint32_t)i, PUB_FID);
    }
    struct sdp *d = xcalloc(1, sizeof(*d)), *back = xcalloc(1, sizeof(*back));
    assert_int_equal(sfu_room_offer(r, m[7], d), 58);
    assert_int_equal(d->nbundle, 58);
    uint64_t seen[2] = { 0, 0 }; /* audio, video: bit i for member i, by msid */
    for (size_t i = 0; i < d->nmedia; i++) {
        const struct sdp_media *x = &d->media[i];
        int who = atoi(x->msid_stream + 1), video = x->kind == SDP_VIDEO;
        assert_int_equal(x->port, 9);
        assert_int_not_equal(who, 7); /* not its own */
        assert_false(seen[video] & (1ull << who));
        seen[video] |= 1ull << who;
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(d->media[j].ssrcs[0].ssrc, x->ssrcs[0].ssrc);
    }
    assert_int_equal(seen[0], seen[1]);
    assert_int_equal(__builtin_popcountll(seen[1]), 29);
    char *text = xmalloc(256 << 10);
    struct sdp_candidate cand = { .ip = "192.0.2.1", .port = 443, .priority = 1 };
    struct sdp_local local = { .ice_ufrag = "uf", .ice_pwd = "pwpwpwpwpwpwpwpwpwpwpw", .fingerprint = "AB:CD",
                               .cands = &cand, .ncands = 1, .setup = SDP_SETUP_ACTPASS, .session_id = 1 };
    int n = sdp_write(d, &local, text, 256 << 10);
    assert_true(n > 0);
    assert_int_equal(sdp_parse(text, (size_t)n, back), 0);
    assert_int_equal(back->nmedia, 58);
    xfree(text);
    xfree(back);
    xfree(d);
}

/* A PLI from `from` about ssrc, as compound RTCP (RR + PLI). */
static void pli(struct sfu_room *r, struct sfu_member *from, uint32_t ssrc, uint64_t now)
{
    uint8_t buf[64];
    static const uint8_t rr[8] = { 0x80, 201, 0, 1, 0, 0, 0, 9 };
    memcpy(buf, rr, sizeof(rr));
    int n = rtcp_build_pli(buf + 8, sizeof(buf) - 8, 9, ssrc);
    assert_true(n > 0);
    sfu_room_rtcp(r, from, buf, 8 + (size_t)n, now);
}

static void test_pli(void **state)
{
    struct sfu_room *r = *state;
    struct sfu_member *a = sfu_room_join(r, "alice", (void *)&A);
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    struct sfu_member *c = sfu_room_join(r, "carol", (void *)&C);
    room_publish(r, a, 1000, 2000, PUB_FID);
    struct sdp *d = xcalloc(1, sizeof(*d));
    sfu_room_offer(r, b, d);
    /* Bob's subscriber transport is ready: one PLI to alice for her video. */
    sfu_room_ready(r, b, 10000);
    assert_int_equal(sent_to('A', 1), 1);
    struct rtcp_iter it;
    struct rtcp_pkt p;
    struct rtcp_fb fb;
    rtcp_iter_init(&it, sent[0].buf, sent[0].len);
    assert_int_equal(rtcp_iter_next(&it, &p), RTCP_OK);
    assert_int_equal(rtcp_parse_pli(&p, &fb), 0);
    assert_int_equal(fb.media_ssrc, 2000);
    /* Bob's PLI 100 ms later is held back; at 500 ms it goes. */
    pli(r, b, 2000, 10100);
    assert_int_equal(sent_to('A', 1), 1);
    assert_int_equal(stats.pli_limited, 1);
    pli(r, b, 2000, 10500);
    assert_int_equal(sent_to('A', 1), 2);
    /* A PLI about audio, about a track carol was never offered, or from the publisher itself: nothing. */
    pli(r, b, 1000, 20000);
    pli(r, c, 2000, 20000);
    pli(r, a, 2000, 20000);
    assert_int_equal(sent_to('A', 1), 2);
    /* FIR asks for a key frame too. */
    uint8_t fir[64];
    int n = rtcp_build_fir(fir, sizeof(fir), 9, 2000, 1);
    sfu_room_rtcp(r, b, fir, (size_t)n, 30000);
    assert_int_equal(sent_to('A', 1), 3);
    assert_int_equal(stats.pli_sent, 3);
    /* Malformed RTCP is counted. */
    fir[0] = 0x40;
    sfu_room_rtcp(r, b, fir, (size_t)n, 40000);
    assert_int_equal(stats.bad_rtcp, 1);
    assert_int_equal(sent_to('A', 1), 3);
    xfree(d);
}


/* --- NACK, RTX, rewriting, reports --- */

/* An RTP packet: ssrc, seq, ts, payload type, a 20-byte payload of seq's low byte. */
static size_t rtp_seq(uint8_t *buf, uint32_t ssrc, uint16_t seq, uint8_t pt)
{
    rtp_pkt(buf, 32, pt, ssrc, seq, seq * 3000u);
    memset(buf + 12, seq & 0xFF, 20);
    return 32;
}

/* A request within the limit is not lost: the PLI goes with the
 * publisher's first packet after the limit (a subscriber that connects
 * just after another asked still gets its key frame). */
static void test_pli_due(void **state)
{
    struct sfu_room *r = *state;
    struct sfu_member *a = sfu_room_join(r, "alice", (void *)&A);
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    struct sfu_member *c = sfu_room_join(r, "carol", (void *)&C);
    room_publish(r, a, 1000, 2000, PUB_FID);
    struct sdp *d = xcalloc(1, sizeof(*d));
    sfu_room_offer(r, b, d);
    sfu_room_offer(r, c, d);
    sfu_room_ready(r, b, 10000);
    sfu_room_ready(r, c, 10100); /* within 500 ms of bob's: due */
    assert_int_equal(sent_to('A', 1), 1);
    assert_int_equal(stats.pli_limited, 1);
    uint8_t pkt[64];
    sfu_room_rtp(r, a, pkt, rtp_seq(pkt, 2000, 1, 96), 10300);
    assert_int_equal(sent_to('A', 1), 1);
    sfu_room_rtp(r, a, pkt, rtp_seq(pkt, 2000, 2, 96), 10500);
    assert_int_equal(sent_to('A', 1), 2);
    assert_int_equal(stats.pli_sent, 2);
    /* Sent once: later packets ask for nothing (the receiver report waits
     * for a second after the first packet). */
    sfu_room_rtp(r, a, pkt, rtp_seq(pkt, 2000, 3, 96), 11200);
    assert_int_equal(sent_to('A', 1), 2);
    xfree(d);
}

/* The offer carries nack, RTX 97 (apt 96) and the FID group. */
static void check_rtx_offer(const struct sdp *d)
{
    const struct sdp_media *v = d->media[0].kind == SDP_VIDEO ? &d->media[0] : &d->media[1];
    assert_int_equal(v->ncodecs, 2);
    assert_string_equal(v->codecs[1].name, "rtx");
    assert_int_equal(v->codecs[1].pt, 97);
    assert_string_equal(v->codecs[1].fmtp, "apt=96");
    assert_true(v->codecs[0].fb & SDP_FB_NACK);
    assert_int_equal(v->fid[0], 2000);
    assert_int_equal(v->fid[1], 2001);
}

static void test_nack_rtx(void **state)
{
    struct sfu_room *r = *state;
    struct sfu_member *a = sfu_room_join(r, "alice", (void *)&A);
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    struct sfu_member *c = sfu_room_join(r, "carol", (void *)&C);
    room_publish(r, a, 1000, 2000, PUB_FID | PUB_NACK);
    struct sdp *d = xcalloc(1, sizeof(*d));
    assert_int_equal(sfu_room_offer(r, b, d), 2);
    check_rtx_offer(d);
    room_answer(r, b, d, SUB_RTX);
    assert_int_equal(sfu_room_offer(r, c, d), 2);
    room_answer(r, c, d, 0);
    uint8_t pkt[64];
    for (uint16_t s = 100; s <= 105; s++)
        if (s != 103)
            sfu_room_rtp(r, a, pkt, rtp_seq(pkt, 2000, s, 96), 5000 + s);
    /* 103 never came: one NACK to alice for it. */
    assert_int_equal(stats.nack_upstream, 1);
    const struct sent *up = last_to('A', 1);
    assert_int_equal(up->buf[1], 205);
    assert_int_equal(wire_rd16(up->buf + 12), 103);
    /* Bob (RTX accepted) asks for 101: RTX, OSN 101, the same payload. */
    nsent = 0;
    uint16_t want = 101;
    room_nack(r, b, 2000, &want, 1, 5200);
    const struct sent *x = last_to('B', 0);
    assert_int_equal(x->len, 34);
    assert_int_equal(x->buf[1] & 0x7F, 97);
    assert_int_equal(wire_rd32(x->buf + 8), 2001);
    assert_int_equal(wire_rd16(x->buf + 12), 101);
    assert_int_equal(x->buf[14], 101);
    uint16_t first_rtx_seq = wire_rd16(x->buf + 2);
    room_nack(r, b, 2000, &want, 1, 5201);
    assert_int_equal(wire_rd16(last_to('B', 0)->buf + 2), (uint16_t)(first_rtx_seq + 1));
    /* Carol (no RTX) gets the packet itself. */
    want = 102;
    room_nack(r, c, 2000, &want, 1, 5202);
    x = last_to('C', 0);
    assert_int_equal(x->len, 32);
    assert_int_equal(wire_rd32(x->buf + 8), 2000);
    assert_int_equal(wire_rd16(x->buf + 2), 102);
    assert_int_equal(stats.retransmitted, 3);
    assert_int_equal(stats.rtx_sent, 2);
    /* 103 is not in the cache: counted, asked upstream; too old a packet likewise. */
    want = 103;
    room_nack(r, c, 2000, &want, 1, 5300);
    assert_int_equal(stats.nack_missed, 1);
    assert_int_equal(stats.nack_upstream, 2);
    want = 101;
    nsent = 0;
    room_nack(r, c, 2000, &want, 1, 5101 + SFU_CACHE_MS + 1);
    assert_int_equal(sent_to('C', 0), 0);
    /* A NACK about a track carol does not get, or garbage, is counted. */
    room_nack(r, c, 4242, &want, 1, 7000);
    assert_int_equal(stats.unknown_ssrc, 1);
    xfree(d);
}

static void test_nack_storm(void **state)
{
    struct sfu_room *r = *state;
    struct sfu_member *a = sfu_room_join(r, "alice", (void *)&A);
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    room_publish(r, a, 1000, 2000, PUB_FID | PUB_NACK);
    room_subscribe(r, b, 0);
    uint8_t pkt[64];
    sfu_room_rtp(r, a, pkt, rtp_seq(pkt, 2000, 7, 96), 1000);
    /* 300 requests for packet 7 in the same millisecond: 250 answered, 50 dropped. */
    uint16_t seven = 7;
    for (int i = 0; i < 300; i++) {
        nsent = 0;
        room_nack(r, b, 2000, &seven, 1, 1001);
    }
    assert_int_equal(stats.retransmitted, SFU_ROOM_NACK_RATE);
    assert_int_equal(stats.nack_storm, 300 - SFU_ROOM_NACK_RATE);
    /* The budget comes back with time: 100 ms later, 25 more. */
    for (int i = 0; i < 30; i++) {
        nsent = 0;
        room_nack(r, b, 2000, &seven, 1, 1101);
    }
    assert_int_equal(stats.retransmitted, SFU_ROOM_NACK_RATE + 25);
    /* Forwarding is not affected. */
    nsent = 0;
    sfu_room_rtp(r, a, pkt, rtp_seq(pkt, 2000, 8, 96), 1102);
    assert_int_equal(sent_to('B', 0), 1);
}

static void test_publisher_rtx(void **state)
{
    struct sfu_room *r = *state;
    struct sfu_member *a = sfu_room_join(r, "alice", (void *)&A);
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    room_publish(r, a, 1000, 2000, PUB_FID | PUB_NACK);
    room_subscribe(r, b, SUB_RTX);
    uint8_t pkt[64], orig[64];
    sfu_room_rtp(r, a, pkt, rtp_seq(pkt, 2000, 10, 96), 1000);
    sfu_room_rtp(r, a, pkt, rtp_seq(pkt, 2000, 12, 96), 1010);
    /* Alice repairs 11 with RTX (ssrc 2001, pt 97, OSN 11). */
    size_t n = rtp_seq(orig, 2000, 11, 96);
    memcpy(pkt, orig, 12);
    pkt[1] = 97;
    pkt[8] = 0, pkt[9] = 0, pkt[10] = 0x07, pkt[11] = 0xD1; /* 2001 */
    pkt[2] = 0, pkt[3] = 5;
    pkt[12] = 0, pkt[13] = 11;
    memcpy(pkt + 14, orig + 12, n - 12);
    nsent = 0;
    sfu_room_rtp(r, a, pkt, n + 2, 1020);
    assert_int_equal(nsent, 1);
    assert_memory_equal(sent[0].buf, orig, n); /* the packet as first sent */
    assert_int_equal(stats.repaired, 1);
    /* It is in the cache now: bob's NACK for 11 is answered. */
    uint16_t eleven = 11;
    room_nack(r, b, 2000, &eleven, 1, 1030);
    assert_int_equal(wire_rd16(last_to('B', 0)->buf + 12), 11);
    /* The same repair again, and a padding-only probe, go nowhere. */
    nsent = 0;
    sfu_room_rtp(r, a, pkt, n + 2, 1040);
    sfu_room_rtp(r, a, pkt, 14, 1040);
    assert_int_equal(nsent, 0);
    assert_int_equal(stats.rtx_dropped, 2);
}

static void test_ssrc_collision(void **state)
{
    struct sfu_room *r = *state;
    struct sfu_member *a = sfu_room_join(r, "alice", (void *)&A);
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    struct sfu_member *c = sfu_room_join(r, "carol", (void *)&C);
    room_publish(r, a, 1000, 2000, PUB_FID | PUB_NACK);
    room_publish(r, b, 1000, 2000, PUB_FID | PUB_NACK); /* the same SSRCs */
    assert_int_equal(stats.ssrc_rewritten, 2);
    struct sdp *d = xcalloc(1, sizeof(*d));
    assert_int_equal(sfu_room_offer(r, c, d), 4);
    uint32_t seen[8];
    size_t nseen = 0;
    for (size_t i = 0; i < 4; i++)
        for (size_t k = 0; k < d->media[i].nssrcs; k++)
            seen[nseen++] = d->media[i].ssrcs[k].ssrc;
    assert_int_equal(nseen, 6);
    for (size_t i = 0; i < nseen; i++)
        for (size_t k = i + 1; k < nseen; k++)
            assert_int_not_equal(seen[i], seen[k]);
    room_answer(r, c, d, SUB_RTX);
    size_t n;
    const struct sfu_track *bt = sfu_room_tracks(b, &n);
    const struct sfu_track *bv = bt[0].kind == SDP_VIDEO ? &bt[0] : &bt[1];
    assert_int_equal(bv->ssrc, 2000);
    assert_int_not_equal(bv->out_ssrc, 2000);
    /* Bob's packets reach carol as his outgoing SSRC, numbers kept. */
    uint8_t pkt[64];
    nsent = 0;
    sfu_room_rtp(r, b, pkt, rtp_seq(pkt, 2000, 50, 96), 1000);
    assert_int_equal(sent_to('C', 0), 1);
    assert_int_equal(wire_rd32(last_to('C', 0)->buf + 8), bv->out_ssrc);
    assert_int_equal(wire_rd16(last_to('C', 0)->buf + 2), 50);
    /* Carol's NACK by that SSRC is answered from bob's cache. */
    uint16_t fifty = 50;
    room_nack(r, c, bv->out_ssrc, &fifty, 1, 1010);
    assert_int_equal(wire_rd32(last_to('C', 0)->buf + 8), bv->out_rtx_ssrc);
    /* A key frame request for it goes to bob, about his own SSRC. */
    pli(r, c, bv->out_ssrc, 2000);
    assert_int_equal(wire_rd32(last_to('B', 1)->buf + 8), 2000);
    /* Re-publishing the same tracks keeps the outgoing SSRCs. */
    uint32_t out = bv->out_ssrc;
    room_publish(r, b, 1000, 2000, PUB_FID | PUB_NACK);
    bt = sfu_room_tracks(b, &n);
    assert_int_equal(bt[1].kind == SDP_VIDEO ? bt[1].out_ssrc : bt[0].out_ssrc, out);
    xfree(d);
}

static void test_reports(void **state)
{
    struct sfu_room *r = *state;
    struct sfu_member *a = sfu_room_join(r, "alice", (void *)&A);
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    room_publish(r, a, 1000, 2000, PUB_FID | PUB_NACK);
    room_publish(r, b, 3000, 2000, PUB_FID | PUB_NACK); /* bob's video leaves rewritten */
    struct sdp *d = xcalloc(1, sizeof(*d));
    sfu_room_offer(r, a, d);
    uint8_t pkt[64];
    for (uint16_t s = 1; s <= 10; s++)
        if (s != 5)
            sfu_room_rtp(r, b, pkt, rtp_seq(pkt, 2000, s, 96), 10000 + s * 10);
    /* Bob's SR: forwarded to alice's subscriber transport under the outgoing SSRC. */
    struct rtcp_sr sr = { .ssrc = 2000, .ntp_sec = 0x11223344, .ntp_frac = 0x55667788, .rtp_ts = 30000,
                          .packet_count = 9, .octet_count = 288 };
    uint8_t buf[128];
    int len = rtcp_build_sr(buf, sizeof(buf), &sr);
    nsent = 0;
    sfu_room_rtcp_pub(r, b, buf, (size_t)len, 10500);
    assert_int_equal(stats.sr_forwarded, 1);
    const struct sent *f = last_to('A', 2);
    size_t n;
    const struct sfu_track *bt = sfu_room_tracks(b, &n);
    const struct sfu_track *bv = bt[0].kind == SDP_VIDEO ? &bt[0] : &bt[1];
    assert_int_equal(f->buf[1], 200);
    assert_int_equal(wire_rd32(f->buf + 4), bv->out_ssrc);
    assert_int_equal(wire_rd32(f->buf + 8), 0x11223344);
    assert_int_equal(wire_rd32(f->buf + 16), 30000);
    /* A second later bob gets our RR: 1 of 10 lost, LSR from his SR, DLSR 0.6 s. */
    sfu_room_rtp(r, b, pkt, rtp_seq(pkt, 2000, 11, 96), 11100);
    assert_int_equal(stats.rr_sent, 1);
    struct rtcp_iter it;
    struct rtcp_pkt p;
    struct rtcp_rr rr;
    const struct sent *rs = last_to('B', 1);
    rtcp_iter_init(&it, rs->buf, rs->len);
    assert_int_equal(rtcp_iter_next(&it, &p), RTCP_OK);
    assert_int_equal(rtcp_parse_rr(&p, &rr), 0);
    assert_int_equal(rr.nblocks, 1);
    assert_int_equal(rr.blocks[0].ssrc, 2000);
    assert_int_equal(rr.blocks[0].highest_seq, 11);
    assert_int_equal(rr.blocks[0].cumulative_lost, 1);
    assert_int_equal(rr.blocks[0].fraction_lost, 256 / 11);
    assert_int_equal(rr.blocks[0].lsr, 0x33445566);
    assert_int_equal(rr.blocks[0].dlsr, 600 * 65536 / 1000);
    /* A compound with a wrong length is counted, nothing sent. */
    buf[3] = 40;
    nsent = 0;
    sfu_room_rtcp_pub(r, b, buf, (size_t)len, 11200);
    assert_int_equal(stats.bad_rtcp, 1);
    assert_int_equal(nsent, 0);
    xfree(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forwarding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offer_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_recycling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_index_churn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_room_of_30, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pli, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pli_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nack_rtx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nack_storm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publisher_rtx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ssrc_collision, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
