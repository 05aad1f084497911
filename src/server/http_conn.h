/*
 * http_conn — a connection speaking HTTP/1.1: requests cut from the input
 * (head, then a Content-Length or chunked body), answered one at a time by
 * http_handler, with keep-alive, the head and idle deadlines, backpressure
 * on pipelined requests, and an upgrade to a WebSocket on the way out.
 */
#ifndef TINCAN_HTTP_CONN_H
#define TINCAN_HTTP_CONN_H

#include "client.h"

/* The largest request body taken (REST API); larger ones get 413. */
#define HTTP_CONN_MAX_BODY (16u << 10)

/* c's first bytes are HTTP (plain: without TLS, which only gets the
 * redirect): it speaks HTTP from now on. */
void http_conn_start(struct client *c, int plain);
/* The answer c was waiting for (c->waiting) has been queued: reading and
 * the keep-alive deadline resume, and pipelined requests are handled. */
void http_conn_answered(struct client *c);

#endif
