/*
 * sfu_signal — SFU rooms on the signaling side (docs/protocol.md, "SFU
 * rooms"): a participant per peer in an SFU room, the publisher
 * transport's offer answered (sfu-publish → sfu-answer), the subscriber
 * transport offered the others' tracks (sfu-offer → sfu-subscribe-answer)
 * and offered again whenever tracks come or go.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "../sfu/sdp.h"
#include "../sfu/simulcast.h"
#include "client.h"
#include "server.h"
#include "sfu_int.h"

#define SDP_TEXT_MAX (256u << 10) /* 64 m-sections of ~1.2 KB, with room */
#define HOST_PRIORITY 2130706431u /* typ host, local preference 65535, component 1 (RFC 8445 §5.1.2.1) */

/* --- messages to the browser --- */

static void send_msg(struct sfu_part *p, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (text)
        hub_peer_send(p->peer, text, strlen(text));
    free(text);
}

static void send_error(struct sfu_part *p, const char *code, const char *message)
{
    send_msg(p, json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "message", message));
}

/* The router's active speaker (member ud) to everyone in its room. */
void sfu_signal_active_speaker(struct sfu_part *speaker)
{
    for (struct sfu_part *p = speaker->g->parts; p; p = p->next)
        if (p->room == speaker->room)
            send_msg(p, json_pack("{s:s, s:s}", "type", "active-speaker", "peer", hub_peer_id(speaker->peer)));
}

/* Member ud's subscriber estimate, for its per-peer stats. */
void sfu_signal_estimate(struct sfu_part *p, uint64_t bps)
{
    send_msg(p, json_pack("{s:s, s:I}", "type", "sfu-estimate", "bps", (json_int_t)bps));
}

/* The router's notices come on its room's thread: to the main loop. */
static void on_active_speaker(void *ud)
{
    struct sfu_part *p = ud;
    sfu_worker_speaker(p->room->w, p);
}

static void on_estimate(void *ud, uint64_t bps)
{
    struct sfu_part *p = ud;
    sfu_worker_estimate(p->room->w, p, bps);
}

/* The clock of p's room's thread (the same monotonic clock as the main
 * loop's, read at that loop's iteration). */
static uint64_t part_now(const struct sfu_part *p)
{
    return loop_now(p->room->w->loop);
}

/* Our candidate's address for a browser on connection conn: --external-ip,
 * else the address its WebSocket connected to. */
static void host_ip(struct sfu_glue *g, void *conn, char *out, size_t cap)
{
    const char *ext = g->srv->conf->external_ip;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct client *c = conn;
    if (ext && *ext) {
        snprintf(out, cap, "%s", ext);
    } else if (c && getsockname(c->conn.io.fd, (struct sockaddr *)&ss, &sl) == 0) {
        struct sock_ip ip;
        sock_ip_from(&ss, &ip);
        sock_ip_str(&ip, out, cap);
    }
}

/* Writes d with t's credentials and our candidate, and sends it as `type`. */
static void send_sdp(struct sfu_part *p, struct sfu_tx *t, const struct sdp *d, const char *type)
{
    struct sdp_candidate cand = { .ip = p->host_ip, .port = (uint16_t)p->g->srv->conf->port, .priority = HOST_PRIORITY };
    struct sdp_local local = {
        .ice_ufrag = t->ufrag, .ice_pwd = t->pwd, .fingerprint = dtls_server_fingerprint(p->g->dtls),
        .cands = &cand, .ncands = 1,
        .setup = strcmp(type, "sfu-offer") == 0 ? SDP_SETUP_ACTPASS : SDP_SETUP_PASSIVE,
    };
    RAND_bytes((unsigned char *)&local.session_id, sizeof(local.session_id));
    local.session_id >>= 2; /* o= takes up to 63 bits; keep it well inside */
    char *text = xmalloc(SDP_TEXT_MAX);
    if (sdp_write(d, &local, text, SDP_TEXT_MAX) > 0)
        send_msg(p, json_pack("{s:s, s:s, s:I}", "type", type, "sdp", text, "epoch",
                              (json_int_t)hub_peer_sfu_epoch(p->peer)));
    xfree(text);
}

