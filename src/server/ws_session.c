/*
 * ws_session — a client after the WebSocket upgrade on /ws.
 *
 * Checks the handshake (version 13, key, Origin), then reads frames with
 * the pure reader in http/ws.c and answers: pong to ping, close to close,
 * the right close code to a protocol violation. Every 30 s (option) it pings;
 * a peer silent for twice that is dropped. Text messages go to the
 * signaling hub (src/signal), which answers through ws_send_text().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "../http/http.h"
#include "../http/response.h"
#include "../http/ws.h"
#include "../signal/hub.h"
#include "accounts_glue.h"
#include "client.h"
#include "http_handler.h"
#include "ws_session.h"
#include "server.h"
#include "turn_glue.h"

#define WS_OUT_MAX (1u << 20)   /* queued bytes before a slow client is dropped */
#define WS_CLOSE_WAIT_MS 2000

static const struct client_proto ws_session_proto;

struct ws_session {
    struct ws_reader reader;
    struct peer *peer;        /* the signaling identity of this connection */
    uint64_t last_seen;
    int close_sent;
    int goodbye;              /* the client closed on purpose */
};

static void ws_session_free(struct ws_session *ws)
{
    if (!ws)
        return;
    if (ws->peer && ws->goodbye)
        hub_leave(ws->peer);
    else if (ws->peer)
        hub_detach(ws->peer);
    ws_reader_cleanup(&ws->reader);
    xfree(ws);
}

/* --- sending --- */

static int send_frame(struct client *c, enum ws_opcode op, const void *p, size_t n)
{
    uint8_t head[WS_MAX_HEADER];
    size_t hl = ws_frame_header(head, 1, op, n);
    return client_send2(c, head, hl, p, n);
}

static void send_close(struct client *c, uint16_t code, const char *reason)
{
    struct ws_session *ws = c->ws;
    if (ws->close_sent)
        return;
    uint8_t payload[125];
    size_t n = 0;
    if (code != WS_CLOSE_NO_STATUS) {
        payload[0] = (uint8_t)(code >> 8);
        payload[1] = (uint8_t)code;
        n = 2;
        size_t rl = strlen(reason);
        if (rl > sizeof(payload) - 2)
            rl = sizeof(payload) - 2;
        memcpy(payload + 2, reason, rl);
        n += rl;
    }
    ws->close_sent = 1;
    if (send_frame(c, WS_OP_CLOSE, payload, n) == 0)
        client_set_timer(c, WS_CLOSE_WAIT_MS);
}

static void ws_send_text(void *ctx, const char *text, size_t len)
{
    send_frame(ctx, WS_OP_TEXT, text, len);
}

static void send_close(struct client *c, uint16_t code, const char *reason);

/* The peer of this connection resumed on a newer one. */
static void ws_evict(void *ctx)
{
    struct client *c = ctx;
    c->ws->peer = NULL;
    send_close(c, 4001, "resumed on another connection");
    client_finish(c);
}

/* --- the handshake --- */

static int origin_allowed(const struct client *c, const struct http_request *req)
{
    const struct http_str *origin = http_header_get(req, "origin");
    if (!origin)
        return 1; /* native apps send none */
    const struct http_str *host = http_header_get(req, "host");
    if (host && origin->len == host->len + 8 && strncasecmp(origin->p, "https://", 8) == 0 &&
        strncasecmp(origin->p + 8, host->p, host->len) == 0)
        return 1;
    const struct conf_list *allow = &c->srv->conf->allow_origin;
    for (int i = 0; i < allow->count; i++) {
        if (http_str_ieq(*origin, allow->items[i]))
            return 1;
    }
    return 0;
}

/* Returns 0 if the request is a valid upgrade, else the status to answer.
 * On "/" an origin that is not allowed is no refusal: *foreign is set and
 * the connection may speak only the join-code dialect (see hub.h). */
static int check_upgrade(const struct client *c, const struct http_request *req, char accept[WS_ACCEPT_LEN + 1],
                         int *foreign)
{
    const struct http_str *upgrade = http_header_get(req, "upgrade");
    const struct http_str *connection = http_header_get(req, "connection");
    const struct http_str *version = http_header_get(req, "sec-websocket-version");
    const struct http_str *key = http_header_get(req, "sec-websocket-key");
    if (req->minor != 1 || !upgrade || !http_list_has_token(*upgrade, "websocket") || !connection ||
        !http_list_has_token(*connection, "upgrade"))
        return 400;
    if (!version || !http_str_ieq(*version, "13"))
        return 426;
    if (!key || ws_accept_key(key->p, key->len, accept) < 0)
        return 400;
    *foreign = !origin_allowed(c, req);
    if (*foreign && http_str_ieq(req->path, "/ws"))
        return 403;
    return 0;
}

/* Finds "resume=<token>" in the query string; copies the token into out. */
static const char *resume_token(const struct http_request *req, char *out, size_t len)
{
    struct http_str q = req->query;
    for (size_t i = 0; i + 7 <= q.len; i++) {
        if ((i == 0 || q.p[i - 1] == '&') && memcmp(q.p + i, "resume=", 7) == 0) {
            size_t start = i + 7, end = start;
            while (end < q.len && q.p[end] != '&')
                end++;
            if (end - start >= len)
                return NULL;
            memcpy(out, q.p + start, end - start);
            out[end - start] = '\0';
            return out;
        }
    }
    return NULL;
}

