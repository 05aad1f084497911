/*
 * server — listener, signals, TLS context and graceful shutdown
 * (see server.h).
 */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "../net/sock.h"
#include "../net/tls.h"
#include "../signal/hub.h"
#include "../version.h"
#include "acme_glue.h"
#include "client.h"
#include "rest_glue.h"
#include "accounts_glue.h"
#include "sfu_glue.h"
#include "turn_glue.h"
#include "udp_port.h"

#define SHUTDOWN_GRACE_MS 4500

int server_load_tls(struct server *s)
{
    char err[512];
    const struct conf *conf = s->conf;
    int acme = 0;
    if (conf->cert) {
        snprintf(s->cert_path, sizeof(s->cert_path), "%s", conf->cert);
        snprintf(s->key_path, sizeof(s->key_path), "%s", conf->key);
    } else if (acme_glue_cert_paths(s, s->cert_path, s->key_path, sizeof(s->cert_path)) == 0) {
        acme = 1;
    } else {
        int made = tls_selfsigned_ensure(conf->data_dir, conf->san.items, conf->san.count, s->cert_path,
                                         s->key_path, sizeof(s->cert_path), err, sizeof(err));
        if (made < 0) {
            log_error("certificate_failed", "error=\"%s\"", err);
            return -1;
        }
        if (made)
            log_info("certificate_created", "kind=self-signed");
    }
    SSL_CTX *ctx = tls_ctx_load(s->cert_path, s->key_path, err, sizeof(err));
    if (!ctx) {
        log_error("certificate_failed", "error=\"%s\"", err);
        return -1;
    }
    char fp[TLS_FINGERPRINT_LEN];
    if (tls_ctx_fingerprint(ctx, fp) == 0)
        log_info("certificate", "sha256=%s not_after=%lld self_signed=%s%s", fp, tls_ctx_not_after(ctx),
                 conf->cert || acme ? "false" : "true", acme ? " source=acme" : "");
    tls_note_served(ctx);
    /* Live connections hold their own reference to the old context. */
    if (s->tls)
        SSL_CTX_free(s->tls);
    s->tls = ctx;
    return 0;
}

static void on_accept(struct loop *loop, struct loop_io *io, unsigned events)
{
    (void)loop;
    (void)events;
    struct server *s = container_of(io, struct server, listen_io);
    for (int i = 0; i < 64 && !s->shutting_down; i++) {
        struct client *c;
        int r = admit_accept_one(s, s->listen_fd, &s->listen_pause, &c);
        if (r < 0)
            return;
        s->accepted += (unsigned)r;
    }
}

static void finish_shutdown(struct loop *loop, struct loop_timer *t)
{
    struct server *s = container_of(t, struct server, shutdown_timer);
    log_info("shutdown_forced", "connections=%zu", s->nclients);
    loop_stop(loop);
}

void server_client_gone(struct server *s)
{
    if (s->shutting_down && s->nclients == 0)
        loop_stop(s->loop);
}

static void begin_shutdown(struct server *s)
{
    if (s->shutting_down)
        return;
    s->shutting_down = 1;
    log_info("shutdown", "connections=%zu", s->nclients);
    loop_io_del(s->loop, &s->listen_io);
    close(s->listen_fd);
    s->listen_fd = -1;
    struct client *c = s->clients;
    while (c) {
        struct client *next = c->next; /* c may leave the list */
        client_shutdown(c);
        c = next;
    }
    if (s->nclients == 0)
        loop_stop(s->loop);
    else
        loop_timer_start(s->loop, &s->shutdown_timer, SHUTDOWN_GRACE_MS, finish_shutdown);
}

static void on_signal(struct loop *loop, struct loop_io *io, unsigned events)
{
    (void)loop;
    (void)events;
    struct server *s = container_of(io, struct server, signal_io);
    struct signalfd_siginfo si;
    while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            log_info("reload", "what=certificate");
            if (server_load_tls(s) < 0)
                log_warn("reload_failed", "keeping=previous_certificate");
        } else if (si.ssi_signo == SIGUSR1) {
            log_info("acme_renew_requested", "signal=SIGUSR1");
            acme_glue_force_renew(s);
        } else {
            begin_shutdown(s);
        }
    }
}

