/*
 * metrics — counters gathered from the server, their text rendering and
 * access control for GET /metrics (see metrics.h).
 */
#include "metrics.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../base/clock.h"
#include "../http/http.h"
#include "../http/response.h"
#include "../net/tls.h"
#include "../version.h"
#include "accounts_glue.h"
#include "acme_glue.h"
#include "client.h"
#include "http_handler.h"
#include "rest_glue.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* --- collecting --- */

static enum server_kind kind_of(const struct client *c)
{
    switch (c->state) {
    case CLIENT_WS:
        return SERVER_KIND_WS;
    case CLIENT_TURN:
        return c->conn.ssl ? SERVER_KIND_TURN_TLS : SERVER_KIND_TURN_TCP;
    default:
        return SERVER_KIND_HTTP; /* also while the first bytes or the TLS handshake are awaited */
    }
}

void metrics_collect(const struct server *s, struct metrics_snapshot *m)
{
    memset(m, 0, sizeof(*m));
    m->version = TINCAN_VERSION;
    uint64_t up_ms = loop_now(s->loop) - s->started_ms;
    m->start_time_s = clock_unix_s() - (int64_t)(up_ms / 1000);
    m->cert_not_after_s = tls_cert_not_after(); /* the certificate new connections get */
    struct acme_glue_stats acme;
    acme_glue_stats(s, &acme);
    m->acme_not_after_s = acme.cert_not_after_s;
    m->acme_last_success_s = acme.last_success_s;
    m->acme_failures = acme.failures;
    for (const struct client *c = s->clients; c; c = c->next)
        m->open[kind_of(c)]++;
    memcpy(m->opened, s->became, sizeof(m->opened));
    m->tcp_accepted = s->accepted;
    m->per_ip_refused = s->admit.per_source_refused;
    m->ws_per_ip_refused = s->admit.ws_refused;
    m->total_refused = s->admit.total_refused;
    m->accept_paused = s->admit.paused;
    m->rest_limited = s->rest_limited;
    m->rest_per_client = s->rest_refused[REST_REFUSED_PER_CLIENT];
    m->rest_full = s->rest_refused[REST_REFUSED_FULL];
    accounts_glue_stats(s, &m->accounts);
    if (s->hub)
        hub_stats(s->hub, &m->hub);
    if (s->turn) {
        m->turn_on = 1;
        m->turn = turn_server_stats(s->turn);
    }
    if (s->udp) {
        m->udp_on = 1;
        m->udp = udp_port_stats(s->udp);
    }
    if (s->sfu) {
        m->sfu_on = 1;
        sfu_glue_stats(s, &m->sfu);
        m->udp.sent += m->sfu.udp_sent; /* the media threads send from the main port too */
        m->udp.send_dropped += m->sfu.udp_send_dropped;
    }
}

/* --- rendering --- */

struct writer {
    char *p;
    size_t cap, len;
    int full;
};

static void put(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct writer *w, const char *fmt, ...)
{
    if (w->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len)
        w->full = 1;
    else
        w->len += (size_t)n;
}

/* The # HELP and # TYPE lines of one metric family. */
static void family(struct writer *w, const char *name, const char *type, const char *help)
{
    put(w, "# HELP tincan_%s %s\n# TYPE tincan_%s %s\n", name, help, name, type);
}

/* One sample; label is "" or 'key="value"'. */
static void sample(struct writer *w, const char *name, const char *label, unsigned long long v)
{
    put(w, "tincan_%s%s%s%s %llu\n", name, *label ? "{" : "", label, *label ? "}" : "", v);
}

static const char *const kind_label[SERVER_KINDS] = {
    "kind=\"http\"", "kind=\"ws\"", "kind=\"turn_tcp\"", "kind=\"turn_tls\"",
};

