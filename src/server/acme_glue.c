/*
 * acme_glue — ACME worker thread, renewal timer and the plain HTTP port
 * (see acme_glue.h).
 */
#include "acme_glue.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
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
#include "admit.h"
#include "server.h"

#define BACKOFF_FIRST_S 60
#define BACKOFF_MAX_S (6 * 3600)
#define CHECK_MAX_S (12 * 3600)      /* look at the expiry at least this often */
#define REQUEST_TIMEOUT_S 30
#define POLL_MAX_S 120
#define WORKER_EXIT_WAIT_MS 3000
#define RENEW_MIN_S 60               /* a fresh certificate due sooner is a failure */
#define CHALLENGE_PREFIX "/.well-known/acme-challenge/"

struct acme_glue {
    struct server *srv;
    int enabled;                     /* ACME on (else only the HTTP port) */
    char dir[4200], account[4300], pem[4300];
    struct acme_params params;      /* its strings are the glue's own copies (below) */
    char directory[2048];
    char **domains;                 /* copies: an abandoned worker outlives the settings */
    char *email, *ca_file;
    pthread_t thread;
    int running;                     /* a worker exists and is not joined */
    int done_fd;                     /* eventfd: the worker has finished */
    struct loop_io done_io;
    struct loop_timer timer;
    long backoff_s;
    /* for /metrics (loop thread only) */
    long long not_after;             /* of the stored certificate, 0 if none */
    long long last_success_s;
    uint64_t failures;
    /* written by the worker before it signals done_fd */
    int result;
    char error[512];
    /* the plain HTTP port */
    int http_fd;
    struct loop_io http_io;
    struct admit_pause http_pause; /* the --http-port listener, out of descriptors */
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

/* What the stored certificate needs now. */
enum need { NEED_NOTHING, NEED_NO_CERTIFICATE, NEED_DOMAINS_CHANGED, NEED_RENEWAL_DUE };

static const char *const need_name[] = {
    [NEED_NOTHING] = "none", [NEED_NO_CERTIFICATE] = "no_certificate",
    [NEED_DOMAINS_CHANGED] = "domains_changed", [NEED_RENEWAL_DUE] = "renewal_due",
};

/* Looks at the stored certificate: what it needs, and in how many seconds
 * it is due for renewal (in_s, when there is one). */
static enum need assess(struct acme_glue *g, long long *in_s)
{
    long long nb = 0, na = 0;
    const struct conf *conf = g->srv->conf;
    enum acme_cert_fit fit = acme_cert_check(g->pem, conf->domain.items, conf->domain.count, &nb, &na);
    g->not_after = fit == ACME_CERT_NONE ? 0 : na;
    *in_s = 0;
    if (fit == ACME_CERT_NONE)
        return NEED_NO_CERTIFICATE;
    if (fit == ACME_CERT_FIRST)
        return NEED_DOMAINS_CHANGED;
    *in_s = acme_renew_in((long long)clock_unix_s(), nb, na, conf->acme_renew_days);
    return *in_s > 0 ? NEED_NOTHING : NEED_RENEWAL_DUE;
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
    long long in;
    enum need need = assess(g, &in);
    if (g->backoff_s > 0 || need != NEED_NOTHING)
        start_worker(g, g->backoff_s > 0 ? "retry" : need_name[need]);
    else
        arm(g, in);
}

static void failed(struct acme_glue *g, const char *error)
{
    g->failures++;
    g->backoff_s = g->backoff_s ? g->backoff_s * 2 : BACKOFF_FIRST_S;
    if (g->backoff_s > BACKOFF_MAX_S)
        g->backoff_s = BACKOFF_MAX_S;
    log_warn("acme_failed", "domain=%s error=\"%s\" retry_in=%ld keeping=current_certificate",
             g->params.domains[0], error, g->backoff_s);
    arm(g, g->backoff_s);
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
        failed(g, g->error);
        return;
    }
    long long in;
    enum need need = assess(g, &in);
    log_info("acme_certificate", "domain=%s stored=%s renew_in=%lld", g->params.domains[0], g->pem, in);
    /* The SIGHUP path: new connections get the new certificate, live ones
     * keep the context they started with. */
    if (server_load_tls(g->srv) < 0) {
        failed(g, "cannot load the new certificate");
        return;
    }
    if (need != NEED_NOTHING || in < RENEW_MIN_S) {
        /* A fresh certificate due (almost) at once (a clock far off, or a
         * lifetime of minutes): ordering again right away would loop. It
         * is served all the same. */
        failed(g, need == NEED_DOMAINS_CHANGED ? "the new certificate does not cover every --domain"
                                                : "the new certificate is due for renewal at once");
        return;
    }
    g->backoff_s = 0;
    g->last_success_s = (long long)clock_unix_s();
    arm(g, in);
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

/* directory.url beside the files says which CA the hashed directory is for. */
static void note_directory(struct acme_glue *g)
{
    char path[4300];
    snprintf(path, sizeof(path), "%s/directory.url", g->dir);
    FILE *f = fopen(path, "wx");
    if (f) {
        fprintf(f, "%s\n", g->directory);
        fclose(f);
    }
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
    snprintf(g->directory, sizeof(g->directory), "%s", acme_directory_url(conf->acme_directory, conf->acme_staging));
    snprintf(g->dir, sizeof(g->dir), "%s/acme", conf->data_dir);
    if (make_dir(g->dir) < 0 || acme_ca_dir(conf->data_dir, g->directory, g->dir, sizeof(g->dir)) < 0 ||
        make_dir(g->dir) < 0)
        return -1;
    note_directory(g);
    snprintf(g->account, sizeof(g->account), "%s/account.key", g->dir);
    snprintf(g->pem, sizeof(g->pem), "%s/%s.pem", g->dir, conf->domain.items[0]);
    const char *ch = conf->acme_challenge ? conf->acme_challenge : "auto";
    g->domains = xcalloc((size_t)conf->domain.count, sizeof(*g->domains));
    for (int i = 0; i < conf->domain.count; i++)
        g->domains[i] = xstrdup(conf->domain.items[i]);
    g->email = xstrdup(conf->acme_email);
    g->ca_file = xstrdup(conf->acme_ca_cert);
    g->params = (struct acme_params){
        .directory = g->directory, .ca_file = g->ca_file, .email = g->email,
        .domains = g->domains, .ndomains = conf->domain.count, .account_key_path = g->account,
        .pem_path = g->pem, .http01 = conf->http_port > 0 && strcmp(ch, "tls-alpn-01") != 0, .prefer_http01 = strcmp(ch, "http-01") == 0,
        .no_tlsalpn01 = strcmp(ch, "http-01") == 0, .timeout_s = REQUEST_TIMEOUT_S, .poll_max_s = POLL_MAX_S,
    };
    tls_set_challenge_hook(chall_alpn_use);
    return 0;
}

int acme_glue_cert_paths(struct server *s, char *cert, char *key, size_t len)
{
    struct acme_glue *g = s->acme;
    long long not_before, not_after;
    /* Covering the first name is enough to serve it while an order for
     * every name runs. */
    if (!g || !g->enabled ||
        acme_cert_check(g->pem, s->conf->domain.items, s->conf->domain.count, &not_before, &not_after) ==
            ACME_CERT_NONE ||
        not_after <= (long long)clock_unix_s())
        return -1;
    snprintf(cert, len, "%s", g->pem);
    snprintf(key, len, "%s", g->pem);
    return 0;
}

void acme_glue_stats(const struct server *s, struct acme_glue_stats *out)
{
    const struct acme_glue *g = s->acme;
    memset(out, 0, sizeof(*out));
    if (!g || !g->enabled)
        return;
    out->cert_not_after_s = g->not_after;
    out->last_success_s = g->last_success_s;
    out->failures = g->failures;
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
        struct client *c;
        int r = admit_accept_one(s, g->http_fd, &g->http_pause, &c);
        if (r < 0)
            return;
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
    admit_pause_init(&g->http_pause, g->srv, &g->http_io);
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
    long long in;
    enum need need = assess(g, &in);
    if (need == NEED_NOTHING)
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
    int abandoned = 0;
    if (g->running) {
        /* The worker notices the cancel within CANCEL_CHECK_MS, except
         * inside getaddrinfo(), which cannot be interrupted: then it is
         * left behind with g, its own copies of the settings it reads and
         * done_fd, and exit ends it. */
        https_cancel_all();
        struct pollfd p = { .fd = g->done_fd, .events = POLLIN };
        abandoned = poll(&p, 1, WORKER_EXIT_WAIT_MS) <= 0;
        if (abandoned) {
            log_warn("acme_worker_abandoned", "reason=\"busy: a DNS lookup cannot be interrupted\"");
            pthread_detach(g->thread);
        } else {
            pthread_join(g->thread, NULL);
        }
    }
    loop_timer_stop(s->loop, &g->timer);
    loop_timer_stop(s->loop, &g->http_pause.timer);
    if (g->done_fd >= 0) {
        loop_io_del(s->loop, &g->done_io);
        if (!abandoned)
            close(g->done_fd);
    }
    if (g->http_fd >= 0) {
        if (g->http_io.fd >= 0)
            loop_io_del(s->loop, &g->http_io);
        close(g->http_fd);
    }
    tls_set_challenge_hook(NULL);
    s->acme = NULL;
    if (abandoned)
        return; /* g and its copies stay for the worker until exit */
    chall_clear();
    for (int i = 0; g->domains && i < g->params.ndomains; i++)
        xfree(g->domains[i]);
    xfree(g->domains);
    xfree(g->email);
    xfree(g->ca_file);
    xfree(g);
}
