/*
 * room — the SFU's router for one room (see room.h): members, their
 * published tracks and outgoing SSRCs, their subscriber slots and offers,
 * and key frame requests. Packets, NACK/RTX and reports are in
 * room_media.c.
 */
#include "room.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "room_int.h"
#include "rtcp.h"
#include "srtp.h"

struct sfu_room *sfu_room_new(const struct sfu_room_ops *ops, uint8_t *scratch, size_t cap,
                              struct sfu_room_stats *stats)
{
    struct sfu_room *r = xcalloc(1, sizeof(*r));
    r->ops = *ops;
    r->scratch = scratch;
    r->cap = cap;
    r->stats = stats;
    r->ssrc_seed = 0x9E3779B9u;
    r->last_n = SFU_ROOM_LAST_N;
    return r;
}

void sfu_room_free(struct sfu_room *r)
{
    if (!r)
        return;
    while (r->members)
        sfu_room_leave(r, r->members);
    xfree(r);
}

struct sfu_member *sfu_room_join(struct sfu_room *r, const char *id, void *ud)
{
    struct sfu_member *m = xcalloc(1, sizeof(*m));
    snprintf(m->id, sizeof(m->id), "%s", id);
    m->ud = ud;
    m->nack_tokens = SFU_ROOM_NACK_RATE;
    m->join_seq = r->joins++;
    sfu_bwe_init(&m->bwe);
    m->next = r->members;
    if (r->members)
        r->members->prev = m;
    r->members = m;
    r->count++;
    return m;
}

static void free_tracks(struct sfu_member *m)
{
    for (size_t i = 0; i < m->ntracks; i++)
        sfu_pktcache_free(m->state[i].cache);
    m->ntracks = m->nvisible = 0;
}

void sfu_room_leave(struct sfu_room *r, struct sfu_member *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        r->members = m->next;
    if (m->next)
        m->next->prev = m->prev;
    r->count--;
    free_tracks(m);
    room_bwe_leave(r, m);
    xfree(m);
}

size_t sfu_room_count(const struct sfu_room *r)
{
    return r->count;
}

/* --- publishing --- */

/* The RTX payload type the answer a negotiated for its codec, or -1. */
static int rtx_pt_of(const struct sdp_media *a)
{
    for (size_t i = 1; i < a->ncodecs; i++)
        if (strcasecmp(a->codecs[i].name, "rtx") == 0 && a->codecs[i].apt == a->codecs[0].pt)
            return a->codecs[i].pt;
    return -1;
}

#define EXT_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define EXT_RID "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define EXT_RRID "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"

/* The send rids of o, lowest layer first (q, h, f when so named, else as
 * listed), at most SFU_SIM_LAYERS. */
static size_t send_rids(const struct sdp_media *o, const char *out[SFU_SIM_LAYERS])
{
    static const char *const qhf[] = { "q", "h", "f" };
    size_t n = 0, named = 0;
    for (size_t i = 0; i < o->nrids && n < SFU_SIM_LAYERS; i++)
        if (o->rids[i].send)
            out[n++] = o->rids[i].id;
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < n; i++)
            named += strcmp(out[i], qhf[k]) == 0;
    if (named == n)
        for (size_t k = 0, j = 0; k < 3; k++)
            for (size_t i = 0; i < o->nrids; i++)
                if (o->rids[i].send && strcmp(o->rids[i].id, qhf[k]) == 0 && j < n)
                    out[j++] = o->rids[i].id;
    return n;
}

/* The track of offer section o, answered with a: 0, or -1 if it has none.
 * A video section with two or more send rids and the rid extension is a
 * simulcast track whose SSRCs are learnt from the packets. */
