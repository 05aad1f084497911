/*
 * http — a pure, zero-copy HTTP/1.x request-head parser, and helpers to read
 * what it found.
 *
 * http_parse_request() looks at the bytes received so far and either asks
 * for more, fails with the HTTP status the server should answer, or fills a
 * struct http_request whose strings point into the caller's buffer (they
 * stay valid as long as that buffer does). It never reads past len.
 */
#ifndef TINCAN_HTTP_H
#define TINCAN_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_HEAD_BYTES 8192   /* request line + headers: larger → 431 */
#define HTTP_MAX_TARGET 4096       /* request target: longer → 414 */
#define HTTP_MAX_METHOD 32         /* method token: longer → 400 */

struct http_str {
    const char *p;
    size_t len;
};

struct http_header {
    struct http_str name, value;
};

struct http_request {
    struct http_str method;
    struct http_str target;   /* as sent: path?query */
    struct http_str path;     /* target up to '?' */
    struct http_str query;    /* after '?', empty if none */
    int minor;                /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
    size_t nheaders;
    struct http_header headers[HTTP_MAX_HEADERS];
};

/* Parses a request head from buf[0..len).
 * Returns the number of bytes of the head (request line through the empty
 * line) when complete; 0 when more bytes are needed; or minus the HTTP status
 * to answer: -400 malformed, -414 target too long, -431 head too large or too
 * many headers, -505 not HTTP/1.0 or 1.1. */
int http_parse_request(const uint8_t *buf, size_t len, struct http_request *req);

/* Returns the first header called name (case-insensitive), or NULL. */
const struct http_str *http_header_get(const struct http_request *req, const char *name);
/* True if s equals the C string lit, ignoring ASCII case. */
int http_str_ieq(struct http_str s, const char *lit);
/* True if the comma-separated list s holds token (ignoring case and spaces). */
int http_list_has_token(struct http_str s, const char *token);
/* Reads Content-Length: 0 if absent (*out = 0), 1 if present and valid,
 * -1 if malformed or given twice with different values. */
int http_content_length(const struct http_request *req, uint64_t *out);
/* True when the connection may stay open after the response. */
int http_keep_alive(const struct http_request *req);

/* Reads a chunked body (RFC 9112 §7.1) at the start of buf[0..len): chunk
 * sizes in hex with optional extensions, each line ending in CRLF, then
 * the last chunk "0" and optional trailer lines up to an empty line.
 * With out == NULL it only measures; with out set it also writes the
 * decoded bytes there (out may be buf itself: the decoded bytes never
 * overtake the encoded ones). Returns the bytes of buf the body takes when
 * complete, with the decoded length in *body_len; 0 when more bytes are
 * needed; -400 when malformed; -413 when the decoded body would exceed
 * max. */
long http_chunked_body(const uint8_t *buf, size_t len, size_t max, uint8_t *out, size_t *body_len);

#endif
