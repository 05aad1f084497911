/*
 * rest_glue — the REST API on the HTTPS port (see rest_glue.h).
 *
 * Rate limiting: one token bucket per source address (IPv6 per /64, since
 * one host usually owns a whole /64), --rest-rate requests per second with
 * bursts of twice that. The table holds at most LIMITS_MAX sources; when it
 * is full of busy sources, new sources are refused with 429 until some go
 * idle, so the table cannot be grown without bound.
 */
#include "rest_glue.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/alloc.h"
#include "../base/isotime.h"
#include "../base/log.h"
#include "../base/ratetable.h"
#include "../http/http.h"
#include "../http/response.h"
#include "../http/rest.h"
#include "../store/store.h"
#include "client.h"
#include "http_handler.h"
#include "server.h"

#define EXPIRE_EVERY_MS 60000
#define LIMITS_MAX 16384
#define LIMITS_FULL_WAIT_MS 1000 /* a new source while the table is full of busy ones */
#define RATE_WINDOW_MS 2000 /* burst = rate * 2 s */

struct rest_glue {
    struct store *store;
    struct loop_timer timer;
    struct server *srv;
    struct ratetable limits; /* source (hex) → token bucket */
    unsigned burst;          /* tokens per RATE_WINDOW_MS; 0 = no limit */
};

/* --- rate limit --- */

/* source is already reduced by sock_ip_source(): IPv6 to its /64. */
static void limit_key(const struct sock_ip *source, char key[33])
{
    for (size_t i = 0; i < 16; i++)
        snprintf(key + 2 * i, 3, "%02x", source->b[i]);
}

/* Takes a token for ip: 0 if the request may go on, else ms to wait. */
static uint64_t take_token(struct rest_glue *g, const struct sock_ip *ip)
{
    char key[33] = "";
    limit_key(ip, key);
    return ratetable_take(&g->limits, key, g->burst, RATE_WINDOW_MS, loop_now(g->srv->loop));
}

/* --- life cycle --- */

static void on_timer(struct loop *loop, struct loop_timer *t)
{
    struct rest_glue *g = container_of(t, struct rest_glue, timer);
    char now[ISOTIME_LEN + 1];
    long n = 0;
    if (isotime_format(isotime_now_ms(), now) == 0 && store_purge_expired(g->store, now, &n) == STORE_OK && n > 0)
        log_info("pendings_expired", "deleted=%ld", n);
    char before[ISOTIME_LEN + 1];
    if (isotime_format(isotime_now_ms() - REST_ROOM_MAX_AGE_MS, before) == 0 &&
        store_purge_old_rooms(g->store, before, &n) == STORE_OK && n > 0)
        log_info("rooms_expired", "deleted=%ld", n);
    ratetable_sweep(&g->limits, loop_now(loop));
    loop_timer_start(loop, t, EXPIRE_EVERY_MS, on_timer);
}

int rest_glue_init(struct server *s)
{
    if (s->conf->no_rest_api) {
        log_info("rest_api", "enabled=false");
        return 0;
    }
    char path[4200], err[600];
    if (server_db_path(s->conf, path, sizeof(path)) < 0)
        return -1;
    struct store *st = store_open(path, err, sizeof(err));
    if (!st) {
        log_error("store_failed", "error=\"%s\"", err);
        return -1;
    }
    static const struct store_limits limits = {
        .pendings_per_client = REST_PENDINGS_PER_CLIENT, .pendings = REST_PENDINGS_MAX, .rooms = REST_ROOMS_MAX,
    };
    store_set_limits(st, &limits);
    struct rest_glue *g = xcalloc(1, sizeof(*g));
    g->store = st;
    g->srv = s;
    g->burst = (unsigned)s->conf->rest_rate * (RATE_WINDOW_MS / 1000);
    ratetable_init(&g->limits, LIMITS_MAX, LIMITS_FULL_WAIT_MS);
    s->rest = g;
    loop_timer_start(s->loop, &g->timer, 0, on_timer); /* the first sweep right away */
    log_info("rest_api", "enabled=true db=\"%s\" schema=%d rate=%d", path, store_schema_version(st),
             s->conf->rest_rate);
    return 0;
}

void rest_glue_cleanup(struct server *s)
{
    struct rest_glue *g = s->rest;
    if (!g)
        return;
    loop_timer_stop(s->loop, &g->timer);
    ratetable_cleanup(&g->limits);
    store_close(g->store);
    xfree(g);
    s->rest = NULL;
}

