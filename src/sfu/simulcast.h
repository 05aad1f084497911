/*
 * simulcast — which layer of a published video track each subscriber
 * gets, and the switch between layers.
 *
 * A simulcast publisher (RFC 8853: a=rid:q/h/f send, a=simulcast:send
 * q;h;f) sends up to SFU_SIM_LAYERS encodings of one track, each with an
 * SSRC of its own (and an RTX SSRC), told apart by the rid / repaired-rid
 * header extensions (RFC 8852) until their SSRCs are learnt. Layers are
 * numbered 0 (lowest) up. A plain track is one layer.
 *
 * Every subscriber receives one layer of each track as an ordinary
 * stream (one outgoing SSRC). struct sfu_sim_fwd is its forwarding state
 * (one per subscriber slot): the layer it gets, the one it should get,
 * and the rewriters (rewrite.h for sequence numbers and timestamps, a
 * VP8 one for picture ID and TL0PICIDX) so that a switch leaves no gap.
 * A switch happens only at the first packet of a key frame of the target
 * layer; until then the current layer goes on. "Paused" means nothing is
 * forwarded; resuming waits for a key frame like any switch.
 *
 * The layer wanted is the smallest whose height (learnt from VP8 key
 * frames) covers the height the subscriber shows the track at (its tile,
 * reported by the client), capped by the allocator's max layer (the
 * bandwidth estimator's say), among the layers that sent something in
 * the last SFU_SIM_IDLE_MS (a publisher may send fewer layers than it
 * announced, or stop one when its own bandwidth drops).
 *
 * The pure part (this struct and sfu_sim_*) has no I/O; the room-level
 * calls at the end are implemented by the router (room_sim.c).
 */
#ifndef TINCAN_SFU_SIMULCAST_H
#define TINCAN_SFU_SIMULCAST_H

#include <stddef.h>
#include <stdint.h>

#include "rewrite.h"
#include "vp8.h"

#define SFU_SIM_LAYERS 3
#define SFU_SIM_PAUSED (-1)      /* a max layer / wanted layer: forward nothing */
#define SFU_SIM_ANY 255          /* a max layer: no cap */
#define SFU_SIM_IDLE_MS 1500     /* a layer silent this long is not chosen */
#define SFU_SIM_RATE_MS 1000     /* bitrate measurement window */
#define SFU_SIM_PLI_MS 1000      /* while waiting for a key frame, ask again this often */
/* What a publisher of video is told it may send (REMB, with its first
 * packet and each receiver report): without it Chromium's send-side
 * estimate stays near its start value (300 kbit/s) for lack of
 * transport-cc feedback, and it sends only its lowest layer. In its
 * first 2 s Chromium takes a REMB above its estimate as the estimate. */
#define SFU_SIM_PUBLISH_BPS 3000000

/* What the router knows of one layer of a track (the publisher side). */
struct sfu_sim_layer {
    uint16_t width, height;      /* from its last key frame; 0: none seen yet */
    uint64_t last_ms;            /* its last packet; 0: none yet */
    uint64_t win_ms, win_bytes;  /* the measurement window being filled */
    uint32_t bps;                /* bits per second over the last full window */
};

/* One published track's layers (lowest first). */
struct sfu_sim_track {
    size_t nlayers;              /* 1 for a plain track */
    struct sfu_sim_layer layer[SFU_SIM_LAYERS];
    unsigned gen;                /* bumped when a layer's size becomes known or changes */
};

/* The numbers of one source (layer) as a subscriber saw them, kept for
 * the source before the current one so late NACKs still find it. */
struct sfu_sim_src {
    int layer;                   /* -1: none */
    uint16_t first_out, end_out; /* outgoing sequence numbers [first_out, end_out) */
    uint16_t seq_delta;          /* outgoing = incoming + delta */
    uint32_t ts_delta;
    uint16_t pid_delta;          /* VP8 picture ID and TL0PICIDX */
    uint8_t tl0_delta;
};

/* One subscriber's forwarding state for one track. */
struct sfu_sim_fwd {
    int cur;                     /* the layer forwarded now, -1: none (paused / not started) */
    int target;                  /* the layer to switch to at its next key frame, -1: pause */
    int want_h;                  /* the height shown at, in device pixels; -1: not reported (the top
                                  * layer), 0: not shown (pause) */
    int max;                     /* the allocator's cap: a layer, SFU_SIM_PAUSED or SFU_SIM_ANY */
    unsigned gen;                /* sfu_sim_track.gen the target was chosen at */
    uint64_t pli_ms;             /* the last key frame request for the target */
    int pli_sent;
    struct sfu_rewriter rw;
    struct sfu_vp8_rw vp8;
    uint16_t cur_first_out;      /* the first outgoing number of the current source */
    int mark_first;              /* the next packet mapped starts the current source */
    struct sfu_sim_src prev;     /* the source before the current one */
    uint64_t switches;           /* layer switches done (for tests and stats) */
};

