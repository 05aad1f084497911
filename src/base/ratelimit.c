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

uint64_t ratelimit_take(struct ratelimit *r, uint64_t now_ms, unsigned rate, uint64_t per_ms)
{
    double t = refill(r, now_ms, rate, per_ms);
    r->tokens = t;
    r->last_ms = now_ms;
    r->started = 1;
    if (t >= 1.0) {
        r->tokens = t - 1.0;
        return 0;
    }
    uint64_t wait = (uint64_t)((1.0 - t) * (double)per_ms / rate) + 1;
    return wait;
}

int ratelimit_idle(const struct ratelimit *r, uint64_t now_ms, unsigned rate, uint64_t per_ms)
{
    return refill(r, now_ms, rate, per_ms) >= rate;
}
