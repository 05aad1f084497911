/*
 * strmap — an intrusive hash map from strings to objects.
 *
 * The object embeds a struct strmap_entry and owns its key string; the map
 * only links entries, so inserting allocates nothing but the occasional
 * bucket array when the map grows. Find the object back with container_of.
 * Keys are hashed with SipHash under a random key of each map, so keys a
 * client chooses (account names, addresses, ICE ufrags) cannot be made to
 * collide.
 */
#ifndef TINCAN_STRMAP_H
#define TINCAN_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_entry {
    struct strmap_entry *next;
    const char *key;          /* owned by the object; must not change while linked */
    unsigned hash;
};

struct strmap {
    struct strmap_entry **buckets;
    size_t nbuckets, count;
    uint64_t k0, k1; /* the hash key, random */
};

/* Initialises an empty map. */
void strmap_init(struct strmap *m);
/* Frees the bucket array; entries belong to their objects. */
void strmap_cleanup(struct strmap *m);
/* Links e under key (which e keeps pointing to); the caller makes sure the
 * key is not present yet. */
void strmap_put(struct strmap *m, struct strmap_entry *e, const char *key);
/* Returns the entry with this key, or NULL. */
struct strmap_entry *strmap_get(const struct strmap *m, const char *key);
/* Unlinks e (which must be linked). */
void strmap_del(struct strmap *m, struct strmap_entry *e);
/* Calls fn for every entry; fn may delete the entry it is given. */
void strmap_each(struct strmap *m, void (*fn)(struct strmap_entry *e, void *arg), void *arg);

#endif
