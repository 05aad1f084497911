/*
 * siphash — SipHash-1-3 (Aumasson and Bernstein; the variant Rust and
 * Python use for their hash tables) of a byte string under a 128-bit key.
 * With a secret key, nobody who does not know it can make keys collide:
 * a table keyed by what clients send cannot be turned into a linked list
 * (hash flooding).
 */
#ifndef TINCAN_SIPHASH_H
#define TINCAN_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* The first n (at most 8) bytes at p as a little-endian number. */
uint64_t siphash_load_le(const uint8_t *p, size_t n);
/* SipHash-1-3 of data under (k0, k1). */
uint64_t siphash13(uint64_t k0, uint64_t k1, const uint8_t *data, size_t len);
/* A fresh random key (from the kernel; should it have none to give yet,
 * the clock and addresses, still unknown to a client). */
void siphash_new_key(uint64_t *k0, uint64_t *k1);

#endif
