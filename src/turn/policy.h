/*
 * policy — which peers a TURN allocation may talk to.
 *
 * By default every IANA special-purpose range is refused (loopback, private,
 * link-local with the cloud metadata address, CGNAT, documentation,
 * multicast, NAT64, 6to4, ULA, ...), and every IPv4-mapped IPv6 address,
 * so that the relay cannot be pointed at the server's own network.
 * --deny-peer adds ranges, --allow-peer opens ranges, --allow-loopback-peers
 * opens 127/8 and ::1 (for tests). The server's own relay addresses are
 * allowed by the caller before the policy is asked. Pure.
 */
#ifndef TINCAN_POLICY_H
#define TINCAN_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "../stun/stun.h"

#define POLICY_MAX_RULES 32

/* An address range; IPv4 ranges are stored IPv4-mapped (::ffff:a.b.c.d/96+n). */
struct cidr {
    uint8_t ip[16];
    int bits;
};

struct turn_policy {
    struct cidr allow[POLICY_MAX_RULES], deny[POLICY_MAX_RULES];
    int nallow, ndeny;
    int allow_loopback;
};

/* Parses "10.0.0.0/8", "fc00::/7" or a single address. 0 or -1. */
int policy_parse_cidr(const char *text, struct cidr *out);
/* True if peer may be used. */
int policy_peer_allowed(const struct turn_policy *p, const struct stun_addr *peer);

#endif
