/*
 * test_sfu_twcc_rx — transport-cc feedback tincan writes for publishers
 * (src/sfu/twcc_rx.c): every feedback is read back with the parser the
 * subscriber side uses (rtcp_parse_twcc) and, end to end, matched by the
 * sending side (sfu_twcc_feedback) into the receive gaps that happened.
 * Losses, reordering, duplicates, sequence wrap-around, a pause too long
 * for a delta, more packets than one feedback holds, and when feedback
 * is due.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sfu/rtcp.h"
#include "sfu/twcc.h"
#include "sfu/twcc_rx.h"

static struct sfu_twcc_rx rx;
static struct rtcp_twcc_packet pk[SFU_TWCC_RX_MAX_FB];

/* Builds one feedback and parses it back into fb and pk; returns status_count. */
static size_t roundtrip(struct rtcp_twcc *fb, uint64_t now_ms)
{
    uint8_t buf[2048];
    int len = sfu_twcc_rx_build(&rx, 1, 2, buf, sizeof(buf), now_ms);
    assert_true(len > 0);
    assert_int_equal(len % 4, 0);
    struct rtcp_iter it;
    struct rtcp_pkt p;
    rtcp_iter_init(&it, buf, (size_t)len);
    assert_int_equal(rtcp_iter_next(&it, &p), RTCP_OK);
    assert_int_equal(rtcp_parse_twcc(&p, fb, pk, SFU_TWCC_RX_MAX_FB), 0);
    assert_int_equal(fb->sender_ssrc, 1);
    assert_int_equal(fb->media_ssrc, 2);
    assert_int_equal(rtcp_iter_next(&it, &p), RTCP_END);
    return fb->status_count;
}

/* The receive time of packet i of a parsed feedback, in µs (deltas summed). */
static int64_t recv_us(const struct rtcp_twcc *fb, size_t i)
{
    int64_t t = (int64_t)fb->ref_time * 64000;
    for (size_t k = 0; k <= i; k++)
        if (pk[k].status != RTCP_TWCC_NOT_RECEIVED)
            t += (int64_t)pk[k].delta * 250;
    return t;
}

static void test_losses_and_times(void **state)
{
    (void)state;
    sfu_twcc_rx_init(&rx);
    uint64_t t0 = 10000000;
    for (uint16_t s = 100; s < 110; s++)
        if (s != 104)
            sfu_twcc_rx_packet(&rx, s, t0 + (uint64_t)(s - 100) * 1000 + 30);
    struct rtcp_twcc fb;
    assert_int_equal(roundtrip(&fb, 5), 10);
    assert_int_equal(fb.base_seq, 100);
    assert_int_equal(fb.fb_count, 0);
    for (size_t i = 0; i < 10; i++) {
        if (i == 4) {
            assert_int_equal(pk[i].status, RTCP_TWCC_NOT_RECEIVED);
            continue;
        }
        assert_int_equal(pk[i].status, RTCP_TWCC_SMALL_DELTA);
        int64_t want = (int64_t)(t0 + i * 1000 + 30);
        assert_true(recv_us(&fb, i) <= want && want - recv_us(&fb, i) < 250);
    }
    /* Nothing waits: no feedback; a late 104 was reported lost already. */
    uint8_t buf[64];
    sfu_twcc_rx_packet(&rx, 104, t0 + 20000);
    assert_int_equal(sfu_twcc_rx_build(&rx, 1, 2, buf, sizeof(buf), 6), 0);
    /* The next starts where this one ended, with the next count. */
    sfu_twcc_rx_packet(&rx, 110, t0 + 30000);
    assert_int_equal(roundtrip(&fb, 7), 1);
    assert_int_equal(fb.base_seq, 110);
    assert_int_equal(fb.fb_count, 1);
}

static void test_reorder_duplicate_wrap(void **state)
{
    (void)state;
    sfu_twcc_rx_init(&rx);
    uint64_t t = 5000000;
    sfu_twcc_rx_packet(&rx, 65534, t);
    sfu_twcc_rx_packet(&rx, 0, t + 2000);     /* ahead of 65535 */
    sfu_twcc_rx_packet(&rx, 65535, t + 3000); /* late: a negative delta */
    sfu_twcc_rx_packet(&rx, 0, t + 9000);     /* a duplicate: ignored */
    sfu_twcc_rx_packet(&rx, 1, t + 4000);
    struct rtcp_twcc fb;
    assert_int_equal(roundtrip(&fb, 1), 4);
    assert_int_equal(fb.base_seq, 65534);
    assert_int_equal(pk[2].seq, 0);
    assert_int_equal(recv_us(&fb, 1) - recv_us(&fb, 0), 3000); /* 65535 */
    assert_int_equal(recv_us(&fb, 2) - recv_us(&fb, 0), 2000); /* 0: received before 65535 */
    assert_int_equal(pk[2].delta, -4);                          /* so its delta is -1 ms, */
    assert_int_equal(pk[2].status, RTCP_TWCC_LARGE_DELTA);      /* in two bytes */
}

