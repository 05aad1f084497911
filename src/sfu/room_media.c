/*
 * room_media — the router's packet paths (see room.h): a publisher's RTP
 * counted, rewritten, cached and fanned out; its RTX turned back into what
 * it repairs; subscribers' NACKs answered from the cache (RTX or plain)
 * within their budget and passed upstream for what we lack; sender
 * reports forwarded and our receiver reports sent.
 */
#include <string.h>

#include "room_int.h"
#include "rtcp.h"
#include "rtp.h"
#include "srtp.h"
#include "wire.h"

/* --- upstream NACKs --- */

/* Takes one token of a bucket filling at rate per second up to burst. */
static int take_token(double *tokens, uint64_t *last_ms, double rate, double burst, uint64_t now_ms)
{
    if (now_ms > *last_ms)
        *tokens += (double)(now_ms - *last_ms) * rate / 1000.0;
    if (*tokens > burst)
        *tokens = burst;
    *last_ms = now_ms;
    if (*tokens < 1.0)
        return 0;
    *tokens -= 1.0;
    return 1;
}

/* A NACK to pub for its packets seqs[0..n) (increasing, its numbering). */
static void nack_upstream(struct sfu_room *r, struct sfu_member *pub, struct sfu_track *t, struct track_state *st,
                          const uint16_t *seqs, size_t n, uint64_t now_ms)
{
    if (n == 0 || !(t->codec.fb & SDP_FB_NACK))
        return;
    if (!take_token(&st->up_tokens, &st->up_ms, SFU_ROOM_NACK_UP_RATE, SFU_ROOM_NACK_UP_BURST, now_ms)) {
        r->stats->nack_up_limited++;
        return;
    }
    int len = rtcp_build_nack(r->scratch, r->cap, ROUTER_SSRC, t->ssrc, seqs, n);
    if (len <= 0)
        return;
    r->stats->nack_upstream++;
    r->ops.send_rtcp(pub->ud, r->scratch, (size_t)len, r->cap);
}

/* A packet newer than any before: NACK the gap before it, if short. */
static void check_gap(struct sfu_room *r, struct sfu_member *pub, size_t i, uint16_t seq, uint64_t now_ms)
{
    struct track_state *st = &pub->state[i];
    if (st->have_in && !rtp_seq_newer(seq, st->highest_in))
        return;
    uint16_t gap = (uint16_t)(seq - st->highest_in - 1);
    if (st->have_in && gap > 0 && gap <= SFU_ROOM_NACK_GAP && st->cache) {
        uint16_t lost[SFU_ROOM_NACK_GAP];
        for (uint16_t k = 0; k < gap; k++)
            lost[k] = (uint16_t)(st->highest_in + 1 + k);
        nack_upstream(r, pub, &pub->tracks[i], st, lost, gap, now_ms);
    }
    st->highest_in = seq;
    st->have_in = 1;
}

/* --- receiver reports --- */

static void maybe_report(struct sfu_room *r, struct sfu_member *pub, uint64_t now_ms)
{
    if (!pub->rr_started) { /* the first report one interval after the first packet */
        pub->rr_started = 1;
        pub->last_rr_ms = now_ms;
        return;
    }
    if (now_ms - pub->last_rr_ms < SFU_ROOM_RR_MS)
        return;
    pub->last_rr_ms = now_ms;
    struct rtcp_rr rr = { .ssrc = ROUTER_SSRC };
    for (size_t i = 0; i < pub->ntracks && rr.nblocks < RTCP_MAX_BLOCKS; i++)
        if (sfu_rxstats_block(&pub->state[i].rx, pub->tracks[i].ssrc, now_ms, &rr.blocks[rr.nblocks]) == 0)
            rr.nblocks++;
    int len = rr.nblocks ? rtcp_build_rr(r->scratch, r->cap, &rr) : -1;
    if (len <= 0)
        return;
    r->stats->rr_sent++;
    r->ops.send_rtcp(pub->ud, r->scratch, (size_t)len, r->cap);
}

/* --- media --- */

/* Sends fwd (laid out as h) of track t of pub to every subscriber of it
 * that the allocator lets have it, with that subscriber's extensions. */
static void fan_out(struct sfu_room *r, struct sfu_member *pub, const struct sfu_track *t, const struct rtp_hdr *h,
                    uint64_t now_ms)
{
    struct rtp_hdr fh = *h;
    fh.buf = r->fwd;
    for (struct sfu_member *o = r->members; o; o = o->next) {
        struct slot *s = o == pub ? NULL : room_slot_of(o, t->out_ssrc);
        if (!s || !room_bwe_forwards(s))
            continue;
        int len = room_bwe_out(r, o, &fh, now_ms);
        if (len < 0)
            continue;
        r->stats->forwarded_packets++;
        r->stats->forwarded_bytes += (size_t)len;
        r->ops.send_rtp(o->ud, r->scratch, (size_t)len, r->cap);
    }
}

