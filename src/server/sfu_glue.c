/*
 * sfu_glue — the SFU on the main UDP port: transports (ICE/DTLS/SRTP
 * sessions found by ufrag or remote address), their timers, and the
 * counters for /metrics. Signaling lives in sfu_signal.c. See sfu_glue.h.
 */
#include "sfu_glue.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "../stun/stun.h"
#include "../turn/server.h"
#include "server.h"
#include "sfu_int.h"
#include "udp_port.h"

/* --- addresses --- */

/* The routing key of an address: family, port and address in hex. The
 * main loop makes one for every DTLS and SRTP datagram it routes, so by
 * hand rather than with snprintf. */
static void addr_key(const struct stun_addr *a, char out[SFU_ADDR_KEY])
{
    static const char hex[] = "0123456789abcdef";
    size_t n = a->family == STUN_IPV4 ? 4 : 16, at = 0;
    out[at++] = (char)('0' + (a->family & 7));
    for (int shift = 12; shift >= 0; shift -= 4)
        out[at++] = hex[(a->port >> shift) & 15];
    for (size_t i = 0; i < n; i++) {
        out[at++] = hex[a->ip[i] >> 4];
        out[at++] = hex[a->ip[i] & 15];
    }
    out[at] = '\0';
}

static struct sfu_tx *tx_by_addr(struct sfu_glue *g, const struct stun_addr *a)
{
    char key[SFU_ADDR_KEY];
    addr_key(a, key);
    struct strmap_entry *e = strmap_get(&g->by_addr, key);
    return e ? container_of(e, struct sfu_bind, e)->tx : NULL;
}

static void unbind(struct sfu_glue *g, struct sfu_bind *b)
{
    if (b->used)
        strmap_del(&g->by_addr, &b->e);
    b->used = 0;
}

/* A check from `remote` succeeded on t: DTLS and media from there are t's.
 * An address another transport had moves here (the browser reuses a port
 * only after the transport that had it is gone). Main thread. */
void sfu_glue_bind(struct sfu_tx *t, const struct stun_addr *remote)
{
    struct sfu_glue *g = t->g;
    char key[SFU_ADDR_KEY];
    addr_key(remote, key);
    struct strmap_entry *e = strmap_get(&g->by_addr, key);
    if (e) {
        struct sfu_bind *old = container_of(e, struct sfu_bind, e);
        if (old->tx == t)
            return;
        unbind(g, old);
    }
    struct sfu_bind *b = &t->binds[t->next_bind++ % ICE_MAX_PAIRS];
    unbind(g, b);
    memcpy(b->key, key, sizeof(key));
    b->tx = t;
    b->used = 1;
    strmap_put(&g->by_addr, &b->e, b->key);
}

/* --- session callbacks --- */

/* Whether `to` is an address t heard from through our TURN relay. */
static int through_turn(const struct sfu_tx *t, const struct stun_addr *to)
{
    for (size_t i = 0; i < t->nturn; i++)
        if (t->turn_from[i].family == to->family && t->turn_from[i].port == to->port &&
            memcmp(t->turn_from[i].ip, to->ip, to->family == STUN_IPV4 ? 4 : 16) == 0)
            return 1;
    return 0;
}

static void note_turn(struct sfu_tx *t, const struct stun_addr *from)
{
    if (!through_turn(t, from))
        t->turn_from[t->nturn < ICE_MAX_PAIRS ? t->nturn++ : ICE_MAX_PAIRS - 1] = *from;
}

/* Hands buf to our TURN relay for `to`, a browser t heard from through
 * it: in process (the relay is the main loop's: a media thread queues it
 * there). 0, or -1 if it must go out on the port after all. */
static int send_turn(struct sfu_tx *t, const struct stun_addr *to, const uint8_t *buf, size_t len)
{
    struct stun_addr local;
    if (stun_addr_from_sockaddr(&local, (const struct sockaddr *)&t->local) != 0)
        return -1;
    if (t->w->threaded) {
        sfu_worker_turn(t->w, &local, to, buf, len);
        return 0;
    }
    return t->g->srv->turn && turn_server_from_sfu(t->g->srv->turn, &local, to, buf, len) == 0 ? 0 : -1;
}

static void on_send(void *ud, const struct stun_addr *to, const uint8_t *buf, size_t len)
{
    struct sfu_tx *t = ud;
    /* Only addresses a datagram came from through the relay
     * (sfu_glue_deliver's note_turn, on every thread) go back through it:
     * most transports have none, and pay nothing for the relay. */
    if (t->nturn && through_turn(t, to) && send_turn(t, to, buf, len) == 0)
        return;
    struct sockaddr_storage ss;
    socklen_t sl = stun_addr_to_sockaddr(to, &ss);
    sfu_worker_send(t->w, &t->local, &ss, sl, buf, len);
}

