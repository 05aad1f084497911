/*
 * crc32 — the CRC-32 of IEEE 802.3 / zlib / PNG (reflected polynomial
 * 0xEDB88320), which STUN's FINGERPRINT attribute is built on (RFC 8489
 * §14.7). Small and table-driven (a 16-entry table, a nibble at a time):
 * STUN messages are short, and zlib is not linked for one function.
 */
#ifndef TINCAN_CRC32_H
#define TINCAN_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC over n more bytes: start with crc = 0, feed pieces in
 * order; the result equals crc32_ieee() of the concatenation. */
uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n);
/* The CRC-32 of p[0..n); crc32_ieee("123456789", 9) == 0xCBF43926. */
uint32_t crc32_ieee(const uint8_t *p, size_t n);

#endif
