/*
 * test_sfu_peer — a DTLS-SRTP client in memory that plays the browser
 * against src/sfu/dtls.c, for the DTLS and SRTP unit tests. It is plain
 * OpenSSL (DTLS_client_method over memory BIOs) with its own self-signed
 * certificate; the server's datagrams reach it through a queue filled by
 * the session's send callback, and its own go to dtls_session_feed() (or,
 * through peer_flush(), to a whole transport). peer_check() makes the ICE
 * check a browser sends before its DTLS.
 */
#ifndef TINCAN_TEST_SFU_PEER_H
#define TINCAN_TEST_SFU_PEER_H

#include <stdint.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "sfu/dtls.h"
#include "stun/stun.h"

#define PEER_QUEUE 32

struct peer {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio;
    X509 *cert;
    EVP_PKEY *key;
    char fp[DTLS_FP_LEN];
    /* datagrams the server sent, not yet given to the client */
    uint8_t q[PEER_QUEUE][1500];
    size_t qlen[PEER_QUEUE], nq;
    size_t sent_total;     /* datagrams the server ever sent */
    size_t max_dgram;      /* the largest of them */
    uint8_t app[256];      /* last application data the server received */
    size_t app_len;
};

static inline int peer_accept_any(int ok, X509_STORE_CTX *x)
{
    (void)ok, (void)x;
    return 1;
}

/* The server session's send callback. */
static inline void peer_on_send(void *ud, const uint8_t *buf, size_t len)
{
    struct peer *p = ud;
    p->sent_total++;
    if (len > p->max_dgram)
        p->max_dgram = len;
    if (p->nq < PEER_QUEUE && len <= sizeof(p->q[0])) {
        memcpy(p->q[p->nq], buf, len);
        p->qlen[p->nq++] = len;
    }
}

static inline void peer_on_data(void *ud, const uint8_t *buf, size_t len)
{
    struct peer *p = ud;
    p->app_len = len < sizeof(p->app) ? len : sizeof(p->app);
    memcpy(p->app, buf, p->app_len);
}

/* A client offering the given SRTP profiles (OpenSSL names). 0 or -1. */
static inline int peer_init(struct peer *p, const char *profiles)
{
    memset(p, 0, sizeof(*p));
    if (dtls_cert_generate(&p->cert, &p->key) != 0 || dtls_cert_fingerprint(p->cert, "sha-256", p->fp) != 0)
        return -1;
    p->ctx = SSL_CTX_new(DTLS_client_method());
    if (!p->ctx || SSL_CTX_use_certificate(p->ctx, p->cert) != 1 || SSL_CTX_use_PrivateKey(p->ctx, p->key) != 1 ||
        SSL_CTX_set_tlsext_use_srtp(p->ctx, profiles) != 0)
        return -1;
    SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER, peer_accept_any);
    p->ssl = SSL_new(p->ctx);
    p->rbio = BIO_new(BIO_s_mem());
    p->wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(p->rbio, -1);
    SSL_set_bio(p->ssl, p->rbio, p->wbio);
    SSL_set_connect_state(p->ssl);
    return 0;
}

static inline void peer_free(struct peer *p)
{
    SSL_free(p->ssl);
    SSL_CTX_free(p->ctx);
    X509_free(p->cert);
    EVP_PKEY_free(p->key);
}

/* Gives the client everything queued and runs it. Returns the length of
 * what it wrote, copied to buf (at most cap bytes), or 0. */
static inline size_t peer_flush(struct peer *p, uint8_t *buf, size_t cap)
{
    for (size_t i = 0; i < p->nq; i++)
        BIO_write(p->rbio, p->q[i], (int)p->qlen[i]);
    p->nq = 0;
    if (!SSL_is_init_finished(p->ssl))
        SSL_do_handshake(p->ssl);
    int n = BIO_read(p->wbio, buf, (int)cap);
    ERR_clear_error();
    return n > 0 ? (size_t)n : 0;
}

/* Runs the client once and feeds what it wrote to the server as one
 * datagram. Returns the server's state. */
static inline enum dtls_state peer_step(struct peer *p, struct dtls_session *s)
{
    uint8_t buf[8192];
    size_t n = peer_flush(p, buf, sizeof(buf));
    return n ? dtls_session_feed(s, buf, n) : dtls_session_state(s);
}

/* The browser's ICE check, controlling, with USE-CANDIDATE: username user
 * ("ours:theirs"), signed with pwd; the transaction ID ends in txid_last.
 * Returns its length, or 0 if cap is too small. */
static inline size_t peer_check(uint8_t *buf, size_t cap, const char *user, const char *pwd, uint32_t priority,
                                uint8_t txid_last)
{
    uint8_t txid[STUN_TXID_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, txid_last };
    static const uint8_t tie[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct stun_builder b;
    stun_builder_init(&b, buf, cap, stun_type(STUN_BINDING, STUN_REQUEST), txid);
    stun_builder_add(&b, STUN_ATTR_USERNAME, user, strlen(user));
    stun_builder_add(&b, STUN_ATTR_ICE_CONTROLLING, tie, 8);
    stun_builder_add(&b, STUN_ATTR_USE_CANDIDATE, "", 0);
    stun_builder_add_u32(&b, STUN_ATTR_PRIORITY, priority);
    stun_builder_add_integrity(&b, (const uint8_t *)pwd, strlen(pwd));
    stun_builder_add_fingerprint(&b);
    int n = stun_builder_finish(&b);
    return n > 0 ? (size_t)n : 0;
}

/* Runs the handshake until the server leaves HANDSHAKING and the client is
 * done (or 10 rounds pass). Returns the server's state. */
static inline enum dtls_state peer_handshake(struct peer *p, struct dtls_session *s)
{
    enum dtls_state st = DTLS_HANDSHAKING;
    for (int i = 0; i < 10 && (st == DTLS_HANDSHAKING || !SSL_is_init_finished(p->ssl)); i++) {
        st = peer_step(p, s);
        if (st == DTLS_FAILED)
            break;
    }
    return st;
}

/* The client's view of the exported keys, split like dtls_srtp_keys. */
static inline int peer_keys(struct peer *p, struct dtls_srtp_keys *k)
{
    const SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(p->ssl);
    if (!prof)
        return -1;
    k->profile = (enum dtls_srtp_profile)prof->id;
    k->key_len = 16;
    k->salt_len = prof->id == DTLS_SRTP_AES128_CM_SHA1_80 ? 14 : 12;
    uint8_t km[60];
    size_t n = 2 * (k->key_len + k->salt_len);
    if (SSL_export_keying_material(p->ssl, km, n, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0) != 1)
        return -1;
    memcpy(k->client_key, km, 16);
    memcpy(k->server_key, km + 16, 16);
    memcpy(k->client_salt, km + 32, k->salt_len);
    memcpy(k->server_salt, km + 32 + k->salt_len, k->salt_len);
    return 0;
}

#endif
