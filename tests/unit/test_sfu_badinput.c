/*
 * test_sfu_badinput — bad input against a real SFU transport in memory:
 * a browser played by test_sfu_peer.h's OpenSSL DTLS client connects a
 * publisher session (src/sfu/session.c) whose media feeds a room
 * (src/sfu/room.c) with one subscriber. Then it sends truncated and
 * garbage DTLS, RTP with bad lengths and extension sizes, SRTP that fails
 * authentication, RTCP compounds with wrong lengths, an unknown SSRC and
 * a NACK storm. Each is dropped with the verdict or counter the glue turns
 * into tincan_sfu_dropped_total{reason} (bad_dtls, bad_rtp, srtp_auth,
 * bad_rtcp, unknown_ssrc, nack_storm), and the transport and the
 * forwarding go on as before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "sfu/room.h"
#include "sfu/rtcp.h"
#include "sfu/session.h"
#include "sfu/srtp.h"
#include "stun/stun.h"
#include "test_sfu_peer.h"
#include "test_sfu_room_util.h"

#define SSRC 0x11223344u

static const char our_ufrag[] = "srvU", our_pwd[] = "8cK0tB6Hq1zAq9pYx2W3mN4v";

struct rig {
    struct peer browser;
    struct dtls_server *srv;
    struct sfu_session *s;
    struct sfu_srtp *tx;          /* the browser's outbound context */
    struct sfu_room *room;
    struct sfu_member *alice, *bob;
    struct sfu_room_stats stats;
    uint8_t scratch[1500 + SFU_SRTP_TRAILER_MAX];
    size_t to_bob, to_alice;
    enum sfu_session_state state;
    uint64_t now;
};

static struct rig rig;
static const struct stun_addr from = { .family = STUN_IPV4, .port = 50000, .ip = { 127, 0, 0, 1 } };

static void on_send(void *ud, const struct stun_addr *to, const uint8_t *buf, size_t len)
{
    (void)to;
    struct rig *r = ud;
    if (buf[0] > 3)
        peer_on_send(&r->browser, buf, len);
}

static void on_rtp(void *ud, uint8_t *buf, size_t len, size_t cap)
{
    (void)cap;
    struct rig *r = ud;
    sfu_room_rtp(r->room, r->alice, buf, len, r->now);
}

static void on_rtcp(void *ud, uint8_t *buf, size_t len, size_t cap)
{
    (void)cap;
    struct rig *r = ud;
    sfu_room_rtcp_pub(r->room, r->alice, buf, len, r->now);
}

static void on_state(void *ud, enum sfu_session_state st)
{
    ((struct rig *)ud)->state = st;
}

static void room_rtp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)pkt, (void)len, (void)cap;
    if (ud == &rig.bob)
        rig.to_bob++;
}

static void room_rtcp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)pkt, (void)len, (void)cap;
    if (ud == &rig.alice)
        rig.to_alice++;
}

static const struct sfu_session_ops ops = { .send = on_send, .rtp = on_rtp, .rtcp = on_rtcp, .state = on_state };
static const struct sfu_room_ops room_ops = { .send_rtp = room_rtp, .send_rtcp = room_rtcp, .send_sub_rtcp = room_rtcp };

static size_t make_check(uint8_t *buf, size_t cap)
{
    size_t n = peer_check(buf, cap, "srvU:brwU", our_pwd, 1853824767, 2);
    assert_true(n > 0);
    return n;
}

static void browser_step(struct rig *r)
{
    uint8_t buf[8192];
    size_t n = peer_flush(&r->browser, buf, sizeof(buf));
    if (n)
        assert_int_equal(sfu_session_input(r->s, buf, n, sizeof(buf), &from, r->now), SFU_IN_OK);
}

/* Alice publishes video SSRC (with nack), bob has been offered it. */
static void room_setup(struct rig *r)
{
    r->room = sfu_room_new(&room_ops, r->scratch, sizeof(r->scratch), &r->stats);
    r->alice = sfu_room_join(r->room, "alice", &r->alice);
    r->bob = sfu_room_join(r->room, "bob", &r->bob);
    struct sdp *o = xcalloc(1, sizeof(*o)), *a = xcalloc(1, sizeof(*a));
    o->nmedia = a->nmedia = 1;
    o->media[0].kind = a->media[0].kind = SDP_VIDEO;
    o->media[0].ssrcs[0].ssrc = SSRC;
    o->media[0].nssrcs = 1;
    a->media[0].port = 9;
    a->media[0].dir = SDP_RECVONLY;
    a->media[0].ncodecs = 1;
    a->media[0].codecs[0] = (struct sdp_codec){ .pt = 96, .name = "VP8", .clock = 90000, .fb = SDP_FB_NACK, .apt = -1 };
    assert_int_equal(sfu_room_publish(r->room, r->alice, o, a), 1);
    assert_int_equal(sfu_room_offer(r->room, r->bob, o), 1);
    xfree(o);
    xfree(a);
}

