/*
 * fuzz_uname — libFuzzer target for the lobby name rules and keys
 * (src/signal/uname.c).
 *
 * Any bytes: uname_check() gives a verdict without reading past the input;
 * for valid UTF-8 the fold key and the skeleton fit UNAME_KEY_MAX, are
 * valid UTF-8 themselves, and are stable (a key of a key is itself for the
 * fold; the skeleton of a skeleton is itself).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "signal/uname.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    memcpy(s, data, size);
    enum uname_result r = uname_check(s, size);
    int valid = utf8_validate(data, size) == 0 && memchr(data, 0, size) == NULL;
    CHECK(valid || r == UNAME_BAD_UTF8);
    if (r == UNAME_OK) {
        char k[UNAME_KEY_MAX], k2[UNAME_KEY_MAX], sk[UNAME_KEY_MAX], sk2[UNAME_KEY_MAX];
        int n = uname_fold_key(s, size, k, sizeof(k));
        CHECK(n > 0 && (size_t)n < sizeof(k) && utf8_validate((const uint8_t *)k, (size_t)n) == 0);
        CHECK(uname_fold_key(k, (size_t)n, k2, sizeof(k2)) >= 0);
        int m = uname_skeleton(s, size, sk, sizeof(sk));
        CHECK(m > 0 && (size_t)m < sizeof(sk) && utf8_validate((const uint8_t *)sk, (size_t)m) == 0);
        CHECK(uname_skeleton(sk, (size_t)m, sk2, sizeof(sk2)) == m && memcmp(sk, sk2, (size_t)m) == 0);
    } else if (valid && size < UNAME_KEY_MAX) {
        char k[UNAME_KEY_MAX * 3];
        CHECK(uname_fold_key(s, size, k, sizeof(k)) >= 0 || size * 3 >= sizeof(k) / 4);
    }
    free(s);
    return 0;
}
