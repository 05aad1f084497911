/*
 * lobby — people who said hello with a name: unique while online (no two
 * names alike case-insensitively or by look: see uname.h), listed to each
 * other with whether they are busy.
 */
#include <stdlib.h>
#include <string.h>

#include "peer.h"

#define RENAME_RATE 5        /* name changes ... */
#define RENAME_PER_MS 60000  /* ... per minute per connection */

struct peer *lobby_find(struct hub *h, const char *name)
{
    char key[UNAME_KEY_MAX];
    if (uname_fold_key(name, strlen(name), key, sizeof(key)) < 0)
        return NULL;
    struct strmap_entry *e = strmap_get(&h->by_name, key);
    return e ? container_of(e, struct peer, by_name) : NULL;
}

/* Who other than p holds a name that is the same as name
 * (case-insensitively) or looks like it (the same skeleton); NULL if
 * nobody. */
static struct peer *other_holder(struct hub *h, struct peer *p, const char *name)
{
    struct peer *q = lobby_find(h, name);
    if (q && q != p)
        return q;
    char skel[UNAME_KEY_MAX];
    if (uname_skeleton(name, strlen(name), skel, sizeof(skel)) < 0)
        return NULL;
    struct strmap_entry *e = strmap_get(&h->by_skeleton, skel);
    q = e ? container_of(e, struct peer, by_skeleton) : NULL;
    return q != p ? q : NULL;
}

/* Files p under its name in both maps (keys made from p->name). */
static void index_name(struct peer *p)
{
    uname_fold_key(p->name, strlen(p->name), p->name_key, sizeof(p->name_key));
    uname_skeleton(p->name, strlen(p->name), p->skeleton, sizeof(p->skeleton));
    strmap_put(&p->hub->by_name, &p->by_name, p->name_key);
    strmap_put(&p->hub->by_skeleton, &p->by_skeleton, p->skeleton);
}

static void unindex_name(struct peer *p)
{
    strmap_del(&p->hub->by_name, &p->by_name);
    strmap_del(&p->hub->by_skeleton, &p->by_skeleton);
}

/* The list as {name, busy} objects, for a full lobby message. */
static json_t *user_entry(const struct peer *p)
{
    return json_pack("{s:s, s:b}", "name", p->name, "busy", p->call || p->room);
}

/* Sends p the whole list: once on entering (and on asking again). */
static void send_full(struct peer *p)
{
    json_t *users = json_array();
    for (struct peer *q = p->hub->lobby; q; q = q->lobby_next)
        json_array_append_new(users, user_entry(q));
    peer_send_json(p, json_pack("{s:s, s:s, s:o}", "type", "lobby", "you", p->name, "users", users));
}

/* The peer now in the lobby under exactly this name, or NULL. */
static struct peer *holder_of(struct hub *h, const char *name)
{
    struct peer *q = lobby_find(h, name);
    return q && strcmp(q->name, name) == 0 ? q : NULL;
}

/* Sends everyone in the lobby one lobby-update with what changed since the
 * last one: users (came or changed) and left (names gone). The same text
 * goes to all, so a change costs O(lobby) bytes, not O(lobby^2). */
static void flush(struct loop *loop, struct loop_defer *d)
{
    (void)loop;
    struct hub *h = container_of(d, struct hub, lobby_flush);
    json_t *users = json_array(), *left = json_array(), *v;
    const char *name;
    json_object_foreach(h->lobby_left, name, v) {
        if (!holder_of(h, name))
            json_array_append_new(left, json_string(name));
    }
    json_object_foreach(h->lobby_dirty, name, v) {
        struct peer *q = holder_of(h, name);
        if (q)
            json_array_append_new(users, user_entry(q));
    }
    json_object_clear(h->lobby_left);
    json_object_clear(h->lobby_dirty);
    char *text = update_text("lobby-update", "users", users, "left", left);
    if (!text)
        return;
    size_t len = strlen(text);
    for (struct peer *p = h->lobby; p; p = p->lobby_next) {
        if (p->send)
            p->send(p->ctx, text, len);
    }
    free(text);
}

