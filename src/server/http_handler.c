/*
 * http_handler — what tincan answers to an HTTP request: the redirect to
 * HTTPS, /health, the WebSocket upgrade on /ws, the REST API (rest_glue.c)
 * and the web client's files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../http/http.h"
#include "../http/response.h"
#include "../http/static.h"
#include "../version.h"
#include "accounts_glue.h"
#include "acme_glue.h"
#include "client.h"
#include "http_handler.h"
#include "metrics.h"
#include "rest_glue.h"
#include "server.h"
#include "turn_glue.h"
#include "ws_session.h"

#define HEAD_MAX 2048
#define SMALL_BODY (14u << 10) /* head + body fit one 16 KiB TLS record */

/* Copies the Host header into out ("" if there is none). Returns -1 when the
 * request must be refused (RFC 9112 §3.2): HTTP/1.1 without Host, two Host
 * lines, or a value that is not a host[:port]. */
static int request_host(const struct http_request *req, char *out, size_t len)
{
    const struct http_str *h = NULL;
    out[0] = '\0';
    for (size_t i = 0; i < req->nheaders; i++) {
        if (!http_str_ieq(req->headers[i].name, "host"))
            continue;
        if (h)
            return -1;
        h = &req->headers[i].value;
    }
    if (!h)
        return req->minor == 1 ? -1 : 0;
    if (h->len >= len || !http_host_safe(h->p, h->len))
        return -1;
    memcpy(out, h->p, h->len);
    out[h->len] = '\0';
    return 0;
}

static void send_head(struct client *c, const struct http_response *r)
{
    char head[HEAD_MAX];
    size_t n = http_response_head(head, sizeof(head), r);
    if (n > 0)
        client_send(c, head, n);
}

/* Sends an error status with a one-line text body; closes the connection
 * afterwards unless keep_alive. */
static void send_error(struct client *c, int status, const char *host, const char *extra, int head_only,
                       int keep_alive)
{
    char body[128];
    int blen = snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));
    struct http_response r = {
        .status = status, .content_type = "text/plain; charset=utf-8", .content_length = (uint64_t)blen,
        .host = host, .extra = extra, .keep_alive = keep_alive,
    };
    send_head(c, &r);
    if (!head_only)
        client_send(c, body, (size_t)blen);
    if (!keep_alive)
        client_finish(c);
    log_debug("http_error", "conn=%llu status=%d", (unsigned long long)c->id, status);
}

void http_send_error(struct client *c, int status, const char *host)
{
    const char *extra = status == 405   ? "Allow: GET, HEAD\r\n"
                        : status == 426 ? "Sec-WebSocket-Version: 13\r\n"
                                        : NULL;
    send_error(c, status, host, extra, 0, 0);
}

void http_send_json(struct client *c, const struct http_json_answer *a)
{
    struct http_response r = {
        .status = a->status, .content_type = a->body_len ? "application/json" : NULL,
        .content_length = a->body_len, .cache_control = "no-store", .keep_alive = a->keep_alive,
        .host = a->host, .extra = a->extra,
    };
    char head[HEAD_MAX];
    size_t hl = http_response_head(head, sizeof(head), &r);
    if (hl == 0) {
        http_send_error(c, 500, NULL);
        return;
    }
    client_send2(c, head, hl, a->body, a->head_only ? 0 : a->body_len);
    if (!a->keep_alive)
        client_finish(c);
}

static void send_file(struct client *c, const struct http_request *req, const struct static_file *f,
                      int head_only, const char *host, int keep_alive, int copy, int status);

/* 404 for a request we understood: no body after HEAD, and the connection
 * stays (a missing favicon should not cost the browser its connection). A
 * browser asking for a page (Accept: text/html) gets the web client's
 * "Page not found" page, with the 404 status all the same. */
