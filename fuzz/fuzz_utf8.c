/*
 * fuzz_utf8 — libFuzzer target for the incremental UTF-8 validator
 * (src/base/utf8.c).
 *
 * Compares utf8_validate() with a decoder written from RFC 3629's
 * definition, and with feeding the same bytes in pieces cut at points
 * derived from the input (WebSocket fragments split characters anywhere).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static int ref_valid(const uint8_t *p, size_t n)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    int want = ref_valid(buf, size) ? 0 : -1;
    CHECK(utf8_validate(buf, size) == want);

    /* Pieces whose lengths come from the bytes themselves. */
    struct utf8_state s;
    utf8_init(&s);
    size_t pos = 0;
    int rc = 0;
    while (pos < size && rc == 0) {
        size_t take = 1 + buf[pos] % 5;
        if (take > size - pos)
            take = size - pos;
        rc = utf8_feed(&s, buf + pos, take);
        pos += take;
    }
    int got = (rc == 0 && utf8_complete(&s)) ? 0 : -1;
    CHECK(got == want);
    free(buf);
    return 0;
}
