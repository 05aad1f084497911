/*
 * pin — 1:1 calls by a shared 6-digit PIN. The first holder waits in a
 * private two-person room; the second completes it; a third is refused.
 * Attempts are limited per source address so PINs cannot be guessed.
 */
#include <string.h>

#include "../base/alloc.h"
#include "peer.h"

#define PIN_LEN 6
#define PIN_PER_MS 60000

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
    struct strmap_entry *e = strmap_get(&h->pin_limits, p->source);
    struct pin_limit *l;
    if (e) {
        l = container_of(e, struct pin_limit, entry);
    } else {
        l = xcalloc(1, sizeof(*l));
        memcpy(l->source, p->source, sizeof(l->source));
        strmap_put(&h->pin_limits, &l->entry, l->source);
    }
    return ratelimit_take(&l->rl, loop_now(h->loop), (unsigned)h->opt.pin_rate, PIN_PER_MS);
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

static void drop_idle(struct strmap_entry *e, void *arg)
{
    struct hub *h = arg;
    struct pin_limit *l = container_of(e, struct pin_limit, entry);
    if (ratelimit_idle(&l->rl, loop_now(h->loop), (unsigned)h->opt.pin_rate, PIN_PER_MS)) {
        strmap_del(&h->pin_limits, e);
        xfree(l);
    }
}

void pin_sweep(struct hub *h)
{
    strmap_each(&h->pin_limits, drop_idle, h);
}

static void free_limit(struct strmap_entry *e, void *arg)
{
    (void)arg;
    xfree(container_of(e, struct pin_limit, entry));
}

void pin_free_all(struct hub *h)
{
    strmap_each(&h->pin_limits, free_limit, NULL);
}
