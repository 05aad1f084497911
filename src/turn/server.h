/*
 * server — tincan's TURN server (RFC 8656) and STUN Binding (RFC 8489).
 *
 * The glue hands it whole messages from clients — datagrams from the main
 * UDP port, frames cut from TCP or TLS streams — with a turn_source that
 * says where they came from and how to answer. The server authenticates
 * (long-term credentials: static users and the TURN REST secret, stateless
 * nonces), keeps allocations, and relays: through UDP relay sockets to peers
 * on the network, or in process when the peer is another allocation of this
 * server.
 *
 * It does no I/O of its own: relay sockets are a struct turn_relay_ops the
 * embedder gives it (src/server/relay_io.c: real sockets on the loop; the
 * unit tests: a fake), and datagrams that arrive at a relay socket come
 * back in through turn_server_relay_input().
 */
#ifndef TINCAN_TURN_SERVER_H
#define TINCAN_TURN_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../base/loop.h"
#include "policy.h"

enum turn_transport { TURN_UDP, TURN_TCP, TURN_TLS };

struct turn_source;
/* Sends bytes to the client of src (the glue's own way: a datagram from
 * src->local to src->addr, or the connection src->ctx). */
typedef void (*turn_send_fn)(const struct turn_source *src, const uint8_t *buf, size_t len);

/* Where a message came from and how to answer it. The server copies it
 * into the allocation, so it must not point at per-packet memory. */
struct turn_source {
    enum turn_transport transport;
    struct sockaddr_storage addr;   /* the client's address */
    socklen_t addrlen;
    struct sockaddr_storage local;  /* UDP: the address the client sent to (answers leave from it) */
    turn_send_fn send;
    void *ctx;                 /* UDP: the socket's owner; streams: the connection (its 5-tuple) */
};

/* Relay sockets, as the embedder provides them. */
struct turn_relay_ops {
    /* Opens a UDP socket on port of the relay address, with DF set when
     * asked. Returns its handle, or NULL when the port cannot be had (the
     * server then tries another). */
    void *(*open)(void *ctx, uint16_t port, int dont_fragment);
    /* Sends one datagram from the relay socket to peer; failures are drops. */
    void (*send)(void *ctx, void *handle, const struct stun_addr *peer, const uint8_t *data, size_t len);
    /* Closes the socket. Nothing more of it may reach
     * turn_server_relay_input(), not even the rest of a batch being read. */
    void (*close)(void *ctx, void *handle);
    /* Called by turn_server_free() last, after every close; may be NULL. */
    void (*free)(void *ctx);
    void *ctx;
};

/* The SFU of this process, as a peer of allocations (policy POLICY_SFU). */
struct turn_sfu_ops {
    /* Data an allocation sends to the SFU: from its relayed address `from`
     * to the SFU's address `to` (an own address, the main port). */
    void (*input)(void *ctx, const struct stun_addr *from, const struct stun_addr *to, const uint8_t *data,
                  size_t len);
    void *ctx;
};

struct turn_options {
    const char *realm;
    const char *secret;        /* TURN REST secret */
    char *const *users;        /* "name:password" */
    int nusers;
    const char *relay_ip;      /* where relay sockets are bound */
    const char *external_ip;   /* advertised in XOR-RELAYED-ADDRESS; NULL: relay_ip */
    int port_lo, port_hi;
    struct turn_policy policy; /* with this host's addresses and the main port; the relay
                                  addresses and range are added by the server */
    int quota;                 /* allocations per user */
    int source_quota;          /* allocations per source address (IPv6: per /64); 0: no limit */
    int max_allocations;       /* allocations in all; 0: no limit */
    uint64_t bandwidth;        /* bytes per second per allocation; 0: unlimited */
    int nonce_ttl;             /* seconds */
    const char *software;      /* NULL: no SOFTWARE attribute */
    struct turn_relay_ops relay; /* owned by the server from turn_server_new() on, even when it fails */
};

struct turn_stats {
    uint64_t allocations, relayed_packets, relayed_bytes, auth_failures;
    /* relayed_* split by direction: from clients to peers, from peers to clients */
    uint64_t to_peer_packets, to_peer_bytes, to_client_packets, to_client_bytes;
    uint64_t bad_credentials, stale_nonces;        /* of auth_failures: not the first 401 */
    uint64_t unauth_limited, quota_refused, bandwidth_dropped; /* limits hit */
    uint64_t own_refused;     /* peers on this host's own addresses refused (403 or dropped) */
    uint64_t policy_refused;  /* other peers refused by the policy (403) */
    uint64_t binding_limited; /* Binding requests not answered: the source's rate was spent */
    uint64_t unknown_method;  /* requests of methods TURN does not know, dropped unanswered */
    uint64_t source_quota_refused, capacity_refused; /* 486 for a busy source, 508 when full */
    uint64_t unauth_shared;   /* unauthenticated requests of sources the full table had no room for */
    size_t active[3];                              /* allocations now, by enum turn_transport */
};

struct turn_server;

/* Creates the server. Options are copied; strings must outlive it. NULL
 * with a message in err if the relay address is unusable. */
struct turn_server *turn_server_new(struct loop *loop, const struct turn_options *o, char *err, size_t errlen);
/* Frees every allocation and the server; turn_server_free(NULL) is safe. */
void turn_server_free(struct turn_server *ts);
/* Handles one STUN message or ChannelData message from a client. */
void turn_server_input(struct turn_server *ts, const struct turn_source *src, const uint8_t *buf, size_t len);
/* A datagram from peer arrived at relay port: to the allocation's client if
 * its permissions and limits allow. Returns 0, or -1 when no allocation
 * holds the port any more (the delivery may have ended it: a stream client
 * that could not take more): stop handing in datagrams of that socket. */
int turn_server_relay_input(struct turn_server *ts, uint16_t port, const struct stun_addr *peer, const uint8_t *data,
                            size_t len);
/* Plugs the SFU in (copied; NULL unplugs): from now on an allocation's
 * data to the main port of an own address goes to sfu->input. */
void turn_server_set_sfu(struct turn_server *ts, const struct turn_sfu_ops *sfu);
/* The SFU sends data from its address `from` to `to`: if `to` is the
 * relayed address of an allocation here, it is delivered in process (when
 * the allocation's permissions and limits allow) and 0 is returned; else
 * -1 and the caller sends it on the network. */
int turn_server_from_sfu(struct turn_server *ts, const struct stun_addr *from, const struct stun_addr *to,
                         const uint8_t *data, size_t len);
/* A TCP or TLS client (ctx) went away: its allocation ends. */
void turn_server_stream_closed(struct turn_server *ts, void *ctx);
/* Mints a REST credential valid for ttl seconds. Returns 0 or -1. */
int turn_server_credential(struct turn_server *ts, const char *user, int ttl, char *username, size_t cap,
                           char password[29]);
/* Counters for /metrics and tests. */
struct turn_stats turn_server_stats(const struct turn_server *ts);

#endif
