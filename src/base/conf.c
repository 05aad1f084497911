/*
 * conf — the option table and its parsers (see conf.h).
 */
#include "conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

enum conf_type { T_INT, T_STR, T_LIST, T_LEVEL, T_ADDR, T_FLAG };

struct conf_opt {
    const char *name;
    enum conf_type type;
    size_t offset;
    long min, max;
    const char *arg;
    const char *help;
};

#define F(field) offsetof(struct conf, field)

static const struct conf_opt opts[] = {
    { "port", T_INT, F(port), 1, 65535, "N", "TCP (and later UDP) port for everything (default 8443)" },
    { "bind", T_ADDR, F(bind), 0, 0, "ADDR", "address to listen on (default: all IPv4 and IPv6)" },
    { "cert", T_STR, F(cert), 0, 0, "FILE", "TLS certificate chain, PEM (default: self-signed in the data dir)" },
    { "key", T_STR, F(key), 0, 0, "FILE", "TLS private key, PEM" },
    { "data-dir", T_STR, F(data_dir), 0, 0, "DIR", "where certificates and data are kept (default ./data)" },
    { "web-root", T_STR, F(web_root), 0, 0, "DIR", "serve the web client from DIR instead of the embedded copy" },
    { "config", T_STR, F(config), 0, 0, "FILE", "read 'name = value' settings from FILE" },
    { "log-level", T_LEVEL, F(log_level), 0, 0, "LEVEL", "debug, info, warn or error (default info)" },
    { "san", T_LIST, F(san), 0, 0, "NAME", "extra name or address for the self-signed certificate (repeatable)" },
    { "allow-origin", T_LIST, F(allow_origin), 0, 0, "ORIGIN", "WebSocket Origin allowed besides the page's own (repeatable)" },
    { "max-conns-per-ip", T_INT, F(max_conns_per_ip), 1, 1000000, "N", "concurrent connections other than WebSockets per source address (IPv6: per /64) (default 256)" },
    { "max-ws-per-ip", T_INT, F(max_ws_per_ip), 1, 1000000, "N", "concurrent WebSockets per source address (IPv6: per /64) (default 1024)" },
    { "max-connections", T_INT, F(max_connections), 0, 100000000, "N", "concurrent TCP connections in all, 0 = the open-file limit less a reserve (default 0)" },
    { "ws-max-message", T_INT, F(ws_max_message), 125, 16 << 20, "BYTES", "largest WebSocket message accepted (default 65536)" },
    { "header-timeout", T_INT, F(header_timeout), 1, 3600, "SEC", "time to send request headers (default 10)" },
    { "keepalive-timeout", T_INT, F(keepalive_timeout), 1, 86400, "SEC", "idle time of a keep-alive connection (default 75)" },
    { "tls-timeout", T_INT, F(tls_timeout), 1, 3600, "SEC", "time to complete the TLS handshake (default 10)" },
    { "ws-ping-interval", T_INT, F(ws_ping_interval), 1, 86400, "SEC", "WebSocket ping interval; silent peers are dropped after twice this (default 30)" },
    { "max-room", T_INT, F(max_room), 2, 64, "N", "participants in one mesh room (default 8)" },
    { "room-mode", T_STR, F(room_mode), 0, 0, "MODE", "how rooms carry media: auto (mesh while small, then the SFU), mesh or sfu (default auto)" },
    { "mesh-max", T_INT, F(mesh_max), 1, 64, "N", "in auto mode, a room moves to the SFU when a member joins past N (default 4)" },
    { "max-sfu-room", T_INT, F(max_sfu_room), 2, 1000, "N", "participants in one SFU room (default 50)" },
    { "last-n", T_INT, F(last_n), 1, 1000, "N", "in bigger SFU rooms, video of the last N speakers only (default 9)" },
    { "media-threads", T_INT, F(media_threads), 1, CONF_MEDIA_THREADS_MAX, "N", "SFU media threads, rooms spread over them; 1 = the media runs on the main loop (default: the number of CPUs)" },
    { "max-lobby", T_INT, F(max_lobby), 0, 1000000, "N", "names in the lobby at once, 0 = no limit (default 1000)" },
    { "pin-rate", T_INT, F(pin_rate), 1, 10000, "N", "PIN attempts per minute per source address (default 10)" },
    { "ring-timeout", T_INT, F(ring_timeout), 1, 600, "SEC", "an unanswered lobby call ends after this (default 30)" },
    { "resume-grace", T_INT, F(resume_grace), 1, 3600, "SEC", "a dropped client keeps its identity and room this long (default 15)" },
    { "turn-secret", T_STR, F(turn_secret), 0, 0, "SECRET", "TURN REST secret (default: random, kept in the data dir)" },
    { "turn-user", T_LIST, F(turn_user), 0, 0, "NAME:PASS", "a static TURN user (repeatable)" },
    { "turn-realm", T_STR, F(turn_realm), 0, 0, "REALM", "TURN realm (default tincan)" },
    { "relay-ports", T_STR, F(relay_ports), 0, 0, "LO-HI", "UDP ports for TURN relays (default 49160-49200)" },
    { "relay-ip", T_ADDR, F(relay_ip), 0, 0, "ADDR", "address relay sockets bind to (default: --bind, else the first non-loopback IPv4)" },
    { "external-ip", T_ADDR, F(external_ip), 0, 0, "ADDR", "public address advertised for relays (behind NAT)" },
    { "public-host", T_STR, F(public_host), 0, 0, "NAME", "host name browsers use in ICE URLs (default: the request's Host)" },
    { "allow-peer", T_LIST, F(allow_peer), 0, 0, "CIDR[@LO-HI]", "TURN peers allowed despite the default deny list; with ports, also on own addresses (repeatable)" },
    { "deny-peer", T_LIST, F(deny_peer), 0, 0, "CIDR", "TURN peers refused (repeatable)" },
    { "allow-loopback-peers", T_FLAG, F(allow_loopback_peers), 0, 0, NULL, "let TURN relay to 127.0.0.0/8 and ::1 (tests only)" },
    { "turn-quota", T_INT, F(turn_quota), 1, 100000, "N", "TURN allocations per user (default 10)" },
    { "turn-source-quota", T_INT, F(turn_source_quota), 1, 100000, "N", "TURN allocations per source address, IPv6 per /64 (default 32)" },
    { "turn-max-allocations", T_INT, F(turn_max_allocations), 1, 1000000, "N", "TURN allocations in all (default 1000)" },
    { "turn-bandwidth", T_INT, F(turn_bandwidth), 0, 1000000000, "BYTES", "relay bytes per second per allocation, both ways, 0 = unlimited (default 2000000, 16 Mbit/s)" },
    { "turn-credential-ttl", T_INT, F(turn_credential_ttl), 60, 604800, "SEC", "lifetime of TURN credentials handed to browsers (default 3600)" },
    { "turn-nonce-ttl", T_INT, F(turn_nonce_ttl), 1, 600, "SEC", "TURN nonces go stale after this (default 600)" },
    { "no-rest-api", T_FLAG, F(no_rest_api), 0, 0, NULL, "turn off the join-code REST API (/api/rooms, /api/user/purge) and its database" },
    { "db", T_STR, F(db), 0, 0, "FILE", "SQLite database of the REST API (default <data-dir>/tincan.db; :memory: for tests)" },
    { "rest-rate", T_INT, F(rest_rate), 0, 100000, "N", "REST API requests per second per source address, bursts of twice that; 0 = unlimited (default 30)" },
    { "accounts", T_FLAG, F(accounts), 0, 0, NULL, "turn on accounts, sessions and team rooms (/api/auth, /api/team-rooms; default false)" },
    { "registration", T_STR, F(registration), 0, 0, "MODE", "who may create an account: open, invite (with an invite code) or closed (default invite)" },
    { "session-ttl", T_INT, F(session_ttl), 1, 31536000, "SEC", "lifetime of a login session (default 604800, 7 days)" },
    { "presence-max", T_INT, F(presence_max), 0, 1000000, "N", "signed-in connections that hear live presence, in all (default 1000)" },
    { "software", T_STR, F(software), 0, 0, "TEXT", "SOFTWARE attribute in STUN answers (default none)" },
    { "domain", T_LIST, F(domain), 0, 0, "NAME", "get a certificate for NAME by ACME (repeatable; the first is the main name)" },
    { "acme-email", T_STR, F(acme_email), 0, 0, "EMAIL", "contact address for the ACME account (expiry notices)" },
    { "acme-directory", T_STR, F(acme_directory), 0, 0, "URL", "ACME directory (default Let's Encrypt)" },
    { "acme-staging", T_FLAG, F(acme_staging), 0, 0, NULL, "use Let's Encrypt's staging directory (untrusted test certificates)" },
    { "acme-ca-cert", T_STR, F(acme_ca_cert), 0, 0, "FILE", "extra CA certificates to trust for the ACME server (PEM)" },
    { "acme-challenge", T_STR, F(acme_challenge), 0, 0, "TYPE", "auto (TLS-ALPN-01 if offered, else HTTP-01), tls-alpn-01 or http-01" },
    { "acme-renew-days", T_INT, F(acme_renew_days), 1, 3650, "DAYS", "renew an ACME certificate this long before it expires (default 30)" },
    { "http-port", T_INT, F(http_port), 0, 65535, "N", "plain HTTP port for ACME HTTP-01 and redirects to https, 0 = off (default 0)" },
    { "metrics", T_FLAG, F(metrics), 0, 0, NULL, "serve GET /metrics (Prometheus; default true, --metrics=false turns it off)" },
    { "metrics-token", T_STR, F(metrics_token), 0, 0, "TOKEN", "bearer token that opens /metrics to any address (default: loopback only)" },
    { "metrics-loopback", T_FLAG, F(metrics_loopback), 0, 0, NULL, "loopback peers need no token for /metrics (default true)" },
    { "help", T_FLAG, F(help), 0, 0, NULL, "show this help and exit" },
    { "version", T_FLAG, F(version), 0, 0, NULL, "show the version and exit" },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))