static void test_long_pause_and_many(void **state)
{
    (void)state;
    sfu_twcc_rx_init(&rx);
    sfu_twcc_rx_packet(&rx, 1, 1000000);
    sfu_twcc_rx_packet(&rx, 2, 1000000 + 9000000); /* 9 s later: no 16-bit delta holds it */
    struct rtcp_twcc fb;
    assert_int_equal(roundtrip(&fb, 1), 1);
    assert_int_equal(roundtrip(&fb, 2), 1);
    assert_int_equal(fb.base_seq, 2);
    /* 2000 packets and nobody built feedback: the window keeps the newest;
     * one feedback covers at most SFU_TWCC_RX_MAX_FB. */
    for (uint32_t i = 0; i < 2000; i++)
        sfu_twcc_rx_packet(&rx, (uint16_t)(3 + i), 20000000 + (uint64_t)i * 100);
    assert_true(sfu_twcc_rx_due(&rx, 3));
    assert_int_equal(roundtrip(&fb, 3), SFU_TWCC_RX_MAX_FB);
    assert_int_equal(fb.base_seq, (uint16_t)(3 + 2000 - SFU_TWCC_RX_WINDOW));
    size_t left = SFU_TWCC_RX_WINDOW - SFU_TWCC_RX_MAX_FB;
    assert_int_equal(roundtrip(&fb, 3), left);
    assert_int_equal(pk[left - 1].seq, (uint16_t)(3 + 1999));
    uint8_t small[16];
    sfu_twcc_rx_packet(&rx, 2003, 30000000);
    assert_int_equal(sfu_twcc_rx_build(&rx, 1, 2, small, sizeof(small), 4), -ENOBUFS);
    assert_int_equal(roundtrip(&fb, 4), 1); /* nothing was lost by the refusal */
}

static void test_due(void **state)
{
    (void)state;
    sfu_twcc_rx_init(&rx);
    assert_false(sfu_twcc_rx_due(&rx, 1000));
    sfu_twcc_rx_packet(&rx, 7, 1000000);
    assert_true(sfu_twcc_rx_due(&rx, 1000));
    struct rtcp_twcc fb;
    roundtrip(&fb, 1000);
    sfu_twcc_rx_packet(&rx, 8, 1001000);
    assert_false(sfu_twcc_rx_due(&rx, 1000 + SFU_TWCC_RX_INTERVAL_MS - 1));
    assert_true(sfu_twcc_rx_due(&rx, 1000 + SFU_TWCC_RX_INTERVAL_MS));
}

/* End to end: the sending side's history matched with our feedback gives
 * back the receive gaps that happened. */
static void test_sender_reads_it(void **state)
{
    (void)state;
    static struct sfu_twcc tx;
    sfu_twcc_init(&tx, 500);
    sfu_twcc_rx_init(&rx);
    for (int i = 0; i < 20; i++) {
        uint16_t seq = sfu_twcc_sent(&tx, 1000 + (size_t)i, 2000000 + (uint64_t)i * 5000);
        if (i != 7)
            sfu_twcc_rx_packet(&rx, seq, 9000000 + (uint64_t)i * 5000 + (i > 10 ? 3000 : 0));
    }
    struct rtcp_twcc fb;
    size_t n = roundtrip(&fb, 1);
    struct sfu_twcc_sample s[32];
    assert_int_equal(sfu_twcc_feedback(&tx, &fb, pk, n, s, 32), 20);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(s[i].size, 1000 + i);
        assert_int_equal(s[i].received, i != 7);
    }
    assert_int_equal(s[11].recv_us - s[10].recv_us, 8000); /* the queue grew 3 ms there */
    assert_int_equal(s[5].recv_us - s[4].recv_us, 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_losses_and_times),
        cmocka_unit_test(test_reorder_duplicate_wrap),
        cmocka_unit_test(test_long_pause_and_many),
        cmocka_unit_test(test_due),
        cmocka_unit_test(test_sender_reads_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
