/*
 * relay — the TURN data path: one relay socket per allocation (opened
 * through the embedder's turn_relay_ops), on a port from the configured
 * range; data from peers to clients as ChannelData or Data indications;
 * data from clients to peers, in process when the peer is a relay port of
 * this server (two browsers that both relay through tincan), with the same
 * permission and channel checks either way. relay_to_peer() is the one
 * place that decides "the peer is one of ours, deliver in process"; the
 * SFU in the same process plugs in there (the main port of an own address,
 * policy POLICY_SFU), and its answers come back through
 * turn_server_from_sfu().
 */
#include <errno.h>
#include <openssl/rand.h>
#include <string.h>

#include "../base/log.h"
#include "policy.h"
#include "turn.h"


/* May data go between a relay and peer? Own addresses are checked again on
 * every packet (permissions are by IP, and an own IP is a peer only on
 * some ports); other peers passed the policy when the permission was made.
 * in_process: the data comes from, or goes to, an allocation here. */
static int peer_reachable(struct turn_server *ts, const struct stun_addr *peer, int in_process)
{
    if (!policy_is_local(&ts->opt.policy, peer))
        return 1;
    enum policy_verdict v = policy_peer(&ts->opt.policy, peer);
    if (in_process ? v == POLICY_RELAY || (v == POLICY_SFU && ts->sfu.input) : v == POLICY_NETWORK)
        return 1;
    ts->stats.own_refused++;
    return 0;
}

int relay_is_own(const struct turn_server *ts, const struct stun_addr *peer)
{
    return policy_is_local(&ts->opt.policy, peer) && policy_peer(&ts->opt.policy, peer) == POLICY_RELAY;
}

/* Bytes allowed now by a's bandwidth limit; takes them if allowed. */
static int bandwidth_ok(struct turn_server *ts, struct turn_alloc *a, size_t len)
{
    uint64_t rate = ts->opt.bandwidth;
    if (!rate)
        return 1;
    uint64_t now = loop_now(ts->loop);
    a->bw_tokens += (double)(now - a->bw_last) * (double)rate / 1000.0;
    if (a->bw_tokens > (double)rate)
        a->bw_tokens = (double)rate; /* a burst of up to one second */
    a->bw_last = now;
    if (a->bw_tokens < (double)len) {
        ts->stats.bandwidth_dropped++;
        return 0;
    }
    a->bw_tokens -= (double)len;
    return 1;
}

/* A transaction id for a Data indication: unpredictable, but too cheap to
 * ask the system for per packet (xorshift64*, seeded from OpenSSL; the
 * state is the server's, nothing is shared between servers or loops). */
static void next_txid(struct turn_server *ts, uint8_t out[STUN_TXID_LEN])
{
    uint64_t state = ts->txid_state;
    while (!state)
        RAND_bytes((unsigned char *)&state, sizeof(state));
    for (int i = 0; i < STUN_TXID_LEN; i += 4) {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        uint32_t v = (uint32_t)((state * 0x2545F4914F6CDD1Dull) >> 32);
        memcpy(out + i, &v, 4);
    }
    ts->txid_state = state;
}

/* Data from peer arrived at a's relayed address: to the client, if allowed. */
void relay_deliver(struct turn_server *ts, struct turn_alloc *a, const struct stun_addr *peer, const uint8_t *data,
                   size_t len, int in_process)
{
    uint64_t now = loop_now(ts->loop);
    if (!alloc_permitted(&a->st, peer, now) || !peer_reachable(ts, peer, in_process) || !bandwidth_ok(ts, a, len))
        return;
    uint8_t out[TURN_MAX_DATAGRAM + 64];
    int stream = a->src.transport != TURN_UDP;
    const struct alloc_channel *ch = alloc_channel_by_peer(&a->st, peer, now);
    int n;
    if (ch) {
        if (len > sizeof(out) - STUN_CHANNELDATA_HEADER - 3)
            return;
        memcpy(out + STUN_CHANNELDATA_HEADER, data, len);
        n = stun_channeldata_frame(out, sizeof(out), ch->number, len, stream);
    } else {
        struct stun_builder b;
        uint8_t txid[STUN_TXID_LEN];
        next_txid(ts, txid);
        stun_builder_init(&b, out, sizeof(out), stun_type(STUN_DATA, STUN_INDICATION), txid);
        stun_builder_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
        stun_builder_add(&b, STUN_ATTR_DATA, data, len);
        n = stun_builder_finish(&b);
    }
    if (n <= 0)
        return;
    ts->stats.relayed_packets++;
    ts->stats.relayed_bytes += len;
    ts->stats.to_client_packets++;
    ts->stats.to_client_bytes += len;
    turn_send_client(a, out, (size_t)n);
}

