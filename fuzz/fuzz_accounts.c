/*
 * fuzz_accounts — the parsers of the accounts API: the Cookie header
 * (src/http/cookie.c) and the JSON request body (accounts_parse_body).
 * The first byte picks which; a found cookie value must lie inside the
 * input and hold only cookie-octets; a parsed body's strings must be
 * NUL-terminated within their fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/accounts_api.h"
#include "http/cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        const char *v;
        size_t vl;
        if (cookie_find(in, n, "tincan_session", &v, &vl)) {
            if (v < in || v + vl > in + n || vl > COOKIE_VALUE_MAX)
                abort();
            for (size_t i = 0; i < vl; i++) {
                if (v[i] <= 0x20 || v[i] == ';' || v[i] == '"')
                    abort();
            }
        }
        return 0;
    }
    struct accounts_body b;
    if (accounts_parse_body((const uint8_t *)in, n, &b) == 0) {
        if (strlen(b.username) > ACCOUNTS_FIELD_MAX || strlen(b.name) > ACCOUNTS_FIELD_MAX || b.disabled < -1 ||
            b.disabled > 1)
            abort();
    }
    return 0;
}
