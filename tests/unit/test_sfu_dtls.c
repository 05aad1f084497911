/*
 * test_sfu_dtls — the DTLS-SRTP server over memory (src/sfu/dtls.c).
 *
 * A DTLS client written with plain OpenSSL in memory (test_sfu_peer.h)
 * plays the browser: the handshake completes, both sides export the same
 * SRTP keys, the server's preferred profile wins, the server's certificate
 * matches its advertised fingerprint, a client whose certificate does not
 * match the SDP fingerprint is refused, a lost flight is sent again when
 * the timer fires, and application data flows both ways after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sfu/dtls.h"
#include "test_sfu_peer.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct dtls_server *server(unsigned offer)
{
    char err[128];
    struct dtls_server *srv = dtls_server_new(offer, err, sizeof(err));
    assert_non_null(srv);
    return srv;
}

static void handshake_and_keys(unsigned offer, const char *client_profiles, enum dtls_srtp_profile want)
{
    struct dtls_server *srv = server(offer);
    struct peer p;
    assert_int_equal(peer_init(&p, client_profiles), 0);
    struct dtls_session *s = dtls_session_new(srv, "sha-256", p.fp, peer_on_send, peer_on_data, &p);
    assert_non_null(s);
    assert_int_equal(dtls_session_keys(s, &(struct dtls_srtp_keys){ 0 }), -1);
    assert_int_equal(peer_handshake(&p, s), DTLS_CONNECTED);
    assert_true(SSL_is_init_finished(p.ssl));
    assert_true(p.max_dgram <= DTLS_MTU);
    struct dtls_srtp_keys ks, kc;
    assert_int_equal(dtls_session_keys(s, &ks), 0);
    assert_int_equal(peer_keys(&p, &kc), 0);
    assert_int_equal(ks.profile, want);
    assert_int_equal(kc.profile, want);
    assert_int_equal(ks.salt_len, want == DTLS_SRTP_AES128_CM_SHA1_80 ? 14 : 12);
    assert_memory_equal(ks.client_key, kc.client_key, 16);
    assert_memory_equal(ks.server_key, kc.server_key, 16);
    assert_memory_equal(ks.client_salt, kc.client_salt, ks.salt_len);
    assert_memory_equal(ks.server_salt, kc.server_salt, ks.salt_len);
    assert_memory_not_equal(ks.client_key, ks.server_key, 16);
    /* the certificate the client saw is the one the SDP advertises */
    char seen[DTLS_FP_LEN];
    assert_int_equal(dtls_cert_fingerprint(SSL_get0_peer_certificate(p.ssl), "sha-256", seen), 0);
    assert_string_equal(seen, dtls_server_fingerprint(srv));
    dtls_session_free(s);
    peer_free(&p);
    dtls_server_free(srv);
}

static void test_handshake_cm(void **state)
{
    (void)state;
    handshake_and_keys(DTLS_OFFER_CM_SHA1_80, "SRTP_AES128_CM_SHA1_80", DTLS_SRTP_AES128_CM_SHA1_80);
}

static void test_handshake_gcm_preferred(void **state)
{
    (void)state;
    handshake_and_keys(DTLS_OFFER_CM_SHA1_80 | DTLS_OFFER_AES_128_GCM,
                       "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM", DTLS_SRTP_AEAD_AES_128_GCM);
    /* a browser without GCM still gets CM */
    handshake_and_keys(DTLS_OFFER_CM_SHA1_80 | DTLS_OFFER_AES_128_GCM, "SRTP_AES128_CM_SHA1_80",
                       DTLS_SRTP_AES128_CM_SHA1_80);
}

static void test_wrong_fingerprint(void **state)
{
    (void)state;
    struct dtls_server *srv = server(DTLS_OFFER_CM_SHA1_80);
    struct peer p, other;
    assert_int_equal(peer_init(&p, "SRTP_AES128_CM_SHA1_80"), 0);
    assert_int_equal(peer_init(&other, "SRTP_AES128_CM_SHA1_80"), 0);
    /* the SDP said `other`'s certificate; p presents its own */
    struct dtls_session *s = dtls_session_new(srv, "sha-256", other.fp, peer_on_send, NULL, &p);
    assert_non_null(s);
    assert_int_equal(peer_handshake(&p, s), DTLS_FAILED);
    assert_non_null(strstr(dtls_session_error(s), "fingerprint"));
    assert_int_equal(dtls_session_keys(s, &(struct dtls_srtp_keys){ 0 }), -1);
    /* the client is told: an alert arrives and its handshake fails */
    assert_true(p.nq > 0);
    peer_step(&p, s);
    assert_false(SSL_is_init_finished(p.ssl));
    assert_int_equal(dtls_session_feed(s, (const uint8_t *)"\x16", 1), DTLS_FAILED);
    dtls_session_free(s);
    peer_free(&p);
    peer_free(&other);
    dtls_server_free(srv);
}

