/*
 * rest — the seed-003 REST API (see rest.h).
 *
 * One table row per (path, method). Request bodies are parsed with jansson;
 * a field counts as missing when it is absent, not a string, or empty (what
 * the seed's `if (!joinid)` treats as missing). Answers are built with
 * jansson too, so every string in them is escaped correctly.
 */
#include "rest.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../base/isotime.h"
#include "../store/store.h"

#define ALLOW_ROOMS "GET, HEAD, POST, DELETE, OPTIONS"
#define ALLOW_POST "POST, OPTIONS"

enum field_result { FIELD_OK, FIELD_MISSING, FIELD_INVALID };

struct call {
    struct store *st;
    const struct rest_request *req;
    struct rest_response *out;
    json_t *body;               /* the parsed object (POST, DELETE) */
    char now[ISOTIME_LEN + 1];
};

typedef void (*handler_fn)(struct call *c);

struct route {
    const char *path;
    const char *method;
    handler_fn fn;
    int has_body;
};

/* --- answers --- */

/* Serializes j (taking its reference) as the body with status. */
static void answer(struct rest_response *out, int status, json_t *j)
{
    size_t n = j ? json_dumpb(j, out->body, sizeof(out->body), JSON_COMPACT) : 0;
    json_decref(j);
    if (n == 0 || n > sizeof(out->body)) {
        rest_error(out, 500, "internal");
        return;
    }
    out->status = status;
    out->body_len = n;
}

void rest_error(struct rest_response *out, int status, const char *code)
{
    int n = snprintf(out->body, sizeof(out->body), "{\"error\":\"%s\"}", code);
    out->status = status;
    out->body_len = (size_t)n;
}

static void answer_ok(struct rest_response *out, int status)
{
    answer(out, status, json_pack("{s:b}", "ok", 1));
}

static void answer_roomid(struct rest_response *out, const char *roomid)
{
    answer(out, 200, json_pack("{s:s}", "roomid", roomid));
}

/* Maps a store failure to its answer; not_found is the code for 404. */
static void answer_status(struct rest_response *out, enum store_status s, const char *not_found)
{
    switch (s) {
    case STORE_NOT_FOUND:
        rest_error(out, 404, not_found);
        return;
    case STORE_CONFLICT:
        rest_error(out, 409, "conflict");
        return;
    case STORE_TOO_MANY:
        rest_error(out, 429, "too_many_pendings");
        return;
    case STORE_FULL:
        rest_error(out, 503, "storage_full");
        return;
    default:
        rest_error(out, 500, "internal");
        return;
    }
}

/* --- fields --- */

static enum field_result check_text(const char *s, size_t len)
{
    if (len == 0)
        return FIELD_MISSING;
    if (len > STORE_FIELD_MAX || memchr(s, '\0', len))
        return FIELD_INVALID;
    return FIELD_OK;
}

static enum field_result body_field(json_t *obj, const char *name, const char **out)
{
    json_t *v = json_object_get(obj, name);
    if (json_is_integer(v) && json_integer_value(v) != 0) {
        /* A numeric join code or id: the original kept what the client sent
         * and stored it as text, so 123456 is "123456" (0 is missing, as in
         * JavaScript). */
        char text[24];
        snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        json_object_set_new(obj, name, json_string(text));
        v = json_object_get(obj, name);
    }
    if (!json_is_string(v))
        return FIELD_MISSING;
    *out = json_string_value(v);
    return check_text(*out, json_string_length(v));
}

/* Reads the named string fields of the body into out[]; on failure answers
 * 400 and returns -1. Every field is checked for presence before any for
 * validity, so a request missing one field is always missing_field. */
