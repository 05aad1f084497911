/*
 * rewrite — outgoing SSRC, sequence number and timestamp of an RTP stream
 * across changes of its source (see rewrite.h).
 */
#include "rewrite.h"

#include <string.h>

#include "rtp.h"

#define SEQ_WINDOW 0x4000

void sfu_rewriter_init(struct sfu_rewriter *rw, uint32_t out_ssrc)
{
    memset(rw, 0, sizeof(*rw));
    rw->ssrc = out_ssrc;
}

void sfu_rewriter_switch(struct sfu_rewriter *rw)
{
    if (rw->started)
        rw->switching = 1;
}

/* The first packet of a new source: offsets that continue the stream. */
static void start_source(struct sfu_rewriter *rw, uint16_t seq, uint32_t ts, uint64_t now_ms, uint32_t clock)
{
    if (rw->started) {
        uint64_t gap = now_ms > rw->last_ms ? (now_ms - rw->last_ms) * clock / 1000 : 0;
        uint32_t step = gap ? (uint32_t)gap : 1;
        rw->seq_delta = (uint16_t)(rw->last_seq + 1 - seq);
        rw->ts_delta = rw->last_ts + step - ts;
    }
    rw->first_in = seq;
    rw->started = 1;
    rw->switching = 0;
    rw->last_seq = (uint16_t)(seq + rw->seq_delta - 1); /* so that this packet counts as newer */
}

/* A packet older than the newest: 0 to map it, 1 if it confirms a restart
 * of the sender's numbering (start a new source), -1 to drop it. */
static int late(struct sfu_rewriter *rw, uint16_t seq)
{
    uint16_t behind = (uint16_t)(rw->last_in - seq);
    if (behind <= SFU_REWRITE_REORDER)
        return seq == rw->first_in || rtp_seq_newer(seq, rw->first_in) ? 0 : -1;
    if (rw->have_bad && seq == rw->bad_seq)
        return 1;
    rw->bad_seq = (uint16_t)(seq + 1);
    rw->have_bad = 1;
    return -1;
}

int sfu_rewriter_map(struct sfu_rewriter *rw, uint16_t seq, uint32_t ts, uint64_t now_ms, uint32_t clock,
                     uint16_t *out_seq, uint32_t *out_ts)
{
    int older = rw->started && !rw->switching && seq != rw->last_in && !rtp_seq_newer(seq, rw->last_in);
    int verdict = older ? late(rw, seq) : 0;
    if (verdict < 0)
        return -1;
    if (verdict > 0)
        rw->switching = 1;
    if (!rw->started || rw->switching) {
        start_source(rw, seq, ts, now_ms, clock);
        rw->last_in = seq;
        rw->have_bad = 0;
    }
    *out_seq = (uint16_t)(seq + rw->seq_delta);
    *out_ts = ts + rw->ts_delta;
    if (rtp_seq_newer(seq, rw->last_in))
        rw->last_in = seq;
    if (rtp_seq_newer(*out_seq, rw->last_seq)) {
        /* The start of the source trails the newest packet by at most
         * 2^14, so that serial order with it stays meaningful past a wrap. */
        if ((uint16_t)(seq - rw->first_in) > SEQ_WINDOW)
            rw->first_in = (uint16_t)(seq - SEQ_WINDOW);
        rw->last_seq = *out_seq;
        rw->last_ts = *out_ts;
        rw->last_ms = now_ms;
    }
    return 0;
}

uint16_t sfu_rewriter_unmap_seq(const struct sfu_rewriter *rw, uint16_t out_seq)
{
    return (uint16_t)(out_seq - rw->seq_delta);
}

uint32_t sfu_rewriter_ts(const struct sfu_rewriter *rw, uint32_t ts)
{
    return ts + rw->ts_delta;
}
