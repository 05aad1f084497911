/*
 * test_sfu_rtcp — compound RTCP, feedback parsing and builders
 * (src/sfu/rtcp.c).
 *
 * The SR, RR, SDES, XR and transport-cc vectors are real: Chromium 156 sent
 * them over loopback in a call between two of its own peer connections
 * started with --disable-webrtc-encryption (RTCP unencrypted), captured
 * from the interface. NACK, PLI, FIR, REMB, BYE and the transport-cc
 * status-vector forms did not occur in that call; those are built by hand
 * from RFC 4585 §6.2.1/§6.3.1, RFC 5104 §4.3.1, the REMB draft and
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1. Parsing reads
 * from the end of a page followed by an inaccessible one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sfu/rtcp.h"
#include "test_sfu_util.h"

/* SR + SDES(CNAME) + XR(DLRR) from the audio+video sender. */
static const char sr_compound[] =
    "80c80006 0d3d47bb eebab60a 1cea7ce0 cd220138 00000025 00006d5f"
    "81ca0006 0d3d47bb 01104c64 4d47567a 39673170 72482b70 6d590000"
    "80cf0005 0d3d47bb 05000003 00000001 b60a1904 000003b3";

/* RR with two report blocks + XR(RRTR) from the receiver. */
static const char rr_compound[] =
    "82c9000d 00000001"
    "a155b32b 00000000 00001364 0000056e 00000000 00000000"
    "0d3d47bb 00000000 00007632 000001c6 00000000 00000000"
    "80cf0004 00000001 04000002 eebab60a 19041cc5";

/* transport-cc: one run-length chunk of 14 small deltas. */
static const char twcc_run[] =
    "8fcd0008 fa17fa17 cb00217d 0006000e 00101d02 200e"
    "c3200024 26001700 09182400 0029";

/* transport-cc with RTCP padding (P bit, 2 bytes). */
static const char twcc_padded[] =
    "afcd0006 fa17fa17 a155b32b 00020004 00101c01 2004d54b 513b0002";

/* Puts a hex vector at the end of the guard page; returns its length. */
static size_t put(const char *hex, const uint8_t **out)
{
    uint8_t raw[512];
    size_t n = unhex(hex, raw);
    *out = guard_put(&test_guard, raw, n);
    return n;
}

/* The only packet of a datagram. */
static struct rtcp_pkt one(const char *hex)
{
    const uint8_t *p;
    size_t n = put(hex, &p);
    struct rtcp_iter it;
    struct rtcp_pkt pkt;
    rtcp_iter_init(&it, p, n);
    assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_OK);
    assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_END);
    return pkt;
}

static void test_sr_compound(void **state)
{
    (void)state;
    const uint8_t *p;
    size_t n = put(sr_compound, &p);
    struct rtcp_iter it;
    struct rtcp_pkt pkt;
    rtcp_iter_init(&it, p, n);
    assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_OK);
    struct rtcp_sr sr;
    assert_int_equal(rtcp_parse_sr(&pkt, &sr), 0);
    assert_int_equal(sr.ssrc, 0x0d3d47bb);
    assert_int_equal(sr.ntp_sec, 0xeebab60a);
    assert_int_equal(sr.ntp_frac, 0x1cea7ce0);
    assert_int_equal(sr.rtp_ts, 0xcd220138);
    assert_int_equal(sr.packet_count, 37);
    assert_int_equal(sr.octet_count, 0x6d5f);
    assert_int_equal(sr.nblocks, 0);
    uint8_t out[64];
    assert_int_equal(rtcp_build_sr(out, sizeof(out), &sr), 28);
    assert_memory_equal(out, p, 28);
    assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_OK);
    struct rtcp_sdes sdes;
    assert_int_equal(rtcp_parse_sdes(&pkt, &sdes), 0);
    assert_int_equal(sdes.nchunks, 1);
    assert_int_equal(sdes.chunks[0].ssrc, 0x0d3d47bb);
    assert_int_equal(sdes.chunks[0].cname_len, 16);
    assert_memory_equal(sdes.chunks[0].cname, "LdMGVz9g1prH+pmY", 16);
    assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_OK);
    assert_int_equal(pkt.pt, RTCP_XR);
    assert_int_equal(rtcp_parse_sr(&pkt, &sr), -EINVAL);
    assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_END);
    assert_int_equal(rtcp_validate(p, n), 0);
}

