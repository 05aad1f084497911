/*
 * sfu_glue — connects the SFU (src/sfu) to the server: the main UDP port
 * routes ICE checks, DTLS and SRTP/SRTCP here, signaling (the hub) hands
 * over SFU rooms and their sfu-* messages, and /metrics reads the counters.
 *
 * Each participant of an SFU room has two transports (docs/sfu.md): a
 * publisher session (the browser offers its tracks, we answer) and a
 * subscriber session (we offer the others' tracks, the browser answers).
 * Sessions are found by our ICE ufrag for checks and by the remote address
 * (the 5-tuple on our one port) for DTLS and media once a check from that
 * address succeeded.
 */
#ifndef TINCAN_SFU_GLUE_H
#define TINCAN_SFU_GLUE_H

#include <stddef.h>
#include <stdint.h>

struct server;

enum sfu_drop {
    SFU_DROP_NO_SESSION,  /* no session for the ufrag or the address */
    SFU_DROP_SRTP_AUTH,   /* SRTP/SRTCP failed authentication or replayed */
    SFU_DROP_BAD_RTP,     /* not RTP/RTCP after unprotect, or not the shape SRTP/DTLS take */
    SFU_DROP_NOT_READY,   /* media before the handshake, DTLS of a failed session, rejected checks */
    SFU_DROP_BAD_DTLS,    /* DTLS records that fail the handshake or do not parse */
    SFU_DROP_BAD_RTCP,    /* RTCP compounds or feedback with wrong lengths */
    SFU_DROP_UNKNOWN_SSRC,/* RTP of no published track, feedback about no forwarded one */
    SFU_DROP_NACK_STORM,  /* retransmissions asked for past a subscriber's budget */
    SFU_DROP_STALE,       /* RTP older than its stream's current source */
    SFU_DROPS
};

struct sfu_glue_stats {
    size_t sessions;                 /* transports with a running ICE/DTLS session */
    size_t rooms;                    /* SFU rooms with members */
    uint64_t forwarded_packets, forwarded_bytes;
    uint64_t keyframe_requests;      /* PLIs sent to publishers */
    uint64_t retransmitted;          /* packets resent from the cache for NACKs (RTX or plain) */
    uint64_t nack_upstream;          /* NACKs sent to publishers */
    uint64_t repaired;               /* packets the publishers' RTX gave back */
    uint64_t sr_forwarded, rr_sent;  /* sender reports passed on, receiver reports of ours */
    uint64_t consent_closed;         /* transports closed for want of consent (RFC 7675) */
    uint64_t from_turn;              /* datagrams from browsers' relays on our TURN, in process */
    uint64_t dropped[SFU_DROPS];
    /* Tracks on connected transports: [0] upstream (published to us),
     * [1] downstream (forwarded to a subscriber); by kind, [0] audio,
     * [1] video. */
    size_t tracks[2][2];
    /* bandwidth estimation and active speaker (room_bwe.c) */
    uint64_t twcc_feedback, remb, bwe_paused, bwe_resumed, speaker_changes;
    uint64_t twcc_sent;
    uint64_t est_le[6], est_count, est_sum; /* subscriber estimates seen, by bucket (see metrics.c) */
};

/* Starts the SFU: DTLS certificate, UDP routes, the hub's SFU hooks.
 * 0, or -1 after logging. */
int sfu_glue_init(struct server *s);
/* Ends every session and room, unhooks from the port and the hub. */
void sfu_glue_cleanup(struct server *s);
/* Counters for /metrics (zeros when the SFU is off). */
void sfu_glue_stats(const struct server *s, struct sfu_glue_stats *out);
/* A drop reason's label for /metrics. */
const char *sfu_drop_name(enum sfu_drop d);

#endif
