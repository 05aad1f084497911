/*
 * sfu_int — the SFU glue's own types, shared by sfu_glue.c (UDP, sessions,
 * metrics) and sfu_signal.c (rooms, descriptions). Not for other files.
 */
#ifndef TINCAN_SFU_INT_H
#define TINCAN_SFU_INT_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "../base/loop.h"
#include "../base/spsc.h"
#include "../base/strmap.h"
#include "../net/sock.h"
#include "../net/udp.h"
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

#define SFU_QUEUE_SLOTS 2048          /* datagrams on their way to one media thread */

struct sfu_part;
struct sfu_glue;
struct udp_packet;

/* A media thread (docs/sfu.md, "Threading"): its loop runs the rooms
 * pinned to it — their sessions, timers and forwarding. With
 * --media-threads 1 there is one, not threaded: the main loop itself.
 * Fields marked [main] are only touched by the main thread; [own] only
 * by the media thread, or by the main thread while it is parked
 * (sfu_worker_enter). */
struct sfu_worker {
    struct sfu_glue *g;
    unsigned index;
    int threaded;                    /* 0: the main loop, no queues */
    struct loop *loop;               /* its loop (the main loop when !threaded) */
    size_t parts, rooms;             /* [main] placement: participants and rooms pinned here */
    struct sfu_room_stats router;    /* [own] its rooms' counters */
    uint64_t dropped[SFU_DROPS];     /* [own] */
    uint8_t in[SFU_BUF];             /* [own] a datagram being unprotected in place */
    uint8_t out[SFU_BUF];            /* [own] the routers' copies and feedback */
    /* threaded only */
    pthread_t thread;
    struct spsc *inbox;              /* main → worker: datagrams, park, stop */
    struct spsc *outbox;             /* worker → main: bindings, TURN sends, notices */
    struct loop_io inbox_io;         /* on its loop */
    struct loop_io outbox_io;        /* on the main loop */
    struct loop_defer inbox_kick;    /* on the main loop: one wake-up per iteration */
    _Atomic int idle;                /* 1: it found its inbox empty and may sleep: wake it */
    struct loop_defer outbox_kick;   /* on its loop */
    struct loop_defer flush;         /* on its loop: the send batch */
    sem_t parked, resume;
    int depth;                       /* [main] nested sfu_worker_enter() */
    int fd, own_fd;                  /* the socket it sends on; own_fd: its own (SO_REUSEPORT) */
    struct udp_tx_batch tx;          /* [own] */
    uint64_t inbox_full;             /* [main] datagrams dropped: its inbox was full */
    uint64_t outbox_full;            /* [own] messages to the main loop dropped: full */
};

/* A remote address that passed ICE, mapped to its transport. */
struct sfu_bind {
    struct strmap_entry e;           /* in glue->by_addr */
    char key[SFU_ADDR_KEY];
    struct sfu_tx *tx;
    int used;
};

/* The glue's side of one transport: credentials, addresses, timer.
 * ufrag, binds and the map entries are the main thread's; sess, timer,
 * local and turn_from are its worker's (sfu_worker). */
struct sfu_tx {
    struct sfu_glue *g;
    struct sfu_worker *w;            /* the thread of its room */
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
    struct stun_addr turn_from[ICE_MAX_PAIRS]; /* remote addresses that came through our TURN relay */
    size_t nturn;
};

struct sfu_groom {
    struct strmap_entry entry;
    char key[72];
    struct sfu_room *router;
    struct sfu_worker *w;            /* the thread it is pinned to */
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
    uint64_t dropped[SFU_DROPS];     /* found no transport on the main loop */
    uint64_t consent_closed;
    struct loop_timer sweep;         /* consent freshness and dead sessions */
    uint64_t from_turn;              /* datagrams our TURN relays handed over in process */
    struct sfu_worker **workers;
    unsigned nworkers;
};

/* sfu_worker.c: the media threads. */
/* Starts n workers (n == 1: the main loop itself, no thread). 0, or -1
 * after logging. */
int sfu_workers_start(struct sfu_glue *g, unsigned n);
/* Stops and joins the threads and frees the workers. Their rooms must
 * be gone. */
void sfu_workers_stop(struct sfu_glue *g);
/* The worker a new room goes to: the one with the fewest participants,
 * then the fewest rooms. */
struct sfu_worker *sfu_worker_pick(struct sfu_glue *g);
/* Main thread: parks w (it finishes what is queued before, then waits)
 * so the caller may touch its rooms and sessions, and handles what w
 * queued for the main loop. Nests. No-op for the main loop's own worker. */
void sfu_worker_enter(struct sfu_worker *w);
/* Lets w run again. */
void sfu_worker_leave(struct sfu_worker *w);
void sfu_workers_enter_all(struct sfu_glue *g);
void sfu_workers_leave_all(struct sfu_glue *g);
/* Main thread: handles what w queued for the main loop (before freeing
 * a participant its messages may name; w parked). */
void sfu_worker_flush(struct sfu_worker *w);
/* Main thread: handles what every worker queued for the main loop. */
void sfu_workers_drain(struct sfu_glue *g);
/* Main thread: hands datagram p for t to t's worker (ice: it is a check,
 * note its local address; turn: it came from our TURN relay). Delivered
 * at once when t's worker is the main loop. */
void sfu_worker_post(struct sfu_tx *t, const struct udp_packet *p, int ice, int turn);
/* Worker: sends buf to `to` from our address local, on its socket. */
void sfu_worker_send(struct sfu_worker *w, const struct sockaddr_storage *local, const struct sockaddr_storage *to,
                     socklen_t tolen, const uint8_t *buf, size_t len);
/* Worker: asks the main loop to bind remote to t, to send buf through
 * our TURN relay, or to tell part its room's active speaker or its
 * estimate. Done at once when w is the main loop. */
void sfu_worker_bind(struct sfu_worker *w, struct sfu_tx *t, const struct stun_addr *remote);
void sfu_worker_turn(struct sfu_worker *w, const struct stun_addr *local, const struct stun_addr *to,
                     const uint8_t *buf, size_t len);
void sfu_worker_speaker(struct sfu_worker *w, struct sfu_part *part);
void sfu_worker_estimate(struct sfu_worker *w, struct sfu_part *part, uint64_t bps);

/* sfu_glue.c, for the workers. */
/* Worker: datagram buf (len bytes in a buffer of cap) from `from` for t. */
void sfu_glue_deliver(struct sfu_worker *w, struct sfu_tx *t, uint8_t *buf, size_t len, size_t cap,
                      const struct sockaddr_storage *from, const struct sockaddr_storage *local, int ice, int turn);
/* Main: a check from remote succeeded on t. */
void sfu_glue_bind(struct sfu_tx *t, const struct stun_addr *remote);
/* Main: buf from our address local to `to` through our TURN relay. */
void sfu_glue_turn_send(struct sfu_glue *g, const struct stun_addr *local, const struct stun_addr *to,
                        const uint8_t *buf, size_t len);

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
/* Main: the room's active speaker (part) to everyone in it; part's
 * subscriber estimate to its browser. */
void sfu_signal_active_speaker(struct sfu_part *part);
void sfu_signal_estimate(struct sfu_part *part, uint64_t bps);
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
