/*
 * test_sfu_sent — room callbacks that record what the router would have
 * sent (test_sfu_room, test_sfu_simulcast). A member's user data is a
 * char, its name; each packet is kept as sent[i]: to whom, which kind,
 * its length and its first SENT_KEEP bytes. Include it after <cmocka.h>.
 */
#ifndef TINCAN_TEST_SFU_SENT_H
#define TINCAN_TEST_SFU_SENT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sfu/room.h"
#include "sfu/srtp.h"

#define MAX_SENT 256
#define SENT_KEEP 128

struct sent {
    char to;  /* member name */
    int rtcp; /* 0: RTP to a subscriber, 1: RTCP to a publisher, 2: RTCP to a subscriber */
    uint8_t buf[SENT_KEEP];
    size_t len;
};

static struct sent sent[MAX_SENT];
static size_t nsent;

static inline void sent_record(void *ud, uint8_t *pkt, size_t len, size_t cap, int rtcp)
{
    assert_true(cap >= len + SFU_SRTP_TRAILER_MAX);
    assert_true(nsent < MAX_SENT);
    sent[nsent].to = *(const char *)ud;
    sent[nsent].rtcp = rtcp;
    sent[nsent].len = len;
    memcpy(sent[nsent].buf, pkt, len < SENT_KEEP ? len : SENT_KEEP);
    nsent++;
}

static inline void sent_rtp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    sent_record(ud, pkt, len, cap, 0);
}

static inline void sent_rtcp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    sent_record(ud, pkt, len, cap, 1);
}

static inline void sent_sub_rtcp(void *ud, uint8_t *pkt, size_t len, size_t cap)
{
    sent_record(ud, pkt, len, cap, 2);
}

static const struct sfu_room_ops sent_ops = { .send_rtp = sent_rtp, .send_rtcp = sent_rtcp,
                                              .send_sub_rtcp = sent_sub_rtcp };

/* How many packets of kind rtcp went to who. */
static inline size_t sent_to(char who, int rtcp)
{
    size_t n = 0;
    for (size_t i = 0; i < nsent; i++)
        n += sent[i].to == who && sent[i].rtcp == rtcp;
    return n;
}

/* The last packet of kind rtcp to who; fails the test if there is none. */
static inline const struct sent *last_to(char who, int rtcp)
{
    for (size_t i = nsent; i-- > 0;)
        if (sent[i].to == who && sent[i].rtcp == rtcp)
            return &sent[i];
    fail_msg("nothing sent to %c", who);
    return NULL;
}

#endif
