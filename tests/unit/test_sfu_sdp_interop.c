/*
 * test_sfu_sdp_interop — the SDP module (src/sfu/sdp.c, sdp_write.c)
 * against descriptions from engines other than Chromium: Firefox ESR 153
 * and aiortc 1.4 (test_sfu_sdp_interop_vectors.h, real output).
 *
 * Firefox writes the fingerprint at session level, sorts attributes by
 * name (a=fmtp before a=rtpmap, a=ssrc-group after a=ssrc), uses other
 * payload types (Opus 109, VP8 120 with RTX 124), adds direction suffixes
 * to extmaps (csrc-audio-level/recvonly, rid/sendonly) and writes
 * simulcast without a=ssrc-group:SIM. aiortc puts video first, gives each
 * With bundlePolicy max-bundle, Firefox offers all m-sections but the
 * first with port 0 and a=bundle-only. aiortc puts video first, gives each
 * m-section its own ICE ufrag in spite of BUNDLE, and its candidates after
 * the codecs. Each is parsed field by field and answered; the answer and
 * our subscriber offer (a=setup:actpass) are written and parsed back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sfu/sdp.h"
#include "test_sfu_sdp_interop_vectors.h"

static const char *const TWCC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
static const char *const AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
static const char *const MID = "urn:ietf:params:rtp-hdrext:sdes:mid";
static const char *const ABS_SEND = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
static const char *const RID = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
static const char ff_fp[] =
    "DB:A2:8A:F7:DE:4A:79:6B:14:64:C8:06:22:72:B3:86:0B:D2:E3:15:B6:33:07:26:A0:15:CC:AA:6F:84:A7:AF";
static const char aio_fp[] =
    "3A:49:91:63:3F:37:F0:F2:E2:30:4C:5A:30:63:D5:64:A8:18:CB:FD:27:64:DE:D7:A9:86:0F:BF:26:AB:73:42";

static struct sdp *parse_ok(const char *text)
{
    struct sdp *s = malloc(sizeof(*s));
    assert_int_equal(sdp_parse(text, strlen(text), s), 0);
    return s;
}

static struct sdp *answer_ok(const struct sdp *offer)
{
    struct sdp *a = malloc(sizeof(*a));
    assert_int_equal(sdp_answer(offer, NULL, 0, a), 0);
    return a;
}

/* Writes d with our side's values and parses it back; checks mids, codecs
 * and directions survive and a=setup is `setup`. */
static void round_trip(const struct sdp *d, enum sdp_setup setup)
{
    static const struct sdp_candidate cand = { "127.0.0.1", 443, 2130706431 };
    const struct sdp_local local = { .ice_ufrag = "Xk3q", .ice_pwd = "8cK0tB6Hq1zAq9pYx2W3mN4v", .fingerprint = ff_fp,
                                     .cands = &cand, .ncands = 1, .session_id = 7, .setup = setup };
    char *text = malloc(16384);
    int n = sdp_write(d, &local, text, 16384);
    assert_true(n > 0);
    assert_non_null(strstr(text, setup == SDP_SETUP_ACTPASS ? "a=setup:actpass\r\n" : "a=setup:passive\r\n"));
    struct sdp *back = parse_ok(text);
    assert_int_equal(back->nmedia, d->nmedia);
    for (size_t i = 0; i < d->nmedia; i++) {
        const struct sdp_media *m = &back->media[i], *w = &d->media[i];
        assert_string_equal(m->mid, w->mid);
        assert_int_equal(m->port != 0, w->port != 0);
        if (!w->port)
            continue;
        assert_int_equal(m->setup, setup == SDP_SETUP_ACTPASS ? SDP_SETUP_ACTPASS : SDP_SETUP_PASSIVE);
        assert_int_equal(m->dir, w->dir);
        assert_int_equal(m->ncodecs, w->ncodecs);
        for (size_t j = 0; j < m->ncodecs; j++)
            assert_int_equal(m->codecs[j].pt, w->codecs[j].pt);
    }
    free(back);
    free(text);
}

