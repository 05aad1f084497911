/*
 * fuzz_http — libFuzzer target for the HTTP request-head parser
 * (src/http/http.c) and the helpers that read its result.
 *
 * The input is copied into a heap block of exactly its size, so AddressSanitizer
 * catches any read past len. Besides "no crash", it checks properties a server
 * relies on:
 *  - a parsed head lies inside the input, and its views lie inside the head;
 *  - limits hold: at most HTTP_MAX_HEADERS headers, a target of at most
 *    HTTP_MAX_TARGET bytes, a head of at most HTTP_MAX_HEAD_BYTES;
 *  - header names are tokens and values hold no CR, LF or NUL;
 *  - the verdict does not depend on how the bytes were split into reads:
 *    when the whole input parses (or needs more), each shorter prefix needs
 *    more bytes; bytes after a complete head do not change it.
 * The same input is also read as a chunked request body: a complete body
 * lies inside the input, decodes to no more than the limit and no more
 * bytes than it took, decoding in place gives the same bytes as decoding
 * into a separate buffer, and every shorter prefix needs more bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static int within(struct http_str s, const uint8_t *lo, const uint8_t *hi)
{
    if (s.len == 0)
        return 1;
    const uint8_t *p = (const uint8_t *)s.p;
    return p >= lo && p + s.len <= hi;
}

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void check_request(const uint8_t *buf, int rc, const struct http_request *req)
{
    const uint8_t *hi = buf + rc;
    CHECK(rc <= HTTP_MAX_HEAD_BYTES);
    CHECK(req->minor == 0 || req->minor == 1);
    CHECK(req->method.len > 0 && within(req->method, buf, hi));
    CHECK(req->target.len > 0 && req->target.len <= HTTP_MAX_TARGET && within(req->target, buf, hi));
    CHECK(req->target.p[0] == '/' || (req->target.len == 1 && req->target.p[0] == '*'));
    CHECK(req->path.p == req->target.p);
    CHECK(req->path.len + (req->query.p ? req->query.len + 1 : 0) == req->target.len);
    CHECK(within(req->query, buf, hi));
    CHECK(req->nheaders <= HTTP_MAX_HEADERS);
    for (size_t i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];
        CHECK(h->name.len > 0 && within(h->name, buf, hi) && within(h->value, buf, hi));
        for (size_t k = 0; k < h->name.len; k++)
            CHECK(is_tchar((unsigned char)h->name.p[k]));
        for (size_t k = 0; k < h->value.len; k++) {
            unsigned char c = (unsigned char)h->value.p[k];
            CHECK(c != '\r' && c != '\n' && c != '\0');
        }
        /* Values are trimmed. */
        if (h->value.len) {
            CHECK(h->value.p[0] != ' ' && h->value.p[0] != '\t');
            CHECK(h->value.p[h->value.len - 1] != ' ' && h->value.p[h->value.len - 1] != '\t');
        }
        /* Lookup by the header's own name finds a header of that name. */
        char name[128];
        if (h->name.len < sizeof(name)) {
            memcpy(name, h->name.p, h->name.len);
            name[h->name.len] = '\0';
            const struct http_str *v = http_header_get(req, name);
            CHECK(v != NULL);
            CHECK(v <= &h->value);
        }
        (void)http_list_has_token(h->value, "close");
        (void)http_list_has_token(h->value, "gzip");
        (void)http_str_ieq(h->value, "websocket");
    }
    static const char *const names[] = { "host", "connection", "upgrade", "content-length",
                                         "sec-websocket-key", "origin", "accept-encoding" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct http_str *v = http_header_get(req, names[i]);
        if (v)
            CHECK(within(*v, buf, hi));
    }
    uint64_t cl = 99;
    int r = http_content_length(req, &cl);
    CHECK(r == -1 || r == 0 || r == 1);
    if (r == 0)
        CHECK(cl == 0);
    int ka = http_keep_alive(req);
    CHECK(ka == 0 || ka == 1);
}

static int parse_copy(const uint8_t *data, size_t n, struct http_request *req)
{
    uint8_t *buf = malloc(n ? n : 1);
    memcpy(buf, data, n);
    int rc = http_parse_request(buf, n, req);
    CHECK(rc <= (int)n);
    if (rc > 0)
        check_request(buf, rc, req);
    free(buf);
    return rc;
}

#define CHUNKED_MAX 4096

static void check_chunked(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    uint8_t *out = malloc(size ? size : 1);
    memcpy(copy, data, size);
    size_t n1 = 0, n2 = 0;
    long measured = http_chunked_body(copy, size, CHUNKED_MAX, NULL, &n1);
    CHECK(measured == 0 || measured == -400 || measured == -413 || (measured > 0 && (size_t)measured <= size));
    if (measured > 0) {
        CHECK(n1 <= CHUNKED_MAX && n1 <= (size_t)measured);
        CHECK(http_chunked_body(copy, size, CHUNKED_MAX, out, &n2) == measured && n2 == n1);
        CHECK(http_chunked_body(copy, size, CHUNKED_MAX, copy, &n2) == measured && n2 == n1);
        CHECK(memcmp(copy, out, n1) == 0);
        memcpy(copy, data, size);
        for (size_t cut = 0; cut < (size_t)measured; cut += 1 + cut / 8)
            CHECK(http_chunked_body(copy, cut, CHUNKED_MAX, NULL, &n2) == 0);
    }
    free(copy);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_chunked(data, size);
    static struct http_request req;
    int whole = parse_copy(data, size, &req);
    CHECK(whole == 0 || whole > 0 || whole == -400 || whole == -414 || whole == -431 || whole == -505);

    /* Prefixes: cheaply, a few lengths plus every line end. */
    size_t end = whole > 0 ? (size_t)whole : size;
    size_t cuts[64];
    size_t ncuts = 0;
    cuts[ncuts++] = 0;
    cuts[ncuts++] = end / 2;
    if (end > 0)
        cuts[ncuts++] = end - 1;
    for (size_t i = 0; i < end && ncuts < 64; i++) {
        if (data[i] == '\n') {
            cuts[ncuts++] = i;
            if (ncuts < 64)
                cuts[ncuts++] = i + 1;
        }
    }
    for (size_t k = 0; k < ncuts; k++) {
        if (cuts[k] >= end)
            continue;
        int rc = parse_copy(data, cuts[k], &req);
        if (whole >= 0)
            CHECK(rc == 0);
        else
            CHECK(rc <= 0);
    }
    /* Bytes after a complete head don't matter. */
    if (whole > 0 && (size_t)whole < size)
        CHECK(parse_copy(data, (size_t)whole, &req) == whole);
    return 0;
}
