/*
 * utf8_ref — a slow, obviously correct UTF-8 validator (decode each code
 * point per RFC 3629 and check its range) that the unit test and the fuzz
 * target compare src/base/utf8.c against.
 */
#ifndef TINCAN_UTF8_REF_H
#define TINCAN_UTF8_REF_H

#include <stddef.h>
#include <stdint.h>

/* Reference: decodes per RFC 3629 §3/§4 and checks the code point range. */
static inline int ref_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t need;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (i + need >= n)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += need + 1;
    }
    return 1;
}

#endif