_Static_assert(NOPTS <= CONF_MAX_OPTS, "raise CONF_MAX_OPTS");

static const struct conf_opt *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++) {
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    }
    return NULL;
}

int conf_cpus(void)
{
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
    return n < 1 ? 1 : n > CONF_MEDIA_THREADS_MAX ? CONF_MEDIA_THREADS_MAX : n;
}

void conf_init(struct conf *c)
{
    memset(c, 0, sizeof(*c));
    c->port = 8443;
    c->data_dir = xstrdup("./data");
    c->log_level = LOG_INFO;
    c->max_conns_per_ip = 256;
    c->max_ws_per_ip = 1024;
    c->ws_max_message = 65536;
    c->header_timeout = 10;
    c->keepalive_timeout = 75;
    c->tls_timeout = 10;
    c->ws_ping_interval = 30;
    c->max_room = 8;
    c->room_mode = xstrdup("auto");
    c->mesh_max = 4;
    c->max_sfu_room = 50;
    c->last_n = 9;
    c->media_threads = conf_cpus();
    c->pin_rate = 10;
    c->max_lobby = 1000;
    c->ring_timeout = 30;
    c->resume_grace = 15;
    c->turn_realm = xstrdup("tincan");
    c->relay_ports = xstrdup("49160-49200");
    c->turn_quota = 10;
    c->turn_source_quota = 32;
    c->turn_max_allocations = 1000;
    c->turn_bandwidth = 2000000;
    c->turn_credential_ttl = 3600;
    c->turn_nonce_ttl = 600;
    c->rest_rate = 30;
    c->registration = xstrdup("invite");
    c->session_ttl = 604800;
    c->presence_max = 1000;
    c->acme_renew_days = 30;
    c->metrics = 1;
    c->metrics_loopback = 1;
}

