/*
 * http_conn — a connection speaking HTTP/1.1 (see http_conn.h).
 */
#include "http_conn.h"

#include "../http/http.h"
#include "http_handler.h"
#include "rest_glue.h"
#include "server.h"
#include "ws_session.h"

#define HTTP_BACKLOG (256u << 10) /* stop reading requests while this much is queued */

static const struct client_proto http_conn_proto;

void http_conn_start(struct client *c, int plain)
{
    c->plain = plain;
    client_become(c, CLIENT_HTTP, &http_conn_proto);
    c->srv->became[SERVER_KIND_HTTP]++;
    c->in_request = 0;
    client_set_timer(c, (uint64_t)c->srv->conf->header_timeout * 1000);
}

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
        if (clen > HTTP_CONN_MAX_BODY) {
            rest_glue_too_large(c, req);
            return -2;
        }
        *body_len = (size_t)clen;
        return avail < clen ? -1 : (long)clen;
    }
    long used = http_chunked_body(body, avail, HTTP_CONN_MAX_BODY, NULL, body_len);
    if (used == 0)
        return -1;
    if (used == -413)
        rest_glue_too_large(c, req);
    else if (used < 0)
        http_send_error(c, 400, NULL);
    if (used < 0)
        return -2;
    http_chunked_body(body, (size_t)used, HTTP_CONN_MAX_BODY, body, body_len); /* now decode, in place */
    return used;
}

/* Handles complete requests in the input; stops at a partial one. */
static void on_data(struct client *c)
{
    while (c->state == CLIENT_HTTP && !c->close_after_flush && !c->waiting && c->conn.in.len > 0) {
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
                c->proto->on_data(c); /* frames sent right behind the handshake */
            return;
        }
        if (!c->close_after_flush)
            client_set_timer(c, (uint64_t)c->srv->conf->keepalive_timeout * 1000);
    }
}

void http_conn_answered(struct client *c)
{
    c->waiting = NULL;
    if (c->state != CLIENT_HTTP)
        return;
    if (!c->close_after_flush)
        client_set_timer(c, (uint64_t)c->srv->conf->keepalive_timeout * 1000);
    on_data(c); /* requests pipelined behind the one answered */
    client_update(c);
}

/* The head deadline (408) or the keep-alive idle time passed. An answer
 * being made is no idleness: the work queue is bounded, so it comes. */
static void on_timer(struct client *c)
{
    if (c->waiting) {
        client_set_timer(c, (uint64_t)c->srv->conf->keepalive_timeout * 1000);
    } else if (c->in_request) {
        http_send_error(c, 408, NULL);
        client_update(c);
    } else {
        client_close(c, "idle");
    }
}

/* A request being read or answered finishes; an idle connection goes now. */
static void on_shutdown(struct client *c)
{
    if (!c->waiting && (c->in_request || conn_pending(&c->conn))) {
        client_finish(c);
        client_update(c);
        return;
    }
    client_close(c, "shutdown");
}

/* Pipelined requests wait while answers pile up or the last one is out.
 * While an answer is being made, reading goes on only until a byte is in,
 * so that a client that goes away is noticed. */
static int wants_input(const struct client *c)
{
    if (c->waiting)
        return c->conn.in.len == 0;
    return !c->close_after_flush && conn_pending(&c->conn) < HTTP_BACKLOG;
}

/* The connection goes (or upgrades): an answer being made has no reader. */
static void on_close(struct client *c)
{
    struct client_wait *w = c->waiting;
    c->waiting = NULL;
    if (w)
        w->cancel(w);
}

static const struct client_proto http_conn_proto = {
    .name = "http", .on_data = on_data, .on_timer = on_timer, .on_shutdown = on_shutdown,
    .wants_input = wants_input, .on_close = on_close,
};
