/*
 * relay_io — own addresses and relay sockets for TURN (see relay_io.h).
 *
 * One UDP socket per allocation, non-blocking, on the loop. Readable
 * sockets are drained with recvmmsg into one batch buffer that belongs to
 * the relay_io object (not a static), and each datagram is handed to
 * turn_server_relay_input(). A delivery can end the allocation and so close
 * the very socket being read: closing that one only marks it and takes it
 * off the loop, and the read loop frees it when it sees the mark.
 */
#include "relay_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "../net/sock.h"

struct relay_io {
    struct loop *loop;
    struct turn_server *ts;
    struct stun_addr local;          /* the relay address sockets bind to */
    struct relay_sock *reading;      /* the socket whose batch is being handed in */
    struct sock_batch batch;         /* one read at a time on this loop */
};

struct relay_sock {
    struct loop_io io;
    struct relay_io *owner;
    uint16_t port;
    int closed;
};

/* Adds text (an address, or NULL) to p's own addresses. */
static int add_text(struct turn_policy *p, const char *text)
{
    struct stun_addr a;
    memset(&a, 0, sizeof(a));
    if (!text)
        return 0;
    if (inet_pton(AF_INET, text, a.ip) == 1)
        a.family = STUN_IPV4;
    else if (inet_pton(AF_INET6, text, a.ip) == 1)
        a.family = STUN_IPV6;
    else
        return 0; /* a name, or the wildcard spelled otherwise: conf checked it */
    return policy_add_local(p, &a);
}

int relay_io_local_addrs(struct turn_policy *p, const struct conf *conf)
{
    p->main_port = (uint16_t)conf->port;
    if (add_text(p, conf->bind) < 0 || add_text(p, conf->external_ip) < 0 || add_text(p, conf->relay_ip) < 0)
        goto full;
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) < 0) {
        log_warn("getifaddrs_failed", "note=\"TURN knows only the configured own addresses\"");
        return 0;
    }
    int rc = 0;
    for (struct ifaddrs *i = ifs; i && rc == 0; i = i->ifa_next) {
        struct stun_addr a;
        if (i->ifa_addr && (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6) &&
            stun_addr_from_sockaddr(&a, i->ifa_addr) == 0)
            rc = policy_add_local(p, &a);
    }
    freeifaddrs(ifs);
    if (rc == 0)
        return 0;
full:
    log_error("turn_failed", "error=\"more than %d local addresses\"", POLICY_MAX_LOCAL);
    return -1;
}

/* --- relay sockets --- */

static void on_readable(struct loop *loop, struct loop_io *io, unsigned events)
{
    (void)loop;
    (void)events;
    struct relay_sock *rs = container_of(io, struct relay_sock, io);
    struct relay_io *r = rs->owner;
    int n = sock_recv_batch(rs->io.fd, &r->batch);
    r->reading = rs;
    for (int i = 0; i < n && !rs->closed; i++) {
        struct stun_addr peer;
        if (stun_addr_from_sockaddr(&peer, (struct sockaddr *)&r->batch.from[i]) < 0)
            continue;
        if (turn_server_relay_input(r->ts, rs->port, &peer, r->batch.buf[i], r->batch.len[i]) < 0)
            break; /* the allocation is gone */
    }
    r->reading = NULL;
    if (rs->closed)
        xfree(rs);
}

static void *sock_open(void *ctx, uint16_t port, int dont_fragment)
{
    struct relay_io *r = ctx;
    struct stun_addr local = r->local;
    local.port = port;
    struct sockaddr_storage ss;
    socklen_t sl = stun_addr_to_sockaddr(&local, &ss);
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    sock_udp_buffers(fd);
    if (dont_fragment && ss.ss_family == AF_INET) {
        int v = IP_PMTUDISC_DO;
        setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
    }
    struct relay_sock *rs = xcalloc(1, sizeof(*rs));
    rs->owner = r;
    rs->port = port;
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || loop_io_add(r->loop, &rs->io, fd, LOOP_READ, on_readable) < 0) {
        close(fd);
        xfree(rs);
        return NULL;
    }
    return rs;
}

static void sock_send(void *ctx, void *handle, const struct stun_addr *peer, const uint8_t *data, size_t len)
{
    (void)ctx;
    struct relay_sock *rs = handle;
    struct sockaddr_storage ss;
    socklen_t sl = stun_addr_to_sockaddr(peer, &ss);
    if (sl)
        sendto(rs->io.fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl);
}

static void sock_close(void *ctx, void *handle)
{
    struct relay_io *r = ctx;
    struct relay_sock *rs = handle;
    loop_io_del(r->loop, &rs->io);
    close(rs->io.fd);
    rs->closed = 1;
    if (rs != r->reading)
        xfree(rs); /* else on_readable() frees it when it sees the mark */
}

static void io_free(void *ctx)
{
    xfree(ctx);
}

int relay_io_ops(struct loop *loop, const char *relay_ip, struct turn_relay_ops *out)
{
    struct relay_io *r = xcalloc(1, sizeof(*r));
    r->loop = loop;
    if (inet_pton(AF_INET, relay_ip, r->local.ip) == 1) {
        r->local.family = STUN_IPV4;
    } else if (inet_pton(AF_INET6, relay_ip, r->local.ip) == 1) {
        r->local.family = STUN_IPV6;
    } else {
        xfree(r);
        return -1;
    }
    *out = (struct turn_relay_ops){ .open = sock_open, .send = sock_send, .close = sock_close, .free = io_free,
                                    .ctx = r };
    return 0;
}

void relay_io_attach(const struct turn_relay_ops *ops, struct turn_server *ts)
{
    ((struct relay_io *)ops->ctx)->ts = ts;
}
