/*
 * sfu_worker — the SFU's media threads (docs/sfu.md, "Threading").
 *
 * Each worker runs a loop of its own in a thread of its own; the rooms
 * pinned to it, their ICE/DTLS/SRTP sessions, timers and forwarding live
 * there and nowhere else. The main loop still reads every datagram of the
 * main port (the workers' sockets share its port through SO_REUSEPORT,
 * and a BPF program steers the group's traffic to the main socket), finds
 * the transport by ufrag or address, and copies the datagram into the
 * worker's inbox (an spsc queue; one eventfd wake-up per loop iteration).
 * The worker unprotects, forwards, protects and sends with sendmmsg from
 * its own socket — the same source address and port.
 *
 * What a worker needs of the main thread goes the other way through its
 * outbox: an address that passed ICE (the main loop's routing table), a
 * datagram for a browser behind our TURN relay, an active-speaker or
 * estimate notice for signaling. Signaling itself touches a room only
 * while its worker is parked: sfu_worker_enter() queues a PARK behind the
 * datagrams already in the inbox, the worker handles those, says so and
 * waits on a semaphore until sfu_worker_leave(). So the packet path takes
 * no lock, and no pointer in a queue outlives what it points to: a
 * transport or participant is freed only while its worker is parked, after
 * the main thread has emptied that worker's outbox.
 *
 * With one worker it is the main loop itself: every call below is a
 * direct call and the path is the single-loop one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "../stun/stun.h"
#include "server.h"
#include "sfu_int.h"
#include "udp_port.h"

enum in_kind { IN_PACKET, IN_PARK, IN_STOP };

struct in_msg {
    uint8_t kind, ice, turn;
    struct sfu_tx *tx;
    struct sockaddr_storage from, local;
    size_t len;
    uint8_t data[SFU_BUF];           /* unprotected in place */
};

enum out_kind { OUT_BIND, OUT_TURN, OUT_SPEAKER, OUT_ESTIMATE };

struct out_msg {
    uint8_t kind;
    void *ptr;                       /* the transport or participant */
    uint64_t bps;
    struct stun_addr a, b;           /* bind: a remote; turn: a local, b to */
    size_t len;
    uint8_t data[SFU_BUF];
};

#define OUTBOX_SLOTS 1024
#define INBOX_BURST 256              /* datagrams handled per wake-up before the loop's timers get a turn */

/* --- the worker's side --- */

static void sem_wait_all(sem_t *s)
{
    while (sem_wait(s) < 0 && errno == EINTR)
        ;
}

static void on_flush(struct loop *loop, struct loop_defer *d)
{
    (void)loop;
    struct sfu_worker *w = container_of(d, struct sfu_worker, flush);
    udp_tx_flush(&w->tx, w->fd);
}

static void kick_outbox(struct loop *loop, struct loop_defer *d)
{
    (void)loop;
    spsc_kick(container_of(d, struct sfu_worker, outbox_kick)->outbox);
}

/* One inbox message; 1 if the worker must stop. */
static int handle_in(struct sfu_worker *w, struct in_msg *m)
{
    switch (m->kind) {
    case IN_PACKET:
        sfu_glue_deliver(w, m->tx, m->data, m->len, sizeof(m->data), &m->from, &m->local, m->ice, m->turn);
        return 0;
    case IN_PARK:
        /* What we queued for the main loop must be in the outbox before
         * it looks (it empties the outbox once we are parked). */
        sem_post(&w->parked);
        sem_wait_all(&w->resume);
        return 0;
    default:
        return 1;
    }
}

/* Handles up to a burst of the inbox: 1 if the worker must stop. */
static int inbox_burst(struct sfu_worker *w)
{
    struct in_msg *m;
    for (int n = 0; n < INBOX_BURST && (m = spsc_peek(w->inbox)); n++) {
        int stop = handle_in(w, m);
        spsc_pop(w->inbox);
        if (stop)
            return 1;
    }
    return 0;
}

/* The main loop wakes a worker only when it said it was idle (see
 * kick_inbox): it says so once its inbox is empty, and then looks once
 * more, so a datagram queued in between is never left waiting. */