void sfu_glue_turn_send(struct sfu_glue *g, const struct stun_addr *local, const struct stun_addr *to,
                        const uint8_t *buf, size_t len)
{
    if (g->srv->turn)
        turn_server_from_sfu(g->srv->turn, local, to, buf, len);
}

static void on_rtp(void *ud, uint8_t *buf, size_t len, size_t cap)
{
    (void)cap;
    struct sfu_tx *t = ud;
    if (t->publisher) /* a subscriber transport sends no media we use */
        sfu_room_rtp(t->part->room->router, t->part->member, buf, len, loop_now(t->w->loop));
}

static void on_rtcp(void *ud, uint8_t *buf, size_t len, size_t cap)
{
    (void)cap;
    struct sfu_tx *t = ud;
    uint64_t now = loop_now(t->w->loop);
    if (t->publisher) /* the publisher's sender reports */
        sfu_room_rtcp_pub(t->part->room->router, t->part->member, buf, len, now);
    else /* feedback about what we forward */
        sfu_room_rtcp(t->part->room->router, t->part->member, buf, len, now);
}

static void on_pair(void *ud, const struct stun_addr *remote)
{
    struct sfu_tx *t = ud;
    sfu_worker_bind(t->w, t, remote);
}

static void on_state(void *ud, enum sfu_session_state st)
{
    struct sfu_tx *t = ud;
    static const char *const names[] = { "new", "connected", "failed", "closed" };
    log_info("sfu_transport", "peer=%s kind=%s state=%s error=\"%s\"", hub_peer_id(t->part->peer),
             t->publisher ? "publisher" : "subscriber", names[st], sfu_session_error(t->sess));
    if (st == SFU_SESSION_CONNECTED && !t->publisher)
        sfu_signal_sub_connected(t->part);
}

static const struct sfu_session_ops session_ops = {
    .send = on_send, .rtp = on_rtp, .rtcp = on_rtcp, .pair = on_pair, .state = on_state,
};

/* --- transports --- */

static void arm(struct sfu_tx *t);

static void random_token(char *out, size_t chars)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
    uint8_t raw[64];
    RAND_bytes(raw, (int)chars);
    for (size_t i = 0; i < chars; i++)
        out[i] = alphabet[raw[i] & 63];
    out[chars] = '\0';
}

/* A session from our side alone (a subscriber transport: our offer goes
 * first): checks are answered before the browser's answer arrives. */
static void tx_prepare(struct sfu_tx *t)
{
    struct sfu_session_params p = { .local_ufrag = t->ufrag, .local_pwd = t->pwd };
    t->sess = sfu_session_new(t->g->dtls, &p, &session_ops, t);
    if (t->sess)
        t->g->sessions++;
}

struct sfu_tx *sfu_tx_new(struct sfu_glue *g, struct sfu_part *part, int publisher)
{
    struct sfu_tx *t = xcalloc(1, sizeof(*t));
    t->g = g;
    t->w = part->room->w;
    t->part = part;
    t->publisher = publisher;
    do {
        random_token(t->ufrag, 16);
    } while (strmap_get(&g->by_ufrag, t->ufrag));
    random_token(t->pwd, 32);
    strmap_put(&g->by_ufrag, &t->by_ufrag, t->ufrag);
    if (!publisher)
        tx_prepare(t);
    return t;
}

int sfu_tx_start(struct sfu_tx *t, const char *ufrag, const char *fp_hash, const char *fp)
{
    if (t->sess) { /* prepared with our offer */
        if (sfu_session_set_remote(t->sess, ufrag, fp_hash, fp) != 0)
            return -1;
        arm(t); /* a ClientHello that came early may have been answered */
    } else {
        struct sfu_session_params p = {
            .local_ufrag = t->ufrag, .local_pwd = t->pwd, .remote_ufrag = ufrag, .fp_hash = fp_hash, .fp_hex = fp,
        };
        t->sess = sfu_session_new(t->g->dtls, &p, &session_ops, t);
        if (!t->sess)
            return -1;
        t->g->sessions++;
    }
    t->started = 1;
    t->started_ms = loop_now(t->w->loop);
    return 0;
}

