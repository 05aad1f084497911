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
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "sfu/rtcp.h"
#include "sfu/room.h"
#include "sfu/srtp.h"

#define MAX_SENT 32

struct sent {
    char to;             /* member name */
    int rtcp;
    uint8_t buf[64];
    size_t len;
};

static struct sent sent[MAX_SENT];
static size_t nsent;
static uint8_t scratch[1500 + SFU_SRTP_TRAILER_MAX];
static struct sfu_room_stats stats;

static void record(void *ud, uint8_t *pkt, size_t len, size_t cap, int rtcp)
{
    assert_true(cap >= len + SFU_SRTP_TRAILER_MAX);
    assert_true(nsent < MAX_SENT);
    sent[nsent].to = *(const char *)ud;
    sent[nsent].rtcp = rtcp;
    sent[nsent].len = len;
    memcpy(sent[nsent].buf, pkt, len < 64 ? len : 64);
    nsent++;
}

static void send_rtp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    record(ud, pkt, len, cap, 0);
}

static void send_rtcp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    record(ud, pkt, len, cap, 1);
}

static const struct sfu_room_ops ops = { .send_rtp = send_rtp, .send_rtcp = send_rtcp };

/* A publisher's offer (sendonly audio + video with RTX) and our answer. */
static void publish(struct sfu_room *r, struct sfu_member *m, uint32_t audio, uint32_t video)
{
    struct sdp *o = xcalloc(1, sizeof(*o)), *a = xcalloc(1, sizeof(*a));
    o->nmedia = a->nmedia = 2;
    struct sdp_media *om = o->media, *am = a->media;
    om[0].kind = am[0].kind = SDP_AUDIO;
    om[1].kind = am[1].kind = SDP_VIDEO;
    strcpy(om[0].mid, "0");
    strcpy(om[1].mid, "1");
    om[0].ssrcs[0] = (struct sdp_ssrc){ .ssrc = audio, .cname = "cn" };
    om[0].nssrcs = 1;
    om[1].ssrcs[0] = (struct sdp_ssrc){ .ssrc = video, .cname = "cn" };
    om[1].ssrcs[1] = (struct sdp_ssrc){ .ssrc = video + 1, .cname = "cn" };
    om[1].nssrcs = 2;
    om[1].fid[0] = video;
    om[1].fid[1] = video + 1;
    strcpy(om[1].msid_track, "cam");
    for (int i = 0; i < 2; i++) {
        am[i].port = 9;
        am[i].dir = SDP_RECVONLY;
        am[i].ncodecs = 1;
        am[i].codecs[0] = (struct sdp_codec){ .pt = (uint8_t)(i ? 96 : 111), .clock = i ? 90000 : 48000 };
        strcpy(am[i].codecs[0].name, i ? "VP8" : "opus");
    }
    assert_int_equal(sfu_room_publish(r, m, o, a), 2);
    xfree(o);
    xfree(a);
}

static size_t rtp(uint8_t *buf, uint32_t ssrc)
{
    memset(buf, 0, 40);
    buf[0] = 0x80;
    buf[1] = 96;
    buf[8] = (uint8_t)(ssrc >> 24), buf[9] = (uint8_t)(ssrc >> 16), buf[10] = (uint8_t)(ssrc >> 8), buf[11] = (uint8_t)ssrc;
    return 40;
}

static int setup(void **state)
{
    nsent = 0;
    memset(&stats, 0, sizeof(stats));
    *state = sfu_room_new(&ops, scratch, sizeof(scratch), &stats);
    return 0;
}

static int teardown(void **state)
{
    sfu_room_free(*state);
    return 0;
}

static size_t sent_to(char who, int rtcp)
{
    size_t n = 0;
    for (size_t i = 0; i < nsent; i++)
        n += sent[i].to == who && sent[i].rtcp == rtcp;
    return n;
}

static const char A = 'A', B = 'B', C = 'C';

