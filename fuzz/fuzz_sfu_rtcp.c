/*
 * fuzz_sfu_rtcp — libFuzzer target for compound RTCP and its typed parsers
 * (src/sfu/rtcp.c).
 *
 * The input is one datagram (after SRTCP unprotect) in a heap block of
 * exactly its size. Besides "no crash" it checks:
 *  - the iterator's packets tile the datagram, bodies lie inside them, and
 *    only the last packet has padding;
 *  - every parser answers within its documented set for every packet;
 *  - SR and RR rebuild to the same bytes, REMB to the same bitrate, PLI and
 *    FIR to the same packet; NACK expansion stays within 17 per pair;
 *    transport-cc statuses are in range and numbered from the base.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/rtcp.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void check_reports(const struct rtcp_pkt *p)
{
    static struct rtcp_sr sr;
    static struct rtcp_rr rr;
    uint8_t out[4 + 24 + 24 * RTCP_MAX_BLOCKS];
    int rc = rtcp_parse_sr(p, &sr);
    CHECK(rc == 0 || rc == -EINVAL || rc == -EBADMSG);
    if (rc == 0) {
        int n = rtcp_build_sr(out, sizeof(out), &sr);
        CHECK(n == 28 + 24 * p->count && memcmp(out + 4, p->raw + 4, (size_t)n - 4) == 0);
    }
    rc = rtcp_parse_rr(p, &rr);
    CHECK(rc == 0 || rc == -EINVAL || rc == -EBADMSG);
    if (rc == 0) {
        int n = rtcp_build_rr(out, sizeof(out), &rr);
        CHECK(n == 8 + 24 * p->count && memcmp(out + 4, p->raw + 4, (size_t)n - 4) == 0);
    }
}

static void check_sdes_bye(const struct rtcp_pkt *p)
{
    static struct rtcp_sdes sdes;
    static struct rtcp_bye bye;
    int rc = rtcp_parse_sdes(p, &sdes);
    CHECK(rc == 0 || rc == -EINVAL || rc == -EBADMSG);
    if (rc == 0)
        for (size_t i = 0; i < sdes.nchunks; i++)
            if (sdes.chunks[i].cname)
                CHECK(sdes.chunks[i].cname + sdes.chunks[i].cname_len <= p->body + p->body_len);
    rc = rtcp_parse_bye(p, &bye);
    CHECK(rc == 0 || rc == -EINVAL || rc == -EBADMSG);
    if (rc == 0 && bye.reason)
        CHECK(bye.reason + bye.reason_len <= p->body + p->body_len);
}

static void check_nack_pli_fir(const struct rtcp_pkt *p)
{
    struct rtcp_fb fb;
    uint8_t out[32];
    int rc = rtcp_parse_nack(p, &fb);
    CHECK(rc == 0 || rc == -EINVAL || rc == -EBADMSG);
    if (rc == 0) {
        uint16_t seqs[64];
        CHECK(rtcp_nack_seqs(&fb, seqs, 64) <= fb.fci_len / 4 * 17);
    }
    rc = rtcp_parse_pli(p, &fb);
    CHECK(rc == 0 || rc == -EINVAL || rc == -EBADMSG);
    if (rc == 0)
        CHECK(rtcp_build_pli(out, sizeof(out), fb.sender_ssrc, fb.media_ssrc) == 12 &&
              out[1] == p->raw[1] && memcmp(out + 4, p->raw + 4, 8) == 0);
    uint32_t sender;
    struct rtcp_fir_entry fir[4];
    rc = rtcp_parse_fir(p, &sender, fir, 4);
    CHECK(rc > 0 || rc == -EINVAL || rc == -EBADMSG);
    if (rc > 0) {
        CHECK(rtcp_build_fir(out, sizeof(out), sender, fir[0].ssrc, fir[0].seq) == 20);
        CHECK(memcmp(out + 12, p->raw + 12, 5) == 0);
    }
}

static void check_remb_twcc(const struct rtcp_pkt *p)
{
    static struct rtcp_remb remb, back;
    static struct rtcp_twcc_packet pk[1024];
    uint8_t out[20 + 4 * 255];
    int rc = rtcp_parse_remb(p, &remb);
    CHECK(rc == 0 || rc == -EINVAL || rc == -EBADMSG);
    if (rc == 0 && remb.bitrate != UINT64_MAX) {
        int n = rtcp_build_remb(out, sizeof(out), remb.sender_ssrc, remb.bitrate, remb.ssrcs, remb.nssrcs);
        CHECK(n == (int)p->raw_len || p->padding);
        struct rtcp_iter it;
        struct rtcp_pkt q;
        rtcp_iter_init(&it, out, (size_t)n);
        CHECK(rtcp_iter_next(&it, &q) == RTCP_OK && rtcp_parse_remb(&q, &back) == 0);
        CHECK(back.bitrate == remb.bitrate && back.nssrcs == remb.nssrcs);
    }
    struct rtcp_twcc t;
    rc = rtcp_parse_twcc(p, &t, pk, 1024);
    CHECK(rc == 0 || rc == -EINVAL || rc == -EBADMSG || rc == -ENOSPC);
    if (rc == 0)
        for (size_t i = 0; i < t.status_count; i++) {
            CHECK(pk[i].seq == (uint16_t)(t.base_seq + i) && pk[i].status <= 2);
            CHECK(pk[i].status != 0 || pk[i].delta == 0);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct rtcp_iter it;
    struct rtcp_pkt p;
    enum rtcp_status st;
    size_t off = 0;
    rtcp_iter_init(&it, buf, size);
    while ((st = rtcp_iter_next(&it, &p)) == RTCP_OK) {
        CHECK(p.raw == buf + off && p.raw_len >= 4 && p.raw_len % 4 == 0);
        CHECK(p.body == p.raw + 4 && p.body + p.body_len <= p.raw + p.raw_len);
        off += p.raw_len;
        CHECK(!p.padding || off == size);
        check_reports(&p);
        check_sdes_bye(&p);
        check_nack_pli_fir(&p);
        check_remb_twcc(&p);
    }
    CHECK(st == RTCP_END || st == RTCP_MALFORMED);
    CHECK((st == RTCP_END) == (off == size));
    CHECK((rtcp_validate(buf, size) == 0) == (st == RTCP_END && size > 0));
    free(buf);
    return 0;
}
