/*
 * test_sfu_room_util — helpers shared by the router's unit tests
 * (test_sfu_room, test_sfu_room_bwe, test_sfu_simulcast, test_sfu_badinput):
 * a member that publishes audio and video (the offer and our answer built
 * field by field, as sdp_parse() and sdp_answer() would leave them), a
 * subscriber's answer to its offer, plain RTP packets and a NACK.
 * Include it after <cmocka.h>.
 */
#ifndef TINCAN_TEST_SFU_ROOM_UTIL_H
#define TINCAN_TEST_SFU_ROOM_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "sfu/room.h"
#include "sfu/rtcp.h"
#include "sfu/sdp.h"
#include "sfu/wire.h"

/* What a publisher offers and our answer takes, for room_publish(). */
enum {
    PUB_FID = 1,    /* the video's RTX SSRC, video + 1, in an FID group */
    PUB_NACK = 2,   /* the answer takes nack and pli on VP8, and RTX (payload type 97) */
    PUB_LEVEL = 4,  /* the answer takes the audio level extension as id 1 */
    PUB_SCREEN = 8, /* a second video, SSRC video + 1000, msid track "scr" */
};

/* m-section i of a publisher's offer o and our answer a: audio (opus 111,
 * SSRC audio), video (VP8 96, SSRC video, msid track "cam") or the screen. */
static inline void pub_media(struct sdp_media *om, struct sdp_media *am, int i, uint32_t audio, uint32_t video)
{
    om->kind = am->kind = i ? SDP_VIDEO : SDP_AUDIO;
    snprintf(om->mid, sizeof(om->mid), "%d", i);
    if (i)
        strcpy(om->msid_track, i == 2 ? "scr" : "cam");
    om->ssrcs[0] = (struct sdp_ssrc){ .ssrc = i == 2 ? video + 1000 : i ? video : audio, .cname = "cn" };
    om->nssrcs = 1;
    am->port = 9;
    am->dir = SDP_RECVONLY;
    am->ncodecs = 1;
    am->codecs[0] = (struct sdp_codec){ .pt = (uint8_t)(i ? 96 : 111), .clock = i ? 90000 : 48000, .apt = -1 };
    strcpy(am->codecs[0].name, i ? "VP8" : "opus");
}

/* m publishes audio and video (and what flags add); asserts that the room
 * took every m-section. */
static inline void room_publish(struct sfu_room *r, struct sfu_member *m, uint32_t audio, uint32_t video,
                                unsigned flags)
{
    struct sdp *o = xcalloc(1, sizeof(*o)), *a = xcalloc(1, sizeof(*a));
    o->nmedia = a->nmedia = flags & PUB_SCREEN ? 3 : 2;
    for (int i = 0; i < (int)o->nmedia; i++)
        pub_media(&o->media[i], &a->media[i], i, audio, video);
    struct sdp_media *ov = &o->media[1], *av = &a->media[1];
    if (flags & PUB_FID) {
        ov->ssrcs[1] = (struct sdp_ssrc){ .ssrc = video + 1, .cname = "cn" };
        ov->nssrcs = 2;
        ov->fid[0] = video;
        ov->fid[1] = video + 1;
    }
    if (flags & PUB_NACK) {
        av->codecs[0].fb = SDP_FB_NACK | SDP_FB_PLI;
        av->codecs[1] = (struct sdp_codec){ .pt = 97, .name = "rtx", .clock = 90000, .apt = 96 };
        av->ncodecs = 2;
    }
    if (flags & PUB_LEVEL) {
        a->media[0].extmaps[0] = (struct sdp_extmap){ .id = 1, .uri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level" };
        a->media[0].nextmaps = 1;
    }
    assert_int_equal(sfu_room_publish(r, m, o, a), (int)o->nmedia);
    xfree(o);
    xfree(a);
}

/* m publishes audio alone, SSRC audio. */
static inline void room_publish_audio(struct sfu_room *r, struct sfu_member *m, uint32_t audio)
{
    struct sdp *o = xcalloc(1, sizeof(*o)), *a = xcalloc(1, sizeof(*a));
    o->nmedia = a->nmedia = 1;
    pub_media(&o->media[0], &a->media[0], 0, audio, 0);
    assert_int_equal(sfu_room_publish(r, m, o, a), 1);
    xfree(o);
    xfree(a);
}

/* What a subscriber's answer takes of our offer, for room_answer(). */
enum {
    SUB_RTX = 1, /* RTX (else only each m-section's first codec) */
    SUB_EXT = 2, /* our header extensions (else none: packets leave as they came) */
};

/* m's answer to its offer d: every m-section recvonly. */
static inline void room_answer(struct sfu_room *r, struct sfu_member *m, const struct sdp *d, unsigned flags)
{
    struct sdp *a = xcalloc(1, sizeof(*a));
    *a = *d;
    for (size_t i = 0; i < a->nmedia; i++) {
        a->media[i].dir = SDP_RECVONLY;
        if (!(flags & SUB_EXT))
            a->media[i].nextmaps = 0;
        if (!(flags & SUB_RTX) && a->media[i].ncodecs > 1)
            a->media[i].ncodecs = 1;
    }
    sfu_room_answered(r, m, a);
    xfree(a);
}

/* The room offers m what there is, and m answers. */
static inline void room_subscribe(struct sfu_room *r, struct sfu_member *m, unsigned flags)
{
    struct sdp *d = xcalloc(1, sizeof(*d));
    sfu_room_offer(r, m, d);
    room_answer(r, m, d, flags);
    xfree(d);
}

/* An RTP packet of len bytes, zeros after the 12-byte header. Returns len. */
static inline size_t rtp_pkt(uint8_t *buf, size_t len, uint8_t pt, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
    memset(buf, 0, len);
    buf[0] = 0x80;
    buf[1] = pt;
    wire_wr16(buf + 2, seq);
    wire_wr32(buf + 4, ts);
    wire_wr32(buf + 8, ssrc);
    return len;
}

/* A NACK from `from` for n packets of ssrc. */
static inline void room_nack(struct sfu_room *r, struct sfu_member *from, uint32_t ssrc, const uint16_t *seqs,
                             size_t n, uint64_t now)
{
    uint8_t buf[256];
    int len = rtcp_build_nack(buf, sizeof(buf), 9, ssrc, seqs, n);
    assert_true(len > 0);
    sfu_room_rtcp(r, from, buf, (size_t)len, now);
}

#endif
