/*
 * twcc_rx — arrival times by transport-wide sequence number and the
 * feedback packets built from them (see twcc_rx.h).
 */
#include "twcc_rx.h"

#include <errno.h>
#include <string.h>

#include "rtcp.h"
#include "wire.h"

#define UNWRAP_START ((uint64_t)1 << 32) /* room below for packets older than the first */
#define REF_UNIT_US 64000                 /* reference time unit */
#define DELTA_UNIT_US 250                 /* receive delta unit */

static int64_t *slot(struct sfu_twcc_rx *rx, uint64_t u)
{
    return &rx->arrival_us[u % SFU_TWCC_RX_WINDOW];
}

void sfu_twcc_rx_init(struct sfu_twcc_rx *rx)
{
    memset(rx, 0, sizeof(*rx));
}

void sfu_twcc_rx_packet(struct sfu_twcc_rx *rx, uint16_t seq, uint64_t now_us)
{
    if (!rx->have) {
        rx->have = 1;
        rx->base = rx->end = UNWRAP_START + seq;
    }
    uint64_t newest = rx->end - 1;
    uint64_t u = newest + (uint64_t)(int64_t)(int16_t)(uint16_t)(seq - (uint16_t)newest);
    if (u < rx->base)
        return; /* reported already (as lost) */
    if (u >= rx->end) {
        uint64_t from = rx->end;
        if (u + 1 - rx->base > SFU_TWCC_RX_WINDOW) /* nobody asked for feedback: the oldest go unreported */
            rx->base = u + 1 - SFU_TWCC_RX_WINDOW;
        if (from < rx->base)
            from = rx->base;
        for (uint64_t k = from; k < u; k++)
            *slot(rx, k) = -1;
        rx->end = u + 1;
    } else if (*slot(rx, u) >= 0) {
        return; /* a duplicate: the first arrival counts */
    }
    *slot(rx, u) = (int64_t)now_us;
}

int sfu_twcc_rx_due(const struct sfu_twcc_rx *rx, uint64_t now_ms)
{
    if (rx->end <= rx->base)
        return 0;
    return rx->end - rx->base >= SFU_TWCC_RX_MAX_FB || now_ms - rx->last_fb_ms >= SFU_TWCC_RX_INTERVAL_MS;
}

/* The packets [base, base+*n) as symbols and deltas; shortens *n at a
 * delta two bytes cannot hold. Returns the reference time (64 ms units). */
static uint32_t plan(const struct sfu_twcc_rx *rx, size_t *n, uint8_t *sym, int32_t *delta)
{
    int64_t t = -1; /* the receive time the deltas have reached, µs */
    uint32_t ref = 0;
    for (size_t i = 0; i < *n; i++) {
        int64_t a = rx->arrival_us[(rx->base + i) % SFU_TWCC_RX_WINDOW];
        if (a < 0) {
            sym[i] = RTCP_TWCC_NOT_RECEIVED;
            continue;
        }
        if (t < 0) {
            ref = (uint32_t)(a / REF_UNIT_US);
            t = (int64_t)ref * REF_UNIT_US;
        }
        int64_t d = (a - t) / DELTA_UNIT_US; /* toward zero; t follows the sum of deltas sent */
        if (d < -32768 || d > 32767) {
            *n = i;
            break;
        }
        delta[i] = (int32_t)d;
        sym[i] = d >= 0 && d <= 255 ? RTCP_TWCC_SMALL_DELTA : RTCP_TWCC_LARGE_DELTA;
        t += d * DELTA_UNIT_US;
    }
    return ref & 0xFFFFFF;
}

static size_t put_body(uint8_t *b, size_t n, const uint8_t *sym, const int32_t *delta)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i += 7) {
        uint16_t chunk = 0xC000; /* status vector, two-bit symbols */
        for (size_t k = 0; k < 7 && i + k < n; k++)
            chunk |= (uint16_t)(sym[i + k] << (12 - 2 * k));
        wire_wr16(b + off, chunk);
        off += 2;
    }
    for (size_t i = 0; i < n; i++) {
        if (sym[i] == RTCP_TWCC_SMALL_DELTA) {
            b[off++] = (uint8_t)delta[i];
        } else if (sym[i] == RTCP_TWCC_LARGE_DELTA) {
            wire_wr16(b + off, (uint16_t)(int16_t)delta[i]);
            off += 2;
        }
    }
    return off;
}

int sfu_twcc_rx_build(struct sfu_twcc_rx *rx, uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t *out, size_t cap,
                      uint64_t now_ms)
{
    if (rx->end <= rx->base)
        return 0;
    size_t n = (size_t)(rx->end - rx->base);
    if (n > SFU_TWCC_RX_MAX_FB)
        n = SFU_TWCC_RX_MAX_FB;
    uint8_t sym[SFU_TWCC_RX_MAX_FB];
    int32_t delta[SFU_TWCC_RX_MAX_FB];
    uint32_t ref = plan(rx, &n, sym, delta);
    size_t last = n; /* end on a received packet, as browsers do; the rest waits */
    while (last > 0 && sym[last - 1] == RTCP_TWCC_NOT_RECEIVED)
        last--;
    if (last > 0)
        n = last;
    size_t body = (n + 6) / 7 * 2;
    for (size_t i = 0; i < n; i++)
        body += sym[i] == RTCP_TWCC_SMALL_DELTA ? 1 : sym[i] == RTCP_TWCC_LARGE_DELTA ? 2 : 0;
    size_t len = 20 + body, pad = (4 - len % 4) % 4;
    if (len + pad > cap)
        return -ENOBUFS;
    out[0] = (uint8_t)(0x80 | (pad ? 0x20 : 0) | RTCP_FMT_TWCC); /* padded as Chromium pads: P bit, count last */
    out[1] = RTCP_RTPFB;
    wire_wr16(out + 2, (uint16_t)((len + pad) / 4 - 1));
    wire_wr32(out + 4, sender_ssrc);
    wire_wr32(out + 8, media_ssrc);
    wire_wr16(out + 12, (uint16_t)rx->base);
    wire_wr16(out + 14, (uint16_t)n);
    wire_wr24(out + 16, ref);
    out[19] = rx->fb_count++;
    put_body(out + 20, n, sym, delta);
    if (pad) {
        memset(out + len, 0, pad - 1);
        out[len + pad - 1] = (uint8_t)pad;
    }
    rx->base += n;
    rx->last_fb_ms = now_ms;
    return (int)(len + pad);
}
