/*
 * room — rooms of peers: entering, leaving and relaying, shared by both
 * dialects (each tells its peers in its own words, see struct dialect);
 * the tincan protocol's join/leave/relay/chat messages; PIN, call and
 * join-code rooms are built on the same machinery.
 */
#include <stdio.h>
#include <string.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "../base/utf8.h"
#include "jsonscan.h"
#include "peer.h"

#define CHAT_RATE 20
#define CHAT_PER_MS 2000

static struct strmap *room_map(struct hub *h, enum room_kind kind)
{
    switch (kind) {
    case ROOM_PUBLIC:
        return &h->rooms;
    case ROOM_PIN:
        return &h->pins;
    case ROOM_CODE:
        return &h->code_rooms;
    case ROOM_CALL:
        break;
    }
    return NULL; /* call rooms belong to their call */
}

struct room *room_new(struct hub *h, enum room_kind kind, const char *key, int max)
{
    struct room *r = xcalloc(1, sizeof(*r));
    r->kind = kind;
    r->max = max;
    r->members = xcalloc((size_t)max, sizeof(*r->members));
    snprintf(r->key, sizeof(r->key), "%s", key);
    struct strmap *map = room_map(h, kind);
    if (map)
        strmap_put(map, &r->entry, r->key);
    return r;
}

void room_free(struct hub *h, struct room *r)
{
    struct strmap *map = room_map(h, r->kind);
    if (map)
        strmap_del(map, &r->entry);
    xfree(r->members);
    xfree(r);
}

struct room *room_find(struct hub *h, enum room_kind kind, const char *key)
{
    struct strmap *map = room_map(h, kind);
    struct strmap_entry *e = map ? strmap_get(map, key) : NULL;
    return e ? container_of(e, struct room, entry) : NULL;
}

void room_broadcast(struct room *r, struct peer *except, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text)
        return;
    size_t len = strlen(text);
    for (int i = 0; i < r->count; i++) {
        struct peer *m = r->members[i];
        if (m != except && m->send)
            m->send(m->ctx, text, len);
    }
    free(text);
}

static struct peer *room_member(const struct room *r, const char *id)
{
    for (int i = 0; i < r->count; i++) {
        if (strcmp(r->members[i]->id, id) == 0)
            return r->members[i];
    }
    return NULL;
}

/* A peer is in a room only after its first message chose a dialect; the
 * fallback keeps a stray call safe. */
static const struct dialect *dialect_of(const struct peer *p)
{
    return p->dialect ? p->dialect : &dialect_tincan;
}

void room_leave(struct peer *p, enum leave_reason why)
{
    struct room *r = p->room;
    if (!r)
        return;
    for (int i = 0; i < r->count; i++) {
        if (r->members[i] == p) {
            memmove(&r->members[i], &r->members[i + 1], (size_t)(r->count - i - 1) * sizeof(*r->members));
            r->count--;
            break;
        }
    }
    p->room = NULL;
    if (r->sfu && p->hub->sfu.leave)
        p->hub->sfu.leave(p->hub->sfu.ctx, p);
    dialect_of(p)->left(p, r, why);
    lobby_changed(p); /* no longer busy */
    if (r->team)
        presence_changed(p);
    if (r->count == 0) {
        room_free(p->hub, r);
        return;
    }
    for (int i = 0; i < r->count; i++)
        dialect_of(r->members[i])->peer_left(r->members[i], p, why);
}

int room_enter(struct room *r, struct peer *p)
{
    if (r->count >= r->max) {
        dialect_of(p)->full(p, r);
        return -1;
    }
    room_leave(p, LEAVE_ASKED);
    /* p->room is set first: what the others hear about p (its name in a
     * team room) depends on the room it enters. */
    p->room = r;
    for (int i = 0; i < r->count; i++)
        dialect_of(r->members[i])->peer_entered(r->members[i], p);
    r->members[r->count++] = p;
    dialect_of(p)->entered(p);
    if (r->sfu && p->hub->sfu.enter)
        p->hub->sfu.enter(p->hub->sfu.ctx, p, p->ctx, r->key);
    lobby_changed(p); /* now busy */
    if (r->team)
        presence_changed(p);
    return 0;
}

/* --- the tincan dialect's room events --- */

