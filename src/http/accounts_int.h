/*
 * accounts_int — the accounts API's own types and the calls its files make
 * of each other: the state (struct accounts), what a route handler gets
 * (struct accounts_ctx), a request suspended for a password hash (struct
 * accounts_wait), and the route handlers the table in accounts_api.c
 * dispatches to. Not for other files: their contract is accounts_api.h.
 *
 *   accounts_api.c     the state's life cycle, the route table, dispatch
 *   accounts_parse.c   request bodies and the checks of names, passwords, origin
 *   accounts_answer.c  answers: JSON bodies, errors, 429s
 *   accounts_wait.c    a request waiting for argon2id off the loop
 *   accounts_auth.c    /api/auth/...: accounts, sessions, invites, and
 *                      the login and registration limits (a->limits)
 *   accounts_rooms.c   /api/team-rooms...
 *   accounts_pass.c    room passwords verified lately (no second argon2id)
 */
#ifndef TINCAN_ACCOUNTS_INT_H
#define TINCAN_ACCOUNTS_INT_H

#include <jansson.h>
#include <openssl/sha.h>

#include "../base/pwhash.h"
#include "../base/ratetable.h"
#include "../base/strmap.h"
#include "../store/users.h"
#include "accounts_api.h"

#define ACCOUNTS_PASSWORD_MIN 8     /* bytes of an account password */
#define ACCOUNTS_PASSWORD_MAX 128   /* bytes of an account or room password */

struct accounts {
    struct store *st;
    struct accounts_conf conf;
    struct ratetable limits;    /* login and registration buckets (accounts_auth.c) */
    struct strmap passes;       /* room passwords verified lately (accounts_pass.c) */
    unsigned char pass_secret[32];
    struct accounts_stats stats;
};

/* What a route handler gets. */
struct accounts_ctx {
    struct accounts *a;
    const struct accounts_request *req;
    struct accounts_response *out;
    struct accounts_body body;
    struct users_user user;     /* the session's account, or the login's */
    char id[USERS_ROOM_ID_LEN + 1];
    int waits;                  /* the route called accounts_wait_for() */
};

enum wait_op { W_HASH, W_VERIFY, W_VERIFY_DUMMY };

/* A request suspended until a password is hashed or verified off the loop
 * (accounts_handle). The handler's context lives here meanwhile; the
 * request's headers and body do not, so what a continuation needs is in
 * ctx (body, user, id) or copied (source, now_ms). */
struct accounts_wait {
    struct accounts_ctx c;
    struct accounts_request req; /* now_ms and source only */
    char source[64];
    enum wait_op op;
    char encoded[PWHASH_MAX + USERS_HASH_MAX]; /* W_VERIFY: the stored hash; W_HASH: the new one */
    int result;                 /* W_HASH: 0 or -1; W_VERIFY*: 1 on a match */
    void (*then)(struct accounts_ctx *c, const struct accounts_wait *w);
};

/* A continuation: answers c's request once w's hash or verification is
 * done (or with accounts_no_wait when there was none). */
typedef void (*accounts_then_fn)(struct accounts_ctx *c, const struct accounts_wait *w);

/* --- accounts_wait.c --- */

/* What a continuation gets when there was nothing to hash ("" and 0). */
extern const struct accounts_wait accounts_no_wait;
/* Suspends the route: op runs on c->body.password (with encoded, the
 * stored hash for W_VERIFY) off the loop, then then(c, w) answers. c must
 * be the one accounts_handle made (it lives in a struct accounts_wait). */
void accounts_wait_for(struct accounts_ctx *c, enum wait_op op, const char *encoded, accounts_then_fn then);

/* --- accounts_answer.c --- */

/* Answers status with j as the body (NULL: none) and drops j; a body that
 * does not fit is a 500. */
void accounts_answer(struct accounts_response *out, int status, json_t *j);
/* Answers 404 not_found for STORE_NOT_FOUND, else 500 internal. */
void accounts_store_error(struct accounts_response *out, enum store_status res);
/* Answers 429 rate_limited with Retry-After for wait_ms. */
void accounts_limited(struct accounts_response *out, uint64_t wait_ms);
/* Clears what an answer carries besides its status and body. */
void accounts_reset_answer(struct accounts_response *out);
/* {"id","name","admin"} of u (a new reference). */
json_t *accounts_user_json(const struct users_user *u);
/* A room as viewer sees it (can_manage: owner or admin). */
json_t *accounts_room_json(const struct users_room *r, const struct users_user *viewer);

/* --- accounts_parse.c --- */

/* 8 to 128 bytes. */
int accounts_valid_password(const char *pw);
/* 1 to USERS_ROOM_NAME_MAX bytes of UTF-8 without control characters. */
int accounts_valid_room_name(const char *s);

/* --- accounts_pass.c --- */

/* Starts the empty table and draws its secret (accounts_new). */
void accounts_passes_init(struct accounts *a);
/* Forgets the room passwords that verified longer than 12 hours ago. */
void accounts_passes_sweep(struct accounts *a, int64_t now);
/* Frees every remembered pass (accounts_free). */
void accounts_passes_free(struct accounts *a);

/* --- the routes (accounts_auth.c, accounts_rooms.c) --- */

/* Each answers c->out, or calls accounts_wait_for(). The dispatch has
 * checked the method, the CSRF proof, parsed the body into c->body and,
 * for routes that need a session, read its account into c->user; room
 * routes find the path's room id in c->id. */
void accounts_route_register(struct accounts_ctx *c);
void accounts_route_login(struct accounts_ctx *c);
void accounts_route_logout(struct accounts_ctx *c);
void accounts_route_logout_all(struct accounts_ctx *c);
void accounts_route_me(struct accounts_ctx *c);
void accounts_route_invite(struct accounts_ctx *c);
void accounts_route_disable(struct accounts_ctx *c);
void accounts_route_rooms_list(struct accounts_ctx *c);
void accounts_route_room_create(struct accounts_ctx *c);
void accounts_route_room_rename(struct accounts_ctx *c);
void accounts_route_room_delete(struct accounts_ctx *c);
void accounts_route_room_enter(struct accounts_ctx *c);

#endif