/* The browser's ICE ufrag and fingerprint: those of its first accepted
 * m-section (BUNDLE: one transport). NULL if it has none. */
static const struct sdp_media *transport_of(const struct sdp *d)
{
    for (size_t i = 0; i < d->nmedia; i++)
        if (d->media[i].port != 0 && d->media[i].ice_ufrag[0] && d->media[i].fp[0])
            return &d->media[i];
    return NULL;
}

/* tincan is always the DTLS server: the browser must not want that role
 * too. An offer may say actpass or active, an answer to our actpass only
 * active (RFC 8842 §5.3; none at all is read as active, RFC 4145 §4). */
static int dtls_client_ok(const struct sdp_media *m, int is_answer)
{
    if (m->setup == SDP_SETUP_PASSIVE)
        return 0;
    return !(is_answer && m->setup == SDP_SETUP_ACTPASS);
}

/* --- the subscriber transport --- */

/* Offers p the others' tracks, unless an offer is out (then once its
 * answer comes). */
static void offer_to(struct sfu_part *p)
{
    if (p->sub_pending) {
        p->sub_dirty = 1;
        return;
    }
    struct sdp *d = xmalloc(sizeof(*d));
    if (sfu_room_offer(p->room->router, p->member, d) > 0) {
        if (!p->sub)
            p->sub = sfu_tx_new(p->g, p, 0);
        send_sdp(p, p->sub, d, "sfu-offer");
        p->sub_pending = 1;
    }
    xfree(d);
}

static void offer_to_others(struct sfu_part *p)
{
    for (struct sfu_part *o = p->g->parts; o; o = o->next)
        if (o != p && o->room == p->room)
            offer_to(o);
}

void sfu_signal_sub_connected(struct sfu_part *p)
{
    if (!p->sub_pending)
        sfu_room_ready(p->room->router, p->member, part_now(p));
}

static void on_sub_answer(struct sfu_part *p, const struct sdp *d)
{
    const struct sdp_media *m = transport_of(d);
    if (!p->sub || !p->sub_pending) {
        send_error(p, "unexpected", "no sfu-offer is waiting for an answer");
        return;
    }
    if (m && !dtls_client_ok(m, 1)) { /* the offer stays out: a corrected answer is welcome */
        send_error(p, "bad_sdp", "the answer must say a=setup:active: tincan is the DTLS server");
        return;
    }
    /* Once the transport runs, an answer whose m-sections are all
     * rejected (everyone else left) is fine: it only says so. */
    if (!p->sub->started && (!m || sfu_tx_start(p->sub, m->ice_ufrag, m->fp_hash, m->fp) != 0)) {
        send_error(p, "bad_sdp", "the answer has no usable ICE credentials or fingerprint");
        return;
    }
    p->sub_pending = 0;
    p->closed_sub = NULL;
    if (sfu_room_answered(p->room->router, p->member, d))
        p->sub_dirty = 1; /* a track waited for a recyclable m-section */
    if (sfu_session_state(p->sub->sess) == SFU_SESSION_CONNECTED)
        sfu_room_ready(p->room->router, p->member, part_now(p));
    if (p->sub_dirty) {
        p->sub_dirty = 0;
        offer_to(p);
    }
}

/* --- the publisher transport --- */

/* The transport for an offer with this ufrag: the one we have, the same
 * one with new ICE credentials (an ICE restart: DTLS stays), or a new one
 * when the old one never connected. NULL if unusable. */
