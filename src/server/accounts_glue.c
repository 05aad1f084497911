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
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/alloc.h"
#include "../base/isotime.h"
#include "../base/log.h"
#include "../base/pwhash.h"
#include "../base/workq.h"
#include "../http/accounts_api.h"
#include "../http/http.h"
#include "../http/response.h"
#include "../signal/hub.h"
#include "../store/store.h"
#include "../store/users.h"
#include "client.h"
#include "http_conn.h"
#include "http_handler.h"
#include "server.h"

#define SWEEP_EVERY_MS 60000
#define HASH_THREADS 2    /* argon2id workers (19 MiB each while hashing) */
#define HASH_QUEUE 64     /* requests waiting for a hash; more get 503 */

struct accounts_glue {
    struct store *store;
    struct accounts *api;
    struct loop_timer timer;
    struct server *srv;
    struct workq *hashq;
    int stopping;
};

/* What a request's answer does to the signaling hub (after_change). */
enum change { CHANGE_NONE, CHANGE_SESSIONS, CHANGE_ROOMS };

/* One request whose answer waits for a password hash on a worker. */
struct pending {
    struct workq_job job;
    struct client_wait wait;    /* in c->waiting */
    struct accounts_glue *g;
    struct client *c;           /* NULL once the connection went */
    uint64_t conn_id;           /* c's, for the log */
    struct accounts_wait *w;
    enum change change;
    int head_only, keep_alive;
    char host[256];
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

/* A WebSocket join of a team room whose password has to be verified. */
struct room_check {
    struct workq_job job;
    struct accounts_glue *g;
    json_t *join;               /* the join message (a reference) */
    char peer_id[64];
    char id[USERS_ROOM_ID_LEN + 1];
    char pwhash[USERS_HASH_MAX + 1];
    char password[ACCOUNTS_FIELD_MAX + 1];
    int ok;
};

static void room_check_work(struct workq_job *job)
{
    struct room_check *k = container_of(job, struct room_check, job);
    k->ok = pwhash_verify(k->pwhash, k->password, strlen(k->password));
}

/* The password is verified: the hub answers the join, or handles it again
 * (now the password is known good, it goes through without a hash). */
static void room_check_done(struct workq_job *job)
{
    struct room_check *k = container_of(job, struct room_check, job);
    struct accounts_glue *g = k->g;
    if (!g->stopping && !job->cancelled) {
        if (k->ok)
            accounts_team_room_passed(g->api, k->id, k->pwhash, k->password, isotime_now_ms());
        hub_team_checked(g->srv->hub, k->peer_id, k->join, k->ok ? HUB_TEAM_OK : HUB_TEAM_WRONG_PASSWORD);
    }
    json_decref(k->join);
    OPENSSL_cleanse(k, sizeof(*k));
    xfree(k);
}

static enum hub_team_check hub_team_room(void *ctx, const char *id, const char *password, const char *peer_id,
                                         json_t *join)
{
    struct accounts_glue *g = ctx;
    char pwhash[USERS_HASH_MAX + 1];
    int rc = accounts_team_room_check(g->api, id, password, isotime_now_ms(), pwhash, sizeof(pwhash));
    if (rc == 3 && (strlen(id) >= USERS_ROOM_ID_LEN + 1 || strlen(peer_id) >= 64))
        rc = 1;
    if (rc != 3)
        return rc == 0 ? HUB_TEAM_OK : rc == 1 ? HUB_TEAM_NOT_FOUND : rc == 2 ? HUB_TEAM_WRONG_PASSWORD : HUB_TEAM_ERROR;
    struct room_check *k = xcalloc(1, sizeof(*k));
    memcpy(k->id, id, strlen(id) + 1);
    memcpy(k->peer_id, peer_id, strlen(peer_id) + 1);
    k->job.work = room_check_work;
    k->job.done = room_check_done;
    k->g = g;
    memcpy(k->pwhash, pwhash, sizeof(k->pwhash));
    snprintf(k->password, sizeof(k->password), "%s", password); /* at most 128 bytes (rc 3) */
    k->join = json_incref(join);
    if (workq_submit(g->hashq, &k->job) < 0) {
        json_decref(k->join);
        OPENSSL_cleanse(k, sizeof(*k));
        xfree(k);
        return HUB_TEAM_ERROR; /* "try again" */
    }
    return HUB_TEAM_PENDING;
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
    g->hashq = workq_new(s->loop, HASH_THREADS, HASH_QUEUE);
    if (!g->hashq) {
        log_error("accounts_failed", "error=\"cannot start the hash workers: %s\"", strerror(errno));
        accounts_free(g->api);
        store_close(st);
        xfree(g);
        return -1;
    }
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
    g->stopping = 1;
    workq_free(g->hashq); /* answers nobody: pending requests are dropped */
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
    if (s->accounts) {
        accounts_stats(s->accounts->api, out);
        out->hashing = workq_pending(s->accounts->hashq);
    } else
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

/* What a request does to the hub if it goes through: the hub rechecks the
 * sessions of signed-in connections (they may have ended) or tells them the
 * room list changed. */
static enum change change_of(const struct http_request *req)
{
    if (http_str_ieq(req->method, "GET") || http_str_ieq(req->method, "HEAD"))
        return CHANGE_NONE;
    struct http_str path = req->path;
    if (http_str_ieq(path, "/api/auth/logout") || http_str_ieq(path, "/api/auth/logout-all") ||
        http_str_ieq(path, "/api/auth/disable"))
        return CHANGE_SESSIONS;
    if (path.len >= 15 && memcmp(path.p, "/api/team-rooms", 15) == 0 &&
        !(path.len > 6 && memcmp(path.p + path.len - 6, "/enter", 6) == 0))
        return CHANGE_ROOMS;
    return CHANGE_NONE;
}

static void after_change(struct server *s, enum change change, int status)
{
    if (status < 200 || status > 299)
        return;
    if (change == CHANGE_SESSIONS)
        hub_presence_recheck(s->hub);
    else if (change == CHANGE_ROOMS)
        hub_rooms_changed(s->hub);
}

static void hash_work(struct workq_job *job)
{
    accounts_wait_work(container_of(job, struct pending, job)->w);
}

/* The hash is done (loop thread): answer the client if it is still there. */
static void hash_done(struct workq_job *job)
{
    struct pending *p = container_of(job, struct pending, job);
    struct client *c = p->c;
    if (c)
        c->waiting = NULL;
    if (!c || p->g->stopping || job->cancelled) {
        if (!c)
            log_info("accounts_abandoned", "conn=%llu reason=connection_closed", (unsigned long long)p->conn_id);
        accounts_wait_free(p->w);
        xfree(p);
        return;
    }
    struct accounts_response *out = xmalloc(sizeof(*out));
    memset(out, 0, offsetof(struct accounts_response, body));
    accounts_resume(p->g->api, p->w, isotime_now_ms(), out);
    log_debug("accounts", "conn=%llu status=%d waited=1", (unsigned long long)c->id, out->status);
    send_answer(c, out, p->head_only, p->host, p->keep_alive);
    after_change(p->g->srv, p->change, out->status);
    xfree(out);
    xfree(p);
    http_conn_answered(c);
}

/* The connection went while its hash runs: the answer goes nowhere. */
static void hash_cancel(struct client_wait *wait)
{
    container_of(wait, struct pending, wait)->c = NULL;
}

/* Hands w to a worker; c's answer waits. Returns -1 when the queue is full. */
static int submit_hash(struct client *c, const struct http_request *req, struct accounts_wait *w, const char *host)
{
    struct pending *p = xcalloc(1, sizeof(*p));
    *p = (struct pending){
        .job = { .work = hash_work, .done = hash_done }, .wait = { .cancel = hash_cancel }, .g = c->srv->accounts,
        .c = c, .conn_id = c->id, .w = w, .change = change_of(req), .head_only = http_str_ieq(req->method, "HEAD"),
        .keep_alive = http_keep_alive(req),
    };
    snprintf(p->host, sizeof(p->host), "%s", host ? host : "");
    if (workq_submit(p->g->hashq, &p->job) < 0) {
        xfree(p);
        return -1;
    }
    c->waiting = &p->wait;
    return 0;
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
    struct accounts_wait *w = accounts_handle(c->srv->accounts->api, &rq, out);
    if (w && submit_hash(c, req, w, host) == 0) {
        xfree(out);
        return;
    }
    if (w) {
        accounts_wait_free(w);
        accounts_error(out, 503, "busy");
        out->retry_after_s = 1;
    }
    log_debug("accounts", "conn=%llu method=%.*s path=%.*s status=%d", (unsigned long long)c->id,
              (int)req->method.len, req->method.p, (int)req->path.len, req->path.p, out->status);
    send_answer(c, out, http_str_ieq(req->method, "HEAD"), host, http_keep_alive(req));
    after_change(c->srv, change_of(req), out->status);
    xfree(out);
}