static void test_forwarding(void **state)
{
    struct sfu_room *r = *state;
    struct sfu_member *a = sfu_room_join(r, "alice", (void *)&A);
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    struct sfu_member *c = sfu_room_join(r, "carol", (void *)&C);
    publish(r, a, 1000, 2000);
    uint8_t pkt[64];
    size_t n = rtp(pkt, 2000);
    /* Nobody has been offered alice's tracks yet: nothing goes out. */
    sfu_room_rtp(r, a, pkt, n);
    assert_int_equal(nsent, 0);
    struct sdp *d = xcalloc(1, sizeof(*d));
    assert_int_equal(sfu_room_offer(r, b, d), 2);
    assert_int_equal(sfu_room_offer(r, c, d), 2);
    assert_int_equal(sfu_room_offer(r, a, d), 0); /* nothing of the others to offer alice */
    sfu_room_rtp(r, a, pkt, n);
    assert_int_equal(nsent, 2);
    assert_int_equal(sent_to('B', 0), 1);
    assert_int_equal(sent_to('C', 0), 1);
    assert_int_equal(sent_to('A', 0), 0);
    assert_memory_equal(sent[0].buf, pkt, n); /* SSRC, sequence number and timestamp kept */
    assert_int_equal(stats.forwarded_packets, 2);
    assert_int_equal(stats.forwarded_bytes, 2 * n);
    /* RTX (not offered), a stranger's SSRC and garbage are not forwarded. */
    nsent = 0;
    sfu_room_rtp(r, a, pkt, rtp(pkt, 2001));
    sfu_room_rtp(r, b, pkt, rtp(pkt, 2000)); /* bob does not publish alice's SSRC */
    pkt[0] = 0x40;
    sfu_room_rtp(r, a, pkt, n);
    assert_int_equal(nsent, 0);
    assert_int_equal(stats.unknown_ssrc, 2);
    assert_int_equal(stats.bad_rtp, 1);
    xfree(d);
}

static void test_offer_slots(void **state)
{
    struct sfu_room *r = *state;
    struct sfu_member *a = sfu_room_join(r, "alice", (void *)&A);
    struct sfu_member *b = sfu_room_join(r, "bob", (void *)&B);
    publish(r, a, 1000, 2000);
    struct sdp *d = xcalloc(1, sizeof(*d));
    assert_int_equal(sfu_room_offer(r, b, d), 2);
    assert_int_equal(d->nbundle, 2);
    const struct sdp_media *v = d->media[0].kind == SDP_VIDEO ? &d->media[0] : &d->media[1];
    assert_int_equal(v->dir, SDP_SENDONLY);
    assert_int_equal(v->ssrcs[0].ssrc, 2000);
    assert_int_equal(v->nssrcs, 1);
    assert_int_equal(v->codecs[0].pt, 96);
    assert_int_equal(v->codecs[0].fb, SDP_FB_PLI | SDP_FB_FIR);
    assert_int_equal(v->nextmaps, 0);
    assert_string_equal(v->msid_stream, "alice");
    assert_string_equal(v->msid_track, "cam");
    char mid0[SDP_TOKEN_MAX], mid1[SDP_TOKEN_MAX];
    strcpy(mid0, d->media[0].mid);
    strcpy(mid1, d->media[1].mid);
    /* Carol joins and publishes: bob's offer keeps the old m-sections first. */
    struct sfu_member *c = sfu_room_join(r, "carol", (void *)&C);
    publish(r, c, 3000, 4000);
    assert_int_equal(sfu_room_offer(r, b, d), 4);
    assert_string_equal(d->media[0].mid, mid0);
    assert_string_equal(d->media[1].mid, mid1);
    assert_int_equal(d->media[2].ssrcs[0].ssrc + d->media[3].ssrcs[0].ssrc, 7000);
    /* Alice leaves: her m-sections stay, rejected, and leave BUNDLE. */
    sfu_room_leave(r, a);
    assert_int_equal(sfu_room_offer(r, b, d), 4);
    assert_int_equal(d->media[0].port, 0);
    assert_int_equal(d->media[1].port, 0);
    assert_int_equal(d->media[0].dir, SDP_INACTIVE);
    assert_int_equal(d->media[2].port, 9);
    assert_int_equal(d->nbundle, 2);
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
    publish(r, a, 1000, 2000);
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
    assert_int_equal(stats.bad_rtp, 1);
    assert_int_equal(sent_to('A', 1), 3);
    xfree(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forwarding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offer_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pli, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
