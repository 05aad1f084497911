/*
 * room_media — the router's packet paths (see room.h): a publisher's RTP
 * counted, rewritten, cached and fanned out; its RTX turned back into what
 * it repairs; subscribers' NACKs answered from the cache (RTX or plain)
 * within their budget and passed upstream for what we lack; sender
 * reports forwarded and our receiver reports sent.
 */
#include <string.h>
#include <strings.h>

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

/* A REMB of SFU_SIM_PUBLISH_BPS to pub about its video SSRCs, if its
 * video negotiated goog-remb (simulcast.h says why). */
static void publish_remb(struct sfu_room *r, struct sfu_member *pub)
{
    uint32_t ssrcs[SFU_ROOM_TRACKS];
    size_t n = 0;
    for (size_t i = 0; i < pub->ntracks; i++)
        if (pub->tracks[i].kind == SDP_VIDEO && pub->tracks[i].ssrc && (pub->tracks[i].codec.fb & SDP_FB_REMB))
            ssrcs[n++] = pub->tracks[i].ssrc;
    int len = n ? rtcp_build_remb(r->scratch, r->cap, ROUTER_SSRC, SFU_SIM_PUBLISH_BPS, ssrcs, n) : -1;
    if (len > 0)
        r->ops.send_rtcp(pub->ud, r->scratch, (size_t)len, r->cap);
}

static void maybe_report(struct sfu_room *r, struct sfu_member *pub, uint64_t now_ms)
{
    if (!pub->rr_started) { /* the first report one interval after the first packet */
        pub->rr_started = 1;
        pub->last_rr_ms = now_ms;
        publish_remb(r, pub);
        return;
    }
    if (now_ms - pub->last_rr_ms < SFU_ROOM_RR_MS)
        return;
    pub->last_rr_ms = now_ms;
    publish_remb(r, pub);
    struct rtcp_rr rr = { .ssrc = ROUTER_SSRC };
    for (size_t i = 0; i < pub->ntracks && rr.nblocks < RTCP_MAX_BLOCKS; i++)
        if (pub->tracks[i].ssrc &&
            sfu_rxstats_block(&pub->state[i].rx, pub->tracks[i].ssrc, now_ms, &rr.blocks[rr.nblocks]) == 0)
            rr.nblocks++;
    int len = rr.nblocks ? rtcp_build_rr(r->scratch, r->cap, &rr) : -1;
    if (len <= 0)
        return;
    r->stats->rr_sent++;
    r->ops.send_rtcp(pub->ud, r->scratch, (size_t)len, r->cap);
}

/* --- media --- */

/* What a packet of a track says about its layer: a key frame starts
 * here, and where its VP8 descriptor is. */
struct pkt_info {
    int layer, key;
    int any_start;                  /* a simulcast track of a codec whose key frames we cannot see */
    int vp8;                        /* v is the parse of the VP8 payload at off */
    size_t off;
    struct sfu_vp8 v;
};

static void pkt_info(const struct sfu_track *t, const struct sfu_track *vt, const struct rtp_hdr *h,
                     struct pkt_info *pi)
{
    memset(pi, 0, sizeof(*pi));
    pi->layer = t->layer;
    pi->off = h->payload_off;
    pi->vp8 = t->kind == SDP_VIDEO && strcasecmp(t->codec.name, "VP8") == 0 &&
              sfu_vp8_parse(h->buf + h->payload_off, h->payload_len, &pi->v) == 0;
    /* A plain track switches nothing: any packet may start it. A
     * simulcast one switches at a VP8 key frame only. */
    pi->key = vt->nlayers <= 1 ? 1 : pi->vp8 && pi->v.keyframe;
    /* Not VP8: a subscriber starts with any packet and stays on that layer. */
    pi->any_start = vt->nlayers > 1 && strcasecmp(vt->codec.name, "VP8") != 0;
}

/* Slot s of a subscriber waits for a key frame of its target layer of
 * vt: one is asked for (at most every SFU_SIM_PLI_MS for this slot, and
 * within the track's PLI limit). */