static void render_process(struct writer *w, const struct metrics_snapshot *m)
{
    family(w, "build_info", "gauge", "Always 1; the version of this tincan.");
    put(w, "tincan_build_info{version=\"%s\"} 1\n", m->version);
    family(w, "process_start_time_seconds", "gauge", "When the process started, seconds since the epoch.");
    put(w, "tincan_process_start_time_seconds %lld\n", (long long)m->start_time_s);
    if (m->cert_not_after_s >= 0) {
        family(w, "tls_cert_expiry_timestamp_seconds", "gauge",
               "When the certificate being served expires, seconds since the epoch.");
        put(w, "tincan_tls_cert_expiry_timestamp_seconds %lld\n", (long long)m->cert_not_after_s);
    }
    family(w, "acme_certificate_expiry_timestamp_seconds", "gauge",
           "When the stored ACME certificate expires, seconds since the epoch (0: none, or ACME off).");
    put(w, "tincan_acme_certificate_expiry_timestamp_seconds %lld\n", (long long)m->acme_not_after_s);
    family(w, "acme_last_success_timestamp_seconds", "gauge",
           "When an ACME order last succeeded, seconds since the epoch (0: not since start).");
    put(w, "tincan_acme_last_success_timestamp_seconds %lld\n", (long long)m->acme_last_success_s);
    family(w, "acme_failures_total", "counter", "ACME orders that failed since start.");
    put(w, "tincan_acme_failures_total %llu\n", (unsigned long long)m->acme_failures);
}

static void render_connections(struct writer *w, const struct metrics_snapshot *m)
{
    family(w, "connections", "gauge", "TCP connections open now, by what they carry (http includes TLS handshakes).");
    for (int k = 0; k < SERVER_KINDS; k++)
        sample(w, "connections", kind_label[k], m->open[k]);
    family(w, "connections_opened_total", "counter", "TCP connections that became each kind (ws: upgrades).");
    for (int k = 0; k < SERVER_KINDS; k++)
        sample(w, "connections_opened_total", kind_label[k], m->opened[k]);
    family(w, "tcp_connections_accepted_total", "counter", "TCP connections accepted on the main port.");
    sample(w, "tcp_connections_accepted_total", "", m->tcp_accepted);
}

static void render_signal(struct writer *w, const struct metrics_snapshot *m)
{
    const struct hub_stats *h = &m->hub;
    family(w, "signal_peers", "gauge", "Signaling identities: connected, or dropped and still resumable.");
    sample(w, "signal_peers", "state=\"connected\"", h->peers - h->detached);
    sample(w, "signal_peers", "state=\"resumable\"", h->detached);
    family(w, "rooms", "gauge", "Rooms with at least one participant, by kind.");
    sample(w, "rooms", "kind=\"room\"", h->rooms[0]);
    sample(w, "rooms", "kind=\"pin\"", h->rooms[1]);
    sample(w, "rooms", "kind=\"call\"", h->rooms[2]);
    sample(w, "rooms", "kind=\"joincode\"", h->rooms[3]);
    family(w, "room_participants", "gauge", "Peers in any room (named, PIN, lobby call or join-code).");
    sample(w, "room_participants", "", h->participants);
    family(w, "lobby_users", "gauge", "Peers in the lobby (said hello with a name).");
    sample(w, "lobby_users", "", h->lobby);
    family(w, "calls", "gauge", "Lobby calls, ringing or accepted.");
    sample(w, "calls", "state=\"ringing\"", h->calls_ringing);
    sample(w, "calls", "state=\"active\"", h->calls_active);
}