static int setup_signals(struct server *s)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -1;
    return loop_io_add(s->loop, &s->signal_io, fd, LOOP_READ, on_signal);
}

/* --room-mode as the hub's enum (conf_check allowed only these words). */
static enum hub_room_mode hub_room_mode_of(const char *mode)
{
    if (mode && strcmp(mode, "mesh") == 0)
        return HUB_ROOMS_MESH;
    if (mode && strcmp(mode, "sfu") == 0)
        return HUB_ROOMS_SFU;
    return HUB_ROOMS_AUTO;
}

int server_init(struct server *s, struct loop *loop, const struct conf *conf)
{
    memset(s, 0, sizeof(*s));
    s->loop = loop;
    s->conf = conf;
    s->listen_fd = -1;
    s->signal_io.fd = -1;
    s->started_ms = loop_now(loop);
    admit_init(&s->admit, 16);
    admit_pause_init(&s->listen_pause, s, &s->listen_io);
    struct hub_options ho = {
        .max_room = conf->max_room, .room_mode = hub_room_mode_of(conf->room_mode), .mesh_max = conf->mesh_max,
        .max_sfu_room = conf->max_sfu_room, .pin_rate = conf->pin_rate, .ring_timeout_s = conf->ring_timeout,
        .resume_grace_s = conf->resume_grace, .max_lobby = conf->max_lobby,
        .max_presence = conf->presence_max, .presence_per_account = 3, .version = TINCAN_VERSION,
    };
    s->hub = hub_new(loop, &ho);
    if (acme_glue_init(s) < 0 || server_load_tls(s) < 0)
        return -1;
    char err[512];
    s->listen_fd = sock_listen_tcp(conf->bind, conf->port, err, sizeof(err));
    if (s->listen_fd < 0) {
        log_error("listen_failed", "error=\"%s\"", err);
        return -1;
    }
    if (loop_io_add(loop, &s->listen_io, s->listen_fd, LOOP_READ, on_accept) < 0 || setup_signals(s) < 0) {
        log_error("setup_failed", "error=\"%s\"", strerror(errno));
        return -1;
    }
    s->udp = udp_port_new(loop, conf->bind, conf->port, conf->media_threads > 1, err, sizeof(err));
    if (!s->udp) {
        log_error("listen_failed", "proto=udp port=%d error=\"%s\"", conf->port, err);
        return -1;
    }
    if (turn_glue_init(s) < 0 || sfu_glue_init(s) < 0 || rest_glue_init(s) < 0 || accounts_glue_init(s) < 0 ||
        acme_glue_start(s) < 0)
        return -1;
    long nofile = sock_raise_nofile();
    long relays = conf->relay_port_hi >= conf->relay_port_lo ? conf->relay_port_hi - conf->relay_port_lo + 1 : 0;
    s->admit.max_connections = admit_max_connections(conf->max_connections, nofile, relays);
    log_info("listening", "port=%d bind=%s max_files=%ld max_connections=%ld", conf->port,
             conf->bind ? conf->bind : "*", nofile, s->admit.max_connections);
    return 0;
}

int server_run(struct server *s)
{
    int rc = loop_run(s->loop);
    struct client *c = s->clients;
    while (c) {
        struct client *next = c->next;
        client_close(c, "exit");
        c = next;
    }
    log_info("stopped", NULL);
    return rc < 0 ? 1 : 0;
}

void server_cleanup(struct server *s)
{
    acme_glue_cleanup(s);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->signal_io.fd >= 0)
        close(s->signal_io.fd);
    SSL_CTX_free(s->tls);
    sfu_glue_cleanup(s);
    hub_free(s->hub);
    turn_glue_cleanup(s);
    udp_port_free(s->udp);
    s->udp = NULL;
    rest_glue_cleanup(s);
    accounts_glue_cleanup(s);
    admit_cleanup(&s->admit);
    s->tls = NULL;
}

int server_db_path(const struct conf *conf, char *out, size_t len)
{
    if (conf->db) {
        snprintf(out, len, "%s", conf->db);
        return 0;
    }
    if (mkdir(conf->data_dir, 0700) < 0 && errno != EEXIST) {
        log_error("store_failed", "error=\"cannot create %s: %s\"", conf->data_dir, strerror(errno));
        return -1;
    }
    snprintf(out, len, "%s/tincan.db", conf->data_dir);
    return 0;
}
