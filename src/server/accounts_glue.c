/*
 * accounts_glue — the accounts API on the HTTPS port (see accounts_glue.h).
 *
 * The API has its own connection to the database file the REST API uses
 * (<data-dir>/tincan.db or --db); both run on the one event loop, so their
 * transactions never overlap. Answers carry no CORS headers: the API is for
 * the page's own origin only, and its cookie is SameSite=Strict.
 */
#include "accounts_glue.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/alloc.h"
#include "../base/isotime.h"
#include "../base/log.h"
#include "../http/accounts_api.h"
#include "../http/http.h"
#include "../http/response.h"
#include "../signal/hub.h"
#include "../store/store.h"
#include "../store/users.h"
#include "client.h"
#include "http_handler.h"
#include "server.h"

#define SWEEP_EVERY_MS 60000

struct accounts_glue {
    struct store *store;
    struct accounts *api;
    struct loop_timer timer;
    struct server *srv;
};

static void on_timer(struct loop *loop, struct loop_timer *t)
{
    struct accounts_glue *g = container_of(t, struct accounts_glue, timer);
    int64_t now = isotime_now_ms();
    long n = 0;
    if (users_purge_expired(g->store, now, &n) == STORE_OK && n > 0)
        log_info("sessions_expired", "deleted=%ld", n);
    accounts_sweep(g->api, now);
    hub_presence_recheck(g->srv->hub); /* sessions that expired meanwhile */
    loop_timer_start(loop, t, SWEEP_EVERY_MS, on_timer);
}

static enum accounts_registration registration(const char *mode)
{
    if (strcmp(mode, "open") == 0)
        return ACCOUNTS_REG_OPEN;
    return strcmp(mode, "closed") == 0 ? ACCOUNTS_REG_CLOSED : ACCOUNTS_REG_INVITE;
}

/* While no account is an admin, a fresh admin invite is made at each start
 * and logged, so whoever reads the log can make the first admin. */
static void bootstrap_admin(struct accounts_glue *g, enum accounts_registration mode)
{
    long n = 0, admins = 0;
    char code[64];
    if (users_count(g->store, &n, &admins) != STORE_OK || admins > 0)
        return;
    if (mode == ACCOUNTS_REG_CLOSED) {
        log_warn("accounts_no_admin", "hint=\"tincan user add NAME --admin\"");
        return;
    }
    if (accounts_invite_new(g->store, 1, isotime_now_ms(), code) == 0)
        log_warn("accounts_admin_invite", "invite=%s hint=\"register with this invite to become the admin\"", code);
}

/* --- what the signaling hub asks (struct hub_accounts) --- */

static int hub_session_live(void *ctx, const char *session_hash)
{
    struct accounts_glue *g = ctx;
    return accounts_session_live(g->api, session_hash, isotime_now_ms());
}

static enum hub_team_check hub_team_room(void *ctx, const char *id, const char *password)
{
    struct accounts_glue *g = ctx;
    int rc = accounts_team_room_check(g->api, id, password);
    return rc == 0 ? HUB_TEAM_OK : rc == 1 ? HUB_TEAM_NOT_FOUND : rc == 2 ? HUB_TEAM_WRONG_PASSWORD : HUB_TEAM_ERROR;
}

int accounts_glue_init(struct server *s)
{
    if (!s->conf->accounts)
        return 0;
    char path[4200], err[600];
    if (server_db_path(s->conf, path, sizeof(path)) < 0)
        return -1;
    struct store *st = store_open(path, err, sizeof(err));
    if (!st) {
        log_error("store_failed", "error=\"%s\"", err);
        return -1;
    }
    struct accounts_conf ac = {
        .registration = registration(s->conf->registration),
        .session_ttl_ms = (int64_t)s->conf->session_ttl * 1000,
        .login_rate = 20, .register_rate = 5,
    };
    struct accounts_glue *g = xcalloc(1, sizeof(*g));
    g->store = st;
    g->srv = s;
    g->api = accounts_new(st, &ac);
    s->accounts = g;
    bootstrap_admin(g, ac.registration);
    struct hub_accounts ha = { .ctx = g, .session_live = hub_session_live, .team_room = hub_team_room };
    hub_set_accounts(s->hub, &ha);
    loop_timer_start(s->loop, &g->timer, SWEEP_EVERY_MS, on_timer);
    log_info("accounts", "enabled=true db=\"%s\" registration=%s session_ttl=%d", path, s->conf->registration,
             s->conf->session_ttl);
    return 0;
}

