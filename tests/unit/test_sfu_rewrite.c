/*
 * test_sfu_rewrite — the outgoing SSRC/sequence/timestamp rewriter
 * (src/sfu/rewrite.c), the packet cache (src/sfu/pktcache.c) and the
 * receiver statistics (src/sfu/rxstats.c): loss, reordering and
 * wrap-around of both fields, source switches, stale packets, a sender
 * that restarts its numbering, cache
 * eviction by number and by age, RFC 3550 loss and jitter arithmetic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sfu/pktcache.h"
#include "sfu/rewrite.h"
#include "sfu/rxstats.h"

static void map_ok(struct sfu_rewriter *rw, uint16_t seq, uint32_t ts, uint64_t now, uint16_t want_seq,
                   uint32_t want_ts)
{
    uint16_t s;
    uint32_t t;
    assert_int_equal(sfu_rewriter_map(rw, seq, ts, now, 90000, &s, &t), 0);
    assert_int_equal(s, want_seq);
    assert_int_equal(t, want_ts);
}

static void test_identity_loss_wrap(void **state)
{
    (void)state;
    struct sfu_rewriter rw;
    sfu_rewriter_init(&rw, 42);
    assert_int_equal(rw.ssrc, 42);
    /* Until a switch the numbers are the publisher's, across both wraps,
     * a gap and a late packet. */
    map_ok(&rw, 65534, 0xFFFFF000u, 0, 65534, 0xFFFFF000u);
    map_ok(&rw, 65535, 0xFFFFFBB8u, 33, 65535, 0xFFFFFBB8u);
    map_ok(&rw, 2, 0x00000770u, 99, 2, 0x00000770u); /* 0 and 1 lost */
    map_ok(&rw, 0, 0x00000000u, 100, 0, 0x00000000u); /* 0 arrives late */
    assert_int_equal(rw.last_seq, 2);
    assert_int_equal(sfu_rewriter_unmap_seq(&rw, 1), 1);
    /* A long run past several wraps stays in step. */
    for (uint32_t i = 3; i < 200000; i += 7)
        map_ok(&rw, (uint16_t)i, i * 3000u, 100 + i, (uint16_t)i, i * 3000u);
}

static void test_switch(void **state)
{
    (void)state;
    struct sfu_rewriter rw;
    sfu_rewriter_init(&rw, 7);
    map_ok(&rw, 1000, 500000, 1000, 1000, 500000);
    map_ok(&rw, 1001, 503000, 1033, 1001, 503000);
    /* A new source numbered 65530 on: the stream goes on at 1002, and the
     * timestamp by the 100 ms that passed (9000 ticks at 90 kHz). */
    sfu_rewriter_switch(&rw);
    map_ok(&rw, 65530, 7, 1133, 1002, 503000 + 9000);
    map_ok(&rw, 65531, 3007, 1166, 1003, 503000 + 12000);
    map_ok(&rw, 1, 6 * 3000 + 7, 1200, 1009, 503000 + 9000 + 18000); /* wrap, 4 lost */
    assert_int_equal(sfu_rewriter_unmap_seq(&rw, 1005), 65533);
    assert_int_equal(sfu_rewriter_ts(&rw, 7), 512000);
    /* A late packet of the new source still maps; one from before its start does not. */
    map_ok(&rw, 65533, 9007, 1201, 1005, 503000 + 9000 + 9000);
    uint16_t s;
    uint32_t t;
    assert_int_equal(sfu_rewriter_map(&rw, 65529, 0, 1202, 90000, &s, &t), -1);
    assert_int_equal(rw.last_seq, 1009);
    /* A switch with no time passed still moves the timestamp on. */
    sfu_rewriter_switch(&rw);
    map_ok(&rw, 5, 100, 1200, 1010, 503000 + 27000 + 1);
}

static void test_sender_restart(void **state)
{
    (void)state;
    struct sfu_rewriter rw;
    uint16_t s;
    uint32_t t;
    sfu_rewriter_init(&rw, 9);
    for (uint16_t i = 40000; i < 40010; i++)
        map_ok(&rw, i, i * 10u, i, i, i * 10u);
    /* The sender starts again at 20000 (behind, as serial numbers go): the
     * first packet is held back as a stray, the next one confirms the jump
     * and the stream goes on at 40010, 10 s of clock later. */
    const uint32_t ts0 = 40009 * 10u + 900090;
    assert_int_equal(sfu_rewriter_map(&rw, 20000, 5, 50000, 90000, &s, &t), -1);
    map_ok(&rw, 20001, 15, 50010, 40010, ts0);
    map_ok(&rw, 20002, 25, 50020, 40011, ts0 + 10);
    /* A single stray far behind does not restart anything. */
    assert_int_equal(sfu_rewriter_map(&rw, 60000, 0, 50030, 90000, &s, &t), -1);
    map_ok(&rw, 20003, 35, 50040, 40012, ts0 + 20);
    /* A late packet within the reorder window still maps. */
    map_ok(&rw, 20001, 15, 50050, 40010, ts0);
}