int sfu_tx_restart(struct sfu_tx *t, const char *remote_ufrag)
{
    struct sfu_glue *g = t->g;
    char ufrag[sizeof(t->ufrag)], pwd[sizeof(t->pwd)];
    do {
        random_token(ufrag, 16);
    } while (strmap_get(&g->by_ufrag, ufrag));
    random_token(pwd, 32);
    if (!t->sess || sfu_session_restart_ice(t->sess, ufrag, pwd, remote_ufrag) != 0)
        return -1;
    strmap_del(&g->by_ufrag, &t->by_ufrag);
    memcpy(t->ufrag, ufrag, sizeof(ufrag));
    memcpy(t->pwd, pwd, sizeof(pwd));
    strmap_put(&g->by_ufrag, &t->by_ufrag, t->ufrag);
    t->started_ms = loop_now(t->w->loop); /* the new checks get their 30 s */
    return 0;
}

void sfu_tx_free(struct sfu_tx *t)
{
    if (!t)
        return;
    struct sfu_glue *g = t->g;
    for (size_t i = 0; i < ICE_MAX_PAIRS; i++)
        unbind(g, &t->binds[i]);
    strmap_del(&g->by_ufrag, &t->by_ufrag);
    loop_timer_stop(t->w->loop, &t->timer);
    if (t->sess)
        g->sessions--;
    sfu_session_free(t->sess);
    xfree(t);
}

void sfu_tx_send_rtp(void *part, uint8_t *pkt, size_t len, size_t cap)
{
    struct sfu_part *p = part;
    if (p->sub && p->sub->sess)
        sfu_session_send_rtp(p->sub->sess, pkt, len, cap);
}

void sfu_tx_send_rtcp(void *part, uint8_t *pkt, size_t len, size_t cap)
{
    struct sfu_part *p = part;
    if (p->pub && p->pub->sess)
        sfu_session_send_rtcp(p->pub->sess, pkt, len, cap);
}

void sfu_tx_send_sub_rtcp(void *part, uint8_t *pkt, size_t len, size_t cap)
{
    struct sfu_part *p = part;
    if (p->sub && p->sub->sess)
        sfu_session_send_rtcp(p->sub->sess, pkt, len, cap);
}

/* --- timers --- */

static void on_timer(struct loop *loop, struct loop_timer *timer);

static void arm(struct sfu_tx *t)
{
    struct loop *loop = t->w->loop;
    uint64_t now = loop_now(loop);
    int64_t d = sfu_session_deadline(t->sess, now);
    if (d < 0)
        loop_timer_stop(loop, &t->timer);
    else
        loop_timer_start(loop, &t->timer, d > (int64_t)now ? (uint64_t)d - now : 0, on_timer);
}

static void on_timer(struct loop *loop, struct loop_timer *timer)
{
    (void)loop;
    struct sfu_tx *t = container_of(timer, struct sfu_tx, timer);
    sfu_session_on_timer(t->sess);
    arm(t);
}

static void on_sweep(struct loop *loop, struct loop_timer *timer)
{
    struct sfu_glue *g = container_of(timer, struct sfu_glue, sweep);
    sfu_workers_enter_all(g);
    sfu_signal_sweep(g);
    sfu_workers_leave_all(g);
    loop_timer_start(loop, &g->sweep, SFU_SWEEP_MS, on_sweep);
}

/* --- the main port --- */

static void count(struct sfu_worker *w, enum sfu_input r)
{
    static const int reason[] = {
        [SFU_IN_OK] = -1, [SFU_IN_ICE_REJECTED] = SFU_DROP_NOT_READY, [SFU_IN_UNKNOWN_ADDR] = SFU_DROP_NO_SESSION,
        [SFU_IN_NOT_READY] = SFU_DROP_NOT_READY, [SFU_IN_SRTP_AUTH] = SFU_DROP_SRTP_AUTH,
        [SFU_IN_BAD_PACKET] = SFU_DROP_BAD_RTP, [SFU_IN_DTLS_FAILED] = SFU_DROP_BAD_DTLS,
        [SFU_IN_BAD_DTLS] = SFU_DROP_BAD_DTLS,
    };
    if (reason[r] >= 0)
        w->dropped[reason[r]]++;
}

void sfu_glue_deliver(struct sfu_worker *w, struct sfu_tx *t, uint8_t *buf, size_t len, size_t cap,
                      const struct sockaddr_storage *from, const struct sockaddr_storage *local, int ice, int turn)
{
    struct stun_addr f;
    if (stun_addr_from_sockaddr(&f, (const struct sockaddr *)from) != 0) {
        w->dropped[SFU_DROP_NO_SESSION]++;
        return;
    }
    if (ice)
        memcpy(&t->local, local, sizeof(t->local));
    if (turn)
        note_turn(t, &f);
    count(w, sfu_session_input(t->sess, buf, len, cap, &f, loop_now(w->loop)));
    arm(t);
}