static struct sfu_tx *publisher_for(struct sfu_part *p, const struct sdp_media *m)
{
    if (p->pub && p->pub->sess && strcmp(sfu_session_ice(p->pub->sess)->remote_ufrag, m->ice_ufrag) == 0)
        return p->pub;
    /* A new ufrag on a transport whose DTLS is up: an ICE restart, same DTLS. */
    if (p->pub && p->pub->sess && sfu_session_state(p->pub->sess) == SFU_SESSION_CONNECTED &&
        sfu_tx_restart(p->pub, m->ice_ufrag) == 0) {
        log_info("sfu_ice_restart", "peer=%s kind=publisher", hub_peer_id(p->peer));
        return p->pub;
    }
    sfu_tx_free(p->pub);
    p->pub = sfu_tx_new(p->g, p, 1);
    if (sfu_tx_start(p->pub, m->ice_ufrag, m->fp_hash, m->fp) != 0) {
        sfu_tx_free(p->pub);
        p->pub = NULL;
    }
    return p->pub;
}

static void on_publish(struct sfu_part *p, const struct sdp *offer)
{
    struct sdp *answer = xmalloc(sizeof(*answer));
    const struct sdp_media *m = transport_of(offer);
    if (!m || sdp_answer(offer, NULL, 0, answer) != 0) {
        send_error(p, "bad_sdp", "the offer has no transport or no media tincan can forward");
    } else if (!dtls_client_ok(m, 0)) {
        send_error(p, "bad_sdp", "the offer must say a=setup:actpass or active: tincan is the DTLS server");
    } else if (!publisher_for(p, m)) {
        send_error(p, "bad_sdp", "the offer's ICE credentials or fingerprint are unusable");
    } else {
        int n = sfu_room_publish(p->room->router, p->member, offer, answer);
        p->closed_pub = NULL;
        send_sdp(p, p->pub, answer, "sfu-answer");
        log_info("sfu_publish", "peer=%s tracks=%d", hub_peer_id(p->peer), n);
        offer_to_others(p);
    }
    xfree(answer);
}

/* --- transports that die: consent, DTLS --- */

static void send_closed(struct sfu_part *p, int publisher, const char *reason)
{
    send_msg(p, json_pack("{s:s, s:s, s:s, s:I}", "type", "sfu-closed", "transport", publisher ? "publisher" : "subscriber",
                          "reason", reason, "epoch", (json_int_t)hub_peer_sfu_epoch(p->peer)));
}

/* Ends p's publisher or subscriber transport and tells the browser. Its
 * tracks leave the others' offers; a subscriber gets a new transport
 * offered at once. */
static void close_tx(struct sfu_part *p, int publisher, const char *reason)
{
    log_info("sfu_transport_closed", "peer=%s kind=%s reason=%s", hub_peer_id(p->peer),
             publisher ? "publisher" : "subscriber", reason);
    if (publisher) {
        sfu_tx_free(p->pub);
        p->pub = NULL;
        p->closed_pub = reason;
        sfu_room_unpublish(p->room->router, p->member);
        send_closed(p, 1, reason);
        offer_to_others(p);
    } else {
        sfu_tx_free(p->sub);
        p->sub = NULL;
        p->sub_pending = p->sub_dirty = 0;
        p->closed_sub = reason;
        send_closed(p, 0, reason);
        offer_to(p);
    }
}

/* Why t must close now, or NULL. */
static const char *dead(struct sfu_tx *t, uint64_t now)
{
    if (!t || !t->sess || !t->started)
        return NULL;
    enum sfu_session_state st = sfu_session_state(t->sess);
    if (st == SFU_SESSION_FAILED)
        return "dtls-failed";
    if (st == SFU_SESSION_CLOSED)
        return "dtls-closed";
    uint64_t last = sfu_session_last_check(t->sess, t->started_ms);
    if (now > last && now - last > SFU_CONSENT_MS) {
        t->g->consent_closed++;
        return "consent";
    }
    return NULL;
}

