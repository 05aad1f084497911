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
#include "rest_glue.h"
#include "server.h"
#include "turn_glue.h"

#define HTTP_MAX_BODY (16u << 10)
#define HTTP_IN_MAX (HTTP_MAX_HEAD_BYTES + HTTP_MAX_BODY + 1024)
#define HTTP_OUT_MAX (17u << 20)      /* a --web-root file is copied */
#define HTTP_BACKLOG (256u << 10)     /* stop reading requests while this much is queued */
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
    enum client_state was = c->state;
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
    if (was == CLIENT_TURN)
        turn_glue_stream_closed(c);
    ws_session_free(c->ws);
    c->ws = NULL;
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
    if (was_idle && (c->state == CLIENT_WS || c->state == CLIENT_TURN) && conn_flush(&c->conn) == CONN_OK)
        return 0;
    loop_defer(c->srv->loop, &c->flush, flush_later);
    return 0;
}

void client_finish(struct client *c)
{
    c->close_after_flush = 1;
}

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
        c->state = CLIENT_LINGER;
        client_set_timer(c, LINGER_MS);
    }
    int want_read = c->state != CLIENT_HTTP || conn_pending(&c->conn) < HTTP_BACKLOG;
    if (loop_io_set(c->srv->loop, &c->conn.io, conn_wants(&c->conn, want_read)) < 0)
        client_close(c, "epoll_failed");
}

/* --- first bytes --- */

static void start_http(struct client *c, int plain)
{
    c->plain = plain;
    c->state = CLIENT_HTTP;
    c->srv->became[SERVER_KIND_HTTP]++;
    c->in_request = 0;
    client_set_timer(c, (uint64_t)c->srv->conf->header_timeout * 1000);
}

#define TURN_IN_MAX (STUN_MAX_LEN + 4)
#define TURN_OUT_MAX (1u << 20)

static void stun_arrived(struct client *c)
{
    c->state = CLIENT_TURN;
    c->srv->became[c->conn.ssl ? SERVER_KIND_TURN_TLS : SERVER_KIND_TURN_TCP]++;
    c->conn.in.max = TURN_IN_MAX;
    c->conn.out.max = TURN_OUT_MAX;
    client_set_timer(c, (uint64_t)c->srv->conf->header_timeout * 1000);
}

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
        start_http(c, 1);
        return;
    case SNIFF_STUN:
        stun_arrived(c);
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
        start_http(c, 0);
        return;
    case SNIFF_STUN:
        stun_arrived(c);
        return;
    case SNIFF_NEED_MORE:
        return;
    default:
        client_close(c, "unknown_protocol");
        return;
    }
}

/* --- HTTP requests --- */

/* Finds the body of the request whose head takes the first head_len input
 * bytes: Content-Length bytes, or a chunked body decoded in place. Returns
 * the input bytes it takes (> 0 or, for no body, 0 with *body_len 0),
 * -1 when more bytes are needed, or -2 when the client was answered with
 * an error. */
static long request_body(struct client *c, const struct http_request *req, size_t head_len, size_t *body_len)
{
    uint8_t *body = buf_head_mut(&c->conn.in) + head_len;
    size_t avail = c->conn.in.len - head_len;
    uint64_t clen = 0;
    int cl = http_content_length(req, &clen);
    size_t codings = 0;
    for (size_t i = 0; i < req->nheaders; i++)
        codings += http_str_ieq(req->headers[i].name, "transfer-encoding");
    if (cl < 0 || (codings && (cl > 0 || req->minor == 0 || codings > 1))) {
        /* Both lengths at once is how requests get smuggled: refuse. */
        http_send_error(c, 400, NULL);
        return -2;
    }
    if (codings && !http_str_ieq(*http_header_get(req, "transfer-encoding"), "chunked")) {
        http_send_error(c, 501, NULL);
        return -2;
    }
    if (!codings) {
        if (clen > HTTP_MAX_BODY) {
            rest_glue_too_large(c, req);
            return -2;
        }
        *body_len = (size_t)clen;
        return avail < clen ? -1 : (long)clen;
    }
    long used = http_chunked_body(body, avail, HTTP_MAX_BODY, NULL, body_len);
    if (used == 0)
        return -1;
    if (used == -413)
        rest_glue_too_large(c, req);
    else if (used < 0)
        http_send_error(c, 400, NULL);
    if (used < 0)
        return -2;
    http_chunked_body(body, (size_t)used, HTTP_MAX_BODY, body, body_len); /* now decode, in place */
    return used;
}

