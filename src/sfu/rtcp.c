/*
 * rtcp — compound RTCP iteration, typed parsers for reports, SDES, BYE and
 * feedback, and builders (see rtcp.h).
 */
#include "rtcp.h"

#include <errno.h>
#include <string.h>

#include "wire.h"

#define REPORT_BLOCK_LEN 24

void rtcp_iter_init(struct rtcp_iter *it, const uint8_t *buf, size_t len)
{
    it->buf = buf;
    it->len = len;
    it->off = 0;
}

/* A malformed packet does not advance the iterator, so every later call
 * reports it again. */
enum rtcp_status rtcp_iter_next(struct rtcp_iter *it, struct rtcp_pkt *out)
{
    if (it->off == it->len)
        return RTCP_END;
    size_t left = it->len - it->off;
    const uint8_t *p = it->buf + it->off;
    if (left < RTCP_HEADER_LEN || p[0] >> 6 != 2)
        return RTCP_MALFORMED;
    size_t plen = ((size_t)wire_rd16(p + 2) + 1) * 4;
    if (plen > left)
        return RTCP_MALFORMED;
    size_t body_len = plen - RTCP_HEADER_LEN;
    uint8_t padding = (p[0] >> 5) & 1;
    if (padding) {
        uint8_t pad = p[plen - 1];
        if (plen != left || pad == 0 || pad > body_len)
            return RTCP_MALFORMED;
        body_len -= pad;
    }
    *out = (struct rtcp_pkt){
        .pt = p[1], .count = p[0] & 0x1F, .padding = padding,
        .raw = p, .raw_len = plen, .body = p + RTCP_HEADER_LEN, .body_len = body_len,
    };
    it->off += plen;
    return RTCP_OK;
}

int rtcp_validate(const uint8_t *buf, size_t len)
{
    struct rtcp_iter it;
    struct rtcp_pkt p;
    enum rtcp_status st;
    size_t n = 0;
    rtcp_iter_init(&it, buf, len);
    while ((st = rtcp_iter_next(&it, &p)) == RTCP_OK)
        n++;
    return st == RTCP_END && n > 0 ? 0 : -EBADMSG;
}

/* --- reports --- */

static void read_block(const uint8_t *b, struct rtcp_report_block *out)
{
    uint32_t lost = wire_rd24(b + 5);
    out->ssrc = wire_rd32(b);
    out->fraction_lost = b[4];
    out->cumulative_lost = (int32_t)((lost & 0x800000) ? (lost | 0xFF000000u) : lost);
    out->highest_seq = wire_rd32(b + 8);
    out->jitter = wire_rd32(b + 12);
    out->lsr = wire_rd32(b + 16);
    out->dlsr = wire_rd32(b + 20);
}

static void read_blocks(const uint8_t *b, size_t n, struct rtcp_report_block *out)
{
    for (size_t i = 0; i < n; i++)
        read_block(b + i * REPORT_BLOCK_LEN, &out[i]);
}

int rtcp_parse_sr(const struct rtcp_pkt *p, struct rtcp_sr *out)
{
    if (p->pt != RTCP_SR)
        return -EINVAL;
    if (p->body_len < 24 + (size_t)p->count * REPORT_BLOCK_LEN)
        return -EBADMSG;
    const uint8_t *b = p->body;
    out->ssrc = wire_rd32(b);
    out->ntp_sec = wire_rd32(b + 4);
    out->ntp_frac = wire_rd32(b + 8);
    out->rtp_ts = wire_rd32(b + 12);
    out->packet_count = wire_rd32(b + 16);
    out->octet_count = wire_rd32(b + 20);
    out->nblocks = p->count;
    read_blocks(b + 24, p->count, out->blocks);
    return 0;
}

