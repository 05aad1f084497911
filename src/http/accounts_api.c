/*
 * accounts_api — accounts, sessions and team rooms over HTTP/JSON (see
 * accounts_api.h): the API's state and its dispatch. A request is matched
 * against the route table below (path shape and method: 404, 405 with
 * Allow), a state-changing one must prove same origin (accounts_parse.c)
 * and carry a well-formed body, a route behind a session gets the
 * session's account, and then the route's handler answers
 * (accounts_auth.c, accounts_rooms.c), or suspends the request for a
 * password hash (accounts_wait.c). accounts_int.h lists the other files.
 */
#include <string.h>

#include "../base/alloc.h"
#include "accounts_int.h"

/* The limits' table: a flood of addresses or names costs bounded memory;
 * while it is full of busy buckets, new ones are refused for a minute. */
#define LIMITS_MAX 16384
#define LIMITS_FULL_WAIT_MS 60000

/* --- life cycle --- */

struct accounts *accounts_new(struct store *st, const struct accounts_conf *conf)
{
    struct accounts *a = xcalloc(1, sizeof(*a));
    a->st = st;
    a->conf = *conf;
    ratetable_init(&a->limits, LIMITS_MAX, LIMITS_FULL_WAIT_MS);
    accounts_passes_init(a);
    return a;
}

void accounts_free(struct accounts *a)
{
    if (!a)
        return;
    ratetable_cleanup(&a->limits);
    accounts_passes_free(a);
    xfree(a);
}

void accounts_stats(const struct accounts *a, struct accounts_stats *out)
{
    *out = a->stats;
}

void accounts_sweep(struct accounts *a, int64_t now_ms)
{
    ratetable_sweep(&a->limits, (uint64_t)now_ms);
    accounts_passes_sweep(a, now_ms);
}

/* --- dispatch --- */

enum shape { P_EXACT, P_ROOM, P_ROOM_ENTER };

struct route {
    enum shape shape;
    const char *path;           /* P_EXACT: the path */
    const char *method;
    int auth;                   /* needs a live session */
    void (*fn)(struct accounts_ctx *c);
    const char *allow;
};

static const struct route routes[] = {
    { P_EXACT, "/api/auth/register", "POST", 0, accounts_route_register, "POST" },
    { P_EXACT, "/api/auth/login", "POST", 0, accounts_route_login, "POST" },
    { P_EXACT, "/api/auth/logout", "POST", 0, accounts_route_logout, "POST" },
    { P_EXACT, "/api/auth/logout-all", "POST", 1, accounts_route_logout_all, "POST" },
    { P_EXACT, "/api/auth/me", "GET", 1, accounts_route_me, "GET, HEAD" },
    { P_EXACT, "/api/auth/invites", "POST", 1, accounts_route_invite, "POST" },
    { P_EXACT, "/api/auth/disable", "POST", 1, accounts_route_disable, "POST" },
    { P_EXACT, "/api/team-rooms", "GET", 1, accounts_route_rooms_list, "GET, HEAD, POST" },
    { P_EXACT, "/api/team-rooms", "POST", 1, accounts_route_room_create, "GET, HEAD, POST" },
    { P_ROOM, NULL, "PATCH", 1, accounts_route_room_rename, "PATCH, DELETE" },
    { P_ROOM, NULL, "DELETE", 1, accounts_route_room_delete, "PATCH, DELETE" },
    { P_ROOM_ENTER, NULL, "POST", 1, accounts_route_room_enter, "POST" },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))
#define ROOMS_PREFIX "/api/team-rooms/"

