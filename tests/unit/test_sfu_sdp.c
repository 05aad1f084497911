/*
 * test_sfu_sdp — parsing browser offers, choosing answers, writing SDP
 * (src/sfu/sdp.c, sdp_write.c).
 *
 * The offers are real (test_sfu_sdp_vectors.h: Chromium 156). Each is
 * parsed field by field; the answer picks VP8 with its RTX and the
 * extensions we use, mirrors directions, turns send rids into recv rids;
 * the written answer parses back to the same choices with our ICE-lite
 * credentials, fingerprint, setup:passive and candidates. Malformed and
 * over-capacity descriptions are refused with their line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "sfu/sdp.h"
#include "test_sfu_sdp_vectors.h"

static const char fp[] =
    "36:9E:7D:07:1F:CA:CC:E6:2B:CA:92:50:1A:9F:68:01:1F:64:12:90:EC:10:C7:3E:23:C0:CE:DB:A7:CD:F5:5D";
static const char *const TWCC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

static struct sdp *parse_ok(const char *text)
{
    struct sdp *s = malloc(sizeof(*s));
    assert_int_equal(sdp_parse(text, strlen(text), s), 0);
    return s;
}

static void test_chromium_offer(void **state)
{
    (void)state;
    struct sdp *s = parse_ok(chromium_offer);
    assert_int_equal(s->nbundle, 2);
    assert_string_equal(s->bundle[0], "0");
    assert_string_equal(s->bundle[1], "1");
    assert_int_equal(s->nmedia, 2);
    const struct sdp_media *a = &s->media[0], *v = &s->media[1];
    assert_int_equal(a->kind, SDP_AUDIO);
    assert_int_equal(a->port, 9);
    assert_string_equal(a->proto, "UDP/TLS/RTP/SAVPF");
    assert_string_equal(a->mid, "0");
    assert_int_equal(a->dir, SDP_SENDRECV);
    assert_string_equal(a->ice_ufrag, "45/x");
    assert_string_equal(a->ice_pwd, "vgdgqplCvuHp/wzzRboqSduK");
    assert_string_equal(a->fp_hash, "sha-256");
    assert_string_equal(a->fp, fp);
    assert_int_equal(a->setup, SDP_SETUP_ACTPASS);
    assert_true(a->rtcp_mux && a->rtcp_rsize);
    assert_int_equal(a->ncodecs, 8);
    const struct sdp_codec *opus = sdp_codec_by_pt(a, 111);
    assert_string_equal(opus->name, "opus");
    assert_int_equal(opus->clock, 48000);
    assert_int_equal(opus->channels, 2);
    assert_string_equal(opus->fmtp, "minptime=10;useinbandfec=1");
    assert_int_equal(opus->fb, SDP_FB_TRANSPORT_CC);
    assert_int_equal(sdp_extmap_id(a, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"), 1);
    assert_int_equal(sdp_extmap_id(a, TWCC), 3);
    assert_int_equal(a->nssrcs, 1);
    assert_int_equal(a->ssrcs[0].ssrc, 3133617717u);
    assert_string_equal(a->ssrcs[0].cname, "tsqTnOkx57JYR50V");
    assert_string_equal(a->msid_stream, "-");
    assert_string_equal(a->msid_track, "bacf01ec-728c-450c-a1fd-d9053ff584dc");
    assert_int_equal(v->kind, SDP_VIDEO);
    assert_int_equal(v->ncodecs, 23);
    const struct sdp_codec *vp8 = sdp_codec_by_pt(v, 96), *rtx = sdp_codec_by_pt(v, 97);
    assert_string_equal(vp8->name, "VP8");
    assert_int_equal(vp8->fb, SDP_FB_NACK | SDP_FB_PLI | SDP_FB_FIR | SDP_FB_REMB | SDP_FB_TRANSPORT_CC);
    assert_string_equal(rtx->name, "rtx");
    assert_int_equal(rtx->apt, 96);
    assert_int_equal(vp8->apt, -1);
    assert_int_equal(sdp_extmap_id(v, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"), 10);
    assert_int_equal(sdp_extmap_id(v, "urn:3gpp:video-orientation"), 13);
    assert_int_equal(sdp_extmap_id(v, "urn:nothing"), 0);
    assert_int_equal(v->fid[0], 2405006125u);
    assert_int_equal(v->fid[1], 1085112279u);
    assert_int_equal(v->nssrcs, 2);
    assert_false(s->ice_lite);
    free(s);
}

static void test_chromium_simulcast(void **state)
{
    (void)state;
    struct sdp *s = parse_ok(chromium_simulcast_offer);
    const struct sdp_media *v = &s->media[1];
    assert_int_equal(v->nrids, 3);
    assert_string_equal(v->rids[0].id, "q");
    assert_string_equal(v->rids[2].id, "f");
    assert_true(v->rids[1].send);
    assert_string_equal(v->simulcast, "send q;h;f");
    assert_int_equal(v->nssrcs, 0); /* rid-based simulcast: no a=ssrc lines */
    struct sdp *ans = malloc(sizeof(*ans));
    assert_int_equal(sdp_answer(s, NULL, 0, ans), 0);
    const struct sdp_media *av = &ans->media[1];
    assert_int_equal(av->nrids, 3);
    assert_false(av->rids[0].send);
    assert_string_equal(av->simulcast, "recv q;h;f");
    free(ans);
    free(s);
}

