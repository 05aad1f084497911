/*
 * test_store — the SQLite store of join codes and rooms (src/store/store.c),
 * on real database files in a temporary directory and on ":memory:".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"

#define NOW "2026-06-01T12:00:00.000Z"
#define LATER "2030-01-01T00:00:00.000Z"
#define PAST "2020-01-01T00:00:00.000Z"

struct fixture {
    char dir[64];
    char path[128];
    struct store *st;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/tincan-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/tincan.db", f->dir);
    char err[256] = "";
    f->st = store_open(f->path, err, sizeof(err));
    if (!f->st) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->st);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* Runs SQL on the file through a second connection, as another program would. */
static void sql(const char *path, const char *text)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", text, msg);
    sqlite3_close(db);
}

/* The first column of the first row of a query, as text ("" if none). */
static void sql_value(const char *path, const char *text, char *out, size_t len)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, text, -1, &q, NULL), SQLITE_OK);
    out[0] = '\0';
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
        snprintf(out, len, "%s", sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static int is_uuid_v4(const char *s)
{
    if (strlen(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' || s[14] != '4' ||
        !strchr("89ab", s[19]))
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i != 8 && i != 13 && i != 18 && i != 23 && !strchr("0123456789abcdef", s[i]))
            return 0;
    }
    return 1;
}

/* A new file is private, in WAL mode, at the current schema version. */
static void test_new_file(void **state)
{
    struct fixture *f = *state;
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(store_schema_version(f->st), STORE_SCHEMA_VERSION);
    char v[256];
    sql_value(f->path, "PRAGMA journal_mode", v, sizeof(v));
    assert_string_equal(v, "wal");
    sql_value(f->path, "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type='index'"
                       " AND name LIKE 'idx_%' ORDER BY name)", v, sizeof(v));
    assert_string_equal(v, "idx_pendings_client1,idx_pendings_exp,idx_rooms_client1,idx_rooms_client2,idx_rooms_created,"
                           "idx_sessions_expires,idx_sessions_user,idx_team_rooms_owner");
}

/* The seed's example sequence: create, check (waiting), accept, check. */
static void test_pairing(void **state)
{
    struct fixture *f = *state;
    char roomid[STORE_FIELD_MAX + 1], seen[STORE_FIELD_MAX + 1];
    assert_int_equal(store_pending_create(f->st, "ABC123", "dev-a", LATER), STORE_OK);
    assert_int_equal(store_pending_create(f->st, "ABC123", "dev-x", LATER), STORE_CONFLICT);
    assert_int_equal(store_check(f->st, "ABC123", "dev-a", NOW, seen), STORE_WAITING);
    assert_int_equal(store_check(f->st, "ABC123", "dev-b", NOW, seen), STORE_NOT_FOUND);
    assert_int_equal(store_accept(f->st, "ABC123", "dev-b", NOW, roomid), STORE_OK);
    assert_true(is_uuid_v4(roomid));
    assert_int_equal(store_accept(f->st, "ABC123", "dev-c", NOW, seen), STORE_CONFLICT);
    assert_int_equal(store_accept(f->st, "NOPE", "dev-c", NOW, seen), STORE_NOT_FOUND);
    assert_int_equal(store_check(f->st, "ABC123", "dev-a", NOW, seen), STORE_OK);
    assert_string_equal(seen, roomid);
    /* The pending row is gone after a successful check. */
    assert_int_equal(store_check(f->st, "ABC123", "dev-a", NOW, seen), STORE_NOT_FOUND);
    struct store_room r;
    assert_int_equal(store_room_get(f->st, roomid, &r), STORE_OK);
    assert_string_equal(r.roomid, roomid);
    assert_string_equal(r.client1, "dev-a");
    assert_string_equal(r.client2, "dev-b");
    assert_int_equal(store_room_exists(f->st, roomid), 1);
    assert_int_equal(store_room_delete(f->st, roomid), STORE_OK);
    assert_int_equal(store_room_delete(f->st, roomid), STORE_OK);
    assert_int_equal(store_room_exists(f->st, roomid), 0);
    assert_int_equal(store_room_get(f->st, roomid, &r), STORE_NOT_FOUND);
}

/* exp <= now is expired: accept and check say not found; the sweep deletes. */
static void test_expiry(void **state)
{
    struct fixture *f = *state;
    char roomid[STORE_FIELD_MAX + 1];
    assert_int_equal(store_pending_create(f->st, "OLD", "dev-a", PAST), STORE_OK);
    assert_int_equal(store_pending_create(f->st, "EDGE", "dev-a", NOW), STORE_OK);
    assert_int_equal(store_pending_create(f->st, "NEW", "dev-a", LATER), STORE_OK);
    assert_int_equal(store_accept(f->st, "OLD", "dev-b", NOW, roomid), STORE_NOT_FOUND);
    assert_int_equal(store_check(f->st, "OLD", "dev-a", NOW, roomid), STORE_NOT_FOUND);
    assert_int_equal(store_accept(f->st, "EDGE", "dev-b", NOW, roomid), STORE_NOT_FOUND);
    /* Accepted, then expired before client1 polled: gone as well. */
    assert_int_equal(store_accept(f->st, "NEW", "dev-b", NOW, roomid), STORE_OK);
    assert_int_equal(store_check(f->st, "NEW", "dev-a", "2031-01-01T00:00:00.000Z", roomid), STORE_NOT_FOUND);
    long n = -1;
    assert_int_equal(store_purge_expired(f->st, NOW, &n), STORE_OK);
    assert_int_equal(n, 2);
    char v[32];
    sql_value(f->path, "SELECT group_concat(joinid) FROM pendings", v, sizeof(v));
    assert_string_equal(v, "NEW");
}

