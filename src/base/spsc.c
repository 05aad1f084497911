/*
 * spsc — a single-producer, single-consumer queue between two threads
 * (see spsc.h).
 *
 * head counts the slots the consumer has popped, tail the slots the
 * producer has committed; both only grow (size_t wraps, which the
 * subtraction tolerates), and a slot's index is the count masked by the
 * capacity. Each side caches the other's index so the common case touches
 * only its own cache line.
 */
#include "spsc.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "alloc.h"

struct spsc {
    size_t mask, slot_size;
    uint8_t *slots;
    int efd;
    alignas(64) _Atomic size_t tail;  /* written by the producer */
    size_t head_cache;                /* the producer's last look at head */
    alignas(64) _Atomic size_t head;  /* written by the consumer */
    size_t tail_cache;                /* the consumer's last look at tail */
};

struct spsc *spsc_new(size_t slots, size_t slot_size)
{
    size_t cap = 2;
    while (cap < slots)
        cap <<= 1;
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0)
        return NULL;
    struct spsc *q = xcalloc(1, sizeof(*q));
    q->mask = cap - 1;
    q->slot_size = (slot_size + 15) & ~(size_t)15;
    q->slots = xcalloc(cap, q->slot_size);
    q->efd = efd;
    atomic_init(&q->tail, 0);
    atomic_init(&q->head, 0);
    return q;
}

void spsc_free(struct spsc *q)
{
    if (!q)
        return;
    close(q->efd);
    xfree(q->slots);
    xfree(q);
}

void *spsc_reserve(struct spsc *q)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (tail - q->head_cache > q->mask) {
        q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        if (tail - q->head_cache > q->mask)
            return NULL;
    }
    return q->slots + (tail & q->mask) * q->slot_size;
}

void spsc_commit(struct spsc *q)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
}

void spsc_kick(struct spsc *q)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is at its maximum: the consumer is woken
     * all the same. */
    ssize_t n = write(q->efd, &one, sizeof(one));
    (void)n;
}

void *spsc_peek(struct spsc *q)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (head == q->tail_cache) {
        q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (head == q->tail_cache)
            return NULL;
    }
    return q->slots + (head & q->mask) * q->slot_size;
}

void spsc_pop(struct spsc *q)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    atomic_store_explicit(&q->head, head + 1, memory_order_release);
}

int spsc_fd(const struct spsc *q)
{
    return q->efd;
}

void spsc_drain_fd(struct spsc *q)
{
    uint64_t v;
    ssize_t n = read(q->efd, &v, sizeof(v));
    (void)n;
}

size_t spsc_count(const struct spsc *q)
{
    size_t tail = atomic_load_explicit(&((struct spsc *)q)->tail, memory_order_acquire);
    size_t head = atomic_load_explicit(&((struct spsc *)q)->head, memory_order_acquire);
    return tail - head;
}

size_t spsc_capacity(const struct spsc *q)
{
    return q->mask + 1;
}
