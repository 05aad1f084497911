/*
 * http — HTTP/1.x request-head parser (see http.h).
 *
 * Lines may end in CRLF or a bare LF, as in picohttpparser. Obsolete line
 * folding, control characters in values and header names that are not
 * tokens are rejected, because a proxy in front of tincan might read them
 * differently (request smuggling).
 */
#include "http.h"

#include <string.h>

static int is_tchar(unsigned char c)
{
    if (c >= 'a' && c <= 'z')
        return 1;
    if (c >= 'A' && c <= 'Z')
        return 1;
    if (c >= '0' && c <= '9')
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Returns the offset just past the next line end at or after pos, and the
 * line's length without its ending in *line_len; 0 if no line end yet. */
static size_t next_line(const uint8_t *buf, size_t len, size_t pos, size_t *line_len)
{
    const uint8_t *nl = memchr(buf + pos, '\n', len - pos);
    if (!nl)
        return 0;
    size_t end = (size_t)(nl - buf);
    size_t l = end - pos;
    if (l > 0 && buf[end - 1] == '\r')
        l--;
    *line_len = l;
    return end + 1;
}

static int parse_request_line(const char *p, size_t n, struct http_request *req)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i > HTTP_MAX_METHOD || i >= n || p[i] != ' ')
        return -400;
    req->method = (struct http_str){ p, i };
    size_t t = ++i;
    while (i < n && p[i] != ' ') {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7f)
            return -400;
        i++;
    }
    if (i - t > HTTP_MAX_TARGET)
        return -414;
    if (i == t || i >= n)
        return -400;
    req->target = (struct http_str){ p + t, i - t };
    i++;
    if (n - i != 8 || memcmp(p + i, "HTTP/", 5) != 0 || p[i + 6] != '.')
        return -400;
    if (p[i + 5] < '0' || p[i + 5] > '9' || p[i + 7] < '0' || p[i + 7] > '9')
        return -400;
    if (p[i + 5] != '1')
        return -505;
    req->minor = p[i + 7] == '0' ? 0 : 1; /* a later 1.x is answered as 1.1 (RFC 9110 §2.5) */
    if (req->target.p[0] != '/' && !(req->target.len == 1 && req->target.p[0] == '*'))
        return -400;
    const char *q = memchr(req->target.p, '?', req->target.len);
    size_t plen = q ? (size_t)(q - req->target.p) : req->target.len;
    req->path = (struct http_str){ req->target.p, plen };
    req->query = q ? (struct http_str){ q + 1, req->target.len - plen - 1 } : (struct http_str){ q, 0 };
    return 0;
}

static int parse_header_line(const char *p, size_t n, struct http_request *req)
{
    if (p[0] == ' ' || p[0] == '\t')
        return -400; /* obsolete line folding */
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= n || p[i] != ':')
        return -400;
    if (req->nheaders == HTTP_MAX_HEADERS)
        return -431;
    struct http_header *h = &req->headers[req->nheaders++];
    h->name = (struct http_str){ p, i };
    i++;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    size_t end = n;
    while (end > i && (p[end - 1] == ' ' || p[end - 1] == '\t'))
        end--;
    for (size_t k = i; k < end; k++) {
        unsigned char c = (unsigned char)p[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return -400;
    }
    h->value = (struct http_str){ p + i, end - i };
    return 0;
}

/* Judges an unfinished request line the way the finished one would be:
 * a method too long is malformed, a target too long is too long. */
static int partial_request_line(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && i <= HTTP_MAX_METHOD && is_tchar(p[i]))
        i++;
    if (i > HTTP_MAX_METHOD || (i < n && p[i] != ' '))
        return -400;
    if (i >= n)
        return 0;
    const uint8_t *sp = memchr(p + i + 1, ' ', n - i - 1);
    size_t target = sp ? (size_t)(sp - (p + i + 1)) : n - i - 1;
    return target > HTTP_MAX_TARGET ? -414 : 0;
}

int http_parse_request(const uint8_t *buf, size_t len, struct http_request *req)
{
    memset(req, 0, sizeof(*req));
    size_t pos = 0, n;
    /* Tolerate empty lines before the request line (RFC 9112 §2.2). */
    while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n') && pos < 4)
        pos++;
    size_t next = next_line(buf, len, pos, &n);
    if (!next)
        return partial_request_line(buf + pos, len - pos);
    int rc = parse_request_line((const char *)buf + pos, n, req);
    if (rc)
        return rc;
    pos = next;
    for (;;) {
        next = next_line(buf, len, pos, &n);
        if (!next)
            return len > HTTP_MAX_HEAD_BYTES ? -431 : 0;
        if (next > HTTP_MAX_HEAD_BYTES)
            return -431;
        if (n == 0)
            return (int)next;
        rc = parse_header_line((const char *)buf + pos, n, req);
        if (rc)
            return rc;
        pos = next;
    }
}

