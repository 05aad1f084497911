/*
 * room — the SFU's router for one room: who publishes which tracks, what
 * each member's subscriber transport carries, and where each packet goes.
 *
 * A member publishes tracks (from its publisher offer and our answer:
 * SSRC, kind, mid, codec, msid) and subscribes to everyone else's. Each
 * member has subscriber slots: the m-sections of the offer we make to its
 * subscriber transport, one per track of the others, in a fixed order (a
 * gone track's slot stays, rejected, because m-lines never move).
 *
 * Media: a publisher's RTP arrives here unprotected (once, by its session);
 * for every member whose subscriber slots hold that SSRC it is copied into
 * the scratch buffer the caller gave and handed to send_rtp, which
 * protects it with that member's context. SSRC, sequence number and
 * timestamp stay the publisher's (no simulcast, no rewriting yet).
 * Feedback: PLI and FIR from a subscriber about a track become one PLI to
 * its publisher, at most one per SFU_ROOM_PLI_MS per track; a subscriber
 * that becomes ready asks for a key frame the same way. Other RTCP (NACK,
 * receiver reports, REMB, transport-cc) is read and not answered.
 *
 * No I/O, no allocation per packet (members and their slots are
 * allocated when they join).
 */
#ifndef TINCAN_SFU_ROOM_H
#define TINCAN_SFU_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "sfu/sdp.h"

#define SFU_ROOM_TRACKS 4        /* tracks one member publishes (audio + video, with room to spare) */
#define SFU_ROOM_SLOTS SDP_MAX_MEDIA
#define SFU_ROOM_PLI_MS 500      /* at most one PLI per track this often */
#define SFU_ROOM_ID_MAX 32

struct sfu_room_ops {
    /* Sends the RTP packet pkt[0..len) (pkt has cap bytes, room for the
     * SRTP trailer) to member ud's subscriber transport. May change pkt. */
    void (*send_rtp)(void *ud, uint8_t *pkt, size_t len, size_t cap);
    /* Sends the RTCP packet to member ud's publisher transport (a PLI). */
    void (*send_rtcp)(void *ud, uint8_t *pkt, size_t len, size_t cap);
};

/* A published track. */
struct sfu_track {
    uint32_t ssrc;
    uint32_t rtx_ssrc;                 /* 0: none */
    enum sdp_kind kind;
    char mid[SDP_TOKEN_MAX];           /* in the publisher's transport */
    char cname[SDP_TOKEN_MAX];
    char track_id[SDP_TOKEN_MAX];      /* msid track */
    struct sdp_codec codec;            /* as negotiated with the publisher */
    uint64_t last_pli_ms;              /* when the last PLI went to the publisher */
    int pli_sent;                      /* last_pli_ms is set */
};

struct sfu_room_stats {
    uint64_t forwarded_packets, forwarded_bytes; /* RTP copies handed to send_rtp */
    uint64_t bad_rtp;                  /* unprotected but not RTP (rtp_parse failed) or bad RTCP */
    uint64_t unknown_ssrc;             /* RTP of no published track (RTX, probes) */
    uint64_t pli_sent, pli_limited;    /* key frame requests sent to publishers, and held back */
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
 * FID) becomes a track. Returns the number of tracks. */
int sfu_room_publish(struct sfu_room *r, struct sfu_member *m, const struct sdp *offer, const struct sdp *answer);
/* m's published tracks. */
const struct sfu_track *sfu_room_tracks(const struct sfu_member *m, size_t *n);

/* Brings m's slots up to date with the others' tracks (new tracks get new
 * slots, gone ones are rejected) and writes the offer for m's subscriber
 * transport into *out: sendonly m-sections with the publisher's codec and
 * payload type, its SSRC and cname, msid "<publisher id> <track id>", no
 * header extensions. Returns the number of m-sections (0: nothing to
 * offer yet). */
int sfu_room_offer(struct sfu_room *r, struct sfu_member *m, struct sdp *out);

/* m's subscriber transport can receive now (connected, answer applied):
 * asks each publisher of a video track in its slots for a key frame
 * (rate-limited like any PLI). */
void sfu_room_ready(struct sfu_room *r, struct sfu_member *m, uint64_t now_ms);

/* Unprotected RTP from m's publisher transport: forwarded as above. */
void sfu_room_rtp(struct sfu_room *r, struct sfu_member *m, const uint8_t *pkt, size_t len);
/* Unprotected RTCP from m's subscriber transport (feedback about what we
 * forward) at now_ms: PLI/FIR go to the publisher, rate-limited. */
void sfu_room_rtcp(struct sfu_room *r, struct sfu_member *m, const uint8_t *pkt, size_t len, uint64_t now_ms);

#endif
