/*
 * test_http — the HTTP/1.x request-head parser (src/http/http.c).
 *
 * Each test feeds a request head to http_parse_request() and checks what a
 * server would rely on: where the head ends, what the parser found, and
 * which status a malformed or oversized head earns. One test places inputs
 * at the very end of a page followed by an inaccessible page, so reading a
 * single byte past the input crashes (picohttpparser's trick).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/http.h"

static int parse_n(const char *s, size_t n, struct http_request *req)
{
    return http_parse_request((const uint8_t *)s, n, req);
}

static int parse(const char *s, struct http_request *req)
{
    return parse_n(s, strlen(s), req);
}

/* Asserts that the view s holds exactly the text lit. */
static void assert_str(struct http_str s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n || (n && memcmp(s.p, lit, n) != 0))
        fail_msg("expected '%s', got '%.*s'", lit, (int)s.len, s.p ? s.p : "");
}

/* Returns a malloc'd string: prefix, then n copies of c, then suffix. */
static char *build(const char *prefix, char c, size_t n, const char *suffix)
{
    size_t a = strlen(prefix), b = strlen(suffix);
    char *s = malloc(a + n + b + 1);
    assert_non_null(s);
    memcpy(s, prefix, a);
    memset(s + a, c, n);
    memcpy(s + a + n, suffix, b + 1);
    return s;
}

static const char get_req[] =
    "GET /index.html?lang=en&x=1 HTTP/1.1\r\n"
    "Host: example.com:8443\r\n"
    "User-Agent: test/1.0\r\n"
    "Accept: */*\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "\r\n";

static void test_complete_get(void **state)
{
    (void)state;
    struct http_request req;
    /* Bytes after the head (a pipelined request) are not part of it. */
    char buf[512];
    snprintf(buf, sizeof(buf), "%sGET / HTTP/1.1\r\n", get_req);
    int rc = parse(buf, &req);
    assert_int_equal(rc, (int)strlen(get_req));
    assert_str(req.method, "GET");
    assert_str(req.target, "/index.html?lang=en&x=1");
    assert_str(req.path, "/index.html");
    assert_str(req.query, "lang=en&x=1");
    assert_int_equal(req.minor, 1);
    assert_int_equal(req.nheaders, 4);
    assert_str(req.headers[0].name, "Host");
    assert_str(req.headers[0].value, "example.com:8443");
    assert_str(req.headers[1].name, "User-Agent");
    assert_str(req.headers[1].value, "test/1.0");
    assert_str(req.headers[2].value, "*/*");
    assert_str(req.headers[3].name, "Accept-Encoding");
    assert_str(req.headers[3].value, "gzip, deflate");
    /* Views point into the caller's buffer (zero-copy). */
    assert_ptr_equal(req.method.p, buf);
}

static void test_http10_and_options_star(void **state)
{
    (void)state;
    struct http_request req;
    const char *s = "HEAD / HTTP/1.0\r\n\r\n";
    assert_int_equal(parse(s, &req), (int)strlen(s));
    assert_str(req.method, "HEAD");
    assert_int_equal(req.minor, 0);
    assert_int_equal(req.nheaders, 0);
    s = "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(parse(s, &req), (int)strlen(s));
    assert_str(req.target, "*");
}

/* Every proper prefix of a valid head needs more bytes; the whole head parses. */
static void check_prefixes(const char *s)
{
    struct http_request req;
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        int rc = parse_n(s, i, &req);
        if (rc != 0)
            fail_msg("prefix of %zu/%zu bytes returned %d, want 0", i, n, rc);
    }
    assert_int_equal(parse_n(s, n, &req), (int)n);
}

