/*
 * pin — 1:1 calls by a shared 6-digit PIN. The first holder waits in a
 * private two-person room; the second completes it; a third is refused.
 * Attempts are limited per source address so PINs cannot be guessed; the
 * table of sources holds at most PIN_LIMITS_MAX, and while it is full of
 * busy ones a new source is refused for a minute.
 */
#include <string.h>

#include "../base/alloc.h"
#include "peer.h"

#define PIN_LEN 6
#define PIN_PER_MS 60000
#define PIN_LIMITS_MAX 16384
#define PIN_LIMITS_FULL_WAIT_MS 60000

static int pin_valid(const char *pin)
{
    if (strlen(pin) != PIN_LEN)
        return 0;
    for (int i = 0; i < PIN_LEN; i++) {
        if (pin[i] < '0' || pin[i] > '9')
            return 0;
    }
    return 1;
}

/* Takes one attempt for p's source; returns 0 or the wait in ms. */
static uint64_t take_attempt(struct peer *p)
{
    struct hub *h = p->hub;
    return ratetable_take(&h->pin_limits, p->source, (unsigned)h->opt.pin_rate, PIN_PER_MS, loop_now(h->loop));
}

void pin_on_join(struct peer *p, json_t *msg)
{
    json_t *v = json_object_get(msg, "pin");
    if (!v) {
        peer_error_field(p, "missing_field", "the message needs a string \"pin\"", "pin");
        return;
    }
    const char *pin = json_string_value(v);
    if (!pin || !pin_valid(pin)) {
        peer_error(p, "bad_pin", "a PIN is exactly 6 digits");
        return;
    }
    if (p->call) {
        peer_error(p, "busy", "hang up the call first");
        return;
    }
    uint64_t wait = take_attempt(p);
    if (wait) {
        p->hub->limited[HUB_LIMIT_PIN]++;
        peer_error_retry(p, "rate_limited", "too many PIN attempts", wait);
        return;
    }
    struct strmap_entry *e = strmap_get(&p->hub->pins, pin);
    struct room *r = e ? container_of(e, struct room, entry) : NULL;
    if (r && r == p->room)
        return; /* already holding it */
    if (!r) {
        room_leave(p, LEAVE_ASKED);
        r = room_new(p->hub, ROOM_PIN, pin, 2);
        r->members[r->count++] = p;
        p->room = r;
        /* Nothing more than this: a guess learns no more than a real holder. */
        peer_send_json(p, json_pack("{s:s}", "type", "pin-waiting"));
        return;
    }
    room_enter(r, p);
}

void pin_init(struct hub *h)
{
    ratetable_init(&h->pin_limits, PIN_LIMITS_MAX, PIN_LIMITS_FULL_WAIT_MS);
}

void pin_sweep(struct hub *h)
{
    ratetable_sweep(&h->pin_limits, loop_now(h->loop));
}

void pin_free_all(struct hub *h)
{
    ratetable_cleanup(&h->pin_limits);
}
