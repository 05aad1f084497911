/*
 * room_sim — the router's simulcast controls (simulcast.h): the
 * allocator's max layer per subscriber and track, what a subscriber gets
 * of a track, and the size a subscriber shows a publisher's video at.
 */
#include <stdio.h>
#include <string.h>

#include "room_int.h"
#include "simulcast.h"

/* sub's slot of the video track out_ssrc, its publisher and track. */
static struct slot *video_slot(struct sfu_room *r, struct sfu_member *sub, uint32_t out_ssrc,
                               struct sfu_member **pub, struct sfu_track **t)
{
    struct track_state *st;
    struct slot *s = room_slot_of(sub, out_ssrc);
    *pub = s ? room_publisher_of(r, sub, out_ssrc, t, &st) : NULL;
    return *pub && (*t)->kind == SDP_VIDEO ? s : NULL;
}

/* s's choice changed: re-chosen now, and a key frame of the target asked for. */
static void rechoose(struct sfu_room *r, struct sfu_member *pub, struct sfu_track *t, struct slot *s,
                     uint64_t now_ms)
{
    s->fwd.gen = ~pub->state[t->group].sim.gen;
    s->fwd.pli_sent = 0;
    if (!sfu_sim_update(&s->fwd, &pub->state[t->group].sim, now_ms) || !sfu_sim_want_pli(&s->fwd, now_ms))
        return;
    struct track_state *lst;
    struct sfu_track *lt = room_layer(pub, t, s->fwd.target, &lst);
    if (lt->ssrc)
        room_request_keyframe(r, pub, lt, lst, now_ms);
}

int sfu_room_sim_set_max(struct sfu_room *r, struct sfu_member *sub, uint32_t out_ssrc, int max, uint64_t now_ms)
{
    struct sfu_member *pub;
    struct sfu_track *t;
    struct slot *s = video_slot(r, sub, out_ssrc, &pub, &t);
    if (!s || max < SFU_SIM_PAUSED)
        return -1;
    if (s->fwd.max != max) {
        s->fwd.max = max;
        rechoose(r, pub, t, s, now_ms);
    }
    return 0;
}

int sfu_room_sim_info(struct sfu_room *r, struct sfu_member *sub, uint32_t out_ssrc, struct sfu_sim_info *info,
                      uint64_t now_ms)
{
    struct sfu_member *pub;
    struct sfu_track *t;
    struct slot *s = video_slot(r, sub, out_ssrc, &pub, &t);
    if (!s)
        return -1;
    const struct sfu_sim_track *st = &pub->state[t->group].sim;
    memset(info, 0, sizeof(*info));
    info->nlayers = st->nlayers;
    for (size_t l = 0; l < st->nlayers && l < SFU_SIM_LAYERS; l++) {
        const struct sfu_sim_layer *y = &st->layer[l];
        info->bps[l] = y->last_ms && now_ms - y->last_ms < SFU_SIM_IDLE_MS ? y->bps : 0;
        info->height[l] = y->height;
        info->active[l] = y->last_ms && now_ms - y->last_ms < SFU_SIM_IDLE_MS;
    }
    info->cur = s->fwd.cur;
    info->target = s->fwd.target;
    info->want_h = s->fwd.want_h;
    info->max = s->fwd.max;
    return 0;
}

/* Keeps sub's report about pub_id (the oldest goes when full). */
static void keep_view(struct sfu_member *sub, const char *pub_id, int want)
{
    size_t i = 0;
    while (i < sub->nviews && strcmp(sub->views[i].publisher, pub_id) != 0)
        i++;
    if (i == SFU_ROOM_SLOTS) {
        memmove(&sub->views[0], &sub->views[1], sizeof(sub->views[0]) * (SFU_ROOM_SLOTS - 1));
        i--;
    } else if (i == sub->nviews) {
        sub->nviews++;
    }
    snprintf(sub->views[i].publisher, sizeof(sub->views[i].publisher), "%s", pub_id);
    sub->views[i].want_h = want;
}

void room_sim_slot_new(struct sfu_member *m, struct slot *s)
{
    for (size_t i = 0; i < m->nviews; i++)
        if (s->track.kind == SDP_VIDEO && strcmp(m->views[i].publisher, s->publisher) == 0)
            s->fwd.want_h = m->views[i].want_h;
}

int sfu_room_sim_view(struct sfu_room *r, struct sfu_member *sub, const char *pub_id, int width, int height,
                      uint64_t now_ms)
{
    int n = 0;
    int want = width <= 0 || height <= 0 ? 0 : height;
    keep_view(sub, pub_id, want);
    for (size_t i = 0; i < sub->nslots; i++) {
        struct slot *s = &sub->slots[i];
        struct sfu_member *pub;
        struct sfu_track *t;
        if (!s->active || strcmp(s->publisher, pub_id) != 0 || !video_slot(r, sub, s->track.out_ssrc, &pub, &t))
            continue;
        n++;
        if (s->fwd.want_h != want) {
            s->fwd.want_h = want;
            rechoose(r, pub, t, s, now_ms);
        }
    }
    return n;
}
