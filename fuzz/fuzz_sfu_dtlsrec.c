/*
 * fuzz_sfu_dtlsrec — libFuzzer target for the DTLS record framing check
 * that runs before OpenSSL sees a datagram (dtls_record_check() in
 * src/sfu/dtls.c). The input is one datagram in a heap block of exactly
 * its size. Besides "no crash" it checks: an accepted datagram is tiled
 * exactly by records of a known content type and DTLS version.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/dtls.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if (dtls_record_check(buf, size) == 0) {
        size_t off = 0;
        CHECK(size > 0);
        while (off < size) {
            CHECK(size - off >= 13);
            CHECK(buf[off] >= 20 && buf[off] <= 25 && buf[off + 1] == 0xFE);
            off += 13 + ((size_t)buf[off + 11] << 8 | buf[off + 12]);
        }
        CHECK(off == size);
    }
    free(buf);
    return 0;
}