static void test_firefox_offer(void **state)
{
    (void)state;
    struct sdp *s = parse_ok(firefox_offer);
    assert_int_equal(s->nbundle, 2);
    assert_int_equal(s->nmedia, 2);
    for (size_t i = 0; i < 2; i++) { /* the session-level fingerprint reaches both */
        assert_string_equal(s->media[i].fp_hash, "sha-256");
        assert_string_equal(s->media[i].fp, ff_fp);
        assert_string_equal(s->media[i].ice_ufrag, "34cf0555");
        assert_int_equal(s->media[i].setup, SDP_SETUP_ACTPASS);
        assert_int_equal(s->media[i].dir, SDP_SENDONLY);
        assert_true(s->media[i].rtcp_mux);
    }
    const struct sdp_media *a = &s->media[0], *v = &s->media[1];
    assert_int_equal(a->kind, SDP_AUDIO);
    assert_int_equal(a->port, 38253);
    assert_int_equal(a->ncodecs, 5);
    const struct sdp_codec *opus = sdp_codec_by_pt(a, 109);
    assert_string_equal(opus->name, "opus"); /* its rtpmap came after its fmtp */
    assert_int_equal(opus->channels, 2);
    assert_string_equal(opus->fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
    assert_int_equal(opus->fb, SDP_FB_TRANSPORT_CC);
    assert_int_equal(sdp_codec_by_pt(a, 9)->channels, 1); /* "G722/8000/1" */
    assert_int_equal(sdp_extmap_id(a, AUDIO_LEVEL), 1);
    assert_int_equal(sdp_extmap_id(a, "urn:ietf:params:rtp-hdrext:csrc-audio-level"), 2); /* "2/recvonly" */
    assert_int_equal(sdp_extmap_id(a, TWCC), 7);
    assert_int_equal(a->nssrcs, 1);
    assert_int_equal(a->ssrcs[0].ssrc, 332764371u);
    assert_string_equal(a->ssrcs[0].cname, "{85b1cb09-78e8-4359-976e-21cf31248193}");
    assert_string_equal(a->msid_stream, "{5ffef267-3fa7-48b9-9f2b-1fe1b05f2273}");
    assert_string_equal(a->msid_track, "{cfe4f5a1-4f7d-47e6-aa96-57756091463c}");
    assert_int_equal(v->ncodecs, 9);
    const struct sdp_codec *vp8 = sdp_codec_by_pt(v, 120), *rtx = sdp_codec_by_pt(v, 124);
    assert_string_equal(vp8->name, "VP8");
    assert_string_equal(vp8->fmtp, "max-fs=12288;max-fr=60");
    assert_int_equal(vp8->fb, SDP_FB_NACK | SDP_FB_PLI | SDP_FB_FIR | SDP_FB_REMB | SDP_FB_TRANSPORT_CC);
    assert_int_equal(rtx->apt, 120); /* its fmtp came before its rtpmap */
    assert_string_equal(rtx->name, "rtx");
    assert_int_equal(sdp_codec_by_pt(v, 119)->apt, 122); /* RTX of RED */
    assert_int_equal(sdp_extmap_id(v, ABS_SEND), 4);
    assert_int_equal(v->fid[0], 3797202988u); /* a=ssrc-group after the a=ssrc lines */
    assert_int_equal(v->fid[1], 928736444u);
    assert_int_equal(v->nssrcs, 2);
    free(s);
}

static void test_firefox_answer_to_offer(void **state)
{
    (void)state;
    struct sdp *s = parse_ok(firefox_offer), *ans = answer_ok(s);
    assert_int_equal(ans->nbundle, 2);
    const struct sdp_media *a = &ans->media[0], *v = &ans->media[1];
    assert_int_equal(a->ncodecs, 1);
    assert_int_equal(a->codecs[0].pt, 109);
    assert_int_equal(a->codecs[0].fb, SDP_FB_TRANSPORT_CC); /* tincan sends publishers transport-cc feedback */
    assert_int_equal(a->dir, SDP_RECVONLY);
    assert_int_equal(sdp_extmap_id(a, AUDIO_LEVEL), 1);
    assert_int_equal(sdp_extmap_id(a, MID), 3);
    assert_int_equal(sdp_extmap_id(a, TWCC), 7);
    assert_int_equal(sdp_extmap_id(a, "urn:ietf:params:rtp-hdrext:csrc-audio-level"), 0);
    assert_int_equal(v->ncodecs, 2);
    assert_int_equal(v->codecs[0].pt, 120); /* VP8 */
    assert_int_equal(v->codecs[1].pt, 124); /* its RTX, not RED's 119 */
    assert_int_equal(sdp_extmap_id(v, ABS_SEND), 4);
    assert_int_equal(sdp_extmap_id(v, "urn:ietf:params:rtp-hdrext:toffset"), 0);
    round_trip(ans, SDP_SETUP_PASSIVE);
    free(ans);
    free(s);
}

static void test_firefox_simulcast(void **state)
{
    (void)state;
    struct sdp *s = parse_ok(firefox_simulcast_offer);
    const struct sdp_media *v = &s->media[1];
    assert_int_equal(v->nrids, 3);
    assert_string_equal(v->rids[0].id, "q");
    assert_string_equal(v->rids[1].id, "h");
    assert_string_equal(v->rids[2].id, "f");
    assert_true(v->rids[0].send && v->rids[2].send);
    assert_string_equal(v->simulcast, "send q;h;f");
    assert_int_equal(v->nssrcs, 6); /* a media and an RTX SSRC per layer */
    assert_int_equal(v->nsim, 0);   /* no a=ssrc-group:SIM */
    assert_int_equal(sdp_extmap_id(v, RID), 9); /* "9/sendonly" */
    struct sdp *ans = answer_ok(s);
    const struct sdp_media *av = &ans->media[1];
    assert_int_equal(av->nrids, 3);
    assert_false(av->rids[0].send);
    assert_string_equal(av->simulcast, "recv q;h;f");
    assert_int_equal(sdp_extmap_id(av, RID), 9);
    assert_int_equal(sdp_extmap_id(av, "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"), 10);
    round_trip(ans, SDP_SETUP_PASSIVE);
    free(ans);
    free(s);
}

/* With max-bundle Firefox offers the video with port 0 and a=bundle-only
 * (RFC 8843 §6): it is in BUNDLE, so it is answered, not rejected; a
 * bundle-only section outside the group, or port 0 without the flag, is. */
static void test_firefox_max_bundle(void **state)
{
    (void)state;
    struct sdp *s = parse_ok(firefox_max_bundle_offer);
    assert_int_equal(s->nbundle, 2);
    assert_int_equal(s->media[0].port, 9);
    assert_false(s->media[0].bundle_only);
    assert_int_equal(s->media[1].port, 0);
    assert_true(s->media[1].bundle_only);
    assert_string_equal(s->media[1].ice_ufrag, "de6581aa");
    struct sdp *ans = answer_ok(s);
    assert_int_equal(ans->nbundle, 2);
    assert_int_equal(ans->media[1].port, 9);
    assert_int_equal(ans->media[1].codecs[0].pt, 120);
    assert_int_equal(ans->media[1].dir, SDP_RECVONLY);
    round_trip(ans, SDP_SETUP_PASSIVE);
    s->nbundle = 1; /* the video's mid no longer in the group */
    assert_int_equal(sdp_answer(s, NULL, 0, ans), 0);
    assert_int_equal(ans->media[1].port, 0);
    s->nbundle = 2;
    s->media[1].bundle_only = 0;
    assert_int_equal(sdp_answer(s, NULL, 0, ans), 0);
    assert_int_equal(ans->media[1].port, 0);
    free(ans);
    free(s);
}

/* Firefox's answer to our subscriber offer: what sfu_signal reads from it. */
static void test_firefox_subscriber_answer(void **state)
{
    (void)state;
    struct sdp *s = parse_ok(firefox_answer);
    assert_int_equal(s->nmedia, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct sdp_media *m = &s->media[i];
        assert_int_equal(m->setup, SDP_SETUP_ACTIVE);
        assert_int_equal(m->dir, SDP_RECVONLY);
        assert_string_equal(m->ice_ufrag, "12a06baa");
        assert_string_equal(m->fp_hash, "sha-256");
        assert_true(strncmp(m->fp, "40:60:BF:93", 11) == 0);
    }
    assert_int_equal(s->media[0].codecs[0].pt, 109);
    assert_int_equal(s->media[1].codecs[0].pt, 120);
    assert_int_equal(s->media[1].codecs[0].fb, SDP_FB_PLI | SDP_FB_FIR);
    free(s);
}

static void test_aiortc_offer(void **state)
{
    (void)state;
    struct sdp *s = parse_ok(aiortc_offer);
    assert_int_equal(s->nbundle, 2);
    const struct sdp_media *v = &s->media[0], *a = &s->media[1];
    assert_int_equal(v->kind, SDP_VIDEO);
    assert_int_equal(a->kind, SDP_AUDIO);
    assert_string_equal(v->ice_ufrag, "LGk1"); /* one ufrag per m-section */
    assert_string_equal(a->ice_ufrag, "Wek7");
    assert_string_equal(v->fp, aio_fp);
    assert_int_equal(v->setup, SDP_SETUP_ACTPASS);
    assert_int_equal(v->fid[0], 3275333633u);
    assert_int_equal(v->fid[1], 4172539450u);
    assert_int_equal(sdp_codec_by_pt(v, 98)->apt, 97);
    assert_int_equal(sdp_codec_by_pt(v, 97)->fb, SDP_FB_NACK | SDP_FB_PLI | SDP_FB_REMB);
    struct sdp *ans = answer_ok(s);
    assert_int_equal(ans->media[0].codecs[0].pt, 97); /* VP8 */
    assert_int_equal(ans->media[0].codecs[1].pt, 98);
    assert_int_equal(ans->media[0].ncodecs, 2);
    assert_int_equal(ans->media[1].codecs[0].pt, 96); /* Opus */
    assert_int_equal(ans->media[1].ncodecs, 1);
    assert_int_equal(sdp_extmap_id(&ans->media[1], AUDIO_LEVEL), 2);
    assert_int_equal(sdp_extmap_id(&ans->media[0], ABS_SEND), 2);
    assert_int_equal(ans->media[0].dir, SDP_RECVONLY);
    round_trip(ans, SDP_SETUP_PASSIVE);
    free(ans);
    free(s);
}

static void test_aiortc_answer(void **state)
{
    (void)state;
    struct sdp *s = parse_ok(aiortc_answer);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(s->media[i].setup, SDP_SETUP_ACTIVE);
        assert_int_equal(s->media[i].dir, SDP_RECVONLY);
        assert_string_equal(s->media[i].ice_ufrag, "c889");
    }
    free(s);
}

