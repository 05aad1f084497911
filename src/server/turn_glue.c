/*
 * turn_glue — TURN on the main port (see turn_glue.h).
 */
#include "turn_glue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "../net/sock.h"
#include "../stun/stun.h"
#include "../turn/server.h"
#include "client.h"
#include "relay_io.h"
#include "server.h"
#include "udp_port.h"

#define SECRET_FILE "turn-secret"
#define STREAM_IDLE_MS (700u * 1000) /* past the longest refresh interval */
#define TURN_STREAM_IN_MAX (STUN_MAX_LEN + 4)
#define TURN_STREAM_OUT_MAX (1u << 20)

/* --- the REST secret --- */

static char *load_or_create_secret(const char *data_dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", data_dir, SECRET_FILE);
    char secret[65] = "";
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(secret, 1, sizeof(secret) - 1, f);
        fclose(f);
        secret[n] = '\0';
        secret[strcspn(secret, "\r\n")] = '\0';
        if (strlen(secret) >= 16)
            return xstrdup(secret);
    }
    unsigned char raw[32];
    RAND_bytes(raw, sizeof(raw));
    for (int i = 0; i < 32; i++)
        snprintf(secret + 2 * i, 3, "%02x", raw[i]);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, secret, 64) != 64 || write(fd, "\n", 1) != 1) {
        log_warn("turn_secret_not_saved", "error=\"%s\"", strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    return xstrdup(secret);
}

/* --- addresses --- */

/* The relay address when none is given: the bind address if it is a
 * concrete IPv4 one, else the first non-loopback IPv4 of this host. */
static void default_relay_ip(const char *bind, char *out, size_t len)
{
    struct in_addr a;
    if (bind && inet_pton(AF_INET, bind, &a) == 1 && a.s_addr != INADDR_ANY) {
        snprintf(out, len, "%s", bind);
        return;
    }
    snprintf(out, len, "127.0.0.1");
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) < 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        struct in_addr *ip = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
        if ((ntohl(ip->s_addr) >> 24) == 127)
            continue;
        inet_ntop(AF_INET, ip, out, (socklen_t)len);
        break;
    }
    freeifaddrs(ifs);
}

static int load_policy(const struct conf *conf, struct turn_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->allow_loopback = conf->allow_loopback_peers;
    for (int i = 0; i < conf->allow_peer.count && p->nallow < POLICY_MAX_RULES; i++) {
        if (policy_parse_cidr(conf->allow_peer.items[i], &p->allow[p->nallow++]) < 0) {
            log_error("config", "error=\"invalid value for allow-peer: '%s'\"", conf->allow_peer.items[i]);
            return -1;
        }
    }
    for (int i = 0; i < conf->deny_peer.count && p->ndeny < POLICY_MAX_RULES; i++) {
        if (policy_parse_cidr(conf->deny_peer.items[i], &p->deny[p->ndeny++]) < 0) {
            log_error("config", "error=\"invalid value for deny-peer: '%s'\"", conf->deny_peer.items[i]);
            return -1;
        }
    }
    return 0;
}

/* --- UDP on the main port --- */

/* Answers leave from the address the request came to (see udp_port.h). */
static void udp_send(const struct turn_source *src, const uint8_t *buf, size_t len)
{
    struct server *s = src->ctx;
    udp_port_send(s->udp, &src->local, &src->addr, src->addrlen, buf, len);
}

/* STUN and ChannelData from the main port. */
static void on_udp(void *ctx, struct udp_port *port, const struct udp_packet *p)
{
    (void)port;
    struct server *s = ctx;
    struct turn_source src = { .transport = TURN_UDP, .addrlen = p->fromlen, .send = udp_send, .ctx = s };
    memcpy(&src.addr, p->from, p->fromlen);
    memcpy(&src.local, p->local, sizeof(src.local));
    turn_server_input(s->turn, &src, p->buf, p->len);
}

int turn_glue_init(struct server *s)
{
    const struct conf *conf = s->conf;
    s->turn_secret = conf->turn_secret ? xstrdup(conf->turn_secret) : load_or_create_secret(conf->data_dir);
    char relay_ip[64];
    if (conf->relay_ip)
        snprintf(relay_ip, sizeof(relay_ip), "%s", conf->relay_ip);
    else
        default_relay_ip(conf->bind, relay_ip, sizeof(relay_ip));
    struct turn_options o = {
        .realm = conf->turn_realm, .secret = s->turn_secret, .users = conf->turn_user.items,
        .nusers = conf->turn_user.count, .relay_ip = relay_ip, .external_ip = conf->external_ip,
        .port_lo = conf->relay_port_lo, .port_hi = conf->relay_port_hi, .quota = conf->turn_quota,
        .source_quota = conf->turn_source_quota, .max_allocations = conf->turn_max_allocations,
        .bandwidth = (uint64_t)conf->turn_bandwidth, .nonce_ttl = conf->turn_nonce_ttl, .software = conf->software,
    };
    if (load_policy(conf, &o.policy) < 0 || relay_io_local_addrs(&o.policy, conf) < 0)
        return -1;
    if (relay_io_ops(s->loop, relay_ip, &o.relay) < 0) {
        log_error("config", "error=\"invalid value for relay-ip: '%s'\"", relay_ip);
        return -1;
    }
    if (conf->allow_loopback_peers)
        log_warn("allow_loopback_peers", "note=\"TURN may relay to this machine's loopback: for tests only\"");
    char err[256];
    s->turn = turn_server_new(s->loop, &o, err, sizeof(err));
    if (!s->turn) {
        log_error("turn_failed", "error=\"%s\"", err);
        return -1;
    }
    relay_io_attach(&o.relay, s->turn);
    udp_port_route(s->udp, UDP_KIND_STUN, on_udp, s);
    udp_port_route(s->udp, UDP_KIND_CHANNELDATA, on_udp, s);
    log_info("turn", "relay_ports=%d-%d users=%d", conf->relay_port_lo, conf->relay_port_hi, conf->turn_user.count);
    return 0;
}

