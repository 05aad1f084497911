/*
 * joincode — the WebSocket dialect of the join-code backend, so that its
 * existing mobile and web clients work against tincan unchanged.
 *
 * Two devices pair over the REST API (docs/rest-api.md), which hands both
 * the same roomid; each then connects, sends join_room with it and, once
 * both are in, gets room_ready and exchanges webrtc_offer / webrtc_answer /
 * ice_candidate through the server. The rooms are the ones of room.c (two
 * seats, their own namespace); only the words differ, and they are here.
 * Wire format: docs/protocol.md, "The join-code dialect".
 */
#include <stdio.h>
#include <string.h>

#include "peer.h"

#define CODE_ROOM_SEATS 2

/* A roomid is what the REST API returned (a UUID) or whatever the client
 * chose: 1-64 visible ASCII characters. */
static int room_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > ROOM_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (id[i] < 0x21 || id[i] > 0x7e)
            return 0;
    }
    return 1;
}

static void on_join_room(struct peer *p, json_t *msg)
{
    const char *id = msg_string(p, msg, "roomId");
    if (!id)
        return;
    if (!room_id_valid(id)) {
        peer_error_field(p, "bad_room", "a roomId is 1-64 visible ASCII characters", "roomId");
        return;
    }
    struct room *r = room_find(p->hub, ROOM_CODE, id);
    if (r && r == p->room) {
        /* Joining again starts over, so both see room_ready again. */
        room_leave(p, LEAVE_ASKED);
        r = room_find(p->hub, ROOM_CODE, id);
    }
    if (!r)
        r = room_new(p->hub, ROOM_CODE, id, CODE_ROOM_SEATS);
    room_enter(r, p);
}

static void on_leave_room(struct peer *p, json_t *msg)
{
    (void)msg;
    if (p->room)
        room_leave(p, LEAVE_ASKED);
    else /* leaving is idempotent, as clients send it on every hang-up */
        peer_send_json(p, json_pack("{s:s, s:n}", "type", "left_room", "roomId"));
}

/* The one other member of p's room, or NULL (after telling p why). */
static struct peer *other_member(struct peer *p)
{
    if (!p->room) {
        peer_error(p, "not_in_room", "join a room first");
        return NULL;
    }
    for (int i = 0; i < p->room->count; i++) {
        if (p->room->members[i] != p)
            return p->room->members[i];
    }
    peer_error(p, "peer_not_found", "nobody else is in the room yet");
    return NULL;
}

/* Relays when the message has `field` at all: clients differ in what they
 * put there (an SDP string or a {type, sdp} object; a candidate object or
 * null for the end of candidates), and the other client knows its own. */
static void relay_with(struct peer *p, json_t *msg, const char *field)
{
    if (!json_object_get(msg, field)) {
        char text[64];
        snprintf(text, sizeof(text), "the message needs \"%s\"", field);
        peer_error_field(p, "missing_field", text, field);
        return;
    }
    struct peer *to = other_member(p);
    if (to)
        room_relay(p, to, msg, 0);
}

static void on_description(struct peer *p, json_t *msg)
{
    relay_with(p, msg, "sdp");
}

static void on_ice_candidate(struct peer *p, json_t *msg)
{
    relay_with(p, msg, "candidate");
}

static void on_ping(struct peer *p, json_t *msg)
{
    (void)msg;
    peer_send_json(p, json_pack("{s:s}", "type", "pong"));
}

static const struct handler joincode_handlers[] = {
    { "join_room", on_join_room },
    { "leave_room", on_leave_room },
    { "webrtc_offer", on_description },
    { "webrtc_answer", on_description },
    { "ice_candidate", on_ice_candidate },
    { "ping", on_ping },
};

/* --- room events in this dialect's words --- */

static void tell_entered(struct peer *p)
{
    struct room *r = p->room;
    peer_send_json(p, json_pack("{s:s, s:s, s:s, s:i}", "type", "room_joined", "roomId", r->key, "clientId", p->id,
                                "participants", r->count));
    if (r->count < r->max)
        return;
    /* Both are in: each learns the other, and the one who waited longer
     * is told to make the offer. */
    for (int i = 0; i < r->count; i++) {
        struct peer *m = r->members[i], *other = r->members[1 - i];
        peer_send_json(m, json_pack("{s:s, s:s, s:s, s:b}", "type", "room_ready", "roomId", r->key, "peerId",
                                    other->id, "initiator", i == 0));
    }
}

static void tell_peer_entered(struct peer *to, struct peer *p)
{
    (void)to, (void)p; /* room_ready follows once the room is complete */
}

static void tell_left(struct peer *p, const struct room *r, enum leave_reason why)
{
    if (why == LEAVE_ASKED)
        peer_send_json(p, json_pack("{s:s, s:s}", "type", "left_room", "roomId", r->key));
}

static void tell_peer_left(struct peer *to, struct peer *p, enum leave_reason why)
{
    const char *type = why == LEAVE_ASKED ? "peer_left" : "peer_disconnected";
    peer_send_json(to, json_pack("{s:s, s:s, s:s}", "type", type, "roomId", to->room->key, "peerId", p->id));
}

static void tell_full(struct peer *p, const struct room *r)
{
    peer_send_json(p, json_pack("{s:s, s:s}", "type", "room_full", "roomId", r->key));
}

const struct dialect dialect_joincode = {
    .handlers = joincode_handlers,
    .handler_count = sizeof(joincode_handlers) / sizeof(joincode_handlers[0]),
    .entered = tell_entered,
    .peer_entered = tell_peer_entered,
    .left = tell_left,
    .peer_left = tell_peer_left,
    .full = tell_full,
};
