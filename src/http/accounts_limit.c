/*
 * accounts_limit — the token buckets of the accounts API (see
 * accounts_int.h): logins per source address and per account name,
 * registrations per source address, each a struct ratelimit in a table
 * keyed by a string. The table holds at most LIMITS_MAX buckets, so a flood
 * of addresses costs bounded memory; buckets that have refilled are swept.
 */
#include <stdio.h>

#include "../base/alloc.h"
#include "../base/ratelimit.h"
#include "accounts_int.h"

#define LIMITS_MAX 16384

struct limit {
    struct strmap_entry entry;
    char key[ACCOUNTS_FIELD_MAX + 8];
    struct ratelimit rl;
    unsigned rate;
    uint64_t per_ms;
};

void accounts_limits_init(struct accounts *a)
{
    strmap_init(&a->limits);
}

static void drop_idle(struct strmap_entry *e, void *arg)
{
    struct accounts *a = ((void **)arg)[0];
    int64_t now = *(int64_t *)((void **)arg)[1];
    struct limit *l = container_of(e, struct limit, entry);
    if (ratelimit_idle(&l->rl, (uint64_t)now, l->rate, l->per_ms)) {
        strmap_del(&a->limits, e);
        xfree(l);
    }
}

void accounts_limits_sweep(struct accounts *a, int64_t now)
{
    void *arg[2] = { a, &now };
    strmap_each(&a->limits, drop_idle, arg);
}

uint64_t accounts_take(struct accounts *a, const char *key, unsigned rate, uint64_t per_ms, int64_t now)
{
    if (rate == 0)
        return 0;
    struct strmap_entry *e = strmap_get(&a->limits, key);
    if (!e && a->limits.count >= LIMITS_MAX)
        accounts_sweep(a, now);
    if (!e && a->limits.count >= LIMITS_MAX)
        return 60000;
    struct limit *l;
    if (e) {
        l = container_of(e, struct limit, entry);
    } else {
        l = xcalloc(1, sizeof(*l));
        snprintf(l->key, sizeof(l->key), "%s", key);
        l->rate = rate;
        l->per_ms = per_ms;
        strmap_put(&a->limits, &l->entry, l->key);
    }
    return ratelimit_take(&l->rl, (uint64_t)now, rate, per_ms);
}

static void free_limit(struct strmap_entry *e, void *arg)
{
    (void)arg;
    xfree(container_of(e, struct limit, entry));
}

void accounts_limits_free(struct accounts *a)
{
    strmap_each(&a->limits, free_limit, NULL);
    strmap_cleanup(&a->limits);
}