static int track_from(const struct sdp_media *o, const struct sdp_media *a, struct sfu_track *t,
                      const char *rids[SFU_SIM_LAYERS], size_t *nrids)
{
    if (a->port == 0 || a->ncodecs == 0 || (a->dir != SDP_RECVONLY && a->dir != SDP_SENDRECV))
        return -1;
    memset(t, 0, sizeof(*t));
    t->mid_ext = sdp_extmap_id(a, EXT_MID);
    t->rid_ext = sdp_extmap_id(a, EXT_RID);
    t->rrid_ext = sdp_extmap_id(a, EXT_RRID);
    *nrids = o->kind == SDP_VIDEO && t->rid_ext ? send_rids(o, rids) : 0;
    if (*nrids < 2)
        *nrids = 0;
    t->ssrc = *nrids ? 0 : o->fid[0] ? o->fid[0] : o->nssrcs ? o->ssrcs[0].ssrc : 0;
    if (!t->ssrc && !*nrids)
        return -1;
    t->rtx_ssrc = !*nrids && o->fid[0] ? o->fid[1] : 0;
    t->nfids = o->nfids;
    memcpy(t->fids, o->fids, sizeof(t->fids));
    t->rtx_pt = rtx_pt_of(a);
    t->kind = o->kind;
    t->nlayers = 1;
    memcpy(t->mid, o->mid, sizeof(t->mid));
    snprintf(t->cname, sizeof(t->cname), "%s", o->nssrcs ? o->ssrcs[0].cname : "-");
    memcpy(t->track_id, o->msid_track[0] ? o->msid_track : o->mid, sizeof(t->track_id));
    t->codec = a->codecs[0];
    if (t->kind == SDP_AUDIO)
        t->level_id = sdp_extmap_id(a, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
    return 0;
}

/* Adds the entries of layers 1.. of visible entry v (layer 0) to ts[*n..). */
static void add_layers(struct sfu_track *ts, size_t v, size_t *n, const char *rids[SFU_SIM_LAYERS],
                       size_t nrids)
{
    struct sfu_track *t = &ts[v];
    snprintf(t->rid, sizeof(t->rid), "%s", rids[0]);
    t->group = (uint8_t)v;
    t->layer_entry[0] = (uint8_t)v;
    for (size_t l = 1; l < nrids && *n < SFU_ROOM_TRACKS; l++) {
        struct sfu_track *e = &ts[(*n)++];
        *e = *t;
        e->layer = (uint8_t)l;
        snprintf(e->rid, sizeof(e->rid), "%s", rids[l]);
        t->layer_entry[l] = (uint8_t)(*n - 1);
        t->nlayers = (uint8_t)(l + 1);
    }
}

/* True if some track of the room (m's first n included) leaves as ssrc. */
static int ssrc_taken(const struct sfu_room *r, const struct sfu_member *m, size_t n, uint32_t ssrc)
{
    if (ssrc == 0 || ssrc == ROUTER_SSRC)
        return 1;
    for (const struct sfu_member *p = r->members; p; p = p->next) {
        size_t k = p == m ? n : p->ntracks;
        for (size_t i = 0; i < k; i++)
            if (p->tracks[i].out_ssrc == ssrc || p->tracks[i].out_rtx_ssrc == ssrc)
                return 1;
    }
    return 0;
}

/* ssrc if no track leaves as it yet, else a fresh one (xorshift32). */
static uint32_t unique_ssrc(struct sfu_room *r, const struct sfu_member *m, size_t n, uint32_t ssrc)
{
    while (ssrc_taken(r, m, n, ssrc)) {
        uint32_t x = r->ssrc_seed ^ ssrc;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        r->ssrc_seed = x;
        ssrc = x;
    }
    return ssrc;
}

/* Track n of m is new: outgoing SSRCs (a layer past the first has
 * none: it leaves as its visible entry), cache. */
static void start_track(struct sfu_room *r, struct sfu_member *m, size_t n)
{
    struct sfu_track *t = &m->tracks[n];
    struct track_state *st = &m->state[n];
    memset(st, 0, sizeof(*st));
    st->up_tokens = SFU_ROOM_NACK_UP_BURST;
    if (t->kind == SDP_VIDEO)
        st->cache = sfu_pktcache_new();
    st->sim.nlayers = t->nlayers;
    t->out_ssrc = t->out_rtx_ssrc = 0;
    if (t->layer > 0)
        return;
    t->out_ssrc = unique_ssrc(r, m, n, t->ssrc);
    if (t->out_ssrc != t->ssrc)
        r->stats->ssrc_rewritten++;
    t->out_rtx_ssrc = unique_ssrc(r, m, n + 1, t->rtx_ssrc ? t->rtx_ssrc : t->out_ssrc ^ 0x5A5A5A5Au);
}

/* The old entry of m matching t (before this publish): by SSRC, or for a
 * layer whose SSRC is learnt, by mid and layer. -1 if none. */
static int old_track(const struct sfu_track *old, size_t nold, const struct sfu_track *t)
{
    for (size_t i = 0; i < nold; i++)
        if (old[i].kind == t->kind && (t->ssrc ? old[i].ssrc == t->ssrc
                                               : !old[i].rid[0] ? 0 : strcmp(old[i].mid, t->mid) == 0 &&
                                                                       old[i].layer == t->layer))
            return (int)i;
    return -1;
}

/* m's entries from offer/answer into m->tracks: visible ones first.
 * Returns the number of visible entries. */
static size_t collect(struct sfu_member *m, const struct sdp *offer, const struct sdp *answer)
{
    const char *rids[SDP_MAX_MEDIA][SFU_SIM_LAYERS];
    size_t nrids[SDP_MAX_MEDIA], from[SFU_ROOM_TRACKS], n = 0;
    for (size_t i = 0; i < offer->nmedia && i < answer->nmedia && n < SFU_ROOM_TRACKS; i++)
        if (track_from(&offer->media[i], &answer->media[i], &m->tracks[n], rids[i], &nrids[i]) == 0)
            from[n++] = i;
    size_t nvis = n;
    for (size_t v = 0; v < nvis; v++) {
        m->tracks[v].group = (uint8_t)v;
        m->tracks[v].layer_entry[0] = (uint8_t)v;
        if (nrids[from[v]])
            add_layers(m->tracks, v, &n, rids[from[v]], nrids[from[v]]);
    }
    m->ntracks = n;
    return nvis;
}

int sfu_room_publish(struct sfu_room *r, struct sfu_member *m, const struct sdp *offer, const struct sdp *answer)
{
    struct sfu_track old[SFU_ROOM_TRACKS];
    struct track_state old_state[SFU_ROOM_TRACKS];
    size_t nold = m->ntracks;
    int moved[SFU_ROOM_TRACKS] = { 0 };
    memcpy(old, m->tracks, sizeof(old));
    memcpy(old_state, m->state, sizeof(old_state));
    size_t nvis = collect(m, offer, answer), n = m->ntracks;
    m->ntracks = 0; /* while choosing SSRCs, only the new ones count */
    for (size_t i = 0; i < n; i++, m->ntracks++) {
        struct sfu_track *t = &m->tracks[i];
        int k = old_track(old, nold, t);
        if (k >= 0 && !moved[k]) {
            t->out_ssrc = old[k].out_ssrc;
            t->out_rtx_ssrc = old[k].out_rtx_ssrc;
            if (!t->ssrc) { /* learnt from its packets */
                t->ssrc = old[k].ssrc;
                t->rtx_ssrc = old[k].rtx_ssrc;
            }
            m->state[i] = old_state[k];
            m->state[i].sim.nlayers = t->nlayers;
            moved[k] = 1;
        } else {
            start_track(r, m, i);
        }
    }
    for (size_t i = 0; i < nold; i++)
        if (!moved[i])
            sfu_pktcache_free(old_state[i].cache);
    m->nvisible = nvis;
    room_bwe_published(m, answer);
    return (int)nvis;
}

void sfu_room_unpublish(struct sfu_room *r, struct sfu_member *m)
{
    (void)r;
    free_tracks(m);
}

const struct sfu_track *sfu_room_tracks(const struct sfu_member *m, size_t *n)
{
    *n = m->nvisible;
    return m->tracks;
}

struct sfu_member *room_publisher_of(struct sfu_room *r, const struct sfu_member *not, uint32_t out_ssrc,
                                     struct sfu_track **t, struct track_state **st)
{
    for (struct sfu_member *p = r->members; p; p = p->next) {
        if (p == not || out_ssrc == 0)
            continue;
        for (size_t i = 0; i < p->nvisible; i++) {
            if (p->tracks[i].out_ssrc == out_ssrc) {
                *t = &p->tracks[i];
                *st = &p->state[i];
                return p;
            }
        }
    }
    return NULL;
}

/* Where out_ssrc's probe sequence starts in a slot index (Fibonacci hashing:
 * SSRCs chosen by browsers are random, ours may be consecutive). */
static size_t slot_hash(uint32_t out_ssrc)
{
    return (uint32_t)(out_ssrc * 0x9E3779B1u) >> (32 - SLOT_IX_BITS);
}

/* Puts slot i of m, active, in m's index (after any of the same SSRC).
 * The index has room: it holds at most the SFU_ROOM_SLOTS active slots. */
static void slot_ix_add(struct sfu_member *m, size_t i)
{
    size_t h = slot_hash(m->slots[i].track.out_ssrc);
    for (size_t k = 0; k < SLOT_IX_SIZE && m->slot_ix[h]; k++)
        h = (h + 1) & (SLOT_IX_SIZE - 1);
    if (!m->slot_ix[h])
        m->slot_ix[h] = (uint8_t)(i + 1);
}

/* Remakes m's index from its active slots in slot order, so that a look-up
 * finds the first active slot of an SSRC, as a scan of the slots would. */
static void slot_ix_rebuild(struct sfu_member *m)
{
    memset(m->slot_ix, 0, sizeof(m->slot_ix));
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].active)
            slot_ix_add(m, i);
}

