/*
 * udp_demux — what a datagram on the main UDP port is, and who gets it.
 *
 * TURN, ICE checks, DTLS and SRTP/SRTCP all arrive on the one port. RFC
 * 7983 tells them apart by the first byte; tincan adds one split inside
 * STUN: a Binding request that carries a USERNAME is an ICE connectivity
 * check (for the SFU's ICE-lite agent, routed by the ufrag before the
 * colon), everything else STUN is for the STUN/TURN server, which must not
 * answer other people's ICE checks. Pure: bytes in, a kind out.
 */
#ifndef TINCAN_UDP_DEMUX_H
#define TINCAN_UDP_DEMUX_H

#include <stddef.h>
#include <stdint.h>

enum udp_kind {
    UDP_KIND_STUN,         /* 0-3: STUN for the TURN server (Binding, Allocate, ..., Send) */
    UDP_KIND_ICE,          /* 0-3: a Binding request with USERNAME, an ICE check */
    UDP_KIND_DTLS,         /* 20-63 */
    UDP_KIND_CHANNELDATA,  /* 64-127: TURN channels 0x4000-0x7FFF */
    UDP_KIND_RTP,          /* 128-191: SRTP and SRTCP */
    UDP_KIND_OTHER,        /* empty, ZRTP, anything else: dropped */
    UDP_KINDS
};

/* The kind of one datagram. A STUN message whose attributes do not walk
 * cleanly is UDP_KIND_STUN (the STUN server drops what it cannot decode). */
enum udp_kind udp_demux(const uint8_t *buf, size_t len);
/* The USERNAME value of a STUN message: 0 with *user pointing into buf, or
 * -1 if there is none or the attributes do not walk cleanly. */
int udp_demux_username(const uint8_t *buf, size_t len, const uint8_t **user, size_t *userlen);
/* A kind's name for logs and /metrics ("stun", "ice", ...). */
const char *udp_kind_name(enum udp_kind kind);

#endif
