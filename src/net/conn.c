/*
 * conn — plain or TLS byte stream with bounded queues (see conn.h).
 */
#include "conn.h"

#include <errno.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK 16384

void conn_init(struct conn *c, int fd, size_t in_max, size_t out_max)
{
    c->io.fd = fd;
    c->io.mask = 0;
    c->io.fn = NULL;
    c->ssl = NULL;
    buf_init(&c->in, in_max);
    buf_init(&c->out, out_max);
    c->tail = NULL;
    c->tail_len = 0;
    c->ssl_wants_write = 0;
    c->handshake_done = 0;
}

void conn_cleanup(struct conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    buf_cleanup(&c->in);
    buf_cleanup(&c->out);
    if (c->io.fd >= 0) {
        close(c->io.fd);
        c->io.fd = -1;
    }
}

int conn_start_tls(struct conn *c, SSL_CTX *ctx)
{
    c->ssl = SSL_new(ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->io.fd) != 1)
        return -1;
    SSL_set_accept_state(c->ssl);
    return 0;
}

/* Maps an SSL_* result to a status; records when TLS waits for writability. */
static enum conn_status ssl_status(struct conn *c, int ret)
{
    int e = SSL_get_error(c->ssl, ret);
    c->ssl_wants_write = 0;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return CONN_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        c->ssl_wants_write = 1;
        return CONN_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return CONN_EOF;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        return (ret == 0 || errno == ECONNRESET) ? CONN_EOF : CONN_ERR;
    default:
        ERR_clear_error();
        return CONN_ERR;
    }
}

enum conn_status conn_handshake(struct conn *c)
{
    int ret = SSL_do_handshake(c->ssl);
    if (ret == 1) {
        c->handshake_done = 1;
        c->ssl_wants_write = 0;
        return CONN_OK;
    }
    enum conn_status st = ssl_status(c, ret);
    return st == CONN_AGAIN ? CONN_AGAIN : CONN_ERR;
}

static ssize_t raw_read(struct conn *c, uint8_t *dst, size_t n, enum conn_status *st)
{
    if (c->ssl) {
        int ret = SSL_read(c->ssl, dst, (int)n);
        if (ret > 0)
            return ret;
        *st = ssl_status(c, ret);
        return -1;
    }
    ssize_t r = recv(c->io.fd, dst, n, 0);
    if (r > 0)
        return r;
    if (r == 0)
        *st = CONN_EOF;
    else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        *st = CONN_AGAIN;
    else
        *st = errno == ECONNRESET ? CONN_EOF : CONN_ERR;
    return -1;
}

enum conn_status conn_read(struct conn *c)
{
    size_t room = buf_room(&c->in);
    if (room == 0)
        return CONN_FULL;
    size_t want = room < READ_CHUNK ? room : READ_CHUNK;
    uint8_t *dst = buf_reserve(&c->in, want);
    enum conn_status st = CONN_OK;
    ssize_t r = raw_read(c, dst, want, &st);
    if (r > 0) {
        buf_commit(&c->in, (size_t)r);
        return CONN_OK;
    }
    if (c->in.len == 0)
        buf_cleanup(&c->in); /* give back the reserved chunk while idle */
    return st;
}

int conn_queue(struct conn *c, const void *p, size_t n)
{
    if (c->tail_len) {
        /* Something follows the borrowed tail (a pipelined request's
         * answer): copy the tail so the order stays right. */
        if (buf_append(&c->out, c->tail, c->tail_len) < 0)
            return -ENOBUFS;
        c->tail = NULL;
        c->tail_len = 0;
    }
    return buf_append(&c->out, p, n);
}

void conn_queue_tail(struct conn *c, const uint8_t *p, size_t n)
{
    c->tail = p;
    c->tail_len = n;
}

size_t conn_pending(const struct conn *c)
{
    return c->out.len + c->tail_len;
}

static ssize_t raw_write(struct conn *c, const uint8_t *p, size_t n, enum conn_status *st)
{
    if (c->ssl) {
        int ret = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
        if (ret > 0) {
            c->ssl_wants_write = 0;
            return ret;
        }
        *st = ssl_status(c, ret);
        if (*st == CONN_AGAIN && !c->ssl_wants_write)
            c->ssl_wants_write = 1; /* wait for the socket, whatever OpenSSL says */
        return -1;
    }
    ssize_t r = send(c->io.fd, p, n, MSG_NOSIGNAL);
    if (r >= 0)
        return r;
    *st = (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? CONN_AGAIN : CONN_ERR;
    return -1;
}

enum conn_status conn_flush(struct conn *c)
{
    enum conn_status st = CONN_OK;
    while (c->out.len > 0) {
        ssize_t w = raw_write(c, buf_head(&c->out), c->out.len, &st);
        if (w < 0)
            return st;
        buf_consume(&c->out, (size_t)w);
    }
    while (c->tail_len > 0) {
        ssize_t w = raw_write(c, c->tail, c->tail_len, &st);
        if (w < 0)
            return st;
        c->tail += w;
        c->tail_len -= (size_t)w;
    }
    c->tail = NULL;
    return CONN_OK;
}

unsigned conn_wants(const struct conn *c, int want_read)
{
    unsigned mask = want_read ? LOOP_READ : 0;
    if (conn_pending(c) > 0 || c->ssl_wants_write)
        mask |= LOOP_WRITE;
    return mask;
}

void conn_shutdown_write(struct conn *c)
{
    if (c->ssl && c->handshake_done) {
        SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
    shutdown(c->io.fd, SHUT_WR);
}
