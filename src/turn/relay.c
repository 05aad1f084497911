/*
 * relay — the TURN data path: one UDP relay socket per allocation, taken
 * from the configured port range; data from peers to clients as
 * ChannelData or Data indications; data from clients to peers, in process
 * when the peer is another allocation of this server (two browsers that
 * both relay through tincan), with the same permission and channel checks
 * either way.
 */
#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "../net/sock.h"
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
    if (v == (in_process ? POLICY_RELAY : POLICY_NETWORK))
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
 * ask the system for per packet (xorshift64*, seeded once from OpenSSL). */
static void next_txid(uint8_t out[STUN_TXID_LEN])
{
    static uint64_t state;
    while (!state)
        RAND_bytes((unsigned char *)&state, sizeof(state));
    for (int i = 0; i < STUN_TXID_LEN; i += 4) {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        uint32_t v = (uint32_t)((state * 0x2545F4914F6CDD1Dull) >> 32);
        memcpy(out + i, &v, 4);
    }
}

/* Data from peer arrived at a's relayed address: to the client, if allowed. */
static void deliver(struct turn_server *ts, struct turn_alloc *a, const struct stun_addr *peer, const uint8_t *data,
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
        next_txid(txid);
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
    if (!peer_reachable(ts, peer, own) || !bandwidth_ok(ts, a, len))
        return;
    if (own) {
        /* Both ends relay through us: no trip through the kernel. */
        struct turn_alloc *to = ts->by_port[peer->port - ts->opt.port_lo];
        if (to && to != a) {
            ts->stats.to_peer_packets++;
            ts->stats.to_peer_bytes += len;
            deliver(ts, to, &a->relayed, data, len, 1);
        }
        return;
    }
    struct sockaddr_storage ss;
    socklen_t sl = stun_addr_to_sockaddr(peer, &ss);
    if (sl && sendto(a->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) >= 0) {
        ts->stats.relayed_packets++;
        ts->stats.relayed_bytes += len;
        ts->stats.to_peer_packets++;
        ts->stats.to_peer_bytes += len;
    }
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

static void on_relay_readable(struct loop *loop, struct loop_io *io, unsigned events)
{
    (void)loop;
    (void)events;
    struct turn_alloc *a = container_of(io, struct turn_alloc, io);
    struct turn_server *ts = a->ts;
    static struct sock_batch batch;
    uint16_t port = a->port; /* a may be freed by a delivery: read nothing of it after one */
    int n = sock_recv_batch(a->fd, &batch);
    for (int i = 0; i < n; i++) {
        struct stun_addr peer;
        if (batch.len[i] > TURN_MAX_DATAGRAM)
            continue; /* oversized: dropped */
        if (stun_addr_from_sockaddr(&peer, (struct sockaddr *)&batch.from[i]) < 0)
            continue;
        deliver(ts, a, &peer, batch.buf[i], batch.len[i], 0);
        if (ts->by_port[port - ts->opt.port_lo] != a)
            return; /* the allocation went away while delivering */
    }
}

static int bind_port(struct turn_server *ts, uint16_t port, int dont_fragment)
{
    struct stun_addr local = ts->relay_local;
    local.port = port;
    struct sockaddr_storage ss;
    socklen_t sl = stun_addr_to_sockaddr(&local, &ss);
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    sock_udp_buffers(fd);
    if (dont_fragment && ss.ss_family == AF_INET) {
        int v = IP_PMTUDISC_DO;
        setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
    }
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int relay_open(struct turn_server *ts, struct turn_alloc *a, int dont_fragment, int even)
{
    int span = ts->opt.port_hi - ts->opt.port_lo + 1;
    /* Start at a random place in the range so ports are not predictable. */
    uint32_t start;
    RAND_bytes((unsigned char *)&start, sizeof(start));
    for (int i = 0; i < span; i++) {
        int port = ts->opt.port_lo + (int)((start + (uint32_t)i) % (uint32_t)span);
        if (ts->by_port[port - ts->opt.port_lo] || (even && port % 2))
            continue;
        int fd = bind_port(ts, (uint16_t)port, dont_fragment);
        if (fd < 0)
            continue; /* taken by another program */
        if (loop_io_add(ts->loop, &a->io, fd, LOOP_READ, on_relay_readable) < 0) {
            close(fd);
            return -EADDRINUSE;
        }
        a->fd = fd;
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
    if (a->fd < 0)
        return;
    loop_io_del(ts->loop, &a->io);
    close(a->fd);
    a->fd = -1;
    ts->by_port[a->port - ts->opt.port_lo] = NULL;
}
