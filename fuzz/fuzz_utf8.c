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
#include "../tests/unit/utf8_ref.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)


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