static void slot_pli(struct sfu_room *r, struct sfu_member *pub, struct sfu_track *vt, struct slot *s,
                     uint64_t now_ms)
{
    if (vt->kind != SDP_VIDEO || s->fwd.target < 0 || s->fwd.target == s->fwd.cur)
        return;
    if (vt->nlayers <= 1 && s->fwd.switches == 0)
        return; /* a plain track starts with any packet; sfu_room_ready() asked for a key frame */
    if (!sfu_sim_want_pli(&s->fwd, now_ms))
        return;
    struct track_state *lst;
    struct sfu_track *lt = room_layer(pub, vt, s->fwd.target, &lst);
    if (lt->ssrc)
        room_request_keyframe(r, pub, lt, lst, now_ms);
}

/* Sends fwd[0..len) (a packet of layer pi->layer of pub's visible track
 * vt) to every subscriber that gets that layer, rewritten for it. */
static void fan_out(struct sfu_room *r, struct sfu_member *pub, struct sfu_track *vt, const struct rtp_hdr *h,
                    const struct pkt_info *pi, uint64_t now_ms)
{
    size_t len = h->len;
    for (struct sfu_member *o = r->members; o; o = o->next) {
        struct slot *s = o == pub ? NULL : room_slot_of(o, vt->out_ssrc);
        if (!s || !room_bwe_forwards(s) || len + SFU_SRTP_TRAILER_MAX > r->cap)
            continue;
        sfu_sim_update(&s->fwd, &pub->state[vt->group].sim, now_ms);
        int take = sfu_sim_accept(&s->fwd, pi->layer, pi->key || (pi->any_start && s->fwd.cur < 0));
        slot_pli(r, pub, vt, s, now_ms);
        if (!take)
            continue;
        memcpy(r->scratch, r->fwd, len);
        if (sfu_sim_rewrite(&s->fwd, r->scratch, h->seq, h->ts, now_ms, vt->codec.clock, pi->off,
                            pi->vp8 ? &pi->v : NULL) != 0) {
            r->stats->stale++;
            continue;
        }
        struct rtp_hdr sh = *h; /* the rewritten copy, same layout: with o's own extensions */
        sh.buf = r->scratch;
        int n = room_bwe_out(r, o, &sh, now_ms);
        if (n < 0)
            continue;
        r->stats->forwarded_packets++;
        r->stats->forwarded_bytes += (size_t)n;
        r->ops.send_rtp(o->ud, r->scratch, (size_t)n, r->cap);
    }
}

/* The packet in r->fwd (parsed as h) of pub's track entry i: counted,
 * cached (under the publisher's sequence number), sent to each
 * subscriber of its layer. repaired: it came out of an RTX packet. */