/* Hands the datagram to t's thread (main thread). */
static void route(struct sfu_glue *g, struct sfu_tx *t, const struct udp_packet *p, int ice, int turn)
{
    if (!t || !t->sess || p->len > SOCK_DATAGRAM_MAX) {
        g->dropped[SFU_DROP_NO_SESSION]++;
        return;
    }
    sfu_worker_post(t, p, ice, turn);
}

/* ICE checks: the session by our ufrag (the USERNAME before ':'). */
static void route_ice(struct sfu_glue *g, const struct udp_packet *p, int turn)
{
    struct stun_str uf;
    char key[ICE_UFRAG_MAX + 1];
    struct sfu_tx *t = NULL;
    if (ice_lite_ufrag(p->buf, p->len, &uf) == 0 && uf.len < sizeof(key)) {
        memcpy(key, uf.p, uf.len);
        key[uf.len] = '\0';
        struct strmap_entry *e = strmap_get(&g->by_ufrag, key);
        t = e ? container_of(e, struct sfu_tx, by_ufrag) : NULL;
    }
    route(g, t, p, 1, turn);
}

/* DTLS and SRTP/SRTCP: the session by the sender's address. A media
 * thread may have just bound it (its answer to the check went out before
 * the main loop took the binding from its outbox): look again after
 * taking them. */
static void route_bound(struct sfu_glue *g, const struct udp_packet *p, int turn)
{
    struct stun_addr from;
    struct sfu_tx *t = NULL;
    if (stun_addr_from_sockaddr(&from, (const struct sockaddr *)p->from) == 0) {
        t = tx_by_addr(g, &from);
        if (!t && !turn && g->nworkers > 1) {
            sfu_workers_drain(g);
            t = tx_by_addr(g, &from);
        }
    }
    route(g, t, p, 0, turn);
}

static void on_ice(void *ctx, struct udp_port *port, const struct udp_packet *p)
{
    (void)port;
    route_ice(ctx, p, 0);
}

static void on_bound(void *ctx, struct udp_port *port, const struct udp_packet *p)
{
    (void)port;
    route_bound(ctx, p, 0);
}

/* An allocation of our TURN server sends to the SFU (the browser's relay
 * candidate checks ours): the same routes as the port's, by first byte. */
static void from_turn(void *ctx, const struct stun_addr *from, const struct stun_addr *to, const uint8_t *data,
                      size_t len)
{
    struct sfu_glue *g = ctx;
    struct sockaddr_storage f, l;
    socklen_t fl = stun_addr_to_sockaddr(from, &f);
    if (!fl || !stun_addr_to_sockaddr(to, &l)) {
        g->dropped[SFU_DROP_NO_SESSION]++;
        return;
    }
    struct udp_packet p = { .buf = data, .len = len, .from = &f, .fromlen = fl, .local = &l };
    uint8_t b = len ? data[0] : 255;
    g->from_turn++;
    if (b <= 3)
        route_ice(g, &p, 1);
    else if ((b >= 20 && b <= 63) || (b >= 128 && b <= 191))
        route_bound(g, &p, 1);
    else
        g->dropped[SFU_DROP_BAD_RTP]++;
}

/* --- start, stop, counters --- */

static const enum udp_kind routed[] = { UDP_KIND_ICE, UDP_KIND_DTLS, UDP_KIND_RTP };

int sfu_glue_init(struct server *s)
{
    char err[256];
    struct dtls_server *dtls = dtls_server_new(sfu_srtp_profiles(), err, sizeof(err));
    if (!dtls) {
        log_error("sfu_failed", "error=\"%s\"", err);
        return -1;
    }
    struct sfu_glue *g = xcalloc(1, sizeof(*g));
    g->srv = s;
    g->dtls = dtls;
    strmap_init(&g->by_ufrag);
    strmap_init(&g->by_addr);
    strmap_init(&g->rooms);
    s->sfu = g;
    if (sfu_workers_start(g, (unsigned)s->conf->media_threads) < 0)
        return -1;
    udp_port_route(s->udp, UDP_KIND_ICE, on_ice, g);
    udp_port_route(s->udp, UDP_KIND_DTLS, on_bound, g);
    udp_port_route(s->udp, UDP_KIND_RTP, on_bound, g);
    if (s->turn) {
        struct turn_sfu_ops ops = { .input = from_turn, .ctx = g };
        turn_server_set_sfu(s->turn, &ops);
    }
    sfu_signal_hook(g);
    loop_timer_start(s->loop, &g->sweep, SFU_SWEEP_MS, on_sweep);
    return 0;
}