/* The shape of path; for room paths the id goes to id. -1: not ours. */
static int path_shape(const char *path, size_t len, const char **exact, char id[USERS_ROOM_ID_LEN + 1])
{
    for (size_t i = 0; i < NROUTES; i++) {
        if (routes[i].path && strlen(routes[i].path) == len && memcmp(routes[i].path, path, len) == 0) {
            *exact = routes[i].path;
            return P_EXACT;
        }
    }
    size_t pl = sizeof(ROOMS_PREFIX) - 1;
    if (len <= pl || memcmp(path, ROOMS_PREFIX, pl) != 0)
        return -1;
    const char *p = path + pl, *end = path + len;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    size_t idl = (size_t)((slash ? slash : end) - p);
    if (idl == 0 || idl > USERS_ROOM_ID_LEN)
        return -1;
    memcpy(id, p, idl);
    id[idl] = '\0';
    if (!slash)
        return P_ROOM;
    return (size_t)(end - slash) == 6 && memcmp(slash, "/enter", 6) == 0 ? P_ROOM_ENTER : -1;
}

int accounts_is_api_path(const char *path, size_t len)
{
    return (len >= 9 && memcmp(path, "/api/auth", 9) == 0 && (len == 9 || path[9] == '/')) ||
           (len >= 15 && memcmp(path, "/api/team-rooms", 15) == 0 && (len == 15 || path[15] == '/'));
}

/* The route for the request's path and method; NULL with out answered (404
 * or 405) when there is none. */
static const struct route *find_route(const struct accounts_request *req, struct accounts_ctx *c)
{
    const char *exact = NULL;
    int shape = path_shape(req->path, req->path_len, &exact, c->id);
    const struct route *any = NULL;
    int head = req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;
    for (size_t i = 0; shape >= 0 && i < NROUTES; i++) {
        const struct route *r = &routes[i];
        if ((int)r->shape != shape || (shape == P_EXACT && r->path != exact))
            continue;
        any = r;
        const char *m = head ? "GET" : req->method;
        size_t ml = head ? 3 : req->method_len;
        if (strlen(r->method) == ml && memcmp(r->method, m, ml) == 0)
            return r;
    }
    if (!any) {
        accounts_error(c->out, 404, "not_found");
    } else {
        accounts_error(c->out, 405, "method_not_allowed");
        c->out->allow = any->allow;
    }
    return NULL;
}

/* Reads the account of the request's session cookie into c->user. */
static enum store_status session_user(struct accounts_ctx *c)
{
    char hash[USERS_TOKEN_HASH_LEN + 1];
    return accounts_session_of(c->a, c->req->cookie, c->req->cookie_len, c->req->now_ms, &c->user, hash);
}

struct accounts_wait *accounts_handle(struct accounts *a, const struct accounts_request *req,
                                     struct accounts_response *out)
{
    struct accounts_wait *w = xcalloc(1, sizeof(*w));
    struct accounts_ctx *c = &w->c;
    c->a = a;
    c->req = req;
    c->out = out;
    accounts_reset_answer(out);
    const struct route *r = find_route(req, c);
    int changes = r && strcmp(r->method, "GET") != 0;
    enum store_status res = STORE_OK;
    if (!r) {
        /* answered */
    } else if (changes && !accounts_same_origin(req)) {
        a->stats.csrf++;
        accounts_error(out, 403, "csrf");
    } else if (changes && accounts_parse_body(req->body, req->body_len, &c->body) < 0) {
        accounts_error(out, 400, "bad_request");
    } else if (r->auth && (res = session_user(c)) != STORE_OK) {
        a->stats.unauthenticated += res == STORE_NOT_FOUND;
        accounts_error(out, res == STORE_NOT_FOUND ? 401 : 500, res == STORE_NOT_FOUND ? "unauthenticated" : "internal");
    } else {
        r->fn(c);
    }
    if (c->waits)
        return w;
    accounts_wait_free(w);
    return NULL;
}

void accounts_handle_now(struct accounts *a, const struct accounts_request *req, struct accounts_response *out)
{
    struct accounts_wait *w = accounts_handle(a, req, out);
    if (w) {
        accounts_wait_work(w);
        accounts_resume(a, w, req->now_ms, out);
    }
}
