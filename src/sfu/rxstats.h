/*
 * rxstats — what a receiver knows about one incoming RTP stream, for the
 * report blocks of its receiver reports (RFC 3550 §6.4.1, appendix A.3
 * and A.8): extended highest sequence number, cumulative and interval
 * loss, interarrival jitter, and LSR/DLSR from the sender's last report.
 *
 * Arrival times are the caller's milliseconds, converted to the stream's
 * clock for the jitter. Pure.
 */
#ifndef TINCAN_SFU_RXSTATS_H
#define TINCAN_SFU_RXSTATS_H

#include <stdint.h>

#include "rtcp.h"

struct sfu_rxstats {
    int started;
    uint16_t max_seq;
    uint32_t cycles;             /* wraps of the sequence number, << 16 */
    uint32_t base_seq;           /* the first sequence number */
    uint32_t received;
    uint32_t expected_prior, received_prior; /* at the last report */
    int64_t transit;             /* of the last packet, in clock units */
    uint64_t jitter_q4;          /* jitter × 16 (appendix A.8) */
    uint32_t lsr;                /* middle 32 bits of the last SR's NTP time */
    uint64_t lsr_ms;             /* when it arrived */
    int have_sr;
};

/* Counts a packet (seq, rtp_ts) that arrived at now_ms on a clock of
 * clock Hz. */
void sfu_rxstats_packet(struct sfu_rxstats *s, uint16_t seq, uint32_t rtp_ts, uint64_t now_ms, uint32_t clock);
/* The sender's SR with this NTP time arrived at now_ms. */
void sfu_rxstats_sr(struct sfu_rxstats *s, uint32_t ntp_sec, uint32_t ntp_frac, uint64_t now_ms);
/* Fills the report block about ssrc at now_ms and starts a new interval.
 * Returns 0, or -1 if no packet came yet (no block to send). */
int sfu_rxstats_block(struct sfu_rxstats *s, uint32_t ssrc, uint64_t now_ms, struct rtcp_report_block *b);

#endif
