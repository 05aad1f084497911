/*
 * turn — the types shared by the TURN server's two halves: server.c
 * (requests, authentication) and relay.c (relay sockets and the data path).
 * Not for use outside src/turn.
 */
#ifndef TINCAN_TURN_H
#define TINCAN_TURN_H

#include "../base/ratelimit.h"
#include "../base/strmap.h"
#include "../stun/auth.h"
#include "alloc.h"
#include "unauth.h"
#include "keymap.h"
#include "server.h"

#define TURN_MAX_DATAGRAM 1500
#define TURN_USER_MAX 513

struct turn_alloc {
    struct keymap_entry by_tuple;    /* the client's 5-tuple, see tuple_key() */
    struct turn_server *ts;
    struct turn_source src;          /* how to reach the client */
    struct turn_user_count *user;
    struct source_count *source;
    uint8_t key[AUTH_KEY_MD5_LEN];
    struct alloc_state st;
    void *handle;                     /* the relay socket (turn_relay_ops), or NULL */
    uint16_t port;
    struct stun_addr relayed;         /* as advertised */
    struct loop_timer expiry;
    double bw_tokens;
    uint64_t bw_last;
};

/* Allocations of one source address (IPv6: one /64). */
struct source_count {
    struct keymap_entry entry;
    int count;
};

struct turn_user_count {
    struct strmap_entry entry;
    char name[TURN_USER_MAX];
    int count;
};

struct static_user {
    char name[TURN_USER_MAX];
    uint8_t key[AUTH_KEY_MD5_LEN];
};

struct turn_server {
    struct loop *loop;
    struct turn_options opt;
    struct keymap allocs;            /* 5-tuple → struct turn_alloc */
    struct strmap users;
    struct unauth_table unauth;      /* answers before authentication, per source */
    struct keymap sources;           /* source key → struct source_count */
    int nallocs;
    struct turn_alloc **by_port;      /* port - port_lo → allocation */
    struct static_user *static_users;
    int nstatic;
    uint8_t nonce_secret[32];
    struct stun_addr relay_local, relay_public;
    struct turn_stats stats;
    struct turn_sfu_ops sfu;         /* the SFU in this process, or input NULL */
    struct loop_timer sweep;
    uint64_t txid_state;             /* xorshift64* for Data indications */
};

/* relay.c */
/* Opens a relay socket (turn_relay_ops) on a free (even, if asked) port for
 * a; 0, or -EADDRINUSE (508). */
int relay_open(struct turn_server *ts, struct turn_alloc *a, int dont_fragment, int even);
/* Closes a's relay socket and frees its port. */
void relay_close(struct turn_server *ts, struct turn_alloc *a);
/* True if peer is a relay port of this server (delivered in process). */
int relay_is_own(const struct turn_server *ts, const struct stun_addr *peer);
/* Data from peer at a's relayed address, to a's client if allowed.
 * in_process: peer is another allocation here. */
void relay_deliver(struct turn_server *ts, struct turn_alloc *a, const struct stun_addr *peer, const uint8_t *data,
                   size_t len, int in_process);
/* Sends data from a's relayed address to peer (in process when the peer is
 * another allocation here). Checks a's permission for peer first. */
void relay_to_peer(struct turn_server *ts, struct turn_alloc *a, const struct stun_addr *peer, const uint8_t *data,
                   size_t len);
/* ChannelData from a's client. */
void relay_channel_from_client(struct turn_server *ts, struct turn_alloc *a, const uint8_t *buf, size_t len);

/* server.c */
/* The allocation of a client's 5-tuple, or NULL. */
struct turn_alloc *turn_find_alloc(struct turn_server *ts, const struct turn_source *src);
/* Sends bytes to a's client. */
void turn_send_client(struct turn_alloc *a, const uint8_t *buf, size_t len);

#endif
