/*
 * accounts_api — accounts, sessions and team rooms over HTTP/JSON (see
 * accounts_api.h; the routes are the table near the end).
 *
 * A session is 32 random bytes sent to the browser as a base64url cookie;
 * the store keeps only the hex SHA-256 of it, so a leaked database opens no
 * sessions. Invite codes are handled the same way. Every refusal of a
 * login is the same 401 "invalid_credentials", and an unknown name costs an
 * argon2id verification like a known one, so neither the answer nor its
 * timing tells whether an account exists.
 */
#include "accounts_api.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../base/alloc.h"
#include "../base/pwhash.h"
#include "../base/ratelimit.h"
#include "../base/strmap.h"
#include "../base/utf8.h"
#include "../store/users.h"
#include "cookie.h"

#define LIMITS_MAX 16384
#define LOGIN_WINDOW_MS (15 * 60 * 1000)
#define REGISTER_WINDOW_MS (60 * 60 * 1000)
#define TOKEN_BYTES 32
#define PASSWORD_MIN 8
#define PASSWORD_MAX 128
#define PASSES_MAX 4096
#define PASS_TTL_MS (12LL * 3600 * 1000)

struct accounts {
    struct store *st;
    struct accounts_conf conf;
    struct strmap limits;
    struct strmap passes;       /* room passwords verified lately (struct pass) */
    unsigned char pass_secret[32];
    struct accounts_stats stats;
};

/* A room password that verified: the join that follows (over the
 * WebSocket) and rejoins after a reconnect need no second argon2id on the
 * loop. The key is an HMAC under a per-process secret of the room id, its
 * stored hash and the password, so it opens nothing without the password
 * and stops matching when the password changes. */
struct pass {
    struct strmap_entry entry;
    char key[2 * SHA256_DIGEST_LENGTH + 1];
    int64_t until;
};

struct limit {
    struct strmap_entry entry;
    char key[ACCOUNTS_FIELD_MAX + 8];
    struct ratelimit rl;
    unsigned rate;
    uint64_t per_ms;
};

/* What a route handler gets. */
struct ctx {
    struct accounts *a;
    const struct accounts_request *req;
    struct accounts_response *out;
    struct accounts_body body;
    struct users_user user;     /* the session's account, or the login's */
    char id[USERS_ROOM_ID_LEN + 1];
    int waits;                  /* the route called wait_for() */
};

enum wait_op { W_HASH, W_VERIFY, W_VERIFY_DUMMY };

/* A request suspended until a password is hashed or verified off the loop
 * (accounts_handle). The handler's context lives here meanwhile; the
 * request's headers and body do not, so what a continuation needs is in
 * ctx (body, user, id) or copied (source, now_ms). */
struct accounts_wait {
    struct ctx c;
    struct accounts_request req; /* now_ms and source only */
    char source[64];
    enum wait_op op;
    char encoded[PWHASH_MAX + USERS_HASH_MAX]; /* W_VERIFY: the stored hash; W_HASH: the new one */
    int result;                 /* W_HASH: 0 or -1; W_VERIFY*: 1 on a match */
    void (*then)(struct ctx *c, const struct accounts_wait *w);
};

/* --- answers --- */

static void answer(struct accounts_response *out, int status, json_t *j)
{
    out->status = status;
    out->body_len = j ? json_dumpb(j, out->body, sizeof(out->body), JSON_COMPACT) : 0;
    json_decref(j);
    if (j && out->body_len == 0)
        accounts_error(out, 500, "internal");
}

void accounts_error(struct accounts_response *out, int status, const char *code)
{
    out->status = status;
    int n = snprintf(out->body, sizeof(out->body), "{\"error\":\"%s\"}", code);
    out->body_len = n > 0 ? (size_t)n : 0;
}

static json_t *user_json(const struct users_user *u)
{
    return json_pack("{s:I,s:s,s:b}", "id", (json_int_t)u->id, "name", u->name, "admin", u->admin);
}

static json_t *room_json(const struct users_room *r, const struct users_user *viewer)
{
    int manage = viewer->admin || viewer->id == r->owner_id;
    return json_pack("{s:s,s:s,s:s,s:b,s:I,s:b}", "id", r->id, "name", r->name, "owner", r->owner, "has_password",
                     r->pwhash[0] != 0, "created", (json_int_t)r->created_ms, "can_manage", manage);
}

