/*
 * room — the SFU's router for one room: who publishes which tracks, what
 * each member's subscriber transport carries, and where each packet goes.
 *
 * A member publishes tracks (from its publisher offer and our answer:
 * SSRC, RTX SSRC and payload type, kind, mid, codec, msid) and subscribes
 * to everyone else's. Each member has subscriber slots: the m-sections of
 * the offer we make to its subscriber transport, one per track of the
 * others, in a fixed order (a gone track's slot stays, rejected, because
 * m-lines never move).
 *
 * Every track leaves with an SSRC of its own in the room: the publisher's,
 * unless another track already sends as that one (two browsers may pick
 * the same random SSRC), then a new one; likewise for its RTX stream.
 * Sequence numbers and timestamps go through a rewriter (rewrite.h) that
 * keeps them the publisher's until a source switch (simulcast layers,
 * later) needs them to continue.
 *
 * Media: a publisher's RTP arrives here unprotected (once, by its
 * session), is counted for our receiver reports, rewritten, kept in the
 * track's packet cache (video) and copied for every member whose
 * subscriber slots hold the track into the scratch buffer the caller
 * gave, then handed to send_rtp, which protects it with that member's
 * context. The publisher's RTX packets are turned back into the packets
 * they repair and go the same way when we had lost them.
 *
 * Feedback from subscribers: PLI and FIR about a track become one PLI to
 * its publisher, at most one per SFU_ROOM_PLI_MS per track; a subscriber
 * that becomes ready asks for a key frame the same way. A generic NACK is
 * answered from the cache, as RTX (RFC 4588) when the subscriber's answer
 * accepted it, else as the plain packet, within a budget of
 * SFU_ROOM_NACK_RATE packets per second per subscriber (past it, the
 * requests are dropped and counted as a NACK storm). What the cache lacks,
 * and every gap in what a publisher sends, is NACKed upstream, at most
 * SFU_ROOM_NACK_UP_RATE NACKs per second per track.
 *
 * Reports: a publisher's sender reports go on to each subscriber of the
 * track with the outgoing SSRC and timestamp (lip sync needs them), and
 * every SFU_ROOM_RR_MS the publisher gets a receiver report from us about
 * each of its tracks (loss, jitter, LSR/DLSR).
 *
 * No I/O, no allocation per packet (members, their slots and the packet
 * caches of video tracks are allocated when they join and publish).
 */
#ifndef TINCAN_SFU_ROOM_H
#define TINCAN_SFU_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "sfu/sdp.h"

#define SFU_ROOM_TRACKS 8        /* track entries of one member: audio + video, and each simulcast layer past
                                  * the first is an entry of its own (simulcast.h) */
#define SFU_ROOM_SLOTS SDP_MAX_MEDIA
#define SFU_ROOM_PLI_MS 500      /* at most one PLI per track this often */
#define SFU_ROOM_ID_MAX 32
#define SFU_ROOM_NACK_RATE 250   /* retransmissions per second per subscriber (and burst) */
#define SFU_ROOM_NACK_MAX 64     /* sequence numbers looked at per NACK packet */
#define SFU_ROOM_NACK_UP_RATE 50 /* NACKs per second per track to its publisher */
#define SFU_ROOM_NACK_UP_BURST 10
#define SFU_ROOM_NACK_GAP 64     /* a longer gap is not NACKed: a key frame repairs it */
#define SFU_ROOM_RR_MS 1000      /* receiver reports to each publisher this often */
#define SFU_ROOM_LAST_N 9        /* default: past this many members, video of the last N speakers only */
#define SFU_ROOM_ALLOC_MS 500    /* a subscriber's streams are re-allocated at most this often */
#define SFU_ROOM_SPEAKER_MS 100  /* the active speaker is looked at this often */
#define SFU_ROOM_RATE_MS 1000    /* a track's bitrate window */

