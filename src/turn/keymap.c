/*
 * keymap — intrusive map with binary keys and a keyed hash (see keymap.h).
 */
#include "keymap.h"

#include <string.h>

#include "../base/alloc.h"
#include "../base/siphash.h"

uint64_t keymap_hash(uint64_t k0, uint64_t k1, const uint8_t *data, size_t len)
{
    return siphash13(k0, k1, data, len);
}

void keymap_init(struct keymap *m, const uint8_t secret[16])
{
    memset(m, 0, sizeof(*m));
    m->k0 = siphash_load_le(secret, 8);
    m->k1 = siphash_load_le(secret + 8, 8);
}

void keymap_cleanup(struct keymap *m)
{
    xfree(m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->count = 0;
}

static void grow(struct keymap *m)
{
    size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
    struct keymap_entry **b = xcalloc(n, sizeof(*b));
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct keymap_entry *e = m->buckets[i];
        while (e) {
            struct keymap_entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    xfree(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

void keymap_put(struct keymap *m, struct keymap_entry *e, const void *key, size_t len)
{
    if (m->count + 1 > m->nbuckets)
        grow(m);
    e->len = (uint8_t)len;
    memcpy(e->key, key, len);
    e->hash = keymap_hash(m->k0, m->k1, key, len);
    size_t i = e->hash & (m->nbuckets - 1);
    e->next = m->buckets[i];
    m->buckets[i] = e;
    m->count++;
}

struct keymap_entry *keymap_get(const struct keymap *m, const void *key, size_t len)
{
    if (!m->nbuckets || len > KEYMAP_KEY_MAX)
        return NULL;
    uint64_t h = keymap_hash(m->k0, m->k1, key, len);
    for (struct keymap_entry *e = m->buckets[h & (m->nbuckets - 1)]; e; e = e->next) {
        if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
    return NULL;
}

void keymap_del(struct keymap *m, struct keymap_entry *e)
{
    struct keymap_entry **pp = &m->buckets[e->hash & (m->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = e->next;
        m->count--;
    }
    e->next = NULL;
}

void keymap_each(struct keymap *m, void (*fn)(struct keymap_entry *e, void *arg), void *arg)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct keymap_entry *e = m->buckets[i];
        while (e) {
            struct keymap_entry *next = e->next;
            fn(e, arg);
            e = next;
        }
    }
}