/* --- limits --- */

static void drop_idle(struct strmap_entry *e, void *arg)
{
    struct accounts *a = ((void **)arg)[0];
    int64_t now = *(int64_t *)((void **)arg)[1];
    struct limit *l = container_of(e, struct limit, entry);
    if (ratelimit_idle(&l->rl, (uint64_t)now, l->rate, l->per_ms)) {
        strmap_del(&a->limits, e);
        xfree(l);
    }
}

static void free_pass(struct strmap_entry *e, void *arg)
{
    (void)arg;
    xfree(container_of(e, struct pass, entry));
}

static void drop_pass(struct strmap_entry *e, void *arg)
{
    struct accounts *a = ((void **)arg)[0];
    int64_t now = *(int64_t *)((void **)arg)[1];
    if (container_of(e, struct pass, entry)->until <= now) {
        strmap_del(&a->passes, e);
        free_pass(e, NULL);
    }
}

void accounts_sweep(struct accounts *a, int64_t now_ms)
{
    void *arg[2] = { a, &now_ms };
    strmap_each(&a->limits, drop_idle, arg);
    strmap_each(&a->passes, drop_pass, arg);
}

/* Takes a token from the bucket called key: 0 when allowed, else the ms to
 * wait. A full table refuses new keys for a minute. */
static uint64_t take(struct accounts *a, const char *key, unsigned rate, uint64_t per_ms, int64_t now)
{
    if (rate == 0)
        return 0;
    struct strmap_entry *e = strmap_get(&a->limits, key);
    if (!e && a->limits.count >= LIMITS_MAX)
        accounts_sweep(a, now);
    if (!e && a->limits.count >= LIMITS_MAX)
        return 60000;
    struct limit *l;
    if (e) {
        l = container_of(e, struct limit, entry);
    } else {
        l = xcalloc(1, sizeof(*l));
        snprintf(l->key, sizeof(l->key), "%s", key);
        l->rate = rate;
        l->per_ms = per_ms;
        strmap_put(&a->limits, &l->entry, l->key);
    }
    return ratelimit_take(&l->rl, (uint64_t)now, rate, per_ms);
}

static void limited(struct accounts_response *out, uint64_t wait_ms)
{
    accounts_error(out, 429, "rate_limited");
    out->retry_after_s = (wait_ms + 999) / 1000;
}

/* --- waiting for a hash --- */

/* What a continuation gets when there was nothing to hash ("" and 0). */
static const struct accounts_wait no_wait;

/* Suspends the route: op runs on c->body.password (with encoded, the
 * stored hash for W_VERIFY) off the loop, then then(c, w) answers. */
static void wait_for(struct ctx *c, enum wait_op op, const char *encoded, void (*then)(struct ctx *, const struct accounts_wait *))
{
    struct accounts_wait *w = container_of(c, struct accounts_wait, c);
    w->op = op;
    w->then = then;
    snprintf(w->encoded, sizeof(w->encoded), "%s", encoded ? encoded : "");
    w->req = *c->req;
    snprintf(w->source, sizeof(w->source), "%s", c->req->source ? c->req->source : "");
    w->req.source = w->source;
    w->req.method = w->req.path = w->req.cookie = w->req.origin = w->req.fetch_site = w->req.host = NULL;
    w->req.body = NULL;
    w->req.method_len = w->req.path_len = w->req.cookie_len = w->req.origin_len = w->req.fetch_site_len = 0;
    w->req.body_len = 0;
    c->req = &w->req;
    c->out = NULL;
    c->waits = 1;
}

void accounts_wait_work(struct accounts_wait *w)
{
    const char *pw = w->c.body.password;
    size_t pl = strlen(pw);
    if (w->op == W_HASH)
        w->result = pwhash_hash(pw, pl, w->encoded, sizeof(w->encoded));
    else if (w->op == W_VERIFY)
        w->result = pwhash_verify(w->encoded, pw, pl);
    else
        w->result = pwhash_verify_dummy(pw, pl);
}

void accounts_wait_free(struct accounts_wait *w)
{
    if (!w)
        return;
    OPENSSL_cleanse(w, sizeof(*w));
    xfree(w);
}

