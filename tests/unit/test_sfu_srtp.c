/*
 * test_sfu_srtp — SRTP and SRTCP contexts from DTLS-SRTP keys
 * (src/sfu/srtp.c).
 *
 * A real handshake between src/sfu/dtls.c and the in-memory client of
 * test_sfu_peer.h yields the keys; each side builds its contexts from its
 * own export. A real Chromium RTP packet and RTCP compound (captured
 * unencrypted, see test_sfu_rtp.c and test_sfu_rtcp.c) are protected by
 * one side and unprotected by the other; a flipped bit fails
 * authentication, a repeat is a replay, a short buffer is refused.
 *
 * AES-GCM runs on OpenSSL in place of libsrtp2's NSS backend
 * (src/sfu/srtp_ossl.c): libsrtp2 contexts made before and after the
 * replacement, with one key, read each other's SRTP and SRTCP both ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <srtp2/srtp.h>

#include "sfu/dtls.h"
#include "sfu/srtp_ossl.h"
#include "sfu/srtp.h"
#include "test_sfu_peer.h"
#include "unhex.h"

static const char opus_pkt[] =
    "90ef4a59 1305a6da cb00217d bede0003 2226820f 31000140 3010ff00"
    "780be4c136ecc58d8c49469904c5aaed92e7634a3a1898ee62cb60ff6c1b2900";
static const char sr_compound[] =
    "80c80006 0d3d47bb eebab60a 1cea7ce0 cd220138 00000025 00006d5f"
    "81ca0006 0d3d47bb 01104c64 4d47567a 39673170 72482b70 6d590000";

struct pair {
    struct sfu_srtp *browser_out, *browser_in; /* built from the client's own export */
    struct sfu_srtp *sfu_in, *sfu_out;         /* built from dtls_session_keys() */
};

static void make_pair(struct pair *c, unsigned offer, const char *client_profiles)
{
    char err[128];
    struct dtls_server *srv = dtls_server_new(offer, err, sizeof(err));
    assert_non_null(srv);
    struct peer p;
    assert_int_equal(peer_init(&p, client_profiles), 0);
    struct dtls_session *s = dtls_session_new(srv, "sha-256", p.fp, peer_on_send, NULL, &p);
    assert_int_equal(peer_handshake(&p, s), DTLS_CONNECTED);
    struct dtls_srtp_keys ks, kc;
    assert_int_equal(dtls_session_keys(s, &ks), 0);
    assert_int_equal(peer_keys(&p, &kc), 0);
    c->sfu_in = sfu_srtp_from_dtls(&ks, SFU_SRTP_INBOUND);
    c->sfu_out = sfu_srtp_from_dtls(&ks, SFU_SRTP_OUTBOUND);
    /* the browser sends with the client key and receives with the server's */
    c->browser_out = sfu_srtp_new(kc.profile, kc.client_key, kc.key_len, kc.client_salt, kc.salt_len,
                                  SFU_SRTP_OUTBOUND);
    c->browser_in = sfu_srtp_new(kc.profile, kc.server_key, kc.key_len, kc.server_salt, kc.salt_len,
                                 SFU_SRTP_INBOUND);
    assert_non_null(c->sfu_in);
    assert_non_null(c->sfu_out);
    assert_non_null(c->browser_out);
    assert_non_null(c->browser_in);
    dtls_session_free(s);
    peer_free(&p);
    dtls_server_free(srv);
}

static void free_pair(struct pair *c)
{
    sfu_srtp_free(c->browser_out);
    sfu_srtp_free(c->browser_in);
    sfu_srtp_free(c->sfu_in);
    sfu_srtp_free(c->sfu_out);
}

static void round_trip(struct pair *c)
{
    uint8_t rtp[512], orig[512];
    size_t n0 = unhex(opus_pkt, orig), n = n0;
    memcpy(rtp, orig, n);
    assert_int_equal(sfu_srtp_protect(c->browser_out, rtp, &n, sizeof(rtp)), SFU_SRTP_OK);
    assert_true(n > n0);
    assert_memory_equal(rtp, orig, 12);               /* the header stays readable */
    assert_memory_not_equal(rtp + 28, orig + 28, n0 - 28); /* the payload does not */
    uint8_t copy[512];
    size_t cn = n;
    memcpy(copy, rtp, n);
    assert_int_equal(sfu_srtp_unprotect(c->sfu_in, rtp, &n), SFU_SRTP_OK);
    assert_int_equal(n, n0);
    assert_memory_equal(rtp, orig, n0);
    /* the same packet again is a replay */
    assert_int_equal(sfu_srtp_unprotect(c->sfu_in, copy, &cn), SFU_SRTP_REPLAY);
    /* a flipped bit in the next packet fails authentication */
    n = n0;
    memcpy(rtp, orig, n);
    rtp[3] ^= 1; /* the next sequence number */
    assert_int_equal(sfu_srtp_protect(c->browser_out, rtp, &n, sizeof(rtp)), SFU_SRTP_OK);
    memcpy(copy, rtp, n);
    cn = n;
    rtp[40] ^= 0x10;
    assert_int_equal(sfu_srtp_unprotect(c->sfu_in, rtp, &n), SFU_SRTP_AUTH_FAIL);
    /* a failure does not count as seen: the intact packet still passes */
    assert_int_equal(sfu_srtp_unprotect(c->sfu_in, copy, &cn), SFU_SRTP_OK);
    assert_int_equal(cn, n0);
    /* the SFU's direction has its own key: the browser's inbound cannot
     * read what the browser itself protected */
    n = n0;
    memcpy(rtp, orig, n);
    rtp[3] ^= 2;
    assert_int_equal(sfu_srtp_protect(c->browser_out, rtp, &n, sizeof(rtp)), SFU_SRTP_OK);
    assert_int_equal(sfu_srtp_unprotect(c->browser_in, rtp, &n), SFU_SRTP_AUTH_FAIL);
}