/* Handles complete requests in the input; stops at a partial one. */
static void process_http(struct client *c)
{
    while (c->state == CLIENT_HTTP && !c->close_after_flush && c->conn.in.len > 0) {
        if (!c->in_request) {
            c->in_request = 1;
            client_set_timer(c, (uint64_t)c->srv->conf->header_timeout * 1000);
        }
        struct http_request req;
        const uint8_t *head = buf_head(&c->conn.in);
        int n = http_parse_request(head, c->conn.in.len, &req);
        if (n == 0)
            return;
        if (n < 0) {
            http_send_error(c, -n, NULL);
            return;
        }
        size_t body_len = 0;
        long body_used = request_body(c, &req, (size_t)n, &body_len);
        if (body_used < 0)
            return; /* the body is still on its way, or the client was answered */
        http_handle(c, &req, head + n, body_len);
        if (c->state == CLIENT_CLOSED)
            return;
        buf_consume(&c->conn.in, (size_t)n + (size_t)body_used);
        c->in_request = 0;
        if (c->state == CLIENT_WS) {
            if (c->conn.in.len > 0)
                ws_session_on_data(c); /* frames sent right behind the handshake */
            return;
        }
        if (!c->close_after_flush)
            client_set_timer(c, (uint64_t)c->srv->conf->keepalive_timeout * 1000);
    }
}

static void dispatch_input(struct client *c)
{
    switch (c->state) {
    case CLIENT_TLS_SNIFF:
        sniff_tls(c);
        if (c->state == CLIENT_HTTP)
            process_http(c);
        else if (c->state == CLIENT_TURN)
            turn_glue_stream_input(c);
        return;
    case CLIENT_TURN:
        turn_glue_stream_input(c);
        return;
    case CLIENT_HTTP:
        process_http(c);
        return;
    case CLIENT_WS:
        ws_session_on_data(c);
        return;
    case CLIENT_LINGER:
        buf_consume(&c->conn.in, c->conn.in.len);
        return;
    default:
        return;
    }
}

static void read_input(struct client *c)
{
    while (c->state >= CLIENT_TLS_SNIFF && c->state <= CLIENT_LINGER && !c->overflowed) {
        if (c->state == CLIENT_HTTP && (c->close_after_flush || conn_pending(&c->conn) >= HTTP_BACKLOG))
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
    switch (c->state) {
    case CLIENT_HTTP:
        if (c->in_request) {
            http_send_error(c, 408, NULL);
            client_update(c);
        } else {
            client_close(c, "idle");
        }
        return;
    case CLIENT_WS:
        ws_session_on_timer(c);
        client_update(c);
        return;
    case CLIENT_LINGER:
        client_close(c, "linger_done");
        return;
    default:
        client_close(c, "timeout");
        return;
    }
}

void client_shutdown(struct client *c)
{
    switch (c->state) {
    case CLIENT_WS:
        ws_session_shutdown(c);
        client_update(c);
        return;
    case CLIENT_HTTP:
        if (c->in_request || conn_pending(&c->conn)) {
            client_finish(c);
            client_update(c);
            return;
        }
        client_close(c, "shutdown");
        return;
    case CLIENT_LINGER:
        return;
    default:
        client_close(c, "shutdown");
        return;
    }
}
