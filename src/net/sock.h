/*
 * sock — listening sockets and address helpers.
 */
#ifndef TINCAN_SOCK_H
#define TINCAN_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The part of a peer address that identifies a source: 16 bytes, IPv4 as
 * IPv4-mapped IPv6 so that both socket families count alike. */
struct sock_ip {
    uint8_t b[16];
};

/* Opens a non-blocking TCP listener on addr (NULL: all IPv4 and IPv6
 * addresses) and port. Returns the fd, or -errno with a message in err. */
int sock_listen_tcp(const char *addr, int port, char *err, size_t errlen);
/* Accepts one connection as a non-blocking, close-on-exec fd; -errno if none. */
int sock_accept(int lfd, struct sockaddr_storage *peer);
/* Extracts the source address of peer. */
void sock_ip_from(const struct sockaddr_storage *peer, struct sock_ip *ip);
/* Extracts the source that per-source limits count: like sock_ip_from(),
 * except that a native IPv6 address keeps only its /64 prefix (the low 64
 * bits are zero), since one host or one subscriber usually owns a whole /64.
 * IPv4 and IPv4-mapped addresses are the address itself. */
void sock_ip_source(const struct sockaddr_storage *peer, struct sock_ip *ip);
/* The same reduction applied to an address already extracted. */
void sock_ip_to_source(struct sock_ip *ip);
/* Formats ip as text ("127.0.0.1", "::1"). */
const char *sock_ip_str(const struct sock_ip *ip, char *out, size_t len);
#define SOCK_BATCH 32
#define SOCK_DATAGRAM_MAX 1500

/* Buffers for reading up to SOCK_BATCH datagrams with one system call. A
 * datagram longer than SOCK_DATAGRAM_MAX comes back with len ==
 * SOCK_DATAGRAM_MAX + 1 so the caller can drop it. */
struct sock_batch {
    uint8_t buf[SOCK_BATCH][SOCK_DATAGRAM_MAX + 1];
    struct sockaddr_storage from[SOCK_BATCH];
    socklen_t fromlen[SOCK_BATCH];
    size_t len[SOCK_BATCH];
};

/* Gives a UDP socket 4 MiB of kernel buffers each way, so that a burst of
 * media does not overflow the default ~200 KiB before the loop gets to it. */
void sock_udp_buffers(int fd);
/* Reads what fd has (recvmmsg) into b; returns the count, 0 if none. */
int sock_recv_batch(int fd, struct sock_batch *b);

/* Raises the soft limit of open files to the hard limit; returns the new limit. */
long sock_raise_nofile(void);

#endif
