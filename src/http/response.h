/*
 * response — builds HTTP/1.1 response heads, with tincan's security headers
 * on every one. Pure: writes into a caller-supplied buffer.
 */
#ifndef TINCAN_RESPONSE_H
#define TINCAN_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

struct http_response {
    int status;
    const char *content_type;     /* NULL: no Content-Type */
    uint64_t content_length;      /* of the body that would be sent for GET */
    const char *etag;             /* NULL: none */
    const char *cache_control;    /* NULL: none */
    const char *content_encoding; /* NULL: identity */
    int vary_accept_encoding;
    int keep_alive;
    const char *host;             /* the request's Host, for the CSP; may be NULL */
    const char *extra;            /* more header lines, each ending in \r\n; may be NULL */
};

/* Reason phrase of a status code ("Not Found"). */
const char *http_reason(int status);
/* Writes the head (status line, headers, empty line) into out. Returns its
 * length, or 0 if cap is too small. */
size_t http_response_head(char *out, size_t cap, const struct http_response *r);
/* True if host is safe to repeat in a header (letters, digits, . - : [ ]). */
int http_host_safe(const char *host, size_t len);

#endif
