/*
 * server — the one listener and everything attached to it.
 *
 * The server owns the TCP listener, the TLS context (replaced on SIGHUP),
 * the list of live clients and the per-address connection counts. It turns
 * SIGTERM/SIGINT into a graceful shutdown: stop accepting, close WebSockets
 * with 1001, let responses finish, exit within five seconds.
 */
#ifndef TINCAN_SERVER_H
#define TINCAN_SERVER_H

#include <openssl/ssl.h>
#include <stdint.h>

#include "../base/conf.h"
#include "../base/loop.h"
#include "admit.h"

struct client;
struct hub;
struct turn_server;
struct rest_glue;
struct acme_glue;
struct accounts_glue;
struct udp_port;
struct sfu_glue;

/* What a connection turned out to be, for /metrics. */
enum server_kind { SERVER_KIND_HTTP, SERVER_KIND_WS, SERVER_KIND_TURN_TCP, SERVER_KIND_TURN_TLS, SERVER_KINDS };

struct server {
    struct loop *loop;
    const struct conf *conf;
    SSL_CTX *tls;
    char cert_path[4096], key_path[4096];
    int listen_fd;
    struct loop_io listen_io;
    struct loop_io signal_io;
    struct loop_timer shutdown_timer;
    struct client *clients;     /* doubly linked list of live clients */
    size_t nclients;
    struct admit admit;         /* connection caps, per-source counts */
    struct admit_pause listen_pause;
    struct hub *hub;            /* signaling */
    struct turn_server *turn;   /* STUN/TURN */
    char *turn_secret;
    struct udp_port *udp;       /* the main port's UDP socket and its demultiplexer */
    struct sfu_glue *sfu;       /* the SFU on the main port (sfu_glue.h) */
    struct rest_glue *rest;     /* REST API and its store; NULL when off */
    struct acme_glue *acme;     /* ACME and --http-port, or NULL */
    struct accounts_glue *accounts; /* accounts and team rooms; NULL when off */
    uint64_t started_ms;
    uint64_t next_id;
    int shutting_down;
    uint64_t accepted;                  /* TCP connections admitted */
    uint64_t rest_limited;              /* REST API requests answered 429 */
    uint64_t rest_refused[2];           /* by the store's limits: enum rest_refused */
    uint64_t became[SERVER_KINDS];      /* connections that became each kind (ws: upgrades) */
};

/* Sets up certificate, listener and signal handling from conf. Returns 0,
 * or -1 after logging why. */
int server_init(struct server *s, struct loop *loop, const struct conf *conf);
/* Runs until shutdown completes; returns the process exit code. */
int server_run(struct server *s);
/* Frees what server_init() created. */
void server_cleanup(struct server *s);
/* Loads (or re-loads) the certificate into a new TLS context. 0 or -1. */
int server_load_tls(struct server *s);
/* The database file that the REST API and accounts share: --db, else
 * <data-dir>/tincan.db (creating the data directory). Returns 0, or -1
 * after logging why. */
int server_db_path(const struct conf *conf, char *out, size_t len);
/* Called by a client when it is gone, so shutdown can finish early. */
void server_client_gone(struct server *s);

#endif