static int fields(struct call *c, const char *const *names, const char **out, int n)
{
    enum field_result worst = FIELD_OK;
    for (int i = 0; i < n; i++) {
        enum field_result r = body_field(c->body, names[i], &out[i]);
        if (r == FIELD_MISSING || (r == FIELD_INVALID && worst == FIELD_OK))
            worst = r;
    }
    if (worst == FIELD_OK)
        return 0;
    rest_error(c->out, 400, worst == FIELD_MISSING ? "missing_field" : "invalid_field");
    return -1;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..len) into out (cap bytes, NUL-terminated); '+' is a
 * space, a '%' without two hex digits stays as it is (like Node's qs).
 * Returns the decoded length, or -1 if it does not fit. */
static long url_decode(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            ch = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = ch;
    }
    out[o] = '\0';
    return (long)o;
}

/* Finds the first "name=value" of the query and decodes its value into out.
 * Returns FIELD_OK, FIELD_MISSING (absent or empty) or FIELD_INVALID. */
static enum field_result query_field(const char *q, size_t qlen, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    const char *end = q + qlen;
    for (const char *p = q; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
            long n = url_decode(p + nlen + 1, (size_t)(stop - p - (long)nlen - 1), out, cap);
            return n < 0 ? FIELD_INVALID : check_text(out, (size_t)n);
        }
        p = stop + 1;
    }
    return FIELD_MISSING;
}

/* --- handlers --- */

static void on_create(struct call *c)
{
    static const char *const names[] = { "joinid", "exp", "client1" };
    const char *v[3];
    if (fields(c, names, v, 3) < 0)
        return;
    char exp[ISOTIME_LEN + 1], latest[ISOTIME_LEN + 1];
    if (isotime_normalize(v[1], strlen(v[1]), exp) < 0) {
        rest_error(c->out, 400, "invalid_field");
        return;
    }
    /* A join code lives REST_PENDING_MAX_MS at most, whatever exp says
     * (the answer is the same 201): storage cannot be filled for years. */
    if (isotime_format(c->req->now_ms + REST_PENDING_MAX_MS, latest) == 0 && strcmp(exp, latest) > 0)
        memcpy(exp, latest, sizeof(exp));
    enum store_status s = store_pending_create(c->st, v[0], v[2], exp);
    if (s == STORE_OK)
        answer_ok(c->out, 201);
    else
        answer_status(c->out, s, "not_found");
}

static void on_accept(struct call *c)
{
    static const char *const names[] = { "joinid", "client2" };
    const char *v[2];
    if (fields(c, names, v, 2) < 0)
        return;
    char roomid[STORE_ROOMID_LEN + 1];
    enum store_status s = store_accept(c->st, v[0], v[1], c->now, roomid);
    if (s == STORE_OK)
        answer_roomid(c->out, roomid);
    else
        answer_status(c->out, s, "not_found_or_expired");
}

static void on_check(struct call *c)
{
    static const char *const names[] = { "joinid", "client1" };
    const char *v[2];
    if (fields(c, names, v, 2) < 0)
        return;
    char roomid[STORE_FIELD_MAX + 1];
    enum store_status s = store_check(c->st, v[0], v[1], c->now, roomid);
    if (s == STORE_OK) {
        answer_roomid(c->out, roomid);
    } else if (s == STORE_WAITING) {
        c->out->status = 204;
        c->out->body_len = 0;
    } else {
        answer_status(c->out, s, "not_found_or_expired");
    }
}

static void on_get(struct call *c)
{
    char roomid[STORE_FIELD_MAX + 1];
    enum field_result r = query_field(c->req->query, c->req->query_len, "roomid", roomid, sizeof(roomid));
    if (r != FIELD_OK) {
        rest_error(c->out, 400, r == FIELD_MISSING ? "missing_field" : "invalid_field");
        return;
    }
    struct store_room room;
    enum store_status s = store_room_get(c->st, roomid, &room);
    if (s == STORE_OK)
        answer(c->out, 200,
               json_pack("{s:s,s:s,s:s}", "roomid", room.roomid, "client1", room.client1, "client2", room.client2));
    else
        answer_status(c->out, s, "not_found");
}

