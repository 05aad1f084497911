/*
 * hub — peers, their identities and resumption, and the message dispatch
 * table (see hub.h). Rooms, PINs, the lobby and calls live in their own
 * files and share the types in peer.h.
 */
#include "hub.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "peer.h"
#include "room_keys.h"

#define MSG_RATE 200            /* messages per second per connection */
#define SWEEP_MS 60000

/* --- sending --- */

void peer_send_json(struct peer *p, json_t *msg)
{
    if (!msg)
        return;
    if (p->send) {
        char *text = json_dumps(msg, JSON_COMPACT);
        if (text) {
            p->send(p->ctx, text, strlen(text));
            free(text);
        }
    }
    json_decref(msg);
}

void peer_error(struct peer *p, const char *code, const char *message)
{
    peer_send_json(p, json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "message", message));
}

void peer_error_field(struct peer *p, const char *code, const char *message, const char *field)
{
    peer_send_json(p, json_pack("{s:s, s:s, s:s, s:s}", "type", "error", "code", code, "message", message,
                                "field", field));
}

void peer_error_retry(struct peer *p, const char *code, const char *message, uint64_t retry_ms)
{
    json_int_t secs = (json_int_t)((retry_ms + 999) / 1000);
    peer_send_json(p, json_pack("{s:s, s:s, s:s, s:I}", "type", "error", "code", code, "message", message,
                                "retryAfter", secs));
}

char *update_text(const char *type, const char *k1, json_t *a1, const char *k2, json_t *a2)
{
    json_t *msg = json_pack("{s:s, s:o, s:o}", "type", type, k1, a1, k2, a2);
    char *text = json_array_size(a1) || json_array_size(a2) ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    return text;
}

void random_hex(char *out, size_t n)
{
    unsigned char raw[64];
    if (n > sizeof(raw))
        n = sizeof(raw);
    RAND_bytes(raw, (int)n);
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

const char *msg_string(struct peer *p, json_t *msg, const char *field)
{
    json_t *j = json_object_get(msg, field);
    const char *v = json_string_value(j);
    if (v && strlen(v) != json_string_length(j))
        v = NULL; /* an embedded NUL: relayed payloads may carry one, names may not */
    if (!v) {
        char text[96];
        snprintf(text, sizeof(text), "the message needs a string \"%s\"", field);
        peer_error_field(p, "missing_field", text, field);
    }
    return v;
}

void hub_set_sfu(struct hub *h, const struct hub_sfu *sfu)
{
    if (sfu)
        h->sfu = *sfu;
    else
        memset(&h->sfu, 0, sizeof(h->sfu));
}

void hub_peer_send(struct peer *p, const char *text, size_t len)
{
    if (p->send)
        p->send(p->ctx, text, len);
}

const char *hub_peer_id(const struct peer *p)
{
    return p->id;
}

uint32_t hub_peer_sfu_epoch(const struct peer *p)
{
    return p->sfu_epoch;
}

const char *hub_peer_screen(const struct peer *p)
{
    return p->screen;
}

/* --- dispatch --- */

static const struct handler tincan_handlers[] = {
    { "join", room_on_join },
    { "leave", room_on_leave },
    { "offer", room_on_relay },
    { "answer", room_on_relay },
    { "ice-candidate", room_on_relay },
    { "chat", room_on_chat },
    { "e2ee-key", room_on_e2ee_key },
    { "state", state_on_state },
    { "sfu-publish", room_on_sfu },
    { "sfu-subscribe-answer", room_on_sfu },
    { "sfu-reset", room_on_sfu_reset },
    { "sfu-view", room_on_sfu_view },
    { "join-pin", pin_on_join },
    { "hello", lobby_on_hello },
    { "leave-lobby", lobby_on_leave },
    { "call", call_on_call },
    { "accept", call_on_accept },
    { "reject", call_on_reject },
    { "cancel", call_on_cancel },
    { "hangup", call_on_hangup },
};

const struct dialect dialect_tincan = {
    .handlers = tincan_handlers,
    .handler_count = sizeof(tincan_handlers) / sizeof(tincan_handlers[0]),
    .entered = room_tell_entered,
    .peer_entered = room_tell_peer_entered,
    .left = room_tell_left,
    .peer_left = room_tell_peer_left,
    .full = room_tell_full,
};

static const struct handler *find_handler(const struct dialect *d, const char *type)
{
    for (size_t i = 0; i < d->handler_count; i++) {
        if (strcmp(d->handlers[i].type, type) == 0)
            return &d->handlers[i];
    }
    return NULL;
}

static void send_welcome(struct peer *p, int resumed, const char *ice_json);
static void peer_free(struct peer *p);
static struct peer *on_resume(struct peer *p, json_t *msg);

static void send_unknown_type(struct peer *p, const char *type)
{
    char reply[128];
    snprintf(reply, sizeof(reply), "unknown message type '%.64s'", type);
    peer_error(p, "unknown_type", reply);
}

/* The first message fixes the dialect: a type of the join-code backend
 * makes it that one, a type of the tincan protocol this one (and a tincan
 * client that connected on "/" gets its welcome now). A type of neither
 * leaves it open. Returns 0 once chosen, -1 (p told why) if not. */
static int choose_dialect(struct peer *p, const char *type)
{
    if (find_handler(&dialect_joincode, type)) {
        p->dialect = &dialect_joincode;
    } else if (find_handler(&dialect_tincan, type)) {
        if (p->joincode_only) {
            peer_error(p, "origin_not_allowed",
                       "a page of another origin may only use the join-code messages (see --allow-origin)");
            return -1;
        }
        p->dialect = &dialect_tincan;
        if (!p->welcomed)
            send_welcome(p, 0, p->ice_json);
    } else {
        send_unknown_type(p, type);
        return -1;
    }
    xfree(p->ice_json);
    p->ice_json = NULL;
    return 0;
}

struct peer *hub_on_message(struct peer *p, const char *text, size_t len)
{
    uint64_t wait = ratelimit_take(&p->msg_rl, loop_now(p->hub->loop), MSG_RATE, 1000);
    if (wait) {
        p->hub->limited[HUB_LIMIT_MESSAGE]++;
        peer_error_retry(p, "rate_limited", "too many messages", wait);
        return p;
    }
    json_error_t err;
    json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!msg || !json_is_object(msg)) {
        peer_error(p, "bad_json", msg ? "a message is a JSON object" : "the message is not valid JSON");
        json_decref(msg);
        return p;
    }
    json_t *jtype = json_object_get(msg, "type");
    const char *type = json_string_value(jtype);
    if (type && strlen(type) != json_string_length(jtype)) {
        peer_error(p, "unknown_type", "unknown message type");
        json_decref(msg);
        return p;
    }
    if (!type) {
        peer_error_field(p, "missing_field", "the message needs a string \"type\"", "type");
        json_decref(msg);
        return p;
    }
    if (strcmp(type, "resume") == 0) {
        struct peer *now = on_resume(p, msg);
        json_decref(msg);
        return now;
    }
    if (!p->dialect && choose_dialect(p, type) < 0) {
        json_decref(msg);
        return p;
    }
    const struct handler *hd = find_handler(p->dialect, type);
    if (hd) {
        p->hub->msg_text = text;
        p->hub->msg_len = len;
        hd->fn(p, msg);
        p->hub->msg_text = NULL;
        json_decref(msg);
        return p;
    }
    send_unknown_type(p, type);
    json_decref(msg);
    return p;
}