/* Purge removes rooms and pendings naming the device on either side. */
static void test_purge_device(void **state)
{
    struct fixture *f = *state;
    char roomid[STORE_FIELD_MAX + 1];
    assert_int_equal(store_pending_create(f->st, "J1", "me", LATER), STORE_OK);
    assert_int_equal(store_accept(f->st, "J1", "you", NOW, roomid), STORE_OK);
    assert_int_equal(store_pending_create(f->st, "J2", "them", LATER), STORE_OK);
    assert_int_equal(store_accept(f->st, "J2", "me", NOW, roomid), STORE_OK);
    assert_int_equal(store_pending_create(f->st, "J3", "me", LATER), STORE_OK);
    assert_int_equal(store_pending_create(f->st, "J4", "other", LATER), STORE_OK);
    assert_int_equal(store_accept(f->st, "J4", "someone", NOW, roomid), STORE_OK);
    long rooms = -1, pendings = -1;
    assert_int_equal(store_purge_device(f->st, "me", &rooms, &pendings), STORE_OK);
    assert_int_equal(rooms, 2);
    assert_int_equal(pendings, 3);
    assert_int_equal(store_purge_device(f->st, "me", &rooms, &pendings), STORE_OK);
    assert_int_equal(rooms, 0);
    assert_int_equal(pendings, 0);
    assert_int_equal(store_room_exists(f->st, roomid), 1);
}

/* Rows survive closing and reopening the file. */
static void test_reopen(void **state)
{
    struct fixture *f = *state;
    char roomid[STORE_FIELD_MAX + 1], seen[STORE_FIELD_MAX + 1];
    assert_int_equal(store_pending_create(f->st, "KEEP", "dev-a", LATER), STORE_OK);
    assert_int_equal(store_accept(f->st, "KEEP", "dev-b", NOW, roomid), STORE_OK);
    store_close(f->st);
    char err[256];
    f->st = store_open(f->path, err, sizeof(err));
    assert_non_null(f->st);
    assert_int_equal(store_check(f->st, "KEEP", "dev-a", NOW, seen), STORE_OK);
    assert_string_equal(seen, roomid);
}

/* A database made by the seed's Node backend (its schema, user_version 0,
 * rows in both tables) is adopted: rows kept, exp normalized, and an
 * accepted pending without a roomid finds its room by the two clients. */
static void test_migrate_seed_db(void **state)
{
    struct fixture *f = *state;
    store_close(f->st);
    f->st = NULL;
    char path[160];
    snprintf(path, sizeof(path), "%s/chat.db", f->dir);
    sql(path, "CREATE TABLE pendings (joinid TEXT PRIMARY KEY NOT NULL, client1 TEXT NOT NULL,"
              " exp DATETIME NOT NULL, client2 TEXT NULL);"
              "CREATE TABLE rooms (roomid TEXT PRIMARY KEY NOT NULL, client1 TEXT NOT NULL, client2 TEXT NOT NULL);"
              "CREATE INDEX idx_pendings_client1 ON pendings(client1);"
              "CREATE INDEX idx_pendings_exp ON pendings(exp);"
              "CREATE INDEX idx_rooms_client1 ON rooms(client1);"
              "CREATE INDEX idx_rooms_client2 ON rooms(client2);"
              "INSERT INTO pendings VALUES('WAIT', 'a', '2030-01-01T00:00:00Z', NULL);"
              "INSERT INTO pendings VALUES('DONE', 'c', '2030-01-01T01:00:00+01:00', 'd');"
              "INSERT INTO rooms VALUES('room-cd', 'c', 'd');");
    char err[256] = "";
    f->st = store_open(path, err, sizeof(err));
    if (!f->st)
        fail_msg("store_open: %s", err);
    assert_int_equal(store_schema_version(f->st), STORE_SCHEMA_VERSION);
    char v[128], roomid[STORE_FIELD_MAX + 1];
    sql_value(path, "SELECT group_concat(exp) FROM (SELECT exp FROM pendings ORDER BY joinid)", v, sizeof(v));
    assert_string_equal(v, "2030-01-01T00:00:00.000Z,2030-01-01T00:00:00.000Z");
    assert_int_equal(store_check(f->st, "WAIT", "a", NOW, roomid), STORE_WAITING);
    assert_int_equal(store_check(f->st, "DONE", "c", NOW, roomid), STORE_OK);
    assert_string_equal(roomid, "room-cd");
    assert_int_equal(store_room_exists(f->st, "room-cd"), 1);
    /* Opening again does not migrate again. */
    store_close(f->st);
    f->st = store_open(path, err, sizeof(err));
    assert_non_null(f->st);
    assert_int_equal(store_schema_version(f->st), STORE_SCHEMA_VERSION);
    /* The adopted room counts from the migration: it has a creation time. */
    sql_value(path, "SELECT count(*) FROM rooms WHERE created LIKE '20__-__-__T__:__:__.___Z'", v, sizeof(v));
    assert_string_equal(v, "1");
}