static void test_rr_compound(void **state)
{
    (void)state;
    const uint8_t *p;
    size_t n = put(rr_compound, &p);
    struct rtcp_iter it;
    struct rtcp_pkt pkt;
    rtcp_iter_init(&it, p, n);
    assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_OK);
    struct rtcp_rr rr;
    assert_int_equal(rtcp_parse_rr(&pkt, &rr), 0);
    assert_int_equal(rr.ssrc, 1);
    assert_int_equal(rr.nblocks, 2);
    assert_int_equal(rr.blocks[0].ssrc, 0xa155b32b);
    assert_int_equal(rr.blocks[0].highest_seq, 0x1364);
    assert_int_equal(rr.blocks[0].jitter, 0x56e);
    assert_int_equal(rr.blocks[1].ssrc, 0x0d3d47bb);
    assert_int_equal(rr.blocks[1].highest_seq, 0x7632);
    assert_int_equal(rr.blocks[1].jitter, 0x1c6);
    assert_int_equal(rr.blocks[1].cumulative_lost, 0);
    uint8_t out[128];
    assert_int_equal(rtcp_build_rr(out, sizeof(out), &rr), 56);
    assert_memory_equal(out, p, 56);
    assert_int_equal(rtcp_build_rr(out, 55, &rr), -ENOBUFS);
    assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_OK);
    assert_int_equal(pkt.pt, RTCP_XR);
    assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_END);
}

static void test_report_negative_loss(void **state)
{
    (void)state;
    struct rtcp_rr rr = { .ssrc = 9, .nblocks = 1 };
    rr.blocks[0] = (struct rtcp_report_block){ .ssrc = 7, .fraction_lost = 12, .cumulative_lost = -3,
                                               .highest_seq = 0x10005, .jitter = 4, .lsr = 5, .dlsr = 6 };
    uint8_t out[64];
    int n = rtcp_build_rr(out, sizeof(out), &rr);
    assert_int_equal(n, 32);
    assert_memory_equal(out + 12, "\x0c\xff\xff\xfd", 4);
    struct rtcp_iter it;
    struct rtcp_pkt pkt;
    rtcp_iter_init(&it, out, (size_t)n);
    assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_OK);
    struct rtcp_rr back;
    assert_int_equal(rtcp_parse_rr(&pkt, &back), 0);
    const struct rtcp_report_block *a = &back.blocks[0], *b = &rr.blocks[0];
    assert_int_equal(a->ssrc, b->ssrc);
    assert_int_equal(a->fraction_lost, b->fraction_lost);
    assert_int_equal(a->cumulative_lost, -3);
    assert_int_equal(a->highest_seq, b->highest_seq);
    assert_int_equal(a->jitter, b->jitter);
    assert_int_equal(a->lsr, b->lsr);
    assert_int_equal(a->dlsr, b->dlsr);
}

static void test_twcc_real(void **state)
{
    (void)state;
    struct rtcp_pkt pkt = one(twcc_run);
    struct rtcp_twcc t;
    struct rtcp_twcc_packet pk[32];
    assert_int_equal(rtcp_parse_twcc(&pkt, &t, pk, 32), 0);
    assert_int_equal(t.sender_ssrc, 0xfa17fa17);
    assert_int_equal(t.media_ssrc, 0xcb00217d);
    assert_int_equal(t.base_seq, 6);
    assert_int_equal(t.status_count, 14);
    assert_int_equal(t.ref_time, 0x101d);
    assert_int_equal(t.fb_count, 2);
    const uint8_t deltas[] = { 0xc3, 0x20, 0x00, 0x24, 0x26, 0x00, 0x17, 0x00, 0x09, 0x18, 0x24, 0x00, 0x00, 0x29 };
    for (int i = 0; i < 14; i++) {
        assert_int_equal(pk[i].seq, 6 + i);
        assert_int_equal(pk[i].status, RTCP_TWCC_SMALL_DELTA);
        assert_int_equal(pk[i].delta, deltas[i]);
    }
    assert_int_equal(rtcp_parse_twcc(&pkt, &t, pk, 13), -ENOSPC);
    pkt = one(twcc_padded);
    assert_int_equal(pkt.padding, 1);
    assert_int_equal(pkt.body_len, 24 - 2);
    assert_int_equal(rtcp_parse_twcc(&pkt, &t, pk, 32), 0);
    assert_int_equal(t.base_seq, 2);
    assert_int_equal(t.status_count, 4);
    assert_int_equal(pk[3].seq, 5);
    assert_int_equal(pk[3].delta, 0x3b);
}