static void reset_answer(struct accounts_response *out)
{
    out->set_cookie[0] = '\0';
    out->retry_after_s = 0;
    out->allow = NULL;
}

void accounts_resume(struct accounts *a, struct accounts_wait *w, int64_t now_ms, struct accounts_response *out)
{
    w->c.a = a;
    w->c.out = out;
    w->req.now_ms = now_ms;
    reset_answer(out);
    w->then(&w->c, w);
    accounts_wait_free(w);
}

/* --- life cycle --- */

struct accounts *accounts_new(struct store *st, const struct accounts_conf *conf)
{
    struct accounts *a = xcalloc(1, sizeof(*a));
    a->st = st;
    a->conf = *conf;
    strmap_init(&a->limits);
    strmap_init(&a->passes);
    if (RAND_bytes(a->pass_secret, sizeof(a->pass_secret)) != 1)
        memset(a->pass_secret, 0, sizeof(a->pass_secret)); /* then passes are never kept (pass_key) */
    return a;
}

static void free_limit(struct strmap_entry *e, void *arg)
{
    (void)arg;
    xfree(container_of(e, struct limit, entry));
}

void accounts_free(struct accounts *a)
{
    if (!a)
        return;
    strmap_each(&a->limits, free_limit, NULL);
    strmap_cleanup(&a->limits);
    strmap_each(&a->passes, free_pass, NULL);
    strmap_cleanup(&a->passes);
    xfree(a);
}

void accounts_stats(const struct accounts *a, struct accounts_stats *out)
{
    *out = a->stats;
}

/* --- parsing and checks --- */

/* Copies the string key of obj into out; 0 if absent, -1 if not a string,
 * too long or holding a NUL. */
static int get_string(json_t *obj, const char *key, char out[ACCOUNTS_FIELD_MAX + 1])
{
    json_t *v = json_object_get(obj, key);
    out[0] = '\0';
    if (!v)
        return 0;
    if (!json_is_string(v))
        return -1;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n > ACCOUNTS_FIELD_MAX || strlen(s) != n)
        return -1;
    memcpy(out, s, n + 1);
    return 0;
}

int accounts_parse_body(const uint8_t *body, size_t len, struct accounts_body *out)
{
    memset(out, 0, sizeof(*out));
    out->disabled = -1;
    if (len == 0)
        return 0;
    json_error_t err;
    json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &err);
    int rc = json_is_object(j) ? 0 : -1;
    if (rc == 0 && (get_string(j, "username", out->username) < 0 || get_string(j, "password", out->password) < 0 ||
                    get_string(j, "invite", out->invite) < 0 || get_string(j, "name", out->name) < 0))
        rc = -1;
    out->has_name = rc == 0 && json_object_get(j, "name") != NULL;
    out->has_password = rc == 0 && json_object_get(j, "password") != NULL;
    json_t *d = rc == 0 ? json_object_get(j, "disabled") : NULL;
    if (d && !json_is_boolean(d))
        rc = -1;
    else if (d)
        out->disabled = json_is_true(d);
    json_decref(j);
    return rc;
}

static int header_is(const char *v, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(v, lit, n) == 0;
}

int accounts_same_origin(const struct accounts_request *req)
{
    if (!req->origin && !req->fetch_site)
        return 0;
    if (req->fetch_site && !header_is(req->fetch_site, req->fetch_site_len, "same-origin"))
        return 0;
    if (req->origin) {
        char want[300];
        int n = snprintf(want, sizeof(want), "https://%s", req->host ? req->host : "");
        if (!req->host || !*req->host || n < 0 || (size_t)n >= sizeof(want) ||
            !header_is(req->origin, req->origin_len, want))
            return 0;
    }
    return 1;
}

int accounts_valid_username(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > USERS_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return 0;
    }
    return 1;
}

static int valid_password(const char *pw)
{
    size_t n = strlen(pw);
    return n >= PASSWORD_MIN && n <= PASSWORD_MAX;
}

/* A room name: 1 to USERS_ROOM_NAME_MAX bytes of UTF-8 without control
 * characters. */
static int valid_room_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > USERS_ROOM_NAME_MAX || utf8_validate((const uint8_t *)s, n) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    }
    return 1;
}

