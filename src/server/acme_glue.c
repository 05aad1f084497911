/*
 * acme_glue — ACME worker thread, renewal timer and the plain HTTP port
 * (see acme_glue.h).
 */
#include "acme_glue.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../acme/acme.h"
#include "../acme/chall.h"
#include "../acme/https.h"
#include "../acme/msg.h"
#include "../base/alloc.h"
#include "../base/clock.h"
#include "../base/log.h"
#include "../http/http.h"
#include "../http/response.h"
#include "../net/sock.h"
#include "../net/tls.h"
#include "client.h"
#include "ipcount.h"
#include "server.h"

#define BACKOFF_FIRST_S 60
#define BACKOFF_MAX_S (6 * 3600)
#define CHECK_MAX_S (12 * 3600)      /* look at the expiry at least this often */
#define REQUEST_TIMEOUT_S 30
#define POLL_MAX_S 120
#define CHALLENGE_PREFIX "/.well-known/acme-challenge/"

struct acme_glue {
    struct server *srv;
    int enabled;                     /* ACME on (else only the HTTP port) */
    char dir[4096], account[4200], cert[4200], key[4200];
    struct acme_params params;
    const char *directory;
    pthread_t thread;
    int running;                     /* a worker exists and is not joined */
    int done_fd;                     /* eventfd: the worker has finished */
    struct loop_io done_io;
    struct loop_timer timer;
    long backoff_s;
    /* written by the worker before it signals done_fd */
    int result;
    char error[512];
    /* the plain HTTP port */
    int http_fd;
    struct loop_io http_io;
};

int acme_glue_enabled(const struct server *s)
{
    return s->conf->domain.count > 0 && !s->conf->cert;
}

static void *worker(void *arg)
{
    struct acme_glue *g = arg;
    g->result = acme_obtain(&g->params, g->error, sizeof(g->error));
    uint64_t one = 1;
    if (write(g->done_fd, &one, sizeof(one)) != sizeof(one))
        log_error("acme_failed", "error=\"cannot wake the loop\"");
    return NULL;
}

static void start_worker(struct acme_glue *g, const char *why)
{
    if (g->running || g->srv->shutting_down)
        return;
    log_info("acme_order", "domain=%s reason=%s directory=%s", g->params.domains[0], why, g->directory);
    if (pthread_create(&g->thread, NULL, worker, g) != 0) {
        log_warn("acme_failed", "error=\"cannot start a thread\"");
        return;
    }
    g->running = 1;
}

/* Seconds until the stored certificate should be renewed (<= 0: now), or
 * -1 if there is no usable one. */
static long long renew_in(struct acme_glue *g)
{
    long long not_after;
    const struct conf *conf = g->srv->conf;
    if (acme_cert_check(g->cert, g->key, conf->domain.items, conf->domain.count, &not_after) < 0)
        return -1;
    return not_after - (long long)conf->acme_renew_days * 86400 - (long long)clock_unix_s();
}

static void on_check(struct loop *loop, struct loop_timer *t);

static void arm(struct acme_glue *g, long long delay_s)
{
    if (delay_s < 0)
        delay_s = 0;
    if (delay_s > CHECK_MAX_S)
        delay_s = CHECK_MAX_S;
    loop_timer_start(g->srv->loop, &g->timer, (uint64_t)delay_s * 1000, on_check);
}

static void on_check(struct loop *loop, struct loop_timer *t)
{
    (void)loop;
    struct acme_glue *g = container_of(t, struct acme_glue, timer);
    long long in = renew_in(g);
    if (g->backoff_s > 0 || in <= 0)
        start_worker(g, g->backoff_s > 0 ? "retry" : in < 0 ? "no_certificate" : "renewal_due");
    else
        arm(g, in);
}

