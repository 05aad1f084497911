/*
 * test_sfu_rtp — RTP header and header-extension parsing (src/sfu/rtp.c).
 *
 * The first three vectors are real packets: Chromium 156 sent them over
 * loopback in a call between two of its own peer connections started with
 * --disable-webrtc-encryption, so RTP went unencrypted and was captured
 * from the interface. The offer's extmap ids were: 1 ssrc-audio-level,
 * 2 abs-send-time, 3 transport-wide-cc, 4 sdes:mid, 7 video-timing,
 * 8 color-space, 13 video-orientation. The two-byte form (RFC 8285 §4.3),
 * CSRCs and the broken packets are built by hand from the RFCs' layouts.
 * Every parse reads from the end of a page followed by an inaccessible one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sfu/rtp.h"
#include "test_sfu_util.h"

/* Opus, first packet after a silence gap (marker set). */
static const char opus_pkt[] =
    "90ef4a59 1305a6da cb00217d"
    "bede0003 2226820f 31000140 3010ff00"
    "780be4c136ecc58d8c49469904c5aaed92e7634a3a1898ee62cb60ff6c1b2900";

/* A VP8 key frame inside RED (pt 118); the payload is cut to 16 bytes. */
static const char video_pkt[] =
    "90f67624 cd216ac0 0d3d47bb"
    "bede0008 2226e617 31000940 31830606 0610d000 7c030001 000f0011 00280000 00000000"
    "608080e1be3ec13b98bd361899dd9bd0";

/* An RTX padding probe: no payload, 255 bytes of padding (written below). */
static const char probe_head[] =
    "b0611352 00000000 a155b32b"
    "bede0003 40313100 052226ce ba000000";

static size_t vec(const char *hex, uint8_t *out)
{
    return unhex(hex, out);
}

static void test_opus(void **state)
{
    (void)state;
    uint8_t raw[256];
    size_t n = vec(opus_pkt, raw);
    const uint8_t *p = guard_put(&test_guard, raw, n);
    struct rtp_hdr h;
    assert_int_equal(rtp_parse(p, n, &h), RTP_OK);
    assert_int_equal(h.marker, 1);
    assert_int_equal(h.pt, 111);
    assert_int_equal(h.seq, 0x4a59);
    assert_int_equal(h.ts, 0x1305a6da);
    assert_int_equal(h.ssrc, 0xcb00217d);
    assert_int_equal(h.cc, 0);
    assert_int_equal(h.ext_form, RTP_EXT_FORM_ONE);
    assert_int_equal(h.nexts, 4);
    assert_int_equal(h.payload_off, 28);
    assert_int_equal(h.payload_len, n - 28);
    assert_int_equal(h.buf[h.payload_off], 0x78); /* Opus TOC byte */
    uint32_t abs;
    uint16_t tseq;
    uint8_t level;
    int voice;
    char mid[8];
    assert_int_equal(rtp_ext_abs_send_time(&h, 2, &abs), 0);
    assert_int_equal(abs, 0x26820f);
    assert_int_equal(rtp_ext_transport_seq(&h, 3, &tseq), 0);
    assert_int_equal(tseq, 1);
    assert_int_equal(rtp_ext_string(&h, 4, mid, sizeof(mid)), 0);
    assert_string_equal(mid, "0");
    assert_int_equal(rtp_ext_audio_level(&h, 1, &level, &voice), 0);
    assert_int_equal(level, 127);
    assert_int_equal(voice, 1);
    assert_false(rtp_is_rtcp(p, n));
}

