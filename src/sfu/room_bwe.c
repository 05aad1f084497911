/*
 * room_bwe — the router's bandwidth estimation, allocation and active
 * speaker (see docs/sfu.md, "Bandwidth estimation" and "Active speaker
 * and last-N"): our header extensions on what each subscriber gets
 * (transport-wide sequence number, abs-send-time), its transport-cc
 * feedback and REMB into its estimate (bwe.h), the estimate shared among
 * its streams (alloc.h) with last-N and screen shares first, and the
 * publishers' audio levels into the active speaker (speaker.h).
 *
 * The allocator sees each track as one layer (its measured bitrate) and
 * pauses or resumes the slot; with simulcast the layers and the cap come
 * from simulcast.h, through slot_layers() and slot_apply() only.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "base/alloc.h"
#include "room_int.h"
#include "srtp.h"

#define TCC_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define AST_URI "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define OUR_AST_ID 2
#define OUR_TCC_ID 3
#define TELL_MS 5000
#define SPEAKERS_MAX 64

/* Every slot of a subscriber is allocated (one left out would escape
 * last-N and the estimate). */
_Static_assert(SFU_ALLOC_MAX >= SFU_ROOM_SLOTS, "the allocator sees every slot");

/* --- outgoing packets --- */

void room_bwe_offer(struct sdp_media *d)
{
    d->extmaps[0].id = OUR_AST_ID;
    snprintf(d->extmaps[0].uri, sizeof(d->extmaps[0].uri), "%s", AST_URI);
    d->extmaps[1].id = OUR_TCC_ID;
    snprintf(d->extmaps[1].uri, sizeof(d->extmaps[1].uri), "%s", TCC_URI);
    d->nextmaps = 2;
    d->codecs[0].fb |= SDP_FB_TRANSPORT_CC | (d->kind == SDP_VIDEO ? SDP_FB_REMB : 0);
}

void room_bwe_answered(struct sfu_member *sub, const struct sdp *answer)
{
    /* Our ids are the same in every m-section (one BUNDLE transport, RFC
     * 8285 §5): an extension any section took goes on every packet. An
     * audio section may take none where the video ones take abs-send-time
     * (aiortc). */
    sub->tcc_id = sub->ast_id = 0;
    for (size_t i = 0; i < answer->nmedia; i++) {
        const struct sdp_media *a = &answer->media[i];
        if (a->port == 0)
            continue;
        if (sdp_extmap_id(a, TCC_URI) == OUR_TCC_ID)
            sub->tcc_id = OUR_TCC_ID;
        if (sdp_extmap_id(a, AST_URI) == OUR_AST_ID)
            sub->ast_id = OUR_AST_ID;
    }
    if (sub->tcc_id && !sub->twcc) {
        sub->twcc = xcalloc(1, sizeof(*sub->twcc));
        sfu_twcc_init(sub->twcc, (uint16_t)(sub->join_seq * 40503u));
    }
}

void room_bwe_published(struct sfu_member *pub, const struct sdp *answer)
{
    pub->tcc_in_id = 0;
    for (size_t i = 0; i < answer->nmedia && !pub->tcc_in_id; i++)
        if (answer->media[i].port)
            pub->tcc_in_id = sdp_extmap_id(&answer->media[i], TCC_URI);
    if (pub->tcc_in_id && !pub->twcc_in) {
        pub->twcc_in = xcalloc(1, sizeof(*pub->twcc_in));
        sfu_twcc_rx_init(pub->twcc_in);
    }
}

void room_bwe_arrival(struct sfu_room *r, struct sfu_member *pub, const struct rtp_hdr *h, uint64_t now_ms)
{
    uint16_t seq;
    if (!pub->twcc_in || rtp_ext_transport_seq(h, pub->tcc_in_id, &seq) != 0)
        return;
    /* Milliseconds, as the caller's clock has them (mediasoup's feedback
     * is no finer): the deltas are whole milliseconds. */
    sfu_twcc_rx_packet(pub->twcc_in, seq, now_ms * 1000);
    if (!sfu_twcc_rx_due(pub->twcc_in, now_ms))
        return;
    int len = sfu_twcc_rx_build(pub->twcc_in, ROUTER_SSRC, h->ssrc, r->scratch, r->cap, now_ms);
    if (len <= 0)
        return;
    r->stats->twcc_sent++;
    r->ops.send_rtcp(pub->ud, r->scratch, (size_t)len, r->cap);
}

int room_bwe_forwards(const struct slot *s)
{
    return s->layer >= 0;
}

