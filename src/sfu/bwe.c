/*
 * bwe — delay trendline plus loss, the per-subscriber estimate (see bwe.h
 * for the method and its constants).
 */
#include "bwe.h"

#include <string.h>

#define GROUP_US 5000      /* packets sent within 5 ms form one group */
#define SMOOTHING 0.9
#define TREND_GAIN 4.0
#define OVERUSE_MS 10.0
#define THRESH_MIN 6.0
#define THRESH_MAX 600.0
#define K_UP 0.0087
#define K_DOWN 0.039
#define BACKOFF 0.85
#define RATE_WINDOW_US 500000
#define LOSS_MIN_PKTS 20
#define LOSS_WINDOW_MS 500
#define HOLD_MS 300

static double dmin(double a, double b) { return a < b ? a : b; }
static double dmax(double a, double b) { return a > b ? a : b; }
static double dabs(double a) { return a < 0 ? -a : a; }

void sfu_bwe_init(struct sfu_bwe *b)
{
    memset(b, 0, sizeof(*b));
    b->estimate = SFU_BWE_START_BPS;
    b->threshold = 12.5;
}

/* Least-squares slope of the trendline points (ms of delay per ms). */
static double slope(const struct sfu_bwe *b)
{
    double mx = 0, my = 0, num = 0, den = 0;
    for (size_t i = 0; i < SFU_BWE_WINDOW; i++) {
        mx += b->x[i];
        my += b->y[i];
    }
    mx /= SFU_BWE_WINDOW;
    my /= SFU_BWE_WINDOW;
    for (size_t i = 0; i < SFU_BWE_WINDOW; i++) {
        num += (b->x[i] - mx) * (b->y[i] - my);
        den += (b->x[i] - mx) * (b->x[i] - mx);
    }
    return den > 0 ? num / den : 0;
}

/* The threshold follows |trend| slowly up and faster down (GCC §5.4), so
 * that a competing TCP flow does not starve us and noise is ignored. */
static void adapt_threshold(struct sfu_bwe *b, double m, int64_t recv_us)
{
    double dt = b->thresh_recv ? (double)(recv_us - b->thresh_recv) / 1000.0 : 0;
    b->thresh_recv = recv_us;
    if (dabs(m) > b->threshold + 15.0)
        return; /* a spike: not a reason to move the threshold */
    double k = dabs(m) < b->threshold ? K_DOWN : K_UP;
    if (dt > 100)
        dt = 100;
    b->threshold += k * (dabs(m) - b->threshold) * dt;
    b->threshold = dmin(dmax(b->threshold, THRESH_MIN), THRESH_MAX);
}

static void detect(struct sfu_bwe *b, double m, double dt_ms)
{
    if (m > b->threshold) {
        b->over_ms += dt_ms;
        if (b->over_ms > OVERUSE_MS && b->trend >= 0)
            b->usage = SFU_BWE_OVERUSE;
    } else {
        b->over_ms = 0;
        b->usage = m < -b->threshold ? SFU_BWE_UNDERUSE : SFU_BWE_NORMAL;
    }
}

/* One delay variation d_ms between two groups, the later received at recv_us. */
static void trendline(struct sfu_bwe *b, double d_ms, double send_delta_ms, int64_t recv_us)
{
    if (!b->first_recv)
        b->first_recv = recv_us;
    b->acc_ms += d_ms;
    b->smooth_ms = SMOOTHING * b->smooth_ms + (1 - SMOOTHING) * b->acc_ms;
    b->ndeltas++;
    size_t i = b->npts % SFU_BWE_WINDOW;
    b->x[i] = (double)(recv_us - b->first_recv) / 1000.0;
    b->y[i] = b->smooth_ms;
    if (++b->npts < SFU_BWE_WINDOW)
        return;
    double prev = b->trend;
    b->trend = slope(b);
    double n = b->ndeltas < 60 ? (double)b->ndeltas : 60;
    double m = n * b->trend * TREND_GAIN;
    detect(b, m, send_delta_ms);
    if (b->trend < prev && b->usage == SFU_BWE_OVERUSE)
        b->usage = SFU_BWE_NORMAL; /* the queue stopped growing */
    adapt_threshold(b, m, recv_us);
}

/* A received packet: groups by send time, a delay variation per group. */
static void delay_sample(struct sfu_bwe *b, const struct sfu_twcc_sample *s)
{
    int64_t send = (int64_t)s->send_us;
    if (b->have_group && send - b->g_first_send < GROUP_US && send >= b->g_first_send) {
        b->g_last_send = send;
        if (s->recv_us > b->g_last_recv)
            b->g_last_recv = s->recv_us;
        return;
    }
    if (b->have_group) { /* the group is complete */
        if (b->have_prev) {
            double sd = (double)(b->g_last_send - b->p_last_send) / 1000.0;
            double rd = (double)(b->g_last_recv - b->p_last_recv) / 1000.0;
            if (rd >= 0 && sd >= 0)
                trendline(b, rd - sd, sd, b->g_last_recv);
        }
        b->p_last_send = b->g_last_send;
        b->p_last_recv = b->g_last_recv;
        b->have_prev = 1;
    }
    b->g_first_send = b->g_last_send = send;
    b->g_last_recv = s->recv_us;
    b->have_group = 1;
}

