/*
 * room — the SFU's router for one room (see room.h): members, their
 * published tracks, their subscriber slots, forwarding and key frame
 * requests.
 */
#include "room.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "rtcp.h"
#include "rtp.h"
#include "srtp.h"

#define ROUTER_SSRC 0x74696E63u /* "tinc": the sender SSRC of our feedback */

/* One m-section of a member's subscriber transport. */
struct slot {
    char mid[SDP_TOKEN_MAX];
    int active;                     /* 0: its track is gone, the m-section is rejected */
    char publisher[SFU_ROOM_ID_MAX + 1];
    struct sfu_track track;         /* a copy: the slot outlives the publisher */
};

struct sfu_member {
    struct sfu_member *prev, *next;
    char id[SFU_ROOM_ID_MAX + 1];
    void *ud;
    size_t ntracks;
    struct sfu_track tracks[SFU_ROOM_TRACKS];
    size_t nslots;
    struct slot slots[SFU_ROOM_SLOTS];
    unsigned next_mid;
};

struct sfu_room {
    struct sfu_room_ops ops;
    uint8_t *scratch;
    size_t cap;
    struct sfu_room_stats *stats;
    struct sfu_member *members;
    size_t count;
};

struct sfu_room *sfu_room_new(const struct sfu_room_ops *ops, uint8_t *scratch, size_t cap,
                              struct sfu_room_stats *stats)
{
    struct sfu_room *r = xcalloc(1, sizeof(*r));
    r->ops = *ops;
    r->scratch = scratch;
    r->cap = cap;
    r->stats = stats;
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
    m->next = r->members;
    if (r->members)
        r->members->prev = m;
    r->members = m;
    r->count++;
    return m;
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
    xfree(m);
}

size_t sfu_room_count(const struct sfu_room *r)
{
    return r->count;
}

/* --- publishing --- */

/* The track of offer section o, answered with a: 0, or -1 if it has none. */
static int track_from(const struct sdp_media *o, const struct sdp_media *a, struct sfu_track *t)
{
    if (a->port == 0 || a->ncodecs == 0 || (a->dir != SDP_RECVONLY && a->dir != SDP_SENDRECV))
        return -1;
    memset(t, 0, sizeof(*t));
    t->ssrc = o->fid[0] ? o->fid[0] : o->nssrcs ? o->ssrcs[0].ssrc : 0;
    if (!t->ssrc)
        return -1;
    t->rtx_ssrc = o->fid[0] ? o->fid[1] : 0;
    t->kind = o->kind;
    memcpy(t->mid, o->mid, sizeof(t->mid));
    memcpy(t->cname, o->nssrcs ? o->ssrcs[0].cname : "-", sizeof(t->cname));
    memcpy(t->track_id, o->msid_track[0] ? o->msid_track : o->mid, sizeof(t->track_id));
    t->codec = a->codecs[0];
    return 0;
}

int sfu_room_publish(struct sfu_room *r, struct sfu_member *m, const struct sdp *offer, const struct sdp *answer)
{
    (void)r;
    m->ntracks = 0;
    for (size_t i = 0; i < offer->nmedia && i < answer->nmedia && m->ntracks < SFU_ROOM_TRACKS; i++)
        if (track_from(&offer->media[i], &answer->media[i], &m->tracks[m->ntracks]) == 0)
            m->ntracks++;
    return (int)m->ntracks;
}

const struct sfu_track *sfu_room_tracks(const struct sfu_member *m, size_t *n)
{
    *n = m->ntracks;
    return m->tracks;
}

/* The member other than `not` publishing ssrc, and the track; NULL if none. */
static struct sfu_member *publisher_of(struct sfu_room *r, const struct sfu_member *not, uint32_t ssrc,
                                       struct sfu_track **track)
{
    for (struct sfu_member *p = r->members; p; p = p->next) {
        if (p == not)
            continue;
        for (size_t i = 0; i < p->ntracks; i++) {
            if (p->tracks[i].ssrc == ssrc) {
                *track = &p->tracks[i];
                return p;
            }
        }
    }
    return NULL;
}

static struct slot *slot_of(struct sfu_member *m, uint32_t ssrc)
{
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].active && m->slots[i].track.ssrc == ssrc)
            return &m->slots[i];
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
            if (!m->slots[i].active)
                s = &m->slots[i]; /* a rejected m-section is recycled with a new mid (RFC 8829 §5.2.2) */
    }
    if (s) {
        memset(s, 0, sizeof(*s));
        snprintf(s->mid, sizeof(s->mid), "%u", m->next_mid++);
    }
    return s;
}

static void sync_slots(struct sfu_room *r, struct sfu_member *m)
{
    struct sfu_track *t;
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].active && !publisher_of(r, m, m->slots[i].track.ssrc, &t))
            m->slots[i].active = 0;
    for (struct sfu_member *p = r->members; p; p = p->next) {
        if (p == m)
            continue;
        for (size_t i = 0; i < p->ntracks; i++) {
            if (slot_of(m, p->tracks[i].ssrc))
                continue;
            struct slot *s = new_slot(m);
            if (!s)
                return;
            s->active = 1;
            s->track = p->tracks[i];
            memcpy(s->publisher, p->id, sizeof(s->publisher));
        }
    }
}

