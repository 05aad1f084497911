/*
 * test_sfu_session — one SFU transport (src/sfu/session.c) in memory: a
 * browser played by test_sfu_peer.h's OpenSSL DTLS client sends an ICE
 * check, runs the DTLS-SRTP handshake through sfu_session_input() and
 * exchanges SRTP and SRTCP both ways. Also: DTLS from an address that
 * passed no check is refused, media before the handshake and media that
 * fails authentication are dropped, the DTLS timer retransmits, and an
 * ICE restart keeps DTLS while the new credentials take over.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sfu/session.h"
#include "sfu/srtp.h"
#include "stun/stun.h"
#include "test_sfu_peer.h"

static const char our_ufrag[] = "srvU", our_pwd[] = "8cK0tB6Hq1zAq9pYx2W3mN4v";

/* What the session sent and handed on. */
struct rig {
    struct peer browser;
    struct dtls_server *srv;
    struct sfu_session *s;
    struct stun_addr last_to;
    size_t sent, stun_sent;
    uint8_t rtp[1500];
    size_t rtp_len, nrtp, nrtcp, npair;
    enum sfu_session_state state;
};

static struct stun_addr v4(uint8_t last, uint16_t port)
{
    struct stun_addr a = { .family = STUN_IPV4, .port = port, .ip = { 127, 0, 0, last } };
    return a;
}

static void on_send(void *ud, const struct stun_addr *to, const uint8_t *buf, size_t len)
{
    struct rig *r = ud;
    r->last_to = *to;
    r->sent++;
    if (buf[0] <= 3)
        r->stun_sent++;
    else
        peer_on_send(&r->browser, buf, len); /* DTLS and SRTP go to the browser's queue */
}

static void on_rtp(void *ud, uint8_t *buf, size_t len, size_t cap)
{
    struct rig *r = ud;
    assert_true(cap >= len);
    memcpy(r->rtp, buf, len);
    r->rtp_len = len;
    r->nrtp++;
}

static void on_rtcp(void *ud, uint8_t *buf, size_t len, size_t cap)
{
    (void)buf, (void)len, (void)cap;
    ((struct rig *)ud)->nrtcp++;
}

static void on_pair(void *ud, const struct stun_addr *remote)
{
    (void)remote;
    ((struct rig *)ud)->npair++;
}

static void on_state(void *ud, enum sfu_session_state st)
{
    ((struct rig *)ud)->state = st;
}

static const struct sfu_session_ops ops = {
    .send = on_send, .rtp = on_rtp, .rtcp = on_rtcp, .pair = on_pair, .state = on_state,
};

