/*
 * keymap — an intrusive hash map from short binary keys (a TURN 5-tuple, a
 * source address) to objects, for the data path: no string is built and
 * nothing is allocated per lookup.
 *
 * Keys come from the network and may be chosen by an attacker, so the hash
 * is SipHash-1-3 under a secret key given at init: collisions cannot be
 * planned. The object embeds a struct keymap_entry, which holds a copy of
 * its key; find the object back with container_of. Pure (the caller gives
 * the secret).
 */
#ifndef TINCAN_KEYMAP_H
#define TINCAN_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

#define KEYMAP_KEY_MAX 40

struct keymap_entry {
    struct keymap_entry *next;
    uint64_t hash;
    uint8_t len;
    uint8_t key[KEYMAP_KEY_MAX];
};

struct keymap {
    struct keymap_entry **buckets;
    size_t nbuckets, count;
    uint64_t k0, k1;              /* the hash's secret */
};

/* Initialises an empty map hashing with secret. */
void keymap_init(struct keymap *m, const uint8_t secret[16]);
/* Frees the bucket array; entries belong to their objects. */
void keymap_cleanup(struct keymap *m);
/* Links e under key (len <= KEYMAP_KEY_MAX, copied into e); the caller
 * makes sure the key is not present yet. */
void keymap_put(struct keymap *m, struct keymap_entry *e, const void *key, size_t len);
/* The entry with this key, or NULL. */
struct keymap_entry *keymap_get(const struct keymap *m, const void *key, size_t len);
/* Unlinks e (which must be linked). */
void keymap_del(struct keymap *m, struct keymap_entry *e);
/* Calls fn for every entry; fn may delete the entry it is given. */
void keymap_each(struct keymap *m, void (*fn)(struct keymap_entry *e, void *arg), void *arg);
/* SipHash-1-3 of data under (k0, k1). */
uint64_t keymap_hash(uint64_t k0, uint64_t k1, const uint8_t *data, size_t len);

#endif
