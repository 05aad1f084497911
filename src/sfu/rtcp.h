/*
 * rtcp — compound RTCP (RFC 3550 §6) parsed with strict length checks, the
 * feedback messages an SFU acts on (RFC 4585 generic NACK and PLI, RFC 5104
 * FIR, REMB, transport-wide congestion control feedback), and builders for
 * the packets it sends (NACK, PLI, FIR, RR, SR, REMB).
 *
 * Reading is two steps. rtcp_iter_next() walks a compound packet (one
 * datagram after SRTCP unprotect) and checks each packet's framing: version
 * 2, a length that stays inside the datagram, padding only on the last
 * packet (§6.4.1 "Padding"), and nothing left over. It yields a struct
 * rtcp_pkt whose body points into the caller's bytes. The typed parsers
 * (rtcp_parse_sr() ...) then check that a body holds what its header says.
 * Reduced-size RTCP (RFC 5506: a lone PLI or NACK) is accepted: nothing
 * requires an SR or RR first.
 *
 * Builders write into a caller's buffer of fixed capacity and return the
 * bytes written or -ENOBUFS (nothing is written past cap). No I/O, no
 * allocation.
 */
#ifndef TINCAN_SFU_RTCP_H
#define TINCAN_SFU_RTCP_H

#include <stddef.h>
#include <stdint.h>

#define RTCP_HEADER_LEN 4
#define RTCP_MAX_BLOCKS 31   /* report blocks / SSRCs / chunks: the 5-bit count */

enum rtcp_type {
    RTCP_SR = 200,
    RTCP_RR = 201,
    RTCP_SDES = 202,
    RTCP_BYE = 203,
    RTCP_APP = 204,
    RTCP_RTPFB = 205, /* transport-layer feedback (RFC 4585 §6.2) */
    RTCP_PSFB = 206,  /* payload-specific feedback (RFC 4585 §6.3) */
    RTCP_XR = 207,
};

/* Feedback message types (the header's count field, "FMT"). */
enum rtcp_fmt {
    RTCP_FMT_NACK = 1,  /* RTPFB: generic NACK */
    RTCP_FMT_TWCC = 15, /* RTPFB: transport-wide-cc-extensions-01 feedback */
    RTCP_FMT_PLI = 1,   /* PSFB: picture loss indication */
    RTCP_FMT_FIR = 4,   /* PSFB: full intra request (RFC 5104 §4.3.1) */
    RTCP_FMT_AFB = 15,  /* PSFB: application layer feedback; REMB lives here */
};

enum rtcp_status {
    RTCP_OK,
    RTCP_END,        /* iterator: no more packets */
    RTCP_MALFORMED,  /* bad version, length past the end, misplaced padding, body too short for its count */
};

/* One packet of a compound; body is the bytes after the 4-byte header
 * without padding. */
struct rtcp_pkt {
    uint8_t pt;          /* enum rtcp_type, or any other value */
    uint8_t count;       /* RC/SC/FMT: the 5-bit field */
    uint8_t padding;     /* P bit (only ever set on the last packet) */
    const uint8_t *raw;  /* the packet from its header */
    size_t raw_len;      /* (length field + 1) * 4 */
    const uint8_t *body;
    size_t body_len;
};

struct rtcp_iter {
    const uint8_t *buf;
    size_t len, off;
};

/* Starts walking the compound packet buf[0..len). The iterator borrows buf. */
void rtcp_iter_init(struct rtcp_iter *it, const uint8_t *buf, size_t len);
/* Yields the next packet: RTCP_OK with *out filled, RTCP_END after the last
 * one (also for an empty datagram... which the caller should not have), or
 * RTCP_MALFORMED; the caller then drops the whole datagram (whatever packets
 * it already acted on are valid). Never reads outside buf[0..len). */
enum rtcp_status rtcp_iter_next(struct rtcp_iter *it, struct rtcp_pkt *out);
/* Walks the whole compound: 0 if every packet is well framed and there is
 * at least one, -EBADMSG otherwise. */
int rtcp_validate(const uint8_t *buf, size_t len);

/* --- reports --- */

struct rtcp_report_block {
    uint32_t ssrc;
    uint8_t fraction_lost;   /* 8-bit fixed point, lost/expected × 256 */
    int32_t cumulative_lost; /* 24-bit signed */
    uint32_t highest_seq;    /* extended highest sequence number received */
    uint32_t jitter;
    uint32_t lsr, dlsr;
};

struct rtcp_sr {
    uint32_t ssrc;
    uint32_t ntp_sec, ntp_frac;
    uint32_t rtp_ts;
    uint32_t packet_count, octet_count;
    size_t nblocks;
    struct rtcp_report_block blocks[RTCP_MAX_BLOCKS];
};

struct rtcp_rr {
    uint32_t ssrc;
    size_t nblocks;
    struct rtcp_report_block blocks[RTCP_MAX_BLOCKS];
};

/* The parsers take a packet from the iterator and return 0, -EINVAL if it
 * is not of their type, or -EBADMSG if its body is too short for its count
 * or (where the RFC fixes it) has the wrong size. Profile-specific
 * extensions after an SR's or RR's report blocks are ignored. */
int rtcp_parse_sr(const struct rtcp_pkt *p, struct rtcp_sr *out);
int rtcp_parse_rr(const struct rtcp_pkt *p, struct rtcp_rr *out);

/* --- SDES and BYE --- */

/* An SDES chunk: its SSRC and its CNAME item (NULL/0 if it has none). Other
 * items are checked for framing and skipped. */