/* Acknowledged throughput over windows of RATE_WINDOW_US of receive time. */
static void rate_sample(struct sfu_bwe *b, const struct sfu_twcc_sample *s)
{
    if (!b->rate_start || s->recv_us < b->rate_start) {
        b->rate_start = s->recv_us;
        b->rate_bytes = 0;
    }
    b->rate_bytes += s->size;
    b->rate_last = s->recv_us;
    if (s->recv_us - b->rate_start >= RATE_WINDOW_US) {
        double bps = (double)b->rate_bytes * 8e6 / (double)(s->recv_us - b->rate_start);
        b->acked_bps = b->acked_bps > 0 ? 0.5 * b->acked_bps + 0.5 * bps : bps;
        b->rate_start = s->recv_us;
        b->rate_bytes = 0;
    }
}

/* Closes the loss window if it is long enough; 1 if it did. */
static int loss_window(struct sfu_bwe *b, uint64_t now_ms)
{
    if (b->total < LOSS_MIN_PKTS || now_ms - b->loss_ms < LOSS_WINDOW_MS)
        return 0;
    b->loss = (double)b->lost / b->total;
    b->lost = b->total = 0;
    b->loss_ms = now_ms;
    return 1;
}

static double clamp(double v)
{
    return dmin(dmax(v, SFU_BWE_MIN_BPS), SFU_BWE_MAX_BPS);
}

/* Moves the estimate after a feedback at now_ms (dt: seconds since the last). */
static void control(struct sfu_bwe *b, uint64_t now_ms, double dt, int loss_closed)
{
    double e = b->estimate;
    if (b->usage != SFU_BWE_NORMAL)
        b->normal_ms = now_ms; /* growth waits until the detector has said "normal" for HOLD_MS */
    if (b->usage == SFU_BWE_OVERUSE) {
        if (now_ms - b->decrease_ms >= 200 || !b->decrease_ms) {
            double base = b->acked_bps > 0 ? dmin(b->acked_bps, e) : e;
            e = BACKOFF * base;
            b->decrease_ms = now_ms;
        }
    } else if (loss_closed && b->loss > 0.10) {
        e *= 1 - 0.5 * b->loss;
        b->decrease_ms = now_ms;
        b->loss_limited = 1;
    } else if (b->usage == SFU_BWE_NORMAL && b->loss <= 0.02 && now_ms - b->normal_ms >= HOLD_MS) {
        double cap = b->acked_bps * 1.5 + SFU_BWE_HEADROOM_BPS;
        double grown = e * (1 + SFU_BWE_GROWTH * dmin(dt, 1.0)) + SFU_BWE_STEP_BPS * dmin(dt, 1.0);
        if (grown > cap)
            grown = dmax(cap, e);
        e = grown;
    }
    if (loss_closed && b->loss <= 0.02)
        b->loss_limited = 0;
    if (!b->loss_limited && e < b->floor_bps)
        e = b->floor_bps; /* delay alone pauses no video */
    b->estimate = clamp(e);
}

void sfu_bwe_feedback(struct sfu_bwe *b, const struct sfu_twcc_sample *s, size_t n, uint64_t now_ms)
{
    for (size_t i = 0; i < n; i++) {
        b->total++;
        if (!s[i].received) {
            b->lost++;
            continue;
        }
        delay_sample(b, &s[i]);
        rate_sample(b, &s[i]);
    }
    if (!b->started) {
        b->started = 1;
        b->last_ms = b->loss_ms = now_ms;
    }
    double dt = now_ms > b->last_ms ? (double)(now_ms - b->last_ms) / 1000.0 : 0;
    b->last_ms = now_ms;
    b->have_twcc = 1;
    control(b, now_ms, dt, loss_window(b, now_ms));
}

void sfu_bwe_set_floor(struct sfu_bwe *b, uint64_t bps)
{
    b->floor_bps = (double)bps;
}

void sfu_bwe_remb(struct sfu_bwe *b, uint64_t bps, uint64_t now_ms)
{
    b->remb_bps = clamp((double)bps);
    b->remb_ms = b->last_ms = now_ms;
    b->have_remb = 1;
    if (!b->have_twcc)
        b->estimate = b->remb_bps;
}

void sfu_bwe_idle(struct sfu_bwe *b, uint64_t now_ms)
{
    if (!b->have_remb || b->have_twcc || now_ms - b->remb_ms < SFU_BWE_REMB_MS || now_ms <= b->last_ms) {
        if (now_ms > b->last_ms)
            b->last_ms = now_ms;
        return;
    }
    double dt = dmin((double)(now_ms - b->last_ms) / 1000.0, 1.0);
    b->last_ms = now_ms;
    b->estimate = clamp(b->estimate * (1 + SFU_BWE_IDLE_GROWTH * dt) + SFU_BWE_STEP_BPS * dt);
}

uint64_t sfu_bwe_estimate(const struct sfu_bwe *b)
{
    double e = b->estimate;
    if (b->have_remb && b->have_twcc && b->last_ms - b->remb_ms < SFU_BWE_REMB_MS && b->remb_bps < e)
        e = b->remb_bps;
    return (uint64_t)e;
}

enum sfu_bwe_usage sfu_bwe_usage(const struct sfu_bwe *b)
{
    return b->usage;
}