/* Moves the codec with payload type pt to the front of m's list, as
 * setCodecPreferences does to an offer. */
static void put_first(struct sdp_media *m, uint8_t pt)
{
    for (size_t i = 0; i < m->ncodecs; i++) {
        if (m->codecs[i].pt != pt)
            continue;
        struct sdp_codec c = m->codecs[i];
        memmove(&m->codecs[1], &m->codecs[0], i * sizeof(c));
        m->codecs[0] = c;
        return;
    }
    fail();
}

/* A single-layer video section (a screen share) gets the first of VP8,
 * VP9 and AV1 in the offer's order; H.264 first changes nothing; a
 * simulcast section keeps VP8 (its layer switches need VP8 key frames). */
static void test_answer_offer_order(void **state)
{
    (void)state;
    struct sdp *s = parse_ok(chromium_offer), *ans = malloc(sizeof(*ans));
    put_first(&s->media[1], 98); /* VP9 profile 0 */
    put_first(&s->media[1], 45); /* AV1 */
    assert_int_equal(sdp_answer(s, NULL, 0, ans), 0);
    assert_string_equal(ans->media[1].codecs[0].name, "AV1");
    assert_int_equal(ans->media[1].codecs[1].pt, 46); /* its RTX */
    put_first(&s->media[1], 98);
    assert_int_equal(sdp_answer(s, NULL, 0, ans), 0);
    assert_int_equal(ans->media[1].codecs[0].pt, 98);
    put_first(&s->media[1], 100); /* VP9 profile 2: not forwarded, the next one is taken */
    assert_int_equal(sdp_answer(s, NULL, 0, ans), 0);
    assert_int_equal(ans->media[1].codecs[0].pt, 98);
    put_first(&s->media[1], 102); /* H.264 */
    assert_int_equal(sdp_answer(s, NULL, 0, ans), 0);
    assert_int_equal(ans->media[1].codecs[0].pt, 98);
    static const char *const vp8[] = { "opus", "VP8" };
    assert_int_equal(sdp_answer(s, vp8, 2, ans), 0); /* a given preference rules */
    assert_string_equal(ans->media[1].codecs[0].name, "VP8");
    free(s);
    s = parse_ok(chromium_simulcast_offer);
    for (size_t i = 0; i < s->media[1].ncodecs; i++)
        if (strcasecmp(s->media[1].codecs[i].name, "VP9") == 0)
            put_first(&s->media[1], s->media[1].codecs[i].pt);
    assert_int_equal(sdp_answer(s, NULL, 0, ans), 0);
    assert_string_equal(ans->media[1].codecs[0].name, "VP8");
    free(ans);
    free(s);
}