static void test_twcc_vectors(void **state)
{
    (void)state;
    /* two-bit vector [1 2 0 1 0 0 0] + run of 2 small deltas, seq wraps */
    struct rtcp_pkt pkt = one("8fcd0007 00000001 00000002 fffe0009 fffff003 d8402002 04ff3810 01020000");
    struct rtcp_twcc t;
    struct rtcp_twcc_packet pk[16];
    assert_int_equal(rtcp_parse_twcc(&pkt, &t, pk, 16), 0);
    assert_int_equal(t.ref_time, -16);
    assert_int_equal(t.fb_count, 3);
    const uint8_t st[] = { 1, 2, 0, 1, 0, 0, 0, 1, 1 };
    const int32_t dl[] = { 4, -200, 0, 0x10, 0, 0, 0, 1, 2 };
    for (int i = 0; i < 9; i++) {
        assert_int_equal(pk[i].seq, (uint16_t)(0xfffe + i));
        assert_int_equal(pk[i].status, st[i]);
        assert_int_equal(pk[i].delta, dl[i]);
    }
    /* one-bit vector 1 0 1 0 ... 0 1 */
    pkt = one("8fcd0006 00000001 00000002 0000000e 00000000 a8010102 03000000");
    assert_int_equal(rtcp_parse_twcc(&pkt, &t, pk, 16), 0);
    assert_int_equal(pk[0].status, 1);
    assert_int_equal(pk[1].status, 0);
    assert_int_equal(pk[2].status, 1);
    assert_int_equal(pk[13].status, 1);
    assert_int_equal(pk[13].delta, 3);
    /* reserved symbol 3 inside the count */
    pkt = one("8fcd0005 00000001 00000002 00000002 00000000 f0000000");
    assert_int_equal(rtcp_parse_twcc(&pkt, &t, pk, 16), -EBADMSG);
    /* a delta missing */
    pkt = one("8fcd0005 00000001 00000002 00000002 00000000 20020100");
    assert_int_equal(rtcp_parse_twcc(&pkt, &t, pk, 16), 0); /* 01 and 00 are the two deltas */
    pkt = one("8fcd0005 00000001 00000002 00000002 00000000 40020100");
    assert_int_equal(rtcp_parse_twcc(&pkt, &t, pk, 16), -EBADMSG); /* two large deltas need 4 bytes */
    /* chunks missing, and too much left over */
    pkt = one("8fcd0004 00000001 00000002 00000002 00000000");
    assert_int_equal(rtcp_parse_twcc(&pkt, &t, pk, 16), -EBADMSG);
    pkt = one("8fcd0006 00000001 00000002 00000001 00000000 00010000 00000000");
    assert_int_equal(rtcp_parse_twcc(&pkt, &t, pk, 16), -EBADMSG);
}

