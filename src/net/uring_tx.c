/*
 * uring_tx — datagrams to many sockets, sent with one system call (see
 * uring_tx.h).
 *
 * One io_uring per queue, set up through the raw system calls. Each queued
 * datagram takes a slot (its bytes, address, iovec and msghdr) that stays
 * put until the kernel's completion for it is read back; the slot index is
 * the submission's user_data. The submission queue has as many entries as
 * there are slots, so it cannot overflow, and the completion queue (twice
 * that) cannot either. Sends carry MSG_DONTWAIT: on a non-blocking UDP
 * socket they complete while io_uring_enter runs (a full socket buffer is a
 * drop, as with sendmmsg), so a flush gets its completions back at once.
 */
#include "uring_tx.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../base/alloc.h"

struct slot {
    struct msghdr msg;
    struct iovec iov;
    struct sockaddr_storage to;
    uint8_t buf[URING_TX_DATAGRAM_MAX];
};

struct uring_tx {
    int fd;
    void *sq_map, *cq_map;
    size_t sq_len, cq_len;
    struct io_uring_sqe *sqes;
    size_t sqes_len;
    unsigned *sq_head, *sq_tail, *sq_array, sq_mask;
    unsigned *cq_head, *cq_tail, cq_mask;
    struct io_uring_cqe *cqes;
    unsigned tail;       /* our submission tail, published by flush */
    unsigned queued;     /* in the submission queue, not yet submitted */
    unsigned inflight;   /* submitted, completion not yet read */
    unsigned nfree;
    uint16_t free[URING_TX_DEPTH];
    struct uring_tx_stats stats;
    struct slot slots[URING_TX_DEPTH];
};

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
    return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned submit, unsigned min_complete, unsigned flags)
{
    return (int)syscall(__NR_io_uring_enter, fd, submit, min_complete, flags, NULL, 0);
}

/* The ring's fd; newer setup flags first, none if the kernel is older. */
static int ring_setup(struct io_uring_params *p)
{
    static const unsigned tries[] = { IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN, 0 };
    int fd = -1;
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        memset(p, 0, sizeof(*p));
        p->flags = tries[i];
        fd = sys_setup(URING_TX_DEPTH, p);
        if (fd >= 0 || errno != EINVAL)
            break;
    }
    return fd;
}

static void *map(size_t len, int fd, off_t off)
{
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off);
    return m == MAP_FAILED ? NULL : m;
}

/* Maps the rings of u->fd as p describes them; 0 or -1 (errno set). */
static int ring_map(struct uring_tx *u, const struct io_uring_params *p)
{
    u->sq_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
    u->cq_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
    int single = (p->features & IORING_FEAT_SINGLE_MMAP) != 0;
    if (single)
        u->sq_len = u->cq_len = u->sq_len > u->cq_len ? u->sq_len : u->cq_len;
    if (!(u->sq_map = map(u->sq_len, u->fd, IORING_OFF_SQ_RING)))
        return -1;
    u->cq_map = single ? u->sq_map : map(u->cq_len, u->fd, IORING_OFF_CQ_RING);
    u->sqes_len = p->sq_entries * sizeof(struct io_uring_sqe);
    if (!u->cq_map || !(u->sqes = map(u->sqes_len, u->fd, IORING_OFF_SQES)))
        return -1;
    uint8_t *sq = u->sq_map, *cq = u->cq_map;
    u->sq_head = (unsigned *)(void *)(sq + p->sq_off.head);
    u->sq_tail = (unsigned *)(void *)(sq + p->sq_off.tail);
    u->sq_array = (unsigned *)(void *)(sq + p->sq_off.array);
    u->sq_mask = *(unsigned *)(void *)(sq + p->sq_off.ring_mask);
    u->cq_head = (unsigned *)(void *)(cq + p->cq_off.head);
    u->cq_tail = (unsigned *)(void *)(cq + p->cq_off.tail);
    u->cq_mask = *(unsigned *)(void *)(cq + p->cq_off.ring_mask);
    u->cqes = (struct io_uring_cqe *)(void *)(cq + p->cq_off.cqes);
    u->tail = *u->sq_tail;
    return 0;
}

static void ring_unmap(struct uring_tx *u)
{
    if (u->sqes)
        munmap(u->sqes, u->sqes_len);
    if (u->cq_map && u->cq_map != u->sq_map)
        munmap(u->cq_map, u->cq_len);
    if (u->sq_map)
        munmap(u->sq_map, u->sq_len);
    if (u->fd >= 0)
        close(u->fd);
}

