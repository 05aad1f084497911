/*
 * udp — datagram I/O that knows both ends of every packet.
 *
 * A UDP socket bound to the wildcard address receives on every address of
 * the host. An answer must leave from the address the request was sent to,
 * or the client (a browser's ICE agent, a TURN client) drops it: on a host
 * with two addresses, every IPv6 host, floating IPs. So the socket asks the
 * kernel for each datagram's destination (IP_PKTINFO, IPV6_RECVPKTINFO) and
 * every send names its source the same way. Reads and writes are batched
 * (recvmmsg, sendmmsg); the batches are plain structs owned by the caller
 * (one per loop), never static state.
 */
#ifndef TINCAN_UDP_H
#define TINCAN_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define UDP_BATCH 32
#define UDP_DATAGRAM_MAX 1500

/* One received datagram: who sent it, to which of our addresses. */
struct udp_rx {
    struct sockaddr_storage from;  /* the sender, as the socket's family shows it */
    socklen_t fromlen;
    struct sockaddr_storage local; /* our address it was sent to (port 0 if unknown) */
    size_t len;                    /* UDP_DATAGRAM_MAX + 1: truncated, drop it */
};

/* Up to UDP_BATCH datagrams read with one system call. */
struct udp_rx_batch {
    uint8_t buf[UDP_BATCH][UDP_DATAGRAM_MAX + 1];
    struct udp_rx pkt[UDP_BATCH];
    uint8_t control[UDP_BATCH][128]; /* room for IPV6_PKTINFO and IP_PKTINFO together */
    uint16_t port;                   /* the socket's port (network order), learned on the first read */
};

/* Datagrams queued to go out with one system call. */
struct udp_tx_batch {
    uint8_t buf[UDP_BATCH][UDP_DATAGRAM_MAX];
    size_t len[UDP_BATCH];
    struct sockaddr_storage to[UDP_BATCH];
    socklen_t tolen[UDP_BATCH];
    uint8_t control[UDP_BATCH][64];
    size_t controllen[UDP_BATCH];
    int n;
    uint64_t sent, dropped;        /* datagrams the kernel took / refused (EAGAIN, errors) */
    uint64_t segmented;            /* of the sent, those that went in a GSO group */
    int no_gso;                    /* the kernel or route refused UDP_SEGMENT: never again */
};

/* Opens a non-blocking UDP socket on addr (NULL: every IPv4 and IPv6
 * address; "::" every IPv6 one, as for the TCP listener) and port, with destination addresses reported on receive
 * and 4 MiB kernel buffers. Returns the fd, or -errno with a message in err. */
int udp_open(const char *addr, int port, char *err, size_t errlen);

/* Sockets that share one address and port (SO_REUSEPORT): the receiver
 * gets every datagram that comes to it (a classic BPF program steers the
 * whole group to its first socket, so it must be opened first); the
 * senders only send, from the same address and port, each from its own
 * thread. */
enum udp_group { UDP_GROUP_NONE, UDP_GROUP_RECEIVER, UDP_GROUP_SENDER };
/* udp_open() for a member of such a group. Same returns. */
int udp_open_group(const char *addr, int port, enum udp_group group, char *err, size_t errlen);
/* Reads what fd has into b; returns the count (0 if none). A batch serves
 * one socket (it keeps that socket's port). */
int udp_recv_batch(int fd, struct udp_rx_batch *b);
/* Queues a datagram from local (as reported by udp_recv_batch; port 0 or
 * family AF_UNSPEC: let the kernel choose) to to. Flushes first if the batch
 * is full. Datagrams over UDP_DATAGRAM_MAX are counted as dropped. */
void udp_tx_queue(struct udp_tx_batch *b, int fd, const struct sockaddr_storage *local,
                  const struct sockaddr_storage *to, socklen_t tolen, const uint8_t *buf, size_t len);
/* Sends every queued datagram (sendmmsg); what the kernel refuses is
 * dropped and counted. The batch is empty afterwards. A run of queued
 * datagrams of one size, to one address from one local address, goes as
 * one GSO message (UDP_SEGMENT): one trip down the stack for the run, cut
 * into the same datagrams on the way out. Where the kernel refuses that,
 * they go one by one and the batch stops trying. */
void udp_tx_flush(struct udp_tx_batch *b, int fd);

#endif