static void list_clear(struct conf_list *l)
{
    for (int i = 0; i < l->count; i++)
        xfree(l->items[i]);
    l->count = 0;
}

void conf_cleanup(struct conf *c)
{
    for (size_t i = 0; i < NOPTS; i++) {
        void *field = (char *)c + opts[i].offset;
        if (opts[i].type == T_STR || opts[i].type == T_ADDR) {
            xfree(*(char **)field);
            *(char **)field = NULL;
        } else if (opts[i].type == T_LIST) {
            list_clear(field);
        }
    }
}

static int set_int(const struct conf_opt *o, int *field, const char *v, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0' || n < o->min || n > o->max) {
        snprintf(err, errlen, "invalid value for %s: '%s' (expected a number from %ld to %ld)",
                 o->name, v, o->min, o->max);
        return -1;
    }
    *field = (int)n;
    return 0;
}

static int set_addr(const struct conf_opt *o, char **field, const char *v, char *err, size_t errlen)
{
    unsigned char tmp[16];
    if (inet_pton(AF_INET, v, tmp) != 1 && inet_pton(AF_INET6, v, tmp) != 1) {
        snprintf(err, errlen, "invalid value for %s: '%s' (expected an IPv4 or IPv6 address)", o->name, v);
        return -1;
    }
    xfree(*field);
    *field = xstrdup(v);
    return 0;
}

