/*
 * users — the SQL of accounts, sessions, invites and team rooms, in the
 * database of src/store/store.c (its migration v4 is STORE_USERS_SCHEMA).
 *
 * Only storage: no hashing, no policy. Passwords arrive already hashed
 * (src/base/pwhash.c), session tokens and invite codes as the hex SHA-256
 * of the secret the client holds, so a copy of the database gives no one a
 * way in. Times are Unix milliseconds. User names compare without ASCII case
 * (COLLATE NOCASE), so "Alice" and "alice" are one account. Every function
 * returns a store_status: STORE_OK, STORE_NOT_FOUND, STORE_CONFLICT (a
 * unique name is taken, an invite is used) or STORE_ERROR (logged).
 */
#ifndef TINCAN_USERS_H
#define TINCAN_USERS_H

#include <stdint.h>

#include "store.h"

#define USERS_NAME_MAX 32        /* bytes of a user name */
#define USERS_HASH_MAX 160       /* bytes of an encoded argon2id hash */
#define USERS_ROOM_NAME_MAX 64   /* bytes of a team room's name (UTF-8) */
#define USERS_ROOM_ID_LEN 36     /* a UUID v4 in text */
#define USERS_TOKEN_HASH_LEN 64  /* hex SHA-256 of a session token or invite code */

#define STORE_USERS_SCHEMA                                                                                        \
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,"                     \
    " pwhash TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0, disabled INTEGER NOT NULL DEFAULT 0,"             \
    " created INTEGER NOT NULL);"                                                                               \
    "CREATE TABLE sessions (token_hash TEXT PRIMARY KEY NOT NULL, user_id INTEGER NOT NULL,"                   \
    " created INTEGER NOT NULL, expires INTEGER NOT NULL);"                                                      \
    "CREATE INDEX idx_sessions_user ON sessions(user_id);"                                                      \
    "CREATE INDEX idx_sessions_expires ON sessions(expires);"                                                   \
    "CREATE TABLE invites (code_hash TEXT PRIMARY KEY NOT NULL, admin INTEGER NOT NULL DEFAULT 0,"             \
    " created INTEGER NOT NULL, expires INTEGER NOT NULL, used_by INTEGER NULL);"                               \
    "CREATE TABLE team_rooms (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, owner_id INTEGER NOT NULL,"   \
    " pwhash TEXT NULL, created INTEGER NOT NULL);"                                                             \
    "CREATE INDEX idx_team_rooms_owner ON team_rooms(owner_id);"

struct users_user {
    int64_t id;
    char name[USERS_NAME_MAX + 1];
    char pwhash[USERS_HASH_MAX + 1];
    int admin, disabled;
};

struct users_room {
    char id[USERS_ROOM_ID_LEN + 1];
    char name[USERS_ROOM_NAME_MAX + 1];
    int64_t owner_id;
    char owner[USERS_NAME_MAX + 1];  /* the owner's name ("" if the account is gone) */
    char pwhash[USERS_HASH_MAX + 1]; /* "" when the room has no password */
    int64_t created_ms;
};

/* The number of accounts (*n), and of those that are admins (*admins). */
enum store_status users_count(struct store *st, long *n, long *admins);
/* Adds an account; its id goes to *id. STORE_CONFLICT if the name is taken. */
enum store_status users_create(struct store *st, const char *name, const char *pwhash, int admin, int64_t now_ms,
                               int64_t *id);
/* Reads the account called name (any case) into out. */
enum store_status users_get(struct store *st, const char *name, struct users_user *out);
/* Sets or clears the account's disabled mark; disabling also deletes its
 * sessions (same transaction). */
enum store_status users_set_disabled(struct store *st, const char *name, int disabled);
/* Marks the account name an admin. */
enum store_status users_set_admin(struct store *st, const char *name);

/* Records a session of user_id that ends at expires_ms. */
enum store_status users_session_create(struct store *st, const char *token_hash, int64_t user_id, int64_t now_ms,
                                       int64_t expires_ms);
/* The account of a live session (expires > now, account not disabled). */
enum store_status users_session_user(struct store *st, const char *token_hash, int64_t now_ms, struct users_user *out);
/* Ends one session (missing is STORE_OK too). */
enum store_status users_session_delete(struct store *st, const char *token_hash);
/* Ends every session of user_id; the count goes to *n. */
enum store_status users_session_delete_all(struct store *st, int64_t user_id, long *n);
/* Deletes expired sessions and invites; the count goes to *n. */
enum store_status users_purge_expired(struct store *st, int64_t now_ms, long *n);

/* Records an invite that ends at expires_ms; admin: its account will be one. */
enum store_status users_invite_create(struct store *st, const char *code_hash, int admin, int64_t now_ms,
                                      int64_t expires_ms);
/* In one transaction: takes the live, unused invite code_hash (else
 * STORE_NOT_FOUND) and creates the account (STORE_CONFLICT if the name is
 * taken; the invite stays unused). The new id goes to *id, the invite's
 * admin mark to *admin. */
enum store_status users_create_invited(struct store *st, const char *code_hash, const char *name,
                                       const char *pwhash, int64_t now_ms, int64_t *id, int *admin);

/* Creates a team room (a new UUID, written to out with the rest). pwhash
 * may be NULL or "" for a room without a password. */
enum store_status users_room_create(struct store *st, const char *name, int64_t owner_id, const char *pwhash,
                                    int64_t now_ms, struct users_room *out);
/* Reads the team room id into out. */
enum store_status users_room_get(struct store *st, const char *id, struct users_room *out);
/* Renames the team room id (STORE_NOT_FOUND if missing). */
enum store_status users_room_rename(struct store *st, const char *id, const char *name);
/* Sets the team room's password hash ("" or NULL: no password). */
enum store_status users_room_set_password(struct store *st, const char *id, const char *pwhash);
/* Deletes the team room id (STORE_NOT_FOUND if missing). */
enum store_status users_room_delete(struct store *st, const char *id);
/* Calls each(room, arg) for at most max rooms, oldest first. */
enum store_status users_room_list(struct store *st, int max, void (*each)(const struct users_room *, void *),
                                  void *arg);

#endif
