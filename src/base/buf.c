/*
 * buf — bounded byte buffer (see buf.h).
 */
#include "buf.h"

#include <errno.h>
#include <string.h>

#include "alloc.h"

void buf_init(struct buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void buf_cleanup(struct buf *b)
{
    xfree(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

size_t buf_room(const struct buf *b)
{
    return b->max - b->len;
}

uint8_t *buf_reserve(struct buf *b, size_t want)
{
    if (want > buf_room(b))
        return NULL;
    if (b->off + b->len + want <= b->cap)
        return b->data + b->off + b->len;
    if (b->off > 0) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
        if (b->len + want <= b->cap)
            return b->data + b->len;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + want)
        cap *= 2;
    if (cap > b->max)
        cap = b->max;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
    return b->data + b->len;
}

void buf_commit(struct buf *b, size_t n)
{
    b->len += n;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    uint8_t *dst = buf_reserve(b, n);
    if (!dst)
        return -ENOBUFS;
    memcpy(dst, p, n);
    buf_commit(b, n);
    return 0;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        buf_cleanup(b);
        return;
    }
    b->off += n;
    b->len -= n;
}