static void on_inbox(struct loop *loop, struct loop_io *io, unsigned events)
{
    (void)events;
    struct sfu_worker *w = container_of(io, struct sfu_worker, inbox_io);
    spsc_drain_fd(w->inbox);
    for (;;) {
        if (inbox_burst(w)) {
            loop_stop(loop);
            return;
        }
        if (spsc_peek(w->inbox)) {
            spsc_kick(w->inbox); /* more than a burst: come back after the timers */
            return;
        }
        atomic_store(&w->idle, 1);
        atomic_thread_fence(memory_order_seq_cst);
        if (!spsc_peek(w->inbox))
            return;
        atomic_store(&w->idle, 0);
    }
}

static void *run(void *arg)
{
    struct sfu_worker *w = arg;
    loop_run(w->loop);
    udp_tx_flush(&w->tx, w->fd);
    return NULL;
}

/* A slot of the outbox, or NULL (counted) when it is full. */
static struct out_msg *out_slot(struct sfu_worker *w, enum out_kind kind)
{
    struct out_msg *m = spsc_reserve(w->outbox);
    if (!m) {
        w->outbox_full++;
        return NULL;
    }
    m->kind = (uint8_t)kind;
    return m;
}

static void out_commit(struct sfu_worker *w)
{
    spsc_commit(w->outbox);
    loop_defer(w->loop, &w->outbox_kick, kick_outbox);
}

void sfu_worker_send(struct sfu_worker *w, const struct sockaddr_storage *local, const struct sockaddr_storage *to,
                     socklen_t tolen, const uint8_t *buf, size_t len)
{
    if (!w->threaded) {
        udp_port_send(w->g->srv->udp, local, to, tolen, buf, len);
        return;
    }
    udp_tx_queue(&w->tx, w->fd, local, to, tolen, buf, len);
    loop_defer(w->loop, &w->flush, on_flush);
}

void sfu_worker_bind(struct sfu_worker *w, struct sfu_tx *t, const struct stun_addr *remote)
{
    if (!w->threaded) {
        sfu_glue_bind(t, remote);
        return;
    }
    struct out_msg *m = out_slot(w, OUT_BIND);
    if (!m)
        return;
    m->ptr = t;
    m->a = *remote;
    out_commit(w);
}

void sfu_worker_turn(struct sfu_worker *w, const struct stun_addr *local, const struct stun_addr *to,
                     const uint8_t *buf, size_t len)
{
    if (!w->threaded) {
        sfu_glue_turn_send(w->g, local, to, buf, len);
        return;
    }
    struct out_msg *m = len <= sizeof(m->data) ? out_slot(w, OUT_TURN) : NULL;
    if (!m)
        return;
    m->a = *local;
    m->b = *to;
    m->len = len;
    memcpy(m->data, buf, len);
    out_commit(w);
}

void sfu_worker_speaker(struct sfu_worker *w, struct sfu_part *part)
{
    if (!w->threaded) {
        sfu_signal_active_speaker(part);
        return;
    }
    struct out_msg *m = out_slot(w, OUT_SPEAKER);
    if (!m)
        return;
    m->ptr = part;
    out_commit(w);
}

void sfu_worker_estimate(struct sfu_worker *w, struct sfu_part *part, uint64_t bps)
{
    if (!w->threaded) {
        sfu_signal_estimate(part, bps);
        return;
    }
    struct out_msg *m = out_slot(w, OUT_ESTIMATE);
    if (!m)
        return;
    m->ptr = part;
    m->bps = bps;
    out_commit(w);
}

/* --- the main thread's side --- */

static void drain_outbox(struct sfu_worker *w);

static void handle_out(struct sfu_worker *w, const struct out_msg *m)
{
    switch (m->kind) {
    case OUT_BIND:
        sfu_glue_bind(m->ptr, &m->a);
        break;
    case OUT_TURN:
        sfu_glue_turn_send(w->g, &m->a, &m->b, m->data, m->len);
        break;
    case OUT_SPEAKER:
        sfu_signal_active_speaker(m->ptr);
        break;
    default:
        sfu_signal_estimate(m->ptr, m->bps);
        break;
    }
}