int http_str_ieq(struct http_str s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (lower((unsigned char)s.p[i]) != lower((unsigned char)lit[i]))
            return 0;
    }
    return 1;
}

const struct http_str *http_header_get(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++) {
        if (http_str_ieq(req->headers[i].name, name))
            return &req->headers[i].value;
    }
    return NULL;
}

int http_list_has_token(struct http_str s, const char *token)
{
    size_t i = 0;
    while (i < s.len) {
        while (i < s.len && (s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == ','))
            i++;
        size_t start = i;
        while (i < s.len && s.p[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (s.p[end - 1] == ' ' || s.p[end - 1] == '\t'))
            end--;
        /* Parameters such as ";q=0" belong to the token's value, not its name. */
        const char *semi = memchr(s.p + start, ';', end - start);
        if (semi) {
            end = (size_t)(semi - s.p);
            while (end > start && (s.p[end - 1] == ' ' || s.p[end - 1] == '\t'))
                end--;
        }
        if (end > start && http_str_ieq((struct http_str){ s.p + start, end - start }, token))
            return 1;
    }
    return 0;
}

static int parse_u64(struct http_str s, uint64_t *out)
{
    if (s.len == 0 || s.len > 18)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    *out = v;
    return 0;
}

int http_content_length(const struct http_request *req, uint64_t *out)
{
    int found = 0;
    *out = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        if (!http_str_ieq(req->headers[i].name, "content-length"))
            continue;
        uint64_t v;
        if (parse_u64(req->headers[i].value, &v) < 0)
            return -1;
        if (found && v != *out)
            return -1;
        *out = v;
        found = 1;
    }
    return found;
}

int http_keep_alive(const struct http_request *req)
{
    const struct http_str *c = http_header_get(req, "connection");
    if (req->minor == 0)
        return c && http_list_has_token(*c, "keep-alive");
    return !(c && http_list_has_token(*c, "close"));
}

/* --- chunked bodies --- */

#define CHUNK_LINE_MAX 256 /* a size line with extensions, or a trailer line */

/* Finds the CRLF that ends the line at buf[i..len): returns the index after
 * it, 0 if the line is not complete yet, or -1 if it is too long or holds a
 * bare CR or LF. */
static long line_end(const uint8_t *buf, size_t len, size_t i)
{
    for (size_t j = i; j < len; j++) {
        if (j - i > CHUNK_LINE_MAX)
            return -1;
        if (buf[j] == '\n')
            return -1;
        if (buf[j] == '\r')
            return j + 1 >= len ? 0 : buf[j + 1] == '\n' ? (long)(j + 2) : -1;
    }
    return len - i > CHUNK_LINE_MAX ? -1 : 0;
}

static int hex_digit(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

long http_chunked_body(const uint8_t *buf, size_t len, size_t max, uint8_t *out, size_t *body_len)
{
    size_t i = 0, o = 0;
    for (;;) {
        /* chunk-size [ ";" extensions ] CRLF */
        uint64_t size = 0;
        size_t digits = 0;
        int d;
        while (i + digits < len && (d = hex_digit(buf[i + digits])) >= 0) {
            if (++digits > 8)
                return -400;
            size = size * 16 + (uint64_t)d;
        }
        if (i + digits == len)
            return 0;
        if (digits == 0 || (buf[i + digits] != ';' && buf[i + digits] != '\r'))
            return -400;
        long next = line_end(buf, len, i + digits);
        if (next <= 0)
            return next < 0 ? -400 : 0;
        i = (size_t)next;
        if (size > max - o)
            return -413;
        if (size == 0)
            break;
        if (len - i < size + 2)
            return 0;
        if (buf[i + size] != '\r' || buf[i + size + 1] != '\n')
            return -400;
        if (out)
            memmove(out + o, buf + i, size);
        o += size;
        i += size + 2;
    }
    /* trailer lines, ignored, up to the empty line */
    for (;;) {
        long next = line_end(buf, len, i);
        if (next <= 0)
            return next < 0 ? -400 : 0;
        if ((size_t)next == i + 2) {
            *body_len = o;
            return next;
        }
        i = (size_t)next;
    }
}
