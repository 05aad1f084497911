/*
 * simulcast — layer choice, switching at key frames and the rewriting
 * that keeps a subscriber's stream continuous across switches (see
 * simulcast.h). Pure: the caller gives the time.
 */
#include "simulcast.h"

#include <string.h>

#include "rtp.h"

void sfu_sim_fwd_init(struct sfu_sim_fwd *f, uint32_t out_ssrc)
{
    memset(f, 0, sizeof(*f));
    f->cur = -1;
    f->target = -1;
    f->want_h = -1;
    f->max = SFU_SIM_ANY;
    f->gen = ~0u;
    f->prev.layer = -1;
    sfu_rewriter_init(&f->rw, out_ssrc);
    sfu_vp8_rw_init(&f->vp8);
}

void sfu_sim_track_packet(struct sfu_sim_track *t, int l, size_t bytes, int key, uint16_t w, uint16_t h,
                          uint64_t now_ms)
{
    if (l < 0 || (size_t)l >= t->nlayers)
        return;
    struct sfu_sim_layer *y = &t->layer[l];
    if (key && h && (y->width != w || y->height != h)) {
        y->width = w;
        y->height = h;
        t->gen++;
    }
    if (!y->last_ms)
        t->gen++; /* a layer became active */
    y->last_ms = now_ms ? now_ms : 1;
    if (!y->win_ms)
        y->win_ms = now_ms;
    if (now_ms - y->win_ms >= SFU_SIM_RATE_MS) {
        y->bps = (uint32_t)(y->win_bytes * 8000 / (now_ms - y->win_ms));
        y->win_ms = now_ms;
        y->win_bytes = 0;
    }
    y->win_bytes += bytes;
}

static int layer_active(const struct sfu_sim_layer *y, uint64_t now_ms)
{
    return y->last_ms && now_ms - y->last_ms < SFU_SIM_IDLE_MS;
}

int sfu_sim_choose(const struct sfu_sim_track *t, const struct sfu_sim_fwd *f, uint64_t now_ms)
{
    if (f->max == SFU_SIM_PAUSED || f->want_h == 0 || t->nlayers == 0)
        return -1;
    int top = (int)t->nlayers - 1;
    int cap = f->max == SFU_SIM_ANY || f->max > top ? top : f->max;
    int best = -1;
    for (int l = 0; l <= cap; l++) {
        if (!layer_active(&t->layer[l], now_ms))
            continue;
        best = l;
        if (f->want_h > 0 && t->layer[l].height >= f->want_h)
            break; /* the smallest that covers the tile */
    }
    if (best < 0) /* nothing under the cap sends: the lowest that does, else wait */
        for (int l = top; l > cap; l--)
            if (layer_active(&t->layer[l], now_ms))
                best = l;
    return best;
}

int sfu_sim_update(struct sfu_sim_fwd *f, const struct sfu_sim_track *t, uint64_t now_ms)
{
    int want = sfu_sim_choose(t, f, now_ms); /* a few compares: done at every packet */
    f->gen = t->gen;
    if (want != f->target)
        f->pli_sent = 0;
    f->target = want;
    if (f->target < 0)
        f->cur = -1; /* paused at once */
    return f->target >= 0 && f->target != f->cur;
}

int sfu_sim_want_pli(struct sfu_sim_fwd *f, uint64_t now_ms)
{
    if (f->target < 0 || f->target == f->cur)
        return 0;
    if (f->pli_sent && now_ms - f->pli_ms < SFU_SIM_PLI_MS)
        return 0;
    f->pli_sent = 1;
    f->pli_ms = now_ms;
    return 1;
}

/* The current source becomes f->prev; the next packet starts a new one. */
static void switch_source(struct sfu_sim_fwd *f)
{
    if (f->cur >= 0 && f->rw.started) {
        f->prev = (struct sfu_sim_src){
            .layer = f->cur, .first_out = f->cur_first_out, .end_out = (uint16_t)(f->rw.last_seq + 1),
            .seq_delta = f->rw.seq_delta, .ts_delta = f->rw.ts_delta,
            .pid_delta = f->vp8.pid_delta, .tl0_delta = f->vp8.tl0_delta,
        };
    }
    sfu_rewriter_switch(&f->rw);
    sfu_vp8_rw_switch(&f->vp8);
    f->mark_first = 1;
    f->cur = f->target;
    f->switches++;
}

int sfu_sim_accept(struct sfu_sim_fwd *f, int l, int key)
{
    if (f->target >= 0 && f->target != f->cur && l == f->target && key)
        switch_source(f);
    return f->cur >= 0 && l == f->cur;
}

int sfu_sim_rewrite(struct sfu_sim_fwd *f, uint8_t *pkt, uint16_t seq, uint32_t ts, uint64_t now_ms,
                    uint32_t clock, size_t vp8_off, const struct sfu_vp8 *v)
{
    uint16_t os;
    uint32_t ots;
    if (sfu_rewriter_map(&f->rw, seq, ts, now_ms, clock, &os, &ots) != 0)
        return -1;
    if (f->mark_first) {
        f->cur_first_out = os;
        f->mark_first = 0;
    }
    rtp_write_ssrc(pkt, f->rw.ssrc);
    rtp_write_seq(pkt, os);
    rtp_write_ts(pkt, ots);
    if (v)
        sfu_vp8_rw_apply(&f->vp8, pkt + vp8_off, v);
    return 0;
}

/* out in [first, end) in serial order. */
static int seq_in(uint16_t out, uint16_t first, uint16_t end)
{
    return (uint16_t)(out - first) < (uint16_t)(end - first);
}

int sfu_sim_unmap(const struct sfu_sim_fwd *f, uint16_t out_seq, struct sfu_sim_src *src, uint16_t *in_seq)
{
    if (f->cur >= 0 && f->rw.started && !f->mark_first &&
        seq_in(out_seq, f->cur_first_out, (uint16_t)(f->rw.last_seq + 1))) {
        *src = (struct sfu_sim_src){
            .layer = f->cur, .first_out = f->cur_first_out, .end_out = (uint16_t)(f->rw.last_seq + 1),
            .seq_delta = f->rw.seq_delta, .ts_delta = f->rw.ts_delta,
            .pid_delta = f->vp8.pid_delta, .tl0_delta = f->vp8.tl0_delta,
        };
    } else if (f->prev.layer >= 0 && seq_in(out_seq, f->prev.first_out, f->prev.end_out)) {
        *src = f->prev;
    } else {
        return -1;
    }
    *in_seq = (uint16_t)(out_seq - src->seq_delta);
    return 0;
}
