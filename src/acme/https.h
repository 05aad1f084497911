/*
 * https — the small HTTPS client the ACME worker talks to the CA with.
 *
 * One request per connection (Connection: close), blocking I/O with a
 * timeout: it runs on the ACME thread, never on the event loop. The server
 * certificate is checked against the system's trust store plus an optional
 * extra CA file (a test CA such as pebble's), including the host name.
 * The URL and response parsers are pure and fuzzed.
 */
#ifndef TINCAN_ACME_HTTPS_H
#define TINCAN_ACME_HTTPS_H

#include <stddef.h>
#include <stdint.h>

#define HTTPS_MAX_RESPONSE (1u << 20)
#define HTTPS_HEADER_MAX 512

struct https_url {
    char host[256];
    char port[8];
    const char *path; /* points into the URL given; "/" if it has none */
};

struct https_response {
    int status;
    char nonce[HTTPS_HEADER_MAX];        /* Replay-Nonce */
    char location[HTTPS_HEADER_MAX];     /* Location */
    char retry_after[64];                /* Retry-After */
    char content_type[128];
    uint8_t *body;                       /* malloc'd (xfree), NUL-terminated */
    size_t body_len;
};

/* Splits an https:// URL. Returns 0, or -1 if it is not https or too long. */
int https_parse_url(const char *url, struct https_url *out);
/* Parses a complete response (head and body, as read until EOF): status,
 * the headers above, body (Content-Length, chunked, or up to the end).
 * Returns 0, or -1 if malformed. On success out->body is owned by out. */
int https_parse_response(const uint8_t *buf, size_t len, struct https_response *out);
/* Frees what a response owns. */
void https_response_free(struct https_response *r);

/* Sends one request and reads the whole response. ca_file may be NULL.
 * body may be NULL (no body). Returns 0, or -1 with a message in err. */
int https_request(const char *method, const char *url, const char *ca_file, const char *content_type,
                  const char *body, struct https_response *out, int timeout_s, char *err, size_t errlen);

/* From any thread: aborts the request under way and makes every later one
 * fail at once (used at shutdown so the ACME thread can be joined). */
void https_cancel_all(void);
/* True once https_cancel_all() was called. */
int https_cancelled(void);

#endif