static void test_cache(void **state)
{
    (void)state;
    struct sfu_pktcache *c = sfu_pktcache_new();
    uint8_t pkt[SFU_CACHE_PKT_MAX + 1];
    const uint8_t *got;
    memset(pkt, 0xAB, sizeof(pkt));
    assert_int_equal(sfu_pktcache_get(c, 0, 0, &got), 0);
    for (uint32_t i = 0; i < 1000; i++) {
        pkt[0] = (uint8_t)i;
        assert_int_equal(sfu_pktcache_put(c, (uint16_t)(65000 + i), pkt, 100, 5000 + i), 0);
    }
    /* The last 512 are kept (by number, across the wrap); older ones were overwritten. */
    assert_int_equal(sfu_pktcache_get(c, (uint16_t)(65000 + 999), 5999, &got), 100);
    assert_int_equal(got[0], (uint8_t)999);
    assert_int_equal(sfu_pktcache_get(c, (uint16_t)(65000 + 488), 5999, &got), 100);
    assert_int_equal(sfu_pktcache_get(c, (uint16_t)(65000 + 487), 5999, &got), 0);
    /* ... and only for SFU_CACHE_MS. */
    assert_int_equal(sfu_pktcache_get(c, (uint16_t)(65000 + 500), 5500 + SFU_CACHE_MS, &got), 100);
    assert_int_equal(sfu_pktcache_get(c, (uint16_t)(65000 + 500), 5501 + SFU_CACHE_MS, &got), 0);
    /* Too long, or empty: not kept. */
    assert_int_equal(sfu_pktcache_put(c, 1, pkt, SFU_CACHE_PKT_MAX + 1, 6000), -1);
    assert_int_equal(sfu_pktcache_put(c, 1, pkt, 0, 6000), -1);
    assert_int_equal(sfu_pktcache_put(c, 1, pkt, SFU_CACHE_PKT_MAX, 6000), 0);
    assert_int_equal(sfu_pktcache_get(c, 1, 6000, &got), SFU_CACHE_PKT_MAX);
    sfu_pktcache_reset(c);
    assert_int_equal(sfu_pktcache_get(c, 1, 6000, &got), 0);
    sfu_pktcache_free(c);
    sfu_pktcache_free(NULL);
}

static void test_rxstats(void **state)
{
    (void)state;
    struct sfu_rxstats s;
    struct rtcp_report_block b;
    memset(&s, 0, sizeof(s));
    assert_int_equal(sfu_rxstats_block(&s, 1, 0, &b), -1);
    /* 65530..65535, 0..9 with 2 and 3 lost, at a steady 20 ms / 960 ticks: no jitter. */
    uint64_t now = 1000;
    uint32_t ts = 1000;
    for (uint32_t i = 65530; i < 65536 + 10; i++, now += 20, ts += 960)
        if (i != 65536 + 2 && i != 65536 + 3)
            sfu_rxstats_packet(&s, (uint16_t)i, ts, now, 48000);
    sfu_rxstats_sr(&s, 0x0000ABCD, 0x12340000, 1200);
    assert_int_equal(sfu_rxstats_block(&s, 77, 1700, &b), 0);
    assert_int_equal(b.ssrc, 77);
    assert_int_equal(b.highest_seq, 65536 + 9);
    assert_int_equal(b.cumulative_lost, 2);
    assert_int_equal(b.fraction_lost, 2 * 256 / 16);
    assert_int_equal(b.jitter, 0);
    assert_int_equal(b.lsr, 0xABCD1234);
    assert_int_equal(b.dlsr, 500 * 65536 / 1000);
    /* The next interval: nothing lost; a packet 10 ms late gives jitter 480/16 = 30. */
    sfu_rxstats_packet(&s, 10, ts, now + 10, 48000);
    assert_int_equal(sfu_rxstats_block(&s, 77, 1800, &b), 0);
    assert_int_equal(b.fraction_lost, 0);
    assert_int_equal(b.cumulative_lost, 2);
    assert_int_equal(b.jitter, 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_loss_wrap),
        cmocka_unit_test(test_switch),
        cmocka_unit_test(test_sender_restart),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_rxstats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
