/*
 * ratelimit — a token bucket: `rate` events per `per_ms`, bursts up to
 * `rate`. Pure: the caller passes the time.
 */
#ifndef TINCAN_RATELIMIT_H
#define TINCAN_RATELIMIT_H

#include <stdint.h>

struct ratelimit {
    double tokens;
    uint64_t last_ms;
    int started;
};

/* Takes one token at now_ms. Returns 0 if allowed, else the milliseconds
 * until a token will be available (nothing is taken). */
uint64_t ratelimit_take(struct ratelimit *r, uint64_t now_ms, unsigned rate, uint64_t per_ms);
/* Takes n tokens at once (n above rate costs rate: a whole bucket). Returns
 * 0 if allowed, else the milliseconds until n tokens will be there (nothing
 * is taken). Used with bytes as tokens. */
uint64_t ratelimit_take_n(struct ratelimit *r, uint64_t now_ms, unsigned n, unsigned rate, uint64_t per_ms);
/* True when the bucket has refilled completely by now_ms (it can be dropped). */
int ratelimit_idle(const struct ratelimit *r, uint64_t now_ms, unsigned rate, uint64_t per_ms);

#endif
