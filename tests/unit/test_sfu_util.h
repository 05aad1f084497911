/*
 * test_sfu_util — helpers shared by the SFU unit tests: a guard page so a
 * parser that reads one byte past its input crashes the test, and hex
 * vectors (unhex.h) copied to the very end of it. A file whose tests all
 * use one guard takes test_guard, mapped by guard_setup and unmapped by
 * guard_teardown as cmocka group setup and teardown.
 */
#ifndef TINCAN_TEST_SFU_UTIL_H
#define TINCAN_TEST_SFU_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unhex.h"

struct guard {
    uint8_t *base;
    size_t page;
};

/* Maps two pages and makes the second inaccessible. Returns 0 or -1. */
static inline int guard_init(struct guard *g)
{
    g->page = (size_t)sysconf(_SC_PAGESIZE);
    void *m = mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    g->base = m;
    return mprotect(g->base + g->page, g->page, PROT_NONE);
}

static inline void guard_free(struct guard *g)
{
    munmap(g->base, 2 * g->page);
}

/* Copies len bytes so that they end where the inaccessible page starts. */
static inline uint8_t *guard_put(struct guard *g, const void *p, size_t len)
{
    uint8_t *dst = g->base + g->page - len;
    memcpy(dst, p, len);
    return dst;
}

static struct guard test_guard;

static inline int guard_setup(void **state)
{
    (void)state;
    return guard_init(&test_guard);
}

static inline int guard_teardown(void **state)
{
    (void)state;
    guard_free(&test_guard);
    return 0;
}

#endif
