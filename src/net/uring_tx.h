/*
 * uring_tx — datagrams to many sockets, sent with one system call.
 *
 * sendmmsg batches the datagrams of one socket; a TURN relay sends one or
 * two datagrams on each of many sockets (one per allocation) per loop
 * iteration, so sendmmsg saves nothing there and each datagram costs a
 * sendto. An io_uring submission queue takes sends for any socket: the
 * datagrams queued while the loop handles a batch of events leave with one
 * io_uring_enter when it is done. Uses the kernel ABI of <linux/io_uring.h>
 * directly (no liburing).
 *
 * io_uring may be refused: old kernels (ENOSYS), kernel.io_uring_disabled,
 * a seccomp filter such as systemd's @system-service (EPERM). uring_tx_new()
 * then returns NULL and the caller sends with sendto as before. The
 * environment variable TINCAN_IO_URING=0 makes it return NULL too, to run
 * the fallback on purpose.
 *
 * Ownership: the queue copies each datagram and its address; the caller's
 * buffers are free again when uring_tx_queue() returns. A socket with
 * datagrams queued must not be closed before uring_tx_flush(): the queue
 * holds its fd number, which a new socket could take.
 */
#ifndef TINCAN_URING_TX_H
#define TINCAN_URING_TX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define URING_TX_DEPTH 256        /* datagrams queued or in flight at most */
#define URING_TX_DATAGRAM_MAX 1500 /* longer ones the caller sends itself */

struct uring_tx;

struct uring_tx_stats {
    uint64_t sent;      /* datagrams the kernel took */
    uint64_t dropped;   /* refused by the kernel (full buffer, no route, closed socket) */
    uint64_t submits;   /* io_uring_enter calls */
};

/* A send queue of URING_TX_DEPTH entries, or NULL with errno set when the
 * kernel refuses io_uring (or TINCAN_IO_URING=0: errno ENOTSUP). */
struct uring_tx *uring_tx_new(void);
/* Sends what is queued, waits for what is in flight, frees u (NULL: nothing). */
void uring_tx_free(struct uring_tx *u);
/* Queues one datagram from fd to to. 0, or -1 when it cannot be queued
 * (too long, or the queue is full even after a flush): the caller sends it. */
int uring_tx_queue(struct uring_tx *u, int fd, const struct sockaddr *to, socklen_t tolen, const uint8_t *buf,
                   size_t len);
/* Submits every queued datagram with one io_uring_enter and collects the
 * completions there are. Returns the number submitted. */
int uring_tx_flush(struct uring_tx *u);
/* Datagrams queued and not yet submitted. */
unsigned uring_tx_queued(const struct uring_tx *u);
struct uring_tx_stats uring_tx_stats(const struct uring_tx *u);

#endif
