/*
 * bench/srtp/protect.c — CPU time per SRTP protect and unprotect of a
 * 1,100-byte RTP packet through tincan's own SRTP module (src/sfu/srtp.c:
 * libsrtp2, with AES-GCM on OpenSSL where srtp_ossl.c registered it).
 *
 * An SFU protects every forwarded packet once per subscriber, each with
 * the subscriber's own outbound context, so the program keeps `contexts`
 * outbound contexts with `ssrcs` streams each and protects round-robin
 * over them, as fan-out does; then one inbound context unprotects packets
 * a sender context made. Prints the profile, the shape and µs of CPU time
 * (CLOCK_PROCESS_CPUTIME_ID) per call; it passes or fails nothing.
 *
 *   make srtpbench && build/rel/srtpbench [gcm|cm] [packets] [contexts] [ssrcs]
 *
 * Defaults: gcm, 400,000 packets, 100 contexts, 8 SSRCs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "sfu/srtp.h"

#define PKT_LEN 1100
#define MAX_CTX 4096

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An RTP header (V=2, PT 96) with the sequence number, timestamp and SSRC
 * over what buf held: the payload is filled once (fill_payload), and a
 * protected packet's ciphertext is as good a payload as any. */
static void set_header(uint8_t *p, uint16_t seq, uint32_t ssrc)
{
    p[0] = 0x80;
    p[1] = 96;
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    uint32_t ts = (uint32_t)seq * 3000u;
    for (int i = 0; i < 4; i++) {
        p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
}

static void fill_payload(uint8_t *p)
{
    for (int i = 12; i < PKT_LEN; i++)
        p[i] = (uint8_t)i;
}

static struct sfu_srtp *ctx_new(enum dtls_srtp_profile prof, enum sfu_srtp_dir dir, uint8_t seed)
{
    uint8_t key[16], salt[14];
    memset(key, seed, sizeof(key));
    memset(salt, (uint8_t)(seed ^ 0x5a), sizeof(salt));
    size_t salt_len = prof == DTLS_SRTP_AEAD_AES_128_GCM ? 12 : 14;
    return sfu_srtp_new(prof, key, 16, salt, salt_len, dir);
}

/* Protects n packets round-robin over nctx contexts and nssrc SSRCs;
 * returns µs of CPU per call, or -1 on a failure. */
static double bench_protect(enum dtls_srtp_profile prof, long n, int nctx, int nssrc)
{
    struct sfu_srtp **ctx = xcalloc((size_t)nctx, sizeof(*ctx));
    for (int i = 0; i < nctx; i++)
        ctx[i] = ctx_new(prof, SFU_SRTP_OUTBOUND, (uint8_t)(i + 1));
    uint8_t buf[PKT_LEN + SFU_SRTP_TRAILER_MAX];
    fill_payload(buf);
    double t0 = cpu_now(), r = 0;
    for (long i = 0; i < n; i++) {
        int s = (int)((i / nctx) % nssrc);
        set_header(buf, (uint16_t)(i / ((long)nctx * nssrc)), 0x1000u + (uint32_t)s);
        size_t len = PKT_LEN;
        if (sfu_srtp_protect(ctx[i % nctx], buf, &len, sizeof(buf)) != SFU_SRTP_OK) {
            r = -1;
            break;
        }
    }
    if (r == 0)
        r = (cpu_now() - t0) * 1e6 / (double)n;
    for (int i = 0; i < nctx; i++)
        sfu_srtp_free(ctx[i]);
    xfree(ctx);
    return r;
}

/* Unprotects n packets of one SSRC that a matching sender protected, in
 * batches of BATCH: the sender's protect is not timed. */
#define BATCH 256
static double bench_unprotect(enum dtls_srtp_profile prof, long n)
{
    struct sfu_srtp *tx = ctx_new(prof, SFU_SRTP_OUTBOUND, 7), *rx = ctx_new(prof, SFU_SRTP_INBOUND, 7);
    static uint8_t buf[BATCH][PKT_LEN + SFU_SRTP_TRAILER_MAX];
    size_t len[BATCH];
    double spent = 0, r = 0;
    for (long i = 0; i < n && r == 0; i += BATCH) {
        for (int k = 0; k < BATCH && r == 0; k++) {
            fill_payload(buf[k]);
            set_header(buf[k], (uint16_t)(i + k), 0x2000u);
            len[k] = PKT_LEN;
            if (sfu_srtp_protect(tx, buf[k], &len[k], sizeof(buf[k])) != SFU_SRTP_OK)
                r = -1;
        }
        double t0 = cpu_now();
        for (int k = 0; k < BATCH && r == 0; k++)
            if (sfu_srtp_unprotect(rx, buf[k], &len[k]) != SFU_SRTP_OK)
                r = -1;
        spent += cpu_now() - t0;
    }
    sfu_srtp_free(tx);
    sfu_srtp_free(rx);
    return r == 0 ? spent * 1e6 / (double)((n + BATCH - 1) / BATCH * BATCH) : -1;
}

int main(int argc, char **argv)
{
    int cm = argc > 1 && strcmp(argv[1], "cm") == 0;
    long n = argc > 2 ? atol(argv[2]) : 400000;
    int nctx = argc > 3 ? atoi(argv[3]) : 100, nssrc = argc > 4 ? atoi(argv[4]) : 8;
    if (n <= 0 || nctx <= 0 || nctx > MAX_CTX || nssrc <= 0 || nssrc > 256) {
        fprintf(stderr, "usage: %s [gcm|cm] [packets] [contexts 1..%d] [ssrcs 1..256]\n", argv[0], MAX_CTX);
        return 2;
    }
    enum dtls_srtp_profile prof = cm ? DTLS_SRTP_AES128_CM_SHA1_80 : DTLS_SRTP_AEAD_AES_128_GCM;
    double p = bench_protect(prof, n, nctx, nssrc), u = bench_unprotect(prof, n / 4);
    if (p < 0 || u < 0) {
        fprintf(stderr, "srtp failed\n");
        return 1;
    }
    printf("%s%s: protect %.3f us/pkt (%d contexts x %d ssrcs), unprotect %.3f us/pkt\n", cm ? "cm" : "gcm",
           !cm && sfu_srtp_gcm_openssl() ? " (openssl)" : "", p, nctx, nssrc, u);
    return 0;
}
