/*
 * store — SQLite storage of join codes and rooms (see store.h).
 *
 * Durability: WAL with synchronous=NORMAL. A transaction is in the WAL file
 * (in the kernel's page cache at least) when COMMIT returns, so it survives
 * the death of the process (kill -9, a crash); only a power loss or kernel
 * crash can lose the last transactions before the next checkpoint. That is
 * the right trade for join codes that live minutes, on a single event loop
 * that would wait for every fsync (measured: 1000 commits 81 ms NORMAL,
 * 254 ms FULL on the development VM). STORE_SYNC_FULL switches to
 * synchronous=FULL (an fsync per commit) for those who want more.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "users.h"

#ifndef STORE_SYNC_FULL
#define STORE_SYNC_PRAGMA "PRAGMA synchronous=NORMAL"
#else
#define STORE_SYNC_PRAGMA "PRAGMA synchronous=FULL"
#endif
#define BUSY_TIMEOUT_MS 2000

/* Migration N brings user_version N-1 to N. v1 is the seed's schema exactly
 * (IF NOT EXISTS, so the seed's own database is adopted with its rows); v2
 * remembers the roomid an accept created, and brings exp values written by
 * other software to the normal form so text comparison stays time
 * comparison (values SQLite cannot read as a time are left alone); v3 adds
 * the accounts and team rooms of src/store/users.c. */
static const char *const migrations[] = {
    NULL,
    "CREATE TABLE IF NOT EXISTS pendings (joinid TEXT PRIMARY KEY NOT NULL, client1 TEXT NOT NULL,"
    " exp DATETIME NOT NULL, client2 TEXT NULL);"
    "CREATE TABLE IF NOT EXISTS rooms (roomid TEXT PRIMARY KEY NOT NULL, client1 TEXT NOT NULL,"
    " client2 TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS idx_pendings_client1 ON pendings(client1);"
    "CREATE INDEX IF NOT EXISTS idx_pendings_exp ON pendings(exp);"
    "CREATE INDEX IF NOT EXISTS idx_rooms_client1 ON rooms(client1);"
    "CREATE INDEX IF NOT EXISTS idx_rooms_client2 ON rooms(client2);",
    "ALTER TABLE pendings ADD COLUMN roomid TEXT NULL;"
    "UPDATE pendings SET exp = strftime('%Y-%m-%dT%H:%M:%fZ', exp)"
    " WHERE strftime('%Y-%m-%dT%H:%M:%fZ', exp) IS NOT NULL;",
    /* v3: rooms remember when they were made, so they can expire; rooms
     * from before count from the migration. */
    "ALTER TABLE rooms ADD COLUMN created TEXT NULL;"
    "UPDATE rooms SET created = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE created IS NULL;"
    "CREATE INDEX IF NOT EXISTS idx_rooms_created ON rooms(created);",
    /* v4: accounts, sessions, invites and team rooms (users.c). */
    STORE_USERS_SCHEMA,
};

enum stmt {
    S_BEGIN, S_COMMIT, S_ROLLBACK,
    S_PENDING_INSERT, S_PENDING_GET, S_PENDING_ACCEPT, S_PENDING_DELETE,
    S_ROOM_INSERT, S_ROOM_BY_CLIENTS, S_ROOM_GET, S_ROOM_DELETE,
    S_PURGE_ROOMS, S_PURGE_PENDINGS, S_PURGE_EXPIRED, S_PURGE_OLD_ROOMS,
    S_COUNT_CLIENT_PENDINGS, S_COUNT_PENDINGS, S_COUNT_ROOMS,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_PENDING_INSERT] = "INSERT INTO pendings(joinid, client1, exp) VALUES(?1, ?2, ?3)",
    [S_PENDING_GET] = "SELECT client1, client2, exp > ?2, roomid FROM pendings WHERE joinid = ?1",
    [S_PENDING_ACCEPT] = "UPDATE pendings SET client2 = ?2, roomid = ?3 WHERE joinid = ?1 AND (client2 IS NULL OR client2 = '')",
    [S_PENDING_DELETE] = "DELETE FROM pendings WHERE joinid = ?1",
    [S_ROOM_INSERT] = "INSERT INTO rooms(roomid, client1, client2, created) VALUES(?1, ?2, ?3, ?4)",
    [S_ROOM_BY_CLIENTS] = "SELECT roomid FROM rooms WHERE client1 = ?1 AND client2 = ?2 LIMIT 1",
    [S_ROOM_GET] = "SELECT roomid, client1, client2 FROM rooms WHERE roomid = ?1",
    [S_ROOM_DELETE] = "DELETE FROM rooms WHERE roomid = ?1",
    [S_PURGE_ROOMS] = "DELETE FROM rooms WHERE client1 = ?1 OR client2 = ?1",
    [S_PURGE_PENDINGS] = "DELETE FROM pendings WHERE client1 = ?1 OR client2 = ?1",
    [S_PURGE_EXPIRED] = "DELETE FROM pendings WHERE exp <= ?1",
    [S_PURGE_OLD_ROOMS] = "DELETE FROM rooms WHERE created <= ?1",
    [S_COUNT_CLIENT_PENDINGS] = "SELECT count(*) FROM pendings WHERE client1 = ?1",
    [S_COUNT_PENDINGS] = "SELECT count(*) FROM pendings",
    [S_COUNT_ROOMS] = "SELECT count(*) FROM rooms",
};

