/*
 * udp_port — the main UDP port (see udp_port.h).
 */
#include "udp_port.h"

#include <stdio.h>
#include <unistd.h>

#include "../base/alloc.h"
#include "../net/udp.h"

struct route {
    udp_port_fn fn;
    void *ctx;
};

struct udp_port {
    struct loop *loop;
    struct loop_io io;
    struct loop_defer flush;
    struct route routes[UDP_KINDS];
    struct udp_port_stats stats;
    struct udp_rx_batch rx;
    struct udp_tx_batch tx;
};

static void dispatch(struct udp_port *u, const struct udp_rx *rx, const uint8_t *buf)
{
    if (rx->len > UDP_DATAGRAM_MAX) {
        u->stats.oversized++;
        return;
    }
    enum udp_kind kind = udp_demux(buf, rx->len);
    u->stats.received[kind]++;
    const struct route *r = &u->routes[kind];
    if (!r->fn) {
        u->stats.unrouted[kind]++;
        return;
    }
    struct udp_packet p = { buf, rx->len, &rx->from, rx->fromlen, &rx->local };
    r->fn(r->ctx, u, &p);
}

static void on_readable(struct loop *loop, struct loop_io *io, unsigned events)
{
    (void)loop;
    (void)events;
    struct udp_port *u = container_of(io, struct udp_port, io);
    int n = udp_recv_batch(io->fd, &u->rx);
    for (int i = 0; i < n; i++)
        dispatch(u, &u->rx.pkt[i], u->rx.buf[i]);
}

static void on_flush(struct loop *loop, struct loop_defer *d)
{
    (void)loop;
    struct udp_port *u = container_of(d, struct udp_port, flush);
    udp_tx_flush(&u->tx, u->io.fd);
}

struct udp_port *udp_port_new(struct loop *loop, const char *addr, int port, int group, char *err, size_t errlen)
{
    int fd = udp_open_group(addr, port, group ? UDP_GROUP_RECEIVER : UDP_GROUP_NONE, err, errlen);
    if (fd < 0)
        return NULL;
    struct udp_port *u = xcalloc(1, sizeof(*u));
    u->loop = loop;
    if (loop_io_add(loop, &u->io, fd, LOOP_READ, on_readable) < 0) {
        snprintf(err, errlen, "cannot watch the UDP socket");
        close(fd);
        xfree(u);
        return NULL;
    }
    return u;
}

void udp_port_free(struct udp_port *u)
{
    if (!u)
        return;
    loop_defer_cancel(u->loop, &u->flush);
    udp_tx_flush(&u->tx, u->io.fd);
    loop_io_del(u->loop, &u->io);
    close(u->io.fd);
    xfree(u);
}

void udp_port_route(struct udp_port *u, enum udp_kind kind, udp_port_fn fn, void *ctx)
{
    if (kind < UDP_KINDS)
        u->routes[kind] = (struct route){ fn, ctx };
}

void udp_port_send(struct udp_port *u, const struct sockaddr_storage *local, const struct sockaddr_storage *to,
                   socklen_t tolen, const uint8_t *buf, size_t len)
{
    udp_tx_queue(&u->tx, u->io.fd, local, to, tolen, buf, len);
    loop_defer(u->loop, &u->flush, on_flush);
}

int udp_port_fd(const struct udp_port *u)
{
    return u->io.fd;
}

struct udp_port_stats udp_port_stats(const struct udp_port *u)
{
    struct udp_port_stats st = u->stats;
    st.sent = u->tx.sent;
    st.send_dropped = u->tx.dropped;
    return st;
}
