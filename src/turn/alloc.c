/*
 * alloc — permissions, channels and lifetimes of one allocation (see alloc.h).
 *
 * Tables are small fixed arrays searched linearly: a browser's allocation
 * has a handful of peers, and this keeps the data path free of allocation.
 */
#include "alloc.h"

#include <errno.h>
#include <string.h>

static size_t ip_len(uint8_t family)
{
    return family == STUN_IPV4 ? 4 : 16;
}

int stun_addr_equal(const struct stun_addr *a, const struct stun_addr *b)
{
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, ip_len(a->family)) == 0;
}

uint32_t alloc_lifetime(uint32_t requested)
{
    if (requested < ALLOC_DEFAULT_LIFETIME)
        return ALLOC_DEFAULT_LIFETIME;
    return requested > ALLOC_MAX_LIFETIME ? ALLOC_MAX_LIFETIME : requested;
}

static int same_ip(const struct alloc_perm *p, const struct stun_addr *peer)
{
    return p->family == peer->family && memcmp(p->ip, peer->ip, ip_len(peer->family)) == 0;
}

int alloc_permit(struct alloc_state *a, const struct stun_addr *peer, uint64_t now)
{
    for (int i = 0; i < a->nperms; i++) {
        if (same_ip(&a->perms[i], peer)) {
            a->perms[i].expires = now + ALLOC_PERM_MS;
            return 0;
        }
    }
    alloc_prune(a, now);
    if (a->nperms == ALLOC_MAX_PERMS)
        return -ENOSPC;
    struct alloc_perm *p = &a->perms[a->nperms++];
    memset(p, 0, sizeof(*p));
    p->family = peer->family;
    memcpy(p->ip, peer->ip, ip_len(peer->family));
    p->expires = now + ALLOC_PERM_MS;
    return 0;
}

int alloc_permitted(const struct alloc_state *a, const struct stun_addr *peer, uint64_t now)
{
    for (int i = 0; i < a->nperms; i++) {
        if (same_ip(&a->perms[i], peer))
            return a->perms[i].expires > now;
    }
    return 0;
}

const struct alloc_channel *alloc_channel_by_number(const struct alloc_state *a, uint16_t number, uint64_t now)
{
    for (int i = 0; i < a->nchannels; i++) {
        if (a->channels[i].number == number)
            return a->channels[i].expires > now ? &a->channels[i] : NULL;
    }
    return NULL;
}

const struct alloc_channel *alloc_channel_by_peer(const struct alloc_state *a, const struct stun_addr *peer,
                                                  uint64_t now)
{
    for (int i = 0; i < a->nchannels; i++) {
        if (stun_addr_equal(&a->channels[i].peer, peer))
            return a->channels[i].expires > now ? &a->channels[i] : NULL;
    }
    return NULL;
}

int alloc_bind(struct alloc_state *a, uint16_t number, const struct stun_addr *peer, uint64_t now)
{
    if (number < STUN_CHANNEL_MIN || number > STUN_CHANNEL_MAX)
        return -EINVAL;
    alloc_prune(a, now);
    for (int i = 0; i < a->nchannels; i++) {
        struct alloc_channel *c = &a->channels[i];
        int same_number = c->number == number, same_peer = stun_addr_equal(&c->peer, peer);
        if (same_number != same_peer)
            return -EINVAL; /* either side already bound to something else */
        if (same_number) {
            c->expires = now + ALLOC_CHANNEL_MS;
            return alloc_permit(a, peer, now);
        }
    }
    if (a->nchannels == ALLOC_MAX_CHANNELS)
        return -ENOSPC;
    int rc = alloc_permit(a, peer, now);
    if (rc)
        return rc;
    struct alloc_channel *c = &a->channels[a->nchannels++];
    c->number = number;
    c->peer = *peer;
    c->expires = now + ALLOC_CHANNEL_MS;
    return 0;
}

void alloc_prune(struct alloc_state *a, uint64_t now)
{
    int j = 0;
    for (int i = 0; i < a->nperms; i++) {
        if (a->perms[i].expires > now)
            a->perms[j++] = a->perms[i];
    }
    a->nperms = j;
    /* A channel stays reserved for 5 minutes after it expires (§12): kept
     * here until then so its number is not rebound to another peer. */
    j = 0;
    for (int i = 0; i < a->nchannels; i++) {
        if (a->channels[i].expires + ALLOC_PERM_MS > now)
            a->channels[j++] = a->channels[i];
    }
    a->nchannels = j;
}