static void test_video(void **state)
{
    (void)state;
    uint8_t raw[256];
    size_t n = vec(video_pkt, raw);
    const uint8_t *p = guard_put(&test_guard, raw, n);
    struct rtp_hdr h;
    assert_int_equal(rtp_parse(p, n, &h), RTP_OK);
    assert_int_equal(h.marker, 1);
    assert_int_equal(h.pt, 118);
    assert_int_equal(h.seq, 0x7624);
    assert_int_equal(h.ssrc, 0x0d3d47bb);
    assert_int_equal(h.ext_len, 32);
    assert_int_equal(h.nexts, 6);
    assert_int_equal(h.payload_off, 48);
    assert_int_equal(h.payload_len, 16);
    const uint8_t ids[] = { 2, 3, 4, 8, 13, 7 }, lens[] = { 3, 2, 1, 4, 1, 13 };
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(h.exts[i].id, ids[i]);
        assert_int_equal(h.exts[i].len, lens[i]);
    }
    const struct rtp_ext *vt = rtp_ext_find(&h, 7);
    assert_non_null(vt);
    assert_int_equal(rtp_ext_value(&h, vt)[0], 0x03);
    char mid[8];
    assert_int_equal(rtp_ext_string(&h, 4, mid, sizeof(mid)), 0);
    assert_string_equal(mid, "1");
    uint16_t tseq;
    assert_int_equal(rtp_ext_transport_seq(&h, 3, &tseq), 0);
    assert_int_equal(tseq, 9);
    assert_null(rtp_ext_find(&h, 5));
    assert_null(rtp_ext_find(&h, 0));
}

static size_t probe(uint8_t *raw)
{
    size_t n = vec(probe_head, raw);
    memset(raw + n, 0, 254);
    raw[n + 254] = 255;
    return n + 255;
}

static void test_padding_probe(void **state)
{
    (void)state;
    uint8_t raw[512];
    size_t n = probe(raw);
    assert_int_equal(n, 283);
    const uint8_t *p = guard_put(&test_guard, raw, n);
    struct rtp_hdr h;
    assert_int_equal(rtp_parse(p, n, &h), RTP_OK);
    assert_int_equal(h.padding, 1);
    assert_int_equal(h.pad_len, 255);
    assert_int_equal(h.payload_len, 0);
    assert_int_equal(h.pt, 97);
    assert_int_equal(h.ts, 0);
    uint16_t tseq;
    assert_int_equal(rtp_ext_transport_seq(&h, 3, &tseq), 0);
    assert_int_equal(tseq, 5);
    raw[n - 1] = 0;
    p = guard_put(&test_guard, raw, n);
    assert_int_equal(rtp_parse(p, n, &h), RTP_BAD_PADDING);
}

static void test_two_byte(void **state)
{
    (void)state;
    uint8_t raw[64];
    size_t n = vec("90600001 00000001 00000002 10000003 04013100 0a026869 0c000000 abcd", raw);
    const uint8_t *p = guard_put(&test_guard, raw, n);
    struct rtp_hdr h;
    assert_int_equal(rtp_parse(p, n, &h), RTP_OK);
    assert_int_equal(h.ext_form, RTP_EXT_FORM_TWO);
    assert_int_equal(h.nexts, 3);
    char s[8];
    assert_int_equal(rtp_ext_string(&h, 4, s, sizeof(s)), 0);
    assert_string_equal(s, "1");
    assert_int_equal(rtp_ext_string(&h, 10, s, sizeof(s)), 0);
    assert_string_equal(s, "hi");
    assert_int_equal(rtp_ext_string(&h, 10, s, 2), -ENOSPC);
    assert_non_null(rtp_ext_find(&h, 12));
    assert_int_equal(rtp_ext_find(&h, 12)->len, 0);
    assert_int_equal(rtp_ext_string(&h, 12, s, sizeof(s)), -EINVAL); /* empty */
    assert_int_equal(h.payload_len, 2);
    /* appbits in the low nibble keep the two-byte form */
    raw[13] = 0x05;
    p = guard_put(&test_guard, raw, n);
    assert_int_equal(rtp_parse(p, n, &h), RTP_OK);
    assert_int_equal(h.ext_form, RTP_EXT_FORM_TWO);
    assert_int_equal(h.ext_profile, 0x1005);
}

