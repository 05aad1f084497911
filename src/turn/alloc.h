/*
 * alloc — the state of one TURN allocation that does not touch sockets:
 * lifetime, permissions (by peer IP, 300 s) and channels (number <-> peer
 * transport address, 600 s), RFC 8656 §2.2-2.5, §9, §12. Pure: every
 * function takes the time (monotonic ms).
 */
#ifndef TINCAN_TURN_ALLOC_H
#define TINCAN_TURN_ALLOC_H

#include <stdint.h>

#include "../stun/stun.h"

#define ALLOC_MAX_PERMS 32
#define ALLOC_MAX_CHANNELS 64
#define ALLOC_PERM_MS (300u * 1000)
#define ALLOC_CHANNEL_MS (600u * 1000)
#define ALLOC_DEFAULT_LIFETIME 600
#define ALLOC_MAX_LIFETIME 3600

struct alloc_perm {
    uint8_t family;
    uint8_t ip[16];
    uint64_t expires;
};

struct alloc_channel {
    uint16_t number;
    struct stun_addr peer;
    uint64_t expires;
};

struct alloc_state {
    uint64_t expires;
    int nperms, nchannels;
    struct alloc_perm perms[ALLOC_MAX_PERMS];
    struct alloc_channel channels[ALLOC_MAX_CHANNELS];
};

/* The lifetime granted for a requested one (0: none requested): the
 * default when shorter or absent, capped at the maximum. */
uint32_t alloc_lifetime(uint32_t requested);
/* Installs or refreshes a permission for peer's IP. 0, or -ENOSPC. */
int alloc_permit(struct alloc_state *a, const struct stun_addr *peer, uint64_t now);
/* True if a live permission covers peer's IP. */
int alloc_permitted(const struct alloc_state *a, const struct stun_addr *peer, uint64_t now);
/* Binds (or refreshes) channel number to peer and refreshes the permission.
 * Returns 0; -EINVAL when the number is out of range or either side is
 * bound to something else (400); -ENOSPC when full. */
int alloc_bind(struct alloc_state *a, uint16_t number, const struct stun_addr *peer, uint64_t now);
/* The live channel with this number, or NULL. */
const struct alloc_channel *alloc_channel_by_number(const struct alloc_state *a, uint16_t number, uint64_t now);
/* The live channel bound to peer (IP and port), or NULL. */
const struct alloc_channel *alloc_channel_by_peer(const struct alloc_state *a, const struct stun_addr *peer,
                                                  uint64_t now);
/* Drops expired permissions and channels. */
void alloc_prune(struct alloc_state *a, uint64_t now);
/* True if a and b are the same transport address. */
int stun_addr_equal(const struct stun_addr *a, const struct stun_addr *b);

#endif
