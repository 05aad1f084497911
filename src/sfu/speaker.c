/*
 * speaker — smoothed audio levels and the active speaker with hysteresis
 * (see speaker.h).
 */
#include "speaker.h"

void sfu_level_packet(struct sfu_level *l, uint8_t dbov, uint64_t now_ms)
{
    double x = dbov > 127 ? 0 : 127.0 - dbov;
    double v = sfu_level_get(l, now_ms);
    double dt = l->ms && now_ms > l->ms ? (double)(now_ms - l->ms) : 20.0;
    if (dt > 20.0)
        dt = 20.0; /* the gap itself was decayed above */
    l->v = v + (x - v) * dt / (SFU_SPEAKER_TAU_MS + dt);
    l->ms = now_ms;
}

double sfu_level_get(const struct sfu_level *l, uint64_t now_ms)
{
    if (!l->ms || now_ms <= l->ms + 100)
        return l->v;
    double gap = (double)(now_ms - l->ms - 100);
    return l->v * SFU_SPEAKER_TAU_MS / (SFU_SPEAKER_TAU_MS + gap);
}

int sfu_speaker_update(struct sfu_speaker *s, const void *const *keys, const double *levels, size_t n,
                       uint64_t now_ms)
{
    double cur = 0, best = -1;
    const void *top = NULL;
    int cur_present = 0;
    for (size_t i = 0; i < n; i++) {
        if (keys[i] == s->current) {
            cur = levels[i];
            cur_present = 1;
        } else if (levels[i] > best) {
            best = levels[i];
            top = keys[i];
        }
    }
    if (!cur_present)
        s->current = NULL;
    if (!top || best < SFU_SPEAKER_MIN || best < cur + SFU_SPEAKER_MARGIN) {
        s->candidate = NULL;
        return 0;
    }
    if (top != s->candidate) {
        s->candidate = top;
        s->since_ms = now_ms;
        return 0;
    }
    if (now_ms - s->since_ms < SFU_SPEAKER_HOLD_MS)
        return 0;
    s->current = top;
    s->candidate = NULL;
    return 1;
}
