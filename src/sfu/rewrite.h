/*
 * rewrite — the SSRC, sequence number and timestamp one outgoing RTP
 * stream carries, mapped from the packets of its current source.
 *
 * An outgoing stream has a fixed SSRC of its own (the publisher's unless
 * it collides with another in the room) and a sequence number and
 * timestamp that continue without a jump when its source changes (a new
 * layer, later a new publisher: sfu_rewriter_switch()). Within one source
 * the mapping is an offset, so loss and reordering pass through as they
 * came (a subscriber NACKs what it misses, by outgoing number), and both
 * fields wrap around modulo 2^16 and 2^32. After a switch, a packet older
 * than the first one of the new source is refused: its number would land
 * on one already sent. So is one more than SFU_REWRITE_REORDER behind the
 * newest, unless the next one follows it (RFC 3550 A.1: the sender
 * restarted its numbering); then a new source starts there by itself.
 *
 * Until the first switch the offsets are zero: the stream carries the
 * publisher's own numbers. Pure; the caller gives the time.
 */
#ifndef TINCAN_SFU_REWRITE_H
#define TINCAN_SFU_REWRITE_H

#include <stdint.h>

#define SFU_REWRITE_REORDER 1024 /* how far behind the newest a late packet may be */

struct sfu_rewriter {
    uint32_t ssrc;        /* the outgoing SSRC */
    uint16_t seq_delta;   /* outgoing = incoming + delta (mod 2^16) */
    uint32_t ts_delta;    /* outgoing = incoming + delta (mod 2^32) */
    uint16_t last_seq;    /* the highest outgoing sequence number mapped */
    uint32_t last_ts;     /* and its timestamp */
    uint64_t last_ms;     /* when it was mapped */
    uint16_t first_in;    /* the first incoming number of the current source */
    uint16_t last_in;     /* the newest incoming number */
    uint16_t bad_seq;     /* after a far jump back: the number that would confirm it */
    int have_bad;
    int started;          /* a packet was mapped */
    int switching;        /* the next packet starts a new source */
};

/* A stream sending as out_ssrc, with zero offsets. */
void sfu_rewriter_init(struct sfu_rewriter *rw, uint32_t out_ssrc);
/* The next packet mapped comes from a new source: its sequence number
 * follows the last one sent and its timestamp moves on by the time that
 * passed (at least 1). */
void sfu_rewriter_switch(struct sfu_rewriter *rw);
/* Maps an incoming packet (seq, ts) arriving at now_ms on a clock of
 * clock Hz into *out_seq and *out_ts. Returns 0, or -1 if the packet is
 * older than its source's first (drop it). */
int sfu_rewriter_map(struct sfu_rewriter *rw, uint16_t seq, uint32_t ts, uint64_t now_ms, uint32_t clock,
                     uint16_t *out_seq, uint32_t *out_ts);
/* The incoming sequence number of the current source that out_seq came
 * from (for NACKs passed upstream). */
uint16_t sfu_rewriter_unmap_seq(const struct sfu_rewriter *rw, uint16_t out_seq);
/* The outgoing timestamp of an incoming one (a sender report's). */
uint32_t sfu_rewriter_ts(const struct sfu_rewriter *rw, uint32_t ts);

#endif
