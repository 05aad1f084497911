/*
 * lobby — people who said hello with a name: unique (case-insensitively)
 * while online, listed to each other with whether they are busy.
 */
#include <stdlib.h>
#include <string.h>

#include "peer.h"

#define RENAME_RATE 5        /* name changes ... */
#define RENAME_PER_MS 60000  /* ... per minute per connection */

/* Letters of the scripts people write names in. Emoji, symbols, spaces
 * other than U+0020, and invisible or direction-changing characters are not
 * in any of these ranges, so a name cannot look like someone else's. */
static const struct {
    uint32_t lo, hi;
} letter_ranges[] = {
    { 0x00C0, 0x00D6 }, { 0x00D8, 0x00F6 }, { 0x00F8, 0x024F }, /* Latin-1, Latin Extended A/B */
    { 0x0370, 0x03FF }, /* Greek */
    { 0x0400, 0x04FF }, /* Cyrillic */
    { 0x0531, 0x0587 }, /* Armenian */
    { 0x05D0, 0x05EA }, /* Hebrew */
    { 0x0620, 0x064A }, /* Arabic */
    { 0x0900, 0x097F }, /* Devanagari */
    { 0x0E01, 0x0E3A }, { 0x0E40, 0x0E4E }, /* Thai */
    { 0x10A0, 0x10FF }, /* Georgian */
    { 0x1E00, 0x1FFF }, /* Latin Extended Additional, Greek Extended */
    { 0x3041, 0x3096 }, { 0x30A1, 0x30FA }, /* Hiragana, Katakana */
    { 0x4E00, 0x9FFF }, /* CJK ideographs */
    { 0xAC00, 0xD7A3 }, /* Hangul syllables */
};

static int is_letter(uint32_t cp)
{
    for (size_t i = 0; i < sizeof(letter_ranges) / sizeof(letter_ranges[0]); i++) {
        if (cp >= letter_ranges[i].lo && cp <= letter_ranges[i].hi)
            return 1;
    }
    return 0;
}

/* Decodes one code point of valid UTF-8 at s; returns its length. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
    uint32_t v = s[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++)
        v = (v << 6) | (s[i] & 0x3F);
    *cp = v;
    return n;
}

/* 1-32 characters: letters (see above), digits, space, '_', '.', '-';
 * no space at either end. Returns 1 if valid. The text is valid UTF-8
 * (the WebSocket layer checked it). */
static int name_valid(const char *name)
{
    size_t len = strlen(name), chars = 0;
    if (len == 0 || len > NAME_MAX_BYTES || name[0] == ' ' || name[len - 1] == ' ')
        return 0;
    const unsigned char *s = (const unsigned char *)name;
    for (size_t i = 0; i < len; chars++) {
        uint32_t c;
        i += utf8_next(s + i, &c);
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
                 c == '_' || c == '.' || c == '-' || is_letter(c);
        if (!ok)
            return 0;
    }
    return chars <= NAME_MAX_CHARS;
}

