/*
 * conf — tincan's settings and where they come from.
 *
 * Every option is one row of a table: its name (also `TINCAN_<NAME>` in the
 * environment and `name = value` in a config file), its type, range and
 * default, and its help text. Sources are applied from weakest to
 * strongest: built-in defaults, the config file (--config), a .env file in
 * the working directory, the environment, the command line. Parsing is pure:
 * the functions here read strings, never files or the environment, so the
 * caller (main.c) decides what to read.
 */
#ifndef TINCAN_CONF_H
#define TINCAN_CONF_H

#include <stddef.h>

#include "log.h"

#define CONF_LIST_MAX 32
#define CONF_MAX_OPTS 128   /* rows the option table may grow to */
#define CONF_MEDIA_THREADS_MAX 64

struct conf_list {
    char *items[CONF_LIST_MAX];
    int count;
};

struct conf {
    int port;
    char *bind;               /* NULL: every IPv4 and IPv6 address */
    char *cert, *key;         /* PEM paths; NULL: self-signed in data_dir */
    char *data_dir;
    char *web_root;           /* NULL: the embedded web client */
    char *config;             /* path of the config file that was read */
    int log_level;            /* enum log_level */
    struct conf_list san;
    struct conf_list allow_origin;
    int max_lobby;            /* names in the lobby at once */
    int max_conns_per_ip;     /* connections other than WebSockets per source */
    int max_ws_per_ip;        /* WebSockets per source */
    int max_connections;      /* 0: from RLIMIT_NOFILE */
    int ws_max_message;
    int header_timeout, keepalive_timeout, tls_timeout, ws_ping_interval;
    int max_room, pin_rate, ring_timeout, resume_grace;
    char *room_mode;          /* auto, mesh or sfu */
    int mesh_max, max_sfu_room;
    int last_n;                 /* SFU rooms past this size: video of the last N speakers only */
    int media_threads;          /* SFU media threads; 1: the media runs on the main loop */
    /* TURN */
    char *turn_secret, *turn_realm, *relay_ports, *relay_ip, *external_ip, *public_host, *software;
    struct conf_list turn_user, allow_peer, deny_peer;
    int allow_loopback_peers, turn_quota, turn_bandwidth, turn_credential_ttl, turn_nonce_ttl;
    int turn_source_quota, turn_max_allocations;
    int relay_port_lo, relay_port_hi;   /* parsed from relay_ports by conf_check */
    /* REST API of seed 003 (join codes) */
    char *db;                 /* NULL: <data_dir>/tincan.db */
    int no_rest_api, rest_rate;
    /* accounts and team rooms (src/server/accounts_glue.c) */
    int accounts, session_ttl;
    int presence_max;         /* signed-in connections that hear presence */
    char *registration;       /* open, invite or closed */
    /* ACME (on when domain is set and cert is not) */
    struct conf_list domain;  /* first: the certificate's CN */
    char *acme_email, *acme_directory, *acme_ca_cert, *acme_challenge;
    int acme_staging, acme_renew_days, http_port;
    /* /metrics */
    int metrics, metrics_loopback;      /* on; loopback peers need no token */
    char *metrics_token;
    int help, version;
    /* Which source set each option last (index as conf_name(); 0 = the
     * built-in default); the loader sets `source` before applying one. */
    unsigned char set_by[CONF_MAX_OPTS];
    unsigned char source;
};

/* Fills c with the built-in defaults. */
void conf_init(struct conf *c);
/* The CPUs this process may run on (sched_getaffinity), 1 to
 * CONF_MEDIA_THREADS_MAX: the default of --media-threads. */
int conf_cpus(void);
/* Frees the strings c owns. */
void conf_cleanup(struct conf *c);
/* Sets option name (without dashes) from text value. Returns 0, or -1 with a
 * message naming the option in err. Lists append. */
int conf_set(struct conf *c, const char *name, const char *value, char *err, size_t errlen);
/* Applies "name = value" lines (# comments, blank lines) from text. */
int conf_parse_file_text(struct conf *c, const char *text, const char *source, char *err, size_t errlen);
/* Applies KEY=VALUE lines of a .env text whose keys start with TINCAN_ and
 * are not set in the real environment (getenv). */
int conf_parse_dotenv_text(struct conf *c, const char *text, char *err, size_t errlen);
/* Applies every TINCAN_<NAME> variable found with getenv(). */
int conf_apply_env(struct conf *c, char *err, size_t errlen);
/* Applies argv (--name value, --name=value, flags). */
int conf_parse_args(struct conf *c, int argc, char **argv, char *err, size_t errlen);
/* Checks rules that span options (cert needs key) and fills the values
 * parsed from others (relay_port_lo/hi). */
int conf_check(struct conf *c, char *err, size_t errlen);
/* Writes the --help text to buf. */
void conf_help(char *buf, size_t len);
/* The option table, for listing settings (check-config): the number of
 * options, the name of option i, and its value in c as text (lists joined
 * with ", ", flags true/false, log level by name, "" when a string is
 * unset). conf_value returns the text's length (truncated to len - 1). */
size_t conf_count(void);
const char *conf_name(size_t i);
size_t conf_value(const struct conf *c, size_t i, char *out, size_t len);
/* The value of c->source when option i was last set (0: never set). */
int conf_set_by(const struct conf *c, size_t i);
/* Finds the value given to --config on the command line or in TINCAN_CONFIG
 * (NULL if none), so the file can be applied before the stronger sources. */
const char *conf_find_config_path(int argc, char **argv);

#endif