void sfu_signal_sweep(struct sfu_glue *g)
{
    for (struct sfu_part *p = g->parts; p; p = p->next) {
        const char *why = dead(p->pub, part_now(p));
        if (why)
            close_tx(p, 1, why);
        why = dead(p->sub, part_now(p));
        if (why)
            close_tx(p, 0, why);
    }
}

/* --- the hub's hooks --- */

static struct sfu_part *part_of(struct sfu_glue *g, const struct peer *peer)
{
    for (struct sfu_part *p = g->parts; p; p = p->next)
        if (p->peer == peer)
            return p;
    return NULL;
}

static struct sfu_groom *room_get(struct sfu_glue *g, const char *name)
{
    struct strmap_entry *e = strmap_get(&g->rooms, name);
    if (e)
        return container_of(e, struct sfu_groom, entry);
    static const struct sfu_room_ops ops = {
        .send_rtp = sfu_tx_send_rtp, .send_rtcp = sfu_tx_send_rtcp, .send_sub_rtcp = sfu_tx_send_sub_rtcp,
        .active_speaker = on_active_speaker, .estimate = on_estimate,
    };
    struct sfu_groom *r = xcalloc(1, sizeof(*r));
    snprintf(r->key, sizeof(r->key), "%s", name);
    r->w = sfu_worker_pick(g);
    r->w->rooms++;
    r->router = sfu_room_new(&ops, r->w->out, sizeof(r->w->out), &r->w->router);
    sfu_room_set_last_n(r->router, (unsigned)g->srv->conf->last_n);
    strmap_put(&g->rooms, &r->entry, r->key);
    return r;
}

/* Each hook below runs with the room's thread parked (sfu_worker_enter):
 * it may touch the room's router and sessions. */
static void on_enter(void *ctx, struct peer *peer, void *conn, const char *room)
{
    struct sfu_glue *g = ctx;
    struct sfu_part *p = xcalloc(1, sizeof(*p));
    p->g = g;
    p->peer = peer;
    p->room = room_get(g, room);
    struct sfu_worker *w = p->room->w;
    sfu_worker_enter(w);
    p->room->count++;
    w->parts++;
    p->member = sfu_room_join(p->room->router, hub_peer_id(peer), p);
    sfu_room_set_screen(p->room->router, p->member, hub_peer_screen(peer));
    host_ip(g, conn, p->host_ip, sizeof(p->host_ip));
    p->next = g->parts;
    if (g->parts)
        g->parts->prev = p;
    g->parts = p;
    offer_to(p);
    sfu_worker_leave(w);
}

/* Frees p; the others in its room get a new offer unless the glue is
 * going away. */
static void part_free(struct sfu_glue *g, struct sfu_part *p, int reoffer)
{
    struct sfu_groom *r = p->room;
    sfu_tx_free(p->pub);
    sfu_tx_free(p->sub);
    sfu_room_leave(r->router, p->member);
    sfu_worker_flush(r->w); /* notices about p queued meanwhile go before p does */
    if (p->prev)
        p->prev->next = p->next;
    else
        g->parts = p->next;
    if (p->next)
        p->next->prev = p->prev;
    r->w->parts--;
    if (--r->count == 0) {
        r->w->rooms--;
        strmap_del(&g->rooms, &r->entry);
        sfu_room_free(r->router);
        xfree(r);
    } else if (reoffer) {
        offer_to_others(p);
    }
    xfree(p);
}

static void on_leave(void *ctx, struct peer *peer)
{
    struct sfu_glue *g = ctx;
    struct sfu_part *p = part_of(g, peer);
    if (!p)
        return;
    struct sfu_worker *w = p->room->w;
    sfu_worker_enter(w);
    part_free(g, p, 1);
    sfu_worker_leave(w);
}