void ws_session_upgrade(struct client *c, const struct http_request *req)
{
    char accept[WS_ACCEPT_LEN + 1];
    int foreign = 0;
    int status = check_upgrade(c, req, accept, &foreign);
    if (status) {
        http_send_error(c, status, NULL);
        if (status == 426)
            log_debug("ws_refused", "conn=%llu status=426", (unsigned long long)c->id);
        return;
    }
    if (admit_websocket(c->srv, &c->source) < 0) {
        http_send_error(c, 503, NULL);
        return;
    }
    c->counted_ws = 1;
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
    if (client_send(c, head, (size_t)n) < 0)
        return;
    struct ws_session *ws = xcalloc(1, sizeof(*ws));
    size_t max = (size_t)c->srv->conf->ws_max_message;
    ws_reader_init(&ws->reader, max);
    ws->last_seen = loop_now(c->srv->loop);
    c->ws = ws;
    client_become(c, CLIENT_WS, &ws_session_proto);
    c->srv->became[SERVER_KIND_WS]++;
    if (c->conn.in.max < max + WS_MAX_HEADER)
        c->conn.in.max = max + WS_MAX_HEADER;
    c->conn.out.max = WS_OUT_MAX;
    client_set_timer(c, (uint64_t)c->srv->conf->ws_ping_interval * 1000);
    log_debug("ws_open", "conn=%llu", (unsigned long long)c->id);
    char token[80], source[64];
    sock_ip_str(&c->source, source, sizeof(source)); /* PIN attempts count per source */
    char host[256] = "";
    const struct http_str *h = http_header_get(req, "host");
    if (h && h->len < sizeof(host) && http_host_safe(h->p, h->len)) {
        memcpy(host, h->p, h->len);
        host[h->len] = '\0';
    }
    char *ice = turn_glue_ice_json(c->srv, host, NULL);
    /* "/" is where the join-code backend's clients connect; /ws is ours. */
    enum hub_greeting greeting = http_str_ieq(req->path, "/ws") ? HUB_GREET_WELCOME
                                 : foreign                        ? HUB_GREET_CONNECTED_FOREIGN
                                                                  : HUB_GREET_CONNECTED;
    ws->peer = hub_connect(c->srv->hub, ws_send_text, ws_evict, c, resume_token(req, token, sizeof(token)), source,
                           ice, greeting);
    free(ice);
    if (greeting == HUB_GREET_WELCOME)
        accounts_glue_ws_sign_in(c->srv, req, ws->peer);
}

/* --- receiving --- */

static void on_message(struct client *c, const struct ws_event *ev)
{
    if (ev->opcode != WS_OP_TEXT) {
        const char err[] = "{\"type\":\"error\",\"code\":\"unknown_type\","
                           "\"message\":\"binary messages are not understood\"}";
        ws_send_text(c, err, sizeof(err) - 1);
        return;
    }
    c->ws->peer = hub_on_message(c->ws->peer, (const char *)ev->data, ev->len);
}

/* Handles one event; returns 0 to go on reading, -1 when the stream is over. */
static int on_event(struct client *c, const struct ws_event *ev)
{
    struct ws_session *ws = c->ws;
    switch (ev->type) {
    case WS_EV_MESSAGE:
        if (!ws->close_sent)
            on_message(c, ev);
        return 0;
    case WS_EV_PING:
        if (!ws->close_sent)
            send_frame(c, WS_OP_PONG, ev->data, ev->len);
        return 0;
    case WS_EV_PONG:
        return 0;
    case WS_EV_CLOSE:
        /* A close frame is a goodbye: the identity is not kept for a
         * resume. Echo the code (RFC 6455 §5.5.1), then close the TCP side. */
        ws->goodbye = 1;
        send_close(c, ev->code, "");
        client_finish(c);
        return -1;
    case WS_EV_ERROR:
        log_debug("ws_protocol_error", "conn=%llu code=%u", (unsigned long long)c->id, ev->code);
        send_close(c, ev->code, ev->code == WS_CLOSE_TOO_BIG ? "message too big"
                                : ev->code == WS_CLOSE_BAD_DATA ? "invalid UTF-8" : "protocol error");
        client_finish(c);
        return -1;
    case WS_EV_NONE:
        return 0; /* a fragment was taken into the message being assembled */
    }
    return -1;
}

static void on_data(struct client *c)
{
    struct ws_session *ws = c->ws;
    ws->last_seen = loop_now(c->srv->loop);
    while (c->state == CLIENT_WS && c->conn.in.len > 0 && !c->close_after_flush) {
        struct ws_event ev;
        size_t used = ws_reader_next(&ws->reader, buf_head_mut(&c->conn.in), c->conn.in.len, &ev);
        if (used == 0)
            return;
        int rc = on_event(c, &ev);
        if (c->state == CLIENT_CLOSED)
            return;
        buf_consume(&c->conn.in, used);
        if (rc < 0) {
            buf_consume(&c->conn.in, c->conn.in.len);
            return;
        }
    }
}

static void on_timer(struct client *c)
{
    struct ws_session *ws = c->ws;
    if (ws->close_sent) {
        client_close(c, "close_timeout");
        return;
    }
    uint64_t interval = (uint64_t)c->srv->conf->ws_ping_interval * 1000;
    if (loop_now(c->srv->loop) - ws->last_seen >= 2 * interval) {
        client_close(c, "ping_timeout");
        return;
    }
    send_frame(c, WS_OP_PING, "", 0);
    client_set_timer(c, interval);
    client_update(c);
}

static void on_shutdown(struct client *c)
{
    send_close(c, WS_CLOSE_GOING_AWAY, "server shutting down");
    client_update(c);
}

static void on_close(struct client *c)
{
    ws_session_free(c->ws);
    c->ws = NULL;
}

static const struct client_proto ws_session_proto = {
    .name = "ws", .on_data = on_data, .on_timer = on_timer, .on_shutdown = on_shutdown, .on_close = on_close,
    .flush_at_once = 1,
};
