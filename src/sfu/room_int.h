/*
 * room_int — the router's own types, shared by room.c (members, tracks,
 * slots, offers, key frames) and room_media.c (packets, NACK/RTX, reports).
 * Not for other files.
 */
#ifndef TINCAN_SFU_ROOM_INT_H
#define TINCAN_SFU_ROOM_INT_H

#include "pktcache.h"
#include "rewrite.h"
#include "room.h"
#include "rtcp.h"
#include "rxstats.h"
#include "bwe.h"
#include "speaker.h"
#include "twcc.h"
#include "twcc_rx.h"
#include "simulcast.h"

#define SFU_ROOM_PKT_MAX 2048        /* longer RTP is dropped (browsers send about 1200) */
#define ROUTER_SSRC 0x74696E63u /* "tinc": the sender SSRC of our feedback and reports */
#define SFU_ROOM_FB_MAX 4096   /* transport-cc statuses looked at per feedback */
#define SLOT_IX_BITS 7         /* a member's index of its active slots: 128 entries */
#define SLOT_IX_SIZE (1u << SLOT_IX_BITS)
_Static_assert(SFU_ROOM_SLOTS <= SLOT_IX_SIZE / 2 && SFU_ROOM_SLOTS < 256, "slot index: half empty, uint8_t");

/* What the router keeps about a published track besides its description. */
struct track_state {
    struct sfu_sim_track sim;       /* visible entry: its layers' sizes, activity, bitrates */
    struct sfu_pktcache *cache;     /* video only; NULL for audio */
    struct sfu_rxstats rx;
    uint64_t last_pli_ms;
    int pli_sent;
    int pli_due;                    /* a request came within the limit: one PLI once it passes */
    uint16_t highest_in;            /* the newest sequence number from the publisher */
    int have_in;
    double up_tokens;               /* NACKs we may still send upstream */
    uint64_t up_ms;
    uint64_t rate_ms, rate_bytes;   /* the bitrate window being filled */
    uint32_t bps;                   /* the publisher's bitrate over the last full window */
};

/* One m-section of a member's subscriber transport. */
struct slot {
    char mid[SDP_TOKEN_MAX];
    int active;                     /* 0: its track is gone, the m-section is rejected */
    int settled;                    /* rejected in an offer the browser answered: may be recycled */
    int parked;                     /* the BUNDLE tag whose track is gone: inactive, never rejected */
    int rtx_ok;                     /* the subscriber's answer accepted our RTX */
    uint16_t rtx_seq;               /* the next sequence number of our RTX stream to it */
    int layer;                      /* the allocator's say (room_bwe.c): 0 forwarded, -1 paused */
    char publisher[SFU_ROOM_ID_MAX + 1];
    struct sfu_track track;         /* a copy: the slot outlives the publisher */
    struct sfu_sim_fwd fwd;         /* the layer it gets, its rewriting */
};

struct sfu_member {
    struct sfu_member *prev, *next;
    char id[SFU_ROOM_ID_MAX + 1];
    void *ud;
    size_t ntracks, nvisible;       /* entries; of them the visible ones (first) */
    struct sfu_track tracks[SFU_ROOM_TRACKS];
    struct track_state state[SFU_ROOM_TRACKS];
    size_t nslots;
    struct slot slots[SFU_ROOM_SLOTS];
    /* The active slots by out_ssrc, for room_slot_of() on every packet of
     * fan-out: open addressing, linear probing; an entry is a slot's
     * index + 1, 0 is empty. Kept in step by sync_slots(), the only place
     * slots become active or inactive. */
    uint8_t slot_ix[SLOT_IX_SIZE];
    unsigned next_mid;
    int short_of_slots;             /* a track found no slot in the last offer */
    size_t nviews;                  /* sfu_room_sim_view() reports, kept for slots made later */
    struct { char publisher[SFU_ROOM_ID_MAX + 1]; int want_h; } views[SFU_ROOM_SLOTS];
    double nack_tokens;             /* retransmissions this subscriber may still have */
    uint64_t nack_ms;
    uint64_t last_rr_ms;
    int rr_started;
    /* bandwidth estimation of its subscriber transport (room_bwe.c) */
    struct sfu_twcc *twcc;          /* send history; allocated when its answer took transport-cc */
    struct sfu_bwe bwe;
    uint8_t tcc_id, ast_id;         /* the extension ids its answer took, 0: none */
    /* as a publisher: transport-cc feedback for its browser's own estimate */
    struct sfu_twcc_rx *twcc_in;    /* allocated when its offer took transport-cc */
    uint8_t tcc_in_id;              /* its transport-wide seq extension id, 0: none */
    int bwe_on;                     /* feedback came: the estimate limits what it gets */
    uint64_t alloc_ms, told_bps, told_ms;
    /* as a speaker */
    struct sfu_level level;
    uint64_t spoke_ms;              /* last time it was the active speaker; 0: never */
    unsigned join_seq;
    char screen[SDP_TOKEN_MAX];     /* the msid track id of its screen share, "" when none */
};

