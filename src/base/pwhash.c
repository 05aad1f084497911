/*
 * pwhash — argon2id hashing of passwords (see pwhash.h).
 */
#include "pwhash.h"

#include <argon2.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

#define SALT_LEN 16
#define HASH_LEN 32

int pwhash_hash(const char *pw, size_t len, char *out, size_t cap)
{
    unsigned char salt[SALT_LEN];
    if (cap < PWHASH_MAX || RAND_bytes(salt, sizeof(salt)) != 1)
        return -1;
    int rc = argon2id_hash_encoded(PWHASH_T_COST, PWHASH_M_COST_KIB, PWHASH_PARALLELISM, pw, len, salt, sizeof(salt),
                                   HASH_LEN, out, cap);
    return rc == ARGON2_OK ? 0 : -1;
}

int pwhash_verify(const char *encoded, const char *pw, size_t len)
{
    if (!encoded || strncmp(encoded, "$argon2id$", 10) != 0)
        return 0;
    return argon2id_verify(encoded, pw, len) == ARGON2_OK;
}

static char dummy[PWHASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
    if (pwhash_hash("tincan-dummy-password", 21, dummy, sizeof(dummy)) < 0)
        dummy[0] = '\0';
}

int pwhash_verify_dummy(const char *pw, size_t len)
{
    /* Workers verify at the same time: the dummy is made once. */
    pthread_once(&dummy_once, make_dummy);
    if (dummy[0])
        (void)pwhash_verify(dummy, pw, len);
    return 0;
}