static void mark(struct hub *h, json_t *set, const char *name)
{
    json_object_set_new(set, name, json_true());
    loop_defer(h->loop, &h->lobby_flush, flush);
}

void lobby_changed(struct peer *p)
{
    if (p->name[0])
        mark(p->hub, p->hub->lobby_dirty, p->name);
}

void lobby_cleanup(struct hub *h)
{
    json_decref(h->lobby_dirty);
    json_decref(h->lobby_left);
    h->lobby_dirty = h->lobby_left = NULL;
}

void lobby_leave(struct peer *p)
{
    struct hub *h = p->hub;
    if (!p->name[0])
        return;
    unindex_name(p);
    if (p->lobby_prev)
        p->lobby_prev->lobby_next = p->lobby_next;
    else
        h->lobby = p->lobby_next;
    if (p->lobby_next)
        p->lobby_next->lobby_prev = p->lobby_prev;
    p->lobby_prev = p->lobby_next = NULL;
    h->lobby_count--;
    mark(h, h->lobby_left, p->name);
    p->name[0] = '\0';
}

/* Whether p may take a (new) name now: the lobby has room, and renames
 * are not too frequent. Sends the error otherwise. */
static int may_take_name(struct peer *p)
{
    struct hub *h = p->hub;
    if (!p->name[0] && h->opt.max_lobby > 0 && h->lobby_count >= h->opt.max_lobby) {
        h->limited[HUB_LIMIT_LOBBY_FULL]++;
        peer_error(p, "lobby_full", "the lobby is full; try again later");
        return 0;
    }
    if (p->name[0]) {
        uint64_t wait = ratelimit_take(&p->rename_rl, loop_now(h->loop), RENAME_RATE, RENAME_PER_MS);
        if (wait) {
            h->limited[HUB_LIMIT_RENAME]++;
            peer_error_retry(p, "rate_limited", "too many name changes", wait);
            return 0;
        }
    }
    return 1;
}

void lobby_on_hello(struct peer *p, json_t *msg)
{
    struct hub *h = p->hub;
    json_t *jname = json_object_get(msg, "name");
    if (json_is_string(jname) && strlen(json_string_value(jname)) != json_string_length(jname)) {
        peer_error(p, "name_invalid", "a name cannot contain NUL");
        return;
    }
    const char *name = msg_string(p, msg, "name");
    if (!name)
        return;
    enum uname_result valid = uname_check(name, strlen(name));
    if (valid != UNAME_OK) {
        peer_error(p, "name_invalid", uname_strerror(valid));
        return;
    }
    if (other_holder(h, p, name)) {
        peer_error(p, "name_taken", "that name (or one that looks like it) is online already");
        return;
    }
    if (p->name[0] && strcmp(p->name, name) == 0) {
        send_full(p);
        return;
    }
    if (!may_take_name(p))
        return;
    if (p->name[0]) {
        /* A new name: the others see the old one leave and the new come. */
        unindex_name(p);
        mark(h, h->lobby_left, p->name);
    } else {
        p->lobby_next = h->lobby;
        if (h->lobby)
            h->lobby->lobby_prev = p;
        h->lobby = p;
        h->lobby_count++;
    }
    strcpy(p->name, name);
    index_name(p);
    lobby_changed(p);
    send_full(p);
}

void lobby_on_leave(struct peer *p, json_t *msg)
{
    (void)msg;
    if (!p->name[0]) {
        peer_error(p, "not_in_lobby", "you are not in the lobby");
        return;
    }
    if (p->call)
        call_end(p->call, p, p->call->active ? "hangup" : p->call->callee == p ? "rejected" : "cancelled");
    lobby_leave(p);
}

int lobby_name_valid(const char *name)
{
    return uname_check(name, strlen(name)) == UNAME_OK;
}