static void render_turn(struct writer *w, const struct metrics_snapshot *m)
{
    const struct turn_stats *t = &m->turn;
    family(w, "turn_allocations", "gauge", "TURN allocations now, by the client's transport.");
    sample(w, "turn_allocations", "transport=\"udp\"", t->active[TURN_UDP]);
    sample(w, "turn_allocations", "transport=\"tcp\"", t->active[TURN_TCP]);
    sample(w, "turn_allocations", "transport=\"tls\"", t->active[TURN_TLS]);
    family(w, "turn_allocations_total", "counter", "TURN allocations created.");
    sample(w, "turn_allocations_total", "", t->allocations);
    family(w, "turn_relayed_packets_total", "counter", "Datagrams relayed, from clients to peers and from peers to clients.");
    sample(w, "turn_relayed_packets_total", "direction=\"to_peer\"", t->to_peer_packets);
    sample(w, "turn_relayed_packets_total", "direction=\"to_client\"", t->to_client_packets);
    family(w, "turn_relayed_bytes_total", "counter", "Payload bytes relayed, by direction.");
    sample(w, "turn_relayed_bytes_total", "direction=\"to_peer\"", t->to_peer_bytes);
    sample(w, "turn_relayed_bytes_total", "direction=\"to_client\"", t->to_client_bytes);
    family(w, "turn_auth_failures_total", "counter", "TURN requests refused for wrong credentials (401) or a stale nonce (438).");
    sample(w, "turn_auth_failures_total", "reason=\"bad_credentials\"", t->bad_credentials);
    sample(w, "turn_auth_failures_total", "reason=\"stale_nonce\"", t->stale_nonces);
    family(w, "turn_refused_total", "counter", "TURN peers and packets refused: own addresses of this host, the peer policy.");
    sample(w, "turn_refused_total", "reason=\"own_address\"", t->own_refused);
    sample(w, "turn_refused_total", "reason=\"peer_policy\"", t->policy_refused);
    sample(w, "turn_refused_total", "reason=\"unknown_method\"", t->unknown_method);
}

static void render_udp(struct writer *w, const struct metrics_snapshot *m)
{
    const struct udp_port_stats *u = &m->udp;
    family(w, "udp_packets_total", "counter", "Datagrams received on the main UDP port, by what the demultiplexer made of them.");
    char label[40];
    uint64_t unrouted = 0;
    for (int k = 0; k < UDP_KINDS; k++) {
        snprintf(label, sizeof(label), "kind=\"%s\"", udp_kind_name((enum udp_kind)k));
        sample(w, "udp_packets_total", label, u->received[k]);
        unrouted += u->unrouted[k];
    }
    family(w, "udp_sent_packets_total", "counter", "Datagrams sent from the main UDP port.");
    sample(w, "udp_sent_packets_total", "", u->sent);
    family(w, "udp_dropped_total", "counter", "Datagrams of the main UDP port dropped: no handler for their kind, too long, or refused by the kernel on send.");
    sample(w, "udp_dropped_total", "reason=\"unrouted\"", unrouted);
    sample(w, "udp_dropped_total", "reason=\"oversized\"", u->oversized);
    sample(w, "udp_dropped_total", "reason=\"send_failed\"", u->send_dropped);
}

/* The subscribers' estimates (observed at each re-allocation) as a
 * histogram, and the estimator's and speaker's counters. */
static void render_sfu_bwe(struct writer *w, const struct sfu_glue_stats *f)
{
    static const char *const le[6] = { "100000", "300000", "1000000", "3000000", "10000000", "+Inf" };
    uint64_t cum = 0;
    char label[32];
    family(w, "sfu_subscriber_estimate_bps", "histogram", "SFU subscribers' bandwidth estimates in bit/s, one observation per re-allocation (about every 0.5 s per subscriber with feedback).");
    for (int i = 0; i < 6; i++) {
        cum += f->est_le[i];
        snprintf(label, sizeof(label), "le=\"%s\"", le[i]);
        sample(w, "sfu_subscriber_estimate_bps_bucket", label, cum);
    }
    sample(w, "sfu_subscriber_estimate_bps_sum", "", f->est_sum);
    sample(w, "sfu_subscriber_estimate_bps_count", "", f->est_count);
    family(w, "sfu_bwe_feedback_total", "counter", "Congestion feedback from SFU subscribers used by the estimator, by kind.");
    sample(w, "sfu_bwe_feedback_total", "kind=\"transport-cc\"", f->twcc_feedback);
    sample(w, "sfu_bwe_feedback_total", "kind=\"remb\"", f->remb);
    family(w, "sfu_publisher_feedback_total", "counter", "transport-cc feedback packets the SFU sent publishers for their own send-side estimate.");
    sample(w, "sfu_publisher_feedback_total", "", f->twcc_sent);
    family(w, "sfu_video_paused_total", "counter", "Videos the SFU stopped sending a subscriber because they did not fit its estimate or were not among its last N speakers.");
    sample(w, "sfu_video_paused_total", "", f->bwe_paused);
    family(w, "sfu_video_resumed_total", "counter", "Paused videos the SFU sent a subscriber again.");
    sample(w, "sfu_video_resumed_total", "", f->bwe_resumed);
    family(w, "sfu_active_speaker_changes_total", "counter", "Times an SFU room's active speaker changed.");
    sample(w, "sfu_active_speaker_changes_total", "", f->speaker_changes);
}