static void test_csrc_and_other_profile(void **state)
{
    (void)state;
    uint8_t raw[64];
    size_t n = vec("92000002 00000003 00000004 11111111 22222222 abcd0001 deadbeef 99", raw);
    const uint8_t *p = guard_put(&test_guard, raw, n);
    struct rtp_hdr h;
    assert_int_equal(rtp_parse(p, n, &h), RTP_OK);
    assert_int_equal(h.cc, 2);
    assert_int_equal(rtp_csrc(&h, 0), 0x11111111);
    assert_int_equal(rtp_csrc(&h, 1), 0x22222222);
    assert_int_equal(h.ext_form, RTP_EXT_FORM_OTHER);
    assert_int_equal(h.ext_profile, 0xabcd);
    assert_int_equal(h.nexts, 0);
    assert_int_equal(h.payload_off, 12 + 8 + 8);
    assert_int_equal(h.payload_len, 1);
}

static void expect(const char *hex, enum rtp_status want)
{
    uint8_t raw[64];
    size_t n = vec(hex, raw);
    const uint8_t *p = guard_put(&test_guard, raw, n);
    struct rtp_hdr h;
    assert_int_equal(rtp_parse(p, n, &h), want);
}

static void test_malformed(void **state)
{
    (void)state;
    expect("", RTP_TOO_SHORT);
    expect("80000001 00000002 000000", RTP_TOO_SHORT);
    expect("40000001 00000002 00000003", RTP_BAD_VERSION);
    expect("c0000001 00000002 00000003", RTP_BAD_VERSION);
    expect("a0000001 00000002 00000003 02", RTP_BAD_PADDING);   /* padding cannot cover the header */
    expect("a0000001 00000002 00000003 01", RTP_OK);
    expect("b0000001 00000002 00000003 bede0001 10aa0006", RTP_TOO_SHORT); /* padding over the extension */
    expect("81000001 00000002 00000003", RTP_TOO_SHORT);        /* CSRC missing */
    expect("90000001 00000002 00000003 bede", RTP_TOO_SHORT);   /* extension header cut */
    expect("90000001 00000002 00000003 bede0002 10aa0000", RTP_TOO_SHORT);
    expect("90000001 00000002 00000003 bede0001 23aabbcc", RTP_BAD_EXT);
    expect("90000001 00000002 00000003 10000001 0505aabb", RTP_BAD_EXT);
    expect("90000001 00000002 00000003 10000001 00000005", RTP_BAD_EXT);
    /* id 15 ends the walk: what follows is not looked at */
    expect("90000001 00000002 00000003 bede0001 10aaf3ff", RTP_OK);
    uint8_t raw[64];
    size_t n = vec("90000001 00000002 00000003 bede0001 10aaf3ff", raw);
    struct rtp_hdr h;
    assert_int_equal(rtp_parse(guard_put(&test_guard, raw, n), n, &h), RTP_OK);
    assert_int_equal(h.nexts, 1);
    assert_string_equal(rtp_strerror(RTP_BAD_EXT), "bad header extension");
}

/* Every cut of a real packet before its payload fails, and no cut reads
 * past its end (the guard page would crash the test). */
static void test_truncations(void **state)
{
    (void)state;
    uint8_t raw[256];
    size_t n = vec(video_pkt, raw);
    struct rtp_hdr h;
    for (size_t len = 0; len <= n; len++) {
        const uint8_t *p = guard_put(&test_guard, raw, len);
        enum rtp_status st = rtp_parse(p, len, &h);
        if (len < 48)
            assert_int_equal(st, RTP_TOO_SHORT);
        else
            assert_int_equal(st, RTP_OK);
    }
}

