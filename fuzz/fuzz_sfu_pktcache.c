/*
 * fuzz_sfu_pktcache — libFuzzer target for the packet cache
 * (src/sfu/pktcache.c) and the sequence rewriter (src/sfu/rewrite.c)
 * against simple models.
 *
 * The input is a list of 5-byte commands: an op byte, a sequence number,
 * a time step and a length. Ops put a packet (its bytes say its number
 * and time), get one, or map one through the rewriter (with a source
 * switch first when the op says so). Checks: a get returns nothing, or
 * exactly the packet last put under that number, never one older than
 * SFU_CACHE_MS; a packet put, not older than SFU_CACHE_MS and whose ring
 * slot no later put took is always found; the rewriter's offset changes
 * only where a new source starts (a switch, or the sender's numbering
 * restarting), and then the stream goes on at the last number sent + 1.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sfu/pktcache.h"
#include "sfu/rewrite.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

struct model {
    uint64_t ms;
    uint16_t len;
    uint32_t gen;   /* valid when it is the current input's */
};

static uint32_t gen;

static struct model put_at[65536];
static int32_t slot_owner[SFU_CACHE_PACKETS]; /* the number last put in each ring slot, or -1 */

static void do_get(struct sfu_pktcache *c, uint16_t seq, uint64_t now)
{
    const uint8_t *got;
    size_t n = sfu_pktcache_get(c, seq, now, &got);
    const struct model *m = &put_at[seq];
    int fresh = m->gen == gen && now <= m->ms + SFU_CACHE_MS && slot_owner[seq & (SFU_CACHE_PACKETS - 1)] == seq;
    if (n) {
        CHECK(fresh && n == m->len);
        uint64_t ms;
        memcpy(&ms, got + 2, sizeof(ms));
        CHECK(got[0] == (uint8_t)(seq >> 8) && got[1] == (uint8_t)seq && ms == m->ms);
    } else {
        CHECK(!fresh);
    }
}

static void do_put(struct sfu_pktcache *c, uint16_t seq, uint64_t now, size_t len)
{
    uint8_t pkt[SFU_CACHE_PKT_MAX + 16];
    memset(pkt, 0x33, sizeof(pkt));
    pkt[0] = (uint8_t)(seq >> 8);
    pkt[1] = (uint8_t)seq;
    memcpy(pkt + 2, &now, sizeof(now));
    if (len < 10)
        len = 0; /* too short for the bytes above: put nothing, which must fail */
    int rc = sfu_pktcache_put(c, seq, pkt, len, now);
    CHECK(rc == ((len > 0 && len <= SFU_CACHE_PKT_MAX) ? 0 : -1));
    if (rc == 0) {
        put_at[seq] = (struct model){ .ms = now, .len = (uint16_t)len, .gen = gen };
        slot_owner[seq & (SFU_CACHE_PACKETS - 1)] = seq;
    }
}

static void do_map(struct sfu_rewriter *rw, int *have_delta, uint16_t *delta, uint16_t seq, uint64_t now, int sw)
{
    if (sw) {
        sfu_rewriter_switch(rw);
        *have_delta = 0;
    }
    uint16_t last = rw->last_seq, out;
    int started = rw->started;
    uint32_t ts;
    if (sfu_rewriter_map(rw, seq, seq * 100u, now, 90000, &out, &ts) != 0) {
        CHECK(*have_delta);
        return;
    }
    if (!*have_delta || (uint16_t)(out - seq) != *delta) {
        /* A new source (asked for, or the sender's numbering restarted):
         * the stream goes on right after the last number sent. */
        if (started)
            CHECK(out == (uint16_t)(last + 1));
        *delta = (uint16_t)(out - seq);
        *have_delta = 1;
    }
    CHECK(sfu_rewriter_unmap_seq(rw, out) == seq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sfu_pktcache *c;
    if (!c)
        c = sfu_pktcache_new(); /* one cache for the run, emptied per input */
    sfu_pktcache_reset(c);
    gen++;
    struct sfu_rewriter rw;
    sfu_rewriter_init(&rw, 1);
    memset(slot_owner, 0xFF, sizeof(slot_owner));
    int have_delta = 0;
    uint16_t delta = 0;
    uint64_t now = 1;
    for (; size >= 5; data += 5, size -= 5) {
        uint16_t seq = (uint16_t)(data[1] << 8 | data[2]);
        now += (uint64_t)data[3] * 8;
        size_t len = (size_t)data[4] * 6;
        switch (data[0] % 4) {
        case 0: do_put(c, seq, now, len); break;
        case 1: do_get(c, seq, now); break;
        default: do_map(&rw, &have_delta, &delta, seq, now, data[0] % 4 == 3); break;
        }
    }
    return 0;
}
