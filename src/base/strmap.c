/*
 * strmap — intrusive string-keyed hash map (see strmap.h).
 */
#include "strmap.h"

#include <string.h>

#include "alloc.h"
#include "siphash.h"

static unsigned hash_str(const struct strmap *m, const char *s)
{
    return (unsigned)siphash13(m->k0, m->k1, (const uint8_t *)s, strlen(s));
}

void strmap_init(struct strmap *m)
{
    m->buckets = NULL;
    m->nbuckets = 0;
    m->count = 0;
    siphash_new_key(&m->k0, &m->k1);
}

void strmap_cleanup(struct strmap *m)
{
    xfree(m->buckets);
    strmap_init(m);
}

static void grow(struct strmap *m)
{
    size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
    struct strmap_entry **b = xcalloc(n, sizeof(*b));
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct strmap_entry *e = m->buckets[i];
        while (e) {
            struct strmap_entry *next = e->next;
            e->next = b[e->hash % n];
            b[e->hash % n] = e;
            e = next;
        }
    }
    xfree(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

void strmap_put(struct strmap *m, struct strmap_entry *e, const char *key)
{
    if (m->count + 1 > m->nbuckets)
        grow(m);
    e->key = key;
    e->hash = hash_str(m, key);
    size_t i = e->hash % m->nbuckets;
    e->next = m->buckets[i];
    m->buckets[i] = e;
    m->count++;
}

struct strmap_entry *strmap_get(const struct strmap *m, const char *key)
{
    if (!m->nbuckets)
        return NULL;
    unsigned h = hash_str(m, key);
    for (struct strmap_entry *e = m->buckets[h % m->nbuckets]; e; e = e->next) {
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e;
    }
    return NULL;
}

void strmap_del(struct strmap *m, struct strmap_entry *e)
{
    struct strmap_entry **pp = &m->buckets[e->hash % m->nbuckets];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = e->next;
        m->count--;
    }
    e->next = NULL;
}

void strmap_each(struct strmap *m, void (*fn)(struct strmap_entry *e, void *arg), void *arg)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct strmap_entry *e = m->buckets[i];
        while (e) {
            struct strmap_entry *next = e->next;
            fn(e, arg);
            e = next;
        }
    }
}