struct store;
static void fail(struct store *st, const char *op);
static sqlite3_stmt *prepare(struct store *st, enum stmt s, const char *a, const char *b, const char *c);

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    struct store_limits limits;
};

void store_set_limits(struct store *st, const struct store_limits *l)
{
    st->limits = *l;
}

/* Runs a count(*) statement; -1 on error. */
static long count(struct store *st, enum stmt s, const char *a)
{
    sqlite3_stmt *q = prepare(st, s, a, NULL, NULL);
    long n = -1;
    if (sqlite3_step(q) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(q, 0);
    else
        fail(st, stmt_sql[s]);
    sqlite3_reset(q);
    return n;
}

/* STORE_OK when n (a count, -1 on error) is under max (0: no limit). */
static enum store_status under(long n, long max, enum store_status over)
{
    if (n < 0)
        return STORE_ERROR;
    return max > 0 && n >= max ? over : STORE_OK;
}

/* What a pending row holds (S_PENDING_GET). */
struct pending {
    char client1[STORE_FIELD_MAX + 1];
    char client2[STORE_FIELD_MAX + 1]; /* "" when not accepted */
    char roomid[STORE_FIELD_MAX + 1];  /* "" when unknown */
    int live;                          /* exp > now */
};

static void fail(struct store *st, const char *op)
{
    log_error("store_failed", "op=\"%s\" error=\"%s\"", op, sqlite3_errmsg(st->db));
}

/* Binds up to three text parameters (NULL ones are left unbound). */
static sqlite3_stmt *prepare(struct store *st, enum stmt s, const char *a, const char *b, const char *c)
{
    sqlite3_stmt *q = st->stmt[s];
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    const char *args[3] = { a, b, c };
    for (int i = 0; i < 3; i++) {
        if (args[i])
            sqlite3_bind_text(q, i + 1, args[i], -1, SQLITE_STATIC);
    }
    return q;
}

/* Runs a statement that returns no rows. Returns the sqlite3_step code
 * (SQLITE_DONE on success); logs other codes except constraint failures. */
static int run(struct store *st, enum stmt s, const char *a, const char *b, const char *c)
{
    sqlite3_stmt *q = prepare(st, s, a, b, c);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT)
        fail(st, stmt_sql[s]);
    sqlite3_reset(q);
    return rc;
}

static void copy_col(sqlite3_stmt *q, int col, char *out)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(out, STORE_FIELD_MAX + 1, "%s", t ? (const char *)t : "");
}

/* Reads the pending joinid: STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
static enum store_status pending_get(struct store *st, const char *joinid, const char *now, struct pending *p)
{
    sqlite3_stmt *q = prepare(st, S_PENDING_GET, joinid, now, NULL);
    int rc = sqlite3_step(q);
    enum store_status res = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        copy_col(q, 0, p->client1);
        copy_col(q, 1, p->client2);
        p->live = sqlite3_column_int(q, 2);
        copy_col(q, 3, p->roomid);
        res = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        fail(st, "pending_get");
        res = STORE_ERROR;
    }
    sqlite3_reset(q);
    return res;
}

static int begin(struct store *st)
{
    return run(st, S_BEGIN, NULL, NULL, NULL) == SQLITE_DONE ? 0 : -1;
}

/* Commits when res is a success worth keeping, else rolls back. A failed
 * COMMIT turns res into STORE_ERROR. */
static enum store_status finish(struct store *st, enum store_status res)
{
    if (res == STORE_OK && run(st, S_COMMIT, NULL, NULL, NULL) == SQLITE_DONE)
        return res;
    if (sqlite3_get_autocommit(st->db) == 0)
        run(st, S_ROLLBACK, NULL, NULL, NULL);
    return res == STORE_OK ? STORE_ERROR : res;
}

