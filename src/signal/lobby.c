/*
 * lobby — people who said hello with a name: unique (case-insensitively)
 * while online, listed to each other with whether they are busy.
 */
#include <string.h>

#include "peer.h"

/* Letters (any non-ASCII character counts as one, so names need not be
 * Latin), digits, space, '_', '.', '-'; 1-32 characters; no spaces at the
 * ends. Returns the character count, or 0 if invalid. */
static size_t name_valid(const char *name)
{
    size_t len = strlen(name), chars = 0;
    if (len == 0 || len > NAME_MAX_BYTES || name[0] == ' ' || name[len - 1] == ' ')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 0x80) {
            /* C1 controls (U+0080-U+009F) are C2 80..C2 9F in UTF-8. */
            if (c == 0xC2 && i + 1 < len && (unsigned char)name[i + 1] < 0xA0)
                return 0;
            if ((c & 0xC0) != 0x80)
                chars++;
            continue;
        }
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
                 c == '_' || c == '.' || c == '-';
        if (!ok)
            return 0;
        chars++;
    }
    return chars <= NAME_MAX_CHARS ? chars : 0;
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