struct slot *room_slot_of(struct sfu_member *m, uint32_t out_ssrc)
{
    /* At most half the entries are used: every probe sequence ends at an
     * empty one (the bound is for safety's sake). */
    size_t h = slot_hash(out_ssrc);
    for (size_t k = 0; k < SLOT_IX_SIZE && m->slot_ix[h]; k++, h = (h + 1) & (SLOT_IX_SIZE - 1)) {
        struct slot *s = &m->slots[m->slot_ix[h] - 1];
        if (s->track.out_ssrc == out_ssrc && s->active)
            return s;
    }
    return NULL;
}

/* --- subscriber slots and offers --- */

static struct slot *new_slot(struct sfu_member *m)
{
    struct slot *s = NULL;
    if (m->nslots < SFU_ROOM_SLOTS) {
        s = &m->slots[m->nslots++];
    } else {
        for (size_t i = 0; i < m->nslots && !s; i++)
            if (!m->slots[i].active && m->slots[i].settled)
                s = &m->slots[i]; /* a rejected m-section is recycled with a new mid (RFC 8829 §5.2.2) */
    /* Only one rejected in the descriptions both sides have applied: a
     * browser refuses a new mid where its current m-section is not
     * rejected ("the order of m-lines ... doesn't match"). */
    }
    if (s) {
        memset(s, 0, sizeof(*s));
        snprintf(s->mid, sizeof(s->mid), "%u", m->next_mid++);
        s->rtx_seq = (uint16_t)(m->next_mid * 7919u);
    }
    return s;
}

