/*
 * jws — the cryptographic bits of ACME (RFC 8555 §6.2, RFC 7515/7517/7638):
 * base64url, the JWK of an ECDSA P-256 account key and its thumbprint, the
 * key authorization of a challenge, and flattened JWS objects signed with
 * ES256. Pure: no I/O; keys are OpenSSL EVP_PKEYs owned by the caller.
 */
#ifndef TINCAN_ACME_JWS_H
#define TINCAN_ACME_JWS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#define JWS_THUMBPRINT_LEN 43 /* base64url of 32 bytes, without padding */

/* Writes base64url (no padding) of in into out (cap bytes with the NUL).
 * Returns the length, or -1 if out is too small. */
int jws_b64url(const uint8_t *in, size_t n, char *out, size_t cap);
/* Writes the canonical JWK of key's public part, members in RFC 7638
 * order and no white space: {"crv":"P-256","kty":"EC","x":"…","y":"…"}.
 * Returns the length, or -1 (not a P-256 key, or out too small). */
int jws_jwk(EVP_PKEY *key, char *out, size_t cap);
/* Writes the RFC 7638 thumbprint (base64url SHA-256) of canonical JWK text
 * into out (JWS_THUMBPRINT_LEN + 1 bytes). Returns 0 or -1. */
int jws_thumbprint(const char *jwk, char out[JWS_THUMBPRINT_LEN + 1]);
/* Writes the key authorization "token.thumbprint" (RFC 8555 §8.1).
 * Returns the length, or -1 if the token is not base64url or out too small. */
int jws_key_authorization(const char *token, const char *thumbprint, char *out, size_t cap);
/* Builds a flattened JWS JSON object for an ACME request to url: protected
 * header {"alg":"ES256", "jwk" (kid == NULL) or "kid", "nonce", "url"} and
 * payload (NULL or "" for POST-as-GET, which has an empty payload). Returns
 * a new string the caller frees with free(), or NULL on failure. */
char *jws_sign(EVP_PKEY *key, const char *kid, const char *nonce, const char *url, const char *payload);
/* Turns a DER ECDSA signature into the 64-byte r||s form of ES256.
 * Returns 0 or -1. */
int jws_es256_raw(const uint8_t *der, size_t len, uint8_t out[64]);

#endif
