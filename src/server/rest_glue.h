/*
 * rest_glue — puts the seed-003 REST API (src/http/rest.c) on tincan's
 * HTTPS port: opens the store (src/store) at start, limits requests per
 * source address, adds the CORS headers, writes the answers, and deletes
 * expired join codes and rooms older than REST_ROOM_MAX_AGE_MS once a
 * minute. Storage is bounded: REST_PENDINGS_PER_CLIENT pendings per client1
 * (more: 429 too_many_pendings), REST_PENDINGS_MAX pendings and
 * REST_ROOMS_MAX rooms in all (more: 503 storage_full); an exp later than
 * REST_PENDING_MAX_MS from now is brought down to it (src/http/rest.c).
 */
#ifndef TINCAN_REST_GLUE_H
#define TINCAN_REST_GLUE_H

#include <stddef.h>
#include <stdint.h>

#define REST_PENDINGS_PER_CLIENT 20
#define REST_PENDINGS_MAX 100000
#define REST_ROOMS_MAX 100000
#define REST_ROOM_MAX_AGE_MS (365LL * 86400 * 1000)

/* What the store refused, for /metrics. */
enum rest_refused { REST_REFUSED_PER_CLIENT, REST_REFUSED_FULL, REST_REFUSED_KINDS };

struct server;
struct client;
struct http_request;
struct store;

/* Opens <data-dir>/tincan.db (or --db) unless --no-rest-api, and starts the
 * expiry timer. Returns 0, or -1 after logging why (the server must not
 * start). */
int rest_glue_init(struct server *s);
/* Stops the timer and closes the store. */
void rest_glue_cleanup(struct server *s);
/* The open store, or NULL when the REST API is off: the signaling layer
 * may use it (store_room_exists) to check a roomid. */
struct store *rest_glue_store(struct server *s);
/* True when req's path belongs to the REST API (answered here, on or off). */
int rest_glue_owns(const struct http_request *req);
/* Takes a token of the REST limiter for c's source (for other API paths,
 * such as /api/ice). True, and counted as limit="rest", when the source
 * is over its rate; false when allowed or the REST API is off. */
int rest_glue_limited(struct client *c);
/* Answers one request on an API path (host: its Host header, may be ""). */
void rest_glue_handle(struct client *c, const struct http_request *req, const uint8_t *body, size_t body_len,
                      const char *host);
/* Answers a request whose body is over the limit: the JSON 413 on API
 * paths, the plain one elsewhere; the connection closes. */
void rest_glue_too_large(struct client *c, const struct http_request *req);

#endif
