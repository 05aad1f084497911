/*
 * crc32 — CRC-32/IEEE, a nibble at a time (see crc32.h).
 */
#include "crc32.h"

/* The CRC of each 4-bit value: t[i] is i shifted through the reflected
 * polynomial 0xEDB88320 four times. */
static const uint32_t nibble[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ nibble[crc & 15];
        crc = (crc >> 4) ^ nibble[crc & 15];
    }
    return ~crc;
}

uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
    return crc32_update(0, p, n);
}
