/*
 * rxstats — receiver statistics of one RTP stream for receiver reports
 * (see rxstats.h; the arithmetic is RFC 3550 appendix A.3 and A.8).
 */
#include "rxstats.h"

#include <string.h>

#define MAX_DROPOUT 3000
#define MAX_MISORDER 100

static void restart(struct sfu_rxstats *s, uint16_t seq)
{
    s->max_seq = seq;
    s->cycles = 0;
    s->base_seq = seq;
    s->received = 0;
    s->expected_prior = s->received_prior = 0;
    s->started = 1;
}

/* Appendix A.1's update_seq without probation. */
static void update_seq(struct sfu_rxstats *s, uint16_t seq)
{
    uint16_t delta = (uint16_t)(seq - s->max_seq);
    if (delta < MAX_DROPOUT) {
        if (seq < s->max_seq)
            s->cycles += 1u << 16;
        s->max_seq = seq;
    } else if (delta <= 65536 - MAX_MISORDER) {
        restart(s, seq); /* a jump: the sender restarted */
    }
    /* else a duplicate or a late packet: counted, max unchanged */
}

void sfu_rxstats_packet(struct sfu_rxstats *s, uint16_t seq, uint32_t rtp_ts, uint64_t now_ms, uint32_t clock)
{
    if (!s->started)
        restart(s, seq);
    update_seq(s, seq);
    s->received++;
    int64_t arrival = (int64_t)(now_ms * clock / 1000);
    int64_t transit = arrival - (int64_t)rtp_ts;
    if (s->received > 1) {
        int64_t d = transit - s->transit;
        if (d < 0)
            d = -d;
        if (d > (int64_t)UINT32_MAX)
            d = (int64_t)UINT32_MAX; /* the sender's timestamps jumped */
        s->jitter_q4 += (uint64_t)d - ((s->jitter_q4 + 8) >> 4);
    }
    s->transit = transit;
}

void sfu_rxstats_sr(struct sfu_rxstats *s, uint32_t ntp_sec, uint32_t ntp_frac, uint64_t now_ms)
{
    s->lsr = (ntp_sec << 16) | (ntp_frac >> 16);
    s->lsr_ms = now_ms;
    s->have_sr = 1;
}

int sfu_rxstats_block(struct sfu_rxstats *s, uint32_t ssrc, uint64_t now_ms, struct rtcp_report_block *b)
{
    if (!s->started || !s->received)
        return -1;
    memset(b, 0, sizeof(*b));
    uint32_t ext_max = s->cycles + s->max_seq;
    uint32_t expected = ext_max - s->base_seq + 1;
    int64_t lost = (int64_t)expected - (int64_t)s->received;
    b->ssrc = ssrc;
    b->highest_seq = ext_max;
    b->cumulative_lost = lost > 0x7FFFFF ? 0x7FFFFF : lost < -0x800000 ? -0x800000 : (int32_t)lost;
    uint32_t exp_int = expected - s->expected_prior;
    uint32_t rec_int = s->received - s->received_prior;
    s->expected_prior = expected;
    s->received_prior = s->received;
    int64_t lost_int = (int64_t)exp_int - (int64_t)rec_int;
    b->fraction_lost = exp_int == 0 || lost_int <= 0 ? 0 : (uint8_t)(lost_int >= exp_int ? 255 : (lost_int << 8) / exp_int);
    b->jitter = (uint32_t)(s->jitter_q4 >> 4);
    if (s->have_sr) {
        b->lsr = s->lsr;
        b->dlsr = (uint32_t)((now_ms - s->lsr_ms) * 65536 / 1000); /* units of 1/65536 s */
    }
    return 0;
}