static void on_done(struct loop *loop, struct loop_io *io, unsigned events)
{
    (void)loop;
    (void)events;
    struct acme_glue *g = container_of(io, struct acme_glue, done_io);
    uint64_t n;
    if (read(io->fd, &n, sizeof(n)) != sizeof(n) || !g->running)
        return;
    pthread_join(g->thread, NULL);
    g->running = 0;
    if (g->result < 0) {
        g->backoff_s = g->backoff_s ? g->backoff_s * 2 : BACKOFF_FIRST_S;
        if (g->backoff_s > BACKOFF_MAX_S)
            g->backoff_s = BACKOFF_MAX_S;
        log_warn("acme_failed", "domain=%s error=\"%s\" retry_in=%ld keeping=current_certificate",
                 g->params.domains[0], g->error, g->backoff_s);
        arm(g, g->backoff_s);
        return;
    }
    g->backoff_s = 0;
    log_info("acme_certificate", "domain=%s stored=%s", g->params.domains[0], g->cert);
    /* The SIGHUP path: new connections get the new certificate, live ones
     * keep the context they started with. */
    if (server_load_tls(g->srv) < 0)
        log_warn("acme_failed", "domain=%s error=\"cannot load the new certificate\"", g->params.domains[0]);
    arm(g, renew_in(g));
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return 0;
    log_error("acme_failed", "error=\"cannot create %s: %s\"", path, strerror(errno));
    return -1;
}

static int check_domains(const struct conf *conf)
{
    for (int i = 0; i < conf->domain.count; i++) {
        char probe[512];
        char *one[1] = { conf->domain.items[i] };
        /* acme_build_new_order checks each name the way the order will. */
        if (acme_build_new_order(one, 1, probe, sizeof(probe)) < 0) {
            log_error("acme_failed", "error=\"invalid --domain '%s'\"", conf->domain.items[i]);
            return -1;
        }
    }
    return 0;
}

int acme_glue_init(struct server *s)
{
    const struct conf *conf = s->conf;
    if (!acme_glue_enabled(s) && conf->http_port == 0)
        return 0;
    struct acme_glue *g = xcalloc(1, sizeof(*g));
    s->acme = g;
    g->srv = s;
    g->done_fd = -1;
    g->http_fd = -1;
    g->http_io.fd = -1;
    g->enabled = acme_glue_enabled(s);
    if (!g->enabled)
        return 0;
    if (check_domains(conf) < 0 || make_dir(conf->data_dir) < 0)
        return -1;
    snprintf(g->dir, sizeof(g->dir), "%s/acme", conf->data_dir);
    if (make_dir(g->dir) < 0)
        return -1;
    snprintf(g->account, sizeof(g->account), "%s/account.key", g->dir);
    snprintf(g->cert, sizeof(g->cert), "%s/%s.crt", g->dir, conf->domain.items[0]);
    snprintf(g->key, sizeof(g->key), "%s/%s.key", g->dir, conf->domain.items[0]);
    g->directory = conf->acme_directory ? conf->acme_directory
                   : conf->acme_staging ? ACME_LE_STAGING : ACME_LE_PRODUCTION;
    g->params = (struct acme_params){
        .directory = g->directory, .ca_file = conf->acme_ca_cert, .email = conf->acme_email,
        .domains = conf->domain.items, .ndomains = conf->domain.count, .account_key_path = g->account,
        .cert_path = g->cert, .key_path = g->key, .http01 = conf->http_port > 0,
        .timeout_s = REQUEST_TIMEOUT_S, .poll_max_s = POLL_MAX_S,
    };
    tls_set_challenge_hook(chall_alpn_use);
    return 0;
}

int acme_glue_cert_paths(struct server *s, char *cert, char *key, size_t len)
{
    struct acme_glue *g = s->acme;
    long long not_after;
    if (!g || !g->enabled ||
        acme_cert_check(g->cert, g->key, s->conf->domain.items, s->conf->domain.count, &not_after) < 0 ||
        not_after <= (long long)clock_unix_s())
        return -1;
    snprintf(cert, len, "%s", g->cert);
    snprintf(key, len, "%s", g->key);
    return 0;
}

void acme_glue_force_renew(struct server *s)
{
    struct acme_glue *g = s->acme;
    if (g && g->enabled)
        start_worker(g, "forced");
}

/* --- the plain HTTP port --- */

static void on_http_accept(struct loop *loop, struct loop_io *io, unsigned events)
{
    (void)loop;
    (void)events;
    struct acme_glue *g = container_of(io, struct acme_glue, http_io);
    struct server *s = g->srv;
    if (s->shutting_down) {
        loop_io_del(s->loop, &g->http_io);
        g->http_io.fd = -1;
        return;
    }
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage peer;
        int fd = sock_accept(g->http_fd, &peer);
        if (fd < 0)
            return;
        struct sock_ip ip;
        sock_ip_from(&peer, &ip);
        if (ipcount_acquire(s->per_ip, &ip, s->conf->max_conns_per_ip) < 0) {
            close(fd);
            continue;
        }
        struct client *c = client_accept(s, fd, &ip);
        if (c)
            c->http_port = 1;
    }
}

