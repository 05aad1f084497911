/*
 * alloc — the one allocation wrapper of tincan.
 *
 * Every heap allocation goes through these functions so that an allocation
 * failure has one policy: log and abort. A server that cannot allocate a few
 * bytes is not in a state where unwinding helps anyone.
 */
#ifndef TINCAN_ALLOC_H
#define TINCAN_ALLOC_H

#include <stddef.h>

/* Returns n bytes of uninitialised memory; never NULL. Free with xfree(). */
void *xmalloc(size_t n);
/* Returns n*size zeroed bytes; never NULL (aborts on overflow too). */
void *xcalloc(size_t n, size_t size);
/* Resizes p to n bytes like realloc(); never NULL. */
void *xrealloc(void *p, size_t n);
/* Returns a copy of s owned by the caller; xstrdup(NULL) is NULL. */
char *xstrdup(const char *s);
/* Frees p; xfree(NULL) is a no-op. */
void xfree(void *p);

#define container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