void relay_to_peer(struct turn_server *ts, struct turn_alloc *a, const struct stun_addr *peer, const uint8_t *data,
                   size_t len)
{
    if (!alloc_permitted(&a->st, peer, loop_now(ts->loop)))
        return;
    int own = relay_is_own(ts, peer);
    int sfu = !own && ts->sfu.input && policy_is_local(&ts->opt.policy, peer) &&
              policy_peer(&ts->opt.policy, peer) == POLICY_SFU;
    if (!peer_reachable(ts, peer, own || sfu) || !bandwidth_ok(ts, a, len))
        return;
    if (sfu) {
        /* The browser relays to our SFU: handed over, no trip through the kernel. */
        ts->stats.to_peer_packets++;
        ts->stats.to_peer_bytes += len;
        ts->sfu.input(ts->sfu.ctx, &a->relayed, peer, data, len);
        return;
    }
    if (own) {
        /* Both ends relay through us: no trip through the kernel. */
        struct turn_alloc *to = ts->by_port[peer->port - ts->opt.port_lo];
        if (to && to != a) {
            ts->stats.to_peer_packets++;
            ts->stats.to_peer_bytes += len;
            relay_deliver(ts, to, &a->relayed, data, len, 1);
        }
        return;
    }
    ts->opt.relay.send(ts->opt.relay.ctx, a->handle, peer, data, len);
    ts->stats.relayed_packets++;
    ts->stats.relayed_bytes += len;
    ts->stats.to_peer_packets++;
    ts->stats.to_peer_bytes += len;
}

void turn_server_set_sfu(struct turn_server *ts, const struct turn_sfu_ops *sfu)
{
    memset(&ts->sfu, 0, sizeof(ts->sfu));
    if (sfu)
        ts->sfu = *sfu;
    ts->opt.policy.sfu_peer = ts->sfu.input != NULL;
}

int turn_server_from_sfu(struct turn_server *ts, const struct stun_addr *from, const struct stun_addr *to,
                         const uint8_t *data, size_t len)
{
    size_t n = to->family == STUN_IPV4 ? 4 : 16;
    if (to->port < ts->opt.port_lo || to->port > ts->opt.port_hi || to->family != ts->relay_public.family ||
        memcmp(to->ip, ts->relay_public.ip, n) != 0)
        return -1;
    struct turn_alloc *a = ts->by_port[to->port - ts->opt.port_lo];
    if (!a)
        return -1;
    relay_deliver(ts, a, from, data, len, 1);
    return 0;
}

void relay_channel_from_client(struct turn_server *ts, struct turn_alloc *a, const uint8_t *buf, size_t len)
{
    struct stun_channeldata cd;
    if (stun_channeldata_parse(buf, len, a->src.transport != TURN_UDP, &cd) < 0)
        return;
    const struct alloc_channel *ch = alloc_channel_by_number(&a->st, cd.channel, loop_now(ts->loop));
    if (ch)
        relay_to_peer(ts, a, &ch->peer, cd.data, cd.len);
}

int relay_open(struct turn_server *ts, struct turn_alloc *a, int dont_fragment, int even)
{
    int span = ts->opt.port_hi - ts->opt.port_lo + 1;
    if (!ts->opt.relay.open)
        return -EADDRINUSE;
    /* Start at a random place in the range so ports are not predictable. */
    uint32_t start;
    RAND_bytes((unsigned char *)&start, sizeof(start));
    for (int i = 0; i < span; i++) {
        int port = ts->opt.port_lo + (int)((start + (uint32_t)i) % (uint32_t)span);
        if (ts->by_port[port - ts->opt.port_lo] || (even && port % 2))
            continue;
        void *h = ts->opt.relay.open(ts->opt.relay.ctx, (uint16_t)port, dont_fragment);
        if (!h)
            continue; /* taken by another program */
        a->handle = h;
        a->port = (uint16_t)port;
        a->relayed = ts->relay_public;
        a->relayed.port = (uint16_t)port;
        ts->by_port[port - ts->opt.port_lo] = a;
        return 0;
    }
    return -EADDRINUSE;
}

void relay_close(struct turn_server *ts, struct turn_alloc *a)
{
    if (!a->handle)
        return;
    ts->opt.relay.close(ts->opt.relay.ctx, a->handle);
    a->handle = NULL;
    ts->by_port[a->port - ts->opt.port_lo] = NULL;
}