/* --- secrets --- */

static void sha256_hex(const char *s, size_t n, char out[USERS_TOKEN_HASH_LEN + 1])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)s, n, d);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* A fresh random secret in base64url without padding (43 characters). */
static int new_secret(char out[64])
{
    unsigned char b[TOKEN_BYTES];
    if (RAND_bytes(b, sizeof(b)) != 1)
        return -1;
    char tmp[64];
    int n = EVP_EncodeBlock((unsigned char *)tmp, b, sizeof(b));
    while (n > 0 && tmp[n - 1] == '=')
        n--;
    for (int i = 0; i < n; i++)
        out[i] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : tmp[i];
    out[n] = '\0';
    return 0;
}

/* Finds the account of the request's session cookie. */
static enum store_status session_user(struct ctx *c)
{
    const char *v;
    size_t n;
    if (!c->req->cookie || !cookie_find(c->req->cookie, c->req->cookie_len, ACCOUNTS_COOKIE, &v, &n))
        return STORE_NOT_FOUND;
    char h[USERS_TOKEN_HASH_LEN + 1];
    sha256_hex(v, n, h);
    return users_session_user(c->a->st, h, c->req->now_ms, &c->user);
}

int accounts_session_of(struct accounts *a, const char *cookie, size_t len, int64_t now_ms, struct users_user *out,
                        char session_hash[65])
{
    const char *v;
    size_t n;
    if (!cookie || !cookie_find(cookie, len, ACCOUNTS_COOKIE, &v, &n))
        return STORE_NOT_FOUND;
    sha256_hex(v, n, session_hash);
    return users_session_user(a->st, session_hash, now_ms, out);
}

int accounts_session_live(struct accounts *a, const char *session_hash, int64_t now_ms)
{
    struct users_user u;
    return users_session_user(a->st, session_hash, now_ms, &u) == STORE_OK;
}

