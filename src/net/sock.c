/*
 * sock — listening sockets and address helpers (see sock.h).
 */
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int fill_addr(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    if (!addr) {
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_any;
        s6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*s6);
        return 0;
    }
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *len = sizeof(*s4);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*s6);
        return 0;
    }
    return -EINVAL;
}

static int open_listener(const struct sockaddr_storage *ss, socklen_t len, int dual_stack)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss->ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &zero : &one, sizeof(int));
    if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 4096) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int sock_listen_tcp(const char *addr, int port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (fill_addr(addr, port, &ss, &len) < 0) {
        snprintf(err, errlen, "invalid bind address '%s'", addr);
        return -EINVAL;
    }
    int fd = open_listener(&ss, len, addr == NULL);
    if (fd == -EAFNOSUPPORT && !addr) {
        /* No IPv6 on this host: all IPv4 addresses then. */
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        memset(&ss, 0, sizeof(ss));
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        fd = open_listener(&ss, sizeof(*s4), 0);
    }
    if (fd < 0)
        snprintf(err, errlen, "cannot listen on %s port %d: %s", addr ? addr : "all addresses", port,
                 strerror(-fd));
    return fd;
}

int sock_accept(int lfd, struct sockaddr_storage *peer)
{
    socklen_t len = sizeof(*peer);
    int fd = accept4(lfd, (struct sockaddr *)peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

void sock_ip_from(const struct sockaddr_storage *peer, struct sock_ip *ip)
{
    memset(ip, 0, sizeof(*ip));
    if (peer->ss_family == AF_INET6) {
        memcpy(ip->b, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
    } else if (peer->ss_family == AF_INET) {
        ip->b[10] = ip->b[11] = 0xff;
        memcpy(ip->b + 12, &((const struct sockaddr_in *)peer)->sin_addr, 4);
    }
}

void sock_ip_to_source(struct sock_ip *ip)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(ip->b, mapped, 12) != 0)
        memset(ip->b + 8, 0, 8);
}

void sock_ip_source(const struct sockaddr_storage *peer, struct sock_ip *ip)
{
    sock_ip_from(peer, ip);
    sock_ip_to_source(ip);
}

const char *sock_ip_str(const struct sock_ip *ip, char *out, size_t len)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(ip->b, mapped, 12) == 0)
        inet_ntop(AF_INET, ip->b + 12, out, (socklen_t)len);
    else
        inet_ntop(AF_INET6, ip->b, out, (socklen_t)len);
    return out;
}

long sock_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return (long)rl.rlim_cur;
}

int sock_recv_batch(int fd, struct sock_batch *b)
{
    struct mmsghdr msgs[SOCK_BATCH];
    struct iovec iov[SOCK_BATCH];
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < SOCK_BATCH; i++) {
        iov[i] = (struct iovec){ b->buf[i], sizeof(b->buf[i]) };
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &b->from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
    }
    int n = recvmmsg(fd, msgs, SOCK_BATCH, MSG_DONTWAIT, NULL);
    for (int i = 0; i < n; i++) {
        b->fromlen[i] = msgs[i].msg_hdr.msg_namelen;
        b->len[i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? SOCK_DATAGRAM_MAX + 1 : msgs[i].msg_len;
    }
    return n < 0 ? 0 : n;
}

void sock_udp_buffers(int fd)
{
    int size = 4 << 20;
    /* SO_RCVBUFFORCE passes the system ceiling when we may (root, CAP_NET_ADMIN). */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}