void room_tell_entered(struct peer *p)
{
    json_t *peers = json_array();
    for (int i = 0; i < p->room->count; i++) {
        if (p->room->members[i] != p)
            json_array_append_new(peers, json_string(p->room->members[i]->id));
    }
    json_t *msg = json_pack("{s:s, s:s, s:o}", "type", "joined", "peerId", p->id, "peers", peers);
    if (p->room->sfu)
        json_object_set_new(msg, "sfu", json_true());
    peer_send_json(p, msg);
    state_tell_room(p);
}

void room_tell_peer_entered(struct peer *to, struct peer *p)
{
    peer_send_json(to, json_pack("{s:s, s:s}", "type", "peer-joined", "peerId", p->id));
    state_tell(to, p);
}

void room_tell_left(struct peer *p, const struct room *r, enum leave_reason why)
{
    (void)p, (void)r, (void)why; /* leaving needs no answer in this protocol */
}

void room_tell_peer_left(struct peer *to, struct peer *p, enum leave_reason why)
{
    json_t *msg = json_pack("{s:s, s:s}", "type", "peer-left", "peerId", p->id);
    /* Clients that speak "state" also learn whether it was a goodbye or a
     * connection that never came back (its media may still flow). */
    if (to->has_state)
        json_object_set_new(msg, "reason", json_string(why == LEAVE_GONE ? "lost" : "left"));
    peer_send_json(to, msg);
}

void room_tell_full(struct peer *p, const struct room *r)
{
    (void)r;
    peer_error(p, "room_full", "the room is full");
}

static int room_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > ROOM_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

/* Whether rooms may use the SFU at all on this server. */
static int sfu_allowed(const struct hub *h)
{
    return h->sfu.enter && h->opt.room_mode != HUB_ROOMS_MESH;
}

/* Moves a mesh room to the SFU with everyone in it: each member hears
 * room-mode and gets its SFU transports; the room's cap becomes
 * --max-sfu-room. It never moves back (the room goes when it empties). */
static void room_to_sfu(struct hub *h, struct room *r)
{
    int max = h->opt.max_sfu_room > r->count ? h->opt.max_sfu_room : r->count;
    r->members = xrealloc(r->members, (size_t)max * sizeof(*r->members));
    r->max = max;
    r->sfu = 1;
    log_info("room_mode", "members=%d mode=sfu", r->count);
    room_broadcast(r, NULL, json_pack("{s:s, s:s}", "type", "room-mode", "mode", "sfu"));
    for (int i = 0; i < r->count; i++)
        h->sfu.enter(h->sfu.ctx, r->members[i], r->members[i]->ctx, r->key);
}

/* The room named name for p, created if need be with the mode the server
 * and the join ask for. */
static struct room *room_for_join(struct peer *p, const char *name, int want_sfu)
{
    struct hub *h = p->hub;
    struct room *r = room_find(h, ROOM_PUBLIC, name);
    if (r && r == p->room) {
        room_leave(p, LEAVE_ASKED);
        r = room_find(h, ROOM_PUBLIC, name);
    }
    if (!r) {
        int sfu = sfu_allowed(h) && (want_sfu || h->opt.room_mode == HUB_ROOMS_SFU);
        r = room_new(h, ROOM_PUBLIC, name, sfu ? h->opt.max_sfu_room : h->opt.max_room);
        r->sfu = sfu;
        return r;
    }
    if (!r->sfu && r->count > 0 && sfu_allowed(h) && (want_sfu || r->count >= h->opt.mesh_max))
        room_to_sfu(h, r);
    return r;
}

void room_on_join(struct peer *p, json_t *msg)
{
    const char *name = msg_string(p, msg, "room");
    if (!name)
        return;
    if (!room_name_valid(name)) {
        peer_error(p, "bad_room", "a room name is 1-64 letters, digits, '_' or '-'");
        return;
    }
    if (p->call) {
        peer_error(p, "busy", "hang up the call first");
        return;
    }
    int want_sfu = json_is_true(json_object_get(msg, "sfu"));
    if (want_sfu && !sfu_allowed(p->hub)) {
        peer_error(p, "sfu_unavailable", "this server keeps rooms mesh (no SFU)");
        return;
    }
    /* A team room (docs/rooms.md) lives under its own key, so no public
     * room can be it. */
    int team = json_is_true(json_object_get(msg, "team"));
    char key[ROOM_NAME_MAX + 1];
    if (team && presence_team_key(p, msg, name, key) < 0)
        return;
    if (team)
        name = key;
    int created = !room_find(p->hub, ROOM_PUBLIC, name);
    struct room *r = room_for_join(p, name, want_sfu);
    if (created)
        r->team = team;
    if (room_enter(r, p) < 0 && created)
        room_free(p->hub, r);
}

