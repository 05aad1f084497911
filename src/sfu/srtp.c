/*
 * srtp — libsrtp2 contexts for DTLS-SRTP keys and in-place protect and
 * unprotect with plain status codes (see srtp.h).
 */
#include "srtp.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "base/alloc.h"
#include "srtp_ossl.h"

_Static_assert(SFU_SRTP_TRAILER_MAX >= SRTP_MAX_TRAILER_LEN + 4, "trailer room");

#define REPLAY_WINDOW 1024 /* packets: video bursts arrive out of order */

struct sfu_srtp {
    srtp_t ctx;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status = srtp_err_status_fail;
static int gcm_ossl;

/* libsrtp2, with OpenSSL's AES-GCM in place of NSS's (srtp_ossl.h: NSS
 * serializes every GCM operation of the process, which the media threads
 * cannot afford). */
static void init(void)
{
    init_status = srtp_init();
    if (init_status == srtp_err_status_ok)
        gcm_ossl = sfu_srtp_ossl_register() == 0;
}

int sfu_srtp_gcm_openssl(void)
{
    pthread_once(&init_once, init);
    return gcm_ossl;
}

/* Fills the crypto policies for a profile; -1 if the lengths are wrong. */
static int set_policy(srtp_policy_t *p, enum dtls_srtp_profile profile, size_t key_len, size_t salt_len)
{
    switch (profile) {
    case DTLS_SRTP_AES128_CM_SHA1_80:
        if (key_len != SRTP_AES_128_KEY_LEN || salt_len != SRTP_SALT_LEN)
            return -1;
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
        return 0;
    case DTLS_SRTP_AEAD_AES_128_GCM:
        if (key_len != SRTP_AES_128_KEY_LEN || salt_len != SRTP_AEAD_SALT_LEN)
            return -1;
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
        return 0;
    }
    return -1;
}

struct sfu_srtp *sfu_srtp_new(enum dtls_srtp_profile profile, const uint8_t *key, size_t key_len,
                              const uint8_t *salt, size_t salt_len, enum sfu_srtp_dir dir)
{
    pthread_once(&init_once, init);
    srtp_policy_t policy;
    memset(&policy, 0, sizeof(policy));
    if (init_status != srtp_err_status_ok || set_policy(&policy, profile, key_len, salt_len) != 0)
        return NULL;
    uint8_t master[SRTP_AES_128_KEY_LEN + SRTP_SALT_LEN];
    memcpy(master, key, key_len);
    memcpy(master + key_len, salt, salt_len);
    policy.ssrc.type = dir == SFU_SRTP_INBOUND ? ssrc_any_inbound : ssrc_any_outbound;
    policy.key = master;
    policy.window_size = REPLAY_WINDOW;
    policy.allow_repeat_tx = 1;
    struct sfu_srtp *c = xcalloc(1, sizeof(*c));
    srtp_err_status_t st = srtp_create(&c->ctx, &policy);
    memset(master, 0, sizeof(master));
    if (st != srtp_err_status_ok) {
        xfree(c);
        return NULL;
    }
    return c;
}

struct sfu_srtp *sfu_srtp_from_dtls(const struct dtls_srtp_keys *k, enum sfu_srtp_dir dir)
{
    if (dir == SFU_SRTP_INBOUND)
        return sfu_srtp_new(k->profile, k->client_key, k->key_len, k->client_salt, k->salt_len, dir);
    return sfu_srtp_new(k->profile, k->server_key, k->key_len, k->server_salt, k->salt_len, dir);
}

void sfu_srtp_free(struct sfu_srtp *c)
{
    if (!c)
        return;
    srtp_dealloc(c->ctx);
    xfree(c);
}

unsigned sfu_srtp_profiles(void)
{
    static const uint8_t zero[SRTP_AES_128_KEY_LEN + SRTP_SALT_LEN];
    unsigned bits = 0;
    struct sfu_srtp *c = sfu_srtp_new(DTLS_SRTP_AES128_CM_SHA1_80, zero, 16, zero, 14, SFU_SRTP_OUTBOUND);
    if (c)
        bits |= DTLS_OFFER_CM_SHA1_80;
    sfu_srtp_free(c);
    c = sfu_srtp_new(DTLS_SRTP_AEAD_AES_128_GCM, zero, 16, zero, 12, SFU_SRTP_OUTBOUND);
    if (c)
        bits |= DTLS_OFFER_AES_128_GCM;
    sfu_srtp_free(c);
    return bits;
}

static enum sfu_srtp_status map(srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_ok: return SFU_SRTP_OK;
    case srtp_err_status_auth_fail: return SFU_SRTP_AUTH_FAIL;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old: return SFU_SRTP_REPLAY;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err: return SFU_SRTP_BAD_PACKET;
    default: return SFU_SRTP_ERROR;
    }
}

/* The smallest packets libsrtp2 may be given: an RTP header, an RTCP
 * header with the sender SSRC. */
#define RTP_MIN 12
#define RTCP_MIN 8

typedef srtp_err_status_t (*srtp_op)(srtp_t, void *, int *);

static enum sfu_srtp_status run(srtp_op op, struct sfu_srtp *c, uint8_t *buf, size_t *len, size_t min)
{
    if (*len < min || *len > INT_MAX - SFU_SRTP_TRAILER_MAX)
        return SFU_SRTP_BAD_PACKET;
    int n = (int)*len;
    enum sfu_srtp_status st = map(op(c->ctx, buf, &n));
    if (st == SFU_SRTP_OK)
        *len = (size_t)n;
    return st;
}

enum sfu_srtp_status sfu_srtp_protect(struct sfu_srtp *c, uint8_t *buf, size_t *len, size_t cap)
{
    if (cap < *len || cap - *len < SFU_SRTP_TRAILER_MAX)
        return SFU_SRTP_NO_ROOM;
    return run(srtp_protect, c, buf, len, RTP_MIN);
}

enum sfu_srtp_status sfu_srtp_unprotect(struct sfu_srtp *c, uint8_t *buf, size_t *len)
{
    return run(srtp_unprotect, c, buf, len, RTP_MIN);
}

enum sfu_srtp_status sfu_srtp_protect_rtcp(struct sfu_srtp *c, uint8_t *buf, size_t *len, size_t cap)
{
    if (cap < *len || cap - *len < SFU_SRTP_TRAILER_MAX)
        return SFU_SRTP_NO_ROOM;
    return run(srtp_protect_rtcp, c, buf, len, RTCP_MIN);
}

enum sfu_srtp_status sfu_srtp_unprotect_rtcp(struct sfu_srtp *c, uint8_t *buf, size_t *len)
{
    return run(srtp_unprotect_rtcp, c, buf, len, RTCP_MIN);
}

const char *sfu_srtp_strerror(enum sfu_srtp_status s)
{
    switch (s) {
    case SFU_SRTP_OK: return "ok";
    case SFU_SRTP_AUTH_FAIL: return "authentication failed";
    case SFU_SRTP_REPLAY: return "replayed";
    case SFU_SRTP_NO_ROOM: return "no room for the trailer";
    case SFU_SRTP_BAD_PACKET: return "bad packet";
    case SFU_SRTP_ERROR: return "srtp error";
    }
    return "unknown";
}
