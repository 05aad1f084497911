/*
 * room_keys — relays `e2ee-key` messages (sealed media keys) inside a room;
 * see room_keys.h and docs/e2ee.md. Only the shape of the key is checked.
 */
#include "room_keys.h"

#include <string.h>

#include "peer.h"

int room_key_valid(const char *s, size_t n)
{
    if (!s || n == 0 || n > ROOM_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok)
            return 0;
    }
    return 1;
}

static struct peer *member(const struct room *r, const char *id)
{
    for (int i = 0; i < r->count; i++) {
        if (strcmp(r->members[i]->id, id) == 0)
            return r->members[i];
    }
    return NULL;
}

/* Takes `copies` times the message's bytes from p's relay budget; 0 when
 * there was room, else p was told to wait. */
static int take_budget(struct peer *p, int copies)
{
    unsigned bytes = (unsigned)(p->hub->msg_text ? p->hub->msg_len : ROOM_KEY_MAX + 64) * (unsigned)copies;
    uint64_t wait = ratelimit_take_n(&p->relay_rl, loop_now(p->hub->loop), bytes, ROOM_RELAY_BYTES, ROOM_RELAY_PER_MS);
    if (!wait)
        return 0;
    p->hub->limited[HUB_LIMIT_RELAY_BYTES]++;
    peer_error_retry(p, "rate_limited", "too many bytes relayed; the message was not delivered", wait);
    return -1;
}

void room_on_e2ee_key(struct peer *p, json_t *msg)
{
    json_t *key = json_object_get(msg, "key");
    json_t *target = json_object_get(msg, "target");
    const char *k = json_string_value(key);
    if (!k || !room_key_valid(k, json_string_length(key)) || (target && !json_is_string(target))) {
        peer_error(p, "bad_key", "key is 1-512 characters of base64url; target, if any, a peer id");
        return;
    }
    if (!p->room) {
        peer_error(p, "not_in_room", "join a room first");
        return;
    }
    struct peer *to = NULL;
    if (target) {
        to = member(p->room, json_string_value(target));
        if (!to || to == p) {
            peer_error(p, "unknown_target", "no such peer in your room");
            return;
        }
    }
    if (take_budget(p, to ? 1 : p->room->count - 1) < 0)
        return;
    json_t *out = json_pack("{s:s, s:s, s:s}", "type", "e2ee-key", "from", p->id, "key", k);
    if (to)
        peer_send_json(to, out);
    else
        room_broadcast(p->room, p, out);
}
