/*
 * relay_io — the glue between the TURN server (src/turn, which does no
 * I/O) and the machine: this host's own addresses for the peer policy and
 * the real UDP relay sockets on the loop.
 */
#ifndef TINCAN_RELAY_IO_H
#define TINCAN_RELAY_IO_H

#include "../base/conf.h"
#include "../base/loop.h"
#include "../turn/policy.h"
#include "../turn/server.h"

/* Fills p's own addresses and main port: --bind, --external-ip and every
 * address of every interface (getifaddrs), and conf->port. The relay
 * addresses are added by the TURN server itself. 0, or -1 after logging. */
int relay_io_local_addrs(struct turn_policy *p, const struct conf *conf);

/* Relay sockets bound to relay_ip on loop, as a turn_relay_ops table for
 * turn_options.relay (which then owns it: the server's free frees it).
 * Returns 0, or -1 if relay_ip is not an address. */
int relay_io_ops(struct loop *loop, const char *relay_ip, struct turn_relay_ops *out);
/* Tells the sockets of ops where to hand datagrams in (call once the
 * server exists; before that no socket is open). */
void relay_io_attach(const struct turn_relay_ops *ops, struct turn_server *ts);

#endif