/* --- peers --- */

static void send_welcome(struct peer *p, int resumed, const char *ice_json)
{
    struct hub *h = p->hub;
    json_error_t err;
    json_t *ice = json_loads(ice_json ? ice_json : "[]", 0, &err);
    json_t *msg = json_pack("{s:s, s:s, s:s, s:o, s:s, s:b}", "type", "welcome", "id", p->id, "token", p->token,
                            "iceServers", ice ? ice : json_array(), "version", h->opt.version, "resumed", resumed);
    if (h->acc.session_live) /* the page offers sign-in; a signed-in socket hears presence next */
        json_object_set_new(msg, "accounts", json_true());
    if (resumed) {
        json_t *peers = json_array();
        if (p->room) {
            for (int i = 0; i < p->room->count; i++) {
                if (p->room->members[i] != p)
                    json_array_append_new(peers, json_string(p->room->members[i]->id));
            }
        }
        json_object_set_new(msg, "room", p->room && p->room->kind == ROOM_PUBLIC ? json_string(p->room->key) : json_null());
        json_object_set_new(msg, "peers", peers);
        if (p->room)
            json_object_set_new(msg, "mode", json_string(p->room->sfu ? "sfu" : "mesh"));
        json_object_set_new(msg, "name", p->name[0] ? json_string(p->name) : json_null());
    }
    p->welcomed = 1;
    peer_send_json(p, msg);
}

/* The greeting of the join-code backend, for clients that connect on "/". */
static void send_connected(struct peer *p, const char *ice_json)
{
    json_error_t err;
    json_t *ice = json_loads(ice_json ? ice_json : "[]", 0, &err);
    peer_send_json(p, json_pack("{s:s, s:s, s:o}", "type", "connected", "clientId", p->id, "iceServers",
                                ice ? ice : json_array()));
}

static void peer_free(struct peer *p)
{
    struct hub *h = p->hub;
    loop_timer_stop(h->loop, &p->grace_timer);
    strmap_del(&h->by_id, &p->by_id);
    strmap_del(&h->by_token, &p->by_token);
    presence_gone(p);
    xfree(p->ice_json);
    xfree(p);
}

