/*
 * udp — datagram I/O that knows both ends of every packet (see udp.h).
 */
#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/udp.h>
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

/* Every datagram of the port's SO_REUSEPORT group goes to the group's
 * first socket (index 0): a classic BPF program that returns 0. */
static int steer_to_first(int fd)
{
    struct sock_filter code[] = { { BPF_RET | BPF_K, 0, 0, 0 } };
    struct sock_fprog prog = { .len = 1, .filter = code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog));
}

static int open_bound(const char *addr, int port, enum udp_group group, char *err, size_t errlen)
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
    if (group != UDP_GROUP_NONE)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (group == UDP_GROUP_RECEIVER && steer_to_first(fd) < 0)) {
        int e = errno;
        snprintf(err, errlen, "%s", strerror(e));
        close(fd);
        return -e;
    }
    return fd;
}

int udp_open(const char *addr, int port, char *err, size_t errlen)
{
    return open_bound(addr, port, UDP_GROUP_NONE, err, errlen);
}

int udp_open_group(const char *addr, int port, enum udp_group group, char *err, size_t errlen)
{
    return open_bound(addr, port, group, err, errlen);
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

/* UDP GSO (UDP_SEGMENT): at most this many datagrams in one message and
 * this many bytes in all (the kernel's limits), of at most this size each,
 * so that a segment fits the smallest IPv6 path MTU with its headers. */
#define GSO_MAX_SEGMENTS 64
#define GSO_MAX_BYTES 65000
#define GSO_MAX_SEGMENT 1232

/* Do queued datagrams i and j go the same way (to, from, size)? */
static int same_run(const struct udp_tx_batch *b, int i, int j)
{
    return b->len[i] == b->len[j] && b->tolen[i] == b->tolen[j] && b->controllen[i] == b->controllen[j] &&
           memcmp(&b->to[i], &b->to[j], b->tolen[i]) == 0 &&
           memcmp(b->control[i], b->control[j], b->controllen[i]) == 0;
}

/* How many datagrams from i on can go as one GSO message. */
static int run_length(const struct udp_tx_batch *b, int i)
{
    int k = 1;
    if (b->no_gso || b->len[i] > GSO_MAX_SEGMENT || b->len[i] == 0)
        return 1;
    while (i + k < b->n && k < GSO_MAX_SEGMENTS && (size_t)(k + 1) * b->len[i] <= GSO_MAX_BYTES && same_run(b, i, i + k))
        k++;
    return k;
}

/* The messages of one flush: each is one datagram or a GSO run. */
struct tx_msgs {
    struct mmsghdr msg[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    uint8_t control[UDP_BATCH][64 + CMSG_SPACE(sizeof(uint16_t))];
    int first[UDP_BATCH], count[UDP_BATCH];
    int n;
};

/* One message for datagrams i..i+k-1 of b (UDP_SEGMENT when k > 1). */
static void add_msg(struct tx_msgs *t, struct udp_tx_batch *b, int i, int k)
{
    struct msghdr *mh = &t->msg[t->n].msg_hdr;
    memset(&t->msg[t->n], 0, sizeof(t->msg[0]));
    for (int j = i; j < i + k; j++)
        t->iov[j] = (struct iovec){ b->buf[j], b->len[j] };
    mh->msg_iov = &t->iov[i];
    mh->msg_iovlen = (size_t)k;
    mh->msg_name = &b->to[i];
    mh->msg_namelen = b->tolen[i];
    size_t cl = b->controllen[i];
    uint8_t *ctl = t->control[t->n];
    memset(ctl, 0, sizeof(t->control[0]));
    memcpy(ctl, b->control[i], cl);
    if (k > 1) {
        struct cmsghdr *c = (struct cmsghdr *)(void *)(ctl + cl);
        uint16_t seg = (uint16_t)b->len[i];
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(seg));
        memcpy(CMSG_DATA(c), &seg, sizeof(seg));
        cl += CMSG_SPACE(sizeof(seg));
    }
    mh->msg_control = cl ? ctl : NULL;
    mh->msg_controllen = cl;
    t->first[t->n] = i;
    t->count[t->n] = k;
    t->n++;
}

/* A GSO message the kernel refused: its datagrams one by one. */
static void send_singly(struct udp_tx_batch *b, int fd, const struct tx_msgs *t, int m)
{
    for (int j = t->first[m]; j < t->first[m] + t->count[m]; j++) {
        struct iovec iov = { b->buf[j], b->len[j] };
        struct msghdr mh = { .msg_name = &b->to[j], .msg_namelen = b->tolen[j], .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = b->controllen[j] ? b->control[j] : NULL,
                             .msg_controllen = b->controllen[j] };
        if (sendmsg(fd, &mh, MSG_DONTWAIT) < 0)
            b->dropped++;
        else
            b->sent++;
    }
}

/* Counts messages done..done+n-1 as sent. */
static void count_sent(struct udp_tx_batch *b, const struct tx_msgs *t, int done, int n)
{
    for (int m = done; m < done + n; m++) {
        b->sent += (uint64_t)t->count[m];
        if (t->count[m] > 1)
            b->segmented += (uint64_t)t->count[m];
    }
}

void udp_tx_flush(struct udp_tx_batch *b, int fd)
{
    struct tx_msgs t;
    t.n = 0;
    for (int i = 0; i < b->n;) {
        int k = run_length(b, i);
        add_msg(&t, b, i, k);
        i += k;
    }
    int done = 0;
    while (done < t.n) {
        int n = sendmmsg(fd, t.msg + done, (unsigned)(t.n - done), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            for (; done < t.n; done++)
                b->dropped += (uint64_t)t.count[done]; /* the kernel buffer is full: drop the rest */
            break;
        }
        if (n <= 0) {
            /* This one is refused: a GSO run the kernel or route cannot
             * take goes one by one (and no more runs are made); anything
             * else (bad address, no route) is dropped, and the rest go on. */
            if (t.count[done] > 1 && (errno == EINVAL || errno == EIO || errno == EOPNOTSUPP || errno == ENOPROTOOPT)) {
                b->no_gso = 1;
                send_singly(b, fd, &t, done);
            } else {
                b->dropped += (uint64_t)t.count[done];
            }
            done++;
            continue;
        }
        count_sent(b, &t, done, n);
        done += n;
    }
    b->n = 0;
}