void room_on_sfu(struct peer *p, json_t *msg)
{
    const char *sdp = msg_string(p, msg, "sdp");
    if (!sdp)
        return;
    if (!p->room || !p->room->sfu || !p->hub->sfu.message) {
        peer_error(p, "not_in_room", "join an SFU room first");
        return;
    }
    p->hub->sfu.message(p->hub->sfu.ctx, p, p->ctx, json_string_value(json_object_get(msg, "type")), sdp);
}

void room_on_sfu_reset(struct peer *p, json_t *msg)
{
    (void)msg;
    if (!p->room || !p->room->sfu || !p->hub->sfu.enter) {
        peer_error(p, "not_in_room", "join an SFU room first");
        return;
    }
    /* A fresh start of the media side only: the room hears nothing. The
     * echo tells p that what follows is for its new transports. */
    p->hub->sfu.leave(p->hub->sfu.ctx, p);
    peer_send_json(p, json_pack("{s:s}", "type", "sfu-reset"));
    p->hub->sfu.enter(p->hub->sfu.ctx, p, p->ctx, p->room->key);
}

#define VIEW_TILES_MAX 64    /* tiles in one sfu-view */
#define VIEW_SIDE_MAX 16384  /* pixels */

/* Tile i of an sfu-view: its peer and size, or NULL after a bad_view error. */
static const char *view_tile(struct peer *p, json_t *tile, size_t i, int *w, int *h)
{
    json_t *jw = json_object_get(tile, "width"), *jh = json_object_get(tile, "height");
    const char *id = json_string_value(json_object_get(tile, "peer"));
    char text[128];
    if (!json_is_object(tile) || !id || !json_is_integer(jw) || !json_is_integer(jh)) {
        snprintf(text, sizeof(text), "tile %zu needs a string \"peer\" and integer \"width\" and \"height\"", i);
    } else if (json_integer_value(jw) < 0 || json_integer_value(jw) > VIEW_SIDE_MAX ||
               json_integer_value(jh) < 0 || json_integer_value(jh) > VIEW_SIDE_MAX) {
        snprintf(text, sizeof(text), "tile %zu: width and height must be 0-%d", i, VIEW_SIDE_MAX);
    } else {
        *w = (int)json_integer_value(jw);
        *h = (int)json_integer_value(jh);
        return id;
    }
    peer_error_field(p, "bad_view", text, "tiles");
    return NULL;
}

void room_on_sfu_view(struct peer *p, json_t *msg)
{
    json_t *tiles = json_object_get(msg, "tiles");
    if (!json_is_array(tiles)) {
        peer_error_field(p, "missing_field", "the message needs an array \"tiles\"", "tiles");
        return;
    }
    if (json_array_size(tiles) > VIEW_TILES_MAX) {
        peer_error_field(p, "bad_view", "at most 64 tiles", "tiles");
        return;
    }
    if (!p->room || !p->room->sfu) {
        peer_error(p, "not_in_room", "join an SFU room first");
        return;
    }
    int w[VIEW_TILES_MAX], h[VIEW_TILES_MAX];
    const char *ids[VIEW_TILES_MAX];
    for (size_t i = 0; i < json_array_size(tiles); i++)
        if (!(ids[i] = view_tile(p, json_array_get(tiles, i), i, &w[i], &h[i])))
            return; /* nothing applied: the message is all or nothing */
    for (size_t i = 0; i < json_array_size(tiles) && p->hub->sfu.view; i++)
        p->hub->sfu.view(p->hub->sfu.ctx, p, ids[i], w[i], h[i]);
}

void room_on_leave(struct peer *p, json_t *msg)
{
    (void)msg;
    if (p->call) {
        call_end(p->call, p, "hangup");
        return;
    }
    if (!p->room) {
        peer_error(p, "not_in_room", "you are not in a room");
        return;
    }
    room_leave(p, LEAVE_ASKED);
}

/* Cuts [start, end) out of buf[0..*len). */
static void cut(char *buf, size_t *len, size_t start, size_t end)
{
    memmove(buf + start, buf + end, *len - end);
    *len -= end - start;
}

/* Relays the message text as the sender wrote it, minus `target` (if
 * drop_target) and any `from`, plus our `from` — no second parse, no
 * re-serialising. Returns -1 when the text needs the careful path (escaped
 * keys). */