/* A random UUID v4 in lower-case text, like crypto.randomUUID(). */
static void uuid_v4(char out[STORE_ROOMID_LEN + 1])
{
    unsigned char b[16];
    RAND_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, STORE_ROOMID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* --- open, migrate, close --- */

struct sqlite3 *store_db(struct store *st)
{
    return st->db;
}

int store_schema_version(struct store *st)
{
    sqlite3_stmt *q;
    int v = -1;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* Runs migration n and records it, in one transaction. */
static int migrate_one(struct store *st, int n, char *err, size_t errlen)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", n);
    char *msg = NULL;
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(st->db, migrations[n], NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(st->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "migration to schema version %d failed: %s", n, msg ? msg : "?");
        sqlite3_free(msg);
        if (!sqlite3_get_autocommit(st->db))
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    log_info("store_migrated", "version=%d", n);
    return 0;
}

static int migrate(struct store *st, char *err, size_t errlen)
{
    int v = store_schema_version(st);
    if (v < 0) {
        snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(st->db));
        return -1;
    }
    if (v > STORE_SCHEMA_VERSION) {
        snprintf(err, errlen, "schema version %d is newer than this tincan knows (%d)", v, STORE_SCHEMA_VERSION);
        return -1;
    }
    for (int n = v + 1; n <= STORE_SCHEMA_VERSION; n++) {
        if (migrate_one(st, n, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* Receives the journal mode SQLite answers to PRAGMA journal_mode=...:
 * the mode in effect, which is not WAL where WAL cannot work. */
static int note_journal_mode(void *arg, int ncols, char **vals, char **names)
{
    (void)names;
    if (ncols > 0 && vals[0])
        snprintf(arg, 16, "%s", vals[0]);
    return 0;
}

static int configure(struct store *st, int memory, char *err, size_t errlen)
{
    char *msg = NULL;
    char mode[16] = "";
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    if (sqlite3_exec(st->db, memory ? "PRAGMA journal_mode=MEMORY" : "PRAGMA journal_mode=WAL", note_journal_mode,
                     mode, &msg) != SQLITE_OK ||
        sqlite3_exec(st->db, STORE_SYNC_PRAGMA, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return -1;
    }
    if (!memory && strcmp(mode, "wal") != 0) {
        /* Some file systems (network mounts) cannot share memory for WAL.
         * Writes still reach the file at each commit, but slower and with
         * readers blocking writers: say so rather than claim WAL. */
        log_warn("store_journal", "mode=%s wanted=wal", mode[0] ? mode : "unknown");
    }
    return 0;
}

static int prepare_all(struct store *st, char *err, size_t errlen)
{
    for (int i = 0; i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) !=
            SQLITE_OK) {
            snprintf(err, errlen, "cannot prepare \"%s\": %s", stmt_sql[i], sqlite3_errmsg(st->db));
            return -1;
        }
    }
    return 0;
}

/* Creates the file with mode 0600 before SQLite does (SQLite would use
 * 0644 less the umask; its -wal and -shm files copy the database's mode).
 * An existing file is not opened at all: closing any descriptor of a file
 * drops every POSIX lock the process holds on it, and the REST API's
 * connection to the same file holds them. Without them another process
 * (the sqlite3 shell, `tincan user add`) takes itself for the last user,
 * checkpoints and deletes the WAL file, and commits made after that go
 * to a deleted file until the server stops. */
static int create_private(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return 0;
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %m", path);
        return -1;
    }
    close(fd);
    return 0;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
    int memory = strcmp(path, ":memory:") == 0;
    if (!memory && create_private(path, err, errlen) < 0)
        return NULL;
    struct store *st = xcalloc(1, sizeof(*st));
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
        store_close(st);
        return NULL;
    }
    char inner[400];
    if (configure(st, memory, inner, sizeof(inner)) < 0 || migrate(st, inner, sizeof(inner)) < 0 ||
        prepare_all(st, inner, sizeof(inner)) < 0) {
        snprintf(err, errlen, "%s: %s", path, inner);
        store_close(st);
        return NULL;
    }
    return st;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    xfree(st);
}

/* --- operations --- */

enum store_status store_pending_create(struct store *st, const char *joinid, const char *client1, const char *exp)
{
    enum store_status res = under(count(st, S_COUNT_CLIENT_PENDINGS, client1), st->limits.pendings_per_client,
                                  STORE_TOO_MANY);
    if (res == STORE_OK)
        res = under(count(st, S_COUNT_PENDINGS, NULL), st->limits.pendings, STORE_FULL);
    if (res != STORE_OK)
        return res;
    int rc = run(st, S_PENDING_INSERT, joinid, client1, exp);
    if (rc == SQLITE_DONE)
        return STORE_OK;
    return rc == SQLITE_CONSTRAINT ? STORE_CONFLICT : STORE_ERROR;
}

/* Inserts a room made at now. */
static int room_insert(struct store *st, const char *roomid, const char *client1, const char *client2, const char *now)
{
    sqlite3_stmt *q = prepare(st, S_ROOM_INSERT, roomid, client1, client2);
    sqlite3_bind_text(q, 4, now, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE)
        fail(st, "room_insert");
    sqlite3_reset(q);
    return rc;
}

enum store_status store_accept(struct store *st, const char *joinid, const char *client2, const char *now,
                               char *roomid_out)
{
    if (begin(st) < 0)
        return STORE_ERROR;
    struct pending p;
    enum store_status res = pending_get(st, joinid, now, &p);
    if (res == STORE_OK && !p.live)
        res = STORE_NOT_FOUND;
    else if (res == STORE_OK && p.client2[0])
        res = STORE_CONFLICT;
    if (res == STORE_OK)
        res = under(count(st, S_COUNT_ROOMS, NULL), st->limits.rooms, STORE_FULL);
    if (res == STORE_OK) {
        uuid_v4(roomid_out);
        if (room_insert(st, roomid_out, p.client1, client2, now) != SQLITE_DONE ||
            run(st, S_PENDING_ACCEPT, joinid, client2, roomid_out) != SQLITE_DONE ||
            sqlite3_changes(st->db) != 1)
            res = STORE_ERROR;
    }
    return finish(st, res);
}

/* Finds the room of an accepted pending that predates v2 (no roomid). */
static enum store_status room_by_clients(struct store *st, const struct pending *p, char *roomid_out)
{
    sqlite3_stmt *q = prepare(st, S_ROOM_BY_CLIENTS, p->client1, p->client2, NULL);
    int rc = sqlite3_step(q);
    enum store_status res = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        copy_col(q, 0, roomid_out);
        res = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        fail(st, "room_by_clients");
        res = STORE_ERROR;
    }
    sqlite3_reset(q);
    return res;
}

enum store_status store_check(struct store *st, const char *joinid, const char *client1, const char *now,
                              char *roomid_out)
{
    if (begin(st) < 0)
        return STORE_ERROR;
    struct pending p;
    enum store_status res = pending_get(st, joinid, now, &p);
    if (res == STORE_OK && (!p.live || strcmp(p.client1, client1) != 0))
        res = STORE_NOT_FOUND;
    else if (res == STORE_OK && !p.client2[0])
        res = STORE_WAITING;
    if (res == STORE_OK && p.roomid[0])
        memcpy(roomid_out, p.roomid, sizeof(p.roomid));
    else if (res == STORE_OK)
        res = room_by_clients(st, &p, roomid_out);
    if (res == STORE_OK && run(st, S_PENDING_DELETE, joinid, NULL, NULL) != SQLITE_DONE)
        res = STORE_ERROR;
    return finish(st, res);
}

enum store_status store_room_get(struct store *st, const char *roomid, struct store_room *out)
{
    sqlite3_stmt *q = prepare(st, S_ROOM_GET, roomid, NULL, NULL);
    int rc = sqlite3_step(q);
    enum store_status res = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        copy_col(q, 0, out->roomid);
        copy_col(q, 1, out->client1);
        copy_col(q, 2, out->client2);
        res = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        fail(st, "room_get");
        res = STORE_ERROR;
    }
    sqlite3_reset(q);
    return res;
}

