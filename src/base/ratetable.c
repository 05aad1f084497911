/*
 * ratetable — token buckets keyed by a string, at most max of them (see
 * ratetable.h).
 */
#include "ratetable.h"

#include <string.h>

#include "alloc.h"
#include "ratelimit.h"

struct ratetable_bucket {
    struct strmap_entry entry;
    struct ratelimit rl;
    unsigned rate;              /* of the latest take: what idle means */
    uint64_t per_ms;
    char key[];                 /* the entry's key, NUL-terminated */
};

void ratetable_init(struct ratetable *t, size_t max, uint64_t full_wait_ms)
{
    strmap_init(&t->map);
    t->max = max;
    t->full_wait_ms = full_wait_ms;
}

static void free_bucket(struct strmap_entry *e, void *arg)
{
    (void)arg;
    xfree(container_of(e, struct ratetable_bucket, entry));
}

void ratetable_cleanup(struct ratetable *t)
{
    strmap_each(&t->map, free_bucket, NULL);
    strmap_cleanup(&t->map);
}

struct sweep {
    struct ratetable *t;
    uint64_t now_ms;
};

static void drop_idle(struct strmap_entry *e, void *arg)
{
    const struct sweep *s = arg;
    struct ratetable_bucket *b = container_of(e, struct ratetable_bucket, entry);
    if (ratelimit_idle(&b->rl, s->now_ms, b->rate, b->per_ms)) {
        strmap_del(&s->t->map, e);
        xfree(b);
    }
}

void ratetable_sweep(struct ratetable *t, uint64_t now_ms)
{
    struct sweep s = { t, now_ms };
    strmap_each(&t->map, drop_idle, &s);
}

/* The bucket called key, made if there is room (after a sweep if the
 * table is full); NULL when the table is full of busy buckets. */
static struct ratetable_bucket *bucket_of(struct ratetable *t, const char *key, uint64_t now_ms)
{
    struct strmap_entry *e = strmap_get(&t->map, key);
    if (e)
        return container_of(e, struct ratetable_bucket, entry);
    if (t->map.count >= t->max)
        ratetable_sweep(t, now_ms);
    if (t->map.count >= t->max)
        return NULL;
    size_t len = strlen(key);
    struct ratetable_bucket *b = xcalloc(1, sizeof(*b) + len + 1);
    memcpy(b->key, key, len + 1);
    strmap_put(&t->map, &b->entry, b->key);
    return b;
}

uint64_t ratetable_take(struct ratetable *t, const char *key, unsigned rate, uint64_t per_ms, uint64_t now_ms)
{
    if (rate == 0)
        return 0;
    struct ratetable_bucket *b = bucket_of(t, key, now_ms);
    if (!b)
        return t->full_wait_ms;
    b->rate = rate;
    b->per_ms = per_ms;
    return ratelimit_take(&b->rl, now_ms, rate, per_ms);
}

size_t ratetable_count(const struct ratetable *t)
{
    return t->map.count;
}