static int set_list(const struct conf_opt *o, struct conf_list *l, const char *v, char *err, size_t errlen)
{
    /* Environment values carry several items separated by commas. */
    const char *p = v;
    while (*p) {
        const char *comma = strchr(p, ',');
        const char *next = comma ? comma + 1 : p + strlen(p);
        const char *end = comma ? comma : next;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t n = (size_t)(end - p);
        if (n > 0) {
            if (l->count == CONF_LIST_MAX) {
                snprintf(err, errlen, "too many values for %s (at most %d)", o->name, CONF_LIST_MAX);
                return -1;
            }
            char *item = xmalloc(n + 1);
            memcpy(item, p, n);
            item[n] = '\0';
            l->items[l->count++] = item;
        }
        p = next;
    }
    return 0;
}

static int set_flag(const struct conf_opt *o, int *field, const char *v, char *err, size_t errlen)
{
    if (!v || strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0) {
        *field = 1;
    } else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0) {
        *field = 0;
    } else {
        snprintf(err, errlen, "invalid value for %s: '%s' (expected true or false)", o->name, v);
        return -1;
    }
    return 0;
}

static int apply(struct conf *c, const struct conf_opt *o, const char *v, char *err, size_t errlen)
{
    void *field = (char *)c + o->offset;
    c->set_by[o - opts] = c->source;
    if (o->type != T_FLAG && (!v || !*v)) {
        snprintf(err, errlen, "option %s needs a value", o->name);
        return -1;
    }
    switch (o->type) {
    case T_INT:
        return set_int(o, field, v, err, errlen);
    case T_ADDR:
        return set_addr(o, field, v, err, errlen);
    case T_LIST:
        return set_list(o, field, v, err, errlen);
    case T_FLAG:
        return set_flag(o, field, v, err, errlen);
    case T_LEVEL: {
        enum log_level lvl;
        if (log_level_parse(v, &lvl) < 0) {
            snprintf(err, errlen, "invalid value for %s: '%s' (expected debug, info, warn or error)", o->name, v);
            return -1;
        }
        *(int *)field = (int)lvl;
        return 0;
    }
    case T_STR:
        xfree(*(char **)field);
        *(char **)field = xstrdup(v);
        return 0;
    }
    return -1;
}

int conf_set(struct conf *c, const char *name, const char *value, char *err, size_t errlen)
{
    const struct conf_opt *o = find_opt(name, strlen(name));
    if (!o) {
        snprintf(err, errlen, "unknown option '%s'", name);
        return -1;
    }
    return apply(c, o, value, err, errlen);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static char *unquote(char *v)
{
    size_t n = strlen(v);
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
        v[n - 1] = '\0';
        return v + 1;
    }
    return v;
}

