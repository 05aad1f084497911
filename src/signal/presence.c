/*
 * presence — live presence of signed-in people (--accounts): who is
 * online, who is in which team room, who is muted, speaking or sharing a
 * screen; and team rooms as signaling rooms. Pushed over the signaling
 * WebSocket, no polling. Wire format: docs/protocol.md, "Presence".
 *
 * A connection whose /ws upgrade carried a live session cookie is signed
 * in (hub_sign_in, called by the glue). It gets the whole list once
 * ({"type":"presence"}), then only what changed, coalesced into one
 * {"type":"presence-update"} per turn of the loop, the same text for every
 * subscriber (as the lobby does). At most presence_per_account connections
 * of one account and max_presence in all hear presence; a signed-in
 * connection past a cap is still listed and may still join team rooms.
 * When a place frees up (a connection that heard presence leaves), the
 * connection that has waited longest and now fits gets it: it is sent the
 * whole list, as on signing in, before the turn's update.
 * The hub does no I/O and knows no database: the glue answers whether a
 * session is still live and whether a team room exists (struct
 * hub_accounts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/alloc.h"
#include "peer.h"

void hub_set_accounts(struct hub *h, const struct hub_accounts *acc)
{
    if (acc)
        h->acc = *acc;
    else
        memset(&h->acc, 0, sizeof(h->acc));
}

const char *presence_team_id(const struct peer *p)
{
    if (!p->room || !p->room->team)
        return NULL;
    return p->room->key + strlen(TEAM_PREFIX);
}

static json_t *entry(const struct peer *p)
{
    const char *team = presence_team_id(p);
    return json_pack("{s:s, s:s, s:o, s:b, s:b, s:b, s:b}", "id", p->id, "user", p->user, "room",
                     team ? json_string(team) : json_null(), "muted", p->has_state ? p->muted : 1, "camera",
                     p->has_state && !p->camera_off, "speaking", p->speaking, "sharing", p->screen[0] != '\0');
}

static json_t *full_list(struct hub *h)
{
    json_t *arr = json_array();
    for (struct peer *q = h->signed_in; q; q = q->pres_next)
        json_array_append_new(arr, entry(q));
    return arr;
}

void presence_send_full(struct peer *p)
{
    if (!p->user_id)
        return;
    json_t *msg = json_pack("{s:s, s:{s:I, s:s}}", "type", "presence", "you", "id", (json_int_t)p->user_id, "name",
                            p->user);
    if (p->subscribed) {
        json_object_set_new(msg, "online", full_list(p->hub));
    } else {
        int full = p->hub->subscribers >= p->hub->opt.max_presence;
        json_object_set_new(msg, "limited", json_string(full ? "server" : "account"));
    }
    peer_send_json(p, msg);
}

static struct peer *find_id(struct hub *h, const char *id)
{
    struct strmap_entry *e = strmap_get(&h->by_id, id);
    return e ? container_of(e, struct peer, by_id) : NULL;
}

static int account_subscribers(struct hub *h, int64_t user_id);

/* Hands free places to waiting connections, longest waiting (oldest on
 * the list, which grows at its head) first. */
static void promote(struct hub *h)
{
    if (h->listed == h->subscribers || h->subscribers >= h->opt.max_presence)
        return;
    struct peer *q = h->signed_in;
    while (q && q->pres_next)
        q = q->pres_next;
    for (; q && h->subscribers < h->opt.max_presence; q = q->pres_prev) {
        /* One waiting for a resume gets its place once it is back. */
        if (q->subscribed || !q->send || account_subscribers(h, q->user_id) >= h->opt.presence_per_account)
            continue;
        q->subscribed = 1;
        h->subscribers++;
        presence_send_full(q);
    }
}

static void flush(struct loop *loop, struct loop_defer *d)
{
    (void)loop;
    struct hub *h = container_of(d, struct hub, pres_flush);
    promote(h);
    json_t *set = json_array(), *gone = json_array(), *v;
    const char *id;
    json_object_foreach(h->pres_gone, id, v) {
        struct peer *q = find_id(h, id);
        if (!q || !q->user_id)
            json_array_append_new(gone, json_string(id));
    }
    json_object_foreach(h->pres_set, id, v) {
        struct peer *q = find_id(h, id);
        if (q && q->user_id)
            json_array_append_new(set, entry(q));
    }
    json_object_clear(h->pres_set);
    json_object_clear(h->pres_gone);
    char *text = update_text("presence-update", "set", set, "gone", gone);
    if (!text)
        return;
    size_t len = strlen(text);
    for (struct peer *q = h->signed_in; q; q = q->pres_next) {
        if (q->subscribed && q->send)
            q->send(q->ctx, text, len);
    }
    free(text);
}

static void mark(struct peer *p, json_t *set)
{
    struct hub *h = p->hub;
    if (!h->pres_set)
        return; /* the hub is going away */
    json_object_set_new(set, p->id, json_true());
    loop_defer(h->loop, &h->pres_flush, flush);
}

void presence_changed(struct peer *p)
{
    if (p->user_id)
        mark(p, p->hub->pres_set);
}

static int account_subscribers(struct hub *h, int64_t user_id)
{
    int n = 0;
    for (struct peer *q = h->signed_in; q; q = q->pres_next)
        n += q->subscribed && q->user_id == user_id;
    return n;
}

