/*
 * client — one accepted TCP connection and its protocol state.
 *
 * A client starts by sniffing its first bytes (TLS, plain HTTP or STUN), may
 * do a TLS handshake and sniff again, then speaks HTTP/1.1 with keep-alive
 * until it upgrades to a WebSocket. One timer serves every deadline of the
 * current state: handshake, request head, keep-alive idle, WebSocket ping.
 * Memory is released through the loop's deferred queue, never while a
 * handler of the same iteration might still hold the pointer.
 */
#ifndef TINCAN_CLIENT_H
#define TINCAN_CLIENT_H

#include <stdint.h>

#include "../base/loop.h"
#include "../net/conn.h"
#include "../net/sock.h"

struct server;
struct ws_session;
struct client;

/* What a connection speaks once its first bytes have told (HTTP, a
 * WebSocket, a TURN stream, the lingering close): one table per protocol,
 * as libuv has one per handle type. client.c does the reading, writing,
 * sniffing and closing, and calls these; it knows no protocol itself. */
struct client_proto {
    const char *name;
    /* Input has bytes: take what is whole, leave the rest in c->conn.in. */
    void (*on_data)(struct client *c);
    /* The client's one timer fired (client_set_timer). */
    void (*on_timer)(struct client *c);
    /* The server is stopping: close, or finish and close (SIGTERM). */
    void (*on_shutdown)(struct client *c);
    /* The connection is going away, or moves on to another protocol (a
     * WebSocket lingering after its close): release what the protocol
     * holds. NULL: nothing. */
    void (*on_close)(struct client *c);
    /* May more input be read now? NULL: always. */
    int (*wants_input)(const struct client *c);
    /* Bytes queued on an idle connection go out at once, not at the end of
     * the iteration (a relayed message should not wait). */
    int flush_at_once;
};

enum client_state {
    CLIENT_SNIFF,          /* first bytes not seen yet */
    CLIENT_TLS_HANDSHAKE,
    CLIENT_TLS_SNIFF,      /* first decrypted bytes not seen yet */
    CLIENT_HTTP,           /* reading requests */
    CLIENT_WS,             /* upgraded */
    CLIENT_TURN,           /* STUN/TURN over TCP or TLS */
    CLIENT_LINGER,         /* output flushed, waiting for the peer to close */
    CLIENT_CLOSED,
};

/* An answer being made off the loop (a password hash, src/server/
 * accounts_glue.c): the connection reads no further request meanwhile, and
 * cancel runs if the connection goes first. */
struct client_wait {
    void (*cancel)(struct client_wait *w);
};

struct client {
    struct conn conn;
    struct server *srv;
    struct client *prev, *next;
    struct sock_ip ip;
    struct sock_ip source;     /* ip as per-source limits count it (IPv6: the /64) */
    int counted_ws;            /* counted as a WebSocket by admit */
    uint64_t id;
    enum client_state state;
    const struct client_proto *proto; /* set from CLIENT_HTTP on */
    int plain;                 /* HTTP without TLS: only redirects */
    int http_port;             /* accepted on --http-port: plain HTTP only */
    int close_after_flush;     /* then linger and close */
    int overflowed;            /* output queue full: closed by the deferred update */
    int in_request;            /* bytes of a request head have arrived */
    struct loop_timer timer;
    struct loop_defer release;
    struct loop_defer flush;   /* output queued from another client's event */
    struct ws_session *ws;     /* set once upgraded */
    struct client_wait *waiting; /* HTTP: the current request's answer is being made */
};

/* Takes an accepted fd from ip and starts sniffing. Returns the client, or
 * NULL if it was closed at once. */
struct client *client_accept(struct server *s, int fd, const struct sock_ip *ip);
/* Closes the connection now; the memory goes at the end of the iteration. */
void client_close(struct client *c, const char *reason);
/* Queues bytes. On overflow the client (too slow) is marked and closed
 * once the current events are handled, never inside this call, so callers
 * may go on using their pointers. Returns 0, or -1 when the bytes were not
 * queued (overflow now or before, or closed). */
int client_send(struct client *c, const void *p, size_t n);
/* Queues two pieces as one send (a frame header and its payload). */
int client_send2(struct client *c, const void *p, size_t n, const void *p2, size_t n2);
/* Arms the client's single timer to fire after ms. */
void client_set_timer(struct client *c, uint64_t ms);
/* Flushes and updates which events to wait for; call after queueing. */
void client_update(struct client *c);
/* Stops reading, flushes what is queued, then closes gracefully. */
void client_finish(struct client *c);
/* Graceful shutdown of one client (SIGTERM). */
void client_shutdown(struct client *c);
/* From now on c speaks proto, in state (CLIENT_HTTP, CLIENT_WS, ...). */
void client_become(struct client *c, enum client_state state, const struct client_proto *proto);

#endif