static int relay_as_sent(struct peer *p, struct peer *to, int drop_target)
{
    const char *text = p->hub->msg_text;
    size_t len = p->hub->msg_len, start, end;
    if (!text || !to->send)
        return text ? 0 : -1;
    char *out = xmalloc(len + PEER_ID_LEN + 16);
    memcpy(out, text, len);
    int rc = -1;
    if (drop_target) {
        if (jsonscan_member(out, len, "target", &start, &end) != JSONSCAN_FOUND)
            goto done;
        cut(out, &len, start, end);
    }
    enum jsonscan_result from = jsonscan_member(out, len, "from", &start, &end);
    if (from == JSONSCAN_FOUND)
        cut(out, &len, start, end);
    else if (from != JSONSCAN_ABSENT)
        goto done;
    char *brace = memchr(out, '{', len);
    char field[PEER_ID_LEN + 12];
    int flen = snprintf(field, sizeof(field), "\"from\":\"%s\",", p->id);
    size_t at = (size_t)(brace - out) + 1;
    memmove(out + at + flen, out + at, len - at);
    memcpy(out + at, field, (size_t)flen);
    len += (size_t)flen;
    to->send(to->ctx, out, len);
    rc = 0;
done:
    xfree(out);
    return rc;
}

void room_on_relay(struct peer *p, json_t *msg)
{
    const char *target = msg_string(p, msg, "target");
    if (!target)
        return;
    if (!p->room) {
        peer_error(p, "not_in_room", "join a room first");
        return;
    }
    struct peer *to = room_member(p->room, target);
    if (!to || to == p) {
        peer_error(p, "unknown_target", "no such peer in your room");
        return;
    }
    room_relay(p, to, msg, 1);
}

void room_relay(struct peer *p, struct peer *to, json_t *msg, int drop_target)
{
    /* Bytes, not messages: 200 messages of 64 KiB a second would fill any
     * receiver's output queue (and drop the receiver) within a second. */
    unsigned bytes = (unsigned)(p->hub->msg_text ? p->hub->msg_len : 0);
    uint64_t wait = ratelimit_take_n(&p->relay_rl, loop_now(p->hub->loop), bytes, ROOM_RELAY_BYTES, ROOM_RELAY_PER_MS);
    if (wait) {
        p->hub->limited[HUB_LIMIT_RELAY_BYTES]++;
        peer_error_retry(p, "rate_limited", "too many bytes relayed; the message was not delivered", wait);
        return;
    }
    if (relay_as_sent(p, to, drop_target) == 0)
        return;
    /* The sender's object passes through: only target goes, from comes. */
    if (drop_target)
        json_object_del(msg, "target");
    json_object_set_new(msg, "from", json_string(p->id));
    json_incref(msg);
    peer_send_json(to, msg);
}

/* Counts characters (code points) of valid UTF-8. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

void room_on_chat(struct peer *p, json_t *msg)
{
    const char *text = msg_string(p, msg, "text");
    if (!text)
        return;
    if (!p->room) {
        peer_error(p, "not_in_room", "join a room or call first");
        return;
    }
    size_t chars = utf8_chars(text);
    if (chars == 0 || chars > CHAT_MAX_CHARS) {
        peer_error(p, "too_long", "a chat message is 1-500 characters");
        return;
    }
    uint64_t wait = ratelimit_take(&p->chat_rl, loop_now(p->hub->loop), CHAT_RATE, CHAT_PER_MS);
    if (wait) {
        p->hub->limited[HUB_LIMIT_CHAT]++;
        peer_error_retry(p, "rate_limited", "too many chat messages", wait);
        return;
    }
    json_t *out = json_pack("{s:s, s:s, s:s}", "type", "chat", "from", p->id, "text", text);
    const char *name = state_name(p);
    if (name)
        json_object_set_new(out, "name", json_string(name));
    room_broadcast(p->room, p, out);
}

static void free_room_entry(struct strmap_entry *e, void *arg)
{
    struct room *r = container_of(e, struct room, entry);
    (void)arg;
    for (int i = 0; i < r->count; i++)
        r->members[i]->room = NULL;
    xfree(r->members);
    xfree(r);
}

void room_free_all(struct hub *h)
{
    strmap_each(&h->rooms, free_room_entry, NULL);
    strmap_each(&h->pins, free_room_entry, NULL);
    strmap_each(&h->code_rooms, free_room_entry, NULL);
}