void sfu_worker_flush(struct sfu_worker *w)
{
    if (w->threaded)
        drain_outbox(w);
}

/* Each message is taken off before it is handled: what handling it
 * sets off (a send that ends a WebSocket, a participant freed) may empty
 * the outbox again from inside. */
static void drain_outbox(struct sfu_worker *w)
{
    const struct out_msg *m;
    struct out_msg copy;
    while ((m = spsc_peek(w->outbox))) {
        memcpy(&copy, m, offsetof(struct out_msg, data) + (m->kind == OUT_TURN ? m->len : 0));
        spsc_pop(w->outbox);
        handle_out(w, &copy);
    }
}

static void on_outbox(struct loop *loop, struct loop_io *io, unsigned events)
{
    (void)loop;
    (void)events;
    struct sfu_worker *w = container_of(io, struct sfu_worker, outbox_io);
    spsc_drain_fd(w->outbox);
    drain_outbox(w);
}

void sfu_workers_drain(struct sfu_glue *g)
{
    for (unsigned i = 0; i < g->nworkers; i++)
        if (g->workers[i]->threaded)
            drain_outbox(g->workers[i]);
}

/* Once per main-loop iteration with datagrams queued for w: an eventfd
 * write only if w may be asleep; a busy worker finds them before it
 * sleeps (on_inbox). The fences order our commits before our look at
 * idle, and its idle before its last look at the queue. */
static void kick_inbox(struct loop *loop, struct loop_defer *d)
{
    (void)loop;
    struct sfu_worker *w = container_of(d, struct sfu_worker, inbox_kick);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_exchange(&w->idle, 0))
        spsc_kick(w->inbox);
}

void sfu_worker_post(struct sfu_tx *t, const struct udp_packet *p, int ice, int turn)
{
    struct sfu_worker *w = t->w;
    if (!w->threaded) {
        memcpy(w->in, p->buf, p->len);
        sfu_glue_deliver(w, t, w->in, p->len, sizeof(w->in), p->from, p->local, ice, turn);
        return;
    }
    struct in_msg *m = spsc_reserve(w->inbox);
    if (!m) {
        w->inbox_full++;
        return;
    }
    m->kind = IN_PACKET;
    m->ice = (uint8_t)ice;
    m->turn = (uint8_t)turn;
    m->tx = t;
    memcpy(&m->from, p->from, sizeof(m->from));
    memcpy(&m->local, p->local, sizeof(m->local));
    m->len = p->len;
    memcpy(m->data, p->buf, p->len);
    spsc_commit(w->inbox);
    loop_defer(w->g->srv->loop, &w->inbox_kick, kick_inbox);
}

/* Queues a control message (PARK, STOP): waits for room, wakes at once. */
static void post_control(struct sfu_worker *w, enum in_kind kind)
{
    struct in_msg *m;
    while (!(m = spsc_reserve(w->inbox)))
        sched_yield();
    m->kind = (uint8_t)kind;
    spsc_commit(w->inbox);
    spsc_kick(w->inbox);
}

void sfu_worker_enter(struct sfu_worker *w)
{
    if (!w->threaded || w->depth++ > 0)
        return;
    post_control(w, IN_PARK);
    sem_wait_all(&w->parked);
    drain_outbox(w);
}

void sfu_worker_leave(struct sfu_worker *w)
{
    if (!w->threaded || --w->depth > 0)
        return;
    sem_post(&w->resume);
}

void sfu_workers_enter_all(struct sfu_glue *g)
{
    for (unsigned i = 0; i < g->nworkers; i++)
        sfu_worker_enter(g->workers[i]);
}

void sfu_workers_leave_all(struct sfu_glue *g)
{
    for (unsigned i = 0; i < g->nworkers; i++)
        sfu_worker_leave(g->workers[i]);
}

struct sfu_worker *sfu_worker_pick(struct sfu_glue *g)
{
    struct sfu_worker *best = g->workers[0];
    for (unsigned i = 1; i < g->nworkers; i++) {
        struct sfu_worker *w = g->workers[i];
        if (w->parts < best->parts || (w->parts == best->parts && w->rooms < best->rooms))
            best = w;
    }
    return best;
}

