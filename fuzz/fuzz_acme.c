/*
 * fuzz_acme — the ACME client's parsers on bytes from a CA: the HTTPS
 * response (head, Content-Length, chunked), the directory, orders,
 * authorizations, problem documents and URLs. Every string they keep must
 * be NUL-terminated within its field and safe to put into a JWS header
 * (no quote, backslash or control character); a body never grows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme/https.h"
#include "acme/jws.h"
#include "acme/msg.h"

static void safe(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] < 0x20)
            abort();
    }
}

static void check_json(const uint8_t *data, size_t size)
{
    struct acme_directory d;
    if (acme_parse_directory(data, size, &d) == 0) {
        safe(d.new_nonce, sizeof(d.new_nonce));
        safe(d.new_order, sizeof(d.new_order));
    }
    struct acme_order o;
    if (acme_parse_order(data, size, &o) == 0) {
        if (o.nauthz > ACME_MAX_AUTHZ)
            abort();
        for (int i = 0; i < o.nauthz; i++)
            safe(o.authz[i], sizeof(o.authz[i]));
        safe(o.finalize, sizeof(o.finalize));
        safe(o.certificate, sizeof(o.certificate));
    }
    struct acme_authz a;
    if (acme_parse_authz(data, size, &a) == 0) {
        safe(a.domain, sizeof(a.domain));
        for (int i = 0; i < a.nch; i++) {
            char ka[ACME_TOKEN_MAX + 64];
            safe(a.ch[i].url, sizeof(a.ch[i].url));
            safe(a.ch[i].error, sizeof(a.ch[i].error));
            if (jws_key_authorization(a.ch[i].token, "thumb", ka, sizeof(ka)) < 0)
                abort(); /* a kept token is always usable */
        }
    }
    struct acme_problem p;
    acme_parse_problem(data, size, &p);
    safe(p.type, sizeof(p.type));
    safe(p.detail, sizeof(p.detail));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_json(data, size);
    struct https_response r;
    if (https_parse_response(data, size, &r) == 0) {
        if (r.body_len > size || r.body[r.body_len] != '\0' || r.status < 0 || r.status > 999)
            abort();
        check_json(r.body, r.body_len);
        https_response_free(&r);
    }
    char *url = malloc(size + 1);
    memcpy(url, data, size);
    url[size] = '\0';
    struct https_url u;
    if (https_parse_url(url, &u) == 0 && (!u.host[0] || !u.port[0] || u.path[0] != '/'))
        abort();
    free(url);
    return 0;
}