static void send_not_found(struct client *c, const struct http_request *req, const char *host)
{
    const struct http_str *accept = http_header_get(req, "accept");
    const struct static_file *page = static_find("/404.html", 9);
    if (page && accept && memmem(accept->p, accept->len, "text/html", 9)) {
        send_file(c, req, page, http_str_ieq(req->method, "HEAD"), host, http_keep_alive(req), 0, 404);
        return;
    }
    send_error(c, 404, host, NULL, http_str_ieq(req->method, "HEAD"), http_keep_alive(req));
}

/* 308 to the same Host and target over https. The head has room for the
 * longest target the parser lets through (HTTP_MAX_TARGET) and the longest
 * Host; should it still not fit, the answer is 414, never silence. */
static void redirect_to_https(struct client *c, const struct http_request *req, const char *host)
{
    if (!*host) {
        http_send_error(c, 400, NULL);
        return;
    }
    char extra[HTTP_MAX_TARGET + 300];
    snprintf(extra, sizeof(extra), "Location: https://%s%.*s\r\n", host, (int)req->target.len, req->target.p);
    struct http_response r = { .status = 308, .content_length = 0, .extra = extra };
    char head[HEAD_MAX + sizeof(extra)];
    size_t n = http_response_head(head, sizeof(head), &r);
    if (n == 0) {
        http_send_error(c, 414, NULL);
        return;
    }
    client_send(c, head, n);
    client_finish(c);
}

/* Sends a small JSON body that must never be cached. */
static void send_json(struct client *c, const char *body, int n, int head_only, const char *host, int keep_alive)
{
    if (n < 0) {
        http_send_error(c, 500, host);
        return;
    }
    struct http_response r = {
        .status = 200, .content_type = "application/json", .content_length = (uint64_t)n,
        .cache_control = "no-store", .keep_alive = keep_alive, .host = host,
    };
    send_head(c, &r);
    if (!head_only)
        client_send(c, body, (size_t)n);
}

static void send_health(struct client *c, int head_only, const char *host, int keep_alive)
{
    const struct server *s = c->srv;
    char body[256];
    int n = snprintf(body, sizeof(body),
                     "{\"status\":\"ok\",\"version\":\"%s\",\"uptime_s\":%llu,\"connections\":%zu}\n",
                     TINCAN_VERSION, (unsigned long long)((loop_now(s->loop) - s->started_ms) / 1000),
                     s->nclients);
    send_json(c, body, n, head_only, host, keep_alive);
}

/* GET /api/ice: the ICE servers with fresh TURN credentials. */
static void send_ice(struct client *c, int head_only, const char *host, int keep_alive)
{
    if (rest_glue_limited(c)) {
        http_send_error(c, 429, host); /* each call mints a TURN user: rate-limited like the REST API */
        return;
    }
    char *servers = turn_glue_ice_json(c->srv, host, NULL);
    char body[2048];
    int n = snprintf(body, sizeof(body), "{\"iceServers\":%s,\"ttl\":%d}\n", servers ? servers : "[]",
                     c->srv->conf->turn_credential_ttl);
    free(servers);
    send_json(c, body, (size_t)n < sizeof(body) ? n : -1, head_only, host, keep_alive);
}

/* Maps a URL path to the file that answers it: "/" and the room pages
 * ("/r/<name>") are the single-page app. */
static struct http_str file_path(struct http_str path)
{
    if ((path.len == 1 && path.p[0] == '/') || (path.len > 3 && memcmp(path.p, "/r/", 3) == 0))
        return (struct http_str){ "/index.html", 11 };
    return path;
}

static int etag_matches(const struct http_request *req, const char *etag)
{
    const struct http_str *inm = http_header_get(req, "if-none-match");
    if (!inm)
        return 0;
    if (inm->len == 1 && inm->p[0] == '*')
        return 1;
    size_t el = strlen(etag);
    for (size_t i = 0; i + el <= inm->len; i++) {
        if (memcmp(inm->p + i, etag, el) == 0)
            return 1;
    }
    return 0;
}

