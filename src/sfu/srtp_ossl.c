/*
 * srtp_ossl — AES-128-GCM for libsrtp2 over OpenSSL's EVP (see
 * srtp_ossl.h). The calls follow libsrtp2's cipher contract (cipher.h):
 * init takes the key (the salt is libsrtp2's business), set_iv the 12-byte
 * IV and the direction, set_aad the header, encrypt the payload in place
 * with get_tag after it, decrypt the payload and its tag in place.
 */
#include "srtp_ossl.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <srtp2/cipher.h>
#include <srtp2/srtp.h>

#define GCM_IV_LEN 12

struct gcm {
    EVP_CIPHER_CTX *ctx;
    int tag_len;
    srtp_cipher_direction_t dir;
    srtp_cipher_direction_t evp_dir; /* what the EVP context was last initialised for */
};

static EVP_CIPHER *aes_128_gcm; /* fetched once, read-only afterwards */
static const srtp_cipher_type_t ossl_gcm;

static srtp_err_status_t gcm_alloc(srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
    if (key_len != SRTP_AES_GCM_128_KEY_LEN_WSALT || (tag_len != 16 && tag_len != 8))
        return srtp_err_status_bad_param;
    srtp_cipher_t *c = calloc(1, sizeof(*c));
    struct gcm *g = calloc(1, sizeof(*g));
    if (g)
        g->ctx = EVP_CIPHER_CTX_new();
    if (!c || !g || !g->ctx) {
        if (g)
            EVP_CIPHER_CTX_free(g->ctx);
        free(g);
        free(c);
        return srtp_err_status_alloc_fail;
    }
    g->tag_len = tag_len;
    g->dir = g->evp_dir = srtp_direction_any;
    c->type = &ossl_gcm;
    c->state = g;
    c->key_len = key_len;
    c->algorithm = SRTP_AES_GCM_128;
    *cp = c;
    return srtp_err_status_ok;
}

static srtp_err_status_t gcm_dealloc(srtp_cipher_pointer_t c)
{
    struct gcm *g = c->state;
    EVP_CIPHER_CTX_free(g->ctx);
    free(g);
    free(c);
    return srtp_err_status_ok;
}

static srtp_err_status_t gcm_init(void *state, const uint8_t *key)
{
    struct gcm *g = state;
    g->dir = g->evp_dir = srtp_direction_any;
    EVP_CIPHER_CTX_reset(g->ctx);
    if (!EVP_CipherInit_ex(g->ctx, aes_128_gcm, NULL, key, NULL, 0) ||
        !EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_IV_LEN, NULL))
        return srtp_err_status_init_fail;
    return srtp_err_status_ok;
}

/* A new IV for the direction the context has: OpenSSL 3's GCM takes the
 * whole IV as the TLS "fixed IV" of length -1 (the special case of
 * EVP_CTRL_GCM_SET_IV_FIXED), and starts a new message with it at the
 * next update, as EVP_CipherInit_ex with only the IV does. That init
 * asks the provider for the IV length first (a parameter look-up),
 * for every packet. */
static int iv_param(EVP_CIPHER_CTX *ctx, uint8_t *iv)
{
    OSSL_PARAM p[2] = { OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED, iv, (size_t)-1),
                        OSSL_PARAM_END };
    return EVP_CIPHER_CTX_set_params(ctx, p);
}

static srtp_err_status_t gcm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir)
{
    struct gcm *g = state;
    if (dir != srtp_direction_encrypt && dir != srtp_direction_decrypt)
        return srtp_err_status_bad_param;
    g->dir = dir;
    if (dir == g->evp_dir)
        return iv_param(g->ctx, iv) ? srtp_err_status_ok : srtp_err_status_init_fail;
    if (!EVP_CipherInit_ex(g->ctx, NULL, NULL, NULL, iv, dir == srtp_direction_encrypt))
        return srtp_err_status_init_fail;
    g->evp_dir = dir;
    return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_aad(void *state, const uint8_t *aad, uint32_t len)
{
    struct gcm *g = state;
    int out = 0;
    if (len > INT32_MAX || !EVP_CipherUpdate(g->ctx, NULL, &out, aad, (int)len))
        return srtp_err_status_algo_fail;
    return srtp_err_status_ok;
}

static srtp_err_status_t gcm_encrypt(void *state, uint8_t *buf, unsigned int *len)
{
    struct gcm *g = state;
    int out = 0, fin = 0;
    if (g->dir != srtp_direction_encrypt || *len > INT32_MAX)
        return srtp_err_status_bad_param;
    if (!EVP_CipherUpdate(g->ctx, buf, &out, buf, (int)*len) || !EVP_CipherFinal_ex(g->ctx, buf + out, &fin))
        return srtp_err_status_algo_fail;
    return srtp_err_status_ok;
}

/* The tag goes in and out as a parameter of the provider's context, as
 * EVP_CIPHER_CTX_ctrl(GCM_GET_TAG/SET_TAG) would pass it in OpenSSL 3,
 * without the ctrl's translation. */
static int tag_param(EVP_CIPHER_CTX *ctx, uint8_t *tag, int len, int set)
{
    OSSL_PARAM p[2] = { OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, (size_t)len), OSSL_PARAM_END };
    return set ? EVP_CIPHER_CTX_set_params(ctx, p) : EVP_CIPHER_CTX_get_params(ctx, p);
}