static void test_fingerprint_forms(void **state)
{
    (void)state;
    struct dtls_server *srv = server(DTLS_OFFER_CM_SHA1_80);
    struct peer p;
    assert_int_equal(peer_init(&p, "SRTP_AES128_CM_SHA1_80"), 0);
    char lower[DTLS_FP_LEN];
    strcpy(lower, p.fp);
    for (char *c = lower; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'F' ? *c + 32 : *c);
    struct dtls_session *s = dtls_session_new(srv, "SHA-256", lower, peer_on_send, NULL, &p);
    assert_non_null(s);
    assert_int_equal(peer_handshake(&p, s), DTLS_CONNECTED);
    dtls_session_free(s);
    char sha1[DTLS_FP_LEN];
    assert_int_equal(dtls_cert_fingerprint(p.cert, "sha-1", sha1), 0);
    assert_int_equal(strlen(sha1), 20 * 3 - 1);
    assert_null(dtls_session_new(srv, "sha-256", sha1, peer_on_send, NULL, &p)); /* wrong length */
    assert_null(dtls_session_new(srv, "md5", p.fp, peer_on_send, NULL, &p));
    lower[4] = 'x';
    assert_null(dtls_session_new(srv, "sha-256", lower, peer_on_send, NULL, &p));
    assert_int_equal(strlen(dtls_server_fingerprint(srv)), 32 * 3 - 1);
    peer_free(&p);
    dtls_server_free(srv);
}

static void test_retransmit(void **state)
{
    (void)state;
    struct dtls_server *srv = server(DTLS_OFFER_CM_SHA1_80);
    struct peer p;
    assert_int_equal(peer_init(&p, "SRTP_AES128_CM_SHA1_80"), 0);
    struct dtls_session *s = dtls_session_new(srv, "sha-256", p.fp, peer_on_send, NULL, &p);
    assert_int_equal(dtls_session_deadline(s, now_ms()), -1); /* nothing sent yet */
    assert_int_equal(peer_step(&p, s), DTLS_HANDSHAKING);     /* ClientHello in, flight out */
    size_t flight = p.sent_total;
    assert_true(flight > 0);
    p.nq = 0; /* the flight is lost */
    int64_t t0 = now_ms(), deadline = dtls_session_deadline(s, t0);
    assert_true(deadline > t0 && deadline <= t0 + 1000);
    dtls_session_on_timer(s); /* too early: nothing happens */
    assert_int_equal(p.sent_total, flight);
    usleep((useconds_t)(deadline - t0 + 20) * 1000);
    assert_int_equal(dtls_session_on_timer(s), DTLS_HANDSHAKING);
    assert_true(p.sent_total > flight); /* the flight again (OpenSSL may cut it differently) */
    assert_true(p.nq > 0);
    assert_true(dtls_session_deadline(s, now_ms()) > now_ms()); /* the next, longer timer */
    assert_int_equal(peer_handshake(&p, s), DTLS_CONNECTED);
    assert_int_equal(dtls_session_deadline(s, now_ms()), -1);
    dtls_session_free(s);
    peer_free(&p);
    dtls_server_free(srv);
}

static void test_app_data_and_close(void **state)
{
    (void)state;
    struct dtls_server *srv = server(DTLS_OFFER_CM_SHA1_80);
    struct peer p;
    assert_int_equal(peer_init(&p, "SRTP_AES128_CM_SHA1_80"), 0);
    struct dtls_session *s = dtls_session_new(srv, "sha-256", p.fp, peer_on_send, peer_on_data, &p);
    assert_int_equal(dtls_session_send(s, (const uint8_t *)"x", 1), -1); /* not yet */
    assert_int_equal(peer_handshake(&p, s), DTLS_CONNECTED);
    /* client → server */
    assert_int_equal(SSL_write(p.ssl, "hello sctp", 10), 10);
    uint8_t buf[512];
    int n = BIO_read(p.wbio, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(dtls_session_feed(s, buf, (size_t)n), DTLS_CONNECTED);
    assert_int_equal(p.app_len, 10);
    assert_memory_equal(p.app, "hello sctp", 10);
    /* a corrupted record is dropped, the session lives on */
    assert_int_equal(SSL_write(p.ssl, "again", 5), 5);
    n = BIO_read(p.wbio, buf, sizeof(buf));
    buf[n - 1] ^= 0x40;
    p.app_len = 0;
    assert_int_equal(dtls_session_feed(s, buf, (size_t)n), DTLS_CONNECTED);
    assert_int_equal(p.app_len, 0);
    /* server → client */
    p.nq = 0;
    assert_int_equal(dtls_session_send(s, (const uint8_t *)"reply", 5), 0);
    assert_int_equal(p.nq, 1);
    BIO_write(p.rbio, p.q[0], (int)p.qlen[0]);
    char got[16] = { 0 };
    assert_int_equal(SSL_read(p.ssl, got, sizeof(got)), 5);
    assert_string_equal(got, "reply");
    /* the client closes */
    SSL_shutdown(p.ssl);
    n = BIO_read(p.wbio, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(dtls_session_feed(s, buf, (size_t)n), DTLS_CLOSED);
    dtls_session_free(s);
    peer_free(&p);
    dtls_server_free(srv);
}

static void test_server_errors(void **state)
{
    (void)state;
    char err[128] = "";
    assert_null(dtls_server_new(0, err, sizeof(err)));
    assert_non_null(strstr(err, "profile"));
    dtls_server_free(NULL);
    dtls_session_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_cm),
        cmocka_unit_test(test_handshake_gcm_preferred),
        cmocka_unit_test(test_wrong_fingerprint),
        cmocka_unit_test(test_fingerprint_forms),
        cmocka_unit_test(test_retransmit),
        cmocka_unit_test(test_app_data_and_close),
        cmocka_unit_test(test_server_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