static void send_file(struct client *c, const struct http_request *req, const struct static_file *f,
                      int head_only, const char *host, int keep_alive, int copy, int status)
{
    struct http_response r = {
        .status = status, .content_type = f->mime, .etag = f->etag, .keep_alive = keep_alive, .host = host,
        .cache_control = f->no_cache ? "no-cache" : "public, max-age=600",
        .vary_accept_encoding = f->gz != NULL,
    };
    const uint8_t *body = f->data;
    size_t len = f->len;
    const struct http_str *ae = http_header_get(req, "accept-encoding");
    if (f->gz && ae && http_list_has_token(*ae, "gzip")) {
        body = f->gz;
        len = f->gz_len;
        r.content_encoding = "gzip";
        r.etag = f->gz_etag;
    }
    if (status == 200 && etag_matches(req, r.etag)) {
        r.status = 304;
        r.content_encoding = NULL;
        send_head(c, &r);
        return;
    }
    r.content_length = len;
    send_head(c, &r);
    if (head_only || len == 0)
        return;
    /* A small body goes in the same TLS record as the head; a large one is
     * sent from the binary's read-only data without copying. */
    if (copy || len <= SMALL_BODY)
        client_send(c, body, len);
    else
        conn_queue_tail(&c->conn, body, len);
}

static void serve_static(struct client *c, const struct http_request *req, int head_only, const char *host,
                         int keep_alive)
{
    struct http_str path = file_path(req->path);
    const char *root = c->srv->conf->web_root;
    if (root) {
        struct static_file *f = static_load_disk(root, path.p, path.len);
        if (!f) {
            send_not_found(c, req, host);
            return;
        }
        send_file(c, req, f, head_only, host, keep_alive, 1, 200);
        static_file_free(f);
        return;
    }
    const struct static_file *f = static_find(path.p, path.len);
    if (!f) {
        send_not_found(c, req, host);
        return;
    }
    send_file(c, req, f, head_only, host, keep_alive, 0, 200);
}

/* "/" serves the web client, and upgrades for the join-code backend's
 * clients, which connect there. */
static int is_websocket_upgrade(const struct http_request *req)
{
    const struct http_str *upgrade = http_header_get(req, "upgrade");
    return upgrade && http_list_has_token(*upgrade, "websocket");
}

void http_handle(struct client *c, const struct http_request *req, const uint8_t *body, size_t body_len)
{
    char host[256];
    if (request_host(req, host, sizeof(host)) < 0) {
        http_send_error(c, 400, NULL);
        return;
    }
    if (c->plain) {
        if (acme_glue_http(c, req, host))
            return;
        redirect_to_https(c, req, host);
        return;
    }
    int is_get = http_str_ieq(req->method, "GET");
    int is_head = http_str_ieq(req->method, "HEAD");
    int keep_alive = http_keep_alive(req);
    if (http_str_ieq(req->path, "/ws") || (is_websocket_upgrade(req) && http_str_ieq(req->path, "/"))) {
        if (is_get)
            ws_session_upgrade(c, req);
        else
            http_send_error(c, 405, host);
        return;
    }
    if (accounts_glue_owns(c->srv, req)) {
        accounts_glue_handle(c, req, body, body_len, host);
        return;
    }
    if (rest_glue_owns(req)) {
        rest_glue_handle(c, req, body, body_len, host);
        return;
    }
    if (!is_get && !is_head) {
        http_send_error(c, 405, host);
        return;
    }
    if (req->path.len == 7 && memcmp(req->path.p, "/health", 7) == 0)
        send_health(c, is_head, host, keep_alive);
    else if (http_str_ieq(req->path, "/api/ice"))
        send_ice(c, is_head, host, keep_alive);
    else if (http_str_ieq(req->path, "/metrics"))
        metrics_serve(c, req, is_head, host, keep_alive);
    else
        serve_static(c, req, is_head, host, keep_alive);
    if (!keep_alive)
        client_finish(c);
}