static void name_key(const char *name, char *out)
{
    size_t i = 0;
    for (; name[i]; i++)
        out[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : name[i];
    out[i] = '\0';
}

struct peer *lobby_find(struct hub *h, const char *name)
{
    char key[NAME_MAX_BYTES + 1];
    if (strlen(name) > NAME_MAX_BYTES)
        return NULL;
    name_key(name, key);
    struct strmap_entry *e = strmap_get(&h->by_name, key);
    return e ? container_of(e, struct peer, by_name) : NULL;
}

/* The list as {name, busy} objects, for a full lobby message. */
static json_t *user_entry(const struct peer *p)
{
    return json_pack("{s:s, s:b}", "name", p->name, "busy", p->call || p->room);
}

/* Sends p the whole list: once on entering (and on asking again). */
static void send_full(struct peer *p)
{
    json_t *users = json_array();
    for (struct peer *q = p->hub->lobby; q; q = q->lobby_next)
        json_array_append_new(users, user_entry(q));
    peer_send_json(p, json_pack("{s:s, s:s, s:o}", "type", "lobby", "you", p->name, "users", users));
}

/* The peer now in the lobby under exactly this name, or NULL. */
static struct peer *holder_of(struct hub *h, const char *name)
{
    struct peer *q = lobby_find(h, name);
    return q && strcmp(q->name, name) == 0 ? q : NULL;
}

/* Sends everyone in the lobby one lobby-update with what changed since the
 * last one: users (came or changed) and left (names gone). The same text
 * goes to all, so a change costs O(lobby) bytes, not O(lobby^2). */
static void flush(struct loop *loop, struct loop_defer *d)
{
    (void)loop;
    struct hub *h = container_of(d, struct hub, lobby_flush);
    json_t *users = json_array(), *left = json_array(), *v;
    const char *name;
    json_object_foreach(h->lobby_left, name, v) {
        if (!holder_of(h, name))
            json_array_append_new(left, json_string(name));
    }
    json_object_foreach(h->lobby_dirty, name, v) {
        struct peer *q = holder_of(h, name);
        if (q)
            json_array_append_new(users, user_entry(q));
    }
    json_object_clear(h->lobby_left);
    json_object_clear(h->lobby_dirty);
    json_t *msg = json_pack("{s:s, s:o, s:o}", "type", "lobby-update", "users", users, "left", left);
    char *text = json_array_size(users) || json_array_size(left) ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (!text)
        return;
    size_t len = strlen(text);
    for (struct peer *p = h->lobby; p; p = p->lobby_next) {
        if (p->send)
            p->send(p->ctx, text, len);
    }
    free(text);
}

static void mark(struct hub *h, json_t *set, const char *name)
{
    json_object_set_new(set, name, json_true());
    loop_defer(h->loop, &h->lobby_flush, flush);
}

void lobby_changed(struct peer *p)
{
    if (p->name[0])
        mark(p->hub, p->hub->lobby_dirty, p->name);
}

void lobby_cleanup(struct hub *h)
{
    json_decref(h->lobby_dirty);
    json_decref(h->lobby_left);
    h->lobby_dirty = h->lobby_left = NULL;
}

void lobby_leave(struct peer *p)
{
    struct hub *h = p->hub;
    if (!p->name[0])
        return;
    strmap_del(&h->by_name, &p->by_name);
    if (p->lobby_prev)
        p->lobby_prev->lobby_next = p->lobby_next;
    else
        h->lobby = p->lobby_next;
    if (p->lobby_next)
        p->lobby_next->lobby_prev = p->lobby_prev;
    p->lobby_prev = p->lobby_next = NULL;
    h->lobby_count--;
    mark(h, h->lobby_left, p->name);
    p->name[0] = '\0';
}

/* Whether p may take a (new) name now: the lobby has room, and renames
 * are not too frequent. Sends the error otherwise. */
static int may_take_name(struct peer *p)
{
    struct hub *h = p->hub;
    if (!p->name[0] && h->opt.max_lobby > 0 && h->lobby_count >= h->opt.max_lobby) {
        h->limited[HUB_LIMIT_LOBBY_FULL]++;
        peer_error(p, "lobby_full", "the lobby is full; try again later");
        return 0;
    }
    if (p->name[0]) {
        uint64_t wait = ratelimit_take(&p->rename_rl, loop_now(h->loop), RENAME_RATE, RENAME_PER_MS);
        if (wait) {
            h->limited[HUB_LIMIT_RENAME]++;
            peer_error_retry(p, "rate_limited", "too many name changes", wait);
            return 0;
        }
    }
    return 1;
}

void lobby_on_hello(struct peer *p, json_t *msg)
{
    struct hub *h = p->hub;
    json_t *jname = json_object_get(msg, "name");
    if (json_is_string(jname) && strlen(json_string_value(jname)) != json_string_length(jname)) {
        peer_error(p, "name_invalid", "a name cannot contain NUL");
        return;
    }
    const char *name = msg_string(p, msg, "name");
    if (!name)
        return;
    if (!name_valid(name)) {
        peer_error(p, "name_invalid", "a name is 1-32 letters, digits, spaces, '_', '.' or '-'");
        return;
    }
    struct peer *holder = lobby_find(h, name);
    if (holder && holder != p) {
        peer_error(p, "name_taken", "that name is online already");
        return;
    }
    if (holder == p && strcmp(p->name, name) == 0) {
        send_full(p);
        return;
    }
    if (!may_take_name(p))
        return;
    if (p->name[0]) {
        /* A new name: the others see the old one leave and the new come. */
        strmap_del(&h->by_name, &p->by_name);
        mark(h, h->lobby_left, p->name);
    } else {
        p->lobby_next = h->lobby;
        if (h->lobby)
            h->lobby->lobby_prev = p;
        h->lobby = p;
        h->lobby_count++;
    }
    strcpy(p->name, name);
    name_key(name, p->name_key);
    strmap_put(&h->by_name, &p->by_name, p->name_key);
    lobby_changed(p);
    send_full(p);
}

void lobby_on_leave(struct peer *p, json_t *msg)
{
    (void)msg;
    if (!p->name[0]) {
        peer_error(p, "not_in_lobby", "you are not in the lobby");
        return;
    }
    if (p->call)
        call_end(p->call, p, p->call->active ? "hangup" : p->call->callee == p ? "rejected" : "cancelled");
    lobby_leave(p);
}