static void render_sfu_threads(struct writer *w, const struct sfu_glue_stats *f)
{
    family(w, "sfu_media_threads", "gauge", "Threads the SFU's media runs on (1: the main loop).");
    sample(w, "sfu_media_threads", "", f->threads);
    char label[32];
    family(w, "sfu_thread_forwarded_packets_total", "counter", "RTP packets forwarded by each media thread (they add up to sfu_forwarded_packets_total).");
    for (unsigned i = 0; i < f->threads && i < SFU_STATS_THREADS; i++) {
        snprintf(label, sizeof(label), "thread=\"%u\"", i);
        sample(w, "sfu_thread_forwarded_packets_total", label, f->thread_forwarded[i]);
    }
    family(w, "sfu_thread_rooms", "gauge", "SFU rooms pinned to each media thread.");
    for (unsigned i = 0; i < f->threads && i < SFU_STATS_THREADS; i++) {
        snprintf(label, sizeof(label), "thread=\"%u\"", i);
        sample(w, "sfu_thread_rooms", label, f->thread_rooms[i]);
    }
}

static void render_sfu(struct writer *w, const struct metrics_snapshot *m)
{
    const struct sfu_glue_stats *f = &m->sfu;
    family(w, "sfu_sessions", "gauge", "SFU transports (a browser has a publisher and a subscriber one) with an ICE/DTLS session.");
    sample(w, "sfu_sessions", "", f->sessions);
    family(w, "sfu_rooms", "gauge", "SFU rooms with participants.");
    sample(w, "sfu_rooms", "", f->rooms);
    family(w, "sfu_forwarded_packets_total", "counter", "RTP packets the SFU forwarded (one per subscriber).");
    sample(w, "sfu_forwarded_packets_total", "", f->forwarded_packets);
    family(w, "sfu_forwarded_bytes_total", "counter", "Bytes of RTP the SFU forwarded, before SRTP.");
    sample(w, "sfu_forwarded_bytes_total", "", f->forwarded_bytes);
    family(w, "sfu_keyframe_requests_total", "counter", "PLIs the SFU sent to publishers.");
    sample(w, "sfu_keyframe_requests_total", "", f->keyframe_requests);
    const struct { const char *name, *help; uint64_t v; } more[] = {
        { "sfu_retransmitted_packets_total", "Packets the SFU resent from its cache for subscribers' NACKs (RTX or plain).", f->retransmitted },
        { "sfu_nacks_upstream_total", "NACKs the SFU sent to publishers for packets it lost.", f->nack_upstream },
        { "sfu_repaired_packets_total", "Lost packets the publishers' RTX gave back to the SFU.", f->repaired },
        { "sfu_sender_reports_forwarded_total", "Publishers' RTCP sender reports passed on to subscribers.", f->sr_forwarded },
        { "sfu_receiver_reports_total", "RTCP receiver reports the SFU sent to publishers.", f->rr_sent },
        { "sfu_consent_closed_total", "SFU transports closed because consent expired (RFC 7675).", f->consent_closed },
        { "sfu_from_turn_total", "Datagrams TURN allocations of this server handed to the SFU in process.", f->from_turn },
    };
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
        family(w, more[i].name, "counter", more[i].help);
        sample(w, more[i].name, "", more[i].v);
    }
    family(w, "sfu_tracks", "gauge", "Media tracks on connected SFU transports: up (a publisher's, to tincan) and down (forwarded to a subscriber), by kind.");
    for (int dir = 0; dir < 2; dir++) {
        for (int kind = 0; kind < 2; kind++) {
            char label[48];
            snprintf(label, sizeof(label), "dir=\"%s\",kind=\"%s\"", dir ? "down" : "up", kind ? "video" : "audio");
            sample(w, "sfu_tracks", label, f->tracks[dir][kind]);
        }
    }
    family(w, "sfu_dropped_total", "counter", "Datagrams for the SFU dropped, by reason.");
    char label[40];
    for (int d = 0; d < SFU_DROPS; d++) {
        snprintf(label, sizeof(label), "reason=\"%s\"", sfu_drop_name((enum sfu_drop)d));
        sample(w, "sfu_dropped_total", label, f->dropped[d]);
    }
    render_sfu_bwe(w, f);
    render_sfu_threads(w, f);
}

