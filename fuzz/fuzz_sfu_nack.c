/*
 * fuzz_sfu_nack — libFuzzer target for the router's feedback paths
 * (src/sfu/room_media.c): the packet cache behind NACKs, RTX both ways,
 * upstream NACKs, sender reports and receiver reports.
 *
 * A room of three: alice publishes audio SSRC 1000 and video SSRC 2000
 * with RTX SSRC 2001 (payload types 96, RTX 97); bob's answer accepted
 * RTX, carol's did not. The input is a list of commands, each a byte
 * (what: RTP from alice, RTCP from bob, from carol, from alice, or time
 * passing), a length byte and that many bytes. Besides "no crash" it
 * checks: media reaches only bob and carol, with room for the SRTP
 * trailer, as the video or audio SSRC (and bob also as the RTX SSRC,
 * carol never); alice gets only well-framed feedback; the subscribers'
 * RTCP is only sender reports about alice's SSRCs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/room.h"
#include "sfu/rtcp.h"
#include "sfu/srtp.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static uint8_t scratch[1500 + SFU_SRTP_TRAILER_MAX];
static struct sfu_room_stats stats;
static const char ALICE = 'a', BOB = 'b', CAROL = 'c';

static uint32_t be32at(const uint8_t *p, size_t off)
{
    return (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 | p[off + 3];
}

static void send_rtp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    CHECK((ud == &BOB || ud == &CAROL) && len >= 12 && cap >= len + SFU_SRTP_TRAILER_MAX);
    uint32_t s = be32at(pkt, 8);
    CHECK(s == 1000 || s == 2000 || (s == 2001 && ud == &BOB));
}

static void send_rtcp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    CHECK(ud == &ALICE && cap >= len + SFU_SRTP_TRAILER_MAX && rtcp_validate(pkt, len) == 0);
}

static void send_sub_rtcp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    CHECK((ud == &BOB || ud == &CAROL) && cap >= len + SFU_SRTP_TRAILER_MAX && pkt[1] == RTCP_SR);
    CHECK(len >= 8 && (be32at(pkt, 4) == 1000 || be32at(pkt, 4) == 2000));
}

static void media(struct sdp *o, struct sdp *a, size_t i, enum sdp_kind kind, uint32_t ssrc)
{
    struct sdp_media *om = &o->media[i], *am = &a->media[i];
    om->kind = am->kind = kind;
    snprintf(om->mid, sizeof(om->mid), "%zu", i);
    om->ssrcs[0].ssrc = ssrc;
    om->nssrcs = 1;
    am->port = 9;
    am->dir = SDP_RECVONLY;
    am->codecs[0] = (struct sdp_codec){ .pt = kind == SDP_VIDEO ? 96 : 111, .clock = kind == SDP_VIDEO ? 90000 : 48000,
                                        .fb = SDP_FB_NACK, .apt = -1 };
    snprintf(am->codecs[0].name, sizeof(am->codecs[0].name), "%s", kind == SDP_VIDEO ? "VP8" : "opus");
    am->ncodecs = 1;
}

static void subscribe(struct sfu_room *r, struct sfu_member *m, struct sdp *d, int rtx)
{
    CHECK(sfu_room_offer(r, m, d) == 2);
    for (size_t i = 0; i < d->nmedia; i++)
        if (!rtx && d->media[i].ncodecs > 1)
            d->media[i].ncodecs = 1;
    sfu_room_answered(r, m, d);
}

static struct sfu_room *room(struct sfu_member **alice, struct sfu_member **bob, struct sfu_member **carol)
{
    static const struct sfu_room_ops ops = { .send_rtp = send_rtp, .send_rtcp = send_rtcp, .send_sub_rtcp = send_sub_rtcp };
    struct sfu_room *r = sfu_room_new(&ops, scratch, sizeof(scratch), &stats);
    *alice = sfu_room_join(r, "alice", (void *)&ALICE);
    *bob = sfu_room_join(r, "bob", (void *)&BOB);
    *carol = sfu_room_join(r, "carol", (void *)&CAROL);
    struct sdp *o = calloc(1, sizeof(*o)), *a = calloc(1, sizeof(*a));
    o->nmedia = a->nmedia = 2;
    media(o, a, 0, SDP_AUDIO, 1000);
    media(o, a, 1, SDP_VIDEO, 2000);
    o->media[1].fid[0] = 2000;
    o->media[1].fid[1] = 2001;
    a->media[1].codecs[1] = (struct sdp_codec){ .pt = 97, .name = "rtx", .clock = 90000, .apt = 96 };
    a->media[1].ncodecs = 2;
    CHECK(sfu_room_publish(r, *alice, o, a) == 2);
    subscribe(r, *bob, o, 1);
    subscribe(r, *carol, o, 0);
    free(o);
    free(a);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sfu_member *alice, *bob, *carol;
    struct sfu_room *r = room(&alice, &bob, &carol);
    uint64_t now = 1000;
    while (size >= 2) {
        uint8_t what = data[0] % 5;
        size_t len = data[1];
        data += 2, size -= 2;
        if (len > size)
            len = size;
        uint8_t *pkt = malloc(len ? len : 1);
        memcpy(pkt, data, len);
        if (what == 0)
            sfu_room_rtp(r, alice, pkt, len, now);
        else if (what == 1)
            sfu_room_rtcp(r, bob, pkt, len, now);
        else if (what == 2)
            sfu_room_rtcp(r, carol, pkt, len, now);
        else if (what == 3)
            sfu_room_rtcp_pub(r, alice, pkt, len, now);
        else
            now += len * 16u;
        free(pkt);
        data += len, size -= len;
        now += 1;
    }
    sfu_room_free(r);
    return 0;
}
