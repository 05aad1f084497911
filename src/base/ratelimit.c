/*
 * ratelimit — token bucket (see ratelimit.h).
 */
#include "ratelimit.h"

static double refill(const struct ratelimit *r, uint64_t now_ms, unsigned rate, uint64_t per_ms)
{
    if (!r->started)
        return rate;
    double t = r->tokens + (double)(now_ms - r->last_ms) * rate / (double)per_ms;
    return t > rate ? rate : t;
}

uint64_t ratelimit_take_n(struct ratelimit *r, uint64_t now_ms, unsigned n, unsigned rate, uint64_t per_ms)
{
    double t = refill(r, now_ms, rate, per_ms);
    double cost = n > rate ? rate : n;
    r->tokens = t;
    r->last_ms = now_ms;
    r->started = 1;
    if (t >= cost) {
        r->tokens = t - cost;
        return 0;
    }
    uint64_t wait = (uint64_t)((cost - t) * (double)per_ms / rate) + 1;
    return wait;
}

uint64_t ratelimit_take(struct ratelimit *r, uint64_t now_ms, unsigned rate, uint64_t per_ms)
{
    return ratelimit_take_n(r, now_ms, 1, rate, per_ms);
}

int ratelimit_idle(const struct ratelimit *r, uint64_t now_ms, unsigned rate, uint64_t per_ms)
{
    return refill(r, now_ms, rate, per_ms) >= rate;
}
