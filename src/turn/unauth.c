/*
 * unauth — how many answers a source gets before it authenticates (see
 * unauth.h).
 */
#include "unauth.h"

#include <string.h>

#include "../base/alloc.h"

static void lru_unlink(struct unauth_table *t, struct unauth_limit *l)
{
    *(l->prev ? &l->prev->next : &t->lru_head) = l->next;
    *(l->next ? &l->next->prev : &t->lru_tail) = l->prev;
    l->prev = l->next = NULL;
}

static void lru_append(struct unauth_table *t, struct unauth_limit *l)
{
    l->prev = t->lru_tail;
    l->next = NULL;
    *(t->lru_tail ? &t->lru_tail->next : &t->lru_head) = l;
    t->lru_tail = l;
}

static int limit_idle(const struct unauth_limit *l, uint64_t now)
{
    return ratelimit_idle(&l->errors, now, UNAUTH_ERROR_RATE, 1000) &&
           ratelimit_idle(&l->bindings, now, UNAUTH_BINDING_RATE, 1000);
}

static void limit_free(struct unauth_table *t, struct unauth_limit *l)
{
    lru_unlink(t, l);
    keymap_del(&t->map, &l->entry);
    xfree(l);
}

void unauth_init(struct unauth_table *t, const uint8_t secret[16])
{
    memset(t, 0, sizeof(*t));
    keymap_init(&t->map, secret);
}

void unauth_cleanup(struct unauth_table *t)
{
    while (t->lru_head)
        limit_free(t, t->lru_head);
    keymap_cleanup(&t->map);
}

/* The limiter of a source: its own, a recycled idle one, or the overflow. */
static struct unauth_limit *entry_of(struct unauth_table *t, const uint8_t *key, size_t klen, uint64_t now)
{
    struct keymap_entry *e = keymap_get(&t->map, key, klen);
    if (e) {
        struct unauth_limit *l = container_of(e, struct unauth_limit, entry);
        lru_unlink(t, l);
        lru_append(t, l);
        return l;
    }
    if (t->map.count >= UNAUTH_TABLE_MAX) {
        if (!limit_idle(t->lru_head, now)) {
            t->shared++;
            return &t->overflow;
        }
        limit_free(t, t->lru_head);
    }
    struct unauth_limit *l = xcalloc(1, sizeof(*l));
    keymap_put(&t->map, &l->entry, key, klen);
    lru_append(t, l);
    return l;
}

int unauth_take(struct unauth_table *t, const uint8_t *key, size_t klen, enum unauth_answer kind, uint64_t now)
{
    struct unauth_limit *l = entry_of(t, key, klen, now);
    unsigned scale = l == &t->overflow ? UNAUTH_OVERFLOW_SCALE : 1;
    if (kind == UNAUTH_BINDING)
        return ratelimit_take(&l->bindings, now, UNAUTH_BINDING_RATE * scale, 1000) == 0;
    return ratelimit_take(&l->errors, now, UNAUTH_ERROR_RATE * scale, 1000) == 0;
}

void unauth_sweep(struct unauth_table *t, uint64_t now)
{
    struct unauth_limit *l = t->lru_head;
    while (l) {
        struct unauth_limit *next = l->next;
        if (limit_idle(l, now))
            limit_free(t, l);
        l = next;
    }
}