static int setup(void **state)
{
    static struct rig r;
    memset(&r, 0, sizeof(r));
    char err[128];
    r.srv = dtls_server_new(sfu_srtp_profiles(), err, sizeof(err));
    if (!r.srv || peer_init(&r.browser, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0)
        return -1;
    struct sfu_session_params p = {
        .local_ufrag = our_ufrag, .local_pwd = our_pwd, .remote_ufrag = "brwU", .fp_hash = "sha-256",
        .fp_hex = r.browser.fp,
    };
    r.s = sfu_session_new(r.srv, &p, &ops, &r);
    *state = &r;
    return r.s ? 0 : -1;
}

static int teardown(void **state)
{
    struct rig *r = *state;
    sfu_session_free(r->s);
    dtls_server_free(r->srv);
    peer_free(&r->browser);
    return 0;
}

/* A browser's check with USE-CANDIDATE, as ice_lite wants it. */
static size_t make_check(uint8_t *buf, size_t cap, uint8_t txid_last)
{
    size_t n = peer_check(buf, cap, "srvU:brwU", our_pwd, 1853824767, txid_last);
    assert_true(n > 0);
    return n;
}

/* Runs the browser's side once and feeds what it wrote through the session. */
static enum sfu_input browser_step(struct rig *r, const struct stun_addr *from)
{
    uint8_t buf[8192];
    size_t n = peer_flush(&r->browser, buf, sizeof(buf));
    return n ? sfu_session_input(r->s, buf, n, sizeof(buf), from, 1000) : SFU_IN_OK;
}

static void check_from(struct rig *r, const struct stun_addr *from)
{
    uint8_t buf[256];
    size_t n = make_check(buf, sizeof(buf), 1);
    assert_int_equal(sfu_session_input(r->s, buf, n, sizeof(buf), from, 1000), SFU_IN_OK);
}

static void handshake(struct rig *r, const struct stun_addr *from)
{
    check_from(r, from);
    assert_int_equal(r->stun_sent, 1);
    assert_int_equal(r->npair, 1);
    assert_non_null(ice_lite_selected(sfu_session_ice(r->s)));
    for (int i = 0; i < 10 && (r->state != SFU_SESSION_CONNECTED || !SSL_is_init_finished(r->browser.ssl)); i++)
        assert_int_equal(browser_step(r, from), SFU_IN_OK);
    assert_int_equal(r->state, SFU_SESSION_CONNECTED);
    assert_int_equal(sfu_session_state(r->s), SFU_SESSION_CONNECTED);
    assert_int_equal(sfu_session_deadline(r->s, 1000), -1);
}

static size_t make_rtp(uint8_t *buf, uint16_t seq)
{
    static const uint8_t hdr[12] = { 0x80, 96, 0, 0, 0, 0, 0x10, 0, 0x11, 0x22, 0x33, 0x44 };
    memcpy(buf, hdr, sizeof(hdr));
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    for (int i = 0; i < 100; i++)
        buf[12 + i] = (uint8_t)i;
    return 112;
}

static void test_handshake_and_media(void **state)
{
    struct rig *r = *state;
    struct stun_addr a = v4(1, 50000);
    handshake(r, &a);
    struct dtls_srtp_keys k;
    assert_int_equal(peer_keys(&r->browser, &k), 0);
    struct sfu_srtp *tx = sfu_srtp_new(k.profile, k.client_key, k.key_len, k.client_salt, k.salt_len, SFU_SRTP_OUTBOUND);
    struct sfu_srtp *rx = sfu_srtp_new(k.profile, k.server_key, k.key_len, k.server_salt, k.salt_len, SFU_SRTP_INBOUND);
    assert_non_null(tx);
    assert_non_null(rx);
    /* Browser → SFU: RTP unprotected and handed on, byte for byte. */
    uint8_t plain[256], pkt[512];
    size_t plen = make_rtp(plain, 7), len = plen;
    memcpy(pkt, plain, plen);
    assert_int_equal(sfu_srtp_protect(tx, pkt, &len, sizeof(pkt)), SFU_SRTP_OK);
    assert_int_equal(sfu_session_input(r->s, pkt, len, sizeof(pkt), &a, 1100), SFU_IN_OK);
    assert_int_equal(r->nrtp, 1);
    assert_int_equal(r->rtp_len, plen);
    assert_memory_equal(r->rtp, plain, plen);
    /* A tampered packet fails authentication and is not handed on. */
    len = make_rtp(pkt, 8);
    assert_int_equal(sfu_srtp_protect(tx, pkt, &len, sizeof(pkt)), SFU_SRTP_OK);
    pkt[len - 1] ^= 1;
    assert_int_equal(sfu_session_input(r->s, pkt, len, sizeof(pkt), &a, 1100), SFU_IN_SRTP_AUTH);
    assert_int_equal(r->nrtp, 1);
    /* SRTCP: a PLI. */
    static const uint8_t pli[12] = { 0x81, 206, 0, 2, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44 };
    memcpy(pkt, pli, sizeof(pli));
    len = sizeof(pli);
    assert_int_equal(sfu_srtp_protect_rtcp(tx, pkt, &len, sizeof(pkt)), SFU_SRTP_OK);
    assert_int_equal(sfu_session_input(r->s, pkt, len, sizeof(pkt), &a, 1100), SFU_IN_OK);
    assert_int_equal(r->nrtcp, 1);
    /* SFU → browser: protected, sent to the selected pair, readable with the server's keys. */
    r->browser.nq = 0;
    len = make_rtp(pkt, 9);
    assert_int_equal(sfu_session_send_rtp(r->s, pkt, len, sizeof(pkt)), 0);
    assert_int_equal(r->browser.nq, 1);
    assert_memory_equal(&r->last_to, &a, sizeof(a));
    size_t got = r->browser.qlen[0];
    assert_true(got > len);
    assert_int_equal(sfu_srtp_unprotect(rx, r->browser.q[0], &got), SFU_SRTP_OK);
    make_rtp(plain, 9);
    assert_int_equal(got, len);
    assert_memory_equal(r->browser.q[0], plain, len);
    sfu_srtp_free(tx);
    sfu_srtp_free(rx);
}

static void test_dtls_only_after_ice(void **state)
{
    struct rig *r = *state;
    struct stun_addr a = v4(1, 50000), b = v4(2, 50001);
    /* A ClientHello before any check: refused, nothing sent. */
    assert_int_equal(browser_step(r, &b), SFU_IN_UNKNOWN_ADDR);
    assert_int_equal(r->sent, 0);
    /* A check from a, then the (retransmitted) ClientHello from b: still refused. */
    check_from(r, &a);
    SSL_clear(r->browser.ssl);
    SSL_set_connect_state(r->browser.ssl);
    assert_int_equal(browser_step(r, &b), SFU_IN_UNKNOWN_ADDR);
    assert_int_equal(r->sent, 1); /* only the ICE answer */
    uint8_t rtp[256];
    size_t n = make_rtp(rtp, 1);
    assert_int_equal(sfu_session_input(r->s, rtp, n, sizeof(rtp), &b, 1000), SFU_IN_UNKNOWN_ADDR);
    assert_int_equal(sfu_session_input(r->s, rtp, n, sizeof(rtp), &a, 1000), SFU_IN_NOT_READY);
    assert_int_equal(sfu_session_send_rtp(r->s, rtp, n, sizeof(rtp)), -EAGAIN);
}

static void test_handshake_timer(void **state)
{
    struct rig *r = *state;
    struct stun_addr a = v4(1, 50000);
    assert_int_equal(sfu_session_deadline(r->s, 1000), -1); /* no DTLS yet */
    check_from(r, &a);
    assert_int_equal(browser_step(r, &a), SFU_IN_OK); /* ClientHello: the server's flight goes out */
    assert_true(r->browser.nq > 0);
    int64_t d = sfu_session_deadline(r->s, 1000);
    assert_true(d > 1000 && d <= 1000 + 1000);
}

static void test_garbage(void **state)
{
    struct rig *r = *state;
    struct stun_addr a = v4(1, 50000);
    uint8_t junk[32] = { 0xF0, 1, 2, 3 };
    assert_int_equal(sfu_session_input(r->s, junk, sizeof(junk), sizeof(junk), &a, 1000), SFU_IN_BAD_PACKET);
    junk[0] = 0; /* STUN-shaped but not a check */
    assert_int_equal(sfu_session_input(r->s, junk, 20, sizeof(junk), &a, 1000), SFU_IN_ICE_REJECTED);
    assert_int_equal(r->npair, 0);
}


/* A check with our new credentials after a restart, its priority lower
 * than the old pair's. */
static size_t make_check2(uint8_t *buf, size_t cap, const char *user, const char *pwd)
{
    size_t n = peer_check(buf, cap, user, pwd, 100, 9);
    assert_true(n > 0);
    return n;
}

static void test_ice_restart(void **state)
{
    struct rig *r = *state;
    struct stun_addr a = v4(1, 50000), b = v4(3, 50002);
    handshake(r, &a);
    assert_int_equal(sfu_session_last_check(r->s, 0), 1000);
    assert_int_equal(sfu_session_restart_ice(r->s, "newU", "Zq3pW8rT1yU6iO0pA5sD7fG9", "brw2"), 0);
    /* Media goes on over the old pair until a new one is nominated. */
    uint8_t pkt[512];
    size_t len = make_rtp(pkt, 1);
    assert_int_equal(sfu_session_send_rtp(r->s, pkt, len, sizeof(pkt)), 0);
    assert_memory_equal(&r->last_to, &a, sizeof(a));
    /* The old credentials no longer pass; the new ones do, from a new address,
     * and that pair takes over although its priority is lower. */
    uint8_t chk[256];
    size_t n = make_check(chk, sizeof(chk), 5);
    assert_int_equal(sfu_session_input(r->s, chk, n, sizeof(chk), &b, 2000), SFU_IN_ICE_REJECTED);
    n = make_check2(chk, sizeof(chk), "newU:brw2", "Zq3pW8rT1yU6iO0pA5sD7fG9");
    assert_int_equal(sfu_session_input(r->s, chk, n, sizeof(chk), &b, 2000), SFU_IN_OK);
    assert_int_equal(sfu_session_last_check(r->s, 0), 2000);
    len = make_rtp(pkt, 2);
    assert_int_equal(sfu_session_send_rtp(r->s, pkt, len, sizeof(pkt)), 0);
    assert_memory_equal(&r->last_to, &b, sizeof(b));
    /* DTLS was not redone: still connected, same keys. */
    assert_int_equal(sfu_session_state(r->s), SFU_SESSION_CONNECTED);
    assert_int_equal(sfu_session_restart_ice(r->s, "", "x", "y"), -1);
}

/* A session from our offer: checks are answered before the browser's
 * answer (any ufrag of its), a ClientHello before it is kept; the answer
 * drops the pairs of another ufrag and the kept ClientHello starts the
 * handshake. */
static void test_early_subscriber(void **state)
{
    struct rig *r = *state;
    sfu_session_free(r->s);
    struct sfu_session_params p = { .local_ufrag = our_ufrag, .local_pwd = our_pwd };
    r->s = sfu_session_new(r->srv, &p, &ops, r);
    assert_non_null(r->s);
    struct stun_addr a = v4(1, 50000), other = v4(4, 50004);
    uint8_t chk[256];
    size_t n = make_check2(chk, sizeof(chk), "srvU:zzzz", our_pwd); /* another m-section's agent */
    assert_int_equal(sfu_session_input(r->s, chk, n, sizeof(chk), &other, 900), SFU_IN_OK);
    check_from(r, &a); /* "srvU:brwU", before the answer */
    assert_int_equal(r->npair, 2);
    assert_int_equal(sfu_session_deadline(r->s, 1000), -1);
    assert_string_equal(sfu_session_error(r->s), "");
    /* The ClientHello comes before the answer: kept, nothing sent. */
    size_t sent = r->sent;
    assert_int_equal(browser_step(r, &a), SFU_IN_NOT_READY);
    assert_int_equal(r->sent, sent);
    assert_int_equal(sfu_session_state(r->s), SFU_SESSION_NEW);
    assert_int_equal(sfu_session_set_remote(r->s, "brwU", "sha-256", r->browser.fp), 0);
    assert_true(r->sent > sent); /* our flight to the kept ClientHello */
    assert_memory_equal(&r->last_to, &a, sizeof(a));
    for (int i = 0; i < 10 && r->state != SFU_SESSION_CONNECTED; i++)
        assert_int_equal(browser_step(r, &a), SFU_IN_OK);
    assert_int_equal(r->state, SFU_SESSION_CONNECTED);
    /* Only the pair of the answer's ufrag is left. */
    const struct ice_lite *ice = sfu_session_ice(r->s);
    int pairs = 0;
    for (int i = 0; i < ICE_MAX_PAIRS; i++)
        pairs += ice->pairs[i].in_use;
    assert_int_equal(pairs, 1);
    assert_memory_equal(&ice_lite_selected(ice)->remote, &a, sizeof(a));
    assert_int_equal(sfu_session_set_remote(r->s, "brwU", "sha-256", r->browser.fp), -1); /* once */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_and_media, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_only_after_ice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handshake_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ice_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_early_subscriber, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