static void test_answer(void **state)
{
    (void)state;
    struct sdp *s = parse_ok(chromium_offer), *ans = malloc(sizeof(*ans));
    assert_int_equal(sdp_answer(s, NULL, 0, ans), 0);
    assert_true(ans->ice_lite);
    assert_int_equal(ans->nbundle, 2);
    const struct sdp_media *a = &ans->media[0], *v = &ans->media[1];
    assert_int_equal(a->ncodecs, 1);
    assert_int_equal(a->codecs[0].pt, 111);
    assert_int_equal(v->ncodecs, 2);
    assert_int_equal(v->codecs[0].pt, 96); /* VP8 */
    assert_int_equal(v->codecs[1].pt, 97); /* its RTX */
    assert_int_equal(sdp_extmap_id(v, TWCC), 3); /* tincan sends publishers transport-cc feedback (twcc_rx.h) */
    assert_true(v->codecs[0].fb & SDP_FB_TRANSPORT_CC);
    assert_true(a->codecs[0].fb & SDP_FB_TRANSPORT_CC);
    assert_int_equal(sdp_extmap_id(v, "urn:ietf:params:rtp-hdrext:sdes:mid"), 4);
    assert_int_equal(sdp_extmap_id(v, "urn:3gpp:video-orientation"), 0); /* not one we use */
    assert_int_equal(v->dir, SDP_SENDRECV);
    /* preference order: H264 takes the packetization-mode=1 one */
    static const char *const h264[] = { "h264" };
    assert_int_equal(sdp_answer(s, h264, 1, ans), 0);
    assert_int_equal(ans->media[1].codecs[0].pt, 102);
    assert_int_equal(ans->media[1].codecs[1].pt, 103);
    assert_int_equal(ans->media[0].port, 0); /* no Opus on the list: audio rejected */
    assert_int_equal(ans->nbundle, 1);
    static const char *const none[] = { "G722" };
    assert_int_equal(sdp_answer(s, none, 1, ans), -EINVAL);
    /* a sendonly publisher gets recvonly */
    s->media[1].dir = SDP_SENDONLY;
    assert_int_equal(sdp_answer(s, NULL, 0, ans), 0);
    assert_int_equal(ans->media[1].dir, SDP_RECVONLY);
    free(ans);
    free(s);
}

static void test_write_round_trip(void **state)
{
    (void)state;
    struct sdp *s = parse_ok(chromium_simulcast_offer), *ans = malloc(sizeof(*ans)), *back = malloc(sizeof(*back));
    assert_int_equal(sdp_answer(s, NULL, 0, ans), 0);
    const struct sdp_candidate cands[] = { { "192.0.2.1", 443, 2130706431 }, { "2001:db8::1", 443, 2130706175 } };
    const struct sdp_local local = { .ice_ufrag = "Xk3q", .ice_pwd = "8cK0tB6Hq1zAq9pYx2W3mN4v", .fingerprint = fp,
                                     .cands = cands, .ncands = 2, .session_id = 42 };
    char text[8192];
    int n = sdp_write(ans, &local, text, sizeof(text));
    assert_true(n > 0 && (size_t)n == strlen(text));
    assert_non_null(strstr(text, "a=ice-lite\r\n"));
    assert_non_null(strstr(text, "a=setup:passive\r\n"));
    assert_non_null(strstr(text, "a=candidate:1 1 udp 2130706431 192.0.2.1 443 typ host\r\n"));
    assert_non_null(strstr(text, "a=candidate:2 1 udp 2130706175 2001:db8::1 443 typ host\r\n"));
    assert_non_null(strstr(text, "a=simulcast:recv q;h;f\r\n"));
    assert_int_equal(sdp_parse(text, (size_t)n, back), 0);
    assert_true(back->ice_lite);
    assert_int_equal(back->nmedia, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct sdp_media *m = &back->media[i], *w = &ans->media[i];
        assert_string_equal(m->mid, w->mid);
        assert_string_equal(m->ice_ufrag, "Xk3q");
        assert_string_equal(m->fp, fp);
        assert_int_equal(m->setup, SDP_SETUP_PASSIVE);
        assert_int_equal(m->dir, w->dir);
        assert_int_equal(m->ncodecs, w->ncodecs);
        assert_int_equal(m->nextmaps, w->nextmaps);
        for (size_t j = 0; j < m->ncodecs; j++) {
            assert_int_equal(m->codecs[j].pt, w->codecs[j].pt);
            assert_int_equal(m->codecs[j].fb, w->codecs[j].fb);
            assert_string_equal(m->codecs[j].fmtp, w->codecs[j].fmtp);
        }
    }
    assert_int_equal(sdp_write(ans, &local, text, 100), -ENOBUFS);
    free(back);
    free(ans);
    free(s);
}

