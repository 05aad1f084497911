/*
 * pktcache — the last packets of one forwarded RTP stream, by sequence
 * number, so that a subscriber's NACK can be answered without asking the
 * publisher (RFC 4585 §6.2.1).
 *
 * A ring of SFU_CACHE_PACKETS slots indexed by the low bits of the
 * sequence number; a packet is kept until a newer one takes its slot or
 * it is older than SFU_CACHE_MS. Packets longer than SFU_CACHE_PKT_MAX
 * are not kept. The cache is allocated once per stream (about 650 KB) and
 * never on the packet path. Pure: the caller gives the time.
 */
#ifndef TINCAN_SFU_PKTCACHE_H
#define TINCAN_SFU_PKTCACHE_H

#include <stddef.h>
#include <stdint.h>

#define SFU_CACHE_PACKETS 512     /* a power of two */
#define SFU_CACHE_MS 1000
#define SFU_CACHE_PKT_MAX 1264    /* browsers send at most about 1200 */

struct sfu_pktcache;

/* An empty cache; freed with sfu_pktcache_free (NULL is a no-op). */
struct sfu_pktcache *sfu_pktcache_new(void);
void sfu_pktcache_free(struct sfu_pktcache *c);

/* Forgets every packet (the stream starts over). */
void sfu_pktcache_reset(struct sfu_pktcache *c);
/* Keeps a copy of the RTP packet pkt[0..len) under seq, received at
 * now_ms. Returns 0, or -1 if it is too long (nothing kept). */
int sfu_pktcache_put(struct sfu_pktcache *c, uint16_t seq, const uint8_t *pkt, size_t len, uint64_t now_ms);
/* The packet kept under seq, if not older than SFU_CACHE_MS at now_ms:
 * its length, with *pkt pointing into the cache until the next put.
 * 0 if there is none. */
size_t sfu_pktcache_get(const struct sfu_pktcache *c, uint16_t seq, uint64_t now_ms, const uint8_t **pkt);

#endif