/* The peer is gone for good: out of its call, room and the lobby. */
static void peer_depart(struct peer *p)
{
    if (p->call)
        call_end(p->call, p, "offline");
    room_leave(p, p->depart_why);
    lobby_leave(p);
    peer_free(p);
}

static void on_grace_over(struct loop *loop, struct loop_timer *t)
{
    (void)loop;
    struct peer *p = container_of(t, struct peer, grace_timer);
    peer_depart(p);
}

/* Gives the identity p (found by its token) the connection behind send /
 * ctx: an old connection still open on our side (a network switch without
 * FIN) is evicted, the grace ends, p hears its welcome and the room hears
 * peer-resumed. */
static void take_over(struct peer *p, hub_send_fn send, hub_evict_fn evict, void *ctx, const char *ice_json)
{
    struct hub *h = p->hub;
    if (p->send) {
        hub_evict_fn old_evict = p->evict;
        void *old_ctx = p->ctx;
        p->send = NULL;
        p->ctx = NULL;
        old_evict(old_ctx);
    }
    loop_timer_stop(h->loop, &p->grace_timer);
    p->send = send;
    p->evict = evict;
    p->ctx = ctx;
    send_welcome(p, 1, ice_json);
    presence_send_full(p);
    state_tell_room(p);
    if (p->room)
        room_broadcast(p->room, p, json_pack("{s:s, s:s}", "type", "peer-resumed", "peerId", p->id));
    if (p->room && p->room->sfu && h->sfu.resumed)
        h->sfu.resumed(h->sfu.ctx, p, ctx);
}

/* The tincan identity holding token, or NULL. */
static struct peer *find_token(struct hub *h, const char *token)
{
    if (!token || strlen(token) != PEER_TOKEN_LEN)
        return NULL;
    struct strmap_entry *e = strmap_get(&h->by_token, token);
    if (!e)
        return NULL;
    struct peer *p = container_of(e, struct peer, by_token);
    return p->dialect == &dialect_joincode ? NULL : p;
}

static struct peer *resume(struct hub *h, const char *token, hub_send_fn send, hub_evict_fn evict, void *ctx,
                           const char *ice_json)
{
    struct peer *p = find_token(h, token);
    if (p)
        take_over(p, send, evict, ctx, ice_json);
    return p;
}

/* {"type":"resume","token"} as the first message of a fresh /ws
 * connection (the token stays out of the URL, and so out of logs and
 * consoles): the connection takes over that identity and the fresh one is
 * dropped. Unknown or expired: the fresh identity stays and hears its
 * welcome again. Returns the peer now behind the connection. */
static struct peer *on_resume(struct peer *p, json_t *msg)
{
    if (p->dialect || !p->welcomed) {
        peer_error(p, "resume_late", "resume must be the first message on /ws");
        return p;
    }
    const char *token = msg_string(p, msg, "token");
    if (!token)
        return p;
    struct peer *q = find_token(p->hub, token);
    if (!q || q == p) {
        p->dialect = &dialect_tincan;
        send_welcome(p, 0, p->ice_json);
        xfree(p->ice_json);
        p->ice_json = NULL;
        return p;
    }
    hub_send_fn send = p->send;
    hub_evict_fn evict = p->evict;
    void *ctx = p->ctx;
    char *ice = p->ice_json;
    p->ice_json = NULL;
    p->send = NULL;
    p->ctx = NULL;
    presence_transfer(p, q);
    peer_free(p);
    take_over(q, send, evict, ctx, ice);
    xfree(ice);
    return q;
}

struct peer *hub_connect(struct hub *h, hub_send_fn send, hub_evict_fn evict, void *ctx, const char *resume_token,
                         const char *source, const char *ice_json, enum hub_greeting greeting)
{
    struct peer *p = greeting == HUB_GREET_WELCOME ? resume(h, resume_token, send, evict, ctx, ice_json) : NULL;
    if (p)
        return p;
    p = xcalloc(1, sizeof(*p));
    p->hub = h;
    p->send = send;
    p->evict = evict;
    p->ctx = ctx;
    snprintf(p->source, sizeof(p->source), "%s", source ? source : "");
    do {
        random_hex(p->id, PEER_ID_LEN / 2);
    } while (strmap_get(&h->by_id, p->id));
    random_hex(p->token, PEER_TOKEN_LEN / 2);
    strmap_put(&h->by_id, &p->by_id, p->id);
    strmap_put(&h->by_token, &p->by_token, p->token);
    p->depart_why = LEAVE_GONE;
    p->joincode_only = greeting == HUB_GREET_CONNECTED_FOREIGN;
    /* Kept until the first message: a late welcome, or a resume, needs it. */
    p->ice_json = ice_json ? xstrdup(ice_json) : NULL;
    if (greeting == HUB_GREET_WELCOME)
        send_welcome(p, 0, ice_json);
    else
        send_connected(p, ice_json);
    return p;
}

