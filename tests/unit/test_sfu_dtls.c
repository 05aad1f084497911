/*
 * test_sfu_dtls — the DTLS-SRTP server over memory (src/sfu/dtls.c).
 *
 * A DTLS client written with plain OpenSSL in memory (test_sfu_peer.h)
 * plays the browser: the handshake completes, both sides export the same
 * SRTP keys, the server's preferred profile wins, the server's certificate
 * matches its advertised fingerprint, a client whose certificate does not
 * match the SDP fingerprint is refused, a lost flight is sent again when
 * the timer fires, and application data flows both ways after it. The
 * client role (dtls_client_new()) completes a handshake with our own server
 * and refuses a server whose certificate is not the one its SDP named.
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

/* --- the client role: our client against our server --- */

#define PIPE_Q 16
struct pipe_end {
    uint8_t q[PIPE_Q][1500];
    size_t qlen[PIPE_Q], nq;
};

static void pipe_send(void *ud, const uint8_t *buf, size_t len)
{
    struct pipe_end *e = ud;
    assert_true(len <= DTLS_MTU);
    if (e->nq < PIPE_Q) {
        memcpy(e->q[e->nq], buf, len);
        e->qlen[e->nq++] = len;
    }
}

/* Moves what one side sent to the other until nothing moves. */
static void pump(struct dtls_session *c, struct pipe_end *to_s, struct dtls_session *s, struct pipe_end *to_c)
{
    for (int round = 0; round < 20 && (to_s->nq || to_c->nq); round++) {
        struct pipe_end a = *to_s, b = *to_c;
        to_s->nq = to_c->nq = 0;
        for (size_t i = 0; i < a.nq; i++)
            dtls_session_feed(s, a.q[i], a.qlen[i]);
        for (size_t i = 0; i < b.nq; i++)
            dtls_session_feed(c, b.q[i], b.qlen[i]);
    }
}

static void client_pair(unsigned client_offer, unsigned server_offer, const char *client_fp_of_server,
                        enum dtls_state want_client, enum dtls_srtp_profile want)
{
    char err[128];
    struct dtls_server *srv = server(server_offer), *cli = dtls_client_new(client_offer, err, sizeof(err));
    assert_non_null(cli);
    static struct pipe_end to_s, to_c;
    to_s.nq = to_c.nq = 0;
    const char *sfp = client_fp_of_server ? client_fp_of_server : dtls_server_fingerprint(srv);
    struct dtls_session *c = dtls_session_new(cli, "sha-256", sfp, pipe_send, NULL, &to_s);
    struct dtls_session *s = dtls_session_new(srv, "sha-256", dtls_server_fingerprint(cli), pipe_send, NULL, &to_c);
    assert_non_null(c);
    assert_non_null(s);
    assert_int_equal(dtls_session_connect(s), DTLS_HANDSHAKING); /* a server sends nothing */
    assert_int_equal(to_c.nq, 0);
    assert_int_equal(dtls_session_connect(c), DTLS_HANDSHAKING);
    assert_int_equal(to_s.nq, 1); /* the ClientHello */
    assert_true(dtls_session_deadline(c, 0) > 0);
    pump(c, &to_s, s, &to_c);
    assert_int_equal(dtls_session_state(c), want_client);
    if (want_client == DTLS_CONNECTED) {
        assert_int_equal(dtls_session_state(s), DTLS_CONNECTED);
        struct dtls_srtp_keys kc, ks;
        assert_int_equal(dtls_session_keys(c, &kc), 0);
        assert_int_equal(dtls_session_keys(s, &ks), 0);
        assert_int_equal(kc.profile, want);
        assert_int_equal(ks.profile, want);
        assert_memory_equal(&kc, &ks, sizeof(kc));
    } else {
        assert_int_not_equal(dtls_session_state(s), DTLS_CONNECTED);
        assert_non_null(strstr(dtls_session_error(c), "fingerprint"));
    }
    dtls_session_free(c);
    dtls_session_free(s);
    dtls_server_free(cli);
    dtls_server_free(srv);
}

static void test_client_role(void **state)
{
    (void)state;
    unsigned both = DTLS_OFFER_CM_SHA1_80 | DTLS_OFFER_AES_128_GCM;
    client_pair(both, both, NULL, DTLS_CONNECTED, DTLS_SRTP_AEAD_AES_128_GCM);
    client_pair(DTLS_OFFER_CM_SHA1_80, both, NULL, DTLS_CONNECTED, DTLS_SRTP_AES128_CM_SHA1_80);
    client_pair(both, DTLS_OFFER_CM_SHA1_80, NULL, DTLS_CONNECTED, DTLS_SRTP_AES128_CM_SHA1_80);
    /* the server's certificate does not match what its SDP said */
    char other[DTLS_FP_LEN];
    memset(other, 0, sizeof(other));
    for (int i = 0; i < 32; i++)
        memcpy(other + i * 3, i < 31 ? "AB:" : "AB", i < 31 ? 3 : 2);
    client_pair(both, both, other, DTLS_FAILED, 0);
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
        cmocka_unit_test(test_client_role),
        cmocka_unit_test(test_server_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