/* The packet in r->fwd (parsed as h) of pub's track i: counted, rewritten,
 * cached, sent. repaired: it came out of an RTX packet. */
static void media_in(struct sfu_room *r, struct sfu_member *pub, size_t i, const struct rtp_hdr *h, int repaired,
                     uint64_t now_ms)
{
    struct sfu_track *t = &pub->tracks[i];
    struct track_state *st = &pub->state[i];
    uint16_t seq;
    uint32_t ts;
    if (sfu_rewriter_map(&st->rw, h->seq, h->ts, now_ms, t->codec.clock, &seq, &ts) != 0) {
        r->stats->stale++;
        return;
    }
    const uint8_t *had;
    if (repaired && st->cache && sfu_pktcache_get(st->cache, seq, now_ms, &had)) {
        r->stats->rtx_dropped++; /* we had it: the publisher's RTX was a probe or a late repair */
        return;
    }
    if (!repaired) {
        sfu_rxstats_packet(&st->rx, h->seq, h->ts, now_ms, t->codec.clock);
        check_gap(r, pub, i, h->seq, now_ms);
        room_bwe_media(r, pub, i, h, now_ms);
    }
    rtp_write_ssrc(r->fwd, t->out_ssrc);
    rtp_write_seq(r->fwd, seq);
    rtp_write_ts(r->fwd, ts);
    if (st->cache)
        sfu_pktcache_put(st->cache, seq, r->fwd, h->len, now_ms);
    r->stats->repaired += (uint64_t)repaired;
    fan_out(r, pub, t, h, now_ms);
}

/* An RTX packet of pub's track i (RFC 4588 §4): the original sequence
 * number first in the payload. Rebuilt in r->fwd and handled as media. */
static void repair_in(struct sfu_room *r, struct sfu_member *pub, size_t i, const struct rtp_hdr *h,
                      uint64_t now_ms)
{
    if (h->payload_len <= 2) {
        r->stats->rtx_dropped++; /* padding: a bandwidth probe */
        return;
    }
    const uint8_t *osn = h->buf + h->payload_off;
    size_t len = h->payload_off + h->payload_len - 2;
    memcpy(r->fwd, h->buf, h->payload_off);
    memcpy(r->fwd + h->payload_off, osn + 2, h->payload_len - 2);
    r->fwd[0] &= (uint8_t)~0x20; /* the padding is not carried over */
    rtp_write_seq(r->fwd, wire_rd16(osn));
    rtp_write_pt(r->fwd, pub->tracks[i].codec.pt);
    rtp_write_ssrc(r->fwd, pub->tracks[i].ssrc);
    struct rtp_hdr orig;
    if (rtp_parse(r->fwd, len, &orig) != RTP_OK) {
        r->stats->bad_rtp++;
        return;
    }
    media_in(r, pub, i, &orig, 1, now_ms);
}

void sfu_room_rtp(struct sfu_room *r, struct sfu_member *m, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
    struct rtp_hdr h;
    if (len > sizeof(r->fwd) || rtp_parse(pkt, len, &h) != RTP_OK) {
        r->stats->bad_rtp++;
        return;
    }
    for (size_t i = 0; i < m->ntracks; i++) {
        if (m->tracks[i].ssrc == h.ssrc) {
            memcpy(r->fwd, pkt, len);
            media_in(r, m, i, &h, 0, now_ms);
            maybe_report(r, m, now_ms);
            return;
        }
        if (m->tracks[i].rtx_ssrc && m->tracks[i].rtx_ssrc == h.ssrc) {
            repair_in(r, m, i, &h, now_ms);
            return;
        }
    }
    r->stats->unknown_ssrc++;
}

/* --- NACKs from subscribers --- */

/* Sends the cached packet pkt[0..len) to sub again: as RTX on the slot's
 * RTX stream (RFC 4588 §4) if its answer accepted it, else as it was. */
static void resend(struct sfu_room *r, struct sfu_member *sub, struct slot *s, const uint8_t *pkt, size_t len,
                   uint64_t now_ms)
{
    struct rtp_hdr h;
    if (rtp_parse(pkt, len, &h) != RTP_OK || len + 2 + SFU_SRTP_TRAILER_MAX > r->cap)
        return;
    if (s->rtx_ok) {
        memcpy(r->scratch, pkt, h.payload_off);
        wire_wr16(r->scratch + h.payload_off, h.seq);
        memcpy(r->scratch + h.payload_off + 2, pkt + h.payload_off, h.payload_len);
        len = h.payload_off + 2 + h.payload_len;
        r->scratch[0] &= (uint8_t)~0x20;
        rtp_write_pt(r->scratch, (uint8_t)s->track.rtx_pt);
        rtp_write_ssrc(r->scratch, s->track.out_rtx_ssrc);
        rtp_write_seq(r->scratch, s->rtx_seq++);
        r->stats->rtx_sent++;
    } else {
        memcpy(r->scratch, pkt, len);
    }
    struct rtp_hdr out; /* with sub's own extensions, like every packet to it */
    int n = rtp_parse(r->scratch, len, &out) == RTP_OK ? room_bwe_out(r, sub, &out, now_ms) : -1;
    if (n < 0)
        return;
    r->stats->retransmitted++;
    r->ops.send_rtp(sub->ud, r->scratch, (size_t)n, r->cap);
}