/* Row limits: pendings per client1, pendings and rooms in all. */
static void test_limits(void **state)
{
    struct fixture *f = *state;
    struct store_limits l = { .pendings_per_client = 2, .pendings = 4, .rooms = 1 };
    store_set_limits(f->st, &l);
    char roomid[STORE_FIELD_MAX + 1];
    assert_int_equal(store_pending_create(f->st, "a1", "dev-a", LATER), STORE_OK);
    assert_int_equal(store_pending_create(f->st, "a2", "dev-a", LATER), STORE_OK);
    assert_int_equal(store_pending_create(f->st, "a3", "dev-a", LATER), STORE_TOO_MANY);
    assert_int_equal(store_pending_create(f->st, "b1", "dev-b", LATER), STORE_OK);
    assert_int_equal(store_pending_create(f->st, "b2", "dev-b", LATER), STORE_OK);
    assert_int_equal(store_pending_create(f->st, "c1", "dev-c", LATER), STORE_FULL);
    assert_int_equal(store_accept(f->st, "a1", "dev-x", NOW, roomid), STORE_OK);
    assert_int_equal(store_accept(f->st, "b1", "dev-y", NOW, roomid), STORE_FULL);
    assert_int_equal(store_check(f->st, "b1", "dev-b", NOW, roomid), STORE_WAITING); /* nothing changed */
}

/* Rooms older than a cut-off go; newer ones stay. */
static void test_purge_old_rooms(void **state)
{
    struct fixture *f = *state;
    char old[STORE_FIELD_MAX + 1], young[STORE_FIELD_MAX + 1];
    assert_int_equal(store_pending_create(f->st, "o", "dev-a", LATER), STORE_OK);
    assert_int_equal(store_accept(f->st, "o", "dev-b", PAST, old), STORE_OK);
    assert_int_equal(store_pending_create(f->st, "y", "dev-c", LATER), STORE_OK);
    assert_int_equal(store_accept(f->st, "y", "dev-d", NOW, young), STORE_OK);
    long n = -1;
    assert_int_equal(store_purge_old_rooms(f->st, "2025-01-01T00:00:00.000Z", &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_room_exists(f->st, old), 0);
    assert_int_equal(store_room_exists(f->st, young), 1);
}

/* A file that is not a database, or from a newer tincan, is refused. */
static void test_refused_files(void **state)
{
    struct fixture *f = *state;
    char path[160], err[256] = "";
    snprintf(path, sizeof(path), "%s/garbage.db", f->dir);
    FILE *fp = fopen(path, "w");
    fputs("this is not an SQLite database, not even close; it is long enough to have a header\n", fp);
    fclose(fp);
    assert_null(store_open(path, err, sizeof(err)));
    assert_non_null(strstr(err, "garbage.db"));
    snprintf(path, sizeof(path), "%s/newer.db", f->dir);
    sql(path, "PRAGMA user_version = 99");
    assert_null(store_open(path, err, sizeof(err)));
    assert_non_null(strstr(err, "newer"));
    snprintf(path, sizeof(path), "%s/no/such/dir/x.db", f->dir);
    assert_null(store_open(path, err, sizeof(err)));
}

/* A storage failure is STORE_ERROR, and the store works again once the
 * cause is gone (here: another program dropped the rooms table). */
static void test_storage_failure(void **state)
{
    struct fixture *f = *state;
    char roomid[STORE_FIELD_MAX + 1];
    assert_int_equal(store_pending_create(f->st, "J", "a", LATER), STORE_OK);
    sql(f->path, "DROP TABLE rooms");
    assert_int_equal(store_accept(f->st, "J", "b", NOW, roomid), STORE_ERROR);
    assert_int_equal(store_room_exists(f->st, "x"), -1);
    /* The failed accept left nothing half done. */
    assert_int_equal(store_check(f->st, "J", "a", NOW, roomid), STORE_WAITING);
}

static void test_memory(void **state)
{
    (void)state;
    char err[128], roomid[STORE_FIELD_MAX + 1];
    struct store *st = store_open(":memory:", err, sizeof(err));
    assert_non_null(st);
    assert_int_equal(store_pending_create(st, "M", "a", LATER), STORE_OK);
    assert_int_equal(store_accept(st, "M", "b", NOW, roomid), STORE_OK);
    assert_int_equal(store_room_exists(st, roomid), 1);
    store_close(st);
    store_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pairing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_seed_db, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_old_rooms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_failure, setup, teardown),
        cmocka_unit_test(test_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
