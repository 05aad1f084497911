/*
 * auth — long-term keys, TURN REST credentials and stateless nonces (see
 * auth.h). All digests and MACs come from OpenSSL; comparisons of secret
 * values are constant-time.
 */
#include "auth.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Label that keeps nonce MACs apart from anything else made with the same
 * secret. */
static const char nonce_label[] = "tincan-nonce-v1";

const char *auth_strerror(enum auth_status s)
{
    static const char *const names[] = { "ok", "malformed", "expired", "stale", "forged", "error" };
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* Digests user ":" realm ":" pass with md into out. */
static int key_digest(const EVP_MD *md, struct stun_str user, struct stun_str realm,
                      struct stun_str pass, uint8_t *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) &&
             EVP_DigestUpdate(ctx, user.p, user.len) && EVP_DigestUpdate(ctx, ":", 1) &&
             EVP_DigestUpdate(ctx, realm.p, realm.len) && EVP_DigestUpdate(ctx, ":", 1) &&
             EVP_DigestUpdate(ctx, pass.p, pass.len) && EVP_DigestFinal_ex(ctx, out, NULL);
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -EIO;
}

int auth_key_md5(struct stun_str user, struct stun_str realm, struct stun_str pass,
                 uint8_t out[AUTH_KEY_MD5_LEN])
{
    return key_digest(EVP_md5(), user, realm, pass, out);
}

int auth_key_sha256(struct stun_str user, struct stun_str realm, struct stun_str pass,
                    uint8_t out[AUTH_KEY_SHA256_LEN])
{
    return key_digest(EVP_sha256(), user, realm, pass, out);
}

/* --- TURN REST --- */

int auth_rest_expiry(struct stun_str username, uint64_t *expiry)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < username.len && username.p[i] != ':'; i++) {
        unsigned d = (unsigned)username.p[i] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    if (i == 0 || i > 20)
        return -EINVAL;
    *expiry = v;
    return 0;
}

/* HMAC over data with key; out holds EVP_MAX_MD_SIZE bytes. Returns the
 * MAC length or 0 on failure. */
static unsigned hmac(const EVP_MD *md, struct stun_str key, const uint8_t *data, size_t n, uint8_t *out)
{
    static const uint8_t empty_key[1];
    unsigned len = 0;
    if (key.len > INT_MAX)
        return 0;
    if (!HMAC(md, key.len ? key.p : empty_key, (int)key.len, n ? data : empty_key, n, out, &len))
        return 0;
    return len;
}

int auth_rest_password(struct stun_str secret, struct stun_str username,
                       char out[AUTH_REST_PASSWORD_LEN + 1])
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    if (hmac(EVP_sha1(), secret, username.p, username.len, mac) != 20)
        return -EIO;
    EVP_EncodeBlock((unsigned char *)out, mac, 20); /* writes 28 characters and a NUL */
    return 0;
}

enum auth_status auth_rest_key(struct stun_str secret, struct stun_str username, struct stun_str realm,
                               uint64_t now, uint8_t key[AUTH_KEY_MD5_LEN])
{
    uint64_t expiry;
    char pass[AUTH_REST_PASSWORD_LEN + 1];
    if (auth_rest_expiry(username, &expiry) < 0)
        return AUTH_MALFORMED;
    if (now > expiry)
        return AUTH_EXPIRED;
    if (auth_rest_password(secret, username, pass) < 0)
        return AUTH_ERROR;
    int rc = auth_key_md5(username, realm, auth_cstr(pass), key);
    OPENSSL_cleanse(pass, sizeof(pass));
    return rc ? AUTH_ERROR : AUTH_OK;
}

int auth_rest_credential(struct stun_str secret, const char *user, uint64_t expiry, char *username,
                         size_t cap, char password[AUTH_REST_PASSWORD_LEN + 1])
{
    int n = user[0] ? snprintf(username, cap, "%" PRIu64 ":%s", expiry, user)
                    : snprintf(username, cap, "%" PRIu64, expiry);
    if (n < 0 || (size_t)n >= cap)
        return -ENOBUFS;
    return auth_rest_password(secret, auth_cstr(username), password);
}

/* --- nonces --- */

static void hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
}

/* Writes the 32 hex digits of the nonce MAC for issue time t. */
static int nonce_mac(struct stun_str secret, uint64_t t, const uint8_t *addr, size_t alen, char out[32])
{
    uint8_t msg[sizeof(nonce_label) + 8 + 64];
    uint8_t mac[EVP_MAX_MD_SIZE];
    if (alen > 64)
        return -EINVAL;
    memcpy(msg, nonce_label, sizeof(nonce_label)); /* with its NUL: a separator */
    for (int i = 0; i < 8; i++)
        msg[sizeof(nonce_label) + i] = (uint8_t)(t >> (56 - 8 * i));
    if (alen)
        memcpy(msg + sizeof(nonce_label) + 8, addr, alen);
    if (hmac(EVP_sha256(), secret, msg, sizeof(nonce_label) + 8 + alen, mac) != 32)
        return -EIO;
    hex(mac, 16, out);
    return 0;
}

int auth_nonce_make(struct stun_str secret, uint64_t now, const uint8_t *addr, size_t alen,
                    char out[AUTH_NONCE_LEN + 1])
{
    uint8_t t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (uint8_t)(now >> (56 - 8 * i));
    hex(t, 8, out);
    out[AUTH_NONCE_LEN] = '\0';
    return nonce_mac(secret, now, addr, alen, out + 16) ? -EIO : 0;
}

/* Reads 16 lowercase hex digits; -1 if any is not one. */
static int parse_time(const uint8_t *p, uint64_t *t)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            return -1;
        v = (v << 4) | d;
    }
    *t = v;
    return 0;
}

enum auth_status auth_nonce_check(struct stun_str secret, struct stun_str nonce, uint64_t now,
                                  const uint8_t *addr, size_t alen)
{
    uint64_t t;
    char want[32];
    if (nonce.len != AUTH_NONCE_LEN || parse_time(nonce.p, &t) < 0)
        return AUTH_MALFORMED;
    if (nonce_mac(secret, t, addr, alen, want) < 0)
        return AUTH_ERROR;
    /* Comparing the hex text also rejects upper-case or junk digits. */
    if (CRYPTO_memcmp(want, nonce.p + 16, sizeof(want)) != 0)
        return AUTH_FORGED;
    if (t > now || now - t >= AUTH_NONCE_TTL)
        return AUTH_STALE;
    return AUTH_OK;
}
