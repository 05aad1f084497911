/*
 * sdp_write — choosing the SFU's answer to an offer and writing
 * descriptions as text (see sdp.h).
 */
#include "sdp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The codecs we forward, with what makes an offered one acceptable. */
static const struct { enum sdp_kind kind; const char *name; uint32_t clock; } supported[] = {
    { SDP_AUDIO, "opus", 48000 }, { SDP_VIDEO, "VP8", 90000 }, { SDP_VIDEO, "VP9", 90000 },
    { SDP_VIDEO, "H264", 90000 }, { SDP_VIDEO, "AV1", 90000 },
};
static const char *const default_prefer[] = { "opus", "VP8", "VP9", "H264", "AV1" };

/* Header extensions the SFU reads or rewrites. transport-cc: tincan
 * sends the publisher transport-cc feedback (twcc_rx.h), from which its
 * browser estimates the way to us; our REMB (SFU_SIM_PUBLISH_BPS) caps
 * that estimate. (Negotiated without feedback, Chromium counts all it
 * sends as in flight and its congestion window pushes it down to the
 * lowest simulcast layer within a minute.) */
static const char *const our_extmaps[] = {
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
};

static int acceptable(const struct sdp_media *m, const struct sdp_codec *c, const char *name)
{
    if (strcasecmp(c->name, name) != 0)
        return 0;
    for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++) {
        if (supported[i].kind != m->kind || strcasecmp(supported[i].name, name) != 0 ||
            supported[i].clock != c->clock)
            continue;
        if (strcasecmp(name, "H264") == 0)
            return strstr(c->fmtp, "packetization-mode=1") != NULL;
        if (strcasecmp(name, "VP9") == 0)
            return !strstr(c->fmtp, "profile-id=") || strstr(c->fmtp, "profile-id=0");
        return 1;
    }
    return 0;
}

static const struct sdp_codec *choose(const struct sdp_media *m, const char *const *prefer, size_t nprefer)
{
    for (size_t i = 0; i < nprefer; i++)
        for (size_t j = 0; j < m->ncodecs; j++)
            if (acceptable(m, &m->codecs[j], prefer[i]))
                return &m->codecs[j];
    return NULL;
}

/* A video section without simulcast, under the default preference: the
 * first of VP8, VP9 and AV1 in the offer's own order, which is what the
 * browser's setCodecPreferences put first (a screen share asks for AV1,
 * then VP9). H.264 is not taken from the order (Safari lists it first for
 * cameras, and not every browser decodes it). Simulcast keeps the default
 * order: its layer switches wait for VP8 key frames. NULL: none offered. */
static const struct sdp_codec *choose_offered(const struct sdp_media *m)
{
    static const char *const own[] = { "VP8", "VP9", "AV1" };
    for (size_t i = 0; m->kind == SDP_VIDEO && i < m->nrids; i++)
        if (m->rids[i].send)
            return NULL;
    for (size_t j = 0; m->kind == SDP_VIDEO && j < m->ncodecs; j++)
        for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
            if (acceptable(m, &m->codecs[j], own[i]))
                return &m->codecs[j];
    return NULL;
}

static enum sdp_dir mirror(enum sdp_dir d)
{
    return d == SDP_SENDONLY ? SDP_RECVONLY : d == SDP_RECVONLY ? SDP_SENDONLY : d;
}

static void answer_extmaps(const struct sdp_media *o, struct sdp_media *a)
{
    for (size_t i = 0; i < o->nextmaps; i++)
        for (size_t j = 0; j < sizeof(our_extmaps) / sizeof(our_extmaps[0]); j++)
            if (strcmp(o->extmaps[i].uri, our_extmaps[j]) == 0 && !sdp_extmap_id(a, our_extmaps[j]))
                a->extmaps[a->nextmaps++] = o->extmaps[i]; /* the first id of a URI, as sdp_extmap_id() */
}

/* Offered send rids become recv rids; "send q;h;f" becomes "recv q;h;f". */
static void answer_simulcast(const struct sdp_media *o, struct sdp_media *a)
{
    for (size_t i = 0; i < o->nrids; i++) {
        if (!o->rids[i].send)
            continue;
        a->rids[a->nrids] = o->rids[i];
        a->rids[a->nrids++].send = 0;
    }
    if (a->nrids && strncmp(o->simulcast, "send ", 5) == 0)
        snprintf(a->simulcast, sizeof(a->simulcast), "recv %s", o->simulcast + 5);
}

