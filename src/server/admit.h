/*
 * admit — who may open a TCP connection, and what happens when the process
 * runs out of descriptors.
 *
 * Three limits, checked on every accepted connection (main port and
 * --http-port):
 *   - the total: --max-connections, by default the open-file limit less a
 *     reserve for the relay sockets and the server's own files; over it the
 *     new connection is closed at once (limit="max_connections");
 *   - per source (an IPv4 address, or an IPv6 /64: sock_ip_source()),
 *     connections that are not WebSockets (TLS handshakes, HTTP, TURN over
 *     TCP/TLS): --max-conns-per-ip (limit="connections_per_ip");
 *   - per source, WebSockets: --max-ws-per-ip, checked at the upgrade, which
 *     moves the connection from the first count to this one; over it the
 *     upgrade is answered 503 (limit="ws_per_ip").
 * When accept() fails for want of descriptors (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM) the listener is paused for ADMIT_PAUSE_MS instead of spinning on a
 * level-triggered readiness that cannot be cleared (limit="accept_paused"),
 * and the warning is logged at most once every ADMIT_LOG_EVERY_MS with the
 * number of pauses in between.
 */
#ifndef TINCAN_ADMIT_H
#define TINCAN_ADMIT_H

#include <stdint.h>

#include "../base/loop.h"
#include "../net/sock.h"

#define ADMIT_PAUSE_MS 250
#define ADMIT_LOG_EVERY_MS 10000
#define ADMIT_RESERVE_FDS 64 /* descriptors kept for everything but connections and relays */

struct server;
struct client;
struct ipcount;

/* A listener that can be paused; embedded where its loop_io is. */
struct admit_pause {
    struct server *srv;
    struct loop_io *io;
    struct loop_timer timer;
};

/* The server's admission state (embedded in struct server). */
struct admit {
    long max_connections;        /* the effective cap */
    struct ipcount *per_source;  /* connections that are not WebSockets */
    struct ipcount *ws;          /* WebSockets */
    uint64_t total_refused;      /* over --max-connections */
    uint64_t per_source_refused; /* over --max-conns-per-ip */
    uint64_t ws_refused;         /* upgrades over --max-ws-per-ip */
    uint64_t paused;             /* listener pauses for want of descriptors */
    uint64_t last_log_ms, unlogged;
    int logged;                  /* a warning was logged once */
};

/* Sets up a's tables; max is the effective connection cap. */
void admit_init(struct admit *a, long max);
/* Frees a's tables. */
void admit_cleanup(struct admit *a);
/* Binds a pause to the listener io of s. */
void admit_pause_init(struct admit_pause *p, struct server *s, struct loop_io *io);
/* The connection cap: --max-connections if set, else nofile less
 * ADMIT_RESERVE_FDS and one descriptor per relay port (at least 16). */
long admit_max_connections(long configured, long nofile, long relay_ports);
/* Decides on a connection just accepted from source (see sock_ip_source()).
 * Returns 0 and counts it, or -1 (counted as refused; the caller closes fd). */
int admit_connection(struct server *s, const struct sock_ip *source);
/* Moves an admitted connection of source to the WebSocket count. Returns 0,
 * or -1 (nothing changed) when source has --max-ws-per-ip already. */
int admit_websocket(struct server *s, const struct sock_ip *source);
/* Forgets a connection of source; ws says which count it was in. */
void admit_release(struct server *s, const struct sock_ip *source, int ws);
/* Handles a failed accept() on p's listener (err is the positive errno):
 * pauses it for want of descriptors (it resumes by itself), logs other
 * errors. EAGAIN and friends are not failures and do nothing. */
void admit_accept_failed(struct admit_pause *p, int err);
/* Accepts one connection on listen_fd and, if admit_connection() lets it
 * in, makes it a client (*c; NULL when that failed). Returns 1 when it was
 * admitted, 0 when it was refused and closed, -1 when there is nothing
 * more to accept now (a failure goes to admit_accept_failed(pause)). */
int admit_accept_one(struct server *s, int listen_fd, struct admit_pause *pause, struct client **c);

#endif