/* Calls fn for each "key <sep> value" line; comments and blanks skipped. */
static int each_line(const char *text, char sep, const char *source,
                     int (*fn)(struct conf *, const char *, const char *, char *, size_t),
                     struct conf *c, char *err, size_t errlen)
{
    char *copy = xstrdup(text);
    int rc = 0, lineno = 0;
    for (char *line = copy, *nl; line; line = nl) {
        nl = strchr(line, '\n');
        if (nl)
            *nl++ = '\0';
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, sep);
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'name %c value'", source, lineno, sep);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s);
        if (strncmp(key, "export ", 7) == 0)
            key = trim(key + 7);
        char *val = unquote(trim(eq + 1));
        char inner[256];
        rc = fn(c, key, val, inner, sizeof(inner));
        if (rc < 0) {
            snprintf(err, errlen, "%s:%d: %s", source, lineno, inner);
            break;
        }
    }
    xfree(copy);
    return rc;
}

int conf_parse_file_text(struct conf *c, const char *text, const char *source, char *err, size_t errlen)
{
    return each_line(text, '=', source, conf_set, c, err, errlen);
}

/* Maps TINCAN_MAX_CONNS_PER_IP to max-conns-per-ip; NULL if not an option. */
static const struct conf_opt *opt_for_env(const char *key)
{
    if (strncmp(key, "TINCAN_", 7) != 0)
        return NULL;
    char name[64];
    size_t i = 0;
    for (const char *p = key + 7; *p && i + 1 < sizeof(name); p++, i++)
        name[i] = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
    name[i] = '\0';
    return find_opt(name, i);
}

static int dotenv_entry(struct conf *c, const char *key, const char *val, char *err, size_t errlen)
{
    const struct conf_opt *o = opt_for_env(key);
    if (!o || getenv(key))
        return 0; /* other programs' variables, or overridden by the real environment */
    return apply(c, o, val, err, errlen);
}

int conf_parse_dotenv_text(struct conf *c, const char *text, char *err, size_t errlen)
{
    return each_line(text, '=', ".env", dotenv_entry, c, err, errlen);
}

static void env_name(const char *opt, char *out, size_t len)
{
    size_t i = 0;
    const char *prefix = "TINCAN_";
    for (; *prefix && i + 1 < len; prefix++)
        out[i++] = *prefix;
    for (; *opt && i + 1 < len; opt++)
        out[i++] = *opt == '-' ? '_' : (char)toupper((unsigned char)*opt);
    out[i] = '\0';
}

int conf_apply_env(struct conf *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < NOPTS; i++) {
        char name[64];
        env_name(opts[i].name, name, sizeof(name));
        const char *v = getenv(name);
        if (!v || opts[i].offset == F(help) || opts[i].offset == F(version))
            continue;
        if (apply(c, &opts[i], v, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int conf_parse_args(struct conf *c, int argc, char **argv, char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%s' (options start with --)", arg);
            return -1;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct conf_opt *o = find_opt(name, nlen);
        if (!o) {
            snprintf(err, errlen, "unknown option '%.*s' (see --help)", (int)nlen + 2, arg);
            return -1;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v && o->type != T_FLAG) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "option %s needs a value", o->name);
                return -1;
            }
            v = argv[++i];
        }
        if (apply(c, o, v, err, errlen) < 0)
            return -1;
    }
    return 0;
}

const char *conf_find_config_path(int argc, char **argv)
{
    const char *path = getenv("TINCAN_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
    }
    return path;
}

