/*
 * ipcount — connections per source address (see ipcount.h).
 */
#include "ipcount.h"

#include <string.h>

#include "../base/alloc.h"
#include "../base/siphash.h"

#define BUCKETS 4096

struct entry {
    struct entry *next;
    struct sock_ip ip;
    int count;
};

struct ipcount {
    struct entry *bucket[BUCKETS];
    uint64_t k0, k1; /* the hash key, random: clients choose their addresses */
};

static unsigned hash_ip(const struct ipcount *t, const struct sock_ip *ip)
{
    return (unsigned)(siphash13(t->k0, t->k1, ip->b, sizeof(ip->b)) % BUCKETS);
}

struct ipcount *ipcount_new(void)
{
    struct ipcount *t = xcalloc(1, sizeof(struct ipcount));
    siphash_new_key(&t->k0, &t->k1);
    return t;
}

void ipcount_free(struct ipcount *t)
{
    if (!t)
        return;
    for (int i = 0; i < BUCKETS; i++) {
        struct entry *e = t->bucket[i];
        while (e) {
            struct entry *next = e->next;
            xfree(e);
            e = next;
        }
    }
    xfree(t);
}

static struct entry **find(struct ipcount *t, const struct sock_ip *ip)
{
    struct entry **pp = &t->bucket[hash_ip(t, ip)];
    while (*pp && memcmp((*pp)->ip.b, ip->b, 16) != 0)
        pp = &(*pp)->next;
    return pp;
}

int ipcount_acquire(struct ipcount *t, const struct sock_ip *ip, int limit)
{
    struct entry **pp = find(t, ip);
    if (!*pp) {
        if (limit < 1)
            return -1;
        struct entry *e = xcalloc(1, sizeof(*e));
        e->ip = *ip;
        *pp = e;
    }
    if ((*pp)->count >= limit)
        return -1;
    return ++(*pp)->count;
}

void ipcount_release(struct ipcount *t, const struct sock_ip *ip)
{
    struct entry **pp = find(t, ip);
    struct entry *e = *pp;
    if (!e)
        return;
    if (--e->count <= 0) {
        *pp = e->next;
        xfree(e);
    }
}

int ipcount_get(const struct ipcount *t, const struct sock_ip *ip)
{
    struct entry **pp = find((struct ipcount *)t, ip);
    return *pp ? (*pp)->count : 0;
}
