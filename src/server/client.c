/*
 * client — one connection's life: sniff, TLS, HTTP, WebSocket, close
 * (see client.h).
 */
#include "client.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "../http/http.h"
#include "../http/ws.h"
#include "../net/sniff.h"
#include "../net/tls.h"
#include "../stun/stun.h"
#include "admit.h"
#include "server.h"
#include "http_conn.h"
#include "turn_glue.h"

#define HTTP_IN_MAX (HTTP_MAX_HEAD_BYTES + HTTP_CONN_MAX_BODY + 1024)
#define HTTP_OUT_MAX (17u << 20)      /* a --web-root file is copied */
#define LINGER_MS 2000

static void on_io(struct loop *loop, struct loop_io *io, unsigned events);
static void on_timer(struct loop *loop, struct loop_timer *t);

static void release(struct loop *loop, struct loop_defer *d)
{
    (void)loop;
    struct client *c = container_of(d, struct client, release);
    xfree(c);
}

struct client *client_accept(struct server *s, int fd, const struct sock_ip *ip)
{
    struct client *c = xcalloc(1, sizeof(*c));
    conn_init(&c->conn, fd, HTTP_IN_MAX, HTTP_OUT_MAX);
    c->srv = s;
    c->ip = *ip;
    c->source = *ip;
    sock_ip_to_source(&c->source);
    c->id = ++s->next_id;
    c->state = CLIENT_SNIFF;
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    s->nclients++;
    if (loop_io_add(s->loop, &c->conn.io, fd, LOOP_READ, on_io) < 0) {
        client_close(c, "epoll_failed");
        return NULL;
    }
    client_set_timer(c, (uint64_t)s->conf->tls_timeout * 1000);
    log_debug("accept", "conn=%llu", (unsigned long long)c->id);
    return c;
}

void client_close(struct client *c, const char *reason)
{
    if (c->state == CLIENT_CLOSED)
        return;
    struct server *s = c->srv;
    log_debug("close", "conn=%llu reason=%s", (unsigned long long)c->id, reason);
    c->state = CLIENT_CLOSED;
    loop_io_del(s->loop, &c->conn.io);
    loop_timer_stop(s->loop, &c->timer);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nclients--;
    admit_release(s, &c->source, c->counted_ws);
    if (c->proto && c->proto->on_close)
        c->proto->on_close(c);
    conn_cleanup(&c->conn);
    loop_defer(s->loop, &c->release, release);
    server_client_gone(s);
}

void client_set_timer(struct client *c, uint64_t ms)
{
    loop_timer_start(c->srv->loop, &c->timer, ms, on_timer);
}

static void flush_later(struct loop *loop, struct loop_defer *d)
{
    (void)loop;
    client_update(container_of(d, struct client, flush));
}

int client_send(struct client *c, const void *p, size_t n)
{
    return client_send2(c, p, n, NULL, 0);
}

int client_send2(struct client *c, const void *p, size_t n, const void *p2, size_t n2)
{
    if (c->state == CLIENT_CLOSED || c->overflowed)
        return -1;
    int was_idle = conn_pending(&c->conn) == 0;
    if (conn_queue(&c->conn, p, n) < 0 || conn_queue(&c->conn, p2, n2) < 0) {
        /* Never closed from here: the caller (a relay read loop, the hub
         * walking its peers) may hold pointers that the close would free.
         * The deferred update closes it. */
        c->overflowed = 1;
        loop_defer(c->srv->loop, &c->flush, flush_later);
        return -1;
    }
    /* A WebSocket or TURN stream gets its bytes on the wire at once (a
     * relayed message should not wait for the rest of this batch of
     * events); errors and leftovers are dealt with by the deferred update. */
    if (was_idle && c->proto && c->proto->flush_at_once && conn_flush(&c->conn) == CONN_OK)
        return 0;
    loop_defer(c->srv->loop, &c->flush, flush_later);
    return 0;
}

void client_finish(struct client *c)
{
    c->close_after_flush = 1;
}

/* --- the lingering close --- */

/* After the last answer: input is read and dropped until the peer closes. */
static void linger_data(struct client *c)
{
    buf_consume(&c->conn.in, c->conn.in.len);
}

static void linger_done(struct client *c)
{
    client_close(c, "linger_done");
}

static void linger_shutdown(struct client *c)
{
    (void)c; /* already on its way out */
}

static const struct client_proto linger_proto = {
    .name = "linger", .on_data = linger_data, .on_timer = linger_done, .on_shutdown = linger_shutdown,
};

void client_update(struct client *c)
{
    if (c->state == CLIENT_CLOSED)
        return;
    if (c->overflowed) {
        client_close(c, "slow_client");
        return;
    }
    if (c->conn.handshake_done || !c->conn.ssl) {
        if (conn_flush(&c->conn) == CONN_ERR) {
            client_close(c, "write_failed");
            return;
        }
    }
    if (c->close_after_flush && conn_pending(&c->conn) == 0 && c->state != CLIENT_LINGER) {
        /* Half-close and drain, so that unread input cannot turn our last
         * response into a reset before the peer has read it. */
        conn_shutdown_write(&c->conn);
        client_become(c, CLIENT_LINGER, &linger_proto);
        client_set_timer(c, LINGER_MS);
    }
    int want_read = !c->proto || !c->proto->wants_input || c->proto->wants_input(c);
    if (loop_io_set(c->srv->loop, &c->conn.io, conn_wants(&c->conn, want_read)) < 0)
        client_close(c, "epoll_failed");
}

