/*
 * auth — TURN credentials and nonces that need no server state.
 *
 *  - Long-term credentials (RFC 8489 §9.2.2): the MESSAGE-INTEGRITY key is
 *    MD5(username ":" realm ":" password), or SHA-256 of the same when
 *    PASSWORD-ALGORITHM asks for it. Usernames and passwords are used as the
 *    bytes given: no SASLprep/OpaqueString is applied (REST usernames and
 *    generated passwords are ASCII; a static user's password is what the
 *    operator typed).
 *  - The TURN REST scheme (coturn's use-auth-secret): username
 *    "<unix expiry>:<user>" (or just "<unix expiry>"), password
 *    base64(HMAC-SHA1(secret, username)). Whoever knows the secret can mint
 *    credentials; the server checks the expiry and derives the password.
 *  - Stateless nonces: 16 hex digits of the issue time, then 32 hex digits
 *    of HMAC-SHA256(server secret, label | time | client address); a nonce
 *    is stale AUTH_NONCE_TTL seconds after it was issued.
 *
 * Pure: every function gets the time as `now` (Unix seconds) and reads no
 * clock; secrets and strings are caller-owned views (struct stun_str).
 */
#ifndef TINCAN_AUTH_H
#define TINCAN_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stun.h"

#define AUTH_KEY_MD5_LEN 16
#define AUTH_KEY_SHA256_LEN 32
#define AUTH_REST_PASSWORD_LEN 28   /* base64 of a 20-byte HMAC-SHA1 */
#define AUTH_NONCE_LEN 48
#define AUTH_NONCE_TTL 600          /* seconds a nonce stays fresh */

enum auth_status {
    AUTH_OK,
    AUTH_MALFORMED,   /* not in the expected format: 400 or 401 */
    AUTH_EXPIRED,     /* REST username past its expiry: 401 */
    AUTH_STALE,       /* nonce too old (or from the future): 438 with a new one */
    AUTH_FORGED,      /* nonce not made with this secret (or for this address): 401 */
    AUTH_ERROR,       /* OpenSSL failed (e.g. MD5 unavailable in FIPS mode) */
};

/* A constant name for a status, for logs. */
const char *auth_strerror(enum auth_status s);

/* A view of a NUL-terminated string (without the NUL). */
static inline struct stun_str auth_cstr(const char *s)
{
    return (struct stun_str){ (const uint8_t *)s, strlen(s) };
}

/* Writes MD5(user ":" realm ":" pass) into out. Returns 0, or -EIO if
 * OpenSSL fails. */
int auth_key_md5(struct stun_str user, struct stun_str realm, struct stun_str pass,
                 uint8_t out[AUTH_KEY_MD5_LEN]);
/* Writes SHA-256(user ":" realm ":" pass) into out. Returns 0 or -EIO. */
int auth_key_sha256(struct stun_str user, struct stun_str realm, struct stun_str pass,
                    uint8_t out[AUTH_KEY_SHA256_LEN]);

/* Reads the expiry of a REST username: 1-20 decimal digits (fitting 64 bits)
 * that are the whole username or are followed by ':'. Returns 0, or -EINVAL
 * for anything else (including coturn's "<user>:<expiry>" order). */
int auth_rest_expiry(struct stun_str username, uint64_t *expiry);
/* Writes the REST password for username: base64(HMAC-SHA1(secret,
 * username)), NUL-terminated. Returns 0 or -EIO. */
int auth_rest_password(struct stun_str secret, struct stun_str username,
                       char out[AUTH_REST_PASSWORD_LEN + 1]);
/* Checks a REST username and derives its long-term key for realm (the
 * server's own realm, which the caller has compared with the REALM the
 * client sent). Returns AUTH_OK with key filled, AUTH_MALFORMED,
 * AUTH_EXPIRED (now > expiry; the expiry second itself is still valid, as
 * in coturn) or AUTH_ERROR. Whether the client knew the password shows only
 * when the message's integrity is checked with key. */
enum auth_status auth_rest_key(struct stun_str secret, struct stun_str username, struct stun_str realm,
                               uint64_t now, uint8_t key[AUTH_KEY_MD5_LEN]);
/* Mints a REST credential for a client: username "<expiry>:<user>" (or
 * "<expiry>" when user is empty) NUL-terminated into username[0..cap), and
 * its password. Returns 0, -ENOBUFS if cap is too small, or -EIO. */
int auth_rest_credential(struct stun_str secret, const char *user, uint64_t expiry, char *username,
                         size_t cap, char password[AUTH_REST_PASSWORD_LEN + 1]);

/* Makes a nonce for a client at time now, NUL-terminated into out. addr
 * binds it to the client (e.g. the source IP bytes); alen is 0..64.
 * Returns 0 or -EIO. Use a secret of the server's own, not the REST one. */
int auth_nonce_make(struct stun_str secret, uint64_t now, const uint8_t *addr, size_t alen,
                    char out[AUTH_NONCE_LEN + 1]);
/* Checks a nonce a client sent back: AUTH_OK while now is less than
 * AUTH_NONCE_TTL seconds after the time inside it; AUTH_STALE after that or
 * if that time is ahead of now; AUTH_FORGED if the MAC does not match
 * (checked first, so a forged nonce never reads as stale); AUTH_MALFORMED
 * if it is not 48 lowercase hex digits; AUTH_ERROR if OpenSSL fails. */
enum auth_status auth_nonce_check(struct stun_str secret, struct stun_str nonce, uint64_t now,
                                  const uint8_t *addr, size_t alen);

#endif
