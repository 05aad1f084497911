/*
 * ipcount — how many connections each source address holds right now.
 *
 * A small chained hash table keyed by struct sock_ip; entries disappear when
 * their count drops to zero, so its size follows the number of distinct
 * sources connected, not the number ever seen.
 */
#ifndef TINCAN_IPCOUNT_H
#define TINCAN_IPCOUNT_H

#include "../net/sock.h"

struct ipcount;

/* Creates an empty table. */
struct ipcount *ipcount_new(void);
/* Frees the table; ipcount_free(NULL) is safe. */
void ipcount_free(struct ipcount *t);
/* Adds one connection for ip unless it already has limit; returns the new
 * count, or -1 (nothing changed) when the limit is reached. */
int ipcount_acquire(struct ipcount *t, const struct sock_ip *ip, int limit);
/* Removes one connection for ip. */
void ipcount_release(struct ipcount *t, const struct sock_ip *ip);
/* Current count for ip. */
int ipcount_get(const struct ipcount *t, const struct sock_ip *ip);

#endif