static void rtcp_round_trip(struct pair *c)
{
    uint8_t buf[512], orig[256];
    size_t n0 = unhex(sr_compound, orig), n = n0;
    memcpy(buf, orig, n);
    assert_int_equal(sfu_srtp_protect_rtcp(c->sfu_out, buf, &n, sizeof(buf)), SFU_SRTP_OK);
    assert_true(n > n0);
    assert_int_equal(sfu_srtp_unprotect_rtcp(c->browser_in, buf, &n), SFU_SRTP_OK);
    assert_int_equal(n, n0);
    assert_memory_equal(buf, orig, n0);
    n = n0;
    memcpy(buf, orig, n);
    assert_int_equal(sfu_srtp_protect_rtcp(c->sfu_out, buf, &n, sizeof(buf)), SFU_SRTP_OK);
    buf[20] ^= 1;
    assert_int_equal(sfu_srtp_unprotect_rtcp(c->browser_in, buf, &n), SFU_SRTP_AUTH_FAIL);
}

static void test_cm_sha1_80(void **state)
{
    (void)state;
    struct pair c;
    make_pair(&c, DTLS_OFFER_CM_SHA1_80, "SRTP_AES128_CM_SHA1_80");
    round_trip(&c);
    rtcp_round_trip(&c);
    free_pair(&c);
}

/* AES-GCM runs only where libsrtp2 was built with a crypto library that has
 * it; sfu_srtp_profiles() says so, and then it must work end to end. */
static void test_gcm_when_available(void **state)
{
    (void)state;
    unsigned bits = sfu_srtp_profiles();
    assert_true(bits & DTLS_OFFER_CM_SHA1_80);
    uint8_t zero[16] = { 0 };
    struct sfu_srtp *g = sfu_srtp_new(DTLS_SRTP_AEAD_AES_128_GCM, zero, 16, zero, 12, SFU_SRTP_OUTBOUND);
    assert_int_equal(g != NULL, (bits & DTLS_OFFER_AES_128_GCM) != 0);
    sfu_srtp_free(g);
    if (!(bits & DTLS_OFFER_AES_128_GCM))
        return;
    struct pair c;
    make_pair(&c, bits, "SRTP_AEAD_AES_128_GCM");
    round_trip(&c);
    rtcp_round_trip(&c);
    free_pair(&c);
}

/* The cross-check runs in a child process: libsrtp2 takes srtp_init()
 * once per process, and the replacement is for the whole process. A
 * failed check ends the child with its line number. */
#define CHECK(x) do { if (!(x)) _exit(__LINE__ & 0x7f ? __LINE__ & 0x7f : 1); } while (0)

/* A libsrtp2 context for AES-128-GCM with a fixed key, of whichever
 * implementation is registered now. */
static srtp_t gcm_ctx(int outbound)
{
    srtp_policy_t p;
    static uint8_t key[SRTP_AES_GCM_128_KEY_LEN_WSALT];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i * 13 + 5);
    memset(&p, 0, sizeof(p));
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
    p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    p.key = key;
    p.window_size = 128;
    srtp_t s = NULL;
    CHECK(srtp_create(&s, &p) == srtp_err_status_ok);
    return s;
}