int room_bwe_out(struct sfu_room *r, struct sfu_member *sub, const struct rtp_hdr *h, uint64_t now_ms)
{
    size_t cap = r->cap - SFU_SRTP_TRAILER_MAX;
    if (!sub->tcc_id && !sub->ast_id) {
        if (h->len > cap)
            return -1;
        if (h->buf != r->scratch) /* fan-out rewrote it there already */
            memmove(r->scratch, h->buf, h->len);
        return (int)h->len;
    }
    uint16_t seq = sub->twcc ? sub->twcc->next_seq : 0;
    int n = sfu_twcc_stamp(r->scratch, cap, h, sub->twcc ? sub->tcc_id : 0, seq, sub->ast_id,
                           sfu_twcc_abs_send_time(now_ms * 1000));
    if (n > 0 && sub->twcc)
        sfu_twcc_sent(sub->twcc, (size_t)n, now_ms * 1000);
    return n < 0 ? -1 : n;
}

/* --- last-N and allocation --- */

/* o comes before p in the speaker order: spoke later, or joined earlier. */
static int spoke_before(const struct sfu_member *o, const struct sfu_member *p)
{
    return o->spoke_ms != p->spoke_ms ? o->spoke_ms > p->spoke_ms : o->join_seq < p->join_seq;
}

/* pub's place among the publishers sub receives, most recent speaker first. */
static unsigned speaker_rank(const struct sfu_room *r, const struct sfu_member *sub, const struct sfu_member *pub)
{
    unsigned rank = 0;
    for (const struct sfu_member *o = r->members; o; o = o->next)
        if (o != sub && o != pub && spoke_before(o, pub))
            rank++;
    return rank;
}

/* What the allocator needs of slot s of sub, 0; -1 if its publisher is gone. */
/* A simulcast video: the allocator sees each active layer's bitrate
 * (lowest first) and the layer the subscriber gets now. */
static void sim_layers(struct sfu_room *r, struct sfu_member *sub, const struct slot *s, struct sfu_alloc_stream *a,
                       uint64_t now_ms)
{
    struct sfu_sim_info info;
    if (a->kind == SFU_ALLOC_AUDIO || sfu_room_sim_info(r, sub, s->track.out_ssrc, &info, now_ms) < 0 ||
        info.nlayers < 2)
        return;
    size_t n = 0;
    for (size_t l = 0; l < info.nlayers && n < SFU_ALLOC_LAYERS; l++)
        if (info.active[l])
            a->bps[n++] = info.bps[l];
    if (n < 2)
        return;
    a->nlayers = n;
    a->cur = s->layer < 0 ? -1 : info.cur < 0 ? 0 : info.cur >= (int)n ? (int)n - 1 : info.cur;
}

/* The allocator's kind of track t of pub: a screen share is the video
 * track its publisher named (sfu_room_set_screen()). */
static enum sfu_alloc_kind alloc_kind(const struct sfu_member *pub, const struct sfu_track *t)
{
    if (t->kind == SDP_AUDIO)
        return SFU_ALLOC_AUDIO;
    return pub->screen[0] && strcmp(t->track_id, pub->screen) == 0 ? SFU_ALLOC_SCREEN : SFU_ALLOC_VIDEO;
}

static int slot_layers(struct sfu_room *r, struct sfu_member *sub, struct slot *s, struct sfu_alloc_stream *a,
                       uint64_t now_ms)
{
    struct sfu_track *t;
    struct track_state *st;
    struct sfu_member *pub = room_publisher_of(r, sub, s->track.out_ssrc, &t, &st);
    if (!pub)
        return -1;
    unsigned rank = speaker_rank(r, sub, pub);
    memset(a, 0, sizeof(*a));
    a->kind = alloc_kind(pub, t);
    a->prio = -(int)rank;
    /* last-N is about cameras: a shared screen is shown whoever speaks */
    a->allowed = a->kind == SFU_ALLOC_SCREEN || r->count <= r->last_n || rank < r->last_n;
    a->nlayers = 1;
    a->bps[0] = st->bps;
    a->cur = s->layer;
    sim_layers(r, sub, s, a, now_ms);
    return 0;
}

/* The simulcast cap for the allocator's layer k of slot s (k counts the
 * active layers, as sim_layers() gave them): its top is no cap, so a
 * layer that starts later is not held back until the next allocation. */
static int sim_cap(struct sfu_room *r, struct sfu_member *sub, const struct slot *s, int k, uint64_t now_ms)
{
    struct sfu_sim_info info;
    if (k < 0)
        return SFU_SIM_PAUSED;
    if (sfu_room_sim_info(r, sub, s->track.out_ssrc, &info, now_ms) < 0 || info.nlayers < 2)
        return SFU_SIM_ANY;
    int seen = 0, nactive = 0;
    for (size_t l = 0; l < info.nlayers && l < SFU_SIM_LAYERS; l++)
        nactive += info.active[l] != 0;
    if (k >= nactive - 1)
        return SFU_SIM_ANY;
    for (size_t l = 0; l < info.nlayers && l < SFU_SIM_LAYERS; l++)
        if (info.active[l] && seen++ == k)
            return (int)l;
    return SFU_SIM_ANY;
}