static void slot_media(const struct slot *s, struct sdp_media *d)
{
    memset(d, 0, sizeof(*d));
    d->kind = s->track.kind;
    d->port = s->active ? 9 : 0;
    snprintf(d->proto, sizeof(d->proto), "UDP/TLS/RTP/SAVPF");
    memcpy(d->mid, s->mid, sizeof(d->mid));
    d->dir = s->active ? SDP_SENDONLY : SDP_INACTIVE;
    d->setup = SDP_SETUP_PASSIVE;
    d->rtcp_mux = d->rtcp_rsize = 1;
    d->codecs[0] = s->track.codec;
    d->codecs[0].fb = s->track.kind == SDP_VIDEO ? SDP_FB_PLI | SDP_FB_FIR : 0;
    d->ncodecs = 1;
    d->ssrcs[0].ssrc = s->track.ssrc;
    memcpy(d->ssrcs[0].cname, s->track.cname, sizeof(d->ssrcs[0].cname));
    d->nssrcs = 1;
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
        if (m->slots[i].active)
            memcpy(out->bundle[out->nbundle++], m->slots[i].mid, SDP_TOKEN_MAX);
    }
    return (int)m->nslots;
}

/* --- key frames --- */

static void request_keyframe(struct sfu_room *r, struct sfu_member *pub, struct sfu_track *t, uint64_t now_ms)
{
    if (t->pli_sent && now_ms - t->last_pli_ms < SFU_ROOM_PLI_MS) {
        r->stats->pli_limited++;
        return;
    }
    int n = rtcp_build_pli(r->scratch, r->cap, ROUTER_SSRC, t->ssrc);
    if (n <= 0)
        return;
    t->pli_sent = 1;
    t->last_pli_ms = now_ms;
    r->stats->pli_sent++;
    r->ops.send_rtcp(pub->ud, r->scratch, (size_t)n, r->cap);
}

static void keyframe_for(struct sfu_room *r, struct sfu_member *sub, uint32_t ssrc, uint64_t now_ms)
{
    struct sfu_track *t;
    struct sfu_member *pub = publisher_of(r, sub, ssrc, &t);
    if (pub && t->kind == SDP_VIDEO && slot_of(sub, ssrc))
        request_keyframe(r, pub, t, now_ms);
}

void sfu_room_ready(struct sfu_room *r, struct sfu_member *m, uint64_t now_ms)
{
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].active)
            keyframe_for(r, m, m->slots[i].track.ssrc, now_ms);
}

/* --- packets --- */

void sfu_room_rtp(struct sfu_room *r, struct sfu_member *m, const uint8_t *pkt, size_t len)
{
    struct rtp_hdr h;
    if (rtp_parse(pkt, len, &h) != RTP_OK) {
        r->stats->bad_rtp++;
        return;
    }
    int known = 0;
    for (size_t i = 0; i < m->ntracks && !known; i++)
        known = m->tracks[i].ssrc == h.ssrc;
    if (!known) {
        r->stats->unknown_ssrc++;
        return;
    }
    for (struct sfu_member *o = r->members; o; o = o->next) {
        if (o == m || !slot_of(o, h.ssrc) || len + SFU_SRTP_TRAILER_MAX > r->cap)
            continue;
        memcpy(r->scratch, pkt, len);
        r->stats->forwarded_packets++;
        r->stats->forwarded_bytes += len;
        r->ops.send_rtp(o->ud, r->scratch, len, r->cap);
    }
}

static void feedback(struct sfu_room *r, struct sfu_member *m, const struct rtcp_pkt *p, uint64_t now_ms)
{
    struct rtcp_fb fb;
    struct rtcp_fir_entry fir[4];
    uint32_t sender;
    if (p->pt != RTCP_PSFB)
        return;
    if (p->count == RTCP_FMT_PLI && rtcp_parse_pli(p, &fb) == 0) {
        keyframe_for(r, m, fb.media_ssrc, now_ms);
    } else if (p->count == RTCP_FMT_FIR) {
        int n = rtcp_parse_fir(p, &sender, fir, 4);
        for (int i = 0; i < n && i < 4; i++)
            keyframe_for(r, m, fir[i].ssrc, now_ms);
    }
}

void sfu_room_rtcp(struct sfu_room *r, struct sfu_member *m, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
    struct rtcp_iter it;
    struct rtcp_pkt p;
    rtcp_iter_init(&it, pkt, len);
    enum rtcp_status st = rtcp_iter_next(&it, &p);
    for (; st == RTCP_OK; st = rtcp_iter_next(&it, &p))
        feedback(r, m, &p, now_ms);
    if (st == RTCP_MALFORMED)
        r->stats->bad_rtp++;
}
