/*
 * policy — which peers a TURN allocation may talk to.
 *
 * By default every IANA special-purpose range is refused (loopback, private,
 * link-local with the cloud metadata address, CGNAT, documentation,
 * multicast, NAT64, 6to4, ULA, ...), and every IPv4-mapped IPv6 address,
 * so that the relay cannot be pointed at the server's own network.
 * --deny-peer adds ranges, --allow-peer opens ranges, --allow-loopback-peers
 * opens 127/8 and ::1 (for tests).
 *
 * This host's own addresses (the relay and external addresses, --bind,
 * every interface address, all of loopback) are refused whatever the
 * ranges say, so that the relay cannot reach services on the server itself
 * (CVE-2020-26262): only relay-range ports are peers there, and those are
 * delivered in process to the allocation that owns the port. An --allow-peer
 * rule with ports (CIDR@LO-HI) may open other ports of an own address; the
 * main port stays closed to the network, and when the SFU runs in the same
 * process (sfu_peer) it is a peer in process only: the relay hands its
 * data to the SFU, never to the socket. Pure.
 */
#ifndef TINCAN_POLICY_H
#define TINCAN_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "../stun/stun.h"

#define POLICY_MAX_RULES 32
#define POLICY_MAX_LOCAL 256

/* An address range; IPv4 ranges are stored IPv4-mapped (::ffff:a.b.c.d/96+n).
 * Ports port_lo..port_hi, or every port when port_hi is 0. */
struct cidr {
    uint8_t ip[16];
    int bits;
    uint16_t port_lo, port_hi;
};

struct turn_policy {
    struct cidr allow[POLICY_MAX_RULES], deny[POLICY_MAX_RULES];
    int nallow, ndeny;
    int allow_loopback;
    struct stun_addr local[POLICY_MAX_LOCAL]; /* this host's addresses (ports ignored) */
    int nlocal;
    uint16_t main_port;                       /* never a peer on an own address */
    uint16_t relay_lo, relay_hi;              /* the relay port range */
    int sfu_peer;                             /* the main port of an own address is the SFU, in process */
};

/* What may be done with a peer address. */
enum policy_verdict {
    POLICY_REFUSED,   /* 403; nothing is sent there */
    POLICY_NETWORK,   /* a peer on the network: sent through the relay socket */
    POLICY_RELAY,     /* a relay port of this server: delivered in process only */
    POLICY_SFU,       /* the main port of this server with the SFU on: delivered in process only */
};

/* Parses "10.0.0.0/8", "fc00::/7" or a single address, each optionally with
 * "@PORT" or "@LO-HI". 0 or -1. */
int policy_parse_cidr(const char *text, struct cidr *out);
/* True if peer's address passes the ranges (ports of rules are not looked
 * at, own addresses are not special). */
int policy_peer_allowed(const struct turn_policy *p, const struct stun_addr *peer);
/* Adds an own address (IPv4-mapped IPv6 is stored as IPv4; duplicates are
 * ignored). 0, or -1 when the table is full. */
int policy_add_local(struct turn_policy *p, const struct stun_addr *a);
/* True if peer's IP is this host's (a listed address or loopback). */
int policy_is_local(const struct turn_policy *p, const struct stun_addr *peer);
/* The verdict for peer (address and port), own addresses included. */
enum policy_verdict policy_peer(const struct turn_policy *p, const struct stun_addr *peer);

#endif
