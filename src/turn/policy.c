/*
 * policy — peer address rules for TURN (see policy.h).
 */
#include "policy.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* The IANA special-purpose ranges refused by default. IPv4-mapped IPv6
 * (::ffff:0:0/96) is refused before these are looked at, because IPv4 peers
 * are compared in their mapped form. */
static const char *const denied_ranges[] = {
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
    "::/96", /* unspecified, loopback and the deprecated IPv4-compatible form */
    "::ffff:0:0:0/96",  /* SIIT IPv4-translated addresses (RFC 2765) */
    "64:ff9b::/96", "64:ff9b:1::/48", /* NAT64, well-known and local-use */
    "100::/64",         /* discard-only */
    "2001::/32",        /* Teredo: reaches IPv4 hosts through a relay */
    "2001:2::/48",      /* benchmarking */
    "2001:db8::/32", "3fff::/20", /* documentation */
    "2002::/16",        /* 6to4 */
    "5f00::/16",        /* SRv6 SIDs */
    "fc00::/7", "fe80::/10",
    "fec0::/10",        /* deprecated site-local */
    "ff00::/8",
};

/* "@PORT" or "@LO-HI" after a range. 0 or -1. */
static int parse_ports(const char *text, struct cidr *out)
{
    char *end;
    long lo = strtol(text, &end, 10), hi = lo;
    if (end == text || lo < 1 || lo > 65535)
        return -1;
    if (*end == '-') {
        const char *p = end + 1;
        hi = strtol(p, &end, 10);
        if (end == p || hi < lo || hi > 65535)
            return -1;
    }
    if (*end)
        return -1;
    out->port_lo = (uint16_t)lo;
    out->port_hi = (uint16_t)hi;
    return 0;
}

int policy_parse_cidr(const char *text, struct cidr *out)
{
    char addr[64];
    const char *at = strchr(text, '@');
    size_t tlen = at ? (size_t)(at - text) : strlen(text);
    const char *slash = memchr(text, '/', tlen);
    size_t n = slash ? (size_t)(slash - text) : tlen;
    if (n == 0 || n >= sizeof(addr) || tlen >= sizeof(addr))
        return -1;
    memcpy(addr, text, n);
    addr[n] = '\0';
    int max;
    memset(out, 0, sizeof(*out));
    if (at && parse_ports(at + 1, out) < 0)
        return -1;
    if (inet_pton(AF_INET, addr, out->ip + 12) == 1) {
        memcpy(out->ip, mapped_prefix, 12);
        max = 32;
    } else if (inet_pton(AF_INET6, addr, out->ip) == 1) {
        max = 128;
    } else {
        return -1;
    }
    int bits = max;
    if (slash) {
        char bitstext[8];
        size_t blen = tlen - n - 1;
        if (blen == 0 || blen >= sizeof(bitstext))
            return -1;
        memcpy(bitstext, slash + 1, blen);
        bitstext[blen] = '\0';
        char *end;
        long b = strtol(bitstext, &end, 10);
        if (*end || b < 0 || b > max)
            return -1;
        bits = (int)b;
    }
    out->bits = bits + (max == 32 ? 96 : 0);
    return 0;
}

static int cidr_contains(const struct cidr *c, const uint8_t ip[16])
{
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->ip, ip, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->ip[full] & mask) == (ip[full] & mask);
}

/* True if a rule of list covers ip (its ports are not looked at). */
static int in_list(const struct cidr *list, int n, const uint8_t ip[16])
{
    for (int i = 0; i < n; i++) {
        if (cidr_contains(&list[i], ip))
            return 1;
    }
    return 0;
}

#define NDENIED (sizeof(denied_ranges) / sizeof(denied_ranges[0]))

/* Parsed on each call, which is rare (a permission or channel request, never
 * a relayed packet): no shared state to set up. */
