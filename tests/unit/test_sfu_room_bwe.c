/*
 * test_sfu_room_bwe — the router's bandwidth estimation, allocation and
 * active speaker (src/sfu/room_bwe.c) through the room's own calls: a
 * subscriber that took our extensions gets every packet with consecutive
 * transport-wide sequence numbers; its transport-cc feedback showing a
 * growing queue lowers its estimate to what its audio and video need, and
 * loss below that, until its video is paused; a REMB too low for the video pauses
 * the video but never the audio, and a higher one brings it back with a
 * key frame request; audio levels make an active speaker after the hold
 * time, and past last-N only recent speakers' video goes out; a screen
 * share keeps its video under a tight estimate while cameras are paused,
 * and last-N does not pause it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "sfu/room.h"
#include "sfu/rtcp.h"
#include "sfu/rtp.h"
#include "sfu/srtp.h"
#include "sfu/wire.h"
#include "test_sfu_room_util.h"

#define NMEMBERS 4

struct box {
    char name;
    size_t audio, video, plis;      /* packets it got as a subscriber; PLIs as a publisher */
    size_t from[NMEMBERS];          /* video packets it got of each member (video SSRC 2000 + i) */
    size_t screen[NMEMBERS];        /* screen share packets it got of each member (SSRC 3000 + i) */
    uint16_t seq[2];                /* its own audio and video numbering as a publisher */
    uint16_t tcc[256];
    uint64_t tcc_ms[256];
    size_t ntcc;
    uint64_t estimate;
    int speaker;                    /* times it was named the active speaker */
};

static struct box boxes[NMEMBERS];
static uint8_t scratch[1500 + SFU_SRTP_TRAILER_MAX];
static struct sfu_room_stats stats;
static uint64_t cur_ms;

static void send_rtp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    struct box *b = ud;
    struct rtp_hdr h;
    (void)cap;
    assert_int_equal(rtp_parse(pkt, len, &h), RTP_OK);
    if (h.pt == 111)
        b->audio++;
    else
        b->video++;
    if (h.pt == 96 && h.ssrc >= 2000 && h.ssrc < 2000 + NMEMBERS)
        b->from[h.ssrc - 2000]++;
    if (h.pt == 96 && h.ssrc >= 3000 && h.ssrc < 3000 + NMEMBERS)
        b->screen[h.ssrc - 3000]++;
    uint16_t seq;
    if (rtp_ext_transport_seq(&h, 3, &seq) == 0 && b->ntcc < 256) {
        b->tcc_ms[b->ntcc] = cur_ms;
        b->tcc[b->ntcc++] = seq;
    }
}

static void send_rtcp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)cap;
    (void)len;
    if (pkt[1] == RTCP_PSFB && (pkt[0] & 0x1F) == RTCP_FMT_PLI)
        ((struct box *)ud)->plis++;
}

static void send_sub_rtcp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)ud, (void)pkt, (void)len, (void)cap;
}

static void on_speaker(void *ud)
{
    ((struct box *)ud)->speaker++;
}

static void on_estimate(void *ud, uint64_t bps)
{
    ((struct box *)ud)->estimate = bps;
}

static const struct sfu_room_ops ops = { .send_rtp = send_rtp, .send_rtcp = send_rtcp,
                                         .send_sub_rtcp = send_sub_rtcp, .active_speaker = on_speaker,
                                         .estimate = on_estimate };

/* An RTP packet of len bytes; audio ones carry level dbov (id 1). */
static size_t pkt(uint8_t *buf, size_t len, uint32_t ssrc, uint16_t seq, int audio, uint8_t dbov)
{
    rtp_pkt(buf, len, audio ? 111 : 96, ssrc, seq, seq * 960u);
    if (audio) {
        buf[0] |= 0x10;
        wire_wr16(buf + 12, RTP_EXT_ONE_BYTE);
        wire_wr16(buf + 14, 1);
        buf[16] = 0x10;
        buf[17] = dbov;
    }
    return len;
}

/* 10 ms of media from member i (audio SSRC 1000 + i, video 2000 + i) at
 * now: a video packet of 1000 B (800 kbit/s) and every 20 ms an audio
 * packet of 100 B at level dbov. */
