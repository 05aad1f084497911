/*
 * relay_io — the glue between the TURN server (src/turn, which does no
 * I/O) and the machine: this host's own addresses for the peer policy and
 * the real UDP relay sockets on the loop.
 */
#ifndef TINCAN_RELAY_IO_H
#define TINCAN_RELAY_IO_H

#include "../base/conf.h"
#include "../turn/policy.h"

/* Fills p's own addresses and main port: --bind, --external-ip and every
 * address of every interface (getifaddrs), and conf->port. The relay
 * addresses are added by the TURN server itself. 0, or -1 after logging. */
int relay_io_local_addrs(struct turn_policy *p, const struct conf *conf);

#endif