struct store *rest_glue_store(struct server *s)
{
    return s->rest ? s->rest->store : NULL;
}

/* --- answers --- */

int rest_glue_owns(const struct http_request *req)
{
    return rest_is_api_path(req->path.p, req->path.len);
}

/* The request headers a preflight may allow: what the page asked for (as
 * the usual CORS middleware does) when it is a plain list of header names,
 * else Content-Type. */
static struct http_str allowed_headers(const struct http_request *req)
{
    static const char fallback[] = "Content-Type";
    const struct http_str *asked = req ? http_header_get(req, "access-control-request-headers") : NULL;
    int ok = asked && asked->len > 0 && asked->len <= 256;
    for (size_t i = 0; ok && i < asked->len; i++) {
        char ch = asked->p[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
             ch == '_' || ch == ',' || ch == ' ';
    }
    return ok ? *asked : (struct http_str){ fallback, sizeof(fallback) - 1 };
}

/* Writes out as an HTTP response with the CORS headers (the join code is
 * the capability and no cookies are used, so any origin may call). req
 * may be NULL when the request was refused before it was read whole. */
static void send_answer(struct client *c, const struct http_request *req, const struct rest_response *out,
                        int head_only, const char *host, int keep_alive, uint64_t retry_ms)
{
    char extra[768];
    int n = snprintf(extra, sizeof(extra), "Access-Control-Allow-Origin: *\r\n");
    if (out->allow && (out->status == 405 || out->preflight))
        n += snprintf(extra + n, sizeof(extra) - (size_t)n, "Allow: %s\r\n", out->allow);
    if (out->preflight) {
        struct http_str headers = allowed_headers(req);
        n += snprintf(extra + n, sizeof(extra) - (size_t)n,
                      "Access-Control-Allow-Methods: %s\r\nAccess-Control-Allow-Headers: %.*s\r\n"
                      "Access-Control-Max-Age: 86400\r\n", out->allow, (int)headers.len, headers.p);
    }
    if (retry_ms)
        snprintf(extra + n, sizeof(extra) - (size_t)n, "Retry-After: %llu\r\n",
                 (unsigned long long)((retry_ms + 999) / 1000));
    struct http_json_answer a = { out->status, out->body, out->body_len, extra, host, head_only, keep_alive };
    http_send_json(c, &a);
}

int rest_glue_limited(struct client *c)
{
    struct rest_glue *g = c->srv->rest;
    if (!g || take_token(g, &c->source) == 0)
        return 0;
    c->srv->rest_limited++;
    return 1;
}

void rest_glue_handle(struct client *c, const struct http_request *req, const uint8_t *body, size_t body_len,
                      const char *host)
{
    struct rest_glue *g = c->srv->rest;
    int head_only = http_str_ieq(req->method, "HEAD");
    int keep_alive = http_keep_alive(req);
    struct rest_response *out = xmalloc(sizeof(*out));
    uint64_t wait = 0;
    if (!g) {
        memset(out, 0, sizeof(*out));
        rest_error(out, 404, "not_found");
    } else if ((wait = take_token(g, &c->source)) > 0) {
        memset(out, 0, sizeof(*out));
        c->srv->rest_limited++;
        rest_error(out, 429, "rate_limited");
    } else {
        struct rest_request rq = {
            .method = req->method.p, .method_len = req->method.len, .path = req->path.p,
            .path_len = req->path.len, .query = req->query.p, .query_len = req->query.len,
            .body = body, .body_len = body_len, .now_ms = isotime_now_ms(),
        };
        rest_handle(g->store, &rq, out);
        if (out->status == 429)
            c->srv->rest_refused[REST_REFUSED_PER_CLIENT]++;
        else if (out->status == 503)
            c->srv->rest_refused[REST_REFUSED_FULL]++;
    }
    log_debug("rest", "conn=%llu method=%.*s path=%.*s status=%d", (unsigned long long)c->id,
              (int)req->method.len, req->method.p, (int)req->path.len, req->path.p, out->status);
    send_answer(c, req, out, head_only, host, keep_alive, wait);
    xfree(out);
}

void rest_glue_too_large(struct client *c, const struct http_request *req)
{
    if (!rest_glue_owns(req) || !c->srv->rest) {
        http_send_error(c, 413, NULL);
        return;
    }
    struct rest_response out;
    memset(&out, 0, offsetof(struct rest_response, body));
    rest_error(&out, 413, "payload_too_large");
    send_answer(c, req, &out, 0, NULL, 0, 0);
}
