/*
 * twcc — transport-wide sequence numbers, send history and feedback
 * matching for one subscriber transport (see twcc.h).
 */
#include "twcc.h"

#include <errno.h>
#include <string.h>

#include "wire.h"

void sfu_twcc_init(struct sfu_twcc *t, uint16_t seq)
{
    memset(t, 0, sizeof(*t));
    t->next_seq = seq;
}

uint16_t sfu_twcc_sent(struct sfu_twcc *t, size_t size, uint64_t now_us)
{
    uint16_t seq = t->next_seq++;
    struct sfu_twcc_sent *s = &t->hist[seq % SFU_TWCC_HISTORY];
    s->send_us = now_us;
    s->seq = seq;
    s->size = size > UINT16_MAX ? UINT16_MAX : (uint16_t)size;
    s->valid = 1;
    return seq;
}

size_t sfu_twcc_feedback(const struct sfu_twcc *t, const struct rtcp_twcc *fb, const struct rtcp_twcc_packet *pkts,
                         size_t n, struct sfu_twcc_sample *out, size_t cap)
{
    /* 64 ms units of the reference time, 250 µs units of the deltas
     * (draft §3.1.5); each delta is from the previous received packet. */
    int64_t recv_us = (int64_t)fb->ref_time * 64000;
    size_t k = 0;
    for (size_t i = 0; i < n && k < cap; i++) {
        if (pkts[i].status != RTCP_TWCC_NOT_RECEIVED)
            recv_us += (int64_t)pkts[i].delta * 250;
        const struct sfu_twcc_sent *s = &t->hist[pkts[i].seq % SFU_TWCC_HISTORY];
        if (!s->valid || s->seq != pkts[i].seq)
            continue;
        out[k].send_us = s->send_us;
        out[k].recv_us = recv_us;
        out[k].size = s->size;
        out[k].received = pkts[i].status != RTCP_TWCC_NOT_RECEIVED;
        k++;
    }
    return k;
}

uint32_t sfu_twcc_abs_send_time(uint64_t now_us)
{
    /* seconds << 18, keeping 24 bits: (us << 18) / 1e6 */
    return (uint32_t)(((now_us << 18) / 1000000u) & 0xFFFFFFu);
}

/* Our extension block's data (after its 4-byte header) into d; its length,
 * a multiple of 4. */
static size_t ext_block(uint8_t *d, uint8_t tcc_id, uint16_t seq, uint8_t ast_id, uint32_t ast)
{
    size_t n = 0;
    if (tcc_id) {
        d[n++] = (uint8_t)(tcc_id << 4 | 1);
        wire_wr16(d + n, seq);
        n += 2;
    }
    if (ast_id) {
        d[n++] = (uint8_t)(ast_id << 4 | 2);
        d[n++] = (uint8_t)(ast >> 16);
        d[n++] = (uint8_t)(ast >> 8);
        d[n++] = (uint8_t)ast;
    }
    while (n % 4)
        d[n++] = 0; /* id 0: padding (RFC 8285 §4.2) */
    return n;
}

int sfu_twcc_stamp(uint8_t *out, size_t cap, const struct rtp_hdr *h, uint8_t tcc_id, uint16_t seq,
                   uint8_t ast_id, uint32_t ast)
{
    size_t fixed = RTP_HEADER_LEN + 4u * h->cc;
    size_t rest = h->len - h->payload_off; /* payload and padding */
    uint8_t ext[SFU_TWCC_EXT_MAX];
    size_t elen = (tcc_id || ast_id) ? ext_block(ext, tcc_id, seq, ast_id, ast) : 0;
    size_t total = fixed + (elen ? 4 + elen : 0) + rest;
    if (total > cap)
        return -ENOBUFS;
    /* The payload first: out may be h's own bytes (then, with an extension
     * block of the same size as before, the payload stays where it is). */
    if (out + total - rest != h->buf + h->payload_off)
        memmove(out + total - rest, h->buf + h->payload_off, rest);
    memmove(out, h->buf, fixed);
    if (elen) {
        out[0] |= 0x10;
        wire_wr16(out + fixed, RTP_EXT_ONE_BYTE);
        wire_wr16(out + fixed + 2, (uint16_t)(elen / 4));
        memcpy(out + fixed + 4, ext, elen);
    } else {
        out[0] &= (uint8_t)~0x10;
    }
    return (int)total;
}
