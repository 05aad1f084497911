/*
 * alloc — layers and videos within a subscriber's estimate (see alloc.h).
 */
#include "alloc.h"

/* a before b in serving order */
static int before(const struct sfu_alloc_stream *a, const struct sfu_alloc_stream *b)
{
    if (a->kind != b->kind)
        return a->kind == SFU_ALLOC_SCREEN;
    return a->prio > b->prio;
}

/* The videos of s[0..n) that are allowed, in serving order, into idx;
 * their number. Audio gets its layer 0 here. */
static size_t order(struct sfu_alloc_stream *s, size_t n, size_t *idx)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        s[i].out = s[i].kind == SFU_ALLOC_AUDIO ? 0 : -1;
        if (s[i].kind == SFU_ALLOC_AUDIO || !s[i].allowed || s[i].nlayers == 0)
            continue;
        size_t j = k++;
        for (; j > 0 && before(&s[i], &s[idx[j - 1]]); j--)
            idx[j] = idx[j - 1];
        idx[j] = i;
    }
    return k;
}

/* What going from layer `from` to `to` needs free: its cost, with the
 * spare when `to` is above what the stream gets now. */
static double need(const struct sfu_alloc_stream *s, int from, int to)
{
    double cost = (double)s->bps[to] - (from >= 0 ? (double)s->bps[from] : 0);
    return to > s->cur ? cost * SFU_ALLOC_SPARE : cost;
}

uint64_t sfu_alloc_plan(struct sfu_alloc_stream *s, size_t n, uint64_t budget)
{
    size_t idx[SFU_ALLOC_MAX];
    if (n > SFU_ALLOC_MAX)
        n = SFU_ALLOC_MAX;
    size_t nv = order(s, n, idx);
    double left = (double)budget, used = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].kind == SFU_ALLOC_AUDIO)
            used += s[i].bps[0];
    left -= used;
    for (size_t k = 0; k < nv; k++) { /* everyone's lowest layer first */
        struct sfu_alloc_stream *v = &s[idx[k]];
        if (need(v, -1, 0) <= left) {
            v->out = 0;
            left -= v->bps[0];
            used += v->bps[0];
        }
    }
    for (size_t k = 0; k < nv; k++) { /* then up, a layer at a time, in order */
        struct sfu_alloc_stream *v = &s[idx[k]];
        while (v->out >= 0 && (size_t)v->out + 1 < v->nlayers && need(v, v->out, v->out + 1) <= left) {
            double extra = (double)v->bps[v->out + 1] - v->bps[v->out];
            left -= extra;
            used += extra;
            v->out++;
        }
    }
    return (uint64_t)used;
}
