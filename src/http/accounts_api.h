/*
 * accounts_api — the HTTP/JSON API of accounts, sessions and team rooms
 * (/api/auth/..., /api/team-rooms/...), as a function from a request and
 * the store to a status, a JSON body and a Set-Cookie value.
 *
 * No sockets and no clock: the caller (src/server/accounts_glue.c) passes
 * the method, path, body, the Cookie, Origin, Sec-Fetch-Site and Host
 * headers, the source address and the time. Besides the store, the only
 * state is the login and registration limiters and the refusal counters
 * kept in struct accounts. Passwords are hashed with argon2id, which
 * takes tens of milliseconds: requests that need it are suspended
 * (accounts_handle returns a wait) so the caller can hash off its event
 * loop. The routes, bodies and error codes are in docs/rooms.md. The
 * code is in src/http/accounts_*.c; accounts_int.h says which file does
 * what.
 */
#ifndef TINCAN_ACCOUNTS_API_H
#define TINCAN_ACCOUNTS_API_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct accounts;
struct users_user;

#define ACCOUNTS_BODY_MAX (16u << 10)  /* larger request bodies: 413 */
#define ACCOUNTS_OUT_MAX (96u << 10)   /* a list of ACCOUNTS_LIST_MAX rooms fits */
#define ACCOUNTS_LIST_MAX 200          /* rooms in one list answer */
#define ACCOUNTS_COOKIE "tincan_session"
#define ACCOUNTS_INVITE_TTL_MS (7LL * 24 * 3600 * 1000)
#define ACCOUNTS_FIELD_MAX 256         /* bytes of any string field in a body */

enum accounts_registration { ACCOUNTS_REG_OPEN, ACCOUNTS_REG_INVITE, ACCOUNTS_REG_CLOSED };

struct accounts_conf {
    enum accounts_registration registration;
    int64_t session_ttl_ms;     /* lifetime of a session (default 7 days) */
    unsigned login_rate;        /* login attempts per 15 minutes per address and per account (20) */
    unsigned register_rate;     /* registrations per hour per address (5) */
};

/* Refusals counted for /metrics. */
struct accounts_stats {
    uint64_t limited_login, limited_register; /* 429s */
    uint64_t csrf;              /* state-changing request without a same-origin proof */
    uint64_t unauthenticated;   /* no live session */
    uint64_t bad_credentials;   /* failed logins */
    uint64_t forbidden;         /* not the owner / not an admin / registration refused */
    uint64_t hashing;           /* gauge: requests waiting for a password hash (the glue's) */
};

struct accounts_request {
    const char *method;
    size_t method_len;
    const char *path;           /* without the query */
    size_t path_len;
    const uint8_t *body;
    size_t body_len;
    const char *cookie;         /* the Cookie header, or NULL */
    size_t cookie_len;
    const char *origin;         /* the Origin header, or NULL */
    size_t origin_len;
    const char *fetch_site;     /* the Sec-Fetch-Site header, or NULL */
    size_t fetch_site_len;
    const char *host;           /* the Host header ("" if none) */
    const char *source;         /* the client's address as text (limiter key) */
    int64_t now_ms;             /* wall clock, Unix milliseconds */
};

struct accounts_response {
    int status;
    uint64_t retry_after_s;     /* 429: seconds until a retry may succeed */
    char set_cookie[256];       /* a Set-Cookie value, or "" */
    const char *allow;          /* the methods of the path (for 405) */
    size_t body_len;            /* 0: no body (204) */
    char body[ACCOUNTS_OUT_MAX]; /* JSON, not NUL-terminated */
};

/* The fields a request body may carry; a string left out is "". */
struct accounts_body {
    char username[ACCOUNTS_FIELD_MAX + 1];
    char password[ACCOUNTS_FIELD_MAX + 1];
    char invite[ACCOUNTS_FIELD_MAX + 1];
    char name[ACCOUNTS_FIELD_MAX + 1];
    int disabled;               /* -1: absent, else 0 or 1 */
    int has_name, has_password; /* the key was there (an empty string is not absence) */
};

/* Creates the API state over an open store (not owned). */
struct accounts *accounts_new(struct store *st, const struct accounts_conf *conf);
/* Frees it; NULL is fine. */
void accounts_free(struct accounts *a);
/* The refusal counters. */
void accounts_stats(const struct accounts *a, struct accounts_stats *out);
/* Forgets limiter entries that have refilled by now_ms (call now and then). */
void accounts_sweep(struct accounts *a, int64_t now_ms);

