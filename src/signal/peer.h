/*
 * peer — the signaling state shared by the hub's parts (hub.c, room.c,
 * pin.c, lobby.c, call.c). Not for use outside src/signal.
 */
#ifndef TINCAN_PEER_H
#define TINCAN_PEER_H

#include <jansson.h>
#include <stdint.h>

#include "../base/alloc.h"

#include "../base/loop.h"
#include "../base/ratelimit.h"
#include "../base/ratetable.h"
#include "../base/strmap.h"
#include "hub.h"
#include "uname.h"

#define PEER_ID_LEN 16
#define PEER_TOKEN_LEN 64
#define NAME_MAX_CHARS UNAME_MAX_CHARS
#define NAME_MAX_BYTES UNAME_MAX_BYTES
#define ROOM_NAME_MAX 64
#define CHAT_MAX_CHARS 500
#define TEAM_ID_MAX 36          /* a team room's id (a UUID) */
#define TEAM_PREFIX "team:"     /* room keys of team rooms: no public room name has ':' */
#define ACCOUNT_NAME_MAX 32
#define SESSION_HASH_LEN 64
#define SCREEN_ID_MAX 64        /* the stream id of a screen share */

enum room_kind { ROOM_PUBLIC, ROOM_PIN, ROOM_CALL, ROOM_CODE };

/* Why a peer leaves its room: it asked to, or its connection is gone. */
enum leave_reason { LEAVE_ASKED, LEAVE_GONE };

struct room {
    struct strmap_entry entry;      /* in hub->rooms, hub->pins or hub->code_rooms */
    enum room_kind kind;
    char key[ROOM_NAME_MAX + 1];    /* room name or PIN; "" for call rooms */
    struct peer **members;
    int count, max;
    int sfu;                        /* media through tincan's SFU (docs/sfu.md), not a mesh */
    int team;                       /* a team room: key is TEAM_PREFIX + its id (presence.c) */
};

struct call {
    char id[PEER_ID_LEN + 1];
    struct peer *caller, *callee;
    int active;                     /* accepted: both are in room */
    struct room *room;
    struct loop_timer ring_timer;
    struct hub *hub;
};

struct peer;

/* One row of a dialect's dispatch table. */
struct handler {
    const char *type;
    void (*fn)(struct peer *p, json_t *msg);
};

/* A wire dialect: the messages a peer may send, and how the room events
 * are told to it. Both dialects run on the same rooms (room.c); a peer's
 * dialect is fixed by its first message. */
struct dialect {
    const struct handler *handlers;
    size_t handler_count;
    /* p is now in p->room (already counted in it). */
    void (*entered)(struct peer *p);
    /* p joined the room that to is in. */
    void (*peer_entered)(struct peer *to, struct peer *p);
    /* p left room r (no longer counted in it). */
    void (*left)(struct peer *p, const struct room *r, enum leave_reason why);
    /* p left the room that to is in. */
    void (*peer_left)(struct peer *to, struct peer *p, enum leave_reason why);
    /* p cannot join r: it is full. */
    void (*full)(struct peer *p, const struct room *r);
};

extern const struct dialect dialect_tincan;   /* hub.c: the protocol of docs/protocol.md */
extern const struct dialect dialect_joincode; /* joincode.c: the join-code backend's */

struct peer {
    struct hub *hub;
    const struct dialect *dialect;  /* NULL until the first message */
    int welcomed;                   /* got the welcome (and so a resume token) */
    int joincode_only;              /* a page of another origin: no tincan protocol */
    enum leave_reason depart_why;   /* told to the room when the peer goes */
    uint32_t sfu_epoch;             /* its SFU transports' epoch (hub_peer_sfu_epoch()) */
    char *ice_json;                 /* kept for a late welcome while the dialect is open */
    struct strmap_entry by_id, by_token, by_name, by_skeleton;
    char id[PEER_ID_LEN + 1];
    char token[PEER_TOKEN_LEN + 1];
    char source[48];
    hub_send_fn send;               /* NULL while detached */
    hub_evict_fn evict;
    void *ctx;
    struct room *room;
    struct call *call;
    char name[NAME_MAX_BYTES + 1];  /* "" until hello */
    char name_key[UNAME_KEY_MAX];   /* case-folded name: by_name */
    char skeleton[UNAME_KEY_MAX];   /* look-alike key: by_skeleton */
    struct peer *lobby_prev, *lobby_next;
    struct ratelimit chat_rl, msg_rl;
    struct ratelimit relay_rl;  /* bytes relayed to other peers */
    struct ratelimit rename_rl; /* hello with a new name while named */
    struct loop_timer grace_timer;
    /* What the peer told the room about itself with "state" (state.c);
     * only peers that sent one hear the others' peer-state. */
    int has_state;
    int muted, camera_off;
    char display[NAME_MAX_BYTES + 1]; /* "" when it gave no name */
    int speaking;
    int told_share;                 /* sent speaking or screen: peer-state carries them */
    char screen[SCREEN_ID_MAX + 1]; /* the stream id of its screen share, "" when none */
    char screen_audio[SCREEN_ID_MAX + 1]; /* SFU rooms: the track id of the share's sound, "" when none */
    /* Signed in with an account (the session cookie on /ws; presence.c). */
    int64_t user_id;                /* 0: not signed in */
    char user[ACCOUNT_NAME_MAX + 1];
    char session[SESSION_HASH_LEN + 1]; /* hex SHA-256 of the session token */
    int subscribed;                 /* hears presence (within the caps) */
    struct peer *pres_prev, *pres_next; /* hub->signed_in */
};

