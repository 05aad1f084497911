/*
 * fuzz_sfu_rtp — libFuzzer target for RTP parsing (src/sfu/rtp.c).
 *
 * The input is one RTP packet in a heap block of exactly its size, so
 * AddressSanitizer catches a read past the end. Besides "no crash" it
 * checks what the forwarding path relies on:
 *  - header, CSRCs, extension, payload and padding tile the packet;
 *  - every indexed element lies inside the extension block;
 *  - the readers answer 0, -ENOENT, -EINVAL or -ENOSPC, and text is printable;
 *  - rewriting SSRC, sequence, timestamp and the 2/3-byte elements of a copy
 *    parses back to the same layout with the new values.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/rtp.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void check_layout(const struct rtp_hdr *h, size_t size)
{
    CHECK(h->payload_off + h->payload_len + h->pad_len == size);
    CHECK(h->payload_off >= RTP_HEADER_LEN + 4u * h->cc);
    CHECK(h->nexts <= RTP_MAX_EXT);
    if (!h->extension)
        CHECK(h->ext_form == RTP_EXT_NONE && h->nexts == 0);
    for (size_t i = 0; i < h->nexts; i++) {
        const struct rtp_ext *e = &h->exts[i];
        CHECK(e->id != 0);
        CHECK(e->off >= h->ext_off && e->off + e->len <= h->ext_off + h->ext_len);
        if (h->ext_form == RTP_EXT_FORM_ONE)
            CHECK(e->id < 15 && e->len >= 1 && e->len <= 16);
    }
}

static void check_readers(const struct rtp_hdr *h)
{
    for (unsigned id = 1; id < 256; id++) {
        char s[RTP_STR_MAX + 1];
        int rc = rtp_ext_string(h, (uint8_t)id, s, sizeof(s));
        CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL);
        if (rc == 0)
            for (size_t i = 0; s[i]; i++)
                CHECK(s[i] > 0x20 && s[i] < 0x7f);
        uint32_t abs;
        uint16_t tseq;
        uint8_t level;
        int voice;
        rc = rtp_ext_abs_send_time(h, (uint8_t)id, &abs);
        CHECK(rc == -ENOENT || rc == -EINVAL || (rc == 0 && abs <= 0xFFFFFF));
        rc = rtp_ext_transport_seq(h, (uint8_t)id, &tseq);
        CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL);
        rc = rtp_ext_audio_level(h, (uint8_t)id, &level, &voice);
        CHECK(rc == -ENOENT || rc == -EINVAL || (rc == 0 && level < 128 && (voice == 0 || voice == 1)));
    }
}

static void check_rewrite(const struct rtp_hdr *h, size_t size)
{
    uint8_t *copy = malloc(size);
    memcpy(copy, h->buf, size);
    rtp_write_ssrc(copy, ~h->ssrc);
    rtp_write_seq(copy, (uint16_t)(h->seq + 1));
    rtp_write_ts(copy, h->ts + 3000);
    for (size_t i = 0; i < h->nexts; i++) {
        if (h->exts[i].len == 2)
            CHECK(rtp_write_transport_seq(copy, &h->exts[i], 0xbeef) == 0);
        if (h->exts[i].len == 3)
            CHECK(rtp_write_abs_send_time(copy, &h->exts[i], 0x123456) == 0);
    }
    struct rtp_hdr c;
    CHECK(rtp_parse(copy, size, &c) == RTP_OK);
    CHECK(c.ssrc == ~h->ssrc && c.seq == (uint16_t)(h->seq + 1) && c.ts == h->ts + 3000);
    CHECK(c.nexts == h->nexts && c.payload_off == h->payload_off && c.payload_len == h->payload_len);
    for (size_t i = 0; i < c.nexts; i++)
        CHECK(c.exts[i].id == h->exts[i].id && c.exts[i].off == h->exts[i].off);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct rtp_hdr h;
    enum rtp_status st = rtp_parse(buf, size, &h);
    CHECK(st <= RTP_BAD_EXT);
    CHECK(rtp_strerror(st) != NULL);
    if (st == RTP_OK) {
        CHECK(h.buf == buf && h.len == size);
        check_layout(&h, size);
        check_readers(&h);
        check_rewrite(&h, size);
    }
    (void)rtp_is_rtcp(buf, size);
    free(buf);
    return 0;
}
