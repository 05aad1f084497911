/*
 * metrics — GET /metrics in the Prometheus text exposition format 0.0.4.
 *
 * Three parts: metrics_collect() reads the server's counters (connections,
 * signaling, TURN, limits, certificate) into a plain snapshot;
 * metrics_render() turns a snapshot into text in a caller-supplied buffer
 * (pure, unit-tested); metrics_access() decides who may read it. Labels
 * only ever hold fixed words (kinds, directions, limit names, the version):
 * never names, rooms or addresses.
 *
 * Access: loopback peers may read without a token (unless
 * --metrics-loopback=false, or the request came through a proxy: it carries
 * Forwarded, X-Forwarded-For or X-Real-IP); anyone may read with
 * "Authorization: Bearer <--metrics-token>". Otherwise 401 when a token is
 * configured (with WWW-Authenticate: Bearer), else 403.
 */
#ifndef TINCAN_METRICS_H
#define TINCAN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "../base/conf.h"
#include "../net/sock.h"
#include "../signal/hub.h"
#include "../turn/server.h"
#include "../http/accounts_api.h"
#include "sfu_glue.h"
#include "udp_port.h"
#include "server.h"

#define METRICS_MAX_BYTES (32u << 10) /* ceiling of one rendered page */

struct metrics_snapshot {
    const char *version;
    int64_t start_time_s;              /* process start, seconds since the epoch */
    int64_t cert_not_after_s;          /* -1: unknown */
    int64_t acme_not_after_s;          /* the ACME certificate's notAfter; 0: none or ACME off */
    int64_t acme_last_success_s;       /* last successful ACME order; 0: none since start */
    uint64_t acme_failures;            /* failed ACME orders since start */
    size_t open[SERVER_KINDS];         /* connections open now, by kind */
    uint64_t opened[SERVER_KINDS];     /* connections that became each kind */
    uint64_t tcp_accepted, per_ip_refused, rest_limited;
    uint64_t ws_per_ip_refused, total_refused, accept_paused;
    uint64_t rest_per_client, rest_full;
    struct hub_stats hub;
    struct accounts_stats accounts;    /* zero when --accounts is off */
    int turn_on;
    struct turn_stats turn;
    int udp_on;
    struct udp_port_stats udp;
    int sfu_on;
    struct sfu_glue_stats sfu;
};

struct http_request;
struct client;

/* Fills m from the live server. */
void metrics_collect(const struct server *s, struct metrics_snapshot *m);
/* Writes the exposition text of m into out. Returns its length, or -1 if
 * it does not fit in cap bytes. */
int metrics_render(const struct metrics_snapshot *m, char *out, size_t cap);
/* Who may read: 200, 401 (token configured, missing or wrong), 403 (not
 * loopback and no token configured) or 404 (--metrics=false).
 * authorization is the header value (NULL if absent), proxied is true when
 * the request carries a forwarding header. */
int metrics_access(const struct conf *conf, const struct sock_ip *peer, const char *authorization, size_t auth_len,
                   int proxied);
/* Answers GET/HEAD /metrics on client c. */
void metrics_serve(struct client *c, const struct http_request *req, int head_only, const char *host, int keep_alive);

#endif