static void test_partial_every_prefix(void **state)
{
    (void)state;
    check_prefixes(get_req);
    check_prefixes("GET / HTTP/1.0\n\n");
    check_prefixes("POST /api?q HTTP/1.1\nHost: a\r\nContent-Length: 0\n\r\n");
    check_prefixes("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
}

static void test_bare_lf(void **state)
{
    (void)state;
    struct http_request req;
    const char *s = "GET /a HTTP/1.1\nHost: h\nX-Y: z\n\n";
    assert_int_equal(parse(s, &req), (int)strlen(s));
    assert_int_equal(req.nheaders, 2);
    assert_str(req.headers[0].value, "h");
    assert_str(req.headers[1].name, "X-Y");
    assert_str(req.headers[1].value, "z");
    /* Mixed endings. */
    s = "GET /a HTTP/1.1\r\nHost: h\nX-Y: z\r\n\n";
    assert_int_equal(parse(s, &req), (int)strlen(s));
    assert_str(req.headers[1].value, "z");
}

static void test_leading_empty_lines(void **state)
{
    (void)state;
    struct http_request req;
    const char *s = "\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    assert_int_equal(parse(s, &req), (int)strlen(s));
    assert_str(req.method, "GET");
}

static void test_header_value_whitespace(void **state)
{
    (void)state;
    struct http_request req;
    const char *s = "GET / HTTP/1.1\r\nA:x\r\nB:   y z \t\r\nC:\r\nD: \t\r\nE: a\tb\r\nF: caf\xc3\xa9\r\n\r\n";
    assert_int_equal(parse(s, &req), (int)strlen(s));
    assert_int_equal(req.nheaders, 6);
    assert_str(req.headers[0].value, "x");
    assert_str(req.headers[1].value, "y z");
    assert_str(req.headers[2].value, "");
    assert_str(req.headers[3].value, "");
    assert_str(req.headers[4].value, "a\tb");
    assert_str(req.headers[5].value, "caf\xc3\xa9"); /* obs-text is allowed */
}

static void test_errors_400(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "garbage\r\n\r\n",                                  /* no target, no version */
        "\x16\x03\x01\x02\x01\x01\r\n\r\n",                 /* a TLS record */
        "GET /\r\n\r\n",                                    /* missing version */
        "GET / \r\n\r\n",                                   /* empty version */
        "GET  / HTTP/1.1\r\n\r\n",                          /* two spaces */
        " GET / HTTP/1.1\r\n\r\n",                          /* no method */
        "GET / HTTP/1.1 \r\n\r\n",                          /* trailing space */
        "GET / http/1.1\r\n\r\n",                           /* lower-case protocol */
        "GET / HTTP/1.\r\n\r\n",                            /* short version */
        "GET / HTTP/1.10\r\n\r\n",                          /* long version */
        "GET / HTTP/1,1\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",                           /* method not a token */
        "GET http://example.com/ HTTP/1.1\r\n\r\n",         /* target not origin-form */
        "GET index.html HTTP/1.1\r\n\r\n",
        "GET /a\x01z HTTP/1.1\r\n\r\n",                     /* control char in target */
        "GET /a\x7fz HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",            /* space in header name */
        "GET / HTTP/1.1\r\nBad(: x\r\n\r\n",                /* separator in name */
        "GET / HTTP/1.1\r\n: x\r\n\r\n",                    /* empty name */
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",               /* space before colon */
        "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n",
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n",           /* obs-fold with space */
        "GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n",          /* obs-fold with tab */
        "GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n",            /* control char in value */
        "GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n",             /* DEL in value */
        "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n",              /* bare CR in value */
        "GET / HTTP/1.1\r\nX-A: a\x1b[0m\r\n\r\n",
        "\n\n\n\n\nGET / HTTP/1.1\r\n\r\n",                 /* too many empty lines */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_request req;
        int rc = parse(bad[i], &req);
        if (rc != -400)
            fail_msg("case %zu: got %d, want -400", i, rc);
    }
    /* NUL bytes, which strlen() cannot carry. */
    struct http_request req;
    static const char nul_target[] = "GET /a\0b HTTP/1.1\r\n\r\n";
    assert_int_equal(parse_n(nul_target, sizeof(nul_target) - 1, &req), -400);
    static const char nul_value[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
    assert_int_equal(parse_n(nul_value, sizeof(nul_value) - 1, &req), -400);
    static const char nul_name[] = "GET / HTTP/1.1\r\nX\0Y: a\r\n\r\n";
    assert_int_equal(parse_n(nul_name, sizeof(nul_name) - 1, &req), -400);
}

static void test_target_414(void **state)
{
    (void)state;
    struct http_request req;
    /* Exactly the limit is fine. */
    char *s = build("GET /", 'a', HTTP_MAX_TARGET - 1, " HTTP/1.1\r\n\r\n");
    assert_int_equal(parse(s, &req), (int)strlen(s));
    assert_int_equal(req.target.len, HTTP_MAX_TARGET);
    free(s);
    /* One byte more is 414, in a complete head... */
    s = build("GET /", 'a', HTTP_MAX_TARGET, " HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(parse(s, &req), -414);
    free(s);
    /* ...and in a complete request line without the end of the head. */
    s = build("GET /", 'a', HTTP_MAX_TARGET, " HTTP/1.1\r\n");
    assert_int_equal(parse(s, &req), -414);
    free(s);
    /* A request line that is still arriving and already far too long. */
    s = build("GET /", 'a', 5000, "");
    assert_int_equal(parse(s, &req), -414);
    free(s);
    s = build("GET /", 'a', 70000, "");
    assert_int_equal(parse(s, &req), -414);
    free(s);
}

static void test_head_431(void **state)
{
    (void)state;
    struct http_request req;
    /* A complete head just under the limit parses. */
    size_t fixed = strlen("GET / HTTP/1.1\r\nX: \r\n\r\n");
    char *s = build("GET / HTTP/1.1\r\nX: ", 'v', HTTP_MAX_HEAD_BYTES - fixed, "\r\n\r\n");
    assert_int_equal(strlen(s), HTTP_MAX_HEAD_BYTES);
    assert_int_equal(parse(s, &req), HTTP_MAX_HEAD_BYTES);
    free(s);
    /* One byte over. */
    s = build("GET / HTTP/1.1\r\nX: ", 'v', HTTP_MAX_HEAD_BYTES - fixed + 1, "\r\n\r\n");
    assert_int_equal(parse(s, &req), -431);
    free(s);
    /* A header line still arriving that is already past the limit. */
    s = build("GET / HTTP/1.1\r\nX: ", 'v', 9000, "");
    assert_int_equal(parse(s, &req), -431);
    free(s);
    /* Many complete short lines, no end yet. */
    char *many = malloc(20000);
    assert_non_null(many);
    size_t n = (size_t)sprintf(many, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 60; i++)
        n += (size_t)sprintf(many + n, "X-%d: %0150d\r\n", i, 0);
    assert_true(n > HTTP_MAX_HEAD_BYTES);
    assert_int_equal(parse_n(many, n, &req), -431);
    free(many);
}

static void test_too_many_headers(void **state)
{
    (void)state;
    struct http_request req;
    char buf[4096];
    size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS; i++)
        n += (size_t)sprintf(buf + n, "H%d: %d\r\n", i, i);
    strcpy(buf + n, "\r\n");
    assert_int_equal(parse(buf, &req), (int)(n + 2));
    assert_int_equal(req.nheaders, HTTP_MAX_HEADERS);
    assert_str(req.headers[63].name, "H63");
    n += (size_t)sprintf(buf + n, "H64: 64\r\n");
    strcpy(buf + n, "\r\n");
    assert_int_equal(parse(buf, &req), -431);
    /* Also before the head is complete. */
    buf[n] = '\0';
    assert_int_equal(parse(buf, &req), -431);
}

static void test_version_505(void **state)
{
    (void)state;
    struct http_request req;
    assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n", &req), -505);
    assert_int_equal(parse("GET / HTTP/0.9\r\n\r\n", &req), -505);
    assert_int_equal(parse("GET / HTTP/3.0\r\nHost: a\r\n\r\n", &req), -505);
    /* Not a version at all is malformed, not unsupported. */
    assert_int_equal(parse("GET / HTTP/x.1\r\n\r\n", &req), -400);
}

static void test_header_lookup(void **state)
{
    (void)state;
    struct http_request req;
    const char *s = "GET / HTTP/1.1\r\nhOsT: one\r\nX-Dup: first\r\nx-dup: second\r\n\r\n";
    assert_true(parse(s, &req) > 0);
    const struct http_str *h = http_header_get(&req, "Host");
    assert_non_null(h);
    assert_str(*h, "one");
    h = http_header_get(&req, "HOST");
    assert_non_null(h);
    assert_str(*h, "one");
    h = http_header_get(&req, "x-DUP");
    assert_non_null(h);
    assert_str(*h, "first");
    assert_null(http_header_get(&req, "Hos"));
    assert_null(http_header_get(&req, "Hostx"));
    assert_null(http_header_get(&req, "Cookie"));
}

static void test_str_ieq(void **state)
{
    (void)state;
    struct http_str s = { "WebSocket", 9 };
    assert_true(http_str_ieq(s, "websocket"));
    assert_true(http_str_ieq(s, "WEBSOCKET"));
    assert_false(http_str_ieq(s, "websocke"));
    assert_false(http_str_ieq(s, "websockets"));
    /* '@' and '`' differ from letters by the case bit only: not equal. */
    struct http_str t = { "@", 1 };
    assert_false(http_str_ieq(t, "`"));
}

static int has(const char *list, const char *token)
{
    return http_list_has_token((struct http_str){ list, strlen(list) }, token);
}

static void test_list_has_token(void **state)
{
    (void)state;
    assert_true(has("keep-alive, Upgrade", "upgrade"));
    assert_true(has("keep-alive, Upgrade", "Keep-Alive"));
    assert_false(has("keep-alive, Upgrade", "keep"));
    assert_false(has("keep-alive, Upgrade", "alive"));
    assert_false(has("keep-alive, Upgrade", "Upgrad"));
    assert_true(has("Upgrade", "upgrade"));
    assert_true(has(" ,, close ,", "close"));
    assert_true(has("a,b,\tc\t", "c"));
    assert_true(has("gzip;q=1.0, br", "gzip"));
    assert_true(has("br ; q=0.5, gzip ;q=1", "br"));
    assert_false(has("gzipx, br", "gzip"));
    assert_false(has("", "close"));
    assert_false(has(",,,", "close"));
    assert_false(has("clo se", "close"));
}

static int cl(const char *headers, uint64_t *out)
{
    char buf[512];
    struct http_request req;
    snprintf(buf, sizeof(buf), "POST / HTTP/1.1\r\n%s\r\n", headers);
    assert_true(parse(buf, &req) > 0);
    *out = 12345;
    return http_content_length(&req, out);
}

static void test_content_length(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(cl("Host: a\r\n", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(cl("Content-Length: 42\r\n", &v), 1);
    assert_int_equal(v, 42);
    assert_int_equal(cl("content-length: 0\r\n", &v), 1);
    assert_int_equal(v, 0);
    assert_int_equal(cl("Content-Length: 16384\r\nContent-Length: 16384\r\n", &v), 1);
    assert_int_equal(v, 16384);
    assert_int_equal(cl("Content-Length: 1\r\nContent-Length: 2\r\n", &v), -1);
    assert_int_equal(cl("Content-Length: abc\r\n", &v), -1);
    assert_int_equal(cl("Content-Length: -1\r\n", &v), -1);
    assert_int_equal(cl("Content-Length: +1\r\n", &v), -1);
    assert_int_equal(cl("Content-Length: 1 2\r\n", &v), -1);
    assert_int_equal(cl("Content-Length: 0x10\r\n", &v), -1);
    assert_int_equal(cl("Content-Length:\r\n", &v), -1);
    assert_int_equal(cl("Content-Length: 5, 6\r\n", &v), -1);
    /* Too many digits to be a plausible length (and overflow bait). */
    assert_int_equal(cl("Content-Length: 99999999999999999999999\r\n", &v), -1);
    assert_int_equal(cl("Content-Length: 18446744073709551617\r\n", &v), -1);
}

static int keep(const char *s)
{
    struct http_request req;
    assert_true(parse(s, &req) > 0);
    return http_keep_alive(&req);
}

static void test_keep_alive(void **state)
{
    (void)state;
    assert_true(keep("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert_false(keep("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
    assert_false(keep("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n"));
    assert_false(keep("GET / HTTP/1.1\r\nConnection: Upgrade, close\r\n\r\n"));
    assert_true(keep("GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n\r\n"));
    assert_false(keep("GET / HTTP/1.0\r\n\r\n"));
    assert_false(keep("GET / HTTP/1.0\r\nConnection: close\r\n\r\n"));
    assert_true(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    assert_true(keep("GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n"));
}

static void test_path_query(void **state)
{
    (void)state;
    struct http_request req;
    assert_true(parse("GET /a/b?c=d?e HTTP/1.1\r\n\r\n", &req) > 0);
    assert_str(req.path, "/a/b");
    assert_str(req.query, "c=d?e");
    assert_true(parse("GET /x? HTTP/1.1\r\n\r\n", &req) > 0);
    assert_str(req.path, "/x");
    assert_str(req.query, "");
    assert_true(parse("GET /x HTTP/1.1\r\n\r\n", &req) > 0);
    assert_str(req.path, "/x");
    assert_int_equal(req.query.len, 0);
    assert_true(parse("GET /?a HTTP/1.1\r\n\r\n", &req) > 0);
    assert_str(req.path, "/");
    assert_str(req.query, "a");
    assert_true(parse("GET /caf%C3%A9#frag HTTP/1.1\r\n\r\n", &req) > 0);
    assert_str(req.path, "/caf%C3%A9#frag");
}

/* The result must not depend on how the bytes were split into reads: when a
 * whole head parses, no prefix of it may already have been rejected. A
 * 4200-byte method token is absurd, but either it is acceptable (then its
 * prefixes need more bytes) or it is not (then the whole head fails too). */
static void test_result_independent_of_segmentation(void **state)
{
    (void)state;
    struct http_request req;
    char *s = build("", 'M', 4200, " / HTTP/1.1\r\nHost: a\r\n\r\n");
    size_t n = strlen(s);
    int whole = parse_n(s, n, &req), bad_rc = 0;
    size_t bad_at = 0;
    for (size_t i = 1; i < n && !bad_rc; i += 97) {
        int rc = parse_n(s, i, &req);
        if (whole > 0 && rc != 0)
            bad_rc = rc, bad_at = i;
    }
    free(s);
    if (bad_rc)
        fail_msg("whole head parses (%d) but its %zu-byte prefix returns %d", whole, bad_at, bad_rc);
}

/* --- inputs placed right before an inaccessible page --- */

static uint8_t *guard_page;
static size_t page_size;

static int parse_guarded(const void *s, size_t n, struct http_request *req)
{
    assert_true(n <= page_size);
    uint8_t *at = guard_page + page_size - n;
    memcpy(at, s, n);
    return http_parse_request(at, n, req);
}

static void test_no_overread(void **state)
{
    (void)state;
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    void *m = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    guard_page = m;
    assert_int_equal(mprotect(guard_page + page_size, page_size, PROT_NONE), 0);

    static const char *const inputs[] = {
        get_req,
        "GET / HTTP/1.1\n\n",
        "GET / HTTP/1.1\r\nHost: a\r\n",
        "GET / HTTP/1.1\r\nHost: a\r",
        "GET / HTTP/1.1\r\nHost:",
        "GET / HTTP/1.1\r\nHost",
        "GET / HTTP/1.",
        "GET / HTTP/1.1",
        "GET /",
        "GET",
        "\r\n\r\n",
        "\r",
        "G",
        "GET / HTTP/2.0\r\n",
        "GET / HTTP/1.1\r\n X\r\n",
    };
    struct http_request req;
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        size_t n = strlen(inputs[i]);
        for (size_t k = 0; k <= n; k++) {
            int rc = parse_guarded(inputs[i], k, &req);
            assert_true(rc <= (int)k);
        }
    }
    /* Every view of a parsed head lies inside the input. */
    size_t n = strlen(get_req);
    assert_int_equal(parse_guarded(get_req, n, &req), (int)n);
    const char *lo = (const char *)guard_page + page_size - n, *hi = lo + n;
    for (size_t i = 0; i < req.nheaders; i++) {
        assert_true(req.headers[i].name.p >= lo && req.headers[i].name.p + req.headers[i].name.len <= hi);
        assert_true(req.headers[i].value.p >= lo && req.headers[i].value.p + req.headers[i].value.len <= hi);
    }
    munmap(m, 2 * page_size);
}


/* --- chunked bodies (RFC 9112 §7.1) --- */

/* Runs http_chunked_body over the C string in; returns its result and, when
 * complete, the decoded body (NUL-terminated) in out. */
static long chunked(const char *in, size_t max, char *out, size_t *out_len)
{
    size_t len = strlen(in);
    uint8_t *copy = malloc(len + 1);
    memcpy(copy, in, len);
    long rc = http_chunked_body(copy, len, max, copy, out_len);
    if (rc > 0) {
        memcpy(out, copy, *out_len);
        out[*out_len] = '\0';
    }
    free(copy);
    return rc;
}

static void test_chunked_body(void **state)
{
    (void)state;
    char out[256];
    size_t n = 0;
    const char *simple = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    assert_int_equal(chunked(simple, 1024, out, &n), strlen(simple));
    assert_string_equal(out, "hello world");
    /* extensions and trailers are read and dropped; what follows is not ours */
    const char *ext = "5;name=value\r\nhello\r\n0;last\r\nX-Trailer: 1\r\n\r\nGET / HTTP/1.1\r\n";
    assert_int_equal(chunked(ext, 1024, out, &n), strlen(ext) - strlen("GET / HTTP/1.1\r\n"));
    assert_string_equal(out, "hello");
    /* upper-case hex, an empty body */
    assert_int_equal(chunked("A\r\n0123456789\r\n0\r\n\r\n", 1024, out, &n), 20);
    assert_string_equal(out, "0123456789");
    assert_int_equal(chunked("0\r\n\r\n", 1024, out, &n), 5);
    assert_int_equal(n, 0);
}

static void test_chunked_partial(void **state)
{
    (void)state;
    const char *full = "5;x=1\r\nhello\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\n";
    size_t len = strlen(full), n;
    /* Every prefix needs more bytes; measuring never writes. */
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(http_chunked_body((const uint8_t *)full, cut, 1024, NULL, &n), 0);
    assert_int_equal(http_chunked_body((const uint8_t *)full, len, 1024, NULL, &n), len);
    assert_int_equal(n, 8);
}

static void test_chunked_malformed(void **state)
{
    (void)state;
    char out[256];
    size_t n;
    const char *bad[] = {
        "5\nhello\n0\n\n",              /* bare LF */
        "5\r\nhelloX\r\n0\r\n\r\n",      /* data longer than its size */
        "g\r\nhello\r\n",                /* not hex */
        "\r\nhello\r\n",                 /* no size */
        "123456789\r\n",                 /* more than 8 hex digits */
        " 5\r\nhello\r\n0\r\n\r\n",      /* space before the size */
        "5 \r\nhello\r\n0\r\n\r\n",      /* space after the size */
        "5\r\nhello\r\n0\r\nT: v\rx\r\n\r\n", /* bare CR in a trailer */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(chunked(bad[i], 1024, out, &n), -400);
    /* a line that never ends is refused once it is too long to be one */
    char longline[400];
    memset(longline, 'a', sizeof(longline) - 1);
    longline[0] = '1';
    longline[1] = ';';
    longline[sizeof(longline) - 1] = '\0';
    assert_int_equal(chunked(longline, 1024, out, &n), -400);
}

static void test_chunked_limit(void **state)
{
    (void)state;
    char out[256];
    size_t n;
    /* The limit is on the decoded size, checked before the data arrives. */
    assert_int_equal(chunked("b\r\n", 10, out, &n), -413);
    assert_int_equal(chunked("5\r\nhello\r\n6\r\n", 10, out, &n), -413);
    assert_int_equal(chunked("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", 10, out, &n), 25);
    assert_string_equal(out, "helloworld");
    assert_int_equal(chunked("FFFFFFFF\r\n", (size_t)-1 / 2, out, &n), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_get),
        cmocka_unit_test(test_http10_and_options_star),
        cmocka_unit_test(test_partial_every_prefix),
        cmocka_unit_test(test_bare_lf),
        cmocka_unit_test(test_leading_empty_lines),
        cmocka_unit_test(test_header_value_whitespace),
        cmocka_unit_test(test_errors_400),
        cmocka_unit_test(test_target_414),
        cmocka_unit_test(test_head_431),
        cmocka_unit_test(test_too_many_headers),
        cmocka_unit_test(test_version_505),
        cmocka_unit_test(test_header_lookup),
        cmocka_unit_test(test_str_ieq),
        cmocka_unit_test(test_list_has_token),
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_path_query),
        cmocka_unit_test(test_result_independent_of_segmentation),
        cmocka_unit_test(test_no_overread),
        cmocka_unit_test(test_chunked_body),
        cmocka_unit_test(test_chunked_partial),
        cmocka_unit_test(test_chunked_malformed),
        cmocka_unit_test(test_chunked_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
