/*
 * lobby — people who said hello with a name: unique (case-insensitively)
 * while online, listed to each other with whether they are busy.
 */
#include <string.h>

#include "peer.h"

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

void lobby_broadcast(struct hub *h)
{
    if (!h->lobby)
        return;
    json_t *users = json_array();
    for (struct peer *p = h->lobby; p; p = p->lobby_next)
        json_array_append_new(users, json_pack("{s:s, s:b}", "name", p->name, "busy", p->call || p->room));
    for (struct peer *p = h->lobby; p; p = p->lobby_next) {
        if (!p->send)
            continue;
        json_t *msg = json_pack("{s:s, s:s, s:O}", "type", "lobby", "you", p->name, "users", users);
        peer_send_json(p, msg);
    }
    json_decref(users);
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
    p->name[0] = '\0';
    lobby_broadcast(h);
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
        lobby_broadcast(h);
        return;
    }
    if (p->name[0]) {
        /* A new name: leave under the old one without a second broadcast. */
        strmap_del(&h->by_name, &p->by_name);
    } else {
        p->lobby_next = h->lobby;
        if (h->lobby)
            h->lobby->lobby_prev = p;
        h->lobby = p;
    }
    strcpy(p->name, name);
    name_key(name, p->name_key);
    strmap_put(&h->by_name, &p->by_name, p->name_key);
    lobby_broadcast(h);
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

int lobby_name_valid(const char *name)
{
    return name_valid(name);
}
