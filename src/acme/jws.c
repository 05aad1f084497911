/*
 * jws — JWK, thumbprints and ES256 JWS for ACME (see jws.h).
 */
#include "jws.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/alloc.h"

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int jws_b64url(const uint8_t *in, size_t n, char *out, size_t cap)
{
    size_t need = (n * 4 + 2) / 3;
    if (need + 1 > cap)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = B64URL[(v >> 18) & 63];
        out[o++] = B64URL[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = B64URL[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = B64URL[v & 63];
    }
    out[o] = '\0';
    return (int)o;
}

int jws_jwk(EVP_PKEY *key, char *out, size_t cap)
{
    char curve[32] = "";
    uint8_t pub[65];
    size_t publen = 0;
    if (!key || EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), NULL) != 1 ||
        strcmp(curve, "prime256v1") != 0)
        return -1;
    /* The uncompressed point: 0x04, x (32 bytes), y (32 bytes). */
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &publen) != 1 ||
        publen != 65 || pub[0] != 4)
        return -1;
    char x[48], y[48];
    jws_b64url(pub + 1, 32, x, sizeof(x));
    jws_b64url(pub + 33, 32, y, sizeof(y));
    int n = snprintf(out, cap, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int jws_thumbprint(const char *jwk, char out[JWS_THUMBPRINT_LEN + 1])
{
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256((const uint8_t *)jwk, strlen(jwk), md);
    return jws_b64url(md, sizeof(md), out, JWS_THUMBPRINT_LEN + 1) == JWS_THUMBPRINT_LEN ? 0 : -1;
}

int jws_key_authorization(const char *token, const char *thumbprint, char *out, size_t cap)
{
    if (!*token)
        return -1;
    for (const char *p = token; *p; p++) {
        if (!strchr(B64URL, *p))
            return -1;
    }
    int n = snprintf(out, cap, "%s.%s", token, thumbprint);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int jws_es256_raw(const uint8_t *der, size_t len, uint8_t out[64])
{
    const uint8_t *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    int rc = -1;
    if (!sig)
        return -1;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    if (p == der + len && BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32)
        rc = 0;
    ECDSA_SIG_free(sig);
    return rc;
}

/* Signs "protected.payload" (both already base64url) with ES256. */
static int sign_es256(EVP_PKEY *key, const char *input, char sig_b64[96])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[80], raw[64];
    size_t derlen = sizeof(der);
    int rc = -1;
    if (md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(md, der, &derlen, (const uint8_t *)input, strlen(input)) == 1 &&
        jws_es256_raw(der, derlen, raw) == 0 && jws_b64url(raw, sizeof(raw), sig_b64, 96) > 0)
        rc = 0;
    EVP_MD_CTX_free(md);
    return rc;
}

/* Quotes nothing: URLs, nonces and kids from an ACME server are checked to
 * hold no '"' or '\\' before they reach here. */
static int json_safe(const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return 0;
    }
    return 1;
}

char *jws_sign(EVP_PKEY *key, const char *kid, const char *nonce, const char *url, const char *payload)
{
    char jwk[200], head[2048], who[2100];
    if (!json_safe(nonce) || !json_safe(url) || (kid && !json_safe(kid)))
        return NULL;
    if (kid) {
        snprintf(who, sizeof(who), "\"kid\":\"%s\"", kid);
    } else {
        if (jws_jwk(key, jwk, sizeof(jwk)) < 0)
            return NULL;
        snprintf(who, sizeof(who), "\"jwk\":%s", jwk);
    }
    int hn = snprintf(head, sizeof(head), "{\"alg\":\"ES256\",%s,\"nonce\":\"%s\",\"url\":\"%s\"}", who, nonce, url);
    if (hn < 0 || (size_t)hn >= sizeof(head))
        return NULL;
    size_t plen = payload ? strlen(payload) : 0;
    size_t cap = (size_t)hn * 2 + plen * 2 + 256;
    char *input = xmalloc(cap), *out = NULL;
    int a = jws_b64url((const uint8_t *)head, (size_t)hn, input, cap);
    input[a] = '.';
    jws_b64url((const uint8_t *)(payload ? payload : ""), plen, input + a + 1, cap - (size_t)a - 1);
    char sig[96];
    if (sign_es256(key, input, sig) == 0) {
        out = xmalloc(cap + 128);
        input[a] = '\0';
        snprintf(out, cap + 128, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", input,
                 input + a + 1, sig);
    }
    xfree(input);
    return out;
}
