/*
 * speaker — who is speaking in a room, from the audio level each
 * publisher's packets carry (RFC 6464 ssrc-audio-level, read with
 * rtp_ext_audio_level()).
 *
 * A level is -dBov (0 loudest, 127 silence); loudness is 127 minus it.
 * Each member's loudness is smoothed with a time constant of
 * SFU_SPEAKER_TAU_MS and decays toward silence while no packets come
 * (DTX, a muted microphone). The active speaker changes only when another
 * member has been louder than SFU_SPEAKER_MIN and louder than the current
 * speaker by SFU_SPEAKER_MARGIN, without interruption, for
 * SFU_SPEAKER_HOLD_MS: a cough or a word in between does not move it.
 *
 * Members are keys (any pointer) chosen by the caller. Pure, no I/O.
 */
#ifndef TINCAN_SFU_SPEAKER_H
#define TINCAN_SFU_SPEAKER_H

#include <stddef.h>
#include <stdint.h>

#define SFU_SPEAKER_TAU_MS 1000.0
#define SFU_SPEAKER_HOLD_MS 1000
#define SFU_SPEAKER_MIN 77.0    /* louder than -50 dBov, smoothed */
#define SFU_SPEAKER_MARGIN 3.0  /* dB */

/* One member's smoothed loudness. */
struct sfu_level {
    double v;
    uint64_t ms;
};

/* An audio packet with level dbov (0-127) at now_ms. */
void sfu_level_packet(struct sfu_level *l, uint8_t dbov, uint64_t now_ms);
/* The smoothed loudness at now_ms (0 silence .. 127). */
double sfu_level_get(const struct sfu_level *l, uint64_t now_ms);

struct sfu_speaker {
    const void *current;     /* NULL: nobody yet */
    const void *candidate;   /* louder than current since since_ms */
    uint64_t since_ms;
};

/* Looks at the members keys[0..n) with loudness levels[0..n) at now_ms.
 * Returns 1 if the active speaker changed (s->current is the new one),
 * else 0. A current speaker missing from keys is forgotten (returns 1
 * only when someone else takes over). */
int sfu_speaker_update(struct sfu_speaker *s, const void *const *keys, const double *levels, size_t n,
                       uint64_t now_ms);

#endif
