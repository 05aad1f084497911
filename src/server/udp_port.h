/*
 * udp_port — the main UDP port: one socket, one demultiplexer, one batch
 * each way.
 *
 * Every datagram on the main port is read here (recvmmsg, with the address
 * it was sent to), classified by udp_demux (RFC 7983 plus the ICE/TURN split
 * by USERNAME) and handed to the handler routed for its kind: the STUN/TURN
 * server for STUN and ChannelData today, the SFU for ICE checks, DTLS and
 * SRTP next. A kind with no handler is dropped and counted. Answers are
 * queued with the local address they must leave from and sent in one
 * sendmmsg once the loop has handled the current events.
 */
#ifndef TINCAN_UDP_PORT_H
#define TINCAN_UDP_PORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../base/loop.h"
#include "../net/udp_demux.h"

struct udp_port;

/* One datagram as a handler sees it; valid for the call only. */
struct udp_packet {
    const uint8_t *buf;
    size_t len;
    const struct sockaddr_storage *from; /* the sender */
    socklen_t fromlen;
    const struct sockaddr_storage *local; /* our address it was sent to */
};

typedef void (*udp_port_fn)(void *ctx, struct udp_port *port, const struct udp_packet *p);

struct udp_port_stats {
    uint64_t received[UDP_KINDS];  /* datagrams by kind */
    uint64_t unrouted[UDP_KINDS];  /* of those, dropped for want of a handler */
    uint64_t oversized;            /* longer than a datagram we take: dropped */
    uint64_t sent, send_dropped;   /* datagrams out, and those the kernel refused */
};

/* Opens the port on addr (NULL: every address) and starts reading. With
 * group set, the socket is the receiver of an SO_REUSEPORT group (udp.h):
 * the SFU's media threads then send from the same port with sockets of
 * their own, and every datagram still comes here. NULL with a message in
 * err if the socket cannot be bound. */
struct udp_port *udp_port_new(struct loop *loop, const char *addr, int port, int group, char *err, size_t errlen);
/* Sends what is queued, stops reading, closes; udp_port_free(NULL) is safe. */
void udp_port_free(struct udp_port *u);
/* Routes kind to fn(ctx, ...); fn NULL drops that kind again. */
void udp_port_route(struct udp_port *u, enum udp_kind kind, udp_port_fn fn, void *ctx);
/* Queues a datagram to `to`, leaving from local (the address a request came
 * to; NULL lets the kernel choose). Sent when the loop's current events are
 * handled, or sooner when the batch fills. */
void udp_port_send(struct udp_port *u, const struct sockaddr_storage *local, const struct sockaddr_storage *to,
                   socklen_t tolen, const uint8_t *buf, size_t len);
/* The socket, for senders of its group that share it when they cannot
 * have their own. */
int udp_port_fd(const struct udp_port *u);
/* Counters for /metrics and tests. */
struct udp_port_stats udp_port_stats(const struct udp_port *u);

#endif
