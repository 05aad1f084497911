/*
 * http_handler — what tincan answers to one HTTP request: the redirect to
 * HTTPS, /health, /api/ice, /metrics, the WebSocket upgrade on /ws, the
 * REST API (rest_glue.c) and the web client's files.
 */
#ifndef TINCAN_HTTP_HANDLER_H
#define TINCAN_HTTP_HANDLER_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct http_request;

/* Answers one request (head and its body). It may upgrade the client to a
 * WebSocket or mark it to close after the answer. */
void http_handle(struct client *c, const struct http_request *req, const uint8_t *body, size_t body_len);
/* Answers an error status with a short text body; keep-alive off. host
 * may be NULL. */
void http_send_error(struct client *c, int status, const char *host);

#endif
