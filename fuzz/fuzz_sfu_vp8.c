/*
 * fuzz_sfu_vp8 — libFuzzer target for the VP8 payload descriptor parser
 * and the picture ID / TL0PICIDX rewriter (src/sfu/vp8.c).
 *
 * The input is one RTP payload in a heap block of exactly its size, so
 * AddressSanitizer catches a read past the end. Besides "no crash" it
 * checks what the simulcast path relies on:
 *  - the descriptor and the offsets of its fields lie inside the payload,
 *    with at least one byte after it;
 *  - a key frame is the start of a frame; a frame size only comes with one;
 *  - rewriting a copy with any deltas parses back to the same layout,
 *    with the picture ID and TL0PICIDX moved by the deltas in their width,
 *    and the bytes outside those fields untouched.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/vp8.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void check_layout(const struct sfu_vp8 *v, size_t size)
{
    CHECK(v->desc_len >= 1 && v->desc_len < size);
    CHECK(!v->keyframe || v->start);
    CHECK(v->height == 0 || v->keyframe);
    if (v->has_pid) {
        CHECK(v->pid_bits == 7 || v->pid_bits == 15);
        CHECK(v->pid_off + (v->pid_bits == 15 ? 2u : 1u) <= v->desc_len);
        CHECK(v->pid < (1u << v->pid_bits));
    }
    if (v->has_tl0)
        CHECK(v->tl0_off < v->desc_len);
}

static void check_rewrite(const uint8_t *data, size_t size, const struct sfu_vp8 *v)
{
    uint8_t *c = malloc(size);
    memcpy(c, data, size);
    uint16_t dp = (uint16_t)(size * 7919u);
    uint8_t dt = (uint8_t)(size * 31u);
    sfu_vp8_write(c, v, dp, dt);
    struct sfu_vp8 w;
    CHECK(sfu_vp8_parse(c, size, &w) == 0);
    CHECK(w.desc_len == v->desc_len && w.has_pid == v->has_pid && w.pid_bits == v->pid_bits);
    CHECK(w.has_tl0 == v->has_tl0 && w.keyframe == v->keyframe && w.height == v->height);
    if (v->has_pid)
        CHECK(w.pid == ((v->pid + dp) & ((1u << v->pid_bits) - 1)));
    if (v->has_tl0)
        CHECK(w.tl0 == (uint8_t)(v->tl0 + dt));
    for (size_t i = 0; i < size; i++) {
        int field = (v->has_pid && i >= v->pid_off && i < v->pid_off + (v->pid_bits == 15 ? 2u : 1u)) ||
                    (v->has_tl0 && i == v->tl0_off);
        CHECK(field || c[i] == data[i]);
    }
    struct sfu_vp8_rw rw;
    sfu_vp8_rw_init(&rw);
    sfu_vp8_rw_apply(&rw, c, &w);
    sfu_vp8_rw_switch(&rw);
    sfu_vp8_rw_apply(&rw, c, &w);
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    memcpy(p, data, size);
    struct sfu_vp8 v;
    if (sfu_vp8_parse(p, size, &v) == 0) {
        check_layout(&v, size);
        check_rewrite(p, size, &v);
    }
    free(p);
    return 0;
}