/* True if the slot's track is still published by the member it came from. */
static int slot_alive(struct sfu_room *r, struct sfu_member *m, const struct slot *s)
{
    struct sfu_track *t;
    struct track_state *st;
    struct sfu_member *p = room_publisher_of(r, m, s->track.out_ssrc, &t, &st);
    if (!p || strcmp(p->id, s->publisher) != 0)
        return 0; /* a simulcast track's SSRCs are learnt after the slot was made */
    return t->nlayers > 1 ? strcmp(t->mid, s->track.mid) == 0 : t->ssrc == s->track.ssrc;
}

/* A slot whose track is gone. The first one is the BUNDLE group's tag
 * (RFC 8843: the transport is the tagged m-section's): were it rejected,
 * the tag would move to another mid and Chromium would make a new
 * transport for it, which sits "connecting" while the old one carried the
 * media. So it is parked instead: still bundled, a=inactive, no stream. */
static void slot_gone(struct sfu_member *m, struct slot *s)
{
    s->active = 0;
    s->parked = s == &m->slots[0];
}

static void sync_slots(struct sfu_room *r, struct sfu_member *m)
{
    m->short_of_slots = 0;
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].active && !slot_alive(r, m, &m->slots[i]))
            slot_gone(m, &m->slots[i]);
    slot_ix_rebuild(m);
    for (struct sfu_member *p = r->members; p; p = p->next) {
        if (p == m)
            continue;
        for (size_t i = 0; i < p->nvisible; i++) {
            if (room_slot_of(m, p->tracks[i].out_ssrc))
                continue;
            struct slot *s = new_slot(m);
            if (!s) {
                m->short_of_slots = 1; /* offered once a rejected slot is settled */
                return;
            }
            s->active = 1;
            s->track = p->tracks[i];
            sfu_sim_fwd_init(&s->fwd, s->track.out_ssrc);
            room_sim_slot_new(m, s);
            memcpy(s->publisher, p->id, sizeof(s->publisher));
            slot_ix_add(m, (size_t)(s - m->slots)); /* not in the index: room_slot_of() found none */
        }
    }
}