/* The pass key of (room id, stored hash, password) in hex; -1 if none. */
static int pass_key(const struct accounts *a, const char *id, const char *pwhash, const char *pw, char out[65])
{
    static const unsigned char zero[32];
    unsigned char data[USERS_ROOM_ID_LEN + USERS_HASH_MAX + ACCOUNTS_FIELD_MAX + 3], mac[SHA256_DIGEST_LENGTH];
    unsigned int maclen = 0;
    int n = snprintf((char *)data, sizeof(data), "%s%c%s%c%s", id, 0, pwhash, 0, pw);
    if (n < 0 || (size_t)n >= sizeof(data) || memcmp(a->pass_secret, zero, sizeof(zero)) == 0 ||
        !HMAC(EVP_sha256(), a->pass_secret, sizeof(a->pass_secret), data, (size_t)n, mac, &maclen)) {
        OPENSSL_cleanse(data, sizeof(data));
        return -1;
    }
    OPENSSL_cleanse(data, sizeof(data));
    for (unsigned i = 0; i < maclen; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    return 0;
}

/* True when the password verified for the room lately (and keeps it). */
static int pass_valid(struct accounts *a, const char *id, const char *pwhash, const char *pw, int64_t now)
{
    char k[65];
    struct strmap_entry *e = pass_key(a, id, pwhash, pw, k) == 0 ? strmap_get(&a->passes, k) : NULL;
    struct pass *p = e ? container_of(e, struct pass, entry) : NULL;
    if (!p || p->until <= now)
        return 0;
    p->until = now + PASS_TTL_MS;
    return 1;
}

static void pass_remember(struct accounts *a, const char *id, const char *pwhash, const char *pw, int64_t now)
{
    char k[65];
    if (pass_key(a, id, pwhash, pw, k) < 0 || pass_valid(a, id, pwhash, pw, now))
        return;
    if (a->passes.count >= PASSES_MAX)
        accounts_sweep(a, now);
    if (a->passes.count >= PASSES_MAX)
        return;
    struct pass *p = xcalloc(1, sizeof(*p));
    memcpy(p->key, k, sizeof(p->key));
    p->until = now + PASS_TTL_MS;
    strmap_put(&a->passes, &p->entry, p->key);
}

int accounts_team_room_check(struct accounts *a, const char *id, const char *password, int64_t now_ms, char *pwhash,
                             size_t cap)
{
    struct users_room r;
    enum store_status res = users_room_get(a->st, id, &r);
    if (res != STORE_OK)
        return res == STORE_NOT_FOUND ? 1 : -1;
    if (!r.pwhash[0] || pass_valid(a, id, r.pwhash, password, now_ms))
        return 0;
    if (strlen(password) > PASSWORD_MAX || cap < sizeof(r.pwhash))
        return 2;
    memcpy(pwhash, r.pwhash, sizeof(r.pwhash));
    return 3;
}

void accounts_team_room_passed(struct accounts *a, const char *id, const char *pwhash, const char *password,
                               int64_t now_ms)
{
    pass_remember(a, id, pwhash, password, now_ms);
}

/* Starts a session for u and sets its cookie; then answers status with
 * {"user":...}. */
static void start_session(struct ctx *c, const struct users_user *u, int status)
{
    char token[64], h[USERS_TOKEN_HASH_LEN + 1];
    int64_t ttl = c->a->conf.session_ttl_ms;
    if (new_secret(token) < 0) {
        accounts_error(c->out, 500, "internal");
        return;
    }
    sha256_hex(token, strlen(token), h);
    if (users_session_create(c->a->st, h, u->id, c->req->now_ms, c->req->now_ms + ttl) != STORE_OK) {
        accounts_error(c->out, 500, "internal");
        return;
    }
    cookie_format(c->out->set_cookie, sizeof(c->out->set_cookie), ACCOUNTS_COOKIE, token, (long)(ttl / 1000));
    answer(c->out, status, json_pack("{s:o}", "user", user_json(u)));
}

/* --- routes: accounts --- */

/* Creates the account (with the invite when one is given). */
static enum store_status create_account(struct ctx *c, const char *hash, struct users_user *u)
{
    u->admin = 0;
    if (!c->body.invite[0])
        return users_create(c->a->st, c->body.username, hash, 0, c->req->now_ms, &u->id);
    char ih[USERS_TOKEN_HASH_LEN + 1];
    sha256_hex(c->body.invite, strlen(c->body.invite), ih);
    return users_create_invited(c->a->st, ih, c->body.username, hash, c->req->now_ms, &u->id, &u->admin);
}

static void register_hashed(struct ctx *c, const struct accounts_wait *w);

static void route_register(struct ctx *c)
{
    enum accounts_registration mode = c->a->conf.registration;
    uint64_t wait = take(c->a, c->req->source, c->a->conf.register_rate, REGISTER_WINDOW_MS, c->req->now_ms);
    if (wait) {
        c->a->stats.limited_register++;
        limited(c->out, wait);
        return;
    }
    if (mode == ACCOUNTS_REG_CLOSED || (mode == ACCOUNTS_REG_INVITE && !c->body.invite[0])) {
        c->a->stats.forbidden++;
        accounts_error(c->out, 403, mode == ACCOUNTS_REG_CLOSED ? "registration_closed" : "invite_required");
        return;
    }
    if (!accounts_valid_username(c->body.username) || !valid_password(c->body.password)) {
        accounts_error(c->out, 400, !accounts_valid_username(c->body.username) ? "invalid_username" : "invalid_password");
        return;
    }
    wait_for(c, W_HASH, NULL, register_hashed);
}

/* The password of a registration is hashed: create the account. */
static void register_hashed(struct ctx *c, const struct accounts_wait *w)
{
    if (w->result < 0) {
        accounts_error(c->out, 500, "internal");
        return;
    }
    struct users_user u = { 0 };
    enum store_status res = create_account(c, w->encoded, &u);
    if (res == STORE_CONFLICT)
        accounts_error(c->out, 409, "username_taken");
    else if (res == STORE_NOT_FOUND)
        accounts_error(c->out, 403, "invalid_invite");
    else if (res != STORE_OK || users_get(c->a->st, c->body.username, &u) != STORE_OK)
        accounts_error(c->out, 500, "internal");
    else
        start_session(c, &u, 201);
}

/* Takes a login token for the address and for the account name. */
static uint64_t login_wait(struct ctx *c)
{
    char key[ACCOUNTS_FIELD_MAX + 8];
    snprintf(key, sizeof(key), "l:%s", c->req->source);
    uint64_t w1 = take(c->a, key, c->a->conf.login_rate, LOGIN_WINDOW_MS, c->req->now_ms);
    snprintf(key, sizeof(key), "a:%s", c->body.username);
    for (char *p = key; *p; p++)
        *p = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
    uint64_t w2 = take(c->a, key, c->a->conf.login_rate, LOGIN_WINDOW_MS, c->req->now_ms);
    return w1 > w2 ? w1 : w2;
}

static void login_checked(struct ctx *c, const struct accounts_wait *w);

static void route_login(struct ctx *c)
{
    uint64_t wait = login_wait(c);
    if (wait) {
        c->a->stats.limited_login++;
        limited(c->out, wait);
        return;
    }
    struct users_user u;
    enum store_status res = accounts_valid_username(c->body.username) ? users_get(c->a->st, c->body.username, &u)
                                                                        : STORE_NOT_FOUND;
    if (res == STORE_ERROR) {
        accounts_error(c->out, 500, "internal");
        return;
    }
    if (res == STORE_OK)
        c->user = u;
    wait_for(c, res == STORE_OK ? W_VERIFY : W_VERIFY_DUMMY, res == STORE_OK ? u.pwhash : NULL, login_checked);
}

/* The login's password is verified. The account is read again: it may have
 * been disabled, or deleted and made anew, meanwhile. */
static void login_checked(struct ctx *c, const struct accounts_wait *w)
{
    struct users_user u;
    int ok = w->op == W_VERIFY && w->result == 1 && users_get(c->a->st, c->body.username, &u) == STORE_OK &&
             u.id == c->user.id && !u.disabled;
    if (!ok) {
        c->a->stats.bad_credentials++;
        accounts_error(c->out, 401, "invalid_credentials");
        return;
    }
    start_session(c, &u, 200);
}

static void clear_cookie(struct ctx *c)
{
    cookie_format(c->out->set_cookie, sizeof(c->out->set_cookie), ACCOUNTS_COOKIE, "", 0);
}

static void route_logout(struct ctx *c)
{
    const char *v;
    size_t n;
    char h[USERS_TOKEN_HASH_LEN + 1];
    if (cookie_find(c->req->cookie, c->req->cookie_len, ACCOUNTS_COOKIE, &v, &n)) {
        sha256_hex(v, n, h);
        if (users_session_delete(c->a->st, h) != STORE_OK) {
            accounts_error(c->out, 500, "internal");
            return;
        }
    }
    clear_cookie(c);
    answer(c->out, 204, NULL);
}

static void route_logout_all(struct ctx *c)
{
    long n = 0;
    if (users_session_delete_all(c->a->st, c->user.id, &n) != STORE_OK) {
        accounts_error(c->out, 500, "internal");
        return;
    }
    clear_cookie(c);
    answer(c->out, 200, json_pack("{s:i}", "sessions_ended", (int)n));
}

static void route_me(struct ctx *c)
{
    answer(c->out, 200, json_pack("{s:o}", "user", user_json(&c->user)));
}

static int require_admin(struct ctx *c)
{
    if (c->user.admin)
        return 1;
    c->a->stats.forbidden++;
    accounts_error(c->out, 403, "forbidden");
    return 0;
}

int accounts_invite_new(struct store *st, int admin, int64_t now_ms, char code[64])
{
    char h[USERS_TOKEN_HASH_LEN + 1];
    if (new_secret(code) < 0)
        return -1;
    sha256_hex(code, strlen(code), h);
    return users_invite_create(st, h, admin, now_ms, now_ms + ACCOUNTS_INVITE_TTL_MS) == STORE_OK ? 0 : -1;
}

static void route_invite(struct ctx *c)
{
    if (!require_admin(c))
        return;
    char code[64];
    if (accounts_invite_new(c->a->st, 0, c->req->now_ms, code) < 0) {
        accounts_error(c->out, 500, "internal");
        return;
    }
    answer(c->out, 201, json_pack("{s:s,s:I}", "invite", code, "expires",
                                  (json_int_t)(c->req->now_ms + ACCOUNTS_INVITE_TTL_MS)));
}

static void route_disable(struct ctx *c)
{
    if (!require_admin(c))
        return;
    if (!accounts_valid_username(c->body.username) || c->body.disabled < 0) {
        accounts_error(c->out, 400, "bad_request");
        return;
    }
    enum store_status res = users_set_disabled(c->a->st, c->body.username, c->body.disabled);
    if (res == STORE_NOT_FOUND)
        accounts_error(c->out, 404, "not_found");
    else if (res != STORE_OK)
        accounts_error(c->out, 500, "internal");
    else
        answer(c->out, 204, NULL);
}

/* --- routes: team rooms --- */

struct list_ctx {
    json_t *arr;
    const struct users_user *viewer;
};

static void add_room(const struct users_room *r, void *arg)
{
    struct list_ctx *l = arg;
    json_array_append_new(l->arr, room_json(r, l->viewer));
}

static void route_rooms_list(struct ctx *c)
{
    struct list_ctx l = { json_array(), &c->user };
    if (users_room_list(c->a->st, ACCOUNTS_LIST_MAX, add_room, &l) != STORE_OK) {
        json_decref(l.arr);
        accounts_error(c->out, 500, "internal");
        return;
    }
    answer(c->out, 200, json_pack("{s:o}", "rooms", l.arr));
}

static void room_create_hashed(struct ctx *c, const struct accounts_wait *w);

static void route_room_create(struct ctx *c)
{
    const char *pw = c->body.password;
    if (!valid_room_name(c->body.name) || strlen(pw) > PASSWORD_MAX) {
        accounts_error(c->out, 400, valid_room_name(c->body.name) ? "invalid_password" : "invalid_name");
        return;
    }
    if (*pw) {
        wait_for(c, W_HASH, NULL, room_create_hashed);
        return;
    }
    room_create_hashed(c, &no_wait);
}

/* Creates the room (with w's hash when it has a password). */
static void room_create_hashed(struct ctx *c, const struct accounts_wait *w)
{
    struct users_room r;
    if (w->result < 0 ||
        users_room_create(c->a->st, c->body.name, c->user.id, w->encoded, c->req->now_ms, &r) != STORE_OK) {
        accounts_error(c->out, 500, "internal");
        return;
    }
    answer(c->out, 201, json_pack("{s:o}", "room", room_json(&r, &c->user)));
}

/* Reads the room of the path into r and checks that the user may manage
 * it; answers 404 or 403 and returns 0 otherwise. */
static int managed_room(struct ctx *c, struct users_room *r)
{
    enum store_status res = users_room_get(c->a->st, c->id, r);
    if (res != STORE_OK) {
        accounts_error(c->out, res == STORE_NOT_FOUND ? 404 : 500, res == STORE_NOT_FOUND ? "not_found" : "internal");
        return 0;
    }
    if (!c->user.admin && r->owner_id != c->user.id) {
        c->a->stats.forbidden++;
        accounts_error(c->out, 403, "forbidden");
        return 0;
    }
    return 1;
}

static void rename_hashed(struct ctx *c, const struct accounts_wait *w);

/* PATCH: a new name, a new password ("" removes it), or both. */
static void route_room_rename(struct ctx *c)
{
    struct users_room r;
    if (!managed_room(c, &r))
        return;
    if ((c->body.has_name || !c->body.has_password) && !valid_room_name(c->body.name)) {
        accounts_error(c->out, 400, "invalid_name");
        return;
    }
    if (c->body.has_password && strlen(c->body.password) > PASSWORD_MAX) {
        accounts_error(c->out, 400, "invalid_password");
        return;
    }
    if (c->body.has_password && c->body.password[0])
        wait_for(c, W_HASH, NULL, rename_hashed);
    else
        rename_hashed(c, &no_wait);
}

/* Applies the PATCH (the new password's hash in w). After a wait the room
 * is checked again: it may be gone or have changed hands meanwhile. */
static void rename_hashed(struct ctx *c, const struct accounts_wait *w)
{
    struct users_room r;
    if (c->waits && !managed_room(c, &r))
        return;
    if (w->result < 0 ||
        (c->body.has_password && users_room_set_password(c->a->st, c->id, w->encoded) != STORE_OK) ||
        (valid_room_name(c->body.name) && users_room_rename(c->a->st, c->id, c->body.name) != STORE_OK) ||
        users_room_get(c->a->st, c->id, &r) != STORE_OK) {
        accounts_error(c->out, 500, "internal");
        return;
    }
    answer(c->out, 200, json_pack("{s:o}", "room", room_json(&r, &c->user)));
}

static void route_room_delete(struct ctx *c)
{
    struct users_room r;
    if (!managed_room(c, &r))
        return;
    enum store_status res = users_room_delete(c->a->st, c->id);
    if (res == STORE_OK)
        answer(c->out, 204, NULL);
    else
        accounts_error(c->out, res == STORE_NOT_FOUND ? 404 : 500, res == STORE_NOT_FOUND ? "not_found" : "internal");
}

/* Reads the path's room into r; answers 404 or 500 and returns 0 if it
 * cannot. */
static int get_room(struct ctx *c, struct users_room *r)
{
    enum store_status res = users_room_get(c->a->st, c->id, r);
    if (res != STORE_OK)
        accounts_error(c->out, res == STORE_NOT_FOUND ? 404 : 500, res == STORE_NOT_FOUND ? "not_found" : "internal");
    return res == STORE_OK;
}

static void enter_checked(struct ctx *c, const struct accounts_wait *w);

/* Checks the room password before a client joins the room. */
static void route_room_enter(struct ctx *c)
{
    struct users_room r;
    if (!get_room(c, &r))
        return;
    if (r.pwhash[0])
        wait_for(c, W_VERIFY, r.pwhash, enter_checked);
    else
        answer(c->out, 200, json_pack("{s:o}", "room", room_json(&r, &c->user)));
}

/* The room password is verified; it must still be the room's password. */
static void enter_checked(struct ctx *c, const struct accounts_wait *w)
{
    struct users_room r;
    if (!get_room(c, &r))
        return;
    if (r.pwhash[0] && (w->result != 1 || strcmp(r.pwhash, w->encoded) != 0)) {
        c->a->stats.forbidden++;
        accounts_error(c->out, 403, "wrong_room_password");
        return;
    }
    if (r.pwhash[0])
        pass_remember(c->a, c->id, r.pwhash, c->body.password, c->req->now_ms);
    answer(c->out, 200, json_pack("{s:o}", "room", room_json(&r, &c->user)));
}

/* --- dispatch --- */

enum shape { P_EXACT, P_ROOM, P_ROOM_ENTER };

struct route {
    enum shape shape;
    const char *path;           /* P_EXACT: the path */
    const char *method;
    int auth;                   /* needs a live session */
    void (*fn)(struct ctx *c);
    const char *allow;
};

static const struct route routes[] = {
    { P_EXACT, "/api/auth/register", "POST", 0, route_register, "POST" },
    { P_EXACT, "/api/auth/login", "POST", 0, route_login, "POST" },
    { P_EXACT, "/api/auth/logout", "POST", 0, route_logout, "POST" },
    { P_EXACT, "/api/auth/logout-all", "POST", 1, route_logout_all, "POST" },
    { P_EXACT, "/api/auth/me", "GET", 1, route_me, "GET, HEAD" },
    { P_EXACT, "/api/auth/invites", "POST", 1, route_invite, "POST" },
    { P_EXACT, "/api/auth/disable", "POST", 1, route_disable, "POST" },
    { P_EXACT, "/api/team-rooms", "GET", 1, route_rooms_list, "GET, HEAD, POST" },
    { P_EXACT, "/api/team-rooms", "POST", 1, route_room_create, "GET, HEAD, POST" },
    { P_ROOM, NULL, "PATCH", 1, route_room_rename, "PATCH, DELETE" },
    { P_ROOM, NULL, "DELETE", 1, route_room_delete, "PATCH, DELETE" },
    { P_ROOM_ENTER, NULL, "POST", 1, route_room_enter, "POST" },
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
static const struct route *find_route(const struct accounts_request *req, struct ctx *c)
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

struct accounts_wait *accounts_handle(struct accounts *a, const struct accounts_request *req,
                                     struct accounts_response *out)
{
    struct accounts_wait *w = xcalloc(1, sizeof(*w));
    struct ctx *c = &w->c;
    c->a = a;
    c->req = req;
    c->out = out;
    reset_answer(out);
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
