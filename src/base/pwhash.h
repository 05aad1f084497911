/*
 * pwhash — password hashing with argon2id (libargon2), in the PHC string
 * format ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>").
 *
 * Parameters (docs/rooms.md): 19 MiB of memory, 2 passes, 1 lane, a
 * 16-byte random salt, a 32-byte hash: OWASP's first recommended argon2id
 * setting. A hash costs tens of milliseconds of CPU on the calling thread,
 * so the server runs them on worker threads (src/base/workq.c); every
 * function here may be called from several threads at once.
 * Verification reads the parameters from the stored string, so stronger
 * settings later still verify old hashes.
 */
#ifndef TINCAN_PWHASH_H
#define TINCAN_PWHASH_H

#include <stddef.h>

#define PWHASH_T_COST 2
#define PWHASH_M_COST_KIB 19456
#define PWHASH_PARALLELISM 1
#define PWHASH_MAX 160 /* bytes of an encoded hash, with its NUL */

/* Hashes pw (len bytes) with a fresh salt into out (cap >= PWHASH_MAX).
 * Returns 0, or -1 (out of memory, RNG failure). */
int pwhash_hash(const char *pw, size_t len, char *out, size_t cap);
/* 1 when pw matches encoded, else 0 (a malformed encoded string is 0).
 * The comparison inside libargon2 takes constant time. */
int pwhash_verify(const char *encoded, const char *pw, size_t len);
/* Verifies pw against a fixed dummy hash with the same parameters and
 * returns 0: for unknown accounts, so that they cost as much time as known
 * ones and cannot be told apart. */
int pwhash_verify_dummy(const char *pw, size_t len);

#endif