static void media_in(struct sfu_room *r, struct sfu_member *pub, size_t i, const struct rtp_hdr *h, int repaired,
                     uint64_t now_ms)
{
    struct sfu_track *t = &pub->tracks[i];
    struct track_state *st = &pub->state[i];
    const uint8_t *had;
    if (repaired && st->cache && sfu_pktcache_get(st->cache, h->seq, now_ms, &had)) {
        r->stats->rtx_dropped++; /* we had it: the publisher's RTX was a probe or a late repair */
        return;
    }
    if (!repaired) {
        sfu_rxstats_packet(&st->rx, h->seq, h->ts, now_ms, t->codec.clock);
        check_gap(r, pub, i, h->seq, now_ms);
        room_bwe_media(r, pub, i, h, now_ms);
    }
    if (st->cache)
        sfu_pktcache_put(st->cache, h->seq, r->fwd, h->len, now_ms);
    r->stats->repaired += (uint64_t)repaired;
    struct pkt_info pi;
    struct sfu_track *vt = &pub->tracks[t->group];
    pkt_info(t, vt, h, &pi);
    sfu_sim_track_packet(&pub->state[t->group].sim, t->layer, h->len, pi.vp8 && pi.v.keyframe, pi.v.width,
                         pi.v.height, now_ms);
    fan_out(r, pub, vt, h, &pi, now_ms);
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

/* The FID partner of media SSRC ssrc in t's offer (Firefox), or 0. */
static uint32_t fid_rtx(const struct sfu_track *t, uint32_t ssrc)
{
    for (size_t k = 0; k < t->nfids; k++)
        if (t->fids[k][0] == ssrc)
            return t->fids[k][1];
    return 0;
}

/* A packet of no known SSRC: if its mid and rid (or repaired rid) name a
 * layer of one of m's simulcast tracks whose SSRC is not learnt yet, the
 * layer takes it. Returns the entry, or -1. */
static int learn_ssrc(struct sfu_member *m, const struct rtp_hdr *h)
{
    char mid[SDP_TOKEN_MAX], rid[SDP_TOKEN_MAX];
    for (size_t v = 0; v < m->nvisible; v++) {
        const struct sfu_track *vt = &m->tracks[v];
        if (vt->nlayers < 2 || (vt->mid_ext && (rtp_ext_string(h, vt->mid_ext, mid, sizeof(mid)) < 0 ||
                                                 strcmp(mid, vt->mid) != 0)))
            continue;
        int rtx = rtp_ext_string(h, vt->rid_ext, rid, sizeof(rid)) < 0;
        if (rtx && (!vt->rrid_ext || rtp_ext_string(h, vt->rrid_ext, rid, sizeof(rid)) < 0))
            continue;
        for (size_t l = 0; l < vt->nlayers; l++) {
            struct sfu_track *t = &m->tracks[vt->layer_entry[l]];
            if (strcmp(t->rid, rid) != 0 || (rtx ? t->rtx_ssrc : t->ssrc) != 0)
                continue;
            if (rtx) {
                t->rtx_ssrc = h->ssrc;
            } else {
                t->ssrc = h->ssrc;
                if (!t->rtx_ssrc)
                    t->rtx_ssrc = fid_rtx(t, h->ssrc);
            }
            return vt->layer_entry[l];
        }
    }
    return -1;
}

/* pub's entry i got packet h (pkt[0..len)): as media or as its RTX. */
static void entry_in(struct sfu_room *r, struct sfu_member *m, size_t i, const struct rtp_hdr *h,
                     const uint8_t *pkt, size_t len, uint64_t now_ms)
{
    if (m->tracks[i].ssrc == h->ssrc) {
        memcpy(r->fwd, pkt, len);
        media_in(r, m, i, h, 0, now_ms);
        maybe_report(r, m, now_ms);
    } else {
        repair_in(r, m, i, h, now_ms);
    }
}

void sfu_room_rtp(struct sfu_room *r, struct sfu_member *m, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
    struct rtp_hdr h;
    if (len > sizeof(r->fwd) || rtp_parse(pkt, len, &h) != RTP_OK) {
        r->stats->bad_rtp++;
        return;
    }
    room_bwe_arrival(r, m, &h, now_ms);
    for (size_t i = 0; i < m->ntracks; i++) {
        const struct sfu_track *t = &m->tracks[i];
        if ((t->ssrc && t->ssrc == h.ssrc) || (t->rtx_ssrc && t->rtx_ssrc == h.ssrc)) {
            entry_in(r, m, i, &h, pkt, len, now_ms);
            room_keyframe_due(r, m, i, now_ms);
            return;
        }
    }
    int k = learn_ssrc(m, &h);
    if (k >= 0)
        entry_in(r, m, (size_t)k, &h, pkt, len, now_ms);
    else
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

/* The packet sub saw as out_seq of slot s (track vt of pub), rebuilt
 * from the cache of its layer into r->fwd: its length, or 0 if it is not
 * there (then *lt and *in_seq say what to ask the publisher for, *lt
 * NULL if nothing can be). */
static size_t cached(struct sfu_room *r, struct sfu_member *pub, const struct sfu_track *vt, const struct slot *s,
                     uint16_t out_seq, uint64_t now_ms, struct sfu_track **lt, uint16_t *in_seq)
{
    struct sfu_sim_src src;
    struct track_state *lst;
    const uint8_t *pkt;
    struct rtp_hdr h;
    *lt = NULL;
    if (sfu_sim_unmap(&s->fwd, out_seq, &src, in_seq) != 0)
        return 0;
    *lt = room_layer(pub, vt, src.layer, &lst);
    size_t len = lst->cache ? sfu_pktcache_get(lst->cache, *in_seq, now_ms, &pkt) : 0;
    if (!len || len > sizeof(r->fwd) || rtp_parse(pkt, len, &h) != RTP_OK)
        return 0;
    memcpy(r->fwd, pkt, len);
    rtp_write_ssrc(r->fwd, vt->out_ssrc);
    rtp_write_seq(r->fwd, out_seq);
    rtp_write_ts(r->fwd, h.ts + src.ts_delta);
    struct sfu_vp8 v;
    if (strcasecmp(vt->codec.name, "VP8") == 0 &&
        sfu_vp8_parse(r->fwd + h.payload_off, h.payload_len, &v) == 0)
        sfu_vp8_write(r->fwd + h.payload_off, &v, src.pid_delta, src.tl0_delta);
    return len;
}

/* Answers sub's NACK of seq (slot s) from the cache; what the cache
 * lacks goes into miss[layer] (the publisher's numbers) to ask for. */
static void nack_one(struct sfu_room *r, struct sfu_member *sub, struct slot *s, struct sfu_member *pub,
                     struct sfu_track *vt, uint16_t seq, uint64_t now_ms,
                     uint16_t miss[SFU_SIM_LAYERS][SFU_ROOM_NACK_MAX], size_t nmiss[SFU_SIM_LAYERS])
{
    struct sfu_track *lt;
    uint16_t in_seq;
    size_t len = cached(r, pub, vt, s, seq, now_ms, &lt, &in_seq);
    if (len) {
        resend(r, sub, s, r->fwd, len, now_ms);
        return;
    }
    r->stats->nack_missed++;
    if (lt && lt->ssrc && lt->layer < SFU_SIM_LAYERS && nmiss[lt->layer] < SFU_ROOM_NACK_MAX)
        miss[lt->layer][nmiss[lt->layer]++] = in_seq;
}

int room_nack(struct sfu_room *r, struct sfu_member *sub, const struct rtcp_pkt *p, uint64_t now_ms)
{
    struct rtcp_fb fb;
    struct sfu_track *t;
    struct track_state *st;
    uint16_t seqs[SFU_ROOM_NACK_MAX], miss[SFU_SIM_LAYERS][SFU_ROOM_NACK_MAX];
    size_t nmiss[SFU_SIM_LAYERS] = { 0 };
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
        nack_one(r, sub, s, pub, t, seqs[i], now_ms, miss, nmiss);
    }
    for (int l = 0; l < SFU_SIM_LAYERS; l++) {
        struct track_state *lst;
        struct sfu_track *lt = room_layer(pub, t, l, &lst);
        if (nmiss[l] && lt->layer == l)
            nack_upstream(r, pub, lt, lst, miss[l], nmiss[l], now_ms);
    }
    return 0;
}

/* --- sender reports --- */

/* pub's SR about its track entry i, on to every subscriber that gets
 * that layer, with its timestamp as that subscriber sees it. */
static void forward_sr(struct sfu_room *r, struct sfu_member *pub, size_t i, const struct rtcp_sr *sr, uint64_t now_ms)
{
    struct sfu_track *t = &pub->tracks[i], *vt = &pub->tracks[t->group];
    struct track_state *st = &pub->state[i];
    sfu_rxstats_sr(&st->rx, sr->ntp_sec, sr->ntp_frac, now_ms);
    struct rtcp_sr out = {
        .ssrc = vt->out_ssrc, .ntp_sec = sr->ntp_sec, .ntp_frac = sr->ntp_frac,
        .packet_count = sr->packet_count, .octet_count = sr->octet_count,
    };
    for (struct sfu_member *o = r->members; o; o = o->next) {
        struct slot *s = o == pub ? NULL : room_slot_of(o, vt->out_ssrc);
        if (!s || s->fwd.cur != t->layer || !s->fwd.rw.started)
            continue;
        out.rtp_ts = sfu_rewriter_ts(&s->fwd.rw, sr->rtp_ts);
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
        if (m->tracks[i].ssrc && m->tracks[i].ssrc == sr.ssrc)
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
