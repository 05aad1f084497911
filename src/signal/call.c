/*
 * call — 1:1 calls between lobby names: ring, accept into a private room,
 * reject, cancel, no answer, busy, hang up. Nothing about a call is kept
 * once it ends.
 */
#include <string.h>

#include "../base/alloc.h"
#include "peer.h"

static int is_busy(const struct peer *p)
{
    return p->call != NULL || p->room != NULL;
}

static void send_ended(struct peer *to, const char *call_id, const char *reason)
{
    if (to)
        peer_send_json(to, json_pack("{s:s, s:s, s:s}", "type", "call-ended", "callId", call_id, "reason", reason));
}

void call_end(struct call *c, struct peer *by, const char *reason)
{
    struct hub *h = c->hub;
    struct peer *caller = c->caller, *callee = c->callee;
    loop_timer_stop(h->loop, &c->ring_timer);
    caller->call = NULL;
    callee->call = NULL;
    if (by != caller)
        send_ended(caller, c->id, reason);
    if (by != callee)
        send_ended(callee, c->id, reason);
    if (c->active) {
        /* The one who ended leaves first, so the other sees peer-left. */
        struct peer *first = by == callee ? callee : caller;
        room_leave(first, LEAVE_ASKED);
        room_leave(first == caller ? callee : caller, LEAVE_ASKED);
    }
    xfree(c);
    lobby_changed(caller);
    lobby_changed(callee);
}

static void on_ring_timeout(struct loop *loop, struct loop_timer *t)
{
    (void)loop;
    struct call *c = container_of(t, struct call, ring_timer);
    call_end(c, NULL, "no_answer");
}

void call_on_call(struct peer *p, json_t *msg)
{
    struct hub *h = p->hub;
    const char *name = msg_string(p, msg, "name");
    if (!name)
        return;
    if (!p->name[0]) {
        peer_error(p, "not_in_lobby", "say hello with a name first");
        return;
    }
    if (p->call) {
        peer_error(p, "busy", "you are in a call already");
        return;
    }
    char id[PEER_ID_LEN + 1];
    random_hex(id, PEER_ID_LEN / 2);
    struct peer *callee = lobby_find(h, name);
    if (!callee || callee == p) {
        send_ended(p, id, callee ? "busy" : "offline");
        return;
    }
    if (is_busy(callee)) {
        send_ended(p, id, "busy");
        return;
    }
    struct call *c = xcalloc(1, sizeof(*c));
    memcpy(c->id, id, sizeof(c->id));
    c->hub = h;
    c->caller = p;
    c->callee = callee;
    p->call = c;
    callee->call = c;
    loop_timer_start(h->loop, &c->ring_timer, (uint64_t)h->opt.ring_timeout_s * 1000, on_ring_timeout);
    peer_send_json(p, json_pack("{s:s, s:s, s:s}", "type", "ringing", "callId", c->id, "name", callee->name));
    peer_send_json(callee, json_pack("{s:s, s:s, s:s}", "type", "incoming", "callId", c->id, "from", p->name));
    lobby_changed(p);
    lobby_changed(callee);
}

/* Returns p's call if it has callId and the expected state, else sends
 * unknown_call and returns NULL. role: the peer p must be in it. */
static struct call *find_call(struct peer *p, json_t *msg, int want_active, int want_callee)
{
    if (!p->name[0]) {
        peer_error(p, "not_in_lobby", "say hello with a name first");
        return NULL;
    }
    const char *id = msg_string(p, msg, "callId");
    if (!id)
        return NULL;
    struct call *c = p->call;
    if (!c || strcmp(c->id, id) != 0 || c->active != want_active ||
        (want_callee >= 0 && (c->callee == p) != want_callee)) {
        peer_error(p, "unknown_call", "no such call in that state");
        return NULL;
    }
    return c;
}

void call_on_accept(struct peer *p, json_t *msg)
{
    struct call *c = find_call(p, msg, 0, 1);
    if (!c)
        return;
    loop_timer_stop(c->hub->loop, &c->ring_timer);
    c->active = 1;
    struct peer *caller = c->caller;
    peer_send_json(caller, json_pack("{s:s, s:s, s:s}", "type", "call-started", "callId", c->id, "with", p->name));
    peer_send_json(p, json_pack("{s:s, s:s, s:s}", "type", "call-started", "callId", c->id, "with", caller->name));
    c->room = room_new(c->hub, ROOM_CALL, "", 2);
    room_leave(caller, LEAVE_ASKED);
    c->room->members[c->room->count++] = caller;
    caller->room = c->room;
    room_enter(c->room, p);
}

void call_on_reject(struct peer *p, json_t *msg)
{
    struct call *c = find_call(p, msg, 0, 1);
    if (c)
        call_end(c, p, "rejected");
}

void call_on_cancel(struct peer *p, json_t *msg)
{
    struct call *c = find_call(p, msg, 0, 0);
    if (c)
        call_end(c, p, "cancelled");
}

void call_on_hangup(struct peer *p, json_t *msg)
{
    (void)msg;
    struct call *c = p->call;
    if (!c) {
        if (!p->name[0])
            peer_error(p, "not_in_lobby", "say hello with a name first");
        else
            peer_error(p, "unknown_call", "you are not in a call");
        return;
    }
    if (c->active)
        call_end(c, p, "hangup");
    else
        call_end(c, p, c->callee == p ? "rejected" : "cancelled");
}
