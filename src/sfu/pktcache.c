/*
 * pktcache — the recent packets of one RTP stream for retransmission (see
 * pktcache.h).
 */
#include "pktcache.h"

#include <string.h>

#include "base/alloc.h"

struct entry {
    uint64_t ms;
    uint16_t seq;
    uint16_t len;          /* 0: empty */
    uint8_t data[SFU_CACHE_PKT_MAX];
};

struct sfu_pktcache {
    struct entry e[SFU_CACHE_PACKETS];
};

struct sfu_pktcache *sfu_pktcache_new(void)
{
    return xcalloc(1, sizeof(struct sfu_pktcache));
}

void sfu_pktcache_free(struct sfu_pktcache *c)
{
    xfree(c);
}

void sfu_pktcache_reset(struct sfu_pktcache *c)
{
    for (size_t i = 0; i < SFU_CACHE_PACKETS; i++)
        c->e[i].len = 0;
}

int sfu_pktcache_put(struct sfu_pktcache *c, uint16_t seq, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
    if (len == 0 || len > SFU_CACHE_PKT_MAX)
        return -1;
    struct entry *e = &c->e[seq & (SFU_CACHE_PACKETS - 1)];
    e->ms = now_ms;
    e->seq = seq;
    e->len = (uint16_t)len;
    memcpy(e->data, pkt, len);
    return 0;
}

size_t sfu_pktcache_get(const struct sfu_pktcache *c, uint16_t seq, uint64_t now_ms, const uint8_t **pkt)
{
    const struct entry *e = &c->e[seq & (SFU_CACHE_PACKETS - 1)];
    if (!e->len || e->seq != seq || now_ms > e->ms + SFU_CACHE_MS)
        return 0;
    *pkt = e->data;
    return e->len;
}
