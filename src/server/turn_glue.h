/*
 * turn_glue — connects the TURN server (src/turn) to tincan's one port:
 * the UDP socket on the main port number, STUN/TURN frames on TCP and TLS
 * connections, the REST secret kept in the data directory, and the ICE
 * server list handed to browsers (/api/ice and the signaling welcome).
 */
#ifndef TINCAN_TURN_GLUE_H
#define TINCAN_TURN_GLUE_H

#include <stddef.h>

struct server;
struct client;

/* Starts TURN: secret, relay address, UDP socket. 0, or -1 after logging. */
int turn_glue_init(struct server *s);
/* Stops TURN and closes its sockets. */
void turn_glue_cleanup(struct server *s);
/* c's first bytes (plain or inside TLS) are STUN: it is a TURN stream from
 * now on. Frames are cut from its input and handed to the TURN server; the
 * allocation ends with the connection; garbage closes it. */
void turn_glue_stream_start(struct client *c);
/* The ICE servers as a JSON array for a page reached at host (the Host
 * header, may be NULL), with fresh credentials for user (NULL: a random
 * name, so each browser has its own TURN quota). Caller frees. */
char *turn_glue_ice_json(struct server *s, const char *host, const char *user);

#endif