static int in_denied_ranges(const uint8_t ip[16])
{
    struct cidr c;
    for (size_t i = 0; i < NDENIED; i++) {
        if (policy_parse_cidr(denied_ranges[i], &c) == 0 && in_list(&c, 1, ip))
            return 1;
    }
    return 0;
}

static int is_loopback(const uint8_t ip[16], int v4)
{
    static const uint8_t v6_loopback[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    return v4 ? ip[12] == 127 : memcmp(ip, v6_loopback, 16) == 0;
}

/* peer's IP in the 16-byte form the rules use. */
static void rule_ip(const struct stun_addr *peer, uint8_t ip[16])
{
    if (peer->family == STUN_IPV4) {
        memcpy(ip, mapped_prefix, 12);
        memcpy(ip + 12, peer->ip, 4);
    } else {
        memcpy(ip, peer->ip, 16);
    }
}

int policy_peer_allowed(const struct turn_policy *p, const struct stun_addr *peer)
{
    uint8_t ip[16];
    int v4 = peer->family == STUN_IPV4;
    rule_ip(peer, ip);
    /* An IPv4 peer written as IPv6 is refused whatever it maps to: the
     * same address must not pass under a second spelling. */
    if (!v4 && memcmp(ip, mapped_prefix, 12) == 0)
        return 0;
    if (in_list(p->deny, p->ndeny, ip))
        return 0;
    if (in_list(p->allow, p->nallow, ip))
        return 1;
    if (p->allow_loopback && is_loopback(ip, v4))
        return 1;
    return !in_denied_ranges(ip);
}

static int same_ip(const struct stun_addr *a, const struct stun_addr *b)
{
    return a->family == b->family && memcmp(a->ip, b->ip, a->family == STUN_IPV4 ? 4 : 16) == 0;
}

int policy_add_local(struct turn_policy *p, const struct stun_addr *a)
{
    struct stun_addr x = *a;
    x.port = 0;
    if (x.family == STUN_IPV6 && memcmp(x.ip, mapped_prefix, 12) == 0) {
        x.family = STUN_IPV4;
        memmove(x.ip, x.ip + 12, 4);
        memset(x.ip + 4, 0, 12);
    }
    if (policy_is_local(p, &x))
        return 0;
    if (p->nlocal == POLICY_MAX_LOCAL)
        return -1;
    p->local[p->nlocal++] = x;
    return 0;
}

int policy_is_local(const struct turn_policy *p, const struct stun_addr *peer)
{
    uint8_t ip[16];
    rule_ip(peer, ip);
    if (is_loopback(ip, peer->family == STUN_IPV4))
        return 1;
    for (int i = 0; i < p->nlocal; i++) {
        if (same_ip(&p->local[i], peer))
            return 1;
    }
    return 0;
}

enum policy_verdict policy_peer(const struct turn_policy *p, const struct stun_addr *peer)
{
    if (!policy_is_local(p, peer))
        return policy_peer_allowed(p, peer) ? POLICY_NETWORK : POLICY_REFUSED;
    if (peer->port >= p->relay_lo && peer->port <= p->relay_hi && p->relay_hi)
        return POLICY_RELAY;
    if (peer->port == p->main_port && p->sfu_peer && p->main_port)
        return POLICY_SFU;
    if (peer->port == p->main_port || peer->port == 0)
        return POLICY_REFUSED;
    uint8_t ip[16];
    rule_ip(peer, ip);
    if (in_list(p->deny, p->ndeny, ip))
        return POLICY_REFUSED;
    /* Only a rule that names ports opens an own address; loopback opens
     * with --allow-loopback-peers (tests). */
    for (int i = 0; i < p->nallow; i++) {
        const struct cidr *c = &p->allow[i];
        if (c->port_hi && cidr_contains(c, ip) && peer->port >= c->port_lo && peer->port <= c->port_hi)
            return POLICY_NETWORK;
    }
    if (p->allow_loopback && is_loopback(ip, peer->family == STUN_IPV4))
        return POLICY_NETWORK;
    return POLICY_REFUSED;
}