/* The RTX codec of our offer for t (apt = its codec). */
static void rtx_codec(const struct sfu_track *t, struct sdp_codec *c)
{
    memset(c, 0, sizeof(*c));
    c->pt = (uint8_t)t->rtx_pt;
    snprintf(c->name, sizeof(c->name), "rtx");
    c->clock = t->codec.clock;
    snprintf(c->fmtp, sizeof(c->fmtp), "apt=%u", t->codec.pt);
    c->apt = t->codec.pt;
}

static void slot_ssrcs(const struct slot *s, struct sdp_media *d)
{
    d->ssrcs[0].ssrc = s->track.out_ssrc;
    memcpy(d->ssrcs[0].cname, s->track.cname, sizeof(d->ssrcs[0].cname));
    d->nssrcs = 1;
    if (d->ncodecs == 2) {
        d->ssrcs[1].ssrc = s->track.out_rtx_ssrc;
        memcpy(d->ssrcs[1].cname, s->track.cname, sizeof(d->ssrcs[1].cname));
        d->nssrcs = 2;
        d->fid[0] = s->track.out_ssrc;
        d->fid[1] = s->track.out_rtx_ssrc;
    }
}

static void slot_media(const struct slot *s, struct sdp_media *d)
{
    memset(d, 0, sizeof(*d));
    d->kind = s->track.kind;
    d->port = s->active || s->parked ? 9 : 0;
    snprintf(d->proto, sizeof(d->proto), "UDP/TLS/RTP/SAVPF");
    memcpy(d->mid, s->mid, sizeof(d->mid));
    d->dir = s->active ? SDP_SENDONLY : SDP_INACTIVE;
    d->setup = SDP_SETUP_PASSIVE;
    d->rtcp_mux = d->rtcp_rsize = 1;
    d->codecs[0] = s->track.codec;
    d->codecs[0].fb = s->track.kind == SDP_VIDEO ? SDP_FB_NACK | SDP_FB_PLI | SDP_FB_FIR : 0;
    d->ncodecs = 1;
    if (s->track.kind == SDP_VIDEO && s->track.rtx_pt >= 0)
        rtx_codec(&s->track, &d->codecs[d->ncodecs++]);
    if (d->port)
        room_bwe_offer(d);
    if (!s->active)
        return; /* no stream: the browser ends the track it had here */
    slot_ssrcs(s, d);
    snprintf(d->msid_stream, sizeof(d->msid_stream), "%s", s->publisher);
    memcpy(d->msid_track, s->track.track_id, sizeof(d->msid_track));
}

int sfu_room_offer(struct sfu_room *r, struct sfu_member *m, struct sdp *out)
{
    sync_slots(r, m);
    memset(out, 0, sizeof(*out));
    out->ice_lite = 1;
    out->nmedia = m->nslots;
    for (size_t i = 0; i < m->nslots; i++) {
        slot_media(&m->slots[i], &out->media[i]);
        if (out->media[i].port)
            memcpy(out->bundle[out->nbundle++], m->slots[i].mid, SDP_TOKEN_MAX);
    }
    return (int)m->nslots;
}

/* True if answer section a accepted RTX for codec pt. */
static int accepts_rtx(const struct sdp_media *a, uint8_t pt)
{
    if (a->port == 0)
        return 0;
    for (size_t i = 0; i < a->ncodecs; i++)
        if (strcasecmp(a->codecs[i].name, "rtx") == 0 && a->codecs[i].apt == pt)
            return 1;
    return 0;
}

int sfu_room_answered(struct sfu_room *r, struct sfu_member *m, const struct sdp *answer)
{
    (void)r;
    int more = 0;
    for (size_t i = 0; i < m->nslots; i++) {
        struct slot *s = &m->slots[i];
        s->settled = !s->active && !s->parked;
        more |= s->settled && m->short_of_slots;
        s->rtx_ok = 0;
        for (size_t k = 0; k < answer->nmedia && s->track.rtx_pt >= 0; k++)
            if (strcmp(answer->media[k].mid, s->mid) == 0)
                s->rtx_ok = accepts_rtx(&answer->media[k], s->track.codec.pt);
    }
    room_bwe_answered(m, answer);
    return more;
}

