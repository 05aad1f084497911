/*
 * vp8 — VP8 payload descriptor parsing and picture ID / TL0PICIDX
 * rewriting (see vp8.h).
 */
#include "vp8.h"

#include <string.h>

/* The key frame header after the descriptor at q[0..n): its size. */
static void key_size(const uint8_t *q, size_t n, struct sfu_vp8 *out)
{
    if (n < 10 || q[3] != 0x9d || q[4] != 0x01 || q[5] != 0x2a)
        return;
    out->width = (uint16_t)((q[6] | q[7] << 8) & 0x3fff);
    out->height = (uint16_t)((q[8] | q[9] << 8) & 0x3fff);
}

/* The X byte's fields at p[*off..len). 0, or -1 if short. */
static int extension(const uint8_t *p, size_t len, size_t *off, struct sfu_vp8 *out)
{
    if (*off >= len)
        return -1;
    uint8_t x = p[(*off)++];
    if (x & 0x80) { /* I */
        if (*off >= len)
            return -1;
        out->has_pid = 1;
        out->pid_off = *off;
        if (p[*off] & 0x80) {
            if (*off + 1 >= len)
                return -1;
            out->pid_bits = 15;
            out->pid = (uint16_t)((p[*off] & 0x7f) << 8 | p[*off + 1]);
            *off += 2;
        } else {
            out->pid_bits = 7;
            out->pid = p[(*off)++];
        }
    }
    if (x & 0x40) { /* L */
        if (*off >= len)
            return -1;
        out->has_tl0 = 1;
        out->tl0_off = *off;
        out->tl0 = p[(*off)++];
    }
    if (x & 0x30) /* T or K */
        (*off)++;
    return *off < len ? 0 : -1;
}

int sfu_vp8_parse(const uint8_t *p, size_t len, struct sfu_vp8 *out)
{
    memset(out, 0, sizeof(*out));
    if (len < 2)
        return -1;
    size_t off = 1;
    if ((p[0] & 0x80) && extension(p, len, &off, out) != 0)
        return -1;
    if (off >= len)
        return -1;
    out->desc_len = off;
    out->start = (p[0] & 0x10) && (p[0] & 0x07) == 0;
    out->keyframe = out->start && (p[off] & 0x01) == 0;
    if (out->keyframe)
        key_size(p + off, len - off, out);
    return 0;
}

void sfu_vp8_rw_init(struct sfu_vp8_rw *rw)
{
    memset(rw, 0, sizeof(*rw));
}

void sfu_vp8_rw_switch(struct sfu_vp8_rw *rw)
{
    if (rw->started)
        rw->switching = 1;
}

void sfu_vp8_write(uint8_t *p, const struct sfu_vp8 *v, uint16_t pid_delta, uint8_t tl0_delta)
{
    if (v->has_pid) {
        uint16_t pid = (uint16_t)(v->pid + pid_delta);
        if (v->pid_bits == 15) {
            p[v->pid_off] = (uint8_t)(0x80 | ((pid >> 8) & 0x7f));
            p[v->pid_off + 1] = (uint8_t)pid;
        } else {
            p[v->pid_off] = (uint8_t)(pid & 0x7f);
        }
    }
    if (v->has_tl0)
        p[v->tl0_off] = (uint8_t)(v->tl0 + tl0_delta);
}

void sfu_vp8_rw_apply(struct sfu_vp8_rw *rw, uint8_t *p, const struct sfu_vp8 *v)
{
    if (rw->switching) {
        rw->pid_delta = (uint16_t)(rw->last_pid + 1 - v->pid);
        rw->tl0_delta = (uint8_t)(rw->last_tl0 + 1 - v->tl0);
        rw->switching = 0;
    }
    int first = !rw->started;
    rw->started = 1;
    sfu_vp8_write(p, v, rw->pid_delta, rw->tl0_delta);
    uint16_t mask = v->pid_bits == 7 ? 0x7f : 0x7fff;
    if (v->has_pid) { /* the newest picture ID, in serial order within its width */
        uint16_t pid = (uint16_t)((v->pid + rw->pid_delta) & mask);
        if (first || (uint16_t)((pid - rw->last_pid) & mask) <= (mask >> 1))
            rw->last_pid = pid;
    }
    if (v->has_tl0) {
        uint8_t tl0 = (uint8_t)(v->tl0 + rw->tl0_delta);
        if (first || (uint8_t)(tl0 - rw->last_tl0) < 0x80)
            rw->last_tl0 = tl0;
    }
}