struct rtcp_sdes_chunk {
    uint32_t ssrc;
    const uint8_t *cname;
    uint8_t cname_len;
};
struct rtcp_sdes {
    size_t nchunks;
    struct rtcp_sdes_chunk chunks[RTCP_MAX_BLOCKS];
};
/* Every chunk must end with a null item and padding to a 32-bit boundary
 * inside the body. */
int rtcp_parse_sdes(const struct rtcp_pkt *p, struct rtcp_sdes *out);

struct rtcp_bye {
    size_t nssrcs;
    uint32_t ssrcs[RTCP_MAX_BLOCKS];
    const uint8_t *reason;   /* NULL if none */
    uint8_t reason_len;
};
int rtcp_parse_bye(const struct rtcp_pkt *p, struct rtcp_bye *out);

/* --- feedback (RFC 4585 §6.1: sender SSRC, media SSRC, FCI) --- */

struct rtcp_fb {
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    const uint8_t *fci;  /* feedback control information */
    size_t fci_len;
};
/* Any RTPFB or PSFB packet: its two SSRCs and FCI. */
int rtcp_parse_fb(const struct rtcp_pkt *p, struct rtcp_fb *out);

/* Generic NACK: the FCI is a list of (PID, BLP) pairs; -EBADMSG unless it
 * is a non-empty multiple of 4 bytes. */
int rtcp_parse_nack(const struct rtcp_pkt *p, struct rtcp_fb *out);
/* Expands a NACK's pairs into the lost sequence numbers in wire order
 * (duplicates kept). Stores up to cap of them; returns how many there are
 * in all (which may exceed cap: at most 17 per pair). */
size_t rtcp_nack_seqs(const struct rtcp_fb *nack, uint16_t *out, size_t cap);

/* PLI: -EBADMSG if it carries an FCI. */
int rtcp_parse_pli(const struct rtcp_pkt *p, struct rtcp_fb *out);

/* FIR: entries of (SSRC, command sequence number). */
struct rtcp_fir_entry {
    uint32_t ssrc;
    uint8_t seq;
};
/* Stores up to cap entries; returns how many the packet holds, or
 * -EINVAL/-EBADMSG (the FCI must be a non-empty multiple of 8 bytes). */
int rtcp_parse_fir(const struct rtcp_pkt *p, uint32_t *sender_ssrc, struct rtcp_fir_entry *out, size_t cap);

/* REMB (draft-alvestrand-rmcat-remb-03): an AFB whose FCI starts "REMB". */
struct rtcp_remb {
    uint32_t sender_ssrc;
    uint64_t bitrate;       /* bits per second; UINT64_MAX if it overflows */
    size_t nssrcs;
    uint32_t ssrcs[255];
};
/* -EINVAL if p is not an AFB with the "REMB" identifier, -EBADMSG if the
 * SSRC count disagrees with the FCI length. */
int rtcp_parse_remb(const struct rtcp_pkt *p, struct rtcp_remb *out);

/* Transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1). */
enum rtcp_twcc_symbol {
    RTCP_TWCC_NOT_RECEIVED = 0,
    RTCP_TWCC_SMALL_DELTA = 1, /* received, 1-byte delta 0..63.75 ms */
    RTCP_TWCC_LARGE_DELTA = 2, /* received, 2-byte signed delta */
};
struct rtcp_twcc_packet {
    uint16_t seq;
    uint8_t status;   /* enum rtcp_twcc_symbol */
    int32_t delta;    /* receive delta in 250 µs units; 0 if not received */
};
struct rtcp_twcc {
    uint32_t sender_ssrc, media_ssrc;
    uint16_t base_seq;
    uint16_t status_count;
    int32_t ref_time;     /* 24-bit signed, in 64 ms units */
    uint8_t fb_count;     /* feedback packet count */
};
/* Parses the header, every packet status chunk and every receive delta;
 * packet i (seq base_seq + i) goes to pkts[i]. Returns 0; -EINVAL if p is
 * not transport-cc feedback; -EBADMSG if chunks or deltas run past the
 * FCI, a chunk holds the reserved symbol 3, or more than 3 bytes of zero
 * padding remain after the deltas; -ENOSPC if status_count > cap (the header
 * in *out is still filled). */
int rtcp_parse_twcc(const struct rtcp_pkt *p, struct rtcp_twcc *out, struct rtcp_twcc_packet *pkts, size_t cap);

/* --- builders: return bytes written, or -ENOBUFS --- */

/* Generic NACK for the lost sequence numbers seqs[0..n) (n ≥ 1), which
 * must be in increasing order with wrap-around; each run of up to 17 within
 * a window becomes one (PID, BLP) pair. */
int rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                    const uint16_t *seqs, size_t n);
int rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);
/* One FIR entry for media_ssrc with command sequence number seq (the caller
 * increments it per new request, RFC 5104 §4.3.1.1). */
int rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t seq);
/* REMB for bitrate bits/s about ssrcs[0..n) (n ≤ 255); the 18-bit mantissa
 * is rounded down. */
int rtcp_build_remb(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
                    const uint32_t *ssrcs, size_t n);
/* RR with rr->nblocks (≤ 31) report blocks. */
int rtcp_build_rr(uint8_t *buf, size_t cap, const struct rtcp_rr *rr);
/* SR with sr->nblocks (≤ 31) report blocks. */
int rtcp_build_sr(uint8_t *buf, size_t cap, const struct rtcp_sr *sr);

#endif