void turn_glue_cleanup(struct server *s)
{
    if (s->udp) {
        udp_port_route(s->udp, UDP_KIND_STUN, NULL, NULL);
        udp_port_route(s->udp, UDP_KIND_CHANNELDATA, NULL, NULL);
    }
    turn_server_free(s->turn);
    s->turn = NULL;
    xfree(s->turn_secret);
    s->turn_secret = NULL;
}

/* --- TCP and TLS streams --- */

static void stream_send(const struct turn_source *src, const uint8_t *buf, size_t len)
{
    client_send(src->ctx, buf, len);
}

static void stream_input(struct client *c)
{
    struct turn_source src = {
        .transport = c->conn.ssl ? TURN_TLS : TURN_TCP, .send = stream_send, .ctx = c,
    };
    src.addrlen = sizeof(src.addr);
    getpeername(c->conn.io.fd, (struct sockaddr *)&src.addr, &src.addrlen);
    while (c->state == CLIENT_TURN && c->conn.in.len > 0) {
        int n = stun_frame_len(buf_head(&c->conn.in), c->conn.in.len);
        if (n == 0)
            return;
        if (n < 0) {
            client_close(c, "turn_bad_frame");
            return;
        }
        client_set_timer(c, STREAM_IDLE_MS);
        turn_server_input(c->srv->turn, &src, buf_head(&c->conn.in), (size_t)n);
        if (c->state == CLIENT_CLOSED)
            return;
        buf_consume(&c->conn.in, (size_t)n);
    }
}

static void stream_closed(struct client *c)
{
    if (c->srv->turn)
        turn_server_stream_closed(c->srv->turn, c);
}

static void stream_timeout(struct client *c)
{
    client_close(c, "timeout");
}

static void stream_shutdown(struct client *c)
{
    client_close(c, "shutdown");
}

static const struct client_proto turn_stream_proto = {
    .name = "turn", .on_data = stream_input, .on_timer = stream_timeout, .on_shutdown = stream_shutdown,
    .on_close = stream_closed, .flush_at_once = 1,
};

void turn_glue_stream_start(struct client *c)
{
    client_become(c, CLIENT_TURN, &turn_stream_proto);
    c->srv->became[c->conn.ssl ? SERVER_KIND_TURN_TLS : SERVER_KIND_TURN_TCP]++;
    c->conn.in.max = TURN_STREAM_IN_MAX;
    c->conn.out.max = TURN_STREAM_OUT_MAX;
    client_set_timer(c, (uint64_t)c->srv->conf->header_timeout * 1000);
}

/* --- ICE servers for browsers --- */

/* The host part of a Host header ("[::1]:8443" → "[::1]", "a.b:443" → "a.b"). */
static void host_only(const char *host, char *out, size_t len)
{
    snprintf(out, len, "%s", host);
    char *end = out[0] == '[' ? strchr(out, ']') : NULL;
    char *colon = strrchr(end ? end : out, ':');
    if (colon && (!end || colon > end))
        *colon = '\0';
}

char *turn_glue_ice_json(struct server *s, const char *host, const char *user)
{
    const struct conf *conf = s->conf;
    char h[300];
    host_only(conf->public_host ? conf->public_host : (host && *host ? host : "localhost"), h, sizeof(h));
    char stun[400], udp[400], tcp[400], tls[400];
    snprintf(stun, sizeof(stun), "stun:%s:%d", h, conf->port);
    snprintf(udp, sizeof(udp), "turn:%s:%d?transport=udp", h, conf->port);
    snprintf(tcp, sizeof(tcp), "turn:%s:%d?transport=tcp", h, conf->port);
    snprintf(tls, sizeof(tls), "turns:%s:%d?transport=tcp", h, conf->port);
    char username[128], password[32], anon[17];
    if (!user) {
        /* Each browser gets a name of its own, so the TURN quota is per browser. */
        unsigned char raw[8];
        RAND_bytes(raw, sizeof(raw));
        for (int i = 0; i < 8; i++)
            snprintf(anon + 2 * i, 3, "%02x", raw[i]);
        user = anon;
    }
    json_t *servers = json_pack("[{s:[s]}]", "urls", stun);
    if (s->turn && turn_server_credential(s->turn, user, conf->turn_credential_ttl, username, sizeof(username),
                                          password) == 0)
        json_array_append_new(servers, json_pack("{s:[s,s,s], s:s, s:s}", "urls", udp, tcp, tls, "username",
                                                 username, "credential", password));
    char *text = json_dumps(servers, JSON_COMPACT);
    json_decref(servers);
    return text;
}