/* Takes p off the list (no message). */
static void unlist(struct peer *p)
{
    struct hub *h = p->hub;
    if (!p->user_id)
        return;
    if (p->pres_prev)
        p->pres_prev->pres_next = p->pres_next;
    else
        h->signed_in = p->pres_next;
    if (p->pres_next)
        p->pres_next->pres_prev = p->pres_prev;
    p->pres_prev = p->pres_next = NULL;
    h->subscribers -= p->subscribed;
    h->listed--;
    p->subscribed = 0;
    p->user_id = 0;
    p->user[0] = p->session[0] = '\0';
}

static void list(struct peer *p, int64_t user_id, const char *name, const char *session_hash)
{
    struct hub *h = p->hub;
    p->user_id = user_id;
    snprintf(p->user, sizeof(p->user), "%s", name);
    snprintf(p->session, sizeof(p->session), "%s", session_hash);
    p->subscribed = h->subscribers < h->opt.max_presence &&
                    account_subscribers(h, user_id) < h->opt.presence_per_account;
    h->subscribers += p->subscribed;
    h->listed++;
    p->pres_prev = NULL;
    p->pres_next = h->signed_in;
    if (h->signed_in)
        h->signed_in->pres_prev = p;
    h->signed_in = p;
}

void presence_gone(struct peer *p)
{
    if (!p->user_id)
        return;
    unlist(p);
    mark(p, p->hub->pres_gone);
}

void hub_sign_in(struct peer *p, int64_t user_id, const char *name, const char *session_hash)
{
    if (p->user_id && strcmp(p->session, session_hash) == 0) {
        presence_send_full(p);
        return;
    }
    if (p->user_id)
        presence_gone(p);
    list(p, user_id, name, session_hash);
    /* Its own entry is in the list it gets; the others hear it next turn. */
    json_object_del(p->hub->pres_gone, p->id);
    presence_changed(p);
    presence_send_full(p);
}

void presence_transfer(struct peer *from, struct peer *to)
{
    if (!from->user_id)
        return;
    int64_t uid = from->user_id;
    char name[ACCOUNT_NAME_MAX + 1], session[SESSION_HASH_LEN + 1];
    memcpy(name, from->user, sizeof(name));
    memcpy(session, from->session, sizeof(session));
    presence_gone(from);
    if (!to->user_id) {
        list(to, uid, name, session);
        presence_changed(to);
    }
}

/* The session of p ended: it hears why, leaves its team room and the list. */
static void sign_out(struct peer *p, const char *reason)
{
    peer_send_json(p, json_pack("{s:s, s:s}", "type", "signed-out", "reason", reason));
    if (presence_team_id(p))
        room_leave(p, LEAVE_ASKED);
    presence_gone(p);
}

void hub_presence_recheck(struct hub *h)
{
    if (!h->acc.session_live)
        return;
    struct peer *next;
    for (struct peer *p = h->signed_in; p; p = next) {
        next = p->pres_next;
        if (!h->acc.session_live(h->acc.ctx, p->session))
            sign_out(p, "session_ended");
    }
}

void hub_rooms_changed(struct hub *h)
{
    const char text[] = "{\"type\":\"rooms-changed\"}";
    for (struct peer *p = h->signed_in; p; p = p->pres_next) {
        if (p->send)
            p->send(p->ctx, text, sizeof(text) - 1);
    }
}

static void team_refused(struct peer *p, enum hub_team_check rc)
{
    peer_error(p, rc == HUB_TEAM_WRONG_PASSWORD ? "wrong_room_password" : rc == HUB_TEAM_NOT_FOUND ? "not_found" : "internal",
               rc == HUB_TEAM_WRONG_PASSWORD ? "wrong room password" : rc == HUB_TEAM_NOT_FOUND ? "no such team room" : "try again");
}

void hub_team_checked(struct hub *h, const char *peer_id, json_t *join, enum hub_team_check rc)
{
    struct peer *p = find_id(h, peer_id);
    if (!p || !p->send)
        return; /* gone, leaving or away: its join goes with it */
    if (rc == HUB_TEAM_OK)
        room_on_join(p, join);
    else
        team_refused(p, rc);
}

int presence_team_key(struct peer *p, json_t *msg, const char *id, char key[ROOM_NAME_MAX + 1])
{
    struct hub *h = p->hub;
    if (!h->acc.team_room || !p->user_id) {
        peer_error(p, "unauthenticated", "sign in to join a team room");
        return -1;
    }
    json_t *jpw = json_object_get(msg, "password");
    const char *pw = json_string_value(jpw);
    if ((jpw && !pw) || (pw && strlen(pw) != json_string_length(jpw)) || strlen(id) > TEAM_ID_MAX) {
        peer_error(p, jpw && !pw ? "missing_field" : "not_found", jpw && !pw ? "password is a string" : "no such team room");
        return -1;
    }
    enum hub_team_check rc = h->acc.team_room(h->acc.ctx, id, pw ? pw : "", p->id, msg);
    if (rc == HUB_TEAM_PENDING)
        return -1; /* hub_team_checked() goes on */
    if (rc != HUB_TEAM_OK) {
        team_refused(p, rc);
        return -1;
    }
    snprintf(key, ROOM_NAME_MAX + 1, "%s%s", TEAM_PREFIX, id);
    return 0;
}

void presence_cleanup(struct hub *h)
{
    loop_defer_cancel(h->loop, &h->pres_flush);
    json_decref(h->pres_set);
    json_decref(h->pres_gone);
    h->pres_set = h->pres_gone = NULL;
}