static void on_delete(struct call *c)
{
    static const char *const names[] = { "roomid" };
    const char *v[1];
    if (fields(c, names, v, 1) < 0)
        return;
    enum store_status s = store_room_delete(c->st, v[0]);
    if (s == STORE_OK)
        answer_ok(c->out, 200);
    else
        answer_status(c->out, s, "not_found");
}

static void on_purge(struct call *c)
{
    static const char *const names[] = { "deviceId" };
    const char *v[1];
    if (fields(c, names, v, 1) < 0)
        return;
    long rooms, pendings;
    enum store_status s = store_purge_device(c->st, v[0], &rooms, &pendings);
    if (s == STORE_OK)
        answer(c->out, 200,
               json_pack("{s:b,s:I,s:I}", "ok", 1, "roomsDeleted", (json_int_t)rooms, "pendingsDeleted",
                         (json_int_t)pendings));
    else
        answer_status(c->out, s, "not_found");
}

/* --- dispatch --- */

static const struct route routes[] = {
    { "/api/rooms", "POST", on_create, 1 },
    { "/api/rooms", "GET", on_get, 0 },
    { "/api/rooms", "HEAD", on_get, 0 },
    { "/api/rooms", "DELETE", on_delete, 1 },
    { "/api/rooms/accept", "POST", on_accept, 1 },
    { "/api/rooms/check", "POST", on_check, 1 },
    { "/api/user/purge", "POST", on_purge, 1 },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static int ieq(const char *a, size_t alen, const char *lit)
{
    size_t n = strlen(lit);
    if (alen != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = lit[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return 1;
}

static int path_is(const char *path, size_t len, const char *lit)
{
    if (len > 1 && path[len - 1] == '/')
        len--;
    return ieq(path, len, lit);
}

int rest_is_api_path(const char *path, size_t len)
{
    for (size_t i = 0; i < NROUTES; i++) {
        if (path_is(path, len, routes[i].path))
            return 1;
    }
    return 0;
}

/* Parses the body as a JSON object into c->body; answers 400 on failure. An
 * empty body is an empty object (Express's json() leaves req.body = {}). */
static int parse_body(struct call *c)
{
    const struct rest_request *req = c->req;
    if (req->body_len == 0) {
        c->body = json_object();
        return 0;
    }
    json_error_t err;
    c->body = json_loadb((const char *)req->body, req->body_len, 0, &err);
    if (!json_is_object(c->body)) {
        rest_error(c->out, 400, "invalid_json");
        return -1;
    }
    return 0;
}

static void dispatch(struct call *c, const struct route *r)
{
    if (c->req->body_len > REST_BODY_MAX) {
        rest_error(c->out, 413, "payload_too_large");
        return;
    }
    if (isotime_format(c->req->now_ms, c->now) < 0) {
        rest_error(c->out, 500, "internal");
        return;
    }
    if (r->has_body && parse_body(c) < 0)
        return;
    r->fn(c);
}

void rest_handle(struct store *st, const struct rest_request *req, struct rest_response *out)
{
    memset(out, 0, offsetof(struct rest_response, body));
    struct call c = { .st = st, .req = req, .out = out };
    const struct route *found = NULL;
    for (size_t i = 0; i < NROUTES; i++) {
        if (!path_is(req->path, req->path_len, routes[i].path))
            continue;
        out->allow = strcmp(routes[i].path, "/api/rooms") == 0 ? ALLOW_ROOMS : ALLOW_POST;
        if (req->method_len == strlen(routes[i].method) && memcmp(req->method, routes[i].method, req->method_len) == 0)
            found = &routes[i];
    }
    if (!out->allow) {
        rest_error(out, 404, "not_found");
    } else if (found) {
        dispatch(&c, found);
    } else if (req->method_len == 7 && memcmp(req->method, "OPTIONS", 7) == 0) {
        out->status = 204;
        out->preflight = 1;
    } else {
        rest_error(out, 405, "method_not_allowed");
    }
    json_decref(c.body);
}
