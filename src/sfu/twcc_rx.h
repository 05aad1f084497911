/*
 * twcc_rx — the receiving side of transport-wide congestion control
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01) for one publisher
 * transport: the arrival time of each packet by its transport-wide
 * sequence number, and the feedback packets (RTPFB FMT 15) that tell the
 * publisher's browser what arrived when, so that its own sender-side
 * estimate (Chromium's GCC) sees the path to us.
 *
 * Each feedback covers the packets from the first not yet reported to the
 * newest seen; a gap is "not received" (a later arrival of a packet
 * already reported as lost is not reported again). Status chunks are
 * two-bit status vectors (seven packets each), the simplest valid form;
 * deltas are 250 µs units, one byte when 0-63.75 ms, else two. A delta
 * that does not fit two bytes (a pause of over 8 s) ends the feedback
 * before it; the next starts there.
 *
 * Pure: no I/O, no allocation; times are the caller's clock.
 */
#ifndef TINCAN_SFU_TWCC_RX_H
#define TINCAN_SFU_TWCC_RX_H

#include <stddef.h>
#include <stdint.h>

#define SFU_TWCC_RX_WINDOW 1024   /* sequence numbers held at most */
#define SFU_TWCC_RX_MAX_FB 512    /* packets one feedback covers at most */
#define SFU_TWCC_RX_INTERVAL_MS 50 /* a feedback at most this often (unless SFU_TWCC_RX_MAX_FB wait) */

struct sfu_twcc_rx {
    int64_t arrival_us[SFU_TWCC_RX_WINDOW]; /* by unwrapped seq % window; -1: not received */
    uint64_t base;        /* unwrapped: the first sequence number not yet reported */
    uint64_t end;         /* unwrapped: one past the newest seen */
    int have;             /* a packet was seen */
    uint8_t fb_count;     /* feedback packet count, wraps */
    uint64_t last_fb_ms;
};

void sfu_twcc_rx_init(struct sfu_twcc_rx *rx);
/* A packet with transport-wide sequence number seq arrived at now_us. */
void sfu_twcc_rx_packet(struct sfu_twcc_rx *rx, uint16_t seq, uint64_t now_us);
/* True if a feedback should go now: packets wait and the last went
 * SFU_TWCC_RX_INTERVAL_MS ago, or SFU_TWCC_RX_MAX_FB of them wait. */
int sfu_twcc_rx_due(const struct sfu_twcc_rx *rx, uint64_t now_ms);
/* Writes one feedback packet (sender_ssrc ours, media_ssrc one of the
 * publisher's) into out[0..cap) for the packets waiting, and marks them
 * reported. Returns its length, 0 if none wait, or -ENOBUFS (nothing is
 * marked). */
int sfu_twcc_rx_build(struct sfu_twcc_rx *rx, uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t *out, size_t cap,
                      uint64_t now_ms);

#endif
