/*
 * accounts_auth — the routes under /api/auth (see accounts_api.h and the
 * table in docs/rooms.md): register, login, logout, log out everywhere,
 * me, invites, and an admin disabling an account; and the sessions and
 * invite codes they hand out.
 *
 * A session is 32 random bytes sent to the browser as a base64url cookie;
 * the store keeps only the hex SHA-256 of it, so a leaked database opens no
 * sessions. Invite codes are handled the same way. Every refusal of a
 * login is the same 401 "invalid_credentials", and an unknown name costs an
 * argon2id verification like a known one, so neither the answer nor its
 * timing tells whether an account exists.
 */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "accounts_int.h"
#include "cookie.h"

#define LOGIN_WINDOW_MS (15 * 60 * 1000)
#define REGISTER_WINDOW_MS (60 * 60 * 1000)
#define TOKEN_BYTES 32

/* --- secrets and sessions --- */

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

/* Starts a session for u and sets its cookie; then answers status with
 * {"user":...}. */
static void start_session(struct accounts_ctx *c, const struct users_user *u, int status)
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
    accounts_answer(c->out, status, json_pack("{s:o}", "user", accounts_user_json(u)));
}

/* --- routes: accounts --- */

/* Creates the account (with the invite when one is given). */
static enum store_status create_account(struct accounts_ctx *c, const char *hash, struct users_user *u)
{
    u->admin = 0;
    if (!c->body.invite[0])
        return users_create(c->a->st, c->body.username, hash, 0, c->req->now_ms, &u->id);
    char ih[USERS_TOKEN_HASH_LEN + 1];
    sha256_hex(c->body.invite, strlen(c->body.invite), ih);
    return users_create_invited(c->a->st, ih, c->body.username, hash, c->req->now_ms, &u->id, &u->admin);
}

static void register_hashed(struct accounts_ctx *c, const struct accounts_wait *w);

/* Takes a token from the bucket called key (rate per per_ms; 0: no
 * limit): 0 when allowed, else the ms to wait. */
static uint64_t take(struct accounts_ctx *c, const char *key, unsigned rate, uint64_t per_ms)
{
    return ratetable_take(&c->a->limits, key, rate, per_ms, (uint64_t)c->req->now_ms);
}

void accounts_route_register(struct accounts_ctx *c)
{
    enum accounts_registration mode = c->a->conf.registration;
    char key[ACCOUNTS_FIELD_MAX + 8];
    snprintf(key, sizeof(key), "r:%s", c->req->source);
    uint64_t wait = take(c, key, c->a->conf.register_rate, REGISTER_WINDOW_MS);
    if (wait) {
        c->a->stats.limited_register++;
        accounts_limited(c->out, wait);
        return;
    }
    if (mode == ACCOUNTS_REG_CLOSED || (mode == ACCOUNTS_REG_INVITE && !c->body.invite[0])) {
        c->a->stats.forbidden++;
        accounts_error(c->out, 403, mode == ACCOUNTS_REG_CLOSED ? "registration_closed" : "invite_required");
        return;
    }
    if (!accounts_valid_username(c->body.username) || !accounts_valid_password(c->body.password)) {
        accounts_error(c->out, 400, !accounts_valid_username(c->body.username) ? "invalid_username" : "invalid_password");
        return;
    }
    accounts_wait_for(c, W_HASH, NULL, register_hashed);
}

/* The password of a registration is hashed: create the account. */
static void register_hashed(struct accounts_ctx *c, const struct accounts_wait *w)
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

/* Takes a login token for the address, then one for the account name. An
 * address over its limit takes nothing from any name's bucket and makes
 * none: else one address could fill the table with made-up names, and
 * every new address and name would be refused while it is full. */
static uint64_t login_wait(struct accounts_ctx *c)
{
    char key[ACCOUNTS_FIELD_MAX + 8];
    snprintf(key, sizeof(key), "l:%s", c->req->source);
    uint64_t wait = take(c, key, c->a->conf.login_rate, LOGIN_WINDOW_MS);
    if (wait)
        return wait;
    snprintf(key, sizeof(key), "a:%s", c->body.username);
    for (char *p = key; *p; p++)
        *p = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
    return take(c, key, c->a->conf.login_rate, LOGIN_WINDOW_MS);
}

static void login_checked(struct accounts_ctx *c, const struct accounts_wait *w);

void accounts_route_login(struct accounts_ctx *c)
{
    uint64_t wait = login_wait(c);
    if (wait) {
        c->a->stats.limited_login++;
        accounts_limited(c->out, wait);
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
    accounts_wait_for(c, res == STORE_OK ? W_VERIFY : W_VERIFY_DUMMY, res == STORE_OK ? u.pwhash : NULL, login_checked);
}

/* The login's password is verified. The account is read again: it may have
 * been disabled, or deleted and made anew, meanwhile. */
static void login_checked(struct accounts_ctx *c, const struct accounts_wait *w)
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

static void clear_cookie(struct accounts_ctx *c)
{
    cookie_format(c->out->set_cookie, sizeof(c->out->set_cookie), ACCOUNTS_COOKIE, "", 0);
}

void accounts_route_logout(struct accounts_ctx *c)
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
    accounts_answer(c->out, 204, NULL);
}

void accounts_route_logout_all(struct accounts_ctx *c)
{
    long n = 0;
    if (users_session_delete_all(c->a->st, c->user.id, &n) != STORE_OK) {
        accounts_error(c->out, 500, "internal");
        return;
    }
    clear_cookie(c);
    accounts_answer(c->out, 200, json_pack("{s:i}", "sessions_ended", (int)n));
}

void accounts_route_me(struct accounts_ctx *c)
{
    accounts_answer(c->out, 200, json_pack("{s:o}", "user", accounts_user_json(&c->user)));
}

static int require_admin(struct accounts_ctx *c)
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

void accounts_route_invite(struct accounts_ctx *c)
{
    if (!require_admin(c))
        return;
    char code[64];
    if (accounts_invite_new(c->a->st, 0, c->req->now_ms, code) < 0) {
        accounts_error(c->out, 500, "internal");
        return;
    }
    accounts_answer(c->out, 201, json_pack("{s:s,s:I}", "invite", code, "expires",
                                  (json_int_t)(c->req->now_ms + ACCOUNTS_INVITE_TTL_MS)));
}

void accounts_route_disable(struct accounts_ctx *c)
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
        accounts_answer(c->out, 204, NULL);
}