static void render_limits(struct writer *w, const struct metrics_snapshot *m)
{
    family(w, "rate_limited_total", "counter", "Requests, messages or packets refused by a limit.");
    sample(w, "rate_limited_total", "limit=\"signal_message\"", m->hub.limited[HUB_LIMIT_MESSAGE]);
    sample(w, "rate_limited_total", "limit=\"pin\"", m->hub.limited[HUB_LIMIT_PIN]);
    sample(w, "rate_limited_total", "limit=\"chat\"", m->hub.limited[HUB_LIMIT_CHAT]);
    sample(w, "rate_limited_total", "limit=\"relay_bytes\"", m->hub.limited[HUB_LIMIT_RELAY_BYTES]);
    sample(w, "rate_limited_total", "limit=\"lobby_full\"", m->hub.limited[HUB_LIMIT_LOBBY_FULL]);
    sample(w, "rate_limited_total", "limit=\"lobby_rename\"", m->hub.limited[HUB_LIMIT_RENAME]);
    sample(w, "rate_limited_total", "limit=\"connections_per_ip\"", m->per_ip_refused);
    sample(w, "rate_limited_total", "limit=\"ws_per_ip\"", m->ws_per_ip_refused);
    sample(w, "rate_limited_total", "limit=\"max_connections\"", m->total_refused);
    sample(w, "rate_limited_total", "limit=\"accept_paused\"", m->accept_paused);
    sample(w, "rate_limited_total", "limit=\"rest\"", m->rest_limited);
    sample(w, "rate_limited_total", "limit=\"rest_pendings_per_client\"", m->rest_per_client);
    sample(w, "rate_limited_total", "limit=\"rest_storage_full\"", m->rest_full);
    sample(w, "rate_limited_total", "limit=\"login\"", m->accounts.limited_login);
    sample(w, "rate_limited_total", "limit=\"register\"", m->accounts.limited_register);
    sample(w, "rate_limited_total", "limit=\"turn_unauthenticated\"", m->turn.unauth_limited);
    sample(w, "rate_limited_total", "limit=\"turn_binding\"", m->turn.binding_limited);
    sample(w, "rate_limited_total", "limit=\"turn_quota\"", m->turn.quota_refused);
    sample(w, "rate_limited_total", "limit=\"turn_source_quota\"", m->turn.source_quota_refused);
    sample(w, "rate_limited_total", "limit=\"turn_capacity\"", m->turn.capacity_refused);
    sample(w, "rate_limited_total", "limit=\"turn_bandwidth\"", m->turn.bandwidth_dropped);
}

static void render_accounts(struct writer *w, const struct metrics_snapshot *m)
{
    const struct accounts_stats *a = &m->accounts;
    family(w, "accounts_refused_total", "counter", "Account and team-room API requests refused: no same-origin proof, no session, wrong password, not allowed.");
    sample(w, "accounts_refused_total", "reason=\"csrf\"", a->csrf);
    sample(w, "accounts_refused_total", "reason=\"unauthenticated\"", a->unauthenticated);
    sample(w, "accounts_refused_total", "reason=\"bad_credentials\"", a->bad_credentials);
    sample(w, "accounts_refused_total", "reason=\"forbidden\"", a->forbidden);
    family(w, "accounts_hashing", "gauge", "Account requests waiting for an argon2id hash on a worker thread.");
    sample(w, "accounts_hashing", "", a->hashing);
}

