/*
 * keymap — intrusive map with binary keys and a keyed hash (see keymap.h).
 */
#include "keymap.h"

#include <string.h>

#include "../base/alloc.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = ROTL(v[1], 13);
    v[1] ^= v[0];
    v[0] = ROTL(v[0], 32);
    v[2] += v[3];
    v[3] = ROTL(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = ROTL(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = ROTL(v[1], 17);
    v[1] ^= v[2];
    v[2] = ROTL(v[2], 32);
}

static uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
}

uint64_t keymap_hash(uint64_t k0, uint64_t k1, const uint8_t *data, size_t len)
{
    uint64_t v[4] = { k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
                      k1 ^ 0x7465646279746573ull };
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m = load_le(data + i, 8);
        v[3] ^= m;
        sip_round(v);
        v[0] ^= m;
    }
    uint64_t last = ((uint64_t)len << 56) | load_le(data + i, len - i);
    v[3] ^= last;
    sip_round(v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for (int r = 0; r < 3; r++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void keymap_init(struct keymap *m, const uint8_t secret[16])
{
    memset(m, 0, sizeof(*m));
    m->k0 = load_le(secret, 8);
    m->k1 = load_le(secret + 8, 8);
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
