/*
 * alloc — how one subscriber's bandwidth estimate is shared among the
 * streams it receives.
 *
 * Audio is never cut: its bitrate comes off the budget first. Videos are
 * then served in order: screen shares, then cameras by priority (the
 * router uses the last-N speaker order). First every video gets its
 * lowest layer while the budget lasts; what does not fit is paused. Then,
 * in the same order, videos go up a layer at a time while the extra fits.
 * So layers are dropped before whole videos, and the lowest priority
 * loses first. A stream that is off (paused, or below a layer) comes back
 * only when SFU_ALLOC_SPARE of its cost is free too, so an estimate near
 * a threshold does not switch it on and off.
 *
 * Pure: no I/O, no allocation.
 */
#ifndef TINCAN_SFU_ALLOC_H
#define TINCAN_SFU_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#define SFU_ALLOC_LAYERS 3
#define SFU_ALLOC_SPARE 1.2
#define SFU_ALLOC_MAX 64 /* streams looked at per subscriber: every slot (SFU_ROOM_SLOTS) */

enum sfu_alloc_kind { SFU_ALLOC_AUDIO, SFU_ALLOC_VIDEO, SFU_ALLOC_SCREEN };

struct sfu_alloc_stream {
    enum sfu_alloc_kind kind;
    int prio;                        /* higher first among videos of one kind */
    int allowed;                     /* 0: off whatever the budget (last-N, hidden) */
    size_t nlayers;                  /* 1 for a plain track */
    uint32_t bps[SFU_ALLOC_LAYERS];  /* each layer's bitrate, lowest first (0: not known) */
    int cur;                         /* the layer it gets now, -1: paused */
    int out;                         /* result: the layer it should get, -1: paused */
};

/* Sets out of each of s[0..n) (n ≤ SFU_ALLOC_MAX) for budget bits/s.
 * Returns the bits/s allotted (audio included; may exceed budget only by
 * audio). */
uint64_t sfu_alloc_plan(struct sfu_alloc_stream *s, size_t n, uint64_t budget);

#endif
