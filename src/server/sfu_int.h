/*
 * sfu_int — the SFU glue's own types, shared by sfu_glue.c (UDP, sessions,
 * metrics) and sfu_signal.c (rooms, descriptions). Not for other files.
 */
#ifndef TINCAN_SFU_INT_H
#define TINCAN_SFU_INT_H

#include <sys/socket.h>

#include "../base/loop.h"
#include "../base/strmap.h"
#include "../net/sock.h"
#include "../sfu/ice_lite.h"
#include "../sfu/room.h"
#include "../sfu/session.h"
#include "../sfu/srtp.h"
#include "../signal/hub.h"
#include "sfu_glue.h"

#define SFU_ADDR_KEY 40              /* hex of family, port and address */
#define SFU_BUF (SOCK_DATAGRAM_MAX + SFU_SRTP_TRAILER_MAX)
#define SFU_CONSENT_MS 30000         /* RFC 7675 §5.1: consent expires after 30 s without a check */
#define SFU_SWEEP_MS 2000            /* how often transports are looked at */

struct sfu_part;
struct sfu_glue;

/* A remote address that passed ICE, mapped to its transport. */
struct sfu_bind {
    struct strmap_entry e;           /* in glue->by_addr */
    char key[SFU_ADDR_KEY];
    struct sfu_tx *tx;
    int used;
};

/* The glue's side of one transport: credentials, addresses, timer. */
struct sfu_tx {
    struct sfu_glue *g;
    struct sfu_part *part;
    int publisher;                   /* 1: publisher transport, 0: subscriber */
    struct sfu_session *sess;        /* publisher: NULL until the browser's offer came;
                                        subscriber: made with our offer, completed by the answer */
    int started;                     /* the browser's description is in (sfu_tx_start) */
    struct strmap_entry by_ufrag;
    char ufrag[17], pwd[33];
    struct sfu_bind binds[ICE_MAX_PAIRS]; /* remote addresses that passed ICE */
    size_t next_bind;
    struct sockaddr_storage local;   /* our address the checks came to */
    struct loop_timer timer;
    uint64_t started_ms;             /* when the session started (consent counts from there) */
};

struct sfu_groom {
    struct strmap_entry entry;
    char key[72];
    struct sfu_room *router;
    size_t count;
};

/* One participant of an SFU room. */
struct sfu_part {
    struct sfu_part *prev, *next;
    struct sfu_glue *g;
    struct peer *peer;
    struct sfu_groom *room;
    struct sfu_member *member;
    struct sfu_tx *pub, *sub;
    char host_ip[64];                /* our candidate's address for this browser */
    int sub_pending;                 /* an sfu-offer waits for its answer */
    int sub_dirty;                   /* the tracks changed meanwhile: offer again after it */
    const char *closed_pub, *closed_sub; /* sfu-closed reasons not yet followed by a new transport */
};

struct sfu_glue {
    struct server *srv;
    struct dtls_server *dtls;
    struct strmap by_ufrag, by_addr, rooms;
    struct sfu_part *parts;
    size_t sessions;
    struct sfu_room_stats router;
    uint64_t dropped[SFU_DROPS];
    uint64_t consent_closed;
    struct loop_timer sweep;         /* consent freshness and dead sessions */
    uint64_t from_turn;              /* datagrams our TURN relays handed over in process */
    uint8_t in[SFU_BUF];             /* a datagram being unprotected in place */
    uint8_t out[SFU_BUF];            /* the routers' copies and feedback */
};

/* sfu_glue.c: transports. */
struct sfu_tx *sfu_tx_new(struct sfu_glue *g, struct sfu_part *part, int publisher);
/* Starts the ICE/DTLS session once the browser's ufrag and fingerprint
 * are known. 0, or -1 if they are unusable. */
int sfu_tx_start(struct sfu_tx *t, const char *ufrag, const char *fp_hash, const char *fp);
void sfu_tx_free(struct sfu_tx *t);
/* The browser restarts ICE with remote_ufrag: t gets new credentials of
 * its own, keeping its DTLS and SRTP. 0, or -1 (t unchanged). */
int sfu_tx_restart(struct sfu_tx *t, const char *remote_ufrag);
/* The router's callbacks: forward to a participant's subscriber
 * transport, feedback to its publisher transport. */
void sfu_tx_send_rtp(void *part, uint8_t *pkt, size_t len, size_t cap);
void sfu_tx_send_rtcp(void *part, uint8_t *pkt, size_t len, size_t cap);
void sfu_tx_send_sub_rtcp(void *part, uint8_t *pkt, size_t len, size_t cap);

/* sfu_signal.c: the hub's hooks. */
void sfu_signal_hook(struct sfu_glue *g);
/* A participant's subscriber transport is connected. */
void sfu_signal_sub_connected(struct sfu_part *p);
/* Closes transports whose consent lapsed (no valid check for
 * SFU_CONSENT_MS) or whose DTLS failed or closed, telling their members. */
void sfu_signal_sweep(struct sfu_glue *g);

/* Counts the tracks of connected transports into tracks[dir][kind] (see
 * struct sfu_glue_stats). */
void sfu_signal_tracks(const struct sfu_glue *g, size_t tracks[2][2]);
/* Frees every participant and room. */
void sfu_signal_free_all(struct sfu_glue *g);

#endif