int metrics_render(const struct metrics_snapshot *m, char *out, size_t cap)
{
    struct writer w = { out, cap, 0, cap == 0 };
    render_process(&w, m);
    render_connections(&w, m);
    render_signal(&w, m);
    if (m->turn_on)
        render_turn(&w, m);
    if (m->udp_on)
        render_udp(&w, m);
    if (m->sfu_on)
        render_sfu(&w, m);
    render_limits(&w, m);
    render_accounts(&w, m);
    return w.full ? -1 : (int)w.len;
}

/* --- access --- */

static int is_loopback(const struct sock_ip *ip)
{
    static const uint8_t v6_loopback[16] = { [15] = 1 };
    static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
    if (memcmp(ip->b, v6_loopback, 16) == 0)
        return 1;
    return memcmp(ip->b, mapped, 12) == 0 && ip->b[12] == 127;
}

/* Compares the header with "Bearer <token>" in constant time (both sides
 * hashed first, so the length leaks nothing either). */
static int token_matches(const char *token, const char *auth, size_t auth_len)
{
    static const char scheme[] = "Bearer ";
    size_t sl = sizeof(scheme) - 1;
    if (auth_len < sl || strncasecmp(auth, scheme, sl) != 0)
        return 0;
    unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), want);
    SHA256((const unsigned char *)auth + sl, auth_len - sl, got);
    return CRYPTO_memcmp(want, got, sizeof(want)) == 0;
}

int metrics_access(const struct conf *conf, const struct sock_ip *peer, const char *authorization, size_t auth_len,
                   int proxied)
{
    const char *token = conf->metrics_token && *conf->metrics_token ? conf->metrics_token : NULL;
    if (!conf->metrics)
        return 404;
    if (token && authorization)
        return token_matches(token, authorization, auth_len) ? 200 : 401;
    if (conf->metrics_loopback && !proxied && is_loopback(peer))
        return 200;
    return token ? 401 : 403;
}

/* --- the route --- */

static void send_refusal(struct client *c, int status, const char *host, int head_only)
{
    char body[64], head[2048];
    int blen = snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));
    struct http_response r = {
        .status = status, .content_type = "text/plain; charset=utf-8", .content_length = (uint64_t)blen,
        .cache_control = "no-store", .host = host,
        .extra = status == 401 ? "WWW-Authenticate: Bearer realm=\"tincan metrics\"\r\n" : NULL,
    };
    size_t n = http_response_head(head, sizeof(head), &r);
    if (n > 0)
        client_send(c, head, n);
    if (!head_only)
        client_send(c, body, (size_t)blen);
    client_finish(c);
}

static int proxied(const struct http_request *req)
{
    return http_header_get(req, "forwarded") || http_header_get(req, "x-forwarded-for") ||
           http_header_get(req, "x-real-ip");
}

void metrics_serve(struct client *c, const struct http_request *req, int head_only, const char *host, int keep_alive)
{
    const struct http_str *auth = http_header_get(req, "authorization");
    int status = metrics_access(c->srv->conf, &c->ip, auth ? auth->p : NULL, auth ? auth->len : 0, proxied(req));
    if (status != 200) {
        send_refusal(c, status, host, head_only);
        return;
    }
    static char body[METRICS_MAX_BYTES];
    struct metrics_snapshot m;
    metrics_collect(c->srv, &m);
    int n = metrics_render(&m, body, sizeof(body));
    if (n < 0) {
        http_send_error(c, 500, host);
        return;
    }
    char head[2048];
    struct http_response r = {
        .status = 200, .content_type = CONTENT_TYPE, .content_length = (uint64_t)n,
        .cache_control = "no-store", .keep_alive = keep_alive, .host = host,
    };
    size_t hn = http_response_head(head, sizeof(head), &r);
    if (hn > 0 && client_send(c, head, hn) == 0 && !head_only)
        client_send(c, body, (size_t)n);
}