static int setup(void **state)
{
    struct rig *r = &rig;
    memset(r, 0, sizeof(*r));
    r->now = 1000;
    char err[128];
    r->srv = dtls_server_new(sfu_srtp_profiles(), err, sizeof(err));
    if (!r->srv || peer_init(&r->browser, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0)
        return -1;
    struct sfu_session_params p = {
        .local_ufrag = our_ufrag, .local_pwd = our_pwd, .remote_ufrag = "brwU", .fp_hash = "sha-256",
        .fp_hex = r->browser.fp,
    };
    r->s = sfu_session_new(r->srv, &p, &ops, r);
    room_setup(r);
    uint8_t buf[256];
    size_t n = make_check(buf, sizeof(buf));
    if (!r->s || sfu_session_input(r->s, buf, n, sizeof(buf), &from, r->now) != SFU_IN_OK)
        return -1;
    for (int i = 0; i < 10 && (r->state != SFU_SESSION_CONNECTED || !SSL_is_init_finished(r->browser.ssl)); i++)
        browser_step(r);
    struct dtls_srtp_keys k;
    if (r->state != SFU_SESSION_CONNECTED || peer_keys(&r->browser, &k) != 0)
        return -1;
    r->tx = sfu_srtp_new(k.profile, k.client_key, k.key_len, k.client_salt, k.salt_len, SFU_SRTP_OUTBOUND);
    *state = r;
    return r->tx ? 0 : -1;
}

static int teardown(void **state)
{
    struct rig *r = *state;
    sfu_srtp_free(r->tx);
    sfu_session_free(r->s);
    sfu_room_free(r->room);
    dtls_server_free(r->srv);
    peer_free(&r->browser);
    return 0;
}

static size_t make_rtp(uint8_t *buf, uint32_t ssrc, uint16_t seq)
{
    rtp_pkt(buf, 112, 96, ssrc, seq, 0);
    for (int i = 12; i < 112; i++)
        buf[i] = (uint8_t)i;
    return 112;
}

/* Protects plain[0..len) as SRTP (or SRTCP) and feeds it; returns the verdict. */
static enum sfu_input feed(struct rig *r, const uint8_t *plain, size_t len, int rtcp)
{
    uint8_t pkt[1600];
    memcpy(pkt, plain, len);
    enum sfu_srtp_status st = rtcp ? sfu_srtp_protect_rtcp(r->tx, pkt, &len, sizeof(pkt))
                                   : sfu_srtp_protect(r->tx, pkt, &len, sizeof(pkt));
    if (st != SFU_SRTP_OK)
        return SFU_IN_BAD_PACKET; /* libsrtp refused to protect it: it cannot come from a browser either */
    r->now += 1;
    return sfu_session_input(r->s, pkt, len, sizeof(pkt), &from, r->now);
}

/* A good packet still goes to bob, and the transport is still connected. */
static void still_forwarding(struct rig *r, uint16_t seq)
{
    uint8_t pkt[200];
    size_t before = r->to_bob;
    assert_int_equal(feed(r, pkt, make_rtp(pkt, SSRC, seq), 0), SFU_IN_OK);
    assert_int_equal(r->to_bob, before + 1);
    assert_int_equal(sfu_session_state(r->s), SFU_SESSION_CONNECTED);
}

static void test_bad_dtls(void **state)
{
    struct rig *r = *state;
    still_forwarding(r, 1);
    /* A handshake record whose length runs past the datagram. */
    uint8_t rec[40] = { 22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 1, 0, 200 };
    assert_int_equal(sfu_session_input(r->s, rec, sizeof(rec), sizeof(rec), &from, r->now), SFU_IN_BAD_DTLS);
    /* Truncated inside the header, a wrong version, bytes after the last record. */
    assert_int_equal(sfu_session_input(r->s, rec, 9, sizeof(rec), &from, r->now), SFU_IN_BAD_DTLS);
    rec[12] = 27;
    rec[1] = 0x03;
    assert_int_equal(sfu_session_input(r->s, rec, sizeof(rec), sizeof(rec), &from, r->now), SFU_IN_BAD_DTLS);
    rec[1] = 0xFE;
    rec[12] = 20;
    assert_int_equal(sfu_session_input(r->s, rec, sizeof(rec), sizeof(rec), &from, r->now), SFU_IN_BAD_DTLS);
    /* Well framed application data that is garbage: OpenSSL drops the record. */
    uint8_t app[45] = { 23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 9, 0, 32 };
    memset(app + 13, 0x5A, 32);
    assert_int_equal(sfu_session_input(r->s, app, sizeof(app), sizeof(app), &from, r->now), SFU_IN_OK);
    still_forwarding(r, 2);
}

static void test_bad_rtp(void **state)
{
    struct rig *r = *state;
    uint8_t pkt[200];
    size_t n = make_rtp(pkt, SSRC, 10);
    /* Fifteen CSRCs and an extension block longer than the packet. */
    pkt[0] = 0x8F;
    for (int i = 0; i < 2; i++) {
        uint64_t bad = r->stats.bad_rtp;
        enum sfu_input v = feed(r, pkt, 60, 0);
        assert_true(v == SFU_IN_BAD_PACKET || (v == SFU_IN_OK && r->stats.bad_rtp == bad + 1));
        make_rtp(pkt, SSRC, 11);
        pkt[0] = 0x90;
        pkt[12] = 0xBE, pkt[13] = 0xDE, pkt[14] = 0x00, pkt[15] = 0xF0;
    }
    /* One-byte extension elements that run past their block. */
    make_rtp(pkt, SSRC, 12);
    pkt[0] = 0x90;
    pkt[12] = 0xBE, pkt[13] = 0xDE, pkt[14] = 0, pkt[15] = 1;
    pkt[16] = 0x1F; /* id 1, 16 bytes, in a 4-byte block */
    uint64_t bad = r->stats.bad_rtp;
    assert_int_equal(feed(r, pkt, n, 0), SFU_IN_OK);
    assert_int_equal(r->stats.bad_rtp, bad + 1);
    /* A padding count longer than the payload. */
    make_rtp(pkt, SSRC, 13);
    pkt[0] = 0xA0;
    pkt[n - 1] = 200;
    assert_int_equal(feed(r, pkt, n, 0), SFU_IN_OK);
    assert_int_equal(r->stats.bad_rtp, bad + 2);
    still_forwarding(r, 14);
}

static void test_srtp_auth(void **state)
{
    struct rig *r = *state;
    uint8_t pkt[200 + SFU_SRTP_TRAILER_MAX];
    size_t len = make_rtp(pkt, SSRC, 20);
    assert_int_equal(sfu_srtp_protect(r->tx, pkt, &len, sizeof(pkt)), SFU_SRTP_OK);
    pkt[len - 1] ^= 0x40;
    assert_int_equal(sfu_session_input(r->s, pkt, len, sizeof(pkt), &from, r->now), SFU_IN_SRTP_AUTH);
    /* (GCM leaves a packet that failed undefined: it is not fed again.) */
    /* The same packet again is a replay. */
    len = make_rtp(pkt, SSRC, 21);
    assert_int_equal(sfu_srtp_protect(r->tx, pkt, &len, sizeof(pkt)), SFU_SRTP_OK);
    uint8_t copy[sizeof(pkt)];
    memcpy(copy, pkt, len);
    assert_int_equal(sfu_session_input(r->s, pkt, len, sizeof(pkt), &from, r->now), SFU_IN_OK);
    assert_int_equal(sfu_session_input(r->s, copy, len, sizeof(copy), &from, r->now), SFU_IN_SRTP_AUTH);
    still_forwarding(r, 22);
}

static void test_bad_rtcp(void **state)
{
    struct rig *r = *state;
    struct rtcp_sr sr = { .ssrc = SSRC, .ntp_sec = 1, .rtp_ts = 2 };
    uint8_t buf[128];
    int n = rtcp_build_sr(buf, sizeof(buf), &sr);
    assert_true(n > 0);
    assert_int_equal(feed(r, buf, (size_t)n, 1), SFU_IN_OK);
    assert_int_equal(r->stats.bad_rtcp, 0);
    /* The SR says it is longer than the datagram, then shorter (bytes left over). */
    buf[3] = 20;
    assert_int_equal(feed(r, buf, (size_t)n, 1), SFU_IN_OK);
    buf[3] = 2;
    assert_int_equal(feed(r, buf, (size_t)n, 1), SFU_IN_OK);
    /* An SR whose report count does not fit its length. */
    buf[3] = 6;
    buf[0] = 0x83;
    assert_int_equal(feed(r, buf, (size_t)n, 1), SFU_IN_OK);
    assert_int_equal(r->stats.bad_rtcp, 3);
    /* A subscriber's NACK with an FCI of 3 bytes. */
    uint16_t seq = 1;
    n = rtcp_build_nack(buf, sizeof(buf), 9, SSRC, &seq, 1);
    buf[3] = 2;
    sfu_room_rtcp(r->room, r->bob, buf, 12, r->now);
    assert_int_equal(r->stats.bad_rtcp, 4);
    still_forwarding(r, 30);
}

static void test_unknown_ssrc_and_storm(void **state)
{
    struct rig *r = *state;
    uint8_t pkt[200];
    size_t before = r->to_bob;
    assert_int_equal(feed(r, pkt, make_rtp(pkt, 0xDEADBEEF, 40), 0), SFU_IN_OK);
    assert_int_equal(r->stats.unknown_ssrc, 1);
    assert_int_equal(r->to_bob, before);
    still_forwarding(r, 41);
    /* Bob asks for packet 41 a thousand times within a millisecond. */
    uint8_t buf[64];
    uint16_t seq = 41;
    int n = rtcp_build_nack(buf, sizeof(buf), 9, SSRC, &seq, 1);
    before = r->to_bob;
    for (int i = 0; i < 1000; i++)
        sfu_room_rtcp(r->room, r->bob, buf, (size_t)n, r->now);
    assert_int_equal(r->to_bob - before, SFU_ROOM_NACK_RATE);
    assert_int_equal(r->stats.nack_storm, 1000 - SFU_ROOM_NACK_RATE);
    still_forwarding(r, 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_dtls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rtp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_srtp_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rtcp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_ssrc_and_storm, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