void sfu_glue_cleanup(struct server *s)
{
    struct sfu_glue *g = s->sfu;
    if (!g)
        return;
    if (s->hub)
        hub_set_sfu(s->hub, NULL);
    if (s->turn)
        turn_server_set_sfu(s->turn, NULL);
    for (size_t i = 0; s->udp && i < sizeof(routed) / sizeof(routed[0]); i++)
        udp_port_route(s->udp, routed[i], NULL, NULL);
    loop_timer_stop(s->loop, &g->sweep);
    sfu_workers_enter_all(g);
    sfu_signal_free_all(g);
    sfu_workers_leave_all(g);
    sfu_workers_stop(g);
    strmap_cleanup(&g->by_ufrag);
    strmap_cleanup(&g->by_addr);
    strmap_cleanup(&g->rooms);
    dtls_server_free(g->dtls);
    xfree(g);
    s->sfu = NULL;
}

/* Adds one thread's router counters to out. */
static void add_router(const struct sfu_room_stats *r, struct sfu_glue_stats *out)
{
    out->forwarded_packets += r->forwarded_packets;
    out->forwarded_bytes += r->forwarded_bytes;
    out->keyframe_requests += r->pli_sent;
    out->retransmitted += r->retransmitted;
    out->nack_upstream += r->nack_upstream;
    out->repaired += r->repaired;
    out->sr_forwarded += r->sr_forwarded;
    out->rr_sent += r->rr_sent;
    out->twcc_feedback += r->twcc_feedback;
    out->remb += r->remb;
    out->twcc_sent += r->twcc_sent;
    out->bwe_paused += r->bwe_paused;
    out->bwe_resumed += r->bwe_resumed;
    out->speaker_changes += r->speaker_changes;
    for (size_t i = 0; i < sizeof(out->est_le) / sizeof(out->est_le[0]); i++)
        out->est_le[i] += r->est_le[i];
    out->est_count += r->est_count;
    out->est_sum += (uint64_t)r->est_sum;
    out->dropped[SFU_DROP_BAD_RTP] += r->bad_rtp;
    out->dropped[SFU_DROP_BAD_RTCP] += r->bad_rtcp;
    out->dropped[SFU_DROP_UNKNOWN_SSRC] += r->unknown_ssrc;
    out->dropped[SFU_DROP_NACK_STORM] += r->nack_storm;
    out->dropped[SFU_DROP_STALE] += r->stale;
}

/* Adds worker w's counters to out (w parked, or the main loop's). */
static void add_worker(const struct sfu_worker *w, struct sfu_glue_stats *out)
{
    add_router(&w->router, out);
    for (int d = 0; d < SFU_DROPS; d++)
        out->dropped[d] += w->dropped[d];
    out->dropped[SFU_DROP_OVERLOAD] += w->inbox_full + w->outbox_full;
    out->udp_sent += w->tx.sent;
    out->udp_send_dropped += w->tx.dropped;
    if (w->index < SFU_STATS_THREADS) {
        out->thread_forwarded[w->index] = w->router.forwarded_packets;
        out->thread_rooms[w->index] = w->rooms;
    }
}

void sfu_glue_stats(const struct server *s, struct sfu_glue_stats *out)
{
    memset(out, 0, sizeof(*out));
    struct sfu_glue *g = s->sfu;
    if (!g)
        return;
    out->sessions = g->sessions;
    out->rooms = g->rooms.count;
    out->consent_closed = g->consent_closed;
    out->from_turn = g->from_turn;
    out->threads = g->nworkers;
    memcpy(out->dropped, g->dropped, sizeof(out->dropped));
    sfu_workers_enter_all(g);
    for (unsigned i = 0; i < g->nworkers; i++)
        add_worker(g->workers[i], out);
    sfu_signal_tracks(g, out->tracks);
    sfu_workers_leave_all(g);
}

const char *sfu_drop_name(enum sfu_drop d)
{
    static const char *const names[SFU_DROPS] = {
        "no_session", "srtp_auth", "bad_rtp", "not_ready", "bad_dtls", "bad_rtcp", "unknown_ssrc", "nack_storm", "stale",
        "overload",
    };
    return names[d];
}