/* Our subscriber offers say actpass (RFC 8842 §5.2: aiortc refuses an
 * offer that says anything else); answers stay passive. */
static void test_offer_says_actpass(void **state)
{
    (void)state;
    struct sdp *s = parse_ok(firefox_answer);
    for (size_t i = 0; i < s->nmedia; i++)
        s->media[i].dir = SDP_SENDONLY;
    memcpy(s->bundle[0], "0", 2);
    memcpy(s->bundle[1], "1", 2);
    round_trip(s, SDP_SETUP_ACTPASS);
    round_trip(s, SDP_SETUP_NONE); /* default: passive */
    free(s);
}

/* Several fingerprints: the first SHA-256 one is kept, else the last. */
static void test_fingerprints(void **state)
{
    (void)state;
    struct sdp *s = parse_ok("v=0\r\na=fingerprint:sha-256 AA:01\r\na=fingerprint:sha-512 BB:02\r\n"
                             "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n");
    assert_string_equal(s->media[0].fp_hash, "sha-256");
    assert_string_equal(s->media[0].fp, "AA:01");
    free(s);
    s = parse_ok("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
                 "a=fingerprint:sha-512 BB:02\r\na=fingerprint:SHA-256 AA:01\r\na=fingerprint:sha-384 CC:03\r\n");
    assert_string_equal(s->media[0].fp_hash, "SHA-256");
    assert_string_equal(s->media[0].fp, "AA:01");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_firefox_offer),
        cmocka_unit_test(test_firefox_answer_to_offer),
        cmocka_unit_test(test_firefox_simulcast),
        cmocka_unit_test(test_firefox_max_bundle),
        cmocka_unit_test(test_firefox_subscriber_answer),
        cmocka_unit_test(test_aiortc_offer),
        cmocka_unit_test(test_aiortc_answer),
        cmocka_unit_test(test_offer_says_actpass),
        cmocka_unit_test(test_fingerprints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