/* Whether the offer's m-section o carries media: a port, or port 0 with
 * a=bundle-only inside the offer's BUNDLE group (RFC 8843 §6: it shares
 * the group's transport; Firefox offers so with max-bundle). */
static int offered(const struct sdp *offer, const struct sdp_media *o)
{
    if (o->port != 0)
        return 1;
    for (size_t i = 0; o->bundle_only && i < offer->nbundle; i++)
        if (strcmp(offer->bundle[i], o->mid) == 0)
            return 1;
    return 0;
}

/* The answer's m-section for offer section o; 0 accepted, -1 rejected. */
static int answer_media(const struct sdp *offer, const struct sdp_media *o, const char *const *prefer,
                        size_t nprefer, struct sdp_media *a)
{
    memset(a, 0, sizeof(*a));
    a->kind = o->kind;
    memcpy(a->mid, o->mid, sizeof(a->mid));
    memcpy(a->proto, o->proto, sizeof(a->proto));
    a->dir = SDP_INACTIVE;
    const struct sdp_codec *c = NULL;
    int rtp = (o->kind == SDP_AUDIO || o->kind == SDP_VIDEO) && strcmp(o->proto, "UDP/TLS/RTP/SAVPF") == 0;
    if (rtp && offered(offer, o) && o->mid[0] && prefer == default_prefer) /* JSEP: every m-section has a mid */
        c = choose_offered(o);
    if (!c && rtp && offered(offer, o) && o->mid[0])
        c = choose(o, prefer, nprefer);
    if (!c) {
        if (o->ncodecs) /* a rejected m-line still lists a format */
            a->codecs[a->ncodecs++] = o->codecs[0];
        return -1;
    }
    uint8_t fbs = SDP_FB_TRANSPORT_CC | (o->kind == SDP_VIDEO ? SDP_FB_NACK | SDP_FB_PLI | SDP_FB_FIR | SDP_FB_REMB : 0);
    a->codecs[a->ncodecs] = *c;
    a->codecs[a->ncodecs++].fb = c->fb & fbs;
    for (size_t i = 0; i < o->ncodecs; i++)
        if (strcasecmp(o->codecs[i].name, "rtx") == 0 && o->codecs[i].apt == c->pt)
            a->codecs[a->ncodecs++] = o->codecs[i];
    a->port = 9;
    a->dir = mirror(o->dir);
    a->rtcp_mux = 1;
    a->rtcp_rsize = o->rtcp_rsize;
    a->setup = SDP_SETUP_PASSIVE;
    answer_extmaps(o, a);
    answer_simulcast(o, a);
    return 0;
}

int sdp_answer(const struct sdp *offer, const char *const *prefer, size_t nprefer, struct sdp *answer)
{
    if (!prefer) {
        prefer = default_prefer;
        nprefer = sizeof(default_prefer) / sizeof(default_prefer[0]);
    }
    memset(answer, 0, sizeof(*answer));
    answer->ice_lite = 1;
    answer->nmedia = offer->nmedia;
    size_t accepted = 0;
    for (size_t i = 0; i < offer->nmedia; i++) {
        struct sdp_media *a = &answer->media[i];
        if (answer_media(offer, &offer->media[i], prefer, nprefer, a) != 0)
            continue;
        accepted++;
        memcpy(answer->bundle[answer->nbundle++], a->mid, SDP_TOKEN_MAX);
    }
    return accepted ? 0 : -EINVAL;
}

/* --- writing --- */

struct writer {
    char *buf;
    size_t cap, len;
    int overflow;
};

static void put(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct writer *w, const char *fmt, ...)
{
    if (w->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->buf + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len)
        w->overflow = 1;
    else
        w->len += (size_t)n;
}

static const char *kind_name(enum sdp_kind k)
{
    static const char *const names[] = { "audio", "video", "application", "unknown" };
    return names[k];
}

static void put_mline(struct writer *w, const struct sdp_media *m)
{
    put(w, "m=%s %u %s", kind_name(m->kind), m->port, m->proto);
    if (m->ncodecs == 0)
        put(w, " %s", strstr(m->proto, "SCTP") ? "webrtc-datachannel" : "0");
    for (size_t i = 0; i < m->ncodecs; i++)
        put(w, " %u", m->codecs[i].pt);
    put(w, "\r\nc=IN IP4 0.0.0.0\r\n");
}

