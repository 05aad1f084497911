/*
 * relay_io — own addresses and relay sockets for TURN (see relay_io.h).
 *
 * One UDP socket per allocation, non-blocking, on the loop. Readable
 * sockets are drained with recvmmsg into one batch buffer that belongs to
 * the relay_io object (not a static), and each datagram is handed to
 * turn_server_relay_input().
 *
 * Sends to peers are queued on an io_uring (net/uring_tx) and leave with
 * one system call for all relay sockets once the loop has handled the
 * current batch of events; where the kernel refuses io_uring (a seccomp
 * filter such as the systemd unit's, an old kernel) each is a sendto. A
 * socket is flushed before it is closed, so no queued send can reach a
 * socket that later gets the same fd number.
 *
 * Closing a socket takes it off the loop at once, but its memory is freed
 * only after the loop has handled the current batch of events (the
 * graveyard list, emptied by a deferred callback): a later event of the same
 * epoll batch may still point at it (a Refresh with lifetime 0 on the main
 * port closes a relay socket that is also readable), and a delivery can end
 * the allocation whose socket is being read.
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
#include "../net/uring_tx.h"

struct relay_io {
    struct loop *loop;
    struct turn_server *ts;
    struct stun_addr local;          /* the relay address sockets bind to */
    struct uring_tx *tx;             /* NULL: io_uring refused, sends are sendto */
    struct loop_defer flush;         /* sends tx's queue after the current events */
    struct relay_sock *graveyard;    /* closed sockets, freed after the current events */
    struct loop_defer bury;
    struct sock_batch batch;         /* one read at a time on this loop */
};

struct relay_sock {
    struct loop_io io;
    struct relay_io *owner;
    struct relay_sock *next_dead;
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
    for (int i = 0; i < n && !rs->closed; i++) {
        struct stun_addr peer;
        if (stun_addr_from_sockaddr(&peer, (struct sockaddr *)&r->batch.from[i]) < 0)
            continue;
        if (turn_server_relay_input(r->ts, rs->port, &peer, r->batch.buf[i], r->batch.len[i]) < 0)
            break; /* the allocation is gone */
    }
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

static void on_flush(struct loop *loop, struct loop_defer *d)
{
    (void)loop;
    uring_tx_flush(container_of(d, struct relay_io, flush)->tx);
}

static void sock_send(void *ctx, void *handle, const struct stun_addr *peer, const uint8_t *data, size_t len)
{
    struct relay_io *r = ctx;
    struct relay_sock *rs = handle;
    struct sockaddr_storage ss;
    socklen_t sl = stun_addr_to_sockaddr(peer, &ss);
    if (!sl)
        return;
    if (r->tx && uring_tx_queue(r->tx, rs->io.fd, (struct sockaddr *)&ss, sl, data, len) == 0) {
        loop_defer(r->loop, &r->flush, on_flush);
        return;
    }
    sendto(rs->io.fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl);
}

static void free_graveyard(struct relay_io *r)
{
    while (r->graveyard) {
        struct relay_sock *rs = r->graveyard;
        r->graveyard = rs->next_dead;
        xfree(rs);
    }
}

static void on_bury(struct loop *loop, struct loop_defer *d)
{
    (void)loop;
    free_graveyard(container_of(d, struct relay_io, bury));
}

static void sock_close(void *ctx, void *handle)
{
    struct relay_io *r = ctx;
    struct relay_sock *rs = handle;
    if (r->tx && uring_tx_queued(r->tx))
        uring_tx_flush(r->tx); /* before the fd number can be reused */
    loop_io_del(r->loop, &rs->io);
    close(rs->io.fd);
    rs->closed = 1;
    rs->next_dead = r->graveyard;
    r->graveyard = rs;
    loop_defer(r->loop, &r->bury, on_bury);
}

static void io_free(void *ctx)
{
    struct relay_io *r = ctx;
    loop_defer_cancel(r->loop, &r->flush);
    loop_defer_cancel(r->loop, &r->bury);
    uring_tx_free(r->tx);
    free_graveyard(r);
    xfree(r);
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
    r->tx = uring_tx_new();
    if (r->tx)
        log_info("relay_sends", "mode=io_uring");
    else
        log_info("relay_sends", "mode=sendto error=\"%s\"", strerror(errno));
    *out = (struct turn_relay_ops){ .open = sock_open, .send = sock_send, .close = sock_close, .free = io_free,
                                    .ctx = r };
    return 0;
}

void relay_io_attach(const struct turn_relay_ops *ops, struct turn_server *ts)
{
    ((struct relay_io *)ops->ctx)->ts = ts;
}
