/*
 * ws_session — a client after the WebSocket upgrade on /ws (or on / for
 * the join-code dialect): frames in and out, pings, the close handshake,
 * and text messages to and from the signaling hub.
 */
#ifndef TINCAN_WS_SESSION_H
#define TINCAN_WS_SESSION_H

struct client;
struct http_request;
struct ws_session;

/* Answers the upgrade request: 101 and the WebSocket protocol from then on,
 * or an error status. */
void ws_session_upgrade(struct client *c, const struct http_request *req);

#endif
