/*
 * fuzz_sfu_router — libFuzzer target for what an SFU room does with
 * unprotected packets from its members (src/sfu/room.c).
 *
 * A room of two: alice publishes audio SSRC 1000 and video SSRC 2000, bob
 * has been offered them. The first input byte picks the path (RTP from
 * alice, RTCP from bob, RTCP from alice), the rest is the packet, in a heap
 * block of exactly its size. Besides "no crash" it checks: RTP from alice
 * is forwarded as the input byte for byte (her SSRCs collide with nobody)
 * and only ever to bob, who gets retransmissions from the cache only when
 * he sent RTCP; feedback (PLI, NACK, our receiver reports) only ever goes
 * to alice, as well-framed RTCP; sender reports only to bob; no callback
 * gets a packet without room for the SRTP trailer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/room.h"
#include "sfu/rtcp.h"
#include "sfu/srtp.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static uint8_t scratch[1500 + SFU_SRTP_TRAILER_MAX];
static struct sfu_room_stats stats;
static const uint8_t *input;
static size_t input_len;
static int path;
static const char ALICE = 'a', BOB = 'b';

static void send_rtp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    CHECK(ud == &BOB && cap >= len + SFU_SRTP_TRAILER_MAX);
    /* Forwarded as it came, but for the sequence number and timestamp: the
     * rewriter continues them when the publisher's numbering restarts. */
    if (path == 0)
        CHECK(len == input_len && len >= 12 && memcmp(pkt, input, 2) == 0 &&
              memcmp(pkt + 8, input + 8, len - 8) == 0);
    else
        CHECK(path == 1); /* a retransmission for bob's NACK */
}

static void send_rtcp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    CHECK(ud == &ALICE && cap >= len + SFU_SRTP_TRAILER_MAX && rtcp_validate(pkt, len) == 0);
    CHECK(pkt[1] == RTCP_PSFB || pkt[1] == RTCP_RTPFB || pkt[1] == RTCP_RR);
}

static void send_sub_rtcp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    CHECK(ud == &BOB && path == 2 && cap >= len + SFU_SRTP_TRAILER_MAX && pkt[1] == RTCP_SR);
}

static void track(struct sdp *o, struct sdp *a, size_t i, enum sdp_kind kind, uint32_t ssrc)
{
    o->media[i].kind = a->media[i].kind = kind;
    o->media[i].ssrcs[0].ssrc = ssrc;
    o->media[i].nssrcs = 1;
    a->media[i].port = 9;
    a->media[i].dir = SDP_RECVONLY;
    a->media[i].ncodecs = 1;
}

static struct sfu_room *room(struct sfu_member **alice, struct sfu_member **bob)
{
    static const struct sfu_room_ops ops = { .send_rtp = send_rtp, .send_rtcp = send_rtcp, .send_sub_rtcp = send_sub_rtcp };
    struct sfu_room *r = sfu_room_new(&ops, scratch, sizeof(scratch), &stats);
    *alice = sfu_room_join(r, "alice", (void *)&ALICE);
    *bob = sfu_room_join(r, "bob", (void *)&BOB);
    struct sdp *o = calloc(1, sizeof(*o)), *a = calloc(1, sizeof(*a));
    o->nmedia = a->nmedia = 2;
    track(o, a, 0, SDP_AUDIO, 1000);
    track(o, a, 1, SDP_VIDEO, 2000);
    CHECK(sfu_room_publish(r, *alice, o, a) == 2);
    CHECK(sfu_room_offer(r, *bob, o) == 2);
    free(o);
    free(a);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sfu_room *r;
    static struct sfu_member *alice, *bob;
    static uint64_t now;
    if (!r)
        r = room(&alice, &bob);
    if (size < 1 || size > 1501)
        return 0;
    uint8_t *pkt = malloc(size - 1);
    memcpy(pkt, data + 1, size - 1);
    input = pkt;
    input_len = size - 1;
    now += 100;
    path = data[0] % 3;
    switch (path) {
    case 0:
        sfu_room_rtp(r, alice, pkt, size - 1, now);
        break;
    case 1:
        sfu_room_rtcp(r, bob, pkt, size - 1, now);
        break;
    default:
        sfu_room_rtcp(r, alice, pkt, size - 1, now);
        break;
    }
    free(pkt);
    return 0;
}
