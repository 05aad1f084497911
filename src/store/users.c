/*
 * users — accounts, sessions, invites and team rooms in SQLite (see
 * users.h).
 *
 * Statements are prepared per call: these requests are rare (a login, a
 * room list) next to their argon2id hashing, and it keeps this module free
 * of the store's statement table. Each runs in autocommit mode unless it
 * says otherwise.
 */
#include "users.h"

#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../base/log.h"

/* Prepares sql and binds the arguments described by types: 't' a text
 * (NULL binds NULL), 'i' an int64_t. NULL on failure (logged). */
static sqlite3_stmt *stmt(struct store *st, const char *sql, const char *types, ...)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(store_db(st), sql, -1, &q, NULL) != SQLITE_OK) {
        log_error("store_failed", "op=\"prepare\" error=\"%s\"", sqlite3_errmsg(store_db(st)));
        return NULL;
    }
    va_list ap;
    va_start(ap, types);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't')
            sqlite3_bind_text(q, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_int64(q, i + 1, va_arg(ap, int64_t));
    }
    va_end(ap);
    return q;
}

/* Steps q to its end and finalizes it: STORE_OK, STORE_CONFLICT on a
 * constraint, else STORE_ERROR (logged). NULL q is STORE_ERROR. */
static enum store_status exec_stmt(struct store *st, sqlite3_stmt *q)
{
    if (!q)
        return STORE_ERROR;
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc == SQLITE_DONE)
        return STORE_OK;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return STORE_CONFLICT;
    log_error("store_failed", "op=\"users\" error=\"%s\"", sqlite3_errmsg(store_db(st)));
    return STORE_ERROR;
}

/* Steps q once: STORE_OK with a row (q stays open for reading), else
 * STORE_NOT_FOUND or STORE_ERROR with q finalized. */
static enum store_status first_row(struct store *st, sqlite3_stmt *q)
{
    if (!q)
        return STORE_ERROR;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    sqlite3_finalize(q);
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    log_error("store_failed", "op=\"users\" error=\"%s\"", sqlite3_errmsg(store_db(st)));
    return STORE_ERROR;
}

