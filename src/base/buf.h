/*
 * buf — a byte buffer with a ceiling.
 *
 * Every growable buffer in tincan is a struct buf whose maximum size is fixed
 * when it is initialised. Appending past the ceiling fails with -ENOBUFS and
 * leaves the buffer unchanged, so the caller can answer the peer with a clear
 * error. Storage is allocated lazily and released when the buffer empties,
 * which keeps idle connections small.
 */
#ifndef TINCAN_BUF_H
#define TINCAN_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
    uint8_t *data;  /* NULL while nothing is stored */
    size_t off;     /* start of unconsumed bytes */
    size_t len;     /* bytes stored after off */
    size_t cap;     /* allocated size of data */
    size_t max;     /* ceiling for len */
};

/* Initialises an empty buffer that will never hold more than max bytes. */
void buf_init(struct buf *b, size_t max);
/* Frees the storage; the buffer is empty and reusable afterwards. */
void buf_cleanup(struct buf *b);
/* Appends n bytes; 0 or -ENOBUFS if len + n would pass the ceiling. */
int buf_append(struct buf *b, const void *p, size_t n);
/* Returns a pointer to at least want writable bytes at the end (want must
 * fit under the ceiling, else NULL); commit them with buf_commit(). */
uint8_t *buf_reserve(struct buf *b, size_t want);
/* Marks n bytes written after buf_reserve() as stored. */
void buf_commit(struct buf *b, size_t n);
/* Drops n bytes from the front; frees the storage when the buffer empties. */
void buf_consume(struct buf *b, size_t n);
/* Bytes still allowed before the ceiling. */
size_t buf_room(const struct buf *b);

static inline const uint8_t *buf_head(const struct buf *b) { return b->data ? b->data + b->off : NULL; }
static inline uint8_t *buf_head_mut(struct buf *b) { return b->data ? b->data + b->off : NULL; }

#endif