int store_room_exists(struct store *st, const char *roomid)
{
    struct store_room r;
    enum store_status res = store_room_get(st, roomid, &r);
    return res == STORE_OK ? 1 : res == STORE_NOT_FOUND ? 0 : -1;
}

enum store_status store_room_delete(struct store *st, const char *roomid)
{
    return run(st, S_ROOM_DELETE, roomid, NULL, NULL) == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

enum store_status store_purge_device(struct store *st, const char *device_id, long *rooms, long *pendings)
{
    *rooms = *pendings = 0;
    if (begin(st) < 0)
        return STORE_ERROR;
    enum store_status res = STORE_ERROR;
    if (run(st, S_PURGE_ROOMS, device_id, NULL, NULL) == SQLITE_DONE) {
        *rooms = sqlite3_changes(st->db);
        if (run(st, S_PURGE_PENDINGS, device_id, NULL, NULL) == SQLITE_DONE) {
            *pendings = sqlite3_changes(st->db);
            res = STORE_OK;
        }
    }
    res = finish(st, res);
    if (res != STORE_OK)
        *rooms = *pendings = 0;
    return res;
}

enum store_status store_purge_expired(struct store *st, const char *now, long *deleted)
{
    *deleted = 0;
    if (run(st, S_PURGE_EXPIRED, now, NULL, NULL) != SQLITE_DONE)
        return STORE_ERROR;
    *deleted = sqlite3_changes(st->db);
    return STORE_OK;
}

enum store_status store_purge_old_rooms(struct store *st, const char *before, long *deleted)
{
    *deleted = 0;
    if (run(st, S_PURGE_OLD_ROOMS, before, NULL, NULL) != SQLITE_DONE)
        return STORE_ERROR;
    *deleted = sqlite3_changes(st->db);
    return STORE_OK;
}
