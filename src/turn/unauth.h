/*
 * unauth — how many answers a source gets before it authenticates.
 *
 * Every answer to an unauthenticated STUN request (a 401 or 438 challenge,
 * a 400 or 420, a Binding success) could go to a spoofed address, so each
 * is counted against its source: error answers UNAUTH_ERROR_RATE a second,
 * Binding answers UNAUTH_BINDING_RATE (ICE sends a few). At most
 * UNAUTH_TABLE_MAX sources are tracked; when the table is full the least
 * recently seen one makes room once it is idle (its buckets are full again,
 * so forgetting it gives nothing away), and until then new sources share
 * one overflow bucket of UNAUTH_OVERFLOW_SCALE sources' worth: a flood of
 * spoofed sources slows logins down but never silences them. Pure: the
 * caller gives the time and the source's key.
 */
#ifndef TINCAN_TURN_UNAUTH_H
#define TINCAN_TURN_UNAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "../base/ratelimit.h"
#include "keymap.h"

#define UNAUTH_ERROR_RATE 20
#define UNAUTH_BINDING_RATE 100
#define UNAUTH_TABLE_MAX 4096
#define UNAUTH_OVERFLOW_SCALE 10

struct unauth_limit {
    struct keymap_entry entry;
    struct unauth_limit *prev, *next; /* least recently used first */
    struct ratelimit errors, bindings;
};

struct unauth_table {
    struct keymap map;                /* source key → struct unauth_limit */
    struct unauth_limit *lru_head, *lru_tail;
    struct unauth_limit overflow;     /* shared by sources the table has no room for */
    uint64_t shared;                  /* lookups that fell to the overflow bucket */
};

enum unauth_answer { UNAUTH_ERROR, UNAUTH_BINDING };

/* An empty table whose hash is keyed with secret. */
void unauth_init(struct unauth_table *t, const uint8_t secret[16]);
/* Frees every entry. */
void unauth_cleanup(struct unauth_table *t);
/* Takes one answer of the kind from the budget of the source with key
 * key[0..klen) at time now (ms). Returns 1 if the answer may go, 0 if the
 * source is over its rate. */
int unauth_take(struct unauth_table *t, const uint8_t *key, size_t klen, enum unauth_answer kind, uint64_t now);
/* Forgets the sources whose buckets are full again. */
void unauth_sweep(struct unauth_table *t, uint64_t now);

#endif
