/*
 * accounts_glue — puts the accounts and team-rooms API
 * (src/http/accounts_api.c) on tincan's HTTPS port when --accounts is
 * given: opens the database, creates a one-time admin invite while there
 * is no admin, purges expired sessions and invites once a minute, and turns
 * the API's answers into HTTP responses (Set-Cookie, Retry-After).
 */
#ifndef TINCAN_ACCOUNTS_GLUE_H
#define TINCAN_ACCOUNTS_GLUE_H

#include <stddef.h>
#include <stdint.h>

struct server;
struct client;
struct http_request;
struct accounts_stats;
struct conf;
struct peer;

/* Starts the API when s->conf->accounts is set (else does nothing).
 * Returns 0, or -1 after logging why (the server must not start). */
int accounts_glue_init(struct server *s);
/* Stops the timer and closes the store; safe when off. */
void accounts_glue_cleanup(struct server *s);
/* True when the API is on and req's path is one of its paths. */
int accounts_glue_owns(const struct server *s, const struct http_request *req);
/* Answers one request on an API path (host: the Host header, may be ""). */
void accounts_glue_handle(struct client *c, const struct http_request *req, const uint8_t *body, size_t body_len,
                          const char *host);
/* Signs the signaling peer p of a new /ws connection in when the upgrade
 * request req carries a live session cookie (presence, team rooms). */
void accounts_glue_ws_sign_in(struct server *s, const struct http_request *req, struct peer *p);
/* The refusal counters (all zero when the API is off). */
void accounts_glue_stats(const struct server *s, struct accounts_stats *out);

#endif
