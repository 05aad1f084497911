/*
 * ratetable — token buckets (ratelimit.h) in a table keyed by a string:
 * requests per client address, logins per account name, PIN attempts per
 * source. Each bucket keeps the rate and window of its latest take.
 *
 * Memory is bounded: the table holds at most `max` buckets. A new key that
 * finds the table full first drops every bucket that has refilled (it would
 * answer the same as a new one); if the table is still full, the key is
 * refused for `full_wait_ms`. Busy buckets are never evicted, or a flood
 * of fresh keys would reset the limits of the ones it wants to abuse. The
 * caller also sweeps the table now and then (ratetable_sweep) so idle
 * buckets do not wait for a full table to go.
 *
 * Pure: the caller passes the time. Keys are copied; the caller bounds
 * their length (the table holds max keys of that length at most).
 */
#ifndef TINCAN_RATETABLE_H
#define TINCAN_RATETABLE_H

#include <stddef.h>
#include <stdint.h>

#include "strmap.h"

struct ratetable {
    struct strmap map;          /* key → struct ratetable_bucket (ratetable.c) */
    size_t max;                 /* buckets at most */
    uint64_t full_wait_ms;      /* the answer to a new key while the table is full */
};

/* Initialises an empty table of at most max buckets; a new key that finds
 * it full of busy buckets is told to wait full_wait_ms. */
void ratetable_init(struct ratetable *t, size_t max, uint64_t full_wait_ms);
/* Frees every bucket and the table's own memory; t may be initialised
 * again. */
void ratetable_cleanup(struct ratetable *t);
/* Takes one token from the bucket called key (rate per per_ms, bursts up
 * to rate; see ratelimit_take), making the bucket if it is new. Returns 0
 * when allowed, else the milliseconds to wait: the bucket's refill time,
 * or full_wait_ms for a new key while the table is full of busy buckets.
 * rate 0 means no limit: 0, and nothing is stored. */
uint64_t ratetable_take(struct ratetable *t, const char *key, unsigned rate, uint64_t per_ms, uint64_t now_ms);
/* Drops the buckets that have refilled completely by now_ms. */
void ratetable_sweep(struct ratetable *t, uint64_t now_ms);
/* How many buckets the table holds. */
size_t ratetable_count(const struct ratetable *t);

#endif
