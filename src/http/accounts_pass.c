/*
 * accounts_pass — room passwords that verified lately (see accounts_api.h,
 * accounts_team_room_check). The join that follows POST .../enter (over
 * the WebSocket) and rejoins after a reconnect then need no second
 * argon2id. A pass is kept 12 hours after its last use; its key is an HMAC
 * under a per-process secret of the room id, the room's stored hash and
 * the password, so it opens nothing without the password and stops
 * matching when the password changes. At most PASSES_MAX are kept.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "../base/alloc.h"
#include "accounts_int.h"

#define PASSES_MAX 4096
#define PASS_TTL_MS (12LL * 3600 * 1000)

struct pass {
    struct strmap_entry entry;
    char key[2 * SHA256_DIGEST_LENGTH + 1];
    int64_t until;
};

void accounts_passes_init(struct accounts *a)
{
    strmap_init(&a->passes);
    if (RAND_bytes(a->pass_secret, sizeof(a->pass_secret)) != 1)
        memset(a->pass_secret, 0, sizeof(a->pass_secret)); /* then passes are never kept (pass_key) */
}

static void free_pass(struct strmap_entry *e, void *arg)
{
    (void)arg;
    xfree(container_of(e, struct pass, entry));
}

static void drop_pass(struct strmap_entry *e, void *arg)
{
    struct accounts *a = ((void **)arg)[0];
    int64_t now = *(int64_t *)((void **)arg)[1];
    if (container_of(e, struct pass, entry)->until <= now) {
        strmap_del(&a->passes, e);
        free_pass(e, NULL);
    }
}

void accounts_passes_sweep(struct accounts *a, int64_t now)
{
    void *arg[2] = { a, &now };
    strmap_each(&a->passes, drop_pass, arg);
}

void accounts_passes_free(struct accounts *a)
{
    strmap_each(&a->passes, free_pass, NULL);
    strmap_cleanup(&a->passes);
}

/* The pass key of (room id, stored hash, password) in hex; -1 if none. */
static int pass_key(const struct accounts *a, const char *id, const char *pwhash, const char *pw, char out[65])
{
    static const unsigned char zero[32];
    unsigned char data[USERS_ROOM_ID_LEN + USERS_HASH_MAX + ACCOUNTS_FIELD_MAX + 3], mac[SHA256_DIGEST_LENGTH];
    unsigned int maclen = 0;
    int n = snprintf((char *)data, sizeof(data), "%s%c%s%c%s", id, 0, pwhash, 0, pw);
    if (n < 0 || (size_t)n >= sizeof(data) || memcmp(a->pass_secret, zero, sizeof(zero)) == 0 ||
        !HMAC(EVP_sha256(), a->pass_secret, sizeof(a->pass_secret), data, (size_t)n, mac, &maclen)) {
        OPENSSL_cleanse(data, sizeof(data));
        return -1;
    }
    OPENSSL_cleanse(data, sizeof(data));
    for (unsigned i = 0; i < maclen; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    return 0;
}

/* True when the password verified for the room lately (and keeps it). */
static int pass_valid(struct accounts *a, const char *id, const char *pwhash, const char *pw, int64_t now)
{
    char k[65];
    struct strmap_entry *e = pass_key(a, id, pwhash, pw, k) == 0 ? strmap_get(&a->passes, k) : NULL;
    struct pass *p = e ? container_of(e, struct pass, entry) : NULL;
    if (!p || p->until <= now)
        return 0;
    p->until = now + PASS_TTL_MS;
    return 1;
}

static void pass_remember(struct accounts *a, const char *id, const char *pwhash, const char *pw, int64_t now)
{
    char k[65];
    if (pass_key(a, id, pwhash, pw, k) < 0 || pass_valid(a, id, pwhash, pw, now))
        return;
    if (a->passes.count >= PASSES_MAX)
        accounts_sweep(a, now);
    if (a->passes.count >= PASSES_MAX)
        return;
    struct pass *p = xcalloc(1, sizeof(*p));
    memcpy(p->key, k, sizeof(p->key));
    p->until = now + PASS_TTL_MS;
    strmap_put(&a->passes, &p->entry, p->key);
}

int accounts_team_room_check(struct accounts *a, const char *id, const char *password, int64_t now_ms, char *pwhash,
                             size_t cap)
{
    struct users_room r;
    enum store_status res = users_room_get(a->st, id, &r);
    if (res != STORE_OK)
        return res == STORE_NOT_FOUND ? 1 : -1;
    if (!r.pwhash[0] || pass_valid(a, id, r.pwhash, password, now_ms))
        return 0;
    if (strlen(password) > ACCOUNTS_PASSWORD_MAX || cap < sizeof(r.pwhash))
        return 2;
    memcpy(pwhash, r.pwhash, sizeof(r.pwhash));
    return 3;
}

void accounts_team_room_passed(struct accounts *a, const char *id, const char *pwhash, const char *password,
                               int64_t now_ms)
{
    pass_remember(a, id, pwhash, password, now_ms);
}