static void test_nack(void **state)
{
    (void)state;
    struct rtcp_pkt pkt = one("81cd0003 00000001 00000002 00648001");
    struct rtcp_fb fb;
    assert_int_equal(rtcp_parse_nack(&pkt, &fb), 0);
    assert_int_equal(fb.sender_ssrc, 1);
    assert_int_equal(fb.media_ssrc, 2);
    uint16_t seqs[40];
    assert_int_equal(rtcp_nack_seqs(&fb, seqs, 40), 3);
    assert_int_equal(seqs[0], 100);
    assert_int_equal(seqs[1], 101);
    assert_int_equal(seqs[2], 116);
    assert_int_equal(rtcp_nack_seqs(&fb, seqs, 1), 3);
    uint8_t out[64];
    const uint16_t lost[] = { 100, 101, 116 };
    assert_int_equal(rtcp_build_nack(out, sizeof(out), 1, 2, lost, 3), 16);
    assert_memory_equal(out, pkt.raw, 16);
    const uint16_t wrap[] = { 65535, 0, 3, 200 };
    int n = rtcp_build_nack(out, sizeof(out), 1, 2, wrap, 4);
    assert_int_equal(n, 20);
    assert_memory_equal(out + 12, "\xff\xff\x00\x09\x00\xc8\x00\x00", 8);
    assert_int_equal(rtcp_build_nack(out, 19, 1, 2, wrap, 4), -ENOBUFS);
    assert_int_equal(rtcp_build_nack(out, sizeof(out), 1, 2, wrap, 0), -ENOBUFS);
    pkt = one("81cd0002 00000001 00000002");
    assert_int_equal(rtcp_parse_nack(&pkt, &fb), -EBADMSG); /* no FCI */
    pkt = one("81ce0002 00000001 00000002");
    assert_int_equal(rtcp_parse_nack(&pkt, &fb), -EINVAL);  /* a PLI */
}

static void test_pli_fir(void **state)
{
    (void)state;
    struct rtcp_pkt pkt = one("81ce0002 00000001 00000002");
    struct rtcp_fb fb;
    assert_int_equal(rtcp_parse_pli(&pkt, &fb), 0);
    assert_int_equal(fb.media_ssrc, 2);
    uint8_t out[32];
    assert_int_equal(rtcp_build_pli(out, sizeof(out), 1, 2), 12);
    assert_memory_equal(out, pkt.raw, 12);
    assert_int_equal(rtcp_build_pli(out, 11, 1, 2), -ENOBUFS);
    pkt = one("81ce0003 00000001 00000002 00000000");
    assert_int_equal(rtcp_parse_pli(&pkt, &fb), -EBADMSG);

    pkt = one("84ce0004 00000001 00000000 00000002 05000000");
    uint32_t sender;
    struct rtcp_fir_entry fir[2];
    assert_int_equal(rtcp_parse_fir(&pkt, &sender, fir, 2), 1);
    assert_int_equal(sender, 1);
    assert_int_equal(fir[0].ssrc, 2);
    assert_int_equal(fir[0].seq, 5);
    assert_int_equal(rtcp_build_fir(out, sizeof(out), 1, 2, 5), 20);
    assert_memory_equal(out, pkt.raw, 20);
    pkt = one("84ce0003 00000001 00000000 00000002");
    assert_int_equal(rtcp_parse_fir(&pkt, &sender, fir, 2), -EBADMSG);
}

static void test_remb(void **state)
{
    (void)state;
    struct rtcp_pkt pkt = one("8fce0005 00000001 00000000 52454d42 010bd090 00000002");
    struct rtcp_remb r;
    assert_int_equal(rtcp_parse_remb(&pkt, &r), 0);
    assert_int_equal(r.bitrate, 1000000);
    assert_int_equal(r.nssrcs, 1);
    assert_int_equal(r.ssrcs[0], 2);
    uint8_t out[64];
    const uint32_t ssrc = 2;
    assert_int_equal(rtcp_build_remb(out, sizeof(out), 1, 1000000, &ssrc, 1), 24);
    assert_memory_equal(out, pkt.raw, 24);
    /* a rate the mantissa cannot hold exactly is rounded down */
    assert_int_equal(rtcp_build_remb(out, sizeof(out), 1, 123456789, &ssrc, 1), 24);
    struct rtcp_iter it;
    rtcp_iter_init(&it, out, 24);
    assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_OK);
    assert_int_equal(rtcp_parse_remb(&pkt, &r), 0);
    assert_true(r.bitrate <= 123456789 && r.bitrate > 123456789 - 1024);
    pkt = one("8fce0004 00000001 00000000 52454d42 00ffffff");
    assert_int_equal(rtcp_parse_remb(&pkt, &r), 0);
    assert_int_equal(r.bitrate, UINT64_MAX); /* 0x3ffff << 63 */
    pkt = one("8fce0004 00000001 00000000 52454d42 01000001");
    assert_int_equal(rtcp_parse_remb(&pkt, &r), -EBADMSG); /* count says one SSRC, none follows */
    pkt = one("8fce0004 00000001 00000000 41424344 00000001");
    assert_int_equal(rtcp_parse_remb(&pkt, &r), -EINVAL);
}