static srtp_err_status_t gcm_get_tag(void *state, uint8_t *tag, uint32_t *len)
{
    struct gcm *g = state;
    if (!tag_param(g->ctx, tag, g->tag_len, 0))
        return srtp_err_status_algo_fail;
    *len = (uint32_t)g->tag_len;
    return srtp_err_status_ok;
}

/* buf holds the ciphertext and its tag; on success *len loses the tag. */
static srtp_err_status_t gcm_decrypt(void *state, uint8_t *buf, unsigned int *len)
{
    struct gcm *g = state;
    int out = 0, fin = 0;
    if (g->dir != srtp_direction_decrypt || *len < (unsigned)g->tag_len || *len > INT32_MAX)
        return srtp_err_status_bad_param;
    int n = (int)*len - g->tag_len;
    if (!tag_param(g->ctx, buf + n, g->tag_len, 1) ||
        !EVP_CipherUpdate(g->ctx, buf, &out, buf, n))
        return srtp_err_status_algo_fail;
    if (EVP_CipherFinal_ex(g->ctx, buf + out, &fin) <= 0)
        return srtp_err_status_auth_fail;
    *len = (unsigned)n;
    return srtp_err_status_ok;
}

/* NIST GCM test case 4 (McGrew and Viega), as libsrtp2 checks its own:
 * the key is followed by 12 salt bytes that the cipher does not use. */
static const uint8_t tc_key[SRTP_AES_GCM_128_KEY_LEN_WSALT] = {
    0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08,
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
};
static uint8_t tc_iv[GCM_IV_LEN] = { 0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88 };
static const uint8_t tc_plain[60] = {
    0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5, 0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26, 0x9a,
    0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda, 0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31, 0x8a, 0x72,
    0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53, 0x2f, 0xcf, 0x0e, 0x24, 0x49, 0xa6, 0xb5, 0x25,
    0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57, 0xba, 0x63, 0x7b, 0x39,
};
static const uint8_t tc_aad[20] = {
    0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef,
    0xab, 0xad, 0xda, 0xd2,
};
static const uint8_t tc_cipher[76] = {
    0x42, 0x83, 0x1e, 0xc2, 0x21, 0x77, 0x74, 0x24, 0x4b, 0x72, 0x21, 0xb7, 0x84, 0xd0, 0xd4, 0x9c,
    0xe3, 0xaa, 0x21, 0x2f, 0x2c, 0x02, 0xa4, 0xe0, 0x35, 0xc1, 0x7e, 0x23, 0x29, 0xac, 0xa1, 0x2e,
    0x21, 0xd5, 0x14, 0xb2, 0x54, 0x66, 0x93, 0x1c, 0x7d, 0x8f, 0x6a, 0x5a, 0xac, 0x84, 0xaa, 0x05,
    0x1b, 0xa3, 0x0b, 0x39, 0x6a, 0x0a, 0xac, 0x97, 0x3d, 0x58, 0xe0, 0x91,
    0x5b, 0xc9, 0x4f, 0xbc, 0x32, 0x21, 0xa5, 0xdb, 0x94, 0xfa, 0xe9, 0x5a, 0xe7, 0x12, 0x1a, 0x47,
};
static const srtp_cipher_test_case_t test_case = {
    .key_length_octets = SRTP_AES_GCM_128_KEY_LEN_WSALT, .key = tc_key, .idx = tc_iv,
    .plaintext_length_octets = sizeof(tc_plain), .plaintext = tc_plain,
    .ciphertext_length_octets = sizeof(tc_cipher), .ciphertext = tc_cipher,
    .aad_length_octets = sizeof(tc_aad), .aad = tc_aad, .tag_length_octets = 16,
};

static const srtp_cipher_type_t ossl_gcm = {
    .alloc = gcm_alloc, .dealloc = gcm_dealloc, .init = gcm_init, .set_aad = gcm_set_aad,
    .encrypt = gcm_encrypt, .decrypt = gcm_decrypt, .set_iv = gcm_set_iv, .get_tag = gcm_get_tag,
    .description = "AES-128 GCM using OpenSSL (tincan)", .test_data = &test_case, .id = SRTP_AES_GCM_128,
};

int sfu_srtp_ossl_register(void)
{
    if (!aes_128_gcm)
        aes_128_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    if (!aes_128_gcm)
        return -1;
    return srtp_replace_cipher_type(&ossl_gcm, SRTP_AES_GCM_128) == srtp_err_status_ok ? 0 : -1;
}
