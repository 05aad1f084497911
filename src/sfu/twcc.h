/*
 * twcc — the sending side of transport-wide congestion control
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01) for one subscriber
 * transport: a transport-wide sequence number for each packet we send it,
 * the send time and size of the last SFU_TWCC_HISTORY of them, and the
 * subscriber's feedback (rtcp_parse_twcc()) turned into per-packet
 * (send time, receive time, size) samples for the estimator (bwe.h).
 *
 * sfu_twcc_stamp() writes the outgoing copy of a packet with our own
 * one-byte header extension block (RFC 8285 §4.2) in place of the
 * publisher's: the subscriber negotiated its own extension ids with us,
 * so the publisher's elements mean nothing to it.
 *
 * Pure: no I/O, no allocation; times are the caller's clock in µs.
 */
#ifndef TINCAN_SFU_TWCC_H
#define TINCAN_SFU_TWCC_H

#include <stddef.h>
#include <stdint.h>

#include "rtcp.h"
#include "rtp.h"

#define SFU_TWCC_HISTORY 4096 /* packets remembered: about 4 s at 1000 packets/s */
#define SFU_TWCC_EXT_MAX 12   /* bytes our extension block adds at most */

struct sfu_twcc_sent {
    uint64_t send_us;
    uint16_t seq;
    uint16_t size;
    uint8_t valid;
};

/* One subscriber transport's sequence numbers and send history. */
struct sfu_twcc {
    uint16_t next_seq;
    struct sfu_twcc_sent hist[SFU_TWCC_HISTORY];
};

/* A packet the subscriber's feedback reports. */
struct sfu_twcc_sample {
    uint64_t send_us;
    int64_t recv_us;  /* the subscriber's clock (reference time + deltas); meaningful as differences */
    uint16_t size;
    uint8_t received;
};

/* Starts the numbering at seq. */
void sfu_twcc_init(struct sfu_twcc *t, uint16_t seq);
/* Records a packet of size bytes sent at now_us; returns its sequence number. */
uint16_t sfu_twcc_sent(struct sfu_twcc *t, size_t size, uint64_t now_us);

/* Turns parsed feedback (fb and pkts[0..n), as rtcp_parse_twcc() filled
 * them) into samples out[0..cap) in sequence order, skipping packets we
 * have no record of (too old, never sent). Returns how many were stored. */
size_t sfu_twcc_feedback(const struct sfu_twcc *t, const struct rtcp_twcc *fb, const struct rtcp_twcc_packet *pkts,
                         size_t n, struct sfu_twcc_sample *out, size_t cap);

/* Copies packet h (parsed from its own bytes) into out[0..cap) with its
 * header extension block replaced by ours: transport-wide sequence number
 * seq under id tcc_id and, if ast_id is non-zero, abs-send-time ast
 * (6.18 fixed-point seconds) under ast_id. Ids 1-14. Returns the new
 * length, or -ENOBUFS if out is too small. */
int sfu_twcc_stamp(uint8_t *out, size_t cap, const struct rtp_hdr *h, uint8_t tcc_id, uint16_t seq,
                   uint8_t ast_id, uint32_t ast);
/* now_us as abs-send-time: seconds in 6.18 fixed point, 24 bits. */
uint32_t sfu_twcc_abs_send_time(uint64_t now_us);

#endif