static void step(struct sfu_room *r, struct sfu_member *m, size_t i, uint64_t now, uint8_t dbov)
{
    uint8_t buf[1000];
    cur_ms = now;
    sfu_room_rtp(r, m, buf, pkt(buf, 1000, 2000 + (uint32_t)i, boxes[i].seq[1]++, 0, 0), now);
    if (now % 20 == 0)
        sfu_room_rtp(r, m, buf, pkt(buf, 100, 1000 + (uint32_t)i, boxes[i].seq[0]++, 1, dbov), now);
}

/* ms of media from member 0 alone. */
static void media(struct sfu_room *r, struct sfu_member *m, uint64_t *now, int ms)
{
    for (int t = 0; t < ms; t += 10) {
        *now += 10;
        step(r, m, 0, *now, 127);
    }
}

static struct sfu_room *room(struct sfu_member **m, size_t n)
{
    memset(boxes, 0, sizeof(boxes));
    memset(&stats, 0, sizeof(stats));
    struct sfu_room *r = sfu_room_new(&ops, scratch, sizeof(scratch), &stats);
    for (size_t i = 0; i < n; i++) {
        boxes[i].name = (char)('A' + i);
        char id[2] = { (char)('a' + i), 0 };
        m[i] = sfu_room_join(r, id, &boxes[i]);
    }
    return r;
}

/* transport-cc feedback about all of b's packets recorded: each received
 * at base + (sent - base) × slow (slow > 1: a link slower than what we
 * send, the queue grows), but the last `lost` of them lost. A run-length
 * chunk of large deltas, and one of losses. */
static size_t twcc_fb(uint8_t *buf, const struct box *b, uint64_t base_ms, double slow, uint8_t count, size_t lost)
{
    size_t n = b->ntcc - lost, len = 22 + (lost ? 2 : 0) + 2 * n;
    len += (4 - len % 4) % 4;
    memset(buf, 0, len);
    buf[0] = 0x80 | RTCP_FMT_TWCC;
    buf[1] = RTCP_RTPFB;
    wire_wr16(buf + 2, (uint16_t)(len / 4 - 1));
    wire_wr32(buf + 4, 0x1234);
    wire_wr32(buf + 8, 2000);
    wire_wr16(buf + 12, b->tcc[0]);
    wire_wr16(buf + 14, (uint16_t)(n + lost));
    int64_t at0 = (int64_t)(base_ms * 1000 + (double)(b->tcc_ms[0] - base_ms) * 1000 * slow);
    int64_t prev = at0 / 64000 * 64000;
    wire_wr24(buf + 16, (uint32_t)(at0 / 64000));
    buf[19] = count;
    wire_wr16(buf + 20, (uint16_t)(2u << 13 | n)); /* run-length: n × "received, large delta" */
    size_t off = 22;
    if (lost) {
        wire_wr16(buf + off, (uint16_t)lost); /* run-length: lost × "not received" */
        off += 2;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t at = (int64_t)(base_ms * 1000 + (double)(b->tcc_ms[i] - base_ms) * 1000 * slow);
        int16_t d = (int16_t)((at - prev) / 250);
        wire_wr16(buf + off + 2 * i, (uint16_t)d);
        prev += (int64_t)d * 250;
    }
    return len;
}