/* A plain state for a stream leaving as out_ssrc: no layer yet, nothing
 * reported, no cap. */
void sfu_sim_fwd_init(struct sfu_sim_fwd *f, uint32_t out_ssrc);

/* A packet of `bytes` on layer l at now_ms; key: the first packet of a
 * key frame, whose size (w x h) is then recorded. */
void sfu_sim_track_packet(struct sfu_sim_track *t, int l, size_t bytes, int key, uint16_t w, uint16_t h,
                          uint64_t now_ms);

/* The layer f should get now: -1 to pause. */
int sfu_sim_choose(const struct sfu_sim_track *t, const struct sfu_sim_fwd *f, uint64_t now_ms);

/* Re-chooses f's target (when the track's sizes, the report or the cap
 * changed, or the current layer fell silent). Returns 1 if f now waits
 * for a key frame of its target (the caller should request one, rate
 * limited by sfu_sim_want_pli()). */
int sfu_sim_update(struct sfu_sim_fwd *f, const struct sfu_sim_track *t, uint64_t now_ms);
/* 1 if a key frame request for f's target is due at now_ms (and notes
 * it as sent). */
int sfu_sim_want_pli(struct sfu_sim_fwd *f, uint64_t now_ms);

/* Whether a packet of layer l goes to this subscriber: 1 yes, 0 no.
 * key: it is the first packet of a key frame (a switch point). Switches
 * the source when l is the target and key is set. */
int sfu_sim_accept(struct sfu_sim_fwd *f, int l, int key);

/* Rewrites a packet of the current layer for the subscriber: outgoing
 * sequence number and timestamp (and, for VP8, picture ID and TL0PICIDX
 * in the payload descriptor at pkt[vp8_off..], with v its parse, or v
 * NULL). Returns 0, or -1 if it is older than its source (drop it). */
int sfu_sim_rewrite(struct sfu_sim_fwd *f, uint8_t *pkt, uint16_t seq, uint32_t ts, uint64_t now_ms,
                    uint32_t clock, size_t vp8_off, const struct sfu_vp8 *v);

/* For a subscriber's NACK of out_seq: the source it came from (layer and
 * deltas, to map that packet again) and its incoming sequence number.
 * Returns 0, or -1 if it is from no source kept (the current one and the
 * one before). */
int sfu_sim_unmap(const struct sfu_sim_fwd *f, uint16_t out_seq, struct sfu_sim_src *src, uint16_t *in_seq);

/* --- the router's calls (room_sim.c) --- */

struct sfu_room;
struct sfu_member;

/* What a subscriber gets of one track, for the allocator and stats. */
struct sfu_sim_info {
    size_t nlayers;
    uint32_t bps[SFU_SIM_LAYERS];      /* measured bitrate of each layer (the publisher's) */
    uint16_t height[SFU_SIM_LAYERS];   /* 0: not known yet */
    int active[SFU_SIM_LAYERS];        /* sent something in the last SFU_SIM_IDLE_MS */
    int cur, target;                   /* -1: none / paused */
    int want_h, max;                   /* as in struct sfu_sim_fwd */
};

/* The allocator's cap for what subscriber sub gets of the video track it
 * receives as out_ssrc: a layer (0 = lowest; higher than the top means
 * the top), SFU_SIM_PAUSED (nothing) or SFU_SIM_ANY. Takes effect at
 * the target layer's next key frame (one is requested). Returns 0, or -1
 * if sub receives no such video track. */
int sfu_room_sim_set_max(struct sfu_room *r, struct sfu_member *sub, uint32_t out_ssrc, int max, uint64_t now_ms);
/* Fills *info about what sub gets of out_ssrc. Returns 0, or -1. */
int sfu_room_sim_info(struct sfu_room *r, struct sfu_member *sub, uint32_t out_ssrc, struct sfu_sim_info *info,
                      uint64_t now_ms);
/* The size sub shows the video of publisher pub_id at, in device
 * pixels (0 x 0: hidden). Applies to every video track of that
 * publisher sub receives. Returns the number of tracks it applied to. */
int sfu_room_sim_view(struct sfu_room *r, struct sfu_member *sub, const char *pub_id, int width, int height,
                      uint64_t now_ms);

#endif
