/*
 * room_keys — the `e2ee-key` message: a member's sealed media key, relayed
 * to one member of its room or to all of them. The server checks only the
 * shape (base64url, 1-512 characters) and never looks inside: the key is
 * sealed in the browsers with a key the server never sees (docs/e2ee.md).
 */
#ifndef TINCAN_SIGNAL_ROOM_KEYS_H
#define TINCAN_SIGNAL_ROOM_KEYS_H

#include <jansson.h>
#include <stddef.h>

struct peer;

/* The longest sealed key accepted, in characters. */
#define ROOM_KEY_MAX 512

/* Pure: 1 when s[0..n) is 1..ROOM_KEY_MAX characters of base64url
 * (A-Z a-z 0-9 - _, no padding), else 0. */
int room_key_valid(const char *s, size_t n);

/* {"type":"e2ee-key","key":"…"[,"target":"<peerId>"]}: relayed as
 * {"type":"e2ee-key","from":"<id>","key":"…"} to the target or to every
 * other member of p's room. Errors: bad_key, not_in_room, unknown_target,
 * rate_limited (the relayed bytes, every copy counted, share the budget of
 * offers and answers). */
void room_on_e2ee_key(struct peer *p, json_t *msg);

#endif
