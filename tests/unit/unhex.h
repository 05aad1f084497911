/*
 * unhex — test vectors written as hex text (as the RFCs print them) turned
 * into bytes, for the unit tests of the STUN codec and its authentication.
 */
#ifndef TINCAN_TEST_UNHEX_H
#define TINCAN_TEST_UNHEX_H

#include <stddef.h>
#include <stdint.h>

/* Turns lowercase hex digits (spaces ignored) into bytes; returns the count. */
static inline size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    int half = -1;
    for (; *s; s++) {
        if (*s == ' ')
            continue;
        int d = (*s >= '0' && *s <= '9') ? *s - '0' : *s - 'a' + 10;
        if (half < 0) {
            half = d;
        } else {
            out[n++] = (uint8_t)(half << 4 | d);
            half = -1;
        }
    }
    return n;
}

#endif