void accounts_glue_cleanup(struct server *s)
{
    struct accounts_glue *g = s->accounts;
    if (!g)
        return;
    loop_timer_stop(s->loop, &g->timer);
    /* The hub is freed before this (server_cleanup), so it never asks again. */
    accounts_free(g->api);
    store_close(g->store);
    xfree(g);
    s->accounts = NULL;
}

int accounts_glue_owns(const struct server *s, const struct http_request *req)
{
    return s->accounts && accounts_is_api_path(req->path.p, req->path.len);
}

void accounts_glue_stats(const struct server *s, struct accounts_stats *out)
{
    if (s->accounts)
        accounts_stats(s->accounts->api, out);
    else
        memset(out, 0, sizeof(*out));
}

static void send_answer(struct client *c, const struct accounts_response *out, int head_only, const char *host,
                        int keep_alive)
{
    char extra[768] = "";
    int n = 0;
    if (out->set_cookie[0])
        n += snprintf(extra + n, sizeof(extra) - (size_t)n, "Set-Cookie: %s\r\n", out->set_cookie);
    if (out->allow && out->status == 405)
        n += snprintf(extra + n, sizeof(extra) - (size_t)n, "Allow: %s\r\n", out->allow);
    if (out->retry_after_s)
        snprintf(extra + n, sizeof(extra) - (size_t)n, "Retry-After: %llu\r\n",
                 (unsigned long long)out->retry_after_s);
    struct http_json_answer a = { out->status, out->body, out->body_len, extra, host, head_only, keep_alive };
    http_send_json(c, &a);
}

static const char *header(const struct http_request *req, const char *name, size_t *len)
{
    const struct http_str *h = http_header_get(req, name);
    *len = h ? h->len : 0;
    return h ? h->p : NULL;
}

void accounts_glue_ws_sign_in(struct server *s, const struct http_request *req, struct peer *p)
{
    if (!s->accounts || !p)
        return;
    size_t n;
    const char *cookie = header(req, "cookie", &n);
    struct users_user u;
    char hash[65];
    if (accounts_session_of(s->accounts->api, cookie, n, isotime_now_ms(), &u, hash) == STORE_OK)
        hub_sign_in(p, u.id, u.name, hash);
}

/* A request that changed sessions or team rooms went through: the hub
 * rechecks the sessions of signed-in connections (they may have ended) or
 * tells them the room list changed. */
static void after_change(struct server *s, const struct http_request *req, int status)
{
    if (status < 200 || status > 299 || http_str_ieq(req->method, "GET") || http_str_ieq(req->method, "HEAD"))
        return;
    struct http_str path = req->path;
    if (http_str_ieq(path, "/api/auth/logout") || http_str_ieq(path, "/api/auth/logout-all") ||
        http_str_ieq(path, "/api/auth/disable"))
        hub_presence_recheck(s->hub);
    else if (path.len >= 15 && memcmp(path.p, "/api/team-rooms", 15) == 0 &&
             !(path.len > 6 && memcmp(path.p + path.len - 6, "/enter", 6) == 0))
        hub_rooms_changed(s->hub);
}

void accounts_glue_handle(struct client *c, const struct http_request *req, const uint8_t *body, size_t body_len,
                          const char *host)
{
    char source[64];
    sock_ip_str(&c->source, source, sizeof(source));
    struct accounts_request rq = {
        .method = req->method.p, .method_len = req->method.len, .path = req->path.p, .path_len = req->path.len,
        .body = body, .body_len = body_len, .host = host, .source = source, .now_ms = isotime_now_ms(),
    };
    rq.cookie = header(req, "cookie", &rq.cookie_len);
    rq.origin = header(req, "origin", &rq.origin_len);
    rq.fetch_site = header(req, "sec-fetch-site", &rq.fetch_site_len);
    struct accounts_response *out = xmalloc(sizeof(*out));
    memset(out, 0, offsetof(struct accounts_response, body));
    accounts_handle(c->srv->accounts->api, &rq, out);
    log_debug("accounts", "conn=%llu method=%.*s path=%.*s status=%d", (unsigned long long)c->id,
              (int)req->method.len, req->method.p, (int)req->path.len, req->path.p, out->status);
    send_answer(c, out, http_str_ieq(req->method, "HEAD"), host, http_keep_alive(req));
    after_change(c->srv, req, out->status);
    xfree(out);
}
