/*
 * state — what a peer tells its room about itself: the name to show and
 * whether its microphone is muted or its camera off. A client sends
 * {"type":"state"} whenever one of them changes; the others in the room
 * that sent a state of their own get {"type":"peer-state"}. A client that
 * never sends one (an old client of the room protocol) hears none of this,
 * so its side of the wire stays the room protocol verbatim.
 * Wire format: docs/protocol.md, "Names, mute and camera".
 */
#include <string.h>

#include "peer.h"

const char *state_name(const struct peer *p)
{
    /* In a team room the account's name, which nobody can fake. */
    if (presence_team_id(p) && p->user_id)
        return p->user;
    if (p->name[0])
        return p->name;
    return p->display[0] ? p->display : NULL;
}

void state_tell(struct peer *to, const struct peer *p)
{
    if (to == p || !to->has_state || !p->has_state)
        return;
    const char *name = state_name(p);
    json_t *msg = json_pack("{s:s, s:s, s:b, s:b}", "type", "peer-state", "peerId", p->id, "muted", p->muted,
                            "camera", !p->camera_off);
    json_object_set_new(msg, "name", name ? json_string(name) : json_null());
    if (p->told_share) { /* only from clients that speak of it, so older ones see the same wire */
        json_object_set_new(msg, "speaking", json_boolean(p->speaking));
        json_object_set_new(msg, "screen", p->screen[0] ? json_string(p->screen) : json_null());
        json_object_set_new(msg, "screenAudio", p->screen_audio[0] ? json_string(p->screen_audio) : json_null());
    }
    peer_send_json(to, msg);
}

void state_tell_room(struct peer *p)
{
    if (!p->room || !p->has_state)
        return;
    for (int i = 0; i < p->room->count; i++)
        state_tell(p, p->room->members[i]);
}

/* Reads an optional boolean field into *out; -1 (p told) if it is there
 * but not a boolean. */
static int read_flag(struct peer *p, json_t *msg, const char *field, int *out)
{
    json_t *j = json_object_get(msg, field);
    if (!j)
        return 0;
    if (!json_is_boolean(j)) {
        peer_error_field(p, "missing_field", "the field must be true or false", field);
        return -1;
    }
    *out = json_is_true(j);
    return 0;
}

/* A screen share's stream id: 1-64 of A-Z a-z 0-9 { } _ - (what browsers
 * put in a MediaStream id). */
static int screen_valid(const char *s, size_t n)
{
    if (n == 0 || n > SCREEN_ID_MAX || strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '{' || c == '}' ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Reads the optional field (a stream or track id, or null: none) into
 * out (unchanged when absent); -1 (p told) if malformed. */
static int read_screen(struct peer *p, json_t *msg, const char *field, char out[SCREEN_ID_MAX + 1])
{
    json_t *j = json_object_get(msg, field);
    if (!j)
        return 0;
    if (json_is_null(j)) {
        out[0] = '\0';
        return 0;
    }
    if (!json_is_string(j) || !screen_valid(json_string_value(j), json_string_length(j))) {
        peer_error_field(p, "missing_field", "a stream or track id (1-64 letters, digits, {}_-) or null", field);
        return -1;
    }
    memcpy(out, json_string_value(j), json_string_length(j) + 1);
    return 0;
}

void state_on_state(struct peer *p, json_t *msg)
{
    json_t *jname = json_object_get(msg, "name");
    const char *name = json_string_value(jname);
    if (jname && !json_is_null(jname) &&
        (!name || strlen(name) != json_string_length(jname) || !lobby_name_valid(name))) {
        peer_error_field(p, "name_invalid", "a name is 1-32 letters, digits, spaces, '_', '.' or '-'", "name");
        return;
    }
    int muted = p->muted, camera = !p->camera_off, speaking = p->speaking;
    char screen[SCREEN_ID_MAX + 1], screen_audio[SCREEN_ID_MAX + 1];
    memcpy(screen, p->screen, sizeof(screen));
    memcpy(screen_audio, p->screen_audio, sizeof(screen_audio));
    if (read_flag(p, msg, "muted", &muted) < 0 || read_flag(p, msg, "camera", &camera) < 0 ||
        read_flag(p, msg, "speaking", &speaking) < 0 || read_screen(p, msg, "screen", screen) < 0 ||
        read_screen(p, msg, "screenAudio", screen_audio) < 0)
        return;
    if (!screen[0])
        screen_audio[0] = '\0'; /* no share, no share sound */
    int first = !p->has_state;
    p->has_state = 1;
    p->muted = muted;
    p->camera_off = !camera;
    p->speaking = speaking;
    p->told_share |= json_object_get(msg, "speaking") || json_object_get(msg, "screen");
    int new_screen = strcmp(p->screen, screen) != 0;
    memcpy(p->screen, screen, sizeof(screen));
    memcpy(p->screen_audio, screen_audio, sizeof(screen_audio));
    if (new_screen && p->room && p->room->sfu && p->hub->sfu.screen)
        p->hub->sfu.screen(p->hub->sfu.ctx, p, p->screen);
    if (jname)
        strcpy(p->display, name ? name : "");
    presence_changed(p);
    if (!p->room)
        return;
    if (first)
        state_tell_room(p);
    for (int i = 0; i < p->room->count; i++)
        state_tell(p->room->members[i], p);
}