static int listen_http(struct acme_glue *g)
{
    const struct conf *conf = g->srv->conf;
    char err[512];
    g->http_fd = sock_listen_tcp(conf->bind, conf->http_port, err, sizeof(err));
    if (g->http_fd < 0) {
        log_error("listen_failed", "port=%d error=\"%s\"", conf->http_port, err);
        return -1;
    }
    if (loop_io_add(g->srv->loop, &g->http_io, g->http_fd, LOOP_READ, on_http_accept) < 0)
        return -1;
    log_info("listening", "port=%d what=http", conf->http_port);
    return 0;
}

int acme_glue_start(struct server *s)
{
    struct acme_glue *g = s->acme;
    if (!g)
        return 0;
    if (s->conf->http_port > 0 && listen_http(g) < 0)
        return -1;
    if (!g->enabled)
        return 0;
    g->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (g->done_fd < 0 || loop_io_add(s->loop, &g->done_io, g->done_fd, LOOP_READ, on_done) < 0) {
        log_error("acme_failed", "error=\"cannot create eventfd: %s\"", strerror(errno));
        return -1;
    }
    long long in = renew_in(g);
    if (in > 0)
        log_info("acme_certificate", "domain=%s reused=true renew_in=%lld", g->params.domains[0], in);
    arm(g, in);
    return 0;
}

static void send_text(struct client *c, int status, const char *body, const char *extra)
{
    char head[2048 + HTTP_MAX_TARGET];
    size_t blen = strlen(body);
    struct http_response r = {
        .status = status, .content_type = blen ? "text/plain" : NULL, .content_length = blen, .extra = extra,
    };
    size_t n = http_response_head(head, sizeof(head), &r);
    if (n > 0)
        client_send2(c, head, n, body, blen);
    client_finish(c);
}

/* host without its ":port", then ":<https port>" unless it is 443. */
static int https_location(const struct client *c, const struct http_request *req, const char *host, char *out,
                          size_t cap)
{
    size_t hl = strlen(host);
    const char *colon = strrchr(host, ':');
    if (colon && !strchr(colon, ']'))
        hl = (size_t)(colon - host);
    int port = c->srv->conf->port;
    char pbuf[16] = "";
    if (port != 443)
        snprintf(pbuf, sizeof(pbuf), ":%d", port);
    int n = snprintf(out, cap, "Location: https://%.*s%s%.*s\r\n", (int)hl, host, pbuf, (int)req->target.len,
                     req->target.p);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int acme_glue_http(struct client *c, const struct http_request *req, const char *host)
{
    size_t plen = strlen(CHALLENGE_PREFIX);
    if (req->path.len > plen && req->path.len - plen < ACME_TOKEN_MAX &&
        memcmp(req->path.p, CHALLENGE_PREFIX, plen) == 0) {
        char token[ACME_TOKEN_MAX], answer[ACME_TOKEN_MAX + 64];
        memcpy(token, req->path.p + plen, req->path.len - plen);
        token[req->path.len - plen] = '\0';
        if (chall_http_lookup(token, answer, sizeof(answer)) >= 0) {
            log_info("acme_http_challenge", "answered=true");
            send_text(c, 200, answer, NULL);
            return 1;
        }
    }
    if (!c->http_port)
        return 0;
    char extra[HTTP_MAX_TARGET + 400];
    if (!*host || https_location(c, req, host, extra, sizeof(extra)) < 0) {
        send_text(c, 400, "400 Bad Request\n", NULL);
        return 1;
    }
    send_text(c, 308, "", extra);
    return 1;
}

void acme_glue_cleanup(struct server *s)
{
    struct acme_glue *g = s->acme;
    if (!g)
        return;
    if (g->running) {
        https_cancel_all();
        pthread_join(g->thread, NULL);
    }
    loop_timer_stop(s->loop, &g->timer);
    if (g->done_fd >= 0) {
        loop_io_del(s->loop, &g->done_io);
        close(g->done_fd);
    }
    if (g->http_fd >= 0) {
        if (g->http_io.fd >= 0)
            loop_io_del(s->loop, &g->http_io);
        close(g->http_fd);
    }
    chall_clear();
    tls_set_challenge_hook(NULL);
    xfree(g);
    s->acme = NULL;
}