static void test_twcc(void **state)
{
    (void)state;
    struct sfu_member *m[2];
    struct sfu_room *r = room(m, 2);
    room_publish(r, m[0], 1000, 2000, PUB_LEVEL);
    room_subscribe(r, m[1], SUB_EXT);
    uint64_t now = 100000;
    uint8_t fb[1024];
    for (int round = 0; round < 30; round++) {
        boxes[1].ntcc = 0;
        media(r, m[0], &now, 100);
        /* Every packet to b carries the next transport-wide number (audio
         * at least: the video stops once the estimate falls under it). */
        assert_true(boxes[1].ntcc >= 5);
        for (size_t i = 1; i < boxes[1].ntcc; i++)
            assert_int_equal(boxes[1].tcc[i], (uint16_t)(boxes[1].tcc[0] + i));
        sfu_room_rtcp(r, m[1], fb, twcc_fb(fb, &boxes[1], 100000, 1.25, (uint8_t)round, 0), now);
    }
    assert_int_equal(stats.bad_rtcp, 0);
    assert_int_equal(stats.twcc_feedback, 30);
    /* From the 2.5 Mbit/s start down to what audio and the one video
     * need: delay alone pauses no video (bwe.h). */
    uint64_t est = sfu_room_estimate(m[1]);
    assert_true(est >= 840000 && est < 1000000);
    assert_true(boxes[1].estimate > 0 && boxes[1].estimate < 1500000); /* told to the member */
    assert_true(stats.est_count > 0);
    assert_int_equal(stats.bwe_paused - stats.bwe_resumed, 0);
    /* Half of every feedback lost: now the video goes, the audio stays. */
    for (int round = 30; round < 45; round++) {
        boxes[1].ntcc = 0;
        media(r, m[0], &now, 100);
        sfu_room_rtcp(r, m[1], fb, twcc_fb(fb, &boxes[1], 100000, 1.0, (uint8_t)round, boxes[1].ntcc / 2), now);
    }
    assert_true(sfu_room_estimate(m[1]) < 840000);
    assert_int_equal(stats.bwe_paused - stats.bwe_resumed, 1);
    size_t audio = boxes[1].audio, video = boxes[1].video;
    media(r, m[0], &now, 100);
    assert_int_equal(boxes[1].audio, audio + 5);
    assert_int_equal(boxes[1].video, video);
    sfu_room_free(r);
}

/* A REMB of bps from m. */
static void remb(struct sfu_room *r, struct sfu_member *m, uint64_t bps, uint64_t now)
{
    uint8_t buf[64];
    uint32_t ssrc = 2000;
    int len = rtcp_build_remb(buf, sizeof(buf), 0x1234, bps, &ssrc, 1);
    sfu_room_rtcp(r, m, buf, (size_t)len, now);
}

static void test_remb_pauses_video(void **state)
{
    (void)state;
    struct sfu_member *m[2];
    struct sfu_room *r = room(m, 2);
    room_publish(r, m[0], 1000, 2000, PUB_LEVEL);
    room_subscribe(r, m[1], 0);
    uint64_t now = 100000;
    media(r, m[0], &now, 1200); /* the tracks' bitrates are known */
    remb(r, m[1], 100000, now); /* 100 kbit/s: audio (40) fits, video (800) does not */
    assert_int_equal(stats.remb, 1);
    assert_int_equal(stats.bwe_paused, 1);
    size_t audio = boxes[1].audio, video = boxes[1].video, plis = boxes[0].plis;
    media(r, m[0], &now, 1000);
    assert_int_equal(boxes[1].audio, audio + 50); /* audio never stops */
    assert_int_equal(boxes[1].video, video);
    remb(r, m[1], 5000000, now);
    assert_int_equal(stats.bwe_resumed, 1);
    assert_int_equal(boxes[0].plis, plis + 1); /* the video comes back with a key frame */
    media(r, m[0], &now, 100);
    assert_int_equal(boxes[1].video, video + 10);
    sfu_room_free(r);
}

static void test_speaker_last_n(void **state)
{
    (void)state;
    struct sfu_member *m[NMEMBERS];
    struct sfu_room *r = room(m, NMEMBERS);
    sfu_room_set_last_n(r, 2);
    for (size_t i = 0; i < NMEMBERS; i++)
        room_publish(r, m[i], 1000 + (uint32_t)i, 2000 + (uint32_t)i, PUB_LEVEL);
    for (size_t i = 0; i < NMEMBERS; i++)
        room_subscribe(r, m[i], 0);
    uint64_t now = 100000;
    /* a speaks (-20 dBov), the others are silent: after the hold, a is the speaker. */
    for (int t = 0; t < 3000; t += 10) {
        now += 10;
        for (size_t i = 0; i < NMEMBERS; i++)
            step(r, m[i], i, now, i == 0 ? 20 : 127);
    }
    assert_int_equal(boxes[0].speaker, 1);
    assert_string_equal(sfu_room_speaker(r), "a");
    assert_int_equal(stats.speaker_changes, 1);
    /* Last-2 of 4: each member gets two of the three others' video. */
    assert_int_equal(stats.bwe_paused, NMEMBERS);
    /* Then c speaks: d now sees c and a, not b. */
    for (int t = 0; t < 4000; t += 10) {
        now += 10;
        for (size_t i = 0; i < NMEMBERS; i++)
            step(r, m[i], i, now, i == 2 ? 20 : 127);
    }
    assert_string_equal(sfu_room_speaker(r), "c");
    assert_int_equal(boxes[2].speaker, 1);
    size_t got[NMEMBERS];
    memcpy(got, boxes[3].from, sizeof(got));
    for (int t = 0; t < 200; t += 10) {
        now += 10;
        for (size_t i = 0; i < NMEMBERS; i++)
            step(r, m[i], i, now, i == 2 ? 20 : 127);
    }
    assert_int_equal(boxes[3].from[0], got[0] + 20);
    assert_int_equal(boxes[3].from[1], got[1]);
    assert_int_equal(boxes[3].from[2], got[2] + 20);
    sfu_room_free(r);
}

