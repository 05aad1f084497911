/*
 * accounts_rooms — the routes under /api/team-rooms (see accounts_api.h and
 * the table in docs/rooms.md): list, create, rename or set the password,
 * delete (the owner or an admin), and enter (check the room password
 * before a join over the WebSocket). Setting and checking a room password
 * waits for argon2id (accounts_wait.c); what may have changed meanwhile is
 * read again before the answer.
 */
#include <string.h>

#include "accounts_int.h"

struct list_ctx {
    json_t *arr;
    const struct users_user *viewer;
};

static void add_room(const struct users_room *r, void *arg)
{
    struct list_ctx *l = arg;
    json_array_append_new(l->arr, accounts_room_json(r, l->viewer));
}

void accounts_route_rooms_list(struct accounts_ctx *c)
{
    struct list_ctx l = { json_array(), &c->user };
    if (users_room_list(c->a->st, ACCOUNTS_LIST_MAX, add_room, &l) != STORE_OK) {
        json_decref(l.arr);
        accounts_error(c->out, 500, "internal");
        return;
    }
    accounts_answer(c->out, 200, json_pack("{s:o}", "rooms", l.arr));
}

static void room_create_hashed(struct accounts_ctx *c, const struct accounts_wait *w);

void accounts_route_room_create(struct accounts_ctx *c)
{
    const char *pw = c->body.password;
    if (!accounts_valid_room_name(c->body.name) || strlen(pw) > ACCOUNTS_PASSWORD_MAX) {
        accounts_error(c->out, 400, accounts_valid_room_name(c->body.name) ? "invalid_password" : "invalid_name");
        return;
    }
    if (*pw) {
        accounts_wait_for(c, W_HASH, NULL, room_create_hashed);
        return;
    }
    room_create_hashed(c, &accounts_no_wait);
}

/* Creates the room (with w's hash when it has a password). */
static void room_create_hashed(struct accounts_ctx *c, const struct accounts_wait *w)
{
    struct users_room r;
    if (w->result < 0 ||
        users_room_create(c->a->st, c->body.name, c->user.id, w->encoded, c->req->now_ms, &r) != STORE_OK) {
        accounts_error(c->out, 500, "internal");
        return;
    }
    accounts_answer(c->out, 201, json_pack("{s:o}", "room", accounts_room_json(&r, &c->user)));
}

/* Reads the path's room into r; answers 404 or 500 and returns 0 if it
 * cannot. */
static int get_room(struct accounts_ctx *c, struct users_room *r)
{
    enum store_status res = users_room_get(c->a->st, c->id, r);
    if (res != STORE_OK)
        accounts_store_error(c->out, res);
    return res == STORE_OK;
}

/* Reads the room of the path into r and checks that the user may manage
 * it; answers 404 or 403 and returns 0 otherwise. */
static int managed_room(struct accounts_ctx *c, struct users_room *r)
{
    if (!get_room(c, r))
        return 0;
    if (!c->user.admin && r->owner_id != c->user.id) {
        c->a->stats.forbidden++;
        accounts_error(c->out, 403, "forbidden");
        return 0;
    }
    return 1;
}

static void rename_hashed(struct accounts_ctx *c, const struct accounts_wait *w);

/* PATCH: a new name, a new password ("" removes it), or both. */
void accounts_route_room_rename(struct accounts_ctx *c)
{
    struct users_room r;
    if (!managed_room(c, &r))
        return;
    if ((c->body.has_name || !c->body.has_password) && !accounts_valid_room_name(c->body.name)) {
        accounts_error(c->out, 400, "invalid_name");
        return;
    }
    if (c->body.has_password && strlen(c->body.password) > ACCOUNTS_PASSWORD_MAX) {
        accounts_error(c->out, 400, "invalid_password");
        return;
    }
    if (c->body.has_password && c->body.password[0])
        accounts_wait_for(c, W_HASH, NULL, rename_hashed);
    else
        rename_hashed(c, &accounts_no_wait);
}

/* Applies the PATCH (the new password's hash in w). After a wait the room
 * is checked again: it may be gone or have changed hands meanwhile. */
static void rename_hashed(struct accounts_ctx *c, const struct accounts_wait *w)
{
    struct users_room r;
    if (c->waits && !managed_room(c, &r))
        return;
    if (w->result < 0 ||
        (c->body.has_password && users_room_set_password(c->a->st, c->id, w->encoded) != STORE_OK) ||
        (accounts_valid_room_name(c->body.name) && users_room_rename(c->a->st, c->id, c->body.name) != STORE_OK) ||
        users_room_get(c->a->st, c->id, &r) != STORE_OK) {
        accounts_error(c->out, 500, "internal");
        return;
    }
    accounts_answer(c->out, 200, json_pack("{s:o}", "room", accounts_room_json(&r, &c->user)));
}

void accounts_route_room_delete(struct accounts_ctx *c)
{
    struct users_room r;
    if (!managed_room(c, &r))
        return;
    enum store_status res = users_room_delete(c->a->st, c->id);
    if (res == STORE_OK)
        accounts_answer(c->out, 204, NULL);
    else
        accounts_store_error(c->out, res);
}

static void enter_checked(struct accounts_ctx *c, const struct accounts_wait *w);

/* Checks the room password before a client joins the room. */
void accounts_route_room_enter(struct accounts_ctx *c)
{
    struct users_room r;
    if (!get_room(c, &r))
        return;
    if (r.pwhash[0])
        accounts_wait_for(c, W_VERIFY, r.pwhash, enter_checked);
    else
        accounts_answer(c->out, 200, json_pack("{s:o}", "room", accounts_room_json(&r, &c->user)));
}

/* The room password is verified; it must still be the room's password. */
static void enter_checked(struct accounts_ctx *c, const struct accounts_wait *w)
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
        accounts_team_room_passed(c->a, c->id, r.pwhash, c->body.password, c->req->now_ms);
    accounts_answer(c->out, 200, json_pack("{s:o}", "room", accounts_room_json(&r, &c->user)));
}
