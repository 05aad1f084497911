/*
 * bwe — a sender-side bandwidth estimate for one subscriber transport, in
 * the spirit of Google Congestion Control (draft-ietf-rmcat-gcc-02) but
 * smaller:
 *
 *  - delay-based: packets are grouped by send time (5 ms bursts); for
 *    each pair of groups the change in one-way delay (receive delta minus
 *    send delta) is accumulated, smoothed, and a least-squares line is
 *    fitted through the last SFU_BWE_WINDOW points (the "trendline").
 *    A slope above an adaptive threshold for more than 10 ms is overuse:
 *    the queue at the bottleneck grows. Overuse cuts the estimate to 0.85
 *    of the throughput the subscriber acknowledged; underuse (the queue
 *    drains) holds it; otherwise it grows.
 *  - loss-based: over each window of feedback (≥ 20 packets, ≥ 500 ms),
 *    more than 10 % loss cuts the estimate by half the loss fraction;
 *    2-10 % holds it; less lets it grow.
 *  - growth ("probing back up"): once the delay detector has said
 *    "normal" for 300 ms and loss is under 2 %, the estimate rises by
 *    SFU_BWE_GROWTH per second plus SFU_BWE_STEP_BPS, but never above 1.5 ×
 *    what was acknowledged plus SFU_BWE_HEADROOM_BPS, so it climbs in
 *    steps the allocator can fill (a layer or a video at a time) instead
 *    of running off on an idle link.
 *  - REMB: where the subscriber sends a receiver estimate, the estimate is
 *    never above it; with REMB only, it is the REMB value.
 *  - a floor for delay: the caller says what the subscriber's audio and
 *    the lowest layer of each video it is shown need (sfu_bwe_set_floor);
 *    unless loss cut the estimate (and no loss window since showed under
 *    2 %), it is never below that floor, so rising delay alone drops
 *    layers but never pauses a whole video. Only loss (or a REMB) does.
 *    The price: on a link with a deep buffer and no loss, the queue may
 *    grow until the buffer overflows and loss says so.
 *    Delay is a hint that can lie: a receiver whose CPU is busy stamps
 *    arrivals late (six Chromium pages on two cores saw 130 kbit/s on
 *    loopback and paused videos nobody had a reason to lose); loss is
 *    what a link that truly cannot carry the lowest layers produces.
 *
 * Pure: the caller feeds samples (twcc.h) and its clock; no I/O.
 */
#ifndef TINCAN_SFU_BWE_H
#define TINCAN_SFU_BWE_H

#include <stddef.h>
#include <stdint.h>

#include "twcc.h"

#define SFU_BWE_START_BPS 2500000.0
#define SFU_BWE_MIN_BPS 60000.0        /* audio must always fit */
#define SFU_BWE_MAX_BPS 30000000.0
#define SFU_BWE_WINDOW 20              /* trendline points */
#define SFU_BWE_GROWTH 0.25            /* per second, while nothing objects */
#define SFU_BWE_STEP_BPS 50000.0       /* and by this many bit/s per second */
#define SFU_BWE_HEADROOM_BPS 500000.0
#define SFU_BWE_REMB_MS 1500           /* a REMB counts this long */
#define SFU_BWE_IDLE_GROWTH 0.5        /* per second, with REMB only and none lately */

enum sfu_bwe_usage { SFU_BWE_NORMAL, SFU_BWE_OVERUSE, SFU_BWE_UNDERUSE };

struct sfu_bwe {
    double estimate, acked_bps, remb_bps, floor_bps;
    int loss_limited;               /* loss cut it, and no loss window since said < 2 % */
    uint64_t remb_ms, last_ms, decrease_ms, normal_ms;
    int have_remb, have_twcc, started;
    /* packet groups: the one being filled and the last complete one */
    int64_t g_first_send, g_last_send, g_last_recv, p_last_send, p_last_recv;
    int have_group, have_prev;
    /* trendline */
    double acc_ms, smooth_ms, x[SFU_BWE_WINDOW], y[SFU_BWE_WINDOW];
    size_t npts, ndeltas;
    int64_t first_recv;
    double trend, threshold, over_ms;
    int64_t thresh_recv;
    enum sfu_bwe_usage usage;
    /* windows of acknowledged bytes and of loss */
    int64_t rate_start, rate_last;
    uint64_t rate_bytes;
    uint32_t lost, total;
    uint64_t loss_ms;
    double loss;
};

/* An estimate starting at SFU_BWE_START_BPS. */
void sfu_bwe_init(struct sfu_bwe *b);
/* One transport-cc feedback's samples (sfu_twcc_feedback()) at now_ms. */
void sfu_bwe_feedback(struct sfu_bwe *b, const struct sfu_twcc_sample *s, size_t n, uint64_t now_ms);
/* What the subscriber's audio and its videos' lowest layers need: a
 * delay-based cut goes no lower (0, the start: no floor). */
void sfu_bwe_set_floor(struct sfu_bwe *b, uint64_t bps);
/* A REMB of bps from the subscriber at now_ms. */
void sfu_bwe_remb(struct sfu_bwe *b, uint64_t bps, uint64_t now_ms);
/* No feedback of either kind came lately (the subscriber's receiver
 * reports are the clock): with REMB only, once the last REMB is older than
 * SFU_BWE_REMB_MS, the estimate grows by SFU_BWE_IDLE_GROWTH per second
 * plus SFU_BWE_STEP_BPS. A receiver
 * estimates only from what it receives, so a REMB that paused every video
 * would otherwise never rise again. */
void sfu_bwe_idle(struct sfu_bwe *b, uint64_t now_ms);
/* The estimate in bits per second. */
uint64_t sfu_bwe_estimate(const struct sfu_bwe *b);
/* What the delay detector says now. */
enum sfu_bwe_usage sfu_bwe_usage(const struct sfu_bwe *b);

#endif