/* 10 ms of media from a (camera) and b (camera and screen share, each
 * 800 kbit/s), silent. */
static void share_step(struct sfu_room *r, struct sfu_member **m, uint64_t *now)
{
    uint8_t buf[1000];
    *now += 10;
    for (size_t i = 0; i < 2; i++)
        step(r, m[i], i, *now, 127);
    sfu_room_rtp(r, m[1], buf, pkt(buf, 1000, 3001, boxes[1].seq[1]++ + 20000, 0, 0), *now);
}

/* 100 ms of share_step, with c's counts of video and screen packets
 * starting from 0. */
static void share_100ms(struct sfu_room *r, struct sfu_member **m, uint64_t *now)
{
    memset(boxes[2].from, 0, sizeof(boxes[2].from));
    memset(boxes[2].screen, 0, sizeof(boxes[2].screen));
    for (int t = 0; t < 100; t += 10)
        share_step(r, m, now);
}

static void test_screen_first(void **state)
{
    (void)state;
    struct sfu_member *m[3];
    struct sfu_room *r = room(m, 3);
    sfu_room_set_last_n(r, 1);
    room_publish(r, m[0], 1000, 2000, PUB_LEVEL);
    room_publish(r, m[1], 1001, 2001, PUB_LEVEL | PUB_SCREEN);
    sfu_room_set_screen(r, m[1], "scr");
    room_subscribe(r, m[2], 0);
    uint64_t now = 100000;
    for (int t = 0; t < 1200; t += 10) /* the tracks' bitrates are known */
        share_step(r, m, &now);
    /* Plenty of room, last-1: c gets a's camera (a joined first) and b's
     * screen, which last-N does not pause, but not b's camera. */
    remb(r, m[2], 10000000, now);
    share_100ms(r, m, &now);
    assert_int_equal(boxes[2].from[0], 10);
    assert_int_equal(boxes[2].from[1], 0);
    assert_int_equal(boxes[2].screen[1], 10);
    /* 1.1 Mbit/s: two audios and one 800 kbit/s video fit, not two. The
     * screen keeps going; the camera, though first in the speaker order,
     * is paused. Audio goes on. */
    now += 600; /* past SFU_ROOM_ALLOC_MS */
    remb(r, m[2], 1100000, now);
    size_t audio = boxes[2].audio;
    share_100ms(r, m, &now);
    assert_int_equal(boxes[2].screen[1], 10);
    assert_int_equal(boxes[2].from[0], 0);
    assert_int_equal(boxes[2].from[1], 0);
    assert_int_equal(boxes[2].audio, audio + 10);
    /* The share ends (state says screen: null): the same track is a
     * camera like the others, and last-1 pauses it. */
    sfu_room_set_screen(r, m[1], "");
    now += 600;
    remb(r, m[2], 10000000, now);
    share_100ms(r, m, &now);
    assert_int_equal(boxes[2].from[0], 10);
    assert_int_equal(boxes[2].screen[1], 0);
    sfu_room_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twcc),
        cmocka_unit_test(test_remb_pauses_video),
        cmocka_unit_test(test_speaker_last_n),
        cmocka_unit_test(test_screen_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
