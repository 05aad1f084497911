/*
 * hub — signaling: who is connected, and the ways they find each other
 * (rooms, PINs, the lobby, 1:1 calls, chat). The wire format is in
 * docs/protocol.md.
 *
 * The hub does no I/O. A connection becomes a peer with hub_connect(),
 * giving a send function; text messages go in through hub_on_message();
 * when the connection ends the glue calls hub_detach(). A detached peer
 * keeps its identity, room and name for the resume grace period, so a
 * client that reconnects with its token carries on where it was.
 */
#ifndef TINCAN_HUB_H
#define TINCAN_HUB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../base/loop.h"

struct hub;
struct peer;

/* Sends one text message to the connection behind ctx. */
typedef void (*hub_send_fn)(void *ctx, const char *text, size_t len);
/* Tells the connection behind ctx that its peer resumed on another
 * connection: it must forget the peer (never call hub_detach for it) and
 * close. */
typedef void (*hub_evict_fn)(void *ctx);

/* How named rooms carry media (docs/sfu.md, "When a room uses the SFU"). */
enum hub_room_mode { HUB_ROOMS_AUTO, HUB_ROOMS_MESH, HUB_ROOMS_SFU };

struct hub_options {
    int max_room;            /* peers per mesh room */
    enum hub_room_mode room_mode;
    int mesh_max;            /* auto: a join past this many moves the room to the SFU */
    int max_sfu_room;        /* peers per SFU room */
    int pin_rate;            /* PIN attempts per minute per source address */
    int ring_timeout_s;      /* unanswered call */
    int resume_grace_s;      /* a dropped peer's identity is kept this long */
    int max_lobby;           /* names in the lobby at once (0: no limit) */
    int max_presence;        /* connections that hear presence, in all */
    int presence_per_account; /* of those, per account */
    const char *version;
};

/* What a new connection hears first: the tincan protocol's welcome (on
 * /ws), or the join-code backend's `connected` (on "/", where clients of
 * either dialect may arrive; a tincan client gets its welcome with its
 * first message). A page of an origin that is not allowed may connect on
 * "/" for the join-code dialect only (HUB_GREET_CONNECTED_FOREIGN): that
 * dialect carries no identity worth stealing, like the REST API it goes
 * with, while the tincan protocol stays same-origin. */
enum hub_greeting { HUB_GREET_WELCOME, HUB_GREET_CONNECTED, HUB_GREET_CONNECTED_FOREIGN };

/* Creates a hub on loop; opts is copied (strings must outlive the hub). */
struct hub *hub_new(struct loop *loop, const struct hub_options *opts);
/* Frees the hub and every peer in it; hub_free(NULL) is safe. */
void hub_free(struct hub *h);
/* Attaches a new connection. resume_token (may be NULL; only with
 * HUB_GREET_WELCOME) resumes a detached peer; source is the client address
 * as text (for PIN limits, never logged); ice_json is the JSON array of ICE
 * servers for the greeting (NULL: []). Sends the greeting through send and
 * returns the peer. */
struct peer *hub_connect(struct hub *h, hub_send_fn send, hub_evict_fn evict, void *ctx, const char *resume_token,
                         const char *source, const char *ice_json, enum hub_greeting greeting);
/* Handles one text message from p's connection. Returns the peer now
 * behind that connection: p, or the identity a "resume" message took over
 * (p is then freed and must not be used again). */
struct peer *hub_on_message(struct peer *p, const char *text, size_t len);
/* The connection of p dropped: a tincan-protocol peer stays resumable for
 * the grace period; a join-code peer leaves at once. After this call the
 * hub never uses ctx again. */
void hub_detach(struct peer *p);
/* The client said goodbye (a WebSocket close): p leaves at once, its name
 * and room are free for others. The hub never uses ctx again. */
void hub_leave(struct peer *p);

/* The SFU as the hub sees it: the glue that owns the media side of SFU
 * rooms (docs/sfu.md). The hub tells it who enters and leaves an SFU room
 * and hands it the sfu-* messages; the glue answers through
 * hub_peer_send(). conn is the connection ctx given to hub_connect() for
 * the peer's current connection. */