static void expect_bad(const char *text, int rc, int line)
{
    struct sdp *s = malloc(sizeof(*s));
    assert_int_equal(sdp_parse(text, strlen(text), s), rc);
    assert_int_equal(s->err_line, line);
    free(s);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_bad("", -EINVAL, 1);
    expect_bad("v=1\r\n", -EINVAL, 1);
    expect_bad("v=0\r\nbogus\r\n", -EINVAL, 2);
    expect_bad("v=0\r\nm=audio x UDP/TLS/RTP/SAVPF 111\r\n", -EINVAL, 2);
    expect_bad("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 128\r\n", -EINVAL, 2);
    expect_bad("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus\r\n", -EINVAL, 3);
    expect_bad("v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:a\r\nm=audio 9 RTP/AVP 0\r\na=mid:a\r\n", -EINVAL, 5);
    expect_bad("v=0\r\na=setup:sideways\r\n", -EINVAL, 2);
    char many[2048] = "v=0\n";
    for (int i = 0; i <= SDP_MAX_MEDIA; i++)
        strcat(many, "m=audio 9 RTP/AVP 0\n");
    expect_bad(many, -E2BIG, SDP_MAX_MEDIA + 2);
    char longufrag[256] = "v=0\r\na=ice-ufrag:";
    memset(longufrag + strlen(longufrag), 'u', SDP_TOKEN_MAX);
    expect_bad(longufrag, -EINVAL, 2);
}

/* Session-level ICE and fingerprint lines (as Firefox writes them) reach
 * every m-section; LF line ends and an unterminated last line are fine. */
static void test_session_level_and_lf(void **state)
{
    (void)state;
    static const char text[] =
        "v=0\n"
        "a=fingerprint:sha-256 AA:BB\n"
        "a=ice-ufrag:sess\na=ice-pwd:sesspwdsesspwdsesspwd12\na=setup:actpass\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 109\n"
        "a=mid:0\na=sendonly\na=rtpmap:109 opus/48000/2\na=rtcp-fb:* nack\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
        "a=ice-ufrag:own\na=mid:1";
    struct sdp *s = parse_ok(text);
    assert_int_equal(s->nmedia, 2);
    assert_string_equal(s->media[0].fp, "AA:BB");
    assert_string_equal(s->media[0].ice_ufrag, "sess");
    assert_string_equal(s->media[1].ice_ufrag, "own");
    assert_string_equal(s->media[1].ice_pwd, "sesspwdsesspwdsesspwd12");
    assert_int_equal(s->media[0].setup, SDP_SETUP_ACTPASS);
    assert_int_equal(s->media[0].dir, SDP_SENDONLY);
    assert_int_equal(s->media[0].codecs[0].fb, SDP_FB_NACK);
    assert_int_equal(s->media[1].kind, SDP_APPLICATION);
    assert_int_equal(s->media[1].ncodecs, 0);
    assert_string_equal(s->media[1].mid, "1");
    struct sdp *ans = malloc(sizeof(*ans));
    assert_int_equal(sdp_answer(s, NULL, 0, ans), 0);
    assert_int_equal(ans->media[1].port, 0); /* data channels are not served yet */
    assert_int_equal(ans->nbundle, 1);
    free(ans);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chromium_offer),
        cmocka_unit_test(test_chromium_simulcast),
        cmocka_unit_test(test_answer),
        cmocka_unit_test(test_answer_offer_order),
        cmocka_unit_test(test_write_round_trip),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_session_level_and_lf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