static void put_codec(struct writer *w, const struct sdp_codec *c)
{
    static const char *const fbs[] = { "nack", "nack pli", "ccm fir", "goog-remb", "transport-cc" };
    put(w, "a=rtpmap:%u %s/%u", c->pt, c->name, c->clock);
    if (c->channels)
        put(w, "/%u", c->channels);
    put(w, "\r\n");
    for (int i = 0; i < 5; i++)
        if (c->fb & (1u << i))
            put(w, "a=rtcp-fb:%u %s\r\n", c->pt, fbs[i]);
    if (c->fmtp[0])
        put(w, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
}

static void put_transport(struct writer *w, const struct sdp_local *l)
{
    put(w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", l->ice_ufrag, l->ice_pwd);
    put(w, "a=fingerprint:sha-256 %s\r\na=setup:%s\r\n", l->fingerprint,
        l->setup == SDP_SETUP_ACTPASS ? "actpass" : "passive");
}

static void put_ssrcs(struct writer *w, const struct sdp_media *m)
{
    if (m->fid[0])
        put(w, "a=ssrc-group:FID %u %u\r\n", m->fid[0], m->fid[1]);
    if (m->nsim >= 2) {
        put(w, "a=ssrc-group:SIM");
        for (size_t i = 0; i < m->nsim; i++)
            put(w, " %u", m->sim[i]);
        put(w, "\r\n");
    }
    for (size_t i = 0; i < m->nssrcs; i++)
        put(w, "a=ssrc:%u cname:%s\r\n", m->ssrcs[i].ssrc, m->ssrcs[i].cname);
}

static void put_candidates(struct writer *w, const struct sdp_local *l)
{
    for (size_t i = 0; i < l->ncands; i++)
        put(w, "a=candidate:%zu 1 udp %u %s %u typ host\r\n", i + 1, l->cands[i].priority, l->cands[i].ip,
            l->cands[i].port);
    put(w, "a=end-of-candidates\r\n");
}

static void put_media(struct writer *w, const struct sdp_media *m, const struct sdp_local *l)
{
    static const char *const dirs[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
    put_mline(w, m);
    if (m->port == 0) {
        put(w, "a=mid:%s\r\na=inactive\r\n", m->mid);
        return;
    }
    put_transport(w, l);
    put(w, "a=mid:%s\r\n", m->mid);
    for (size_t i = 0; i < m->nextmaps; i++)
        put(w, "a=extmap:%u %s\r\n", m->extmaps[i].id, m->extmaps[i].uri);
    put(w, "a=%s\r\n", dirs[m->dir]);
    if (m->msid_track[0])
        put(w, "a=msid:%s %s\r\n", m->msid_stream[0] ? m->msid_stream : "-", m->msid_track);
    put(w, "%s%s", m->rtcp_mux ? "a=rtcp-mux\r\n" : "", m->rtcp_rsize ? "a=rtcp-rsize\r\n" : "");
    for (size_t i = 0; i < m->ncodecs; i++)
        put_codec(w, &m->codecs[i]);
    for (size_t i = 0; i < m->nrids; i++)
        put(w, "a=rid:%s %s\r\n", m->rids[i].id, m->rids[i].send ? "send" : "recv");
    if (m->simulcast[0])
        put(w, "a=simulcast:%s\r\n", m->simulcast);
    put_ssrcs(w, m);
    put_candidates(w, l);
}

int sdp_write(const struct sdp *d, const struct sdp_local *local, char *out, size_t cap)
{
    struct writer w = { .buf = out, .cap = cap };
    if (cap == 0)
        return -ENOBUFS;
    out[0] = '\0';
    put(&w, "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n",
        (unsigned long long)local->session_id);
    if (d->nbundle) {
        put(&w, "a=group:BUNDLE");
        for (size_t i = 0; i < d->nbundle; i++)
            put(&w, " %s", d->bundle[i]);
        put(&w, "\r\n");
    }
    put(&w, "a=msid-semantic: WMS\r\n");
    for (size_t i = 0; i < d->nmedia; i++)
        put_media(&w, &d->media[i], local);
    return w.overflow ? -ENOBUFS : (int)w.len;
}