struct hub_sfu {
    void *ctx;
    /* p (on connection conn) entered the SFU room named room. */
    void (*enter)(void *ctx, struct peer *p, void *conn, const char *room);
    /* p left its SFU room (asked, or gone for good). */
    void (*leave)(void *ctx, struct peer *p);
    /* p, in an SFU room, sent `type` ("sfu-publish", "sfu-subscribe-answer")
     * with description sdp. */
    void (*message)(void *ctx, struct peer *p, void *conn, const char *type, const char *sdp);
    /* p, in an SFU room, resumed on connection conn after its grace (what
     * was sent meanwhile was lost); may be NULL. */
    void (*resumed)(void *ctx, struct peer *p, void *conn);
    /* p, in an SFU room, shows the video of the member peer_id at width x
     * height device pixels (0 x 0: not shown), from a validated sfu-view;
     * may be NULL. */
    void (*view)(void *ctx, struct peer *p, const char *peer_id, int width, int height);
    /* p, in an SFU room, names its screen share's video track id (the
     * `screen` of its state; "" when it shares none), when that changed;
     * may be NULL. */
    void (*screen)(void *ctx, struct peer *p, const char *track_id);
};

/* Installs the SFU (copied), or removes it with NULL: then a join asking
 * for an SFU room is refused with sfu_unavailable. */
void hub_set_sfu(struct hub *h, const struct hub_sfu *sfu);
/* Sends text to p's connection; nothing while p is detached. */
void hub_peer_send(struct peer *p, const char *text, size_t len);
/* p's id (16 hex digits), as the other peers know it. */
const char *hub_peer_id(const struct peer *p);
/* The epoch of p's SFU transports: 0 at each join, then the number its
 * latest sfu-reset carried (docs/protocol.md, "SFU rooms"). */
uint32_t hub_peer_sfu_epoch(const struct peer *p);
/* The `screen` p's state names now, "" when none (in an SFU room: its
 * share's video track id). */
const char *hub_peer_screen(const struct peer *p);

/* Accounts as the hub sees them (docs/rooms.md): the glue of --accounts
 * answers these from its database. */
enum hub_team_check { HUB_TEAM_OK, HUB_TEAM_NOT_FOUND, HUB_TEAM_WRONG_PASSWORD, HUB_TEAM_ERROR, HUB_TEAM_PENDING };
struct hub_accounts {
    void *ctx;
    /* Whether the session (hex SHA-256 of its token) is still live. */
    int (*session_live)(void *ctx, const char *session_hash);
    /* Whether the team room id exists and password ("" for none) opens it.
     * HUB_TEAM_PENDING: that takes a password hash, which runs off the
     * loop; the accounts side then calls hub_team_checked() with peer_id,
     * join (the join message, which it holds a reference of) and the
     * answer. */
    enum hub_team_check (*team_room)(void *ctx, const char *id, const char *password, const char *peer_id,
                                     json_t *join);
};

/* Installs the accounts side (copied), or removes it with NULL. */
void hub_set_accounts(struct hub *h, const struct hub_accounts *acc);
/* p's connection carries the live session session_hash of account user_id
 * called name: p is signed in, and hears the presence list (or, past the
 * caps, a presence message that says it is limited). A peer already
 * signed in with the same session is only sent the list again. */
void hub_sign_in(struct peer *p, int64_t user_id, const char *name, const char *session_hash);
/* Asks the accounts side whether each signed-in peer's session is still
 * live; those that ended (logout, log out everywhere, a disabled account,
 * expiry) hear signed-out, leave their team room and the list. */
void hub_presence_recheck(struct hub *h);
/* The answer to a team_room check that was HUB_TEAM_PENDING: the peer
 * peer_id (if it is still connected) gets the error, or its join message
 * join is handled again (the accounts side now knows the password). */
void hub_team_checked(struct hub *h, const char *peer_id, json_t *join, enum hub_team_check rc);
/* Tells every signed-in peer that the team rooms changed (rooms-changed). */
void hub_rooms_changed(struct hub *h);

/* Limits whose hits the hub counts (for /metrics). */
enum hub_limit {
    HUB_LIMIT_MESSAGE, HUB_LIMIT_PIN, HUB_LIMIT_CHAT, HUB_LIMIT_RELAY_BYTES, HUB_LIMIT_LOBBY_FULL, HUB_LIMIT_RENAME,
    HUB_LIMIT_COUNT
};

/* A snapshot of the hub's state: counts only, nothing about who. */
#define HUB_ROOM_KINDS 4

struct hub_stats {
    size_t peers;                   /* identities, attached or within their resume grace */
    size_t detached;                /* of those, waiting to be resumed */
    size_t rooms[HUB_ROOM_KINDS];   /* by kind: named, PIN, lobby call, join-code rooms */
    size_t participants;            /* peers in any room */
    size_t lobby;                   /* peers who said hello */
    size_t calls_ringing, calls_active;
    uint64_t limited[HUB_LIMIT_COUNT]; /* rate-limit hits since start */
};

/* Fills out with the current counts (walks every peer once). */
void hub_stats(const struct hub *h, struct hub_stats *out);

#endif