/* --- start and stop --- */

/* The worker's own socket in the main port's SO_REUSEPORT group; where
 * that fails, it shares the main socket (sendmmsg is safe from two
 * threads; they then share its send buffer). */
static void open_socket(struct sfu_worker *w)
{
    const struct conf *c = w->g->srv->conf;
    char err[256];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int main_fd = udp_port_fd(w->g->srv->udp), port = c->port;
    if (getsockname(main_fd, (struct sockaddr *)&ss, &sl) == 0) /* the port it got (--port 0) */
        port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                             : ((struct sockaddr_in6 *)&ss)->sin6_port);
    int fd = udp_open_group(c->bind, port, UDP_GROUP_SENDER, err, sizeof(err));
    w->own_fd = fd >= 0;
    w->fd = fd >= 0 ? fd : main_fd;
    if (fd < 0)
        log_warn("sfu_thread_socket", "thread=%u error=\"%s\" fallback=shared", w->index, err);
}

static int start_thread(struct sfu_worker *w)
{
    w->threaded = 1;
    atomic_init(&w->idle, 1);
    w->loop = loop_new();
    w->inbox = spsc_new(SFU_QUEUE_SLOTS, sizeof(struct in_msg));
    w->outbox = spsc_new(OUTBOX_SLOTS, sizeof(struct out_msg));
    if (!w->loop || !w->inbox || !w->outbox)
        return -1;
    sem_init(&w->parked, 0, 0);
    sem_init(&w->resume, 0, 0);
    open_socket(w);
    if (loop_io_add(w->loop, &w->inbox_io, spsc_fd(w->inbox), LOOP_READ, on_inbox) < 0 ||
        loop_io_add(w->g->srv->loop, &w->outbox_io, spsc_fd(w->outbox), LOOP_READ, on_outbox) < 0)
        return -1;
    return pthread_create(&w->thread, NULL, run, w) == 0 ? 0 : -1;
}

int sfu_workers_start(struct sfu_glue *g, unsigned n)
{
    g->nworkers = n ? n : 1;
    g->workers = xcalloc(g->nworkers, sizeof(*g->workers));
    for (unsigned i = 0; i < g->nworkers; i++) {
        struct sfu_worker *w = xcalloc(1, sizeof(*w));
        w->g = g;
        w->index = i;
        w->loop = g->srv->loop;
        g->workers[i] = w;
        if (g->nworkers > 1 && start_thread(w) < 0) {
            log_error("sfu_thread_failed", "thread=%u error=\"%s\"", i, strerror(errno));
            w->threaded = 0; /* not started: nothing to join */
            return -1;
        }
    }
    log_info("sfu_threads", "media_threads=%u", g->nworkers > 1 ? g->nworkers : 0);
    return 0;
}

/* What is left in the outbox is dropped: its participants are gone. */
static void stop_thread(struct sfu_worker *w)
{
    post_control(w, IN_STOP);
    pthread_join(w->thread, NULL);
    while (spsc_peek(w->outbox))
        spsc_pop(w->outbox);
}

static void free_worker(struct sfu_worker *w)
{
    if (w->threaded)
        stop_thread(w);
    if (w->loop && w->loop != w->g->srv->loop) {
        loop_defer_cancel(w->g->srv->loop, &w->inbox_kick);
        if (w->outbox)
            loop_io_del(w->g->srv->loop, &w->outbox_io);
        loop_free(w->loop);
        sem_destroy(&w->parked);
        sem_destroy(&w->resume);
    }
    if (w->own_fd)
        close(w->fd);
    spsc_free(w->inbox);
    spsc_free(w->outbox);
    xfree(w);
}

void sfu_workers_stop(struct sfu_glue *g)
{
    for (unsigned i = 0; i < g->nworkers; i++)
        if (g->workers[i])
            free_worker(g->workers[i]);
    xfree(g->workers);
    g->workers = NULL;
    g->nworkers = 0;
}
