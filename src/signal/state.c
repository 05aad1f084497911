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

void state_on_state(struct peer *p, json_t *msg)
{
    json_t *jname = json_object_get(msg, "name");
    const char *name = json_string_value(jname);
    if (jname && !json_is_null(jname) &&
        (!name || strlen(name) != json_string_length(jname) || !lobby_name_valid(name))) {
        peer_error_field(p, "name_invalid", "a name is 1-32 letters, digits, spaces, '_', '.' or '-'", "name");
        return;
    }
    int muted = p->muted, camera = !p->camera_off;
    if (read_flag(p, msg, "muted", &muted) < 0 || read_flag(p, msg, "camera", &camera) < 0)
        return;
    int first = !p->has_state;
    p->has_state = 1;
    p->muted = muted;
    p->camera_off = !camera;
    if (jname)
        strcpy(p->display, name ? name : "");
    if (!p->room)
        return;
    if (first)
        state_tell_room(p);
    for (int i = 0; i < p->room->count; i++)
        state_tell(p->room->members[i], p);
}