int room_nack(struct sfu_room *r, struct sfu_member *sub, const struct rtcp_pkt *p, uint64_t now_ms)
{
    struct rtcp_fb fb;
    struct sfu_track *t;
    struct track_state *st;
    uint16_t seqs[SFU_ROOM_NACK_MAX], missing[SFU_ROOM_NACK_MAX];
    size_t nmissing = 0;
    if (rtcp_parse_nack(p, &fb) != 0)
        return -1;
    struct slot *s = room_slot_of(sub, fb.media_ssrc);
    struct sfu_member *pub = s ? room_publisher_of(r, sub, fb.media_ssrc, &t, &st) : NULL;
    if (!pub) {
        r->stats->unknown_ssrc++;
        return 0;
    }
    size_t total = rtcp_nack_seqs(&fb, seqs, SFU_ROOM_NACK_MAX), n = total < SFU_ROOM_NACK_MAX ? total : SFU_ROOM_NACK_MAX;
    r->stats->nack_seqs += total;
    r->stats->nack_storm += total - n; /* more than one NACK packet should ask for */
    for (size_t i = 0; i < n; i++) {
        if (!take_token(&sub->nack_tokens, &sub->nack_ms, SFU_ROOM_NACK_RATE, SFU_ROOM_NACK_RATE, now_ms)) {
            r->stats->nack_storm++;
            continue;
        }
        const uint8_t *pkt;
        size_t len = st->cache ? sfu_pktcache_get(st->cache, seqs[i], now_ms, &pkt) : 0;
        if (len) {
            resend(r, sub, s, pkt, len, now_ms);
        } else {
            r->stats->nack_missed++;
            missing[nmissing++] = sfu_rewriter_unmap_seq(&st->rw, seqs[i]);
        }
    }
    nack_upstream(r, pub, t, st, missing, nmissing, now_ms);
    return 0;
}

/* --- sender reports --- */

/* pub's SR about its track i, on to every subscriber of the track. */
static void forward_sr(struct sfu_room *r, struct sfu_member *pub, size_t i, const struct rtcp_sr *sr, uint64_t now_ms)
{
    struct sfu_track *t = &pub->tracks[i];
    struct track_state *st = &pub->state[i];
    sfu_rxstats_sr(&st->rx, sr->ntp_sec, sr->ntp_frac, now_ms);
    struct rtcp_sr out = {
        .ssrc = t->out_ssrc, .ntp_sec = sr->ntp_sec, .ntp_frac = sr->ntp_frac,
        .rtp_ts = sfu_rewriter_ts(&st->rw, sr->rtp_ts), .packet_count = sr->packet_count,
        .octet_count = sr->octet_count,
    };
    for (struct sfu_member *o = r->members; o; o = o->next) {
        if (o == pub || !room_slot_of(o, t->out_ssrc))
            continue;
        int len = rtcp_build_sr(r->scratch, r->cap, &out);
        if (len <= 0 || (size_t)len + SFU_SRTP_TRAILER_MAX > r->cap)
            return;
        r->stats->sr_forwarded++;
        r->ops.send_sub_rtcp(o->ud, r->scratch, (size_t)len, r->cap);
    }
}

/* One packet of a publisher's compound: 0, or -1 if malformed. */
static int publisher_report(struct sfu_room *r, struct sfu_member *m, const struct rtcp_pkt *p, uint64_t now_ms)
{
    struct rtcp_sr sr;
    if (p->pt != RTCP_SR)
        return 0;
    if (rtcp_parse_sr(p, &sr) != 0)
        return -1;
    for (size_t i = 0; i < m->ntracks; i++)
        if (m->tracks[i].ssrc == sr.ssrc)
            forward_sr(r, m, i, &sr, now_ms);
    return 0;
}

void sfu_room_rtcp_pub(struct sfu_room *r, struct sfu_member *m, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
    room_walk_rtcp(r, m, pkt, len, now_ms, publisher_report);
}

void room_walk_rtcp(struct sfu_room *r, struct sfu_member *m, const uint8_t *pkt, size_t len, uint64_t now_ms,
                    room_rtcp_fn fn)
{
    struct rtcp_iter it;
    struct rtcp_pkt p;
    int bad = 0;
    rtcp_iter_init(&it, pkt, len);
    enum rtcp_status st = rtcp_iter_next(&it, &p);
    for (; st == RTCP_OK; st = rtcp_iter_next(&it, &p))
        bad |= fn(r, m, &p, now_ms) != 0;
    if (bad || st == RTCP_MALFORMED)
        r->stats->bad_rtcp++; /* once per datagram, however many of its packets were wrong */
}
