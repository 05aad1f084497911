/*
 * conn — one byte stream over plain TCP or TLS, with bounded queues.
 *
 * A conn owns its socket and, once TLS has been chosen, its SSL object.
 * Received bytes collect in `in`; bytes to send wait in `out` (each with a
 * ceiling), optionally followed by one borrowed read-only `tail` (a static
 * file body) that is sent without being copied. conn does no dispatching:
 * the owner calls conn_read()/conn_flush() when the loop says the socket
 * is ready, and asks conn_wants() which events to wait for next.
 */
#ifndef TINCAN_CONN_H
#define TINCAN_CONN_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/loop.h"

struct conn {
    struct loop_io io;
    SSL *ssl;                 /* NULL for plain TCP */
    struct buf in, out;
    const uint8_t *tail;      /* borrowed bytes sent after out */
    size_t tail_len;
    int ssl_wants_write;      /* the TLS engine is blocked on a writable socket */
    int handshake_done;
};

enum conn_status {
    CONN_OK = 0,              /* progress made or nothing to do */
    CONN_AGAIN = 1,           /* would block */
    CONN_EOF = -1,            /* peer closed */
    CONN_ERR = -2,            /* socket or TLS error */
    CONN_FULL = -3,           /* the input buffer is at its ceiling */
};

/* Sets up a conn for fd with the given buffer ceilings; takes ownership of fd. */
void conn_init(struct conn *c, int fd, size_t in_max, size_t out_max);
/* Frees the SSL object and buffers and closes the fd. */
void conn_cleanup(struct conn *c);
/* Switches the conn to TLS as a server with ctx (bytes are still unread in
 * the socket). Returns 0 or -1. */
int conn_start_tls(struct conn *c, SSL_CTX *ctx);
/* Drives the TLS handshake: CONN_OK when done, CONN_AGAIN, or CONN_ERR. */
enum conn_status conn_handshake(struct conn *c);
/* Reads what the socket has into c->in: CONN_OK if bytes arrived,
 * CONN_AGAIN, CONN_EOF, CONN_ERR or CONN_FULL. */
enum conn_status conn_read(struct conn *c);
/* Queues n bytes after what is queued (copying a pending tail first);
 * -ENOBUFS past the ceiling. */
int conn_queue(struct conn *c, const void *p, size_t n);
/* Queues borrowed bytes to send last; p must outlive the send. */
void conn_queue_tail(struct conn *c, const uint8_t *p, size_t n);
/* Writes as much queued data as the socket takes: CONN_OK when everything
 * is out, CONN_AGAIN when some is left, CONN_ERR. */
enum conn_status conn_flush(struct conn *c);
/* Bytes still queued. */
size_t conn_pending(const struct conn *c);
/* LOOP_READ/LOOP_WRITE the conn needs next, given whether the owner wants
 * to read at all. */
unsigned conn_wants(const struct conn *c, int want_read);
/* Sends a TLS close_notify (if TLS) and half-closes the socket for writing. */
void conn_shutdown_write(struct conn *c);

#endif