void hub_detach(struct peer *p)
{
    struct hub *h = p->hub;
    if (p->dialect == &dialect_joincode || !p->welcomed) {
        /* Nothing to resume: no token was handed out, or the dialect has
         * no resumption (its peers hear peer_disconnected at once). */
        hub_leave(p);
        return;
    }
    p->send = NULL;
    p->ctx = NULL;
    /* Never freed here (a handler of p's own message may still be running
     * when its connection fails): the grace timer ends it. */
    if (p->room)
        room_broadcast(p->room, p, json_pack("{s:s, s:s}", "type", "peer-reconnecting", "peerId", p->id));
    loop_timer_start(h->loop, &p->grace_timer, (uint64_t)h->opt.resume_grace_s * 1000, on_grace_over);
}

void hub_leave(struct peer *p)
{
    /* A goodbye in the tincan protocol; the join-code dialect only knows
     * that the connection is gone. */
    p->depart_why = p->dialect == &dialect_joincode ? LEAVE_GONE : LEAVE_ASKED;
    p->send = NULL;
    p->ctx = NULL;
    /* Freed on the next turn of the loop, for the same reason as above. */
    loop_timer_start(p->hub->loop, &p->grace_timer, 0, on_grace_over);
}

/* --- the hub --- */

static void on_sweep(struct loop *loop, struct loop_timer *t)
{
    struct hub *h = container_of(t, struct hub, sweep_timer);
    pin_sweep(h);
    loop_timer_start(loop, t, SWEEP_MS, on_sweep);
}

struct hub *hub_new(struct loop *loop, const struct hub_options *opts)
{
    struct hub *h = xcalloc(1, sizeof(*h));
    h->loop = loop;
    h->opt = *opts;
    strmap_init(&h->by_id);
    strmap_init(&h->by_token);
    strmap_init(&h->by_name);
    strmap_init(&h->by_skeleton);
    strmap_init(&h->rooms);
    strmap_init(&h->pins);
    strmap_init(&h->code_rooms);
    pin_init(h);
    h->lobby_dirty = json_object();
    h->lobby_left = json_object();
    h->pres_set = json_object();
    h->pres_gone = json_object();
    loop_timer_start(loop, &h->sweep_timer, SWEEP_MS, on_sweep);
    return h;
}

static void free_peer_entry(struct strmap_entry *e, void *arg)
{
    (void)arg;
    struct peer *p = container_of(e, struct peer, by_id);
    if (p->call) {
        /* Both ends point at the call; the first one freed takes it along
         * with its private room. */
        struct call *c = p->call;
        loop_timer_stop(c->hub->loop, &c->ring_timer);
        c->caller->call = NULL;
        c->callee->call = NULL;
        if (c->room) {
            c->caller->room = c->callee->room = NULL;
            xfree(c->room->members);
            xfree(c->room);
        }
        xfree(c);
    }
    loop_timer_stop(p->hub->loop, &p->grace_timer);
    xfree(p->ice_json);
    xfree(p);
}

void hub_free(struct hub *h)
{
    if (!h)
        return;
    loop_timer_stop(h->loop, &h->sweep_timer);
    room_free_all(h);
    pin_free_all(h);
    strmap_each(&h->by_id, free_peer_entry, NULL);
    strmap_cleanup(&h->by_id);
    strmap_cleanup(&h->by_token);
    strmap_cleanup(&h->by_name);
    strmap_cleanup(&h->by_skeleton);
    strmap_cleanup(&h->rooms);
    strmap_cleanup(&h->pins);
    strmap_cleanup(&h->code_rooms);
    lobby_cleanup(h);
    presence_cleanup(h);
    xfree(h);
}

/* --- counts for /metrics --- */

static void count_peer(struct strmap_entry *e, void *arg)
{
    struct hub_stats *st = arg;
    const struct peer *p = container_of(e, struct peer, by_id);
    st->peers++;
    st->detached += p->send == NULL;
    st->lobby += p->name[0] != '\0';
    if (p->room) {
        st->participants++;
        if (p->room->count > 0 && p->room->members[0] == p)
            st->rooms[p->room->kind]++; /* each room once, by its first member */
    }
    if (p->call && p->call->caller == p) {
        if (p->call->active)
            st->calls_active++;
        else
            st->calls_ringing++;
    }
}

_Static_assert(ROOM_CODE + 1 == HUB_ROOM_KINDS, "hub_stats counts every kind of room");

void hub_stats(const struct hub *h, struct hub_stats *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->limited, h->limited, sizeof(out->limited));
    strmap_each((struct strmap *)&h->by_id, count_peer, out);
}
