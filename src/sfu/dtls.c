/*
 * dtls — DTLS 1.2 server sessions over memory for DTLS-SRTP (see dtls.h).
 *
 * Reading: each datagram is written into a memory BIO and OpenSSL reads it
 * from there; whatever it leaves unread is discarded, so one datagram never
 * runs into the next. Writing: a small BIO of our own hands every write to
 * the session's send callback. OpenSSL puts a buffering BIO in front of it
 * during the handshake and flushes it before a datagram would pass the MTU
 * we set, so each write is one datagram.
 *
 * The same code plays the client (dtls_client_new()): only the OpenSSL
 * method and the connect/accept state differ, and the first flight is sent
 * by dtls_session_connect().
 */
#include "dtls.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "base/alloc.h"

#define INITIAL_TIMEOUT_US 400000u  /* first retransmission; doubled up to the cap */
#define MAX_TIMEOUT_US 8000000u

struct dtls_server {
    SSL_CTX *ctx;
    int client;                     /* made by dtls_client_new() */
    BIO_METHOD *bio_method;
    char fingerprint[DTLS_FP_LEN];
};

struct dtls_session {
    SSL *ssl;
    BIO *rbio;                      /* owned by ssl */
    const EVP_MD *fp_md;
    uint8_t fp[EVP_MAX_MD_SIZE];
    unsigned fp_len;
    dtls_send_fn send;
    dtls_data_fn data;
    void *ud;
    enum dtls_state state;
    const char *error;
    struct dtls_srtp_keys keys;
};

/* --- certificates --- */

static const EVP_MD *md_by_name(const char *hash)
{
    if (!hash)
        return NULL;
    if (strcasecmp(hash, "sha-256") == 0)
        return EVP_sha256();
    if (strcasecmp(hash, "sha-1") == 0)
        return EVP_sha1();
    if (strcasecmp(hash, "sha-384") == 0)
        return EVP_sha384();
    if (strcasecmp(hash, "sha-512") == 0)
        return EVP_sha512();
    return NULL;
}

static int fill_cert(X509 *c, EVP_PKEY *k)
{
    uint8_t serial[8];
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        return 0;
    serial[0] &= 0x7f; /* a positive serial */
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) != NULL;
    BN_free(bn);
    X509_NAME *name = X509_get_subject_name(c);
    ok = ok && X509_set_version(c, 2) && X509_gmtime_adj(X509_getm_notBefore(c), -86400) &&
         X509_gmtime_adj(X509_getm_notAfter(c), 30L * 86400) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"tincan", -1, -1, 0) &&
         X509_set_issuer_name(c, name) && X509_set_pubkey(c, k) && X509_sign(c, k, EVP_sha256()) > 0;
    return ok;
}

int dtls_cert_generate(X509 **cert, EVP_PKEY **key)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *c = X509_new();
    if (!k || !c || !fill_cert(c, k)) {
        X509_free(c);
        EVP_PKEY_free(k);
        return -1;
    }
    *cert = c;
    *key = k;
    return 0;
}

int dtls_cert_fingerprint(X509 *cert, const char *hash, char out[DTLS_FP_LEN])
{
    const EVP_MD *md = md_by_name(hash);
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!md || X509_digest(cert, md, d, &n) != 1)
        return -1;
    for (unsigned i = 0; i < n; i++)
        snprintf(out + i * 3, 4, i + 1 < n ? "%02X:" : "%02X", d[i]);
    if (n == 0)
        out[0] = '\0';
    return 0;
}

