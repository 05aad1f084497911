/*
 * vp8 — the VP8 RTP payload descriptor (RFC 7741 §4.2) and the start of
 * the VP8 payload header (key frame, frame size; RFC 6386 §9.1), parsed
 * from the bytes of an RTP payload, and the picture ID / TL0PICIDX
 * rewriting a simulcast layer switch needs.
 *
 * The descriptor: X R N S R PID(3), then if X: I L T K RSV(4), then if I
 * a 7- or 15-bit picture ID (M bit), if L TL0PICIDX, if T or K one byte
 * of TID/Y/KEYIDX. A key frame is the packet with S = 1 and PID = 0 whose
 * payload header has the P bit clear; its frame tag is followed by the
 * start code 9d 01 2a and the 14-bit width and height.
 *
 * struct sfu_vp8_rw keeps the picture ID and TL0PICIDX of one outgoing
 * stream continuous across source changes, the way rewrite.h does for
 * sequence numbers: within a source the offset is constant; a new source
 * continues from the last values sent (+1). Values are written in place,
 * in the width the packet carries them (7 or 15 bits). Pure, no I/O.
 */
#ifndef TINCAN_SFU_VP8_H
#define TINCAN_SFU_VP8_H

#include <stddef.h>
#include <stdint.h>

struct sfu_vp8 {
    size_t desc_len;      /* bytes of the payload descriptor */
    int start;            /* S = 1 and PID = 0: the first packet of a frame */
    int keyframe;         /* start, and the frame is a key frame */
    int has_pid;
    int pid_bits;         /* 7 or 15 */
    uint16_t pid;
    size_t pid_off;       /* offset of the picture ID in the payload */
    int has_tl0;
    uint8_t tl0;
    size_t tl0_off;
    uint16_t width, height; /* of a key frame whose header is in this packet, else 0 */
};

/* Parses the payload p[0..len). Returns 0, or -1 if it is malformed
 * (too short for what its bits announce, or nothing after the descriptor). */
int sfu_vp8_parse(const uint8_t *p, size_t len, struct sfu_vp8 *out);

struct sfu_vp8_rw {
    uint16_t pid_delta;
    uint8_t tl0_delta;
    uint16_t last_pid;    /* the newest outgoing picture ID (15-bit space) */
    uint8_t last_tl0;
    int started;
    int switching;        /* the next packet starts a new source */
};

void sfu_vp8_rw_init(struct sfu_vp8_rw *rw);
/* The next packet comes from a new source. */
void sfu_vp8_rw_switch(struct sfu_vp8_rw *rw);
/* Rewrites the picture ID and TL0PICIDX of payload p (parsed as v) in
 * place. */
void sfu_vp8_rw_apply(struct sfu_vp8_rw *rw, uint8_t *p, const struct sfu_vp8 *v);
/* Writes the picture ID and TL0PICIDX of payload p (parsed as v) moved by
 * the deltas (for a retransmission), in place. */
void sfu_vp8_write(uint8_t *p, const struct sfu_vp8 *v, uint16_t pid_delta, uint8_t tl0_delta);

#endif