/* The allocator's result for slot s: paused or forwarded (a key frame
 * asked for when it comes back). */
static void slot_apply(struct sfu_room *r, struct sfu_member *sub, struct slot *s, int layer, uint64_t now_ms)
{
    struct sfu_track *t;
    struct track_state *st;
    if (s->track.kind == SDP_VIDEO)
        sfu_room_sim_set_max(r, sub, s->track.out_ssrc, sim_cap(r, sub, s, layer, now_ms), now_ms);
    if ((layer < 0) == (s->layer < 0)) {
        s->layer = layer;
        return;
    }
    s->layer = layer;
    if (layer < 0) {
        r->stats->bwe_paused++;
        return;
    }
    r->stats->bwe_resumed++;
    struct sfu_member *pub = room_publisher_of(r, sub, s->track.out_ssrc, &t, &st);
    if (pub && t->kind == SDP_VIDEO)
        room_request_keyframe(r, pub, t, st, now_ms);
}

/* What the streams need at least: all audio, each allowed video's lowest
 * layer, with the spare a paused one needs to come back (the estimate's
 * floor for delay, see bwe.h). */
static uint64_t lowest_need(const struct sfu_alloc_stream *a, size_t n)
{
    uint64_t need = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i].kind == SFU_ALLOC_AUDIO || a[i].allowed)
            need += a[i].cur < 0 && a[i].kind != SFU_ALLOC_AUDIO ? (uint64_t)(a[i].bps[0] * SFU_ALLOC_SPARE) + 1
                                                                 : a[i].bps[0];
    return need;
}

/* What the allocator needs of each forwarded slot of sub: a[0..n), sl[0..n). */
static size_t streams(struct sfu_room *r, struct sfu_member *sub, struct sfu_alloc_stream *a, struct slot **sl,
                      uint64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < sub->nslots && n < SFU_ALLOC_MAX; i++)
        if (sub->slots[i].active && slot_layers(r, sub, &sub->slots[i], &a[n], now_ms) == 0)
            sl[n++] = &sub->slots[i];
    return n;
}

/* The floor of sub's estimate for delay (bwe.h), before feedback moves it. */
static void set_floor(struct sfu_room *r, struct sfu_member *sub, uint64_t now_ms)
{
    struct sfu_alloc_stream a[SFU_ALLOC_MAX];
    struct slot *sl[SFU_ALLOC_MAX];
    size_t n = streams(r, sub, a, sl, now_ms);
    sfu_bwe_set_floor(&sub->bwe, lowest_need(a, n));
}

static void allocate(struct sfu_room *r, struct sfu_member *sub, uint64_t now_ms)
{
    struct sfu_alloc_stream a[SFU_ALLOC_MAX];
    struct slot *sl[SFU_ALLOC_MAX];
    size_t n = streams(r, sub, a, sl, now_ms);
    sfu_alloc_plan(a, n, sub->bwe_on ? sfu_bwe_estimate(&sub->bwe) : UINT64_MAX);
    for (size_t i = 0; i < n; i++)
        slot_apply(r, sub, sl[i], a[i].out, now_ms);
}

/* --- feedback --- */

static void observe(struct sfu_room *r, uint64_t est)
{
    static const uint64_t le[5] = { 100000, 300000, 1000000, 3000000, 10000000 };
    size_t b = 0;
    while (b < 5 && est > le[b])
        b++;
    r->stats->est_le[b]++;
    r->stats->est_count++;
    r->stats->est_sum += (double)est;
}

/* After feedback: re-allocates (at most every SFU_ROOM_ALLOC_MS) and
 * tells the member its estimate when it moved. */
static void after_feedback(struct sfu_room *r, struct sfu_member *sub, uint64_t now_ms)
{
    sub->bwe_on = 1;
    if (sub->alloc_ms && now_ms - sub->alloc_ms < SFU_ROOM_ALLOC_MS)
        return;
    sub->alloc_ms = now_ms;
    uint64_t est = sfu_bwe_estimate(&sub->bwe);
    observe(r, est);
    allocate(r, sub, now_ms);
    uint64_t diff = est > sub->told_bps ? est - sub->told_bps : sub->told_bps - est;
    if (r->ops.estimate && (diff * 10 > sub->told_bps || now_ms - sub->told_ms >= TELL_MS)) {
        sub->told_bps = est;
        sub->told_ms = now_ms;
        r->ops.estimate(sub->ud, est);
    }
}