struct sfu_room {
    struct sfu_room_ops ops;
    uint8_t *scratch;
    size_t cap;
    struct sfu_room_stats *stats;
    struct sfu_member *members;
    size_t count;
    uint32_t ssrc_seed;             /* for outgoing SSRCs that replace colliding ones */
    unsigned last_n, joins;
    struct sfu_speaker speaker;
    uint64_t speaker_ms;
    struct rtcp_twcc_packet fb_pkts[SFU_ROOM_FB_MAX];
    struct sfu_twcc_sample fb_samples[SFU_ROOM_FB_MAX];
    uint8_t fwd[SFU_ROOM_PKT_MAX];  /* a packet being rewritten or repaired */
};

/* room.c */
/* The member other than `not` sending out_ssrc, its track and state. */
struct sfu_member *room_publisher_of(struct sfu_room *r, const struct sfu_member *not, uint32_t out_ssrc,
                                     struct sfu_track **t, struct track_state **st);
/* m's active slot of out_ssrc, or NULL. */
struct slot *room_slot_of(struct sfu_member *m, uint32_t out_ssrc);
/* A PLI to pub about t, unless one went less than SFU_ROOM_PLI_MS ago
 * (then one is due when that time is up: room_keyframe_due()). */
void room_request_keyframe(struct sfu_room *r, struct sfu_member *pub, struct sfu_track *t,
                           struct track_state *st, uint64_t now_ms);
/* Sends the PLI due about pub's track i once the limit allows (called
 * with each of its packets), so a request within the limit is late, not lost. */
void room_keyframe_due(struct sfu_room *r, struct sfu_member *pub, size_t i, uint64_t now_ms);

/* The entry of pub for layer l of its visible track t (t itself if plain). */
struct sfu_track *room_layer(struct sfu_member *pub, const struct sfu_track *t, int l, struct track_state **st);

/* room_sim.c: a new slot s of m takes the size m last reported for its publisher. */
void room_sim_slot_new(struct sfu_member *m, struct slot *s);

/* room_media.c */
/* A subscriber's generic NACK: answered; 0, or -1 if malformed. */
int room_nack(struct sfu_room *r, struct sfu_member *sub, const struct rtcp_pkt *p, uint64_t now_ms);
/* What to do with one packet of a compound: 0, or -1 if it is malformed. */
typedef int (*room_rtcp_fn)(struct sfu_room *r, struct sfu_member *m, const struct rtcp_pkt *p, uint64_t now_ms);
/* Walks the compound pkt[0..len) from m through fn; a malformed compound
 * (or packet in it) counts once in bad_rtcp. */
void room_walk_rtcp(struct sfu_room *r, struct sfu_member *m, const uint8_t *pkt, size_t len, uint64_t now_ms,
                    room_rtcp_fn fn);

/* room_bwe.c */
/* A packet of pub's track i (parsed as h) came in: its bitrate, and its
 * audio level for the active speaker. */
void room_bwe_media(struct sfu_room *r, struct sfu_member *pub, size_t i, const struct rtp_hdr *h, uint64_t now_ms);
/* True if what leaves as slot s goes to sub now (not paused by the allocator). */
int room_bwe_forwards(const struct slot *s);
/* Copies the packet h (from src; may be r->scratch itself) into r->scratch
 * for sub, with our extension block if sub negotiated one. Returns the
 * length, or -1 if it does not fit. */
int room_bwe_out(struct sfu_room *r, struct sfu_member *sub, const struct rtp_hdr *h, uint64_t now_ms);
/* A subscriber's transport-cc feedback, REMB or receiver report (the
 * clock of sfu_bwe_idle()): 0, or -1 if malformed. */
int room_bwe_feedback(struct sfu_room *r, struct sfu_member *sub, const struct rtcp_pkt *p, uint64_t now_ms);
/* sub's answer: the extension ids it took. */
void room_bwe_answered(struct sfu_member *sub, const struct sdp *answer);
/* Our offer's extensions and feedback for one m-section. */
void room_bwe_offer(struct sdp_media *d);
void room_bwe_leave(struct sfu_room *r, struct sfu_member *m);
/* pub's transport took transport-cc in our answer (or no longer does). */
void room_bwe_published(struct sfu_member *pub, const struct sdp *answer);
/* Any RTP packet from pub's transport (media, RTX, padding, unknown SSRC):
 * its transport-wide seq is noted, and a feedback goes when one is due. */
void room_bwe_arrival(struct sfu_room *r, struct sfu_member *pub, const struct rtp_hdr *h, uint64_t now_ms);

#endif