/* --- key frames --- */

void room_request_keyframe(struct sfu_room *r, struct sfu_member *pub, struct sfu_track *t,
                           struct track_state *st, uint64_t now_ms)
{
    if (st->pli_sent && now_ms - st->last_pli_ms < SFU_ROOM_PLI_MS) {
        r->stats->pli_limited++;
        st->pli_due = 1;
        return;
    }
    int n = rtcp_build_pli(r->scratch, r->cap, ROUTER_SSRC, t->ssrc);
    if (n <= 0)
        return;
    st->pli_sent = 1;
    st->pli_due = 0;
    st->last_pli_ms = now_ms;
    r->stats->pli_sent++;
    r->ops.send_rtcp(pub->ud, r->scratch, (size_t)n, r->cap);
}

void room_keyframe_due(struct sfu_room *r, struct sfu_member *pub, size_t i, uint64_t now_ms)
{
    struct track_state *st = &pub->state[i];
    if (st->pli_due && now_ms - st->last_pli_ms >= SFU_ROOM_PLI_MS)
        room_request_keyframe(r, pub, &pub->tracks[i], st, now_ms);
}

struct sfu_track *room_layer(struct sfu_member *pub, const struct sfu_track *t, int l, struct track_state **st)
{
    size_t k = l > 0 && l < t->nlayers ? t->layer_entry[l] : t->group;
    *st = &pub->state[k];
    return &pub->tracks[k];
}

/* A key frame of what sub gets of out_ssrc (the layer it waits for, else
 * the one it gets). */
static void keyframe_for(struct sfu_room *r, struct sfu_member *sub, uint32_t out_ssrc, uint64_t now_ms)
{
    struct sfu_track *t;
    struct track_state *st;
    struct sfu_member *pub = room_publisher_of(r, sub, out_ssrc, &t, &st);
    struct slot *s = pub ? room_slot_of(sub, out_ssrc) : NULL;
    if (!s || t->kind != SDP_VIDEO)
        return;
    int l = s->fwd.target >= 0 ? s->fwd.target : s->fwd.cur;
    struct sfu_track *lt = room_layer(pub, t, l < 0 ? 0 : l, &st);
    if (lt->ssrc)
        room_request_keyframe(r, pub, lt, st, now_ms);
}

void sfu_room_ready(struct sfu_room *r, struct sfu_member *m, uint64_t now_ms)
{
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].active)
            keyframe_for(r, m, m->slots[i].track.out_ssrc, now_ms);
}

/* --- feedback from subscribers --- */

/* One packet of a subscriber's compound: 0, or -1 if malformed. */
static int feedback(struct sfu_room *r, struct sfu_member *m, const struct rtcp_pkt *p, uint64_t now_ms)
{
    struct rtcp_fb fb;
    struct rtcp_fir_entry fir[4];
    uint32_t sender;
    if (p->pt == RTCP_RTPFB && p->count == RTCP_FMT_NACK)
        return room_nack(r, m, p, now_ms);
    if ((p->pt == RTCP_RTPFB && p->count == RTCP_FMT_TWCC) || (p->pt == RTCP_PSFB && p->count == RTCP_FMT_AFB)
        || p->pt == RTCP_RR)
        return room_bwe_feedback(r, m, p, now_ms);
    if (p->pt == RTCP_PSFB && p->count == RTCP_FMT_PLI) {
        if (rtcp_parse_pli(p, &fb) != 0)
            return -1;
        keyframe_for(r, m, fb.media_ssrc, now_ms);
    } else if (p->pt == RTCP_PSFB && p->count == RTCP_FMT_FIR) {
        int n = rtcp_parse_fir(p, &sender, fir, 4);
        for (int i = 0; i < n && i < 4; i++)
            keyframe_for(r, m, fir[i].ssrc, now_ms);
        return n < 0 ? -1 : 0;
    }
    return 0;
}

void sfu_room_rtcp(struct sfu_room *r, struct sfu_member *m, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
    room_walk_rtcp(r, m, pkt, len, now_ms, feedback);
}