int rtcp_parse_rr(const struct rtcp_pkt *p, struct rtcp_rr *out)
{
    if (p->pt != RTCP_RR)
        return -EINVAL;
    if (p->body_len < 4 + (size_t)p->count * REPORT_BLOCK_LEN)
        return -EBADMSG;
    out->ssrc = wire_rd32(p->body);
    out->nblocks = p->count;
    read_blocks(p->body + 4, p->count, out->blocks);
    return 0;
}

/* --- SDES and BYE --- */

/* Walks one chunk's items from *off; leaves *off on the next 32-bit
 * boundary after the null item. */
static int sdes_chunk(const uint8_t *b, size_t len, size_t *off, struct rtcp_sdes_chunk *c)
{
    size_t o = *off;
    if (o + 4 > len)
        return -EBADMSG;
    *c = (struct rtcp_sdes_chunk){ .ssrc = wire_rd32(b + o) };
    o += 4;
    for (;;) {
        if (o >= len)
            return -EBADMSG;
        if (b[o] == 0)
            break;
        if (o + 2 > len || o + 2 + b[o + 1] > len)
            return -EBADMSG;
        if (b[o] == 1 && !c->cname) {
            c->cname = b + o + 2;
            c->cname_len = b[o + 1];
        }
        o += 2 + (size_t)b[o + 1];
    }
    o = (o + 4) & ~(size_t)3; /* the null item and padding to the boundary */
    if (o > len)
        return -EBADMSG;
    *off = o;
    return 0;
}

int rtcp_parse_sdes(const struct rtcp_pkt *p, struct rtcp_sdes *out)
{
    if (p->pt != RTCP_SDES)
        return -EINVAL;
    size_t off = 0;
    out->nchunks = p->count;
    for (size_t i = 0; i < p->count; i++) {
        int rc = sdes_chunk(p->body, p->body_len, &off, &out->chunks[i]);
        if (rc)
            return rc;
    }
    return off == p->body_len ? 0 : -EBADMSG;
}

int rtcp_parse_bye(const struct rtcp_pkt *p, struct rtcp_bye *out)
{
    if (p->pt != RTCP_BYE)
        return -EINVAL;
    size_t off = (size_t)p->count * 4;
    if (p->body_len < off)
        return -EBADMSG;
    out->nssrcs = p->count;
    for (size_t i = 0; i < p->count; i++)
        out->ssrcs[i] = wire_rd32(p->body + i * 4);
    out->reason = NULL;
    out->reason_len = 0;
    if (off < p->body_len) {
        uint8_t rlen = p->body[off];
        if (off + 1 + rlen > p->body_len)
            return -EBADMSG;
        out->reason = p->body + off + 1;
        out->reason_len = rlen;
    }
    return 0;
}

/* --- feedback --- */

int rtcp_parse_fb(const struct rtcp_pkt *p, struct rtcp_fb *out)
{
    if (p->pt != RTCP_RTPFB && p->pt != RTCP_PSFB)
        return -EINVAL;
    if (p->body_len < 8)
        return -EBADMSG;
    out->sender_ssrc = wire_rd32(p->body);
    out->media_ssrc = wire_rd32(p->body + 4);
    out->fci = p->body + 8;
    out->fci_len = p->body_len - 8;
    return 0;
}

/* A feedback packet of type pt and format fmt, parsed as rtcp_parse_fb(). */
static int parse_fb_of(const struct rtcp_pkt *p, uint8_t pt, uint8_t fmt, struct rtcp_fb *out)
{
    if (p->pt != pt || p->count != fmt)
        return -EINVAL;
    return rtcp_parse_fb(p, out);
}

int rtcp_parse_nack(const struct rtcp_pkt *p, struct rtcp_fb *out)
{
    int rc = parse_fb_of(p, RTCP_RTPFB, RTCP_FMT_NACK, out);
    if (rc == 0 && (out->fci_len == 0 || out->fci_len % 4))
        rc = -EBADMSG;
    return rc;
}