struct uring_tx *uring_tx_new(void)
{
    const char *env = getenv("TINCAN_IO_URING");
    if (env && strcmp(env, "0") == 0) {
        errno = ENOTSUP;
        return NULL;
    }
    struct io_uring_params p;
    int fd = ring_setup(&p);
    if (fd < 0)
        return NULL;
    struct uring_tx *u = xcalloc(1, sizeof(*u));
    u->fd = fd;
    if (p.sq_entries < URING_TX_DEPTH || ring_map(u, &p) < 0) {
        int e = errno ? errno : ENOMEM;
        ring_unmap(u);
        xfree(u);
        errno = e;
        return NULL;
    }
    for (unsigned i = 0; i < URING_TX_DEPTH; i++)
        u->free[u->nfree++] = (uint16_t)(URING_TX_DEPTH - 1 - i);
    return u;
}

/* Reads every completion there is and frees its slot. */
static void reap(struct uring_tx *u)
{
    unsigned head = *u->cq_head;
    unsigned tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
    while (head != tail) {
        const struct io_uring_cqe *c = &u->cqes[head & u->cq_mask];
        if (c->res < 0)
            u->stats.dropped++;
        else
            u->stats.sent++;
        u->free[u->nfree++] = (uint16_t)c->user_data;
        u->inflight--;
        head++;
    }
    __atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
}

/* Takes back what the kernel refused to take at all (io_uring_enter
 * failed): the entries are withdrawn from the queue and counted as drops. */
static void withdraw(struct uring_tx *u)
{
    u->tail -= u->queued;
    for (unsigned k = 0; k < u->queued; k++) {
        u->free[u->nfree++] = (uint16_t)u->sqes[(u->tail + k) & u->sq_mask].user_data;
        u->stats.dropped++;
    }
    u->queued = 0;
    __atomic_store_n(u->sq_tail, u->tail, __ATOMIC_RELEASE);
}

int uring_tx_flush(struct uring_tx *u)
{
    int n = 0;
    if (u->queued) {
        __atomic_store_n(u->sq_tail, u->tail, __ATOMIC_RELEASE);
        do
            n = sys_enter(u->fd, u->queued, 0, 0);
        while (n < 0 && errno == EINTR);
        u->stats.submits++;
        if (n > 0) {
            u->queued -= (unsigned)n;
            u->inflight += (unsigned)n;
        } else if (n < 0) {
            withdraw(u);
        }
    }
    reap(u);
    return n > 0 ? n : 0;
}

int uring_tx_queue(struct uring_tx *u, int fd, const struct sockaddr *to, socklen_t tolen, const uint8_t *buf,
                   size_t len)
{
    if (len > URING_TX_DATAGRAM_MAX || tolen > sizeof(struct sockaddr_storage))
        return -1;
    if (!u->nfree)
        uring_tx_flush(u);
    if (!u->nfree)
        return -1;
    unsigned idx = u->free[--u->nfree];
    struct slot *s = &u->slots[idx];
    memcpy(s->buf, buf, len);
    memcpy(&s->to, to, tolen);
    s->iov = (struct iovec){ s->buf, len };
    s->msg = (struct msghdr){ .msg_name = &s->to, .msg_namelen = tolen, .msg_iov = &s->iov, .msg_iovlen = 1 };
    unsigned i = u->tail & u->sq_mask;
    struct io_uring_sqe *e = &u->sqes[i];
    memset(e, 0, sizeof(*e));
    e->opcode = IORING_OP_SENDMSG;
    e->fd = fd;
    e->addr = (uint64_t)(uintptr_t)&s->msg;
    e->len = 1;
    e->msg_flags = MSG_DONTWAIT;
    e->user_data = idx;
    u->sq_array[i] = i;
    u->tail++;
    u->queued++;
    return 0;
}

void uring_tx_free(struct uring_tx *u)
{
    if (!u)
        return;
    uring_tx_flush(u);
    /* The kernel may still read slots of sends it has not completed. */
    while (u->inflight) {
        int n = sys_enter(u->fd, 0, 1, IORING_ENTER_GETEVENTS);
        if (n < 0 && errno != EINTR)
            break;
        reap(u);
    }
    ring_unmap(u);
    xfree(u);
}

unsigned uring_tx_queued(const struct uring_tx *u)
{
    return u->queued;
}

struct uring_tx_stats uring_tx_stats(const struct uring_tx *u)
{
    return u->stats;
}
