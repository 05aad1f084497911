/*
 * store — tincan's SQLite database: the join codes and rooms of the seed-003
 * REST API (pendings, rooms).
 *
 * One database file (or ":memory:"), opened in WAL mode, its schema brought
 * up to date by numbered migrations recorded in PRAGMA user_version. Every
 * operation is one statement or one transaction, with its prepared
 * statements kept for the life of the store. A database made by the seed's
 * Node backend (same tables, user_version 0) is adopted as it is.
 *
 * Strings passed in are NUL-terminated and at most STORE_FIELD_MAX bytes
 * (the REST layer checks). Timestamps are isotime normal form
 * ("YYYY-MM-DDTHH:MM:SS.sssZ"), so text comparison is time comparison; a
 * pending is expired when exp <= now. Single-threaded: one store per loop.
 */
#ifndef TINCAN_STORE_H
#define TINCAN_STORE_H

#include <stddef.h>

#define STORE_FIELD_MAX 256     /* bytes of a joinid, client id or roomid */
#define STORE_ROOMID_LEN 36     /* a UUID v4 in text */
#define STORE_SCHEMA_VERSION 4

enum store_status {
    STORE_OK = 0,
    STORE_NOT_FOUND,     /* no such row, expired, or not yours */
    STORE_CONFLICT,      /* the joinid exists / was already accepted */
    STORE_WAITING,       /* check: not accepted yet */
    STORE_TOO_MANY,      /* this client1 has pendings_per_client already */
    STORE_FULL,          /* the table holds its limit of rows */
    STORE_ERROR,         /* SQLite failed; logged */
};

struct store;

/* Row limits; 0 means none. */
struct store_limits {
    long pendings_per_client; /* pendings naming one client1 */
    long pendings;            /* pendings in all */
    long rooms;               /* rooms in all */
};

struct store_room {
    char roomid[STORE_FIELD_MAX + 1];
    char client1[STORE_FIELD_MAX + 1];
    char client2[STORE_FIELD_MAX + 1];
};

/* Opens (creating with mode 0600 if needed) the database at path, or an
 * in-memory one for ":memory:", and migrates it to STORE_SCHEMA_VERSION.
 * Returns the store, or NULL with a message in err. */
struct store *store_open(const char *path, char *err, size_t errlen);
/* Finalizes the statements and closes the database; NULL is fine. */
void store_close(struct store *st);
/* The SQLite handle, for modules that keep their own tables in the same
 * database (src/store/users.c); owned by the store. */
struct sqlite3 *store_db(struct store *st);
/* The schema version of the open database (PRAGMA user_version), or -1. */
int store_schema_version(struct store *st);

/* Sets the row limits (a new store has none). */
void store_set_limits(struct store *st, const struct store_limits *l);
/* Inserts a pending join code. STORE_OK, STORE_CONFLICT if joinid exists,
 * STORE_TOO_MANY (client1 holds its limit of pendings), STORE_FULL (the
 * pendings limit), STORE_ERROR. exp is in normal form. */
enum store_status store_pending_create(struct store *st, const char *joinid, const char *client1,
                                       const char *exp);
/* Accepts joinid for client2 in one transaction: a pending that exists, has
 * exp > now and no client2 yet gets client2 and a new room (roomid written
 * to roomid_out, STORE_ROOMID_LEN + 1 bytes), made at now. STORE_NOT_FOUND
 * if missing or expired, STORE_CONFLICT if already accepted, STORE_FULL (the
 * rooms limit), STORE_ERROR. */
enum store_status store_accept(struct store *st, const char *joinid, const char *client2, const char *now,
                               char *roomid_out);
/* Client1 polls joinid. Accepted: the roomid goes to roomid_out
 * (STORE_FIELD_MAX + 1 bytes), the pending row is deleted, STORE_OK. Not
 * accepted yet: STORE_WAITING. Missing, expired, or client1 differs:
 * STORE_NOT_FOUND. */
enum store_status store_check(struct store *st, const char *joinid, const char *client1, const char *now,
                              char *roomid_out);
/* Fills out with the room roomid: STORE_OK, STORE_NOT_FOUND, STORE_ERROR. */
enum store_status store_room_get(struct store *st, const char *roomid, struct store_room *out);
/* True (1) if the room exists, 0 if not, -1 on error: for the signaling
 * layer, which may check a roomid before letting a client join it. */
int store_room_exists(struct store *st, const char *roomid);
/* Deletes a room; deleting a missing room is STORE_OK too. */
enum store_status store_room_delete(struct store *st, const char *roomid);
/* Deletes every room and pending that names device_id as client1 or
 * client2 (one transaction); the counts go to *rooms and *pendings. */
enum store_status store_purge_device(struct store *st, const char *device_id, long *rooms, long *pendings);
/* Deletes pendings with exp <= now; the count goes to *deleted. */
enum store_status store_purge_expired(struct store *st, const char *now, long *deleted);
/* Deletes rooms made at or before `before`; the count goes to *deleted. */
enum store_status store_purge_old_rooms(struct store *st, const char *before, long *deleted);

#endif