struct hub {
    struct loop *loop;
    struct hub_options opt;
    struct strmap by_id, by_token, by_name, by_skeleton, rooms, pins, code_rooms;
    struct ratetable pin_limits;    /* PIN attempts per source address (pin.c) */
    struct peer *lobby;             /* list of peers that said hello */
    int lobby_count;
    json_t *lobby_dirty, *lobby_left; /* names to send in the next lobby-update */
    struct loop_defer lobby_flush;
    const char *msg_text;           /* the message being handled, as received */
    size_t msg_len;
    struct loop_timer sweep_timer;
    uint64_t limited[HUB_LIMIT_COUNT]; /* rate-limit hits, for hub_stats() */
    struct hub_sfu sfu;             /* sfu.enter NULL: no SFU */
    struct hub_accounts acc;        /* acc.session_live NULL: no accounts */
    struct peer *signed_in;         /* list of signed-in peers */
    int listed;                     /* peers on that list */
    int subscribers;                /* of those, the ones that hear presence */
    json_t *pres_set, *pres_gone;   /* peer ids for the next presence-update */
    struct loop_defer pres_flush;
};

/* --- hub.c: sending --- */
/* Sends msg (and takes its reference) to p if attached. */
void peer_send_json(struct peer *p, json_t *msg);
/* Sends an error {type:error, code, message} to p. */
void peer_error(struct peer *p, const char *code, const char *message);
/* Sends an error that also names a field or a wait. */
void peer_error_field(struct peer *p, const char *code, const char *message, const char *field);
void peer_error_retry(struct peer *p, const char *code, const char *message, uint64_t retry_ms);
/* The text of a batched update {"type":type, k1:a1, k2:a2} (takes both
 * arrays), or NULL when both are empty and there is nothing to send. */
char *update_text(const char *type, const char *k1, json_t *a1, const char *k2, json_t *a2);
/* Fills out with n random bytes as lowercase hex (2n characters + NUL). */
void random_hex(char *out, size_t n);
/* Reads a required string field; sends missing_field and returns NULL if absent. */
const char *msg_string(struct peer *p, json_t *msg, const char *field);

/* --- room.c --- */
/* Puts p in room r (after leaving its current room); p and the others are
 * told in their dialects. Returns 0, or -1 (p told) when r is full. */
int room_enter(struct room *r, struct peer *p);
/* Takes p out of its room; p and the others are told why in their
 * dialects; an empty room is freed. */
void room_leave(struct peer *p, enum leave_reason why);
/* Finds the room of a kind by key, or NULL. */
struct room *room_find(struct hub *h, enum room_kind kind, const char *key);
/* Frees an empty room (one that room_enter refused to fill). */
void room_free(struct hub *h, struct room *r);
/* What one peer may relay (offers, answers, candidates, in both dialects):
 * bursts of 128 KiB, 32 KiB/s sustained. A room of 8 relaying at full burst
 * to one peer stays under its 1 MiB output queue. */
#define ROOM_RELAY_BYTES (128u << 10)
#define ROOM_RELAY_PER_MS 4000
/* Sends the message being handled (hub->msg_text, or msg when the text
 * cannot be spliced) to `to`, with `from` set to p's id and, if
 * drop_target, without `target`. The sender's relayed bytes are limited
 * (ROOM_RELAY_BYTES per ROOM_RELAY_PER_MS): over it p gets a rate_limited
 * error with retryAfter, and nothing reaches `to`. */