struct sfu_room_ops {
    /* Sends the RTP packet pkt[0..len) (pkt has cap bytes, room for the
     * SRTP trailer) to member ud's subscriber transport. May change pkt. */
    void (*send_rtp)(void *ud, uint8_t *pkt, size_t len, size_t cap);
    /* Sends the RTCP packet to member ud's publisher transport (PLI,
     * NACK, our receiver reports). */
    void (*send_rtcp)(void *ud, uint8_t *pkt, size_t len, size_t cap);
    /* Sends the RTCP packet to member ud's subscriber transport (the
     * publishers' sender reports). */
    void (*send_sub_rtcp)(void *ud, uint8_t *pkt, size_t len, size_t cap);
    /* Optional. Member ud is the room's active speaker now. */
    void (*active_speaker)(void *ud);
    /* Optional. Member ud's subscriber estimate is bps now (when it moved
     * by a tenth, or every few seconds). */
    void (*estimate)(void *ud, uint64_t bps);
};

/* A published track (what a subscriber slot copies of it). */
struct sfu_track {
    uint32_t ssrc;
    uint32_t rtx_ssrc;                 /* 0: none */
    int rtx_pt;                        /* the publisher's RTX payload type, -1: none negotiated */
    uint32_t out_ssrc, out_rtx_ssrc;   /* what subscribers see: unique in the room */
    enum sdp_kind kind;
    char mid[SDP_TOKEN_MAX];           /* in the publisher's transport */
    char cname[SDP_TOKEN_MAX];
    char track_id[SDP_TOKEN_MAX];      /* msid track */
    struct sdp_codec codec;            /* as negotiated with the publisher */
    uint8_t level_id;                  /* audio: the ssrc-audio-level extension id, 0: none */
    /* Simulcast (simulcast.h). Each layer is an entry of m->tracks: the
     * visible entries (what sfu_room_tracks() returns) are layer 0 and
     * come first; the others follow, out_ssrc 0, group = the index of
     * their visible entry. A plain track is one layer. ssrc 0: a layer
     * whose SSRC is learnt from its rid header extension. */
    uint8_t layer, group;
    uint8_t nlayers;                   /* visible entry: its layers */
    uint8_t layer_entry[3];            /* visible entry: the index of each layer's entry */
    char rid[SDP_TOKEN_MAX];           /* "" for a plain track */
    uint8_t mid_ext, rid_ext, rrid_ext; /* the publisher's header extension ids, 0: none */
    size_t nfids;                      /* the offer's FID pairs (Firefox: one per layer) */
    uint32_t fids[SDP_MAX_RIDS][2];
};

struct sfu_room_stats {
    uint64_t forwarded_packets, forwarded_bytes; /* RTP copies handed to send_rtp */
    uint64_t bad_rtp;                  /* unprotected but not RTP (rtp_parse failed) */
    uint64_t bad_rtcp;                 /* RTCP whose compound framing or feedback is malformed */
    uint64_t unknown_ssrc;             /* RTP of no published track; feedback about no forwarded track */
    uint64_t pli_sent, pli_limited;    /* key frame requests sent to publishers, and held back */
    uint64_t nack_seqs;                /* sequence numbers subscribers asked for */
    uint64_t retransmitted, rtx_sent;  /* answered from the cache; of them as RTX */
    uint64_t nack_missed;              /* asked for, not in the cache */
    uint64_t nack_storm;               /* asked for past a subscriber's budget: dropped */
    uint64_t nack_upstream, nack_up_limited; /* NACKs to publishers, and held back */
    uint64_t repaired, rtx_dropped;    /* publisher RTX used, and not (padding, duplicates) */
    uint64_t stale;                    /* RTP older than its stream's source (rewriter) */
    uint64_t sr_forwarded, rr_sent;
    uint64_t ssrc_rewritten;           /* tracks that leave with an SSRC not the publisher's */
    uint64_t twcc_feedback, remb;      /* feedback from subscribers used by the estimator */
    uint64_t twcc_sent;                /* transport-cc feedback we sent publishers */
    uint64_t bwe_paused, bwe_resumed;  /* videos paused to fit an estimate (or last-N), and back */
    uint64_t speaker_changes;
    uint64_t est_le[6], est_count;     /* subscriber estimates seen: <= 100k, 300k, 1M, 3M, 10M, +Inf */
    double est_sum;
};

struct sfu_room;
struct sfu_member;

/* A router sending through ops (copied), copying packets into
 * scratch[0..cap) (owned by the caller, shared by every room of a loop)
 * and counting into *stats (the caller's, shared by its rooms). */
struct sfu_room *sfu_room_new(const struct sfu_room_ops *ops, uint8_t *scratch, size_t cap,
                              struct sfu_room_stats *stats);