int room_bwe_feedback(struct sfu_room *r, struct sfu_member *sub, const struct rtcp_pkt *p, uint64_t now_ms)
{
    if (p->pt == RTCP_RTPFB && p->count == RTCP_FMT_TWCC) {
        struct rtcp_twcc fb;
        int rc = rtcp_parse_twcc(p, &fb, r->fb_pkts, SFU_ROOM_FB_MAX);
        if (rc == -ENOSPC || (rc == 0 && !sub->twcc))
            return 0; /* more than we look at, or feedback we did not ask for */
        if (rc != 0)
            return -1;
        size_t n = sfu_twcc_feedback(sub->twcc, &fb, r->fb_pkts, fb.status_count, r->fb_samples, SFU_ROOM_FB_MAX);
        set_floor(r, sub, now_ms);
        sfu_bwe_feedback(&sub->bwe, r->fb_samples, n, now_ms);
        r->stats->twcc_feedback++;
    } else if (p->pt == RTCP_PSFB && p->count == RTCP_FMT_AFB) {
        struct rtcp_remb remb;
        int rc = rtcp_parse_remb(p, &remb);
        if (rc == -EINVAL)
            return 0; /* another application's feedback */
        if (rc != 0)
            return -1;
        sfu_bwe_remb(&sub->bwe, remb.bitrate, now_ms);
        r->stats->remb++;
    } else if (p->pt == RTCP_RR && sub->bwe_on) {
        sfu_bwe_idle(&sub->bwe, now_ms); /* receiver reports keep coming when nothing else does */
    } else {
        return 0;
    }
    after_feedback(r, sub, now_ms);
    return 0;
}

/* --- active speaker --- */

static struct sfu_member *current_speaker(const struct sfu_room *r)
{
    for (struct sfu_member *m = r->members; m; m = m->next)
        if (m == r->speaker.current)
            return m;
    return NULL;
}

static void speaker_tick(struct sfu_room *r, uint64_t now_ms)
{
    const void *keys[SPEAKERS_MAX];
    double lv[SPEAKERS_MAX];
    size_t n = 0;
    if (now_ms - r->speaker_ms < SFU_ROOM_SPEAKER_MS)
        return;
    r->speaker_ms = now_ms;
    for (struct sfu_member *m = r->members; m && n < SPEAKERS_MAX; m = m->next) {
        keys[n] = m;
        lv[n++] = sfu_level_get(&m->level, now_ms);
    }
    int changed = sfu_speaker_update(&r->speaker, keys, lv, n, now_ms);
    struct sfu_member *cur = current_speaker(r);
    if (!cur)
        return;
    cur->spoke_ms = now_ms;
    if (!changed)
        return;
    r->stats->speaker_changes++;
    if (r->ops.active_speaker)
        r->ops.active_speaker(cur->ud);
    if (r->count > r->last_n)
        for (struct sfu_member *m = r->members; m; m = m->next)
            allocate(r, m, now_ms);
}

void room_bwe_media(struct sfu_room *r, struct sfu_member *pub, size_t i, const struct rtp_hdr *h, uint64_t now_ms)
{
    struct track_state *st = &pub->state[i];
    const struct sfu_track *t = &pub->tracks[i];
    if (!st->rate_ms)
        st->rate_ms = now_ms;
    st->rate_bytes += h->len;
    if (now_ms - st->rate_ms >= SFU_ROOM_RATE_MS) {
        st->bps = (uint32_t)(st->rate_bytes * 8000 / (now_ms - st->rate_ms));
        st->rate_ms = now_ms;
        st->rate_bytes = 0;
    }
    uint8_t level;
    int voice;
    if (t->kind == SDP_AUDIO && t->level_id && rtp_ext_audio_level(h, t->level_id, &level, &voice) == 0)
        sfu_level_packet(&pub->level, level, now_ms);
    speaker_tick(r, now_ms);
}

void room_bwe_leave(struct sfu_room *r, struct sfu_member *m)
{
    if (r->speaker.current == m)
        r->speaker.current = NULL;
    if (r->speaker.candidate == m)
        r->speaker.candidate = NULL;
    xfree(m->twcc);
    m->twcc = NULL;
    xfree(m->twcc_in);
    m->twcc_in = NULL;
}

/* --- the room's calls --- */

void sfu_room_set_last_n(struct sfu_room *r, unsigned n)
{
    r->last_n = n ? n : SFU_ROOM_LAST_N;
}

uint64_t sfu_room_estimate(const struct sfu_member *m)
{
    return m->bwe_on ? sfu_bwe_estimate(&m->bwe) : 0;
}

const char *sfu_room_speaker(const struct sfu_room *r)
{
    const struct sfu_member *m = current_speaker(r);
    return m ? m->id : NULL;
}

void sfu_room_set_screen(struct sfu_room *r, struct sfu_member *m, const char *track_id)
{
    (void)r;
    snprintf(m->screen, sizeof(m->screen), "%s", track_id ? track_id : "");
}