void room_relay(struct peer *p, struct peer *to, json_t *msg, int drop_target);
/* The tincan dialect's room events (room.c). */
void room_tell_entered(struct peer *p);
void room_tell_peer_entered(struct peer *to, struct peer *p);
void room_tell_left(struct peer *p, const struct room *r, enum leave_reason why);
void room_tell_peer_left(struct peer *to, struct peer *p, enum leave_reason why);
void room_tell_full(struct peer *p, const struct room *r);
/* Creates a room of a kind (key copied; linked into the hub's map for
 * public and PIN rooms). */
struct room *room_new(struct hub *h, enum room_kind kind, const char *key, int max);
/* Sends msg to everyone in r but except (NULL: everyone); takes msg. */
void room_broadcast(struct room *r, struct peer *except, json_t *msg);
void room_on_join(struct peer *p, json_t *msg);
void room_on_leave(struct peer *p, json_t *msg);
void room_on_relay(struct peer *p, json_t *msg);
void room_on_chat(struct peer *p, json_t *msg);
/* sfu-publish and sfu-subscribe-answer: handed to the SFU glue. */
void room_on_sfu(struct peer *p, json_t *msg);
/* sfu-reset: the SFU drops p's transports and starts them anew (the
 * client's reconnect after a network change); the room hears nothing. */
void room_on_sfu_reset(struct peer *p, json_t *msg);
/* sfu-view: the size each remote video is shown at, checked, handed to
 * the SFU glue tile by tile. */
void room_on_sfu_view(struct peer *p, json_t *msg);
/* Frees every room (hub teardown). */
void room_free_all(struct hub *h);

/* --- pin.c --- */
void pin_on_join(struct peer *p, json_t *msg);
/* Starts the empty table of attempts per source address (hub_new). */
void pin_init(struct hub *h);
/* Drops per-address counters that have refilled. */
void pin_sweep(struct hub *h);
/* Frees the per-address counters (hub teardown). */
void pin_free_all(struct hub *h);

/* --- lobby.c --- */
void lobby_on_hello(struct peer *p, json_t *msg);
void lobby_on_leave(struct peer *p, json_t *msg);
/* Notes that p (in the lobby) came or changed (busy or not): the others get
 * it in one coalesced lobby-update after the current batch of events. */
void lobby_changed(struct peer *p);
/* Drops what lobby-update would still send (the hub is going away). */
void lobby_cleanup(struct hub *h);
/* Removes p from the lobby (name freed) and tells the others. */
void lobby_leave(struct peer *p);
/* Finds an online peer by name (case-insensitive), or NULL. */
struct peer *lobby_find(struct hub *h, const char *name);
/* Whether name is a valid lobby (and display) name: 1-32 letters, digits,
 * space, '_', '.', '-', no space at either end. */
int lobby_name_valid(const char *name);

/* --- state.c: names, mute and camera told to the room --- */
/* {"type":"state","name"?,"muted"?,"camera"?}: stores p's state and tells
 * the others in its room that sent a state of their own. */
void state_on_state(struct peer *p, json_t *msg);
/* Sends to `to` the state of p as peer-state, if both sent one. */
void state_tell(struct peer *to, const struct peer *p);
/* Sends p the states of everyone else in its room (after joined or a resume). */
void state_tell_room(struct peer *p);
/* The name others see for p: its lobby name, else its display name, else NULL. */
const char *state_name(const struct peer *p);

/* --- presence.c: who is signed in, online and where --- */
/* p's room, mute, camera, speaking or sharing changed: the subscribers get
 * it in one coalesced presence-update (nothing when p is not signed in). */
void presence_changed(struct peer *p);
/* p goes away for good: out of the list, the others hear it. */
void presence_gone(struct peer *p);
/* Moves the sign-in of `from` (a fresh connection about to be dropped) to
 * `to` when `to` has none; else from's is dropped. */
void presence_transfer(struct peer *from, struct peer *to);
/* Sends p the whole list (after a resume). */
void presence_send_full(struct peer *p);
/* The team room id of p's room, or NULL. */
const char *presence_team_id(const struct peer *p);
/* Drops what presence-update would still send (hub teardown). */
void presence_cleanup(struct hub *h);
/* The team side of a join {"team":true,"password"?}: checks the sign-in
 * and the room; writes the room key to key. 0, or -1 with p told. */
int presence_team_key(struct peer *p, json_t *msg, const char *id, char key[ROOM_NAME_MAX + 1]);

/* --- call.c --- */
void call_on_call(struct peer *p, json_t *msg);
void call_on_accept(struct peer *p, json_t *msg);
void call_on_reject(struct peer *p, json_t *msg);
void call_on_cancel(struct peer *p, json_t *msg);
void call_on_hangup(struct peer *p, json_t *msg);
/* Ends p's call (ringing or active) telling the other side why. */
void call_end(struct call *c, struct peer *by, const char *reason);

#endif