int conf_check(struct conf *c, char *err, size_t errlen)
{
    if (!c->cert != !c->key) {
        snprintf(err, errlen, "invalid value for %s: --cert and --key must be given together",
                 c->cert ? "key" : "cert");
        return -1;
    }
    char *end;
    long lo = strtol(c->relay_ports, &end, 10), hi = -1;
    if (*end == '-')
        hi = strtol(end + 1, &end, 10);
    if (*end || lo < 1024 || hi < lo || hi > 65535) {
        snprintf(err, errlen, "invalid value for relay-ports: '%s' (expected LO-HI within 1024-65535)",
                 c->relay_ports);
        return -1;
    }
    c->relay_port_lo = (int)lo;
    c->relay_port_hi = (int)hi;
    if (!c->data_dir || !*c->data_dir) {
        snprintf(err, errlen, "invalid value for data-dir: empty");
        return -1;
    }
    const char *reg = c->registration ? c->registration : "";
    if (strcmp(reg, "open") != 0 && strcmp(reg, "invite") != 0 && strcmp(reg, "closed") != 0) {
        snprintf(err, errlen, "invalid value for registration: '%s' (expected open, invite or closed)", reg);
        return -1;
    }
    const char *rm = c->room_mode ? c->room_mode : "";
    if (strcmp(rm, "auto") != 0 && strcmp(rm, "mesh") != 0 && strcmp(rm, "sfu") != 0) {
        snprintf(err, errlen, "invalid value for room-mode: '%.100s' (expected auto, mesh or sfu)", rm);
        return -1;
    }
    for (int i = 0; i < c->turn_user.count; i++) {
        const char *u = c->turn_user.items[i], *colon = strchr(u, ':');
        if (!colon || colon == u || !colon[1]) {
            /* The value is not repeated: it may be a password. */
            snprintf(err, errlen, "invalid value for turn-user: expected NAME:PASSWORD");
            return -1;
        }
    }
    const char *ch = c->acme_challenge;
    if (ch && strcmp(ch, "auto") != 0 && strcmp(ch, "tls-alpn-01") != 0 && strcmp(ch, "http-01") != 0) {
        snprintf(err, errlen, "invalid value for acme-challenge: '%.100s' (expected auto, tls-alpn-01 or http-01)", ch);
        return -1;
    }
    return 0;
}

void conf_help(char *buf, size_t len)
{
    size_t o = 0;
    o += (size_t)snprintf(buf + o, len - o,
                          "usage: tincan [options]\n"
                          "       tincan check-config [options]   check the settings, print them, exit\n\n"
                          "Every option can also be set as TINCAN_<NAME> in the environment or a .env\n"
                          "file, or as 'name = value' in a --config file. Command line wins.\n\n");
    for (size_t i = 0; i < NOPTS && o < len; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        char env[64];
        env_name(opts[i].name, env, sizeof(env));
        o += (size_t)snprintf(buf + o, len - o, "  %-26s %s%s%s%s\n", left, opts[i].help,
                              opts[i].type == T_FLAG ? "" : " [", opts[i].type == T_FLAG ? "" : env,
                              opts[i].type == T_FLAG ? "" : "]");
    }
}

size_t conf_count(void)
{
    return NOPTS;
}

const char *conf_name(size_t i)
{
    return i < NOPTS ? opts[i].name : NULL;
}

size_t conf_value(const struct conf *c, size_t i, char *out, size_t len)
{
    static const char *const levels[] = { "debug", "info", "warn", "error" };
    const void *field = (const char *)c + opts[i].offset;
    int n = 0;
    out[0] = '\0';
    switch (opts[i].type) {
    case T_INT:
        n = snprintf(out, len, "%d", *(const int *)field);
        break;
    case T_FLAG:
        n = snprintf(out, len, "%s", *(const int *)field ? "true" : "false");
        break;
    case T_LEVEL: {
        int l = *(const int *)field;
        n = snprintf(out, len, "%s", l >= 0 && l < 4 ? levels[l] : "?");
        break;
    }
    case T_STR:
    case T_ADDR:
        n = snprintf(out, len, "%s", *(char *const *)field ? *(char *const *)field : "");
        break;
    case T_LIST: {
        const struct conf_list *l = field;
        for (int k = 0; k < l->count && n >= 0 && (size_t)n < len; k++)
            n += snprintf(out + n, len - (size_t)n, "%s%s", k ? ", " : "", l->items[k]);
        break;
    }
    }
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

int conf_set_by(const struct conf *c, size_t i)
{
    return i < NOPTS ? c->set_by[i] : 0;
}
