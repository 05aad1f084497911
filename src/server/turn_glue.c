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

#define SECRET_FILE "turn-secret"
#define STREAM_IDLE_MS (700u * 1000) /* past the longest refresh interval */

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

static void udp_send(const struct turn_source *src, const uint8_t *buf, size_t len)
{
    struct server *s = src->ctx;
    sendto(s->udp_io.fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&src->addr, src->addrlen);
}

static void on_udp(struct loop *loop, struct loop_io *io, unsigned events)
{
    (void)loop;
    (void)events;
    struct server *s = container_of(io, struct server, udp_io);
    static struct sock_batch batch;
    int n = sock_recv_batch(io->fd, &batch);
    for (int i = 0; i < n; i++) {
        enum stun_demux kind = stun_demux_udp(batch.buf[i], batch.len[i]);
        if (kind != STUN_DEMUX_STUN && kind != STUN_DEMUX_CHANNELDATA)
            continue; /* later: DTLS and RTP for the SFU */
        struct turn_source src = { .transport = TURN_UDP, .addrlen = batch.fromlen[i], .send = udp_send, .ctx = s };
        memcpy(&src.addr, &batch.from[i], sizeof(src.addr));
        turn_server_input(s->turn, &src, batch.buf[i], batch.len[i]);
    }
}

static int open_udp(struct server *s)
{
    const struct conf *conf = s->conf;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    if (conf->bind && inet_pton(AF_INET, conf->bind, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)conf->port);
        len = sizeof(*s4);
    } else {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)conf->port);
        if (conf->bind)
            inet_pton(AF_INET6, conf->bind, &s6->sin6_addr);
        len = sizeof(*s6);
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int zero = 0;
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    sock_udp_buffers(fd);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || loop_io_add(s->loop, &s->udp_io, fd, LOOP_READ, on_udp) < 0) {
        log_error("listen_failed", "proto=udp port=%d error=\"%s\"", conf->port, strerror(errno));
        close(fd);
        return -1;
    }
    return 0;
}

int turn_glue_init(struct server *s)
{
    const struct conf *conf = s->conf;
    s->udp_io.fd = -1;
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
    if (open_udp(s) < 0)
        return -1;
    log_info("turn", "relay_ports=%d-%d users=%d", conf->relay_port_lo, conf->relay_port_hi, conf->turn_user.count);
    return 0;
}

void turn_glue_cleanup(struct server *s)
{
    if (s->udp_io.fd >= 0) {
        loop_io_del(s->loop, &s->udp_io);
        close(s->udp_io.fd);
        s->udp_io.fd = -1;
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

void turn_glue_stream_input(struct client *c)
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

void turn_glue_stream_closed(struct client *c)
{
    if (c->srv->turn)
        turn_server_stream_closed(c->srv->turn, c);
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
