/*
 * spsc — a bounded single-producer, single-consumer queue of fixed-size
 * slots between two threads, and the eventfd that wakes the consumer.
 *
 * The SFU's media threads (docs/sfu.md, "Threading") take datagrams from
 * the main loop and give messages back through a pair of these. One
 * thread only ever produces (reserve, commit), one only ever consumes
 * (peek, pop); the two indices are C11 atomics written with release and
 * read with acquire, so what the producer wrote into a slot is visible to
 * the consumer once it sees the slot. No locks, no allocation after
 * spsc_new(). Waking is separate and batched: the producer calls
 * spsc_kick() once after a run of commits (the loop's deferred work),
 * the consumer's loop watches spsc_fd() and calls spsc_drain_fd() before
 * it empties the queue, so a kick after its last peek wakes it again.
 */
#ifndef TINCAN_SPSC_H
#define TINCAN_SPSC_H

#include <stddef.h>

struct spsc;

/* A queue of `slots` (rounded up to a power of two, at least 2) slots of
 * slot_size bytes each, and its eventfd. NULL with errno set if the
 * eventfd cannot be made. */
struct spsc *spsc_new(size_t slots, size_t slot_size);
/* Closes the eventfd and frees the queue; spsc_free(NULL) is safe. */
void spsc_free(struct spsc *q);

/* Producer: the next free slot to fill, or NULL when the queue is full.
 * The slot is not seen by the consumer until spsc_commit(). */
void *spsc_reserve(struct spsc *q);
/* Producer: publishes the slot spsc_reserve() gave. */
void spsc_commit(struct spsc *q);
/* Producer: wakes the consumer (one eventfd write). */
void spsc_kick(struct spsc *q);

/* Consumer: the oldest committed slot, or NULL when the queue is empty.
 * It stays valid until spsc_pop(). */
void *spsc_peek(struct spsc *q);
/* Consumer: frees the slot spsc_peek() gave for the producer. */
void spsc_pop(struct spsc *q);
/* Consumer: the fd to watch for readability (an eventfd). */
int spsc_fd(const struct spsc *q);
/* Consumer: resets the eventfd; call it before emptying the queue. */
void spsc_drain_fd(struct spsc *q);

/* Either side: slots committed and not yet popped (a snapshot). */
size_t spsc_count(const struct spsc *q);
/* The queue's capacity in slots. */
size_t spsc_capacity(const struct spsc *q);

#endif