/* Creates an invite valid for ACCOUNTS_INVITE_TTL_MS from now_ms (admin:
 * its account becomes an admin) and writes its code (43 characters and a
 * NUL) to code; only the code's hash is stored. Returns 0 or -1. */
int accounts_invite_new(struct store *st, int admin, int64_t now_ms, char code[64]);
/* The account of the live session named in a Cookie header (cookie, len;
 * NULL is no cookie) at now_ms into out, and the session's hex SHA-256 to
 * session_hash. STORE_OK, STORE_NOT_FOUND (no cookie, no live session) or
 * STORE_ERROR. */
int accounts_session_of(struct accounts *a, const char *cookie, size_t len, int64_t now_ms, struct users_user *out,
                        char session_hash[65]);
/* Whether the session session_hash (hex SHA-256) is live at now_ms. */
int accounts_session_live(struct accounts *a, const char *session_hash, int64_t now_ms);
/* Checks a team room and its password for a join: 0 opens it, 1 no such
 * room, 2 wrong password, -1 store error, 3 the password must be verified
 * against the room's hash, copied to pwhash (cap >= USERS_HASH_MAX + 1):
 * run pwhash_verify off the loop, then accounts_team_room_passed() if it
 * matched. A password that verified for the room in the last 12 hours
 * (POST .../enter, or an earlier join) is taken without argon2id. */
int accounts_team_room_check(struct accounts *a, const char *id, const char *password, int64_t now_ms, char *pwhash,
                             size_t cap);
/* Remembers that password verified against pwhash for room id (see
 * accounts_team_room_check). */
void accounts_team_room_passed(struct accounts *a, const char *id, const char *pwhash, const char *password,
                               int64_t now_ms);
/* True when path (without query) belongs to this API. */
int accounts_is_api_path(const char *path, size_t len);
/* A request waiting for a password hash or verification. */
struct accounts_wait;
/* Answers one request into out (HEAD like GET; the caller drops the body)
 * and returns NULL; or, when the answer needs argon2id (register, login,
 * a room password set or checked), returns a wait and leaves out alone.
 * The caller then runs accounts_wait_work(w) on any thread and
 * accounts_resume() on the loop, or drops it with accounts_wait_free().
 * The wait keeps what it needs; req may go once this returns. */
struct accounts_wait *accounts_handle(struct accounts *a, const struct accounts_request *req,
                                     struct accounts_response *out);
/* The hash or verification of w: CPU only (tens of ms), touches nothing
 * but w, so any thread may run it. */
void accounts_wait_work(struct accounts_wait *w);
/* Answers w's request into out, now that accounts_wait_work(w) ran
 * (loop thread; now_ms: the time now), and frees w. State that may have
 * changed during the wait (the account, the room) is read again. */
void accounts_resume(struct accounts *a, struct accounts_wait *w, int64_t now_ms, struct accounts_response *out);
/* Frees w without answering (its client went away); NULL is fine. */
void accounts_wait_free(struct accounts_wait *w);
/* accounts_handle, with any hash done on the calling thread (tests, CLI). */
void accounts_handle_now(struct accounts *a, const struct accounts_request *req, struct accounts_response *out);
/* Fills out with status and {"error":code}. */
void accounts_error(struct accounts_response *out, int status, const char *code);

/* Parses a JSON request body: an object whose known keys (username,
 * password, invite, name: strings of at most ACCOUNTS_FIELD_MAX bytes
 * without NUL; disabled: a boolean) have the right types; other keys are
 * ignored; an empty body is {}. Returns 0, or -1 if malformed. */
int accounts_parse_body(const uint8_t *body, size_t len, struct accounts_body *out);
/* The CSRF check of a state-changing request: true when every one of
 * Origin and Sec-Fetch-Site that is present says same origin (Origin ==
 * "https://" + host, ignoring ASCII case; Sec-Fetch-Site == "same-origin")
 * and at least one is present. */
int accounts_same_origin(const struct accounts_request *req);
/* True for a user name: 1 to 32 bytes of ASCII letters, digits, '_', '.',
 * '-'. */
int accounts_valid_username(const char *name);

#endif