/* --- first bytes --- */

/* Plain TCP: peek without consuming so that TLS finds its ClientHello. */
static void sniff_plain(struct client *c)
{
    uint8_t peek[SNIFF_MAX_BYTES];
    const uint8_t *p = peek;
    ssize_t n;
    if (c->conn.in.len == 0) {
        n = recv(c->conn.io.fd, peek, sizeof(peek), MSG_PEEK);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            client_close(c, "eof");
            return;
        }
        if (n < 0)
            return;
    } else {
        p = buf_head(&c->conn.in);
        n = (ssize_t)c->conn.in.len;
    }
    enum sniff_result kind = sniff_classify(p, (size_t)n, 1);
    if (c->http_port && kind != SNIFF_HTTP && kind != SNIFF_NEED_MORE)
        kind = SNIFF_UNKNOWN; /* --http-port speaks plain HTTP only */
    switch (kind) {
    case SNIFF_TLS:
        if (conn_start_tls(&c->conn, c->srv->tls) < 0) {
            client_close(c, "tls_failed");
            return;
        }
        c->state = CLIENT_TLS_HANDSHAKE;
        return;
    case SNIFF_HTTP:
        http_conn_start(c, 1);
        return;
    case SNIFF_STUN:
        turn_glue_stream_start(c);
        return;
    case SNIFF_NEED_MORE:
        /* Only a STUN header can be this short and undecided; take the
         * bytes out of the socket so that level-triggered epoll does not
         * report them again and again. */
        if (conn_read(&c->conn) < CONN_OK)
            client_close(c, "eof");
        else if (c->conn.in.len >= SNIFF_MAX_BYTES)
            sniff_plain(c);
        return;
    case SNIFF_UNKNOWN:
        client_close(c, "unknown_protocol");
        return;
    }
}

static void do_handshake(struct client *c)
{
    enum conn_status st = conn_handshake(&c->conn);
    if (st == CONN_ERR) {
        client_close(c, "tls_handshake_failed");
        return;
    }
    if (st == CONN_OK && tls_is_acme_challenge(c->conn.ssl)) {
        client_close(c, "acme_challenge_done"); /* RFC 8737: handshake only */
        return;
    }
    if (st == CONN_OK) {
        c->state = CLIENT_TLS_SNIFF;
        client_set_timer(c, (uint64_t)c->srv->conf->header_timeout * 1000);
    }
}

static void sniff_tls(struct client *c)
{
    switch (sniff_classify(buf_head(&c->conn.in), c->conn.in.len, 0)) {
    case SNIFF_HTTP:
        http_conn_start(c, 0);
        return;
    case SNIFF_STUN:
        turn_glue_stream_start(c);
        return;
    case SNIFF_NEED_MORE:
        return;
    default:
        client_close(c, "unknown_protocol");
        return;
    }
}

/* Hands new input to whoever reads it: the sniffer inside TLS, or the protocol. */
static void dispatch_input(struct client *c)
{
    if (c->state == CLIENT_TLS_SNIFF) {
        sniff_tls(c);
        if (c->state == CLIENT_TLS_SNIFF || c->state == CLIENT_CLOSED)
            return;
    }
    c->proto->on_data(c);
}

static void read_input(struct client *c)
{
    while (c->state >= CLIENT_TLS_SNIFF && c->state <= CLIENT_LINGER && !c->overflowed) {
        if (c->proto && c->proto->wants_input && !c->proto->wants_input(c))
            return;
        enum conn_status st = conn_read(&c->conn);
        if (st == CONN_AGAIN)
            return;
        if (st == CONN_EOF || st == CONN_ERR) {
            client_close(c, st == CONN_EOF ? "eof" : "read_failed");
            return;
        }
        size_t before = c->conn.in.len;
        dispatch_input(c);
        if (st == CONN_FULL && c->state != CLIENT_CLOSED && c->conn.in.len >= before) {
            client_close(c, "input_full");
            return;
        }
    }
}

static void on_io(struct loop *loop, struct loop_io *io, unsigned events)
{
    (void)loop;
    (void)events;
    struct client *c = container_of(io, struct client, conn.io);
    if (c->state == CLIENT_SNIFF)
        sniff_plain(c);
    if (c->state == CLIENT_TLS_HANDSHAKE)
        do_handshake(c);
    if (c->state >= CLIENT_TLS_SNIFF && c->state <= CLIENT_LINGER) {
        read_input(c);
    }
    client_update(c);
}

static void on_timer(struct loop *loop, struct loop_timer *t)
{
    (void)loop;
    struct client *c = container_of(t, struct client, timer);
    if (c->proto)
        c->proto->on_timer(c);
    else
        client_close(c, "timeout"); /* the first bytes or the TLS handshake took too long */
}

void client_shutdown(struct client *c)
{
    if (c->proto)
        c->proto->on_shutdown(c);
    else
        client_close(c, "shutdown");
}

void client_become(struct client *c, enum client_state state, const struct client_proto *proto)
{
    const struct client_proto *was = c->proto;
    c->state = state;
    c->proto = proto;
    if (was && was != proto && was->on_close)
        was->on_close(c); /* e.g. a WebSocket that lingers after its close handshake */
}