static void text_col(sqlite3_stmt *q, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static enum store_status tx(struct store *st, const char *sql)
{
    return sqlite3_exec(store_db(st), sql, NULL, NULL, NULL) == SQLITE_OK ? STORE_OK : STORE_ERROR;
}

/* Commits when res is STORE_OK, else rolls back; a failed commit is an error. */
static enum store_status tx_end(struct store *st, enum store_status res)
{
    if (res == STORE_OK && tx(st, "COMMIT") == STORE_OK)
        return res;
    if (!sqlite3_get_autocommit(store_db(st)))
        tx(st, "ROLLBACK");
    return res == STORE_OK ? STORE_ERROR : res;
}

/* --- accounts --- */

enum store_status users_count(struct store *st, long *n, long *admins)
{
    *n = *admins = 0;
    sqlite3_stmt *q = stmt(st, "SELECT count(*), coalesce(sum(admin != 0), 0) FROM users", "");
    enum store_status res = first_row(st, q);
    if (res != STORE_OK)
        return res;
    *n = (long)sqlite3_column_int64(q, 0);
    *admins = (long)sqlite3_column_int64(q, 1);
    sqlite3_finalize(q);
    return STORE_OK;
}

enum store_status users_create(struct store *st, const char *name, const char *pwhash, int admin, int64_t now_ms,
                               int64_t *id)
{
    sqlite3_stmt *q = stmt(st, "INSERT INTO users(name, pwhash, admin, created) VALUES(?1, ?2, ?3, ?4)", "ttii",
                           name, pwhash, (int64_t)(admin != 0), now_ms);
    enum store_status res = exec_stmt(st, q);
    *id = res == STORE_OK ? sqlite3_last_insert_rowid(store_db(st)) : 0;
    return res;
}

static void read_user(sqlite3_stmt *q, struct users_user *out)
{
    out->id = sqlite3_column_int64(q, 0);
    text_col(q, 1, out->name, sizeof(out->name));
    text_col(q, 2, out->pwhash, sizeof(out->pwhash));
    out->admin = sqlite3_column_int(q, 3) != 0;
    out->disabled = sqlite3_column_int(q, 4) != 0;
}

enum store_status users_get(struct store *st, const char *name, struct users_user *out)
{
    sqlite3_stmt *q = stmt(st, "SELECT id, name, pwhash, admin, disabled FROM users WHERE name = ?1", "t", name);
    enum store_status res = first_row(st, q);
    if (res != STORE_OK)
        return res;
    read_user(q, out);
    sqlite3_finalize(q);
    return STORE_OK;
}

enum store_status users_set_disabled(struct store *st, const char *name, int disabled)
{
    if (tx(st, "BEGIN IMMEDIATE") != STORE_OK)
        return STORE_ERROR;
    struct users_user u;
    enum store_status res = users_get(st, name, &u);
    if (res == STORE_OK)
        res = exec_stmt(st, stmt(st, "UPDATE users SET disabled = ?2 WHERE id = ?1", "ii", u.id,
                                 (int64_t)(disabled != 0)));
    if (res == STORE_OK && disabled)
        res = exec_stmt(st, stmt(st, "DELETE FROM sessions WHERE user_id = ?1", "i", u.id));
    return tx_end(st, res);
}

enum store_status users_set_admin(struct store *st, const char *name)
{
    enum store_status res = exec_stmt(st, stmt(st, "UPDATE users SET admin = 1 WHERE name = ?1", "t", name));
    if (res == STORE_OK && sqlite3_changes(store_db(st)) == 0)
        res = STORE_NOT_FOUND;
    return res;
}

/* --- sessions --- */

enum store_status users_session_create(struct store *st, const char *token_hash, int64_t user_id, int64_t now_ms,
                                       int64_t expires_ms)
{
    return exec_stmt(st, stmt(st, "INSERT INTO sessions(token_hash, user_id, created, expires) VALUES(?1, ?2, ?3, ?4)",
                              "tiii", token_hash, user_id, now_ms, expires_ms));
}

enum store_status users_session_user(struct store *st, const char *token_hash, int64_t now_ms, struct users_user *out)
{
    sqlite3_stmt *q = stmt(st,
                           "SELECT u.id, u.name, u.pwhash, u.admin, u.disabled FROM sessions s JOIN users u"
                           " ON u.id = s.user_id WHERE s.token_hash = ?1 AND s.expires > ?2 AND u.disabled = 0",
                           "ti", token_hash, now_ms);
    enum store_status res = first_row(st, q);
    if (res != STORE_OK)
        return res;
    read_user(q, out);
    sqlite3_finalize(q);
    return STORE_OK;
}

enum store_status users_session_delete(struct store *st, const char *token_hash)
{
    return exec_stmt(st, stmt(st, "DELETE FROM sessions WHERE token_hash = ?1", "t", token_hash));
}

enum store_status users_session_delete_all(struct store *st, int64_t user_id, long *n)
{
    enum store_status res = exec_stmt(st, stmt(st, "DELETE FROM sessions WHERE user_id = ?1", "i", user_id));
    *n = res == STORE_OK ? sqlite3_changes(store_db(st)) : 0;
    return res;
}

enum store_status users_purge_expired(struct store *st, int64_t now_ms, long *n)
{
    *n = 0;
    enum store_status res = exec_stmt(st, stmt(st, "DELETE FROM sessions WHERE expires <= ?1", "i", now_ms));
    if (res == STORE_OK)
        *n += sqlite3_changes(store_db(st));
    if (res == STORE_OK)
        res = exec_stmt(st, stmt(st, "DELETE FROM invites WHERE expires <= ?1 AND used_by IS NULL", "i", now_ms));
    if (res == STORE_OK)
        *n += sqlite3_changes(store_db(st));
    return res;
}

/* --- invites --- */

enum store_status users_invite_create(struct store *st, const char *code_hash, int admin, int64_t now_ms,
                                      int64_t expires_ms)
{
    return exec_stmt(st, stmt(st, "INSERT INTO invites(code_hash, admin, created, expires) VALUES(?1, ?2, ?3, ?4)",
                              "tiii", code_hash, (int64_t)(admin != 0), now_ms, expires_ms));
}

/* Reads the admin mark of a live, unused invite. */
static enum store_status invite_get(struct store *st, const char *code_hash, int64_t now_ms, int *admin)
{
    sqlite3_stmt *q = stmt(st, "SELECT admin FROM invites WHERE code_hash = ?1 AND expires > ?2 AND used_by IS NULL",
                           "ti", code_hash, now_ms);
    enum store_status res = first_row(st, q);
    if (res != STORE_OK)
        return res;
    *admin = sqlite3_column_int(q, 0) != 0;
    sqlite3_finalize(q);
    return STORE_OK;
}

enum store_status users_create_invited(struct store *st, const char *code_hash, const char *name,
                                       const char *pwhash, int64_t now_ms, int64_t *id, int *admin)
{
    *id = 0;
    *admin = 0;
    if (tx(st, "BEGIN IMMEDIATE") != STORE_OK)
        return STORE_ERROR;
    enum store_status res = invite_get(st, code_hash, now_ms, admin);
    if (res == STORE_OK)
        res = users_create(st, name, pwhash, *admin, now_ms, id);
    if (res == STORE_OK)
        res = exec_stmt(st, stmt(st, "UPDATE invites SET used_by = ?2 WHERE code_hash = ?1", "ti", code_hash, *id));
    res = tx_end(st, res);
    if (res != STORE_OK)
        *id = 0;
    return res;
}

/* --- team rooms --- */

static void uuid_v4(char out[USERS_ROOM_ID_LEN + 1])
{
    unsigned char b[16];
    RAND_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

enum store_status users_room_create(struct store *st, const char *name, int64_t owner_id, const char *pwhash,
                                    int64_t now_ms, struct users_room *out)
{
    memset(out, 0, sizeof(*out));
    uuid_v4(out->id);
    const char *pw = pwhash && *pwhash ? pwhash : NULL;
    enum store_status res = exec_stmt(
        st, stmt(st, "INSERT INTO team_rooms(id, name, owner_id, pwhash, created) VALUES(?1, ?2, ?3, ?4, ?5)",
                 "ttiti", out->id, name, owner_id, pw, now_ms));
    return res == STORE_OK ? users_room_get(st, out->id, out) : res;
}

#define ROOM_COLUMNS                                                                                              \
    "SELECT r.id, r.name, r.owner_id, coalesce(u.name, ''), coalesce(r.pwhash, ''), r.created FROM team_rooms r" \
    " LEFT JOIN users u ON u.id = r.owner_id"

static void read_room(sqlite3_stmt *q, struct users_room *out)
{
    text_col(q, 0, out->id, sizeof(out->id));
    text_col(q, 1, out->name, sizeof(out->name));
    out->owner_id = sqlite3_column_int64(q, 2);
    text_col(q, 3, out->owner, sizeof(out->owner));
    text_col(q, 4, out->pwhash, sizeof(out->pwhash));
    out->created_ms = sqlite3_column_int64(q, 5);
}

enum store_status users_room_get(struct store *st, const char *id, struct users_room *out)
{
    sqlite3_stmt *q = stmt(st, ROOM_COLUMNS " WHERE r.id = ?1", "t", id);
    enum store_status res = first_row(st, q);
    if (res != STORE_OK)
        return res;
    read_room(q, out);
    sqlite3_finalize(q);
    return STORE_OK;
}

enum store_status users_room_rename(struct store *st, const char *id, const char *name)
{
    enum store_status res = exec_stmt(st, stmt(st, "UPDATE team_rooms SET name = ?2 WHERE id = ?1", "tt", id, name));
    if (res == STORE_OK && sqlite3_changes(store_db(st)) == 0)
        res = STORE_NOT_FOUND;
    return res;
}

enum store_status users_room_set_password(struct store *st, const char *id, const char *pwhash)
{
    enum store_status res = exec_stmt(st, stmt(st, "UPDATE team_rooms SET pwhash = NULLIF(?2, '') WHERE id = ?1", "tt",
                                                id, pwhash ? pwhash : ""));
    if (res == STORE_OK && sqlite3_changes(store_db(st)) == 0)
        res = STORE_NOT_FOUND;
    return res;
}

enum store_status users_room_delete(struct store *st, const char *id)
{
    enum store_status res = exec_stmt(st, stmt(st, "DELETE FROM team_rooms WHERE id = ?1", "t", id));
    if (res == STORE_OK && sqlite3_changes(store_db(st)) == 0)
        res = STORE_NOT_FOUND;
    return res;
}

enum store_status users_room_list(struct store *st, int max, void (*each)(const struct users_room *, void *),
                                  void *arg)
{
    sqlite3_stmt *q = stmt(st, ROOM_COLUMNS " ORDER BY r.created, r.id LIMIT ?1", "i", (int64_t)max);
    if (!q)
        return STORE_ERROR;
    int rc;
    struct users_room r;
    for (rc = sqlite3_step(q); rc == SQLITE_ROW; rc = sqlite3_step(q)) {
        read_room(q, &r);
        each(&r, arg);
    }
    sqlite3_finalize(q);
    if (rc == SQLITE_DONE)
        return STORE_OK;
    log_error("store_failed", "op=\"room_list\" error=\"%s\"", sqlite3_errmsg(store_db(st)));
    return STORE_ERROR;
}