static void test_bye_sdes(void **state)
{
    (void)state;
    struct rtcp_pkt pkt = one("81cb0003 00000002 04627965 21000000");
    struct rtcp_bye bye;
    assert_int_equal(rtcp_parse_bye(&pkt, &bye), 0);
    assert_int_equal(bye.nssrcs, 1);
    assert_int_equal(bye.ssrcs[0], 2);
    assert_int_equal(bye.reason_len, 4);
    assert_memory_equal(bye.reason, "bye!", 4);
    pkt = one("82cb0001 00000002");
    assert_int_equal(rtcp_parse_bye(&pkt, &bye), -EBADMSG);
    pkt = one("81cb0002 00000002 09627965");
    assert_int_equal(rtcp_parse_bye(&pkt, &bye), -EBADMSG);
    /* SDES: an item running past the body, a chunk without its null item */
    pkt = one("81ca0002 00000001 01056162");
    struct rtcp_sdes sdes;
    assert_int_equal(rtcp_parse_sdes(&pkt, &sdes), -EBADMSG);
    pkt = one("81ca0002 00000001 01026162");
    assert_int_equal(rtcp_parse_sdes(&pkt, &sdes), -EBADMSG);
    pkt = one("82ca0003 00000001 00000000 00000002"); /* two chunks, no items */
    assert_int_equal(rtcp_parse_sdes(&pkt, &sdes), -EBADMSG);
    pkt = one("82ca0004 00000001 00000000 00000002 00000000");
    assert_int_equal(rtcp_parse_sdes(&pkt, &sdes), 0);
    assert_int_equal(sdes.nchunks, 2);
    assert_null(sdes.chunks[1].cname);
}

static void expect_malformed(const char *hex, size_t good_before)
{
    const uint8_t *p;
    size_t n = put(hex, &p);
    struct rtcp_iter it;
    struct rtcp_pkt pkt;
    rtcp_iter_init(&it, p, n);
    for (size_t i = 0; i < good_before; i++)
        assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_OK);
    assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_MALFORMED);
    assert_int_equal(rtcp_iter_next(&it, &pkt), RTCP_MALFORMED);
    assert_int_equal(rtcp_validate(p, n), -EBADMSG);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_malformed("41ce0002 00000001 00000002", 0);               /* version 1 */
    expect_malformed("81ce0003 00000001 00000002", 0);               /* length past the end */
    expect_malformed("81ce0002 00000001 00000002 8100", 1);          /* 2 bytes left over */
    expect_malformed("a1ce0003 00000001 00000002 00000004 81ce0002 00000001 00000002", 0); /* padding not last */
    expect_malformed("a1ce0002 00000001 00000000", 0);               /* padding count 0 */
    expect_malformed("a1ce0001 00000009", 0);                        /* padding longer than the body */
    assert_int_equal(rtcp_validate(NULL, 0), -EBADMSG);
    /* every cut of a real compound fails cleanly, never reading past it */
    uint8_t raw[256];
    size_t n = unhex(sr_compound, raw);
    for (size_t len = 1; len < n; len++) {
        const uint8_t *p = guard_put(&test_guard, raw, len);
        int want = (len == 28 || len == 56) ? 0 : -EBADMSG;
        assert_int_equal(rtcp_validate(p, len), want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sr_compound),
        cmocka_unit_test(test_rr_compound),
        cmocka_unit_test(test_report_negative_loss),
        cmocka_unit_test(test_twcc_real),
        cmocka_unit_test(test_twcc_vectors),
        cmocka_unit_test(test_nack),
        cmocka_unit_test(test_pli_fir),
        cmocka_unit_test(test_remb),
        cmocka_unit_test(test_bye_sdes),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, guard_setup, guard_teardown);
}
