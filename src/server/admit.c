/*
 * admit — connection admission and descriptor exhaustion (see admit.h).
 */
#include "admit.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "../net/sock.h"
#include "client.h"
#include "ipcount.h"
#include "server.h"

void admit_init(struct admit *a, long max)
{
    memset(a, 0, sizeof(*a));
    a->max_connections = max;
    a->per_source = ipcount_new();
    a->ws = ipcount_new();
}

void admit_cleanup(struct admit *a)
{
    ipcount_free(a->per_source);
    ipcount_free(a->ws);
    a->per_source = a->ws = NULL;
}

long admit_max_connections(long configured, long nofile, long relay_ports)
{
    if (configured > 0)
        return configured;
    long max = nofile - ADMIT_RESERVE_FDS - (relay_ports > 0 ? relay_ports : 0);
    return max < 16 ? 16 : max;
}

int admit_connection(struct server *s, const struct sock_ip *source)
{
    struct admit *a = &s->admit;
    if ((long)s->nclients >= a->max_connections) {
        a->total_refused++;
        log_debug("refused", "reason=max_connections");
        return -1;
    }
    if (ipcount_acquire(a->per_source, source, s->conf->max_conns_per_ip) < 0) {
        a->per_source_refused++;
        log_debug("refused", "reason=per_ip_limit");
        return -1;
    }
    return 0;
}

int admit_websocket(struct server *s, const struct sock_ip *source)
{
    struct admit *a = &s->admit;
    if (ipcount_acquire(a->ws, source, s->conf->max_ws_per_ip) < 0) {
        a->ws_refused++;
        log_debug("refused", "reason=ws_per_ip_limit");
        return -1;
    }
    ipcount_release(a->per_source, source);
    return 0;
}

void admit_release(struct server *s, const struct sock_ip *source, int ws)
{
    ipcount_release(ws ? s->admit.ws : s->admit.per_source, source);
}

static void on_resume(struct loop *loop, struct loop_timer *t)
{
    struct admit_pause *p = container_of(t, struct admit_pause, timer);
    if (!p->srv->shutting_down && p->io->fn)
        loop_io_set(loop, p->io, LOOP_READ);
}

void admit_pause_init(struct admit_pause *p, struct server *s, struct loop_io *io)
{
    p->srv = s;
    p->io = io;
}

static int out_of_descriptors(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

void admit_accept_failed(struct admit_pause *p, int err)
{
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED)
        return;
    struct server *s = p->srv;
    struct admit *a = &s->admit;
    uint64_t now = loop_now(s->loop);
    int log_now = !a->logged || now - a->last_log_ms >= ADMIT_LOG_EVERY_MS;
    if (out_of_descriptors(err)) {
        /* The listener stays readable while the backlog is not empty: stop
         * watching it for a moment instead of spinning on accept(). */
        a->paused++;
        loop_io_set(s->loop, p->io, 0);
        loop_timer_start(s->loop, &p->timer, ADMIT_PAUSE_MS, on_resume);
    }
    if (!log_now) {
        a->unlogged++;
        return;
    }
    log_warn("accept_failed", "error=\"%s\" connections=%zu paused_ms=%d suppressed=%llu", strerror(err),
             s->nclients, out_of_descriptors(err) ? ADMIT_PAUSE_MS : 0, (unsigned long long)a->unlogged);
    a->last_log_ms = now;
    a->logged = 1;
    a->unlogged = 0;
}

int admit_accept_one(struct server *s, int listen_fd, struct admit_pause *pause, struct client **c)
{
    struct sockaddr_storage peer;
    *c = NULL;
    int fd = sock_accept(listen_fd, &peer);
    if (fd < 0) {
        admit_accept_failed(pause, -fd);
        return -1;
    }
    struct sock_ip ip, source;
    sock_ip_from(&peer, &ip);
    sock_ip_source(&peer, &source);
    if (admit_connection(s, &source) < 0) {
        close(fd);
        return 0;
    }
    *c = client_accept(s, fd, &ip);
    return 1;
}