size_t rtcp_nack_seqs(const struct rtcp_fb *nack, uint16_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t off = 0; off + 4 <= nack->fci_len; off += 4) {
        uint16_t pid = wire_rd16(nack->fci + off), blp = wire_rd16(nack->fci + off + 2);
        if (n < cap)
            out[n] = pid;
        n++;
        for (unsigned bit = 0; bit < 16; bit++) {
            if (!(blp & (1u << bit)))
                continue;
            if (n < cap)
                out[n] = (uint16_t)(pid + bit + 1);
            n++;
        }
    }
    return n;
}

int rtcp_parse_pli(const struct rtcp_pkt *p, struct rtcp_fb *out)
{
    int rc = parse_fb_of(p, RTCP_PSFB, RTCP_FMT_PLI, out);
    if (rc == 0 && out->fci_len != 0)
        rc = -EBADMSG;
    return rc;
}

int rtcp_parse_fir(const struct rtcp_pkt *p, uint32_t *sender_ssrc, struct rtcp_fir_entry *out, size_t cap)
{
    struct rtcp_fb fb;
    int rc = parse_fb_of(p, RTCP_PSFB, RTCP_FMT_FIR, &fb);
    if (rc)
        return rc;
    if (fb.fci_len == 0 || fb.fci_len % 8)
        return -EBADMSG;
    *sender_ssrc = fb.sender_ssrc;
    size_t n = fb.fci_len / 8;
    for (size_t i = 0; i < n && i < cap; i++) {
        out[i].ssrc = wire_rd32(fb.fci + i * 8);
        out[i].seq = fb.fci[i * 8 + 4];
    }
    return (int)n;
}

int rtcp_parse_remb(const struct rtcp_pkt *p, struct rtcp_remb *out)
{
    struct rtcp_fb fb;
    int rc = parse_fb_of(p, RTCP_PSFB, RTCP_FMT_AFB, &fb);
    if (rc)
        return rc;
    if (fb.fci_len < 8 || memcmp(fb.fci, "REMB", 4) != 0)
        return -EINVAL;
    size_t n = fb.fci[4];
    if (fb.fci_len != 8 + n * 4)
        return -EBADMSG;
    unsigned exp = fb.fci[5] >> 2;
    uint64_t mant = ((uint64_t)(fb.fci[5] & 3) << 16) | wire_rd16(fb.fci + 6);
    out->sender_ssrc = fb.sender_ssrc;
    out->bitrate = (exp > 46 && (mant >> (64 - exp)) != 0) ? UINT64_MAX : mant << exp;
    out->nssrcs = n;
    for (size_t i = 0; i < n; i++)
        out->ssrcs[i] = wire_rd32(fb.fci + 8 + i * 4);
    return 0;
}

/* --- transport-wide congestion control feedback --- */

/* Records one status; statuses past status_count (the tail of the last
 * chunk) are ignored. Symbol 3 is reserved. */
static int twcc_status(const struct rtcp_twcc *t, struct rtcp_twcc_packet *pkts, size_t *n, unsigned sym)
{
    if (*n >= t->status_count)
        return 0;
    if (sym == 3)
        return -EBADMSG;
    pkts[*n] = (struct rtcp_twcc_packet){ .seq = (uint16_t)(t->base_seq + *n), .status = (uint8_t)sym };
    (*n)++;
    return 0;
}

/* Expands one packet status chunk (§3.1.3 run length, §3.1.4 vector). */
static int twcc_chunk(const struct rtcp_twcc *t, struct rtcp_twcc_packet *pkts, size_t *n, uint16_t c)
{
    int rc = 0;
    if (!(c & 0x8000)) {
        unsigned sym = (c >> 13) & 3, run = c & 0x1FFF;
        for (unsigned i = 0; i < run && *n < t->status_count && rc == 0; i++)
            rc = twcc_status(t, pkts, n, sym);
        return rc;
    }
    if (!(c & 0x4000)) {
        for (int bit = 13; bit >= 0 && rc == 0; bit--)
            rc = twcc_status(t, pkts, n, (c >> bit) & 1);
        return rc;
    }
    for (int shift = 12; shift >= 0 && rc == 0; shift -= 2)
        rc = twcc_status(t, pkts, n, (c >> shift) & 3);
    return rc;
}