static void test_rewrite(void **state)
{
    (void)state;
    uint8_t raw[256], copy[256];
    size_t n = vec(opus_pkt, raw);
    struct rtp_hdr h;
    assert_int_equal(rtp_parse(raw, n, &h), RTP_OK);
    memcpy(copy, raw, n);
    rtp_write_ssrc(copy, 0x01020304);
    rtp_write_seq(copy, 0xfffe);
    rtp_write_ts(copy, 0xa0b0c0d0);
    rtp_write_pt(copy, 109);
    rtp_write_marker(copy, 0);
    assert_int_equal(rtp_write_abs_send_time(copy, rtp_ext_find(&h, 2), 0x1abcdef), 0);
    assert_int_equal(rtp_write_transport_seq(copy, rtp_ext_find(&h, 3), 777), 0);
    assert_int_equal(rtp_write_transport_seq(copy, rtp_ext_find(&h, 2), 1), -EINVAL);
    assert_int_equal(rtp_write_abs_send_time(copy, rtp_ext_find(&h, 3), 1), -EINVAL);
    struct rtp_hdr c;
    assert_int_equal(rtp_parse(copy, n, &c), RTP_OK);
    assert_int_equal(c.ssrc, 0x01020304);
    assert_int_equal(c.seq, 0xfffe);
    assert_int_equal(c.ts, 0xa0b0c0d0);
    assert_int_equal(c.pt, 109);
    assert_int_equal(c.marker, 0);
    uint32_t abs;
    uint16_t tseq;
    assert_int_equal(rtp_ext_abs_send_time(&c, 2, &abs), 0);
    assert_int_equal(abs, 0xabcdef);
    assert_int_equal(rtp_ext_transport_seq(&c, 3, &tseq), 0);
    assert_int_equal(tseq, 777);
    /* nothing else moved: element headers, the mid, the level, the payload */
    assert_memory_equal(copy + 12, raw + 12, 5);
    assert_int_equal(copy[20], raw[20]);
    assert_memory_equal(copy + 23, raw + 23, n - 23);
}

static void test_reader_errors(void **state)
{
    (void)state;
    uint8_t raw[256];
    size_t n = vec(opus_pkt, raw);
    struct rtp_hdr h;
    assert_int_equal(rtp_parse(raw, n, &h), RTP_OK);
    uint8_t level;
    int voice;
    uint32_t abs;
    uint16_t tseq;
    char s[4];
    assert_int_equal(rtp_ext_audio_level(&h, 2, &level, &voice), -EINVAL);
    assert_int_equal(rtp_ext_abs_send_time(&h, 3, &abs), -EINVAL);
    assert_int_equal(rtp_ext_transport_seq(&h, 9, &tseq), -ENOENT);
    assert_int_equal(rtp_ext_string(&h, 1, s, sizeof(s)), -EINVAL); /* 0xff is not text */
}

static void test_rtcp_and_seq(void **state)
{
    (void)state;
    uint8_t sr[8] = { 0x80, 0xc8, 0x00, 0x06 }, twcc[4] = { 0x8f, 0xcd }, pli[2] = { 0x81, 0xce };
    assert_true(rtp_is_rtcp(sr, sizeof(sr)));
    assert_true(rtp_is_rtcp(twcc, sizeof(twcc)));
    assert_true(rtp_is_rtcp(pli, sizeof(pli)));
    assert_false(rtp_is_rtcp(sr, 1));
    assert_true(rtp_seq_newer(1, 0xffff));
    assert_true(rtp_seq_newer(0x7fff, 0));
    assert_false(rtp_seq_newer(0x8000, 0));
    assert_false(rtp_seq_newer(5, 5));
    assert_false(rtp_seq_newer(0xffff, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opus),
        cmocka_unit_test(test_video),
        cmocka_unit_test(test_padding_probe),
        cmocka_unit_test(test_two_byte),
        cmocka_unit_test(test_csrc_and_other_profile),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_rewrite),
        cmocka_unit_test(test_reader_errors),
        cmocka_unit_test(test_rtcp_and_seq),
    };
    return cmocka_run_group_tests(tests, guard_setup, guard_teardown);
}