/* Frees the room and its members. NULL is a no-op. */
void sfu_room_free(struct sfu_room *r);

/* Adds a member with id (for msid; truncated to SFU_ROOM_ID_MAX) and the
 * caller's ud for the callbacks. */
struct sfu_member *sfu_room_join(struct sfu_room *r, const char *id, void *ud);
/* Removes m (and its tracks); others' slots for them become rejected at
 * their next offer, and nothing more is forwarded to or from m. */
void sfu_room_leave(struct sfu_room *r, struct sfu_member *m);
size_t sfu_room_count(const struct sfu_room *r);

/* Sets m's tracks from its publisher offer and our answer to it: each
 * accepted m-section we receive on with an SSRC (a=ssrc or ssrc-group
 * FID) becomes a track. A track whose SSRC m already published keeps its
 * outgoing SSRCs, cache and counters. Returns the number of tracks. */
int sfu_room_publish(struct sfu_room *r, struct sfu_member *m, const struct sdp *offer, const struct sdp *answer);
/* m publishes nothing any more (its publisher transport is gone); the
 * others' slots for its tracks become rejected at their next offer. */
void sfu_room_unpublish(struct sfu_room *r, struct sfu_member *m);
/* m's published tracks. */
const struct sfu_track *sfu_room_tracks(const struct sfu_member *m, size_t *n);

/* Brings m's slots up to date with the others' tracks (new tracks get new
 * slots, gone ones are rejected) and writes the offer for m's subscriber
 * transport into *out: sendonly m-sections with the publisher's codec and
 * payload type (video: with nack, nack pli, ccm fir, and the publisher's
 * RTX payload type if it has one), the outgoing SSRC (and RTX SSRC in an
 * ssrc-group FID) with its cname, msid "<publisher id> <track id>", and
 * our abs-send-time and transport-cc extensions with transport-cc (and,
 * video, goog-remb) feedback (room_bwe.c). Returns the number of m-sections (0: nothing to
 * offer yet). */
int sfu_room_offer(struct sfu_room *r, struct sfu_member *m, struct sdp *out);

/* m's subscriber transport can receive now (connected, answer applied):
 * asks each publisher of a video track in its slots for a key frame
 * (rate-limited like any PLI). */
void sfu_room_ready(struct sfu_room *r, struct sfu_member *m, uint64_t now_ms);

/* m's answer to our last subscriber offer: which slots accepted RTX, and
 * which rejected m-sections both sides have applied (only those are
 * recycled). Returns 1 if a track found no slot in that offer and one is
 * free now: offer again. */
int sfu_room_answered(struct sfu_room *r, struct sfu_member *m, const struct sdp *answer);

/* Past n members, each subscriber gets the video of the n most recent
 * active speakers only (the others are paused). Default SFU_ROOM_LAST_N. */
void sfu_room_set_last_n(struct sfu_room *r, unsigned n);
/* m's subscriber estimate in bits/s; 0 until feedback came. */
uint64_t sfu_room_estimate(const struct sfu_member *m);
/* The active speaker's member id, or NULL. */
const char *sfu_room_speaker(const struct sfu_room *r);
/* m's screen share is its video track whose msid track id is track_id
 * ("" or NULL: none; copied, truncated to SDP_TOKEN_MAX - 1): the
 * allocator serves it before every camera, and last-N does not pause it.
 * Takes effect at each subscriber's next allocation. */
void sfu_room_set_screen(struct sfu_room *r, struct sfu_member *m, const char *track_id);

/* Unprotected RTP from m's publisher transport at now_ms: forwarded as
 * above. */
void sfu_room_rtp(struct sfu_room *r, struct sfu_member *m, const uint8_t *pkt, size_t len, uint64_t now_ms);
/* Unprotected RTCP from m's subscriber transport (feedback about what we
 * forward) at now_ms: PLI/FIR go to the publisher, rate-limited; NACKs
 * are answered from the cache. */
void sfu_room_rtcp(struct sfu_room *r, struct sfu_member *m, const uint8_t *pkt, size_t len, uint64_t now_ms);
/* Unprotected RTCP from m's publisher transport at now_ms: its sender
 * reports go on to the subscribers. */
void sfu_room_rtcp_pub(struct sfu_room *r, struct sfu_member *m, const uint8_t *pkt, size_t len, uint64_t now_ms);

#endif
