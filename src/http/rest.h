/*
 * rest — the join-code REST API of seed 003 (POST /api/rooms, .../accept,
 * .../check, GET and DELETE /api/rooms, POST /api/user/purge), as a pure
 * function from a request to a response.
 *
 * No sockets, no clock, no headers: the caller passes method, path, query,
 * body and the time, and gets back the status, a JSON body and the Allow
 * list. The only side effects are on the store. The server glue
 * (src/server/rest_glue.c) adds rate limiting, CORS headers and the bytes
 * on the wire; unit tests and the fuzz target call rest_handle() directly.
 * Error bodies are {"error":"<code>"} with the codes listed in
 * docs/rest-api.md.
 */
#ifndef TINCAN_REST_H
#define TINCAN_REST_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define REST_BODY_MAX (16u << 10) /* larger request bodies: 413 */
#define REST_OUT_MAX 8192         /* enough for three escaped 256-byte ids */
#define REST_PENDING_MAX_MS (24LL * 3600 * 1000) /* a later exp is brought down to this */

struct rest_request {
    const char *method;
    size_t method_len;
    const char *path;           /* without the query */
    size_t path_len;
    const char *query;          /* after '?', may be empty */
    size_t query_len;
    const uint8_t *body;
    size_t body_len;
    int64_t now_ms;             /* wall clock, Unix milliseconds */
};

struct rest_response {
    int status;
    size_t body_len;            /* 0: no body (204) */
    const char *allow;          /* the path's methods; set for every API path */
    int preflight;              /* an OPTIONS request: add the CORS preflight headers */
    char body[REST_OUT_MAX];    /* JSON, not NUL-terminated */
};

/* True when path (without query) is one of the API's paths, ignoring ASCII
 * case and one trailing slash like the seed's Express router. */
int rest_is_api_path(const char *path, size_t len);
/* Answers one request on an API path (HEAD is answered like GET; the
 * caller drops the body). st must be open. */
void rest_handle(struct store *st, const struct rest_request *req, struct rest_response *out);
/* Fills out with status and {"error":code}: for answers the glue decides
 * (413, 429, 404 when the API is off). */
void rest_error(struct rest_response *out, int status, const char *code);

#endif
