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

/* A JSON answer of the APIs (REST, accounts): never cached; extra holds
 * more header lines ("Name: value\r\n" each) or is NULL. */
struct http_json_answer {
    int status;
    const char *body;
    size_t body_len;
    const char *extra;
    const char *host;  /* the Host header, may be NULL */
    int head_only;     /* HEAD: the head alone */
    int keep_alive;    /* else the connection closes after the answer */
};
/* Sends a; closes the connection after it unless keep_alive; 500 if the
 * head does not fit. */
void http_send_json(struct client *c, const struct http_json_answer *a);

#endif