/* "AB:cd:..." → bytes; exactly want bytes, or -1. */
static int parse_fp(const char *hex, uint8_t *out, unsigned want)
{
    if (!hex || strlen(hex) != (size_t)want * 3 - 1)
        return -1;
    for (unsigned i = 0; i < want; i++) {
        const char *p = hex + i * 3;
        unsigned v;
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
            (i + 1 < want && p[2] != ':') || sscanf(p, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* --- the write BIO --- */

static int bio_write(BIO *b, const char *buf, int len)
{
    struct dtls_session *s = BIO_get_data(b);
    if (len > 0)
        s->send(s->ud, (const uint8_t *)buf, (size_t)len);
    return len;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
        return DTLS_MTU;
    default:
        return 0; /* no pending bytes, no peer address, no overhead */
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *make_bio_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tincan dtls");
    if (m && (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_ctrl(m, bio_ctrl) ||
              !BIO_meth_set_create(m, bio_create))) {
        BIO_meth_free(m);
        m = NULL;
    }
    return m;
}

/* --- the server --- */

/* Accepts a self-signed chain, but the leaf must match the SDP fingerprint. */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    if (X509_STORE_CTX_get_error_depth(x) != 0)
        return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct dtls_session *s = SSL_get_app_data(ssl);
    X509 *cert = X509_STORE_CTX_get_current_cert(x);
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!cert || X509_digest(cert, s->fp_md, d, &n) != 1 || n != s->fp_len || CRYPTO_memcmp(d, s->fp, n) != 0) {
        s->error = "peer certificate does not match the SDP fingerprint";
        X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    return 1;
}

static const char *profiles(unsigned offer)
{
    if ((offer & DTLS_OFFER_AES_128_GCM) && (offer & DTLS_OFFER_CM_SHA1_80))
        return "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
    return (offer & DTLS_OFFER_AES_128_GCM) ? "SRTP_AEAD_AES_128_GCM" : "SRTP_AES128_CM_SHA1_80";
}

static SSL_CTX *make_ctx(X509 *cert, EVP_PKEY *key, unsigned offer, int client)
{
    SSL_CTX *ctx = SSL_CTX_new(client ? DTLS_client_method() : DTLS_server_method());
    if (!ctx)
        return NULL;
    /* SSL_CTX_set_tlsext_use_srtp() returns 0 on success. */
    if (!SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) || SSL_CTX_use_certificate(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_set_tlsext_use_srtp(ctx, profiles(offer)) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU);
    return ctx;
}

static struct dtls_server *context_new(unsigned offer, int client, char *err, size_t errlen)
{
    struct dtls_server *srv = xcalloc(1, sizeof(*srv));
    srv->client = client;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    const char *why = NULL;
    if ((offer & (DTLS_OFFER_CM_SHA1_80 | DTLS_OFFER_AES_128_GCM)) == 0)
        why = "no SRTP profile to offer";
    else if (dtls_cert_generate(&cert, &key) != 0)
        why = "cannot make a certificate";
    else if (!(srv->ctx = make_ctx(cert, key, offer, client)) || !(srv->bio_method = make_bio_method()))
        why = "cannot make a DTLS context";
    else if (dtls_cert_fingerprint(cert, "sha-256", srv->fingerprint) != 0)
        why = "cannot hash the certificate";
    X509_free(cert);
    EVP_PKEY_free(key);
    if (why) {
        snprintf(err, errlen, "dtls: %s", why);
        dtls_server_free(srv);
        ERR_clear_error();
        return NULL;
    }
    return srv;
}

struct dtls_server *dtls_server_new(unsigned offer, char *err, size_t errlen)
{
    return context_new(offer, 0, err, errlen);
}

struct dtls_server *dtls_client_new(unsigned offer, char *err, size_t errlen)
{
    return context_new(offer, 1, err, errlen);
}

void dtls_server_free(struct dtls_server *srv)
{
    if (!srv)
        return;
    SSL_CTX_free(srv->ctx);
    BIO_meth_free(srv->bio_method);
    xfree(srv);
}

const char *dtls_server_fingerprint(const struct dtls_server *srv)
{
    return srv->fingerprint;
}

/* --- sessions --- */

static unsigned int timer_cb(SSL *ssl, unsigned int prev_us)
{
    (void)ssl;
    if (prev_us == 0)
        return INITIAL_TIMEOUT_US;
    return prev_us >= MAX_TIMEOUT_US / 2 ? MAX_TIMEOUT_US : prev_us * 2;
}

static int setup_ssl(struct dtls_session *s, struct dtls_server *srv)
{
    s->ssl = SSL_new(srv->ctx);
    if (!s->ssl)
        return -1;
    SSL_set_app_data(s->ssl, s);
    s->rbio = BIO_new(BIO_s_mem());
    BIO *wbio = BIO_new(srv->bio_method);
    if (!s->rbio || !wbio) {
        BIO_free(s->rbio);
        BIO_free(wbio);
        s->rbio = NULL;
        return -1;
    }
    BIO_set_mem_eof_return(s->rbio, -1); /* empty means "wait", not EOF */
    BIO_set_data(wbio, s);
    SSL_set_bio(s->ssl, s->rbio, wbio);
    DTLS_set_link_mtu(s->ssl, DTLS_MTU);
    DTLS_set_timer_cb(s->ssl, timer_cb);
    if (srv->client)
        SSL_set_connect_state(s->ssl);
    else
        SSL_set_accept_state(s->ssl);
    return 0;
}

struct dtls_session *dtls_session_new(struct dtls_server *srv, const char *fp_hash, const char *fp_hex,
                                      dtls_send_fn send, dtls_data_fn data, void *ud)
{
    const EVP_MD *md = md_by_name(fp_hash);
    if (!md || !send)
        return NULL;
    struct dtls_session *s = xcalloc(1, sizeof(*s));
    s->fp_md = md;
    s->fp_len = (unsigned)EVP_MD_get_size(md);
    s->send = send;
    s->data = data;
    s->ud = ud;
    s->error = "";
    if (parse_fp(fp_hex, s->fp, s->fp_len) != 0 || setup_ssl(s, srv) != 0) {
        dtls_session_free(s);
        return NULL;
    }
    return s;
}

void dtls_session_free(struct dtls_session *s)
{
    if (!s)
        return;
    SSL_free(s->ssl);
    xfree(s);
}

static void fail(struct dtls_session *s, const char *why)
{
    s->state = DTLS_FAILED;
    if (!*s->error)
        s->error = why;
    ERR_clear_error();
}

/* RFC 5764 §4.2: client key, server key, client salt, server salt. */
static int export_keys(struct dtls_session *s)
{
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(s->ssl);
    if (!p || (p->id != DTLS_SRTP_AES128_CM_SHA1_80 && p->id != DTLS_SRTP_AEAD_AES_128_GCM))
        return -1;
    struct dtls_srtp_keys *k = &s->keys;
    k->profile = (enum dtls_srtp_profile)p->id;
    k->key_len = 16;
    k->salt_len = p->id == DTLS_SRTP_AES128_CM_SHA1_80 ? 14 : 12;
    uint8_t km[2 * (DTLS_KEY_MAX + DTLS_SALT_MAX)];
    size_t n = 2 * (k->key_len + k->salt_len);
    static const char label[] = "EXTRACTOR-dtls_srtp";
    if (SSL_export_keying_material(s->ssl, km, n, label, sizeof(label) - 1, NULL, 0, 0) != 1)
        return -1;
    memcpy(k->client_key, km, k->key_len);
    memcpy(k->server_key, km + k->key_len, k->key_len);
    memcpy(k->client_salt, km + 2 * k->key_len, k->salt_len);
    memcpy(k->server_salt, km + 2 * k->key_len + k->salt_len, k->salt_len);
    OPENSSL_cleanse(km, sizeof(km));
    return 0;
}

static void handshake(struct dtls_session *s)
{
    int rc = SSL_do_handshake(s->ssl);
    if (rc == 1) {
        if (export_keys(s) != 0)
            fail(s, "no SRTP profile negotiated");
        else
            s->state = DTLS_CONNECTED;
        return;
    }
    int e = SSL_get_error(s->ssl, rc);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        fail(s, "handshake failed");
}

static void read_records(struct dtls_session *s)
{
    uint8_t buf[2048];
    for (;;) {
        int n = SSL_read(s->ssl, buf, sizeof(buf));
        if (n > 0) {
            if (s->data)
                s->data(s->ud, buf, (size_t)n);
            continue;
        }
        int e = SSL_get_error(s->ssl, n);
        if (e == SSL_ERROR_ZERO_RETURN)
            s->state = DTLS_CLOSED;
        else if (e != SSL_ERROR_WANT_READ)
            fail(s, "record layer error");
        return;
    }
}

enum dtls_state dtls_session_feed(struct dtls_session *s, const uint8_t *dgram, size_t len)
{
    if (s->state == DTLS_FAILED || s->state == DTLS_CLOSED || len == 0 || len > INT32_MAX)
        return s->state;
    ERR_clear_error();
    BIO_write(s->rbio, dgram, (int)len);
    if (s->state == DTLS_HANDSHAKING)
        handshake(s);
    if (s->state == DTLS_CONNECTED)
        read_records(s);
    (void)BIO_reset(s->rbio); /* what OpenSSL left of this datagram */
    return s->state;
}

enum dtls_state dtls_session_connect(struct dtls_session *s)
{
    if (s->state != DTLS_HANDSHAKING || SSL_is_server(s->ssl))
        return s->state;
    ERR_clear_error();
    handshake(s);
    return s->state;
}

enum dtls_state dtls_session_state(const struct dtls_session *s)
{
    return s->state;
}

const char *dtls_session_error(const struct dtls_session *s)
{
    return s->error;
}

int64_t dtls_session_deadline(const struct dtls_session *s, int64_t now_ms)
{
    struct timeval tv;
    if (s->state != DTLS_HANDSHAKING || DTLSv1_get_timeout(s->ssl, &tv) != 1)
        return -1;
    return now_ms + (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
}

enum dtls_state dtls_session_on_timer(struct dtls_session *s)
{
    if (s->state != DTLS_HANDSHAKING)
        return s->state;
    ERR_clear_error();
    if (DTLSv1_handle_timeout(s->ssl) < 0)
        fail(s, "handshake timed out");
    return s->state;
}

int dtls_session_keys(const struct dtls_session *s, struct dtls_srtp_keys *out)
{
    if (s->state != DTLS_CONNECTED)
        return -1;
    *out = s->keys;
    return 0;
}

int dtls_session_send(struct dtls_session *s, const uint8_t *buf, size_t len)
{
    if (s->state != DTLS_CONNECTED || len == 0 || len > INT32_MAX)
        return -1;
    ERR_clear_error();
    return SSL_write(s->ssl, buf, (int)len) == (int)len ? 0 : -1;
}

void dtls_session_close(struct dtls_session *s)
{
    if (s->state == DTLS_CONNECTED) {
        ERR_clear_error();
        SSL_shutdown(s->ssl);
    }
    if (s->state != DTLS_FAILED)
        s->state = DTLS_CLOSED;
}
