/*
 * udp — datagram I/O that knows both ends of every packet (see udp.h).
 */
#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sock.h"

/* Fills ss from addr text (NULL: the IPv6 wildcard). */
static int bind_addr(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (addr && inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *len = sizeof(*s4);
        return 0;
    }
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    *len = sizeof(*s6);
    if (addr && inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
        return -EINVAL;
    return 0;
}

int udp_open(const char *addr, int port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (bind_addr(addr, port, &ss, &len) < 0) {
        snprintf(err, errlen, "not an IP address: '%s'", addr);
        return -EINVAL;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -errno;
    }
    int one = 1, dual_stack = addr == NULL;
    /* IPv4 datagrams report their destination with IP_PKTINFO, on an
     * IPv6 socket too (v4-mapped); IPv6 ones with IPV6_PKTINFO. */
    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    if (ss.ss_family == AF_INET6) {
        int v6only = !dual_stack; /* like the TCP listener: an explicit "::" is IPv6 only */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    }
    sock_udp_buffers(fd);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s", strerror(e));
        close(fd);
        return -e;
    }
    return fd;
}

/* The destination address of a received datagram, from its control data. */
static void read_local(struct msghdr *mh, uint16_t port, struct sockaddr_storage *local)
{
    memset(local, 0, sizeof(*local));
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            struct sockaddr_in *s4 = (struct sockaddr_in *)local;
            s4->sin_family = AF_INET;
            s4->sin_addr = pi.ipi_addr;
            s4->sin_port = port;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)local;
            s6->sin6_family = AF_INET6;
            s6->sin6_addr = pi.ipi6_addr;
            s6->sin6_port = port;
        }
    }
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    return ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port : ((struct sockaddr_in6 *)&ss)->sin6_port;
}

int udp_recv_batch(int fd, struct udp_rx_batch *b)
{
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < UDP_BATCH; i++) {
        iov[i] = (struct iovec){ b->buf[i], sizeof(b->buf[i]) };
        struct msghdr *mh = &msgs[i].msg_hdr;
        mh->msg_iov = &iov[i];
        mh->msg_iovlen = 1;
        mh->msg_name = &b->pkt[i].from;
        mh->msg_namelen = sizeof(b->pkt[i].from);
        mh->msg_control = b->control[i];
        mh->msg_controllen = sizeof(b->control[i]);
    }
    int n = recvmmsg(fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
        return 0;
    if (!b->port)
        b->port = bound_port(fd); /* once: not a system call per read */
    uint16_t port = b->port;
    for (int i = 0; i < n; i++) {
        struct udp_rx *p = &b->pkt[i];
        p->fromlen = msgs[i].msg_hdr.msg_namelen;
        p->len = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? UDP_DATAGRAM_MAX + 1 : msgs[i].msg_len;
        read_local(&msgs[i].msg_hdr, port, &p->local);
    }
    return n;
}

/* Control data that makes a datagram leave from local; its length (0: none). */
static size_t write_local(uint8_t *control, size_t cap, const struct sockaddr_storage *local)
{
    memset(control, 0, cap);
    struct cmsghdr *c = (struct cmsghdr *)(void *)control;
    if (local->ss_family == AF_INET) {
        struct in_pktinfo pi = { .ipi_spec_dst = ((const struct sockaddr_in *)local)->sin_addr };
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        return CMSG_SPACE(sizeof(pi));
    }
    if (local->ss_family == AF_INET6) {
        struct in6_pktinfo pi = { .ipi6_addr = ((const struct sockaddr_in6 *)local)->sin6_addr };
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        return CMSG_SPACE(sizeof(pi));
    }
    return 0;
}

void udp_tx_queue(struct udp_tx_batch *b, int fd, const struct sockaddr_storage *local,
                  const struct sockaddr_storage *to, socklen_t tolen, const uint8_t *buf, size_t len)
{
    if (len > UDP_DATAGRAM_MAX || tolen > sizeof(b->to[0])) {
        b->dropped++;
        return;
    }
    if (b->n == UDP_BATCH)
        udp_tx_flush(b, fd);
    int i = b->n++;
    memcpy(b->buf[i], buf, len);
    b->len[i] = len;
    memcpy(&b->to[i], to, tolen);
    b->tolen[i] = tolen;
    b->controllen[i] = local ? write_local(b->control[i], sizeof(b->control[i]), local) : 0;
}

void udp_tx_flush(struct udp_tx_batch *b, int fd)
{
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < b->n; i++) {
        iov[i] = (struct iovec){ b->buf[i], b->len[i] };
        struct msghdr *mh = &msgs[i].msg_hdr;
        mh->msg_iov = &iov[i];
        mh->msg_iovlen = 1;
        mh->msg_name = &b->to[i];
        mh->msg_namelen = b->tolen[i];
        mh->msg_control = b->controllen[i] ? b->control[i] : NULL;
        mh->msg_controllen = b->controllen[i];
    }
    int done = 0;
    while (done < b->n) {
        int n = sendmmsg(fd, msgs + done, (unsigned)(b->n - done), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            b->dropped += (uint64_t)(b->n - done); /* the kernel buffer is full: drop the rest */
            break;
        }
        if (n <= 0) {
            done++; /* this one is refused (bad address, no route): drop it, go on */
            b->dropped++;
            continue;
        }
        done += n;
        b->sent += (uint64_t)n;
    }
    b->n = 0;
}