/* Reads the receive deltas that follow the chunks at fci[*off..len). */
static int twcc_deltas(const uint8_t *fci, size_t len, size_t off, struct rtcp_twcc_packet *pkts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (pkts[i].status == RTCP_TWCC_SMALL_DELTA) {
            if (off + 1 > len)
                return -EBADMSG;
            pkts[i].delta = fci[off++];
        } else if (pkts[i].status == RTCP_TWCC_LARGE_DELTA) {
            if (off + 2 > len)
                return -EBADMSG;
            pkts[i].delta = (int16_t)wire_rd16(fci + off);
            off += 2;
        }
    }
    return len - off <= 3 ? 0 : -EBADMSG;
}

int rtcp_parse_twcc(const struct rtcp_pkt *p, struct rtcp_twcc *out, struct rtcp_twcc_packet *pkts, size_t cap)
{
    struct rtcp_fb fb;
    int rc = parse_fb_of(p, RTCP_RTPFB, RTCP_FMT_TWCC, &fb);
    if (rc)
        return rc;
    if (fb.fci_len < 8)
        return -EBADMSG;
    uint32_t ref = wire_rd24(fb.fci + 4);
    *out = (struct rtcp_twcc){
        .sender_ssrc = fb.sender_ssrc, .media_ssrc = fb.media_ssrc,
        .base_seq = wire_rd16(fb.fci), .status_count = wire_rd16(fb.fci + 2),
        .ref_time = (int32_t)((ref & 0x800000) ? (ref | 0xFF000000u) : ref), .fb_count = fb.fci[7],
    };
    if (out->status_count > cap)
        return -ENOSPC;
    size_t off = 8, n = 0;
    while (n < out->status_count) {
        if (off + 2 > fb.fci_len)
            return -EBADMSG;
        rc = twcc_chunk(out, pkts, &n, wire_rd16(fb.fci + off));
        if (rc)
            return rc;
        off += 2;
    }
    return twcc_deltas(fb.fci, fb.fci_len, off, pkts, n);
}

/* --- builders --- */

/* Writes a header for a packet of len bytes (a multiple of 4, ≥ 4). */
static void put_header(uint8_t *b, uint8_t count, uint8_t pt, size_t len)
{
    b[0] = (uint8_t)(0x80 | count);
    b[1] = pt;
    wire_wr16(b + 2, (uint16_t)(len / 4 - 1));
}

/* The (PID, BLP) pair starting at seqs[*i]; moves *i past what it covers. */
static void nack_pair(const uint16_t *seqs, size_t n, size_t *i, uint16_t *pid, uint16_t *blp)
{
    *pid = seqs[*i];
    *blp = 0;
    for ((*i)++; *i < n; (*i)++) {
        uint16_t d = (uint16_t)(seqs[*i] - *pid);
        if (d > 16)
            break;
        if (d > 0)
            *blp |= (uint16_t)(1u << (d - 1));
    }
}

int rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                    const uint16_t *seqs, size_t n)
{
    uint16_t pid, blp;
    size_t pairs = 0;
    for (size_t i = 0; i < n; pairs++)
        nack_pair(seqs, n, &i, &pid, &blp);
    size_t len = 12 + pairs * 4;
    if (n == 0 || len > cap || len > 4 * 65536)
        return -ENOBUFS;
    put_header(buf, RTCP_FMT_NACK, RTCP_RTPFB, len);
    wire_wr32(buf + 4, sender_ssrc);
    wire_wr32(buf + 8, media_ssrc);
    uint8_t *w = buf + 12;
    for (size_t i = 0; i < n; w += 4) {
        nack_pair(seqs, n, &i, &pid, &blp);
        wire_wr16(w, pid);
        wire_wr16(w + 2, blp);
    }
    return (int)len;
}

int rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
    if (cap < 12)
        return -ENOBUFS;
    put_header(buf, RTCP_FMT_PLI, RTCP_PSFB, 12);
    wire_wr32(buf + 4, sender_ssrc);
    wire_wr32(buf + 8, media_ssrc);
    return 12;
}

int rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t seq)
{
    if (cap < 20)
        return -ENOBUFS;
    put_header(buf, RTCP_FMT_FIR, RTCP_PSFB, 20);
    wire_wr32(buf + 4, sender_ssrc);
    wire_wr32(buf + 8, 0); /* RFC 5104 §4.3.1.2: media source SSRC is 0 */
    wire_wr32(buf + 12, media_ssrc);
    buf[16] = seq;
    buf[17] = buf[18] = buf[19] = 0;
    return 20;
}

int rtcp_build_remb(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
                    const uint32_t *ssrcs, size_t n)
{
    size_t len = 20 + n * 4;
    if (n > 255 || len > cap)
        return -ENOBUFS;
    unsigned exp = 0;
    while ((bitrate >> exp) > 0x3FFFF)
        exp++;
    uint32_t mant = (uint32_t)(bitrate >> exp);
    put_header(buf, RTCP_FMT_AFB, RTCP_PSFB, len);
    wire_wr32(buf + 4, sender_ssrc);
    wire_wr32(buf + 8, 0);
    memcpy(buf + 12, "REMB", 4);
    buf[16] = (uint8_t)n;
    buf[17] = (uint8_t)(exp << 2 | mant >> 16);
    wire_wr16(buf + 18, (uint16_t)mant);
    for (size_t i = 0; i < n; i++)
        wire_wr32(buf + 20 + i * 4, ssrcs[i]);
    return (int)len;
}

static void write_blocks(uint8_t *b, const struct rtcp_report_block *blocks, size_t n)
{
    for (size_t i = 0; i < n; i++, b += REPORT_BLOCK_LEN) {
        const struct rtcp_report_block *r = &blocks[i];
        wire_wr32(b, r->ssrc);
        b[4] = r->fraction_lost;
        wire_wr24(b + 5, (uint32_t)r->cumulative_lost & 0xFFFFFF);
        wire_wr32(b + 8, r->highest_seq);
        wire_wr32(b + 12, r->jitter);
        wire_wr32(b + 16, r->lsr);
        wire_wr32(b + 20, r->dlsr);
    }
}

int rtcp_build_rr(uint8_t *buf, size_t cap, const struct rtcp_rr *rr)
{
    size_t len = 8 + rr->nblocks * REPORT_BLOCK_LEN;
    if (rr->nblocks > RTCP_MAX_BLOCKS || len > cap)
        return -ENOBUFS;
    put_header(buf, (uint8_t)rr->nblocks, RTCP_RR, len);
    wire_wr32(buf + 4, rr->ssrc);
    write_blocks(buf + 8, rr->blocks, rr->nblocks);
    return (int)len;
}

int rtcp_build_sr(uint8_t *buf, size_t cap, const struct rtcp_sr *sr)
{
    size_t len = 28 + sr->nblocks * REPORT_BLOCK_LEN;
    if (sr->nblocks > RTCP_MAX_BLOCKS || len > cap)
        return -ENOBUFS;
    put_header(buf, (uint8_t)sr->nblocks, RTCP_SR, len);
    wire_wr32(buf + 4, sr->ssrc);
    wire_wr32(buf + 8, sr->ntp_sec);
    wire_wr32(buf + 12, sr->ntp_frac);
    wire_wr32(buf + 16, sr->rtp_ts);
    wire_wr32(buf + 20, sr->packet_count);
    wire_wr32(buf + 24, sr->octet_count);
    write_blocks(buf + 28, sr->blocks, sr->nblocks);
    return (int)len;
}