static void on_message(void *ctx, struct peer *peer, void *conn, const char *type, const char *text)
{
    struct sfu_glue *g = ctx;
    struct sfu_part *p = part_of(g, peer);
    if (!p)
        return;
    host_ip(g, conn, p->host_ip, sizeof(p->host_ip)); /* a resumed peer may have come in on another address */
    struct sdp *d = xmalloc(sizeof(*d));
    if (sdp_parse(text, strlen(text), d) != 0) {
        send_error(p, "bad_sdp", "the description does not parse");
    } else {
        struct sfu_worker *w = p->room->w;
        sfu_worker_enter(w);
        if (strcmp(type, "sfu-publish") == 0)
            on_publish(p, d);
        else
            on_sub_answer(p, d);
        sfu_worker_leave(w);
    }
    xfree(d);
}

/* p is back after its grace: what we sent meanwhile was lost, so the
 * notices of closed transports go again and an offer still waiting for
 * its answer is made anew with the current tracks. */
static void on_resumed(void *ctx, struct peer *peer, void *conn)
{
    struct sfu_glue *g = ctx;
    struct sfu_part *p = part_of(g, peer);
    if (!p)
        return;
    host_ip(g, conn, p->host_ip, sizeof(p->host_ip));
    if (p->closed_pub)
        send_closed(p, 1, p->closed_pub);
    if (p->closed_sub)
        send_closed(p, 0, p->closed_sub);
    if (p->sub_pending) {
        sfu_worker_enter(p->room->w);
        p->sub_pending = p->sub_dirty = 0;
        offer_to(p);
        sfu_worker_leave(p->room->w);
    }
}

/* p shows peer_id's video at width x height (sfu-view): the layer it
 * gets follows (simulcast.h). */
static void on_view(void *ctx, struct peer *peer, const char *peer_id, int width, int height)
{
    struct sfu_glue *g = ctx;
    struct sfu_part *p = part_of(g, peer);
    if (!p)
        return;
    sfu_worker_enter(p->room->w);
    sfu_room_sim_view(p->room->router, p->member, peer_id, width, height, part_now(p));
    sfu_worker_leave(p->room->w);
}

/* p's state names its screen share's track: the allocator serves it
 * first (alloc.h). */
static void on_screen(void *ctx, struct peer *peer, const char *track_id)
{
    struct sfu_part *p = part_of(ctx, peer);
    if (!p)
        return;
    sfu_worker_enter(p->room->w);
    sfu_room_set_screen(p->room->router, p->member, track_id);
    sfu_worker_leave(p->room->w);
}

void sfu_signal_hook(struct sfu_glue *g)
{
    struct hub_sfu h = {
        .ctx = g, .enter = on_enter, .leave = on_leave, .message = on_message, .resumed = on_resumed,
        .view = on_view, .screen = on_screen,
    };
    hub_set_sfu(g->srv->hub, &h);
}

static int tx_connected(const struct sfu_tx *t)
{
    return t && t->sess && sfu_session_state(t->sess) == SFU_SESSION_CONNECTED;
}

/* Adds p's published audio and video tracks to kinds[]. */
static void count_tracks(const struct sfu_part *p, size_t kinds[2])
{
    size_t n = 0;
    const struct sfu_track *t = sfu_room_tracks(p->member, &n);
    for (size_t i = 0; i < n; i++)
        if (t[i].kind == SDP_AUDIO || t[i].kind == SDP_VIDEO)
            kinds[t[i].kind == SDP_VIDEO]++;
}

void sfu_signal_tracks(const struct sfu_glue *g, size_t tracks[2][2])
{
    for (const struct sfu_part *p = g->parts; p; p = p->next) {
        if (tx_connected(p->pub))
            count_tracks(p, tracks[0]);
        if (!tx_connected(p->sub) || p->sub_pending)
            continue;
        /* What our answered offer to p carries: the tracks of the others
         * whose publisher transport is up. */
        for (const struct sfu_part *o = g->parts; o; o = o->next)
            if (o != p && o->room == p->room && tx_connected(o->pub))
                count_tracks(o, tracks[1]);
    }
}

void sfu_signal_free_all(struct sfu_glue *g)
{
    while (g->parts)
        part_free(g, g->parts, 0);
}