/* from protects RTP and RTCP, to unprotects them. */
static void gcm_cross(srtp_t from, srtp_t to, uint16_t seq)
{
    uint8_t pkt[256], orig[200];
    for (size_t i = 0; i < sizeof(orig); i++)
        orig[i] = (uint8_t)(i * 7);
    orig[0] = 0x80, orig[1] = 96, orig[2] = (uint8_t)(seq >> 8), orig[3] = (uint8_t)seq;
    memcpy(pkt, orig, sizeof(orig));
    int n = sizeof(orig);
    CHECK(srtp_protect(from, pkt, &n) == srtp_err_status_ok && n == sizeof(orig) + 16);
    CHECK(srtp_unprotect(to, pkt, &n) == srtp_err_status_ok && n == sizeof(orig));
    CHECK(memcmp(pkt, orig, sizeof(orig)) == 0);
    uint8_t rtcp[28] = { 0x80, 200, 0, 6, 1, 2, 3, 4, 9, 9, 9, 9 };
    memcpy(pkt, rtcp, sizeof(rtcp));
    n = sizeof(rtcp);
    CHECK(srtp_protect_rtcp(from, pkt, &n) == srtp_err_status_ok);
    CHECK(srtp_unprotect_rtcp(to, pkt, &n) == srtp_err_status_ok && n == sizeof(rtcp));
    CHECK(memcmp(pkt, rtcp, sizeof(rtcp)) == 0);
}

static void gcm_cross_child(void)
{
    CHECK(srtp_init() == srtp_err_status_ok);
    srtp_t nss_out = gcm_ctx(1), nss_in = gcm_ctx(0);
    CHECK(sfu_srtp_ossl_register() == 0); /* libsrtp2's self test passed */
    srtp_t ossl_out = gcm_ctx(1), ossl_in = gcm_ctx(0);
    /* Each packet has its own IV: one context's later packets (a new
     * IV on an EVP context that has done a message) read too. */
    for (uint16_t seq = 1; seq <= 4; seq++) {
        gcm_cross(ossl_out, nss_in, seq);
        gcm_cross(nss_out, ossl_in, seq);
    }
    /* a flipped bit fails OpenSSL's tag check, and the next packet reads */
    uint8_t pkt[64] = { 0x80, 96, 0, 9, 0, 0, 0, 1, 0, 0, 0, 7 };
    int n = 40;
    CHECK(srtp_protect(nss_out, pkt, &n) == srtp_err_status_ok);
    pkt[20] ^= 1;
    CHECK(srtp_unprotect(ossl_in, pkt, &n) == srtp_err_status_auth_fail);
    gcm_cross(nss_out, ossl_in, 10);
    _exit(0);
}

static void test_gcm_openssl_matches_libsrtp(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        gcm_cross_child();
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0); /* else the line (mod 128) of the failed check */
    assert_int_equal(sfu_srtp_gcm_openssl(), 1); /* and here, in the SFU's own contexts */
}

static void test_errors(void **state)
{
    (void)state;
    uint8_t key[16] = { 1 }, salt[14] = { 2 };
    assert_null(sfu_srtp_new(DTLS_SRTP_AES128_CM_SHA1_80, key, 16, salt, 12, SFU_SRTP_INBOUND));
    assert_null(sfu_srtp_new(DTLS_SRTP_AES128_CM_SHA1_80, key, 15, salt, 14, SFU_SRTP_INBOUND));
    assert_null(sfu_srtp_new((enum dtls_srtp_profile)2, key, 16, salt, 14, SFU_SRTP_INBOUND));
    struct sfu_srtp *out = sfu_srtp_new(DTLS_SRTP_AES128_CM_SHA1_80, key, 16, salt, 14, SFU_SRTP_OUTBOUND);
    struct sfu_srtp *in = sfu_srtp_new(DTLS_SRTP_AES128_CM_SHA1_80, key, 16, salt, 14, SFU_SRTP_INBOUND);
    assert_non_null(out);
    assert_non_null(in);
    uint8_t buf[256];
    size_t n = unhex(opus_pkt, buf);
    assert_int_equal(sfu_srtp_protect(out, buf, &n, n + SFU_SRTP_TRAILER_MAX - 1), SFU_SRTP_NO_ROOM);
    size_t tiny = 8;
    assert_int_equal(sfu_srtp_unprotect(in, buf, &tiny), SFU_SRTP_BAD_PACKET);
    tiny = 4;
    assert_int_equal(sfu_srtp_unprotect_rtcp(in, buf, &tiny), SFU_SRTP_BAD_PACKET);
    /* a packet cut below its tag cannot authenticate */
    assert_int_equal(sfu_srtp_protect(out, buf, &n, sizeof(buf)), SFU_SRTP_OK);
    n -= 5;
    assert_int_not_equal(sfu_srtp_unprotect(in, buf, &n), SFU_SRTP_OK);
    assert_string_equal(sfu_srtp_strerror(SFU_SRTP_AUTH_FAIL), "authentication failed");
    sfu_srtp_free(out);
    sfu_srtp_free(in);
    sfu_srtp_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm_openssl_matches_libsrtp),
        cmocka_unit_test(test_cm_sha1_80),
        cmocka_unit_test(test_gcm_when_available),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
