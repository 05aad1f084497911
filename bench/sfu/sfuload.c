/*
 * sfuload — the SFU load generator of bench/sfu: browsers played in C.
 *
 * One process holds many WebRTC transports, each on its own UDP socket:
 * publishers send synthetic VP8 video (30 frames/s, about 1 Mbit/s, key
 * frames at the start and on PLI/FIR) and Opus audio (50 packets/s) with
 * a sender report per track each second;
 * subscribers receive, decrypt and count what the server forwards (packets,
 * bytes, sequence gaps = loss, per SSRC) and send a receiver report each
 * second. It uses the project's own code
 * as the browser side: the DTLS client of src/sfu/dtls.c over memory BIOs,
 * SRTP through src/sfu/srtp.c (libsrtp2), STUN from src/stun (we are a
 * full ICE agent, controlling, nominating with USE-CANDIDATE at once, and
 * answering the server's own checks, which Janus's libnice sends),
 * src/sfu/sdp.c to read the server's descriptions, src/sfu/rtp.c and
 * src/sfu/rtcp.c to read what comes back.
 *
 * It does no signaling itself: a driver (bench/sfu/drive.mjs) talks to the
 * server and to this process through stdin/stdout, one JSON object a line:
 *   {"op":"pub","id":N}              → {"ev":"offer","id":N,"sdp":…}
 *   {"op":"answer","id":N,"sdp":…}   the server's answer to that offer
 *   {"op":"offer","id":N,"sdp":…}    → {"ev":"answer","id":N,"sdp":…}
 *                                      (a subscriber; again for a re-offer)
 *   {"op":"start"} / {"op":"stop"}   publishers start / stop sending
 *   {"op":"level","id":N,"level":L}  publisher N's audio level from now on
 *                                      (RFC 6464 -dBov, 0 loudest, 127
 *                                      silence; id 0: every publisher)
 *   {"op":"stats","detail":B}        → {"ev":"stats",…} counters so far
 *   {"op":"quit"} or end of input    exit
 * and it reports {"ev":"connected","id":N,"profile":"gcm"|"cm"} when a
 * transport's DTLS handshake completes, {"ev":"failed",…} when it fails.
 *
 * Options: --bind IPv4 (the sockets' address, also our candidate),
 * --srtp gcm|cm|both (the profiles our ClientHello offers), --verify N
 * (decrypt and authenticate one forwarded RTP packet in N per subscriber,
 * count the rest from their clear header: at hundreds of thousands of
 * packets a second the generator must cost less than the server; default 1,
 * every packet), --level L (the audio level every publisher starts with,
 * 127 = silence by default), --simulcast 1 (publishers send their video as
 * three VP8 layers, rid q/h/f: 320x180 ~0.15, 640x360 ~0.35 and 1280x720
 * ~1 Mbit/s, each with its own SSRC, key frames and picture IDs, the mid
 * and rid header extensions on every packet, as Chromium does), --fps N
 * (video frames per second, 30 by default; frames keep their size, so
 * the bitrate follows) and --ptime MS (audio per packet, 20 by default:
 * fewer, larger packets) — lighter streams, for more of them than one
 * generator CPU can send and receive at full rate.
 * Audio carries the ssrc-audio-level extension (RFC 6464) when the
 * server's answer took it.
 * Built by `make sfuload` into build/rel/sfuload.
 */
#include <errno.h>
#include <stdarg.h>
#include <strings.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "sfu/dtls.h"
#include "sfu/rtcp.h"
#include "sfu/rtp.h"
#include "sfu/sdp.h"
#include "sfu/srtp.h"
#include "stun/stun.h"
#include "sfu/ice_lite.h"

#define MAX_XPORTS 4096    /* transports in one process (100 rooms x 4 x 2 fit) */
#define MAX_RX 128           /* SSRCs counted per subscriber */
#define PKT_CAP 1600
#define RTP_PAYLOAD_MAX 1100 /* bytes of VP8 per packet, as browsers cut frames */
#define BATCH 32
#define AUDIO_PT 111
#define VIDEO_PT 96
#define KEY_FRAME_BYTES 16000
#define KEY_MIN_GAP_MS 500   /* key frames on PLI: at most one per this */
#define CHECK_FAST_MS 50     /* ICE checks until one succeeds */
#define CHECK_SLOW_MS 2500   /* then, as consent (RFC 7675) */
#define LAYERS 3             /* simulcast layers: q, h, f */
#define LEVEL_URI "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define MID_URI "urn:ietf:params:rtp-hdrext:sdes:mid"
#define RID_URI "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define LEVEL_ID 1           /* the ids we offer */
#define MID_ID 4
#define RID_ID 10

/* One video stream a publisher sends: the plain track, or a simulcast layer. */
struct vlayer {
    uint32_t ssrc;
    uint16_t seq, picid;
    uint32_t pkts, octets;
    uint64_t last_key;
    int want_key;
};

/* Per simulcast layer (lowest first): rid, key frame size, delta frame
 * size range, picture size in the key frame header. */
static const struct {
    const char *rid;
    unsigned key, delta, spread, w, h;
} LAYER[LAYERS] = {
    { "q", 2500, 450, 250, 320, 180 },
    { "h", 6000, 1100, 600, 640, 360 },
    { "f", 16000, 3200, 1600, 1280, 720 },
};

enum role { PUB, SUB };

struct rxtrack {
    uint32_t ssrc;
    int video;
    uint64_t recv, bytes;
    uint32_t first, max; /* extended sequence numbers */
    int started;
};

struct xport {
    int id, fd;
    enum role role;
    struct sockaddr_in remote;
    int have_remote;
    char ufrag[9], pwd[25], rufrag[SDP_TOKEN_MAX], rpwd[SDP_PWD_MAX];
    char rfp_hash[16], rfp[SDP_FP_MAX];
    uint64_t tiebreak, next_check;
    int ice_ok;
    struct dtls_session *dtls;
    struct sfu_srtp *tx, *rx;
    int connected, failed;
    /* publisher */
    uint32_t assrc;
    uint16_t aseq;
    uint32_t ats, vts;
    uint64_t next_audio, next_video, next_rtcp;
    uint64_t video_from; /* when frame 0 of the current run was due */
    uint32_t apkts, aoctets;
    int frames;
    struct vlayer v[LAYERS];
    int nv;                  /* 1, or LAYERS with simulcast */
    uint8_t level;           /* the audio level we send, -dBov */
    uint8_t level_id, mid_id, rid_id; /* extension ids the answer took, 0: none */
    /* subscriber */
    struct rxtrack rxt[MAX_RX];
    int nrx;
    uint32_t nin; /* RTP packets received, for --verify */
    char mids_answered[SDP_MAX_MEDIA][SDP_TOKEN_MAX];
};

static struct {
    struct dtls_server *dtls;
    struct in_addr bind;
    char bind_text[INET_ADDRSTRLEN];
    int ep, sending;
    struct xport *x[MAX_XPORTS];
    int nx;
    uint64_t pub_rtp, pub_bytes, pub_rtcp, sub_rtp, sub_bytes, sub_rtcp, plis, firs, nacks, remb, sr_rr;
    uint64_t auth_fail, bad, unknown_ssrc, stun_in, dtls_in;
    uint64_t frames, key_frames, rtcp_out;
    uint64_t unverified, behind;
    int kick;        /* run the timers now */
    unsigned verify; /* unprotect one RTP packet in this many per subscriber */
    int simulcast;   /* publishers send LAYERS layers */
    uint8_t level;   /* the level publishers start with */
    int fps;         /* video frames per second (30) */
    int ptime;       /* audio milliseconds per packet (20) */
} G;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void emit(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        free(s);
    }
    json_decref(o);
}

static void rand_token(char *out, size_t n)
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint8_t r[64];
    RAND_bytes(r, (int)n);
    for (size_t i = 0; i < n; i++)
        out[i] = abc[r[i] % (sizeof(abc) - 1)];
    out[n] = '\0';
}

static uint32_t rand32(void)
{
    uint32_t v;
    RAND_bytes((uint8_t *)&v, sizeof(v));
    return v;
}

/* Filler for payloads and sizes: xorshift32, no secret needed (one
 * RAND_bytes per payload byte was most of the generator's CPU). */
static uint32_t filler(void)
{
    static uint32_t state = 0x9E3779B9u;
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

/* --- transports --- */

static struct xport *find(int id)
{
    for (int i = 0; i < G.nx; i++)
        if (G.x[i]->id == id)
            return G.x[i];
    return NULL;
}

static struct xport *xport_new(int id, enum role role)
{
    if (G.nx >= MAX_XPORTS)
        return NULL;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = G.bind };
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("sfuload: socket");
        exit(1);
    }
    struct xport *x = calloc(1, sizeof(*x));
    x->id = id;
    x->fd = fd;
    x->role = role;
    rand_token(x->ufrag, 8);
    rand_token(x->pwd, 24);
    /* the largest tie-breaker: a full agent that offers (Janus for subscribers)
     * starts controlling too and must give way (RFC 8445 §7.3.1.1) */
    x->tiebreak = UINT64_MAX;
    x->assrc = rand32();
    x->aseq = (uint16_t)rand32();
    x->ats = rand32();
    x->vts = rand32();
    x->nv = role == PUB && G.simulcast ? LAYERS : 1;
    for (int l = 0; l < x->nv; l++)
        x->v[l] = (struct vlayer){ .ssrc = rand32(), .seq = (uint16_t)rand32(), .picid = (uint16_t)(rand32() & 0x7FFF) };
    x->level = G.level;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = x };
    epoll_ctl(G.ep, EPOLL_CTL_ADD, fd, &ev);
    G.x[G.nx++] = x;
    return x;
}

static uint16_t local_port(const struct xport *x)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    getsockname(x->fd, (struct sockaddr *)&sa, &sl);
    return ntohs(sa.sin_port);
}

static void send_to_remote(struct xport *x, const uint8_t *buf, size_t len)
{
    if (x->have_remote)
        sendto(x->fd, buf, len, 0, (struct sockaddr *)&x->remote, sizeof(x->remote));
}

static void dtls_out(void *ud, const uint8_t *buf, size_t len)
{
    send_to_remote(ud, buf, len);
}

/* --- SDP: ours written here, theirs read with sdp_parse() --- */

static int append(char *out, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int append(char *out, size_t cap, size_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(out + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= cap - *n)
        return -1;
    *n += (size_t)w;
    return 0;
}

static void sdp_head(const struct xport *x, char *out, size_t cap, size_t *n, const char *bundle)
{
    append(out, cap, n,
           "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE %s\r\n"
           "a=msid-semantic: WMS\r\n",
           rand32() >> 1, bundle);
    (void)x;
}

/* ICE, DTLS and (in the first m-section) our one host candidate. */
static void sdp_transport(const struct xport *x, char *out, size_t cap, size_t *n, int first)
{
    append(out, cap, n,
           "c=IN IP4 %s\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=ice-options:trickle\r\n"
           "a=fingerprint:sha-256 %s\r\na=setup:active\r\na=rtcp-mux\r\n",
           G.bind_text, x->ufrag, x->pwd, dtls_server_fingerprint(G.dtls));
    if (first)
        append(out, cap, n, "a=candidate:1 1 udp 2130706431 %s %u typ host\r\na=end-of-candidates\r\n",
               G.bind_text, local_port(x));
}

/* The video m-section's SSRC or simulcast lines: like Chromium, rids and
 * no SSRCs for simulcast (the server learns them from the mid and rid
 * extensions). */
static void pub_video_lines(const struct xport *x, char *out, size_t cap, size_t *n)
{
    if (x->nv == 1) {
        append(out, cap, n, "a=ssrc:%u cname:load%d\r\na=ssrc:%u msid:s%d v%d\r\n", x->v[0].ssrc, x->id,
               x->v[0].ssrc, x->id, x->id);
        return;
    }
    append(out, cap, n, "a=extmap:%d %s\r\na=extmap:%d %s\r\n", MID_ID, MID_URI, RID_ID, RID_URI);
    /* Highest first, as Firefox and janus.js write them: Janus 1.1 takes the
     * first rid for the highest layer; tincan goes by the names q/h/f. */
    for (int l = x->nv - 1; l >= 0; l--)
        append(out, cap, n, "a=rid:%s send\r\n", LAYER[l].rid);
    append(out, cap, n, "a=simulcast:send f;h;q\r\n");
}

/* A browser's sendonly offer: Opus (mid 0, with the audio level
 * extension) and VP8 (mid 1), with SSRCs or simulcast rids. */
static void pub_offer(struct xport *x, char *out, size_t cap)
{
    size_t n = 0;
    sdp_head(x, out, cap, &n, "0 1");
    append(out, cap, &n, "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\n", AUDIO_PT);
    sdp_transport(x, out, cap, &n, 1);
    append(out, cap, &n,
           "a=mid:0\r\na=extmap:%d %s\r\na=sendonly\r\na=msid:s%d a%d\r\na=rtpmap:%d opus/48000/2\r\n"
           "a=fmtp:%d minptime=10;useinbandfec=1\r\na=ssrc:%u cname:load%d\r\na=ssrc:%u msid:s%d a%d\r\n",
           LEVEL_ID, LEVEL_URI, x->id, x->id, AUDIO_PT, AUDIO_PT, x->assrc, x->id, x->assrc, x->id, x->id);
    append(out, cap, &n, "m=video 9 UDP/TLS/RTP/SAVPF %d\r\n", VIDEO_PT);
    sdp_transport(x, out, cap, &n, 0);
    append(out, cap, &n,
           "a=mid:1\r\na=sendonly\r\na=msid:s%d v%d\r\na=rtpmap:%d VP8/90000\r\n"
           "a=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\na=rtcp-fb:%d ccm fir\r\n",
           x->id, x->id, VIDEO_PT, VIDEO_PT, VIDEO_PT, VIDEO_PT);
    pub_video_lines(x, out, cap, &n);
}

/* The extension ids the server's answer took (0: not taken). */
static void take_ext_ids(struct xport *x, const struct sdp *d)
{
    for (size_t i = 0; i < d->nmedia; i++) {
        const struct sdp_media *m = &d->media[i];
        if (m->port && m->kind == SDP_AUDIO)
            x->level_id = sdp_extmap_id(m, LEVEL_URI);
        if (m->port && m->kind == SDP_VIDEO) {
            x->mid_id = sdp_extmap_id(m, MID_URI);
            x->rid_id = sdp_extmap_id(m, RID_URI);
        }
    }
}

static void answer_media(const struct xport *x, const struct sdp_media *m, char *out, size_t cap, size_t *n,
                         int first)
{
    const struct sdp_codec *c = m->ncodecs ? &m->codecs[0] : NULL;
    int rtp = (m->kind == SDP_AUDIO || m->kind == SDP_VIDEO) && c && strcmp(m->proto, "UDP/TLS/RTP/SAVPF") == 0;
    if (!rtp || m->port == 0) {
        const char *kind = m->kind == SDP_AUDIO ? "audio" : m->kind == SDP_VIDEO ? "video" : "application";
        append(out, cap, n, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\n", kind, m->proto,
               m->kind == SDP_APPLICATION ? "webrtc-datachannel" : (c ? "0" : "0"), m->mid);
        if (rtp && c)
            append(out, cap, n, "a=inactive\r\n");
        return;
    }
    append(out, cap, n, "m=%s 9 UDP/TLS/RTP/SAVPF %u\r\n", m->kind == SDP_AUDIO ? "audio" : "video", c->pt);
    sdp_transport(x, out, cap, n, first);
    append(out, cap, n, "a=mid:%s\r\na=recvonly\r\na=rtpmap:%u %s/%u", m->mid, c->pt, c->name, c->clock);
    if (c->channels)
        append(out, cap, n, "/%u", c->channels);
    append(out, cap, n, "\r\n");
    if (c->fmtp[0])
        append(out, cap, n, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
    if (m->kind == SDP_VIDEO)
        append(out, cap, n, "a=rtcp-fb:%u nack\r\na=rtcp-fb:%u nack pli\r\na=rtcp-fb:%u ccm fir\r\n", c->pt,
               c->pt, c->pt);
}

/* The answer of a recvonly browser to a subscriber offer: per m-section its
 * first codec, no header extensions, no RTX. */
static void sub_answer(struct xport *x, const struct sdp *offer, char *out, size_t cap)
{
    char bundle[SDP_MAX_MEDIA * (SDP_TOKEN_MAX + 1)] = "";
    for (size_t i = 0; i < offer->nmedia; i++) {
        const struct sdp_media *m = &offer->media[i];
        if (m->port && (m->kind == SDP_AUDIO || m->kind == SDP_VIDEO) && m->ncodecs) {
            strcat(bundle, bundle[0] ? " " : "");
            strcat(bundle, m->mid);
        }
    }
    size_t n = 0;
    sdp_head(x, out, cap, &n, bundle);
    int first = 1;
    for (size_t i = 0; i < offer->nmedia; i++) {
        const struct sdp_media *m = &offer->media[i];
        int live = m->port && (m->kind == SDP_AUDIO || m->kind == SDP_VIDEO) && m->ncodecs;
        answer_media(x, m, out, cap, &n, first && live);
        if (live)
            first = 0;
    }
}

/* The first IPv4 UDP host candidate of a description ("a=candidate:"). */
static int find_candidate(const char *sdp, struct sockaddr_in *out)
{
    for (const char *p = strstr(sdp, "a=candidate:"); p; p = strstr(p + 1, "a=candidate:")) {
        char found[64], transport[16], ip[64], typ[8], type[16];
        unsigned comp, port;
        unsigned long prio;
        if (sscanf(p, "a=candidate:%63s %u %15s %lu %63s %u %7s %15s", found, &comp, transport, &prio, ip, &port,
                   typ, type) != 8)
            continue;
        if (comp != 1 || strcasecmp(transport, "udp") != 0 || strcmp(type, "host") != 0)
            continue;
        memset(out, 0, sizeof(*out));
        out->sin_family = AF_INET;
        out->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, ip, &out->sin_addr) == 1)
            return 0;
    }
    return -1;
}

/* ICE credentials, fingerprint and candidate from the first live m-section. */
static int take_remote(struct xport *x, const struct sdp *d, const char *text)
{
    for (size_t i = 0; i < d->nmedia; i++) {
        const struct sdp_media *m = &d->media[i];
        if (!m->port || !m->ice_ufrag[0] || !m->fp[0])
            continue;
        snprintf(x->rufrag, sizeof(x->rufrag), "%s", m->ice_ufrag);
        snprintf(x->rpwd, sizeof(x->rpwd), "%s", m->ice_pwd);
        snprintf(x->rfp_hash, sizeof(x->rfp_hash), "%s", m->fp_hash);
        snprintf(x->rfp, sizeof(x->rfp), "%s", m->fp);
        if (!x->have_remote && find_candidate(text, &x->remote) == 0)
            x->have_remote = 1;
        return x->have_remote ? 0 : -1;
    }
    return -1;
}

static void add_rx(struct xport *x, uint32_t ssrc, int video)
{
    for (int i = 0; i < x->nrx; i++)
        if (x->rxt[i].ssrc == ssrc)
            return;
    if (x->nrx < MAX_RX)
        x->rxt[x->nrx++] = (struct rxtrack){ .ssrc = ssrc, .video = video };
}

/* --- ICE --- */

static void send_check(struct xport *x, uint64_t now)
{
    uint8_t txid[STUN_TXID_LEN], buf[256];
    char user[SDP_TOKEN_MAX * 2 + 2];
    RAND_bytes(txid, sizeof(txid));
    snprintf(user, sizeof(user), "%s:%s", x->rufrag, x->ufrag);
    struct stun_builder b;
    stun_builder_init(&b, buf, sizeof(buf), stun_type(STUN_BINDING, STUN_REQUEST), txid);
    stun_builder_add(&b, STUN_ATTR_USERNAME, user, strlen(user));
    stun_builder_add_u32(&b, STUN_ATTR_PRIORITY, (110u << 24) | (65535u << 8) | 255u);
    uint8_t tb[8];
    for (int i = 0; i < 8; i++)
        tb[i] = (uint8_t)(x->tiebreak >> (56 - 8 * i));
    stun_builder_add(&b, STUN_ATTR_ICE_CONTROLLING, tb, sizeof(tb));
    stun_builder_add(&b, STUN_ATTR_USE_CANDIDATE, NULL, 0);
    stun_builder_add_integrity(&b, (const uint8_t *)x->rpwd, strlen(x->rpwd));
    stun_builder_add_fingerprint(&b);
    int len = stun_builder_finish(&b);
    if (len > 0)
        send_to_remote(x, buf, (size_t)len);
    x->next_check = now + (x->ice_ok ? CHECK_SLOW_MS : CHECK_FAST_MS);
}

static void start_dtls(struct xport *x)
{
    if (x->dtls)
        return;
    x->dtls = dtls_session_new(G.dtls, x->rfp_hash, x->rfp, dtls_out, NULL, x);
    if (!x->dtls) {
        x->failed = 1;
        emit(json_pack("{s:s,s:i,s:s}", "ev", "failed", "id", x->id, "why", "bad fingerprint"));
        return;
    }
    dtls_session_connect(x->dtls);
}

/* Our answer to the server's own checks (libnice's, as a controlled agent). */
static void answer_check(struct xport *x, const struct stun_msg *m, const struct sockaddr_in *from)
{
    struct stun_str user;
    if (stun_msg_str(m, STUN_ATTR_USERNAME, &user) != 0 || user.len <= strlen(x->ufrag) ||
        memcmp(user.p, x->ufrag, strlen(x->ufrag)) != 0 || user.p[strlen(x->ufrag)] != ':')
        return;
    if (stun_check_integrity(m, (const uint8_t *)x->pwd, strlen(x->pwd)) != 0)
        return;
    struct stun_addr mapped;
    stun_addr_from_sockaddr(&mapped, (const struct sockaddr *)from);
    uint8_t resp[ICE_RESPONSE_MAX];
    int n = ice_lite_build_success(m->txid, &mapped, x->pwd, strlen(x->pwd), stun_msg_integrity_type(m), resp,
                                   sizeof(resp));
    if (n > 0)
        sendto(x->fd, resp, (size_t)n, 0, (const struct sockaddr *)from, sizeof(*from));
}

static void on_stun(struct xport *x, const uint8_t *buf, size_t len, const struct sockaddr_in *from)
{
    struct stun_msg m;
    G.stun_in++;
    G.kick = 1;
    if (stun_msg_decode(buf, len, &m) != STUN_OK || stun_method_of(m.type) != STUN_BINDING)
        return;
    enum stun_class c = stun_class_of(m.type);
    if (c == STUN_REQUEST) {
        answer_check(x, &m, from);
    } else if (c == STUN_SUCCESS && stun_check_integrity(&m, (const uint8_t *)x->rpwd, strlen(x->rpwd)) == 0) {
        if (!x->ice_ok) {
            x->ice_ok = 1;
            x->next_check = now_ms() + CHECK_SLOW_MS;
        }
        start_dtls(x);
    }
}

/* --- DTLS --- */

static void on_connected(struct xport *x)
{
    struct dtls_srtp_keys k;
    if (dtls_session_keys(x->dtls, &k) != 0)
        return;
    /* we are the DTLS client: we send with the client's key */
    x->tx = sfu_srtp_new(k.profile, k.client_key, k.key_len, k.client_salt, k.salt_len, SFU_SRTP_OUTBOUND);
    x->rx = sfu_srtp_new(k.profile, k.server_key, k.key_len, k.server_salt, k.salt_len, SFU_SRTP_INBOUND);
    x->connected = x->tx && x->rx;
    for (int l = 0; l < x->nv; l++)
        x->v[l].want_key = 1;
    emit(json_pack("{s:s,s:i,s:s}", "ev", x->connected ? "connected" : "failed", "id", x->id, "profile",
                   k.profile == DTLS_SRTP_AEAD_AES_128_GCM ? "gcm" : "cm"));
}

static void on_dtls(struct xport *x, const uint8_t *buf, size_t len)
{
    G.dtls_in++;
    G.kick = 1;
    if (!x->dtls)
        return;
    enum dtls_state before = dtls_session_state(x->dtls);
    enum dtls_state st = dtls_session_feed(x->dtls, buf, len);
    if (before == DTLS_HANDSHAKING && st == DTLS_CONNECTED)
        on_connected(x);
    else if (st == DTLS_FAILED && !x->failed) {
        x->failed = 1;
        emit(json_pack("{s:s,s:i,s:s}", "ev", "failed", "id", x->id, "why", dtls_session_error(x->dtls)));
    }
}

/* --- media in --- */

static void count_rtp(struct xport *x, const struct rtp_hdr *h)
{
    struct rxtrack *t = NULL;
    for (int i = 0; i < x->nrx && !t; i++)
        if (x->rxt[i].ssrc == h->ssrc)
            t = &x->rxt[i];
    if (!t) {
        G.unknown_ssrc++;
        add_rx(x, h->ssrc, h->pt != AUDIO_PT);
        t = x->nrx ? &x->rxt[x->nrx - 1] : NULL;
        if (!t || t->ssrc != h->ssrc)
            return;
    }
    t->recv++;
    t->bytes += h->payload_len;
    if (!t->started) {
        t->started = 1;
        t->first = t->max = h->seq;
        return;
    }
    uint32_t ext = (t->max & 0xFFFF0000u) | h->seq;
    if (ext + 0x8000u < t->max)
        ext += 0x10000u;
    else if (ext > t->max + 0x8000u && ext >= 0x10000u)
        ext -= 0x10000u;
    if (ext > t->max)
        t->max = ext;
}

/* A PLI or FIR for ssrc: a key frame of that layer (of every layer when
 * the SSRC is none of ours). */
static void want_key(struct xport *x, uint32_t ssrc)
{
    int hit = 0;
    for (int l = 0; l < x->nv; l++)
        if (x->v[l].ssrc == ssrc)
            x->v[l].want_key = hit = 1;
    for (int l = 0; l < x->nv && !hit; l++)
        x->v[l].want_key = 1;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void on_rtcp(struct xport *x, const uint8_t *buf, size_t len)
{
    struct rtcp_iter it;
    struct rtcp_pkt p;
    rtcp_iter_init(&it, buf, len);
    while (rtcp_iter_next(&it, &p) == RTCP_OK) {
        if (p.pt == RTCP_PSFB && p.count == RTCP_FMT_PLI) {
            G.plis++;
            want_key(x, p.body_len >= 8 ? rd32(p.body + 4) : 0);
        } else if (p.pt == RTCP_PSFB && p.count == RTCP_FMT_FIR) {
            G.firs++;
            want_key(x, p.body_len >= 12 ? rd32(p.body + 8) : 0);
        } else if (p.pt == RTCP_PSFB && p.count == RTCP_FMT_AFB) {
            G.remb++;
        } else if (p.pt == RTCP_RTPFB && p.count == RTCP_FMT_NACK) {
            G.nacks++;
        } else if (p.pt == RTCP_SR || p.pt == RTCP_RR) {
            G.sr_rr++;
        }
    }
}

static void on_media(struct xport *x, uint8_t *buf, size_t len)
{
    if (!x->connected)
        return;
    if (rtp_is_rtcp(buf, len)) {
        if (sfu_srtp_unprotect_rtcp(x->rx, buf, &len) != SFU_SRTP_OK) {
            G.auth_fail++;
            return;
        }
        if (x->role == PUB)
            G.pub_rtcp++;
        else
            G.sub_rtcp++;
        on_rtcp(x, buf, len);
        return;
    }
    /* With --verify N only every Nth packet is decrypted and authenticated;
     * the others are counted from their header, which SRTP leaves clear. */
    if (G.verify > 1 && x->nin++ % G.verify != 0)
        G.unverified++;
    else if (sfu_srtp_unprotect(x->rx, buf, &len) != SFU_SRTP_OK) {
        G.auth_fail++;
        return;
    }
    struct rtp_hdr h;
    if (rtp_parse(buf, len, &h) != RTP_OK) {
        G.bad++;
        return;
    }
    G.sub_rtp++;
    G.sub_bytes += len;
    count_rtp(x, &h);
}

static void on_readable(struct xport *x)
{
    static uint8_t bufs[BATCH][PKT_CAP];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in from[BATCH];
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){ bufs[i], PKT_CAP };
            msgs[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof(from[i]),
                                               .msg_iov = &iov[i], .msg_iovlen = 1 };
        }
        int n = recvmmsg(x->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++) {
            size_t len = msgs[i].msg_len;
            uint8_t b0 = len ? bufs[i][0] : 0xFF;
            if (b0 < 4)
                on_stun(x, bufs[i], len, &from[i]);
            else if (b0 >= 20 && b0 < 64)
                on_dtls(x, bufs[i], len);
            else if (b0 >= 128 && b0 < 192)
                on_media(x, bufs[i], len);
        }
        if (n < BATCH)
            return;
    }
}

/* --- media out --- */

static void send_rtp(struct xport *x, uint8_t *pkt, size_t len)
{
    if (sfu_srtp_protect(x->tx, pkt, &len, PKT_CAP) != SFU_SRTP_OK)
        return;
    send_to_remote(x, pkt, len);
    G.pub_rtp++;
    G.pub_bytes += len;
}

static size_t rtp_header(uint8_t *p, uint8_t pt, int marker, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
    p[0] = 0x80;
    p[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    for (int i = 0; i < 4; i++) {
        p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
    return 12;
}

/* Appends a one-byte header extension block (RFC 8285) to the 12-byte
 * header at p with the elements ids[i] = vals[i] (ids of 0 left out);
 * returns the header's new length. */
static size_t rtp_ext(uint8_t *p, const uint8_t *ids, const char *const *vals, size_t n)
{
    size_t k = 16;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(vals[i]);
        if (!ids[i] || !len)
            continue;
        p[k++] = (uint8_t)(ids[i] << 4 | (len - 1));
        memcpy(p + k, vals[i], len);
        k += len;
    }
    if (k == 16)
        return 12;
    while (k % 4)
        p[k++] = 0;
    p[0] |= 0x10;
    p[12] = 0xBE, p[13] = 0xDE;
    p[14] = (uint8_t)((k - 16) / 4 >> 8), p[15] = (uint8_t)((k - 16) / 4);
    return k;
}

static void send_audio(struct xport *x)
{
    uint8_t pkt[PKT_CAP];
    size_t n = rtp_header(pkt, AUDIO_PT, 0, x->aseq++, x->ats, x->assrc);
    char level[2] = { (char)(x->level < 127 ? 0x80 | x->level : 127), 0 }; /* V bit: voice */
    const char *vals[1] = { level };
    n = rtp_ext(pkt, &x->level_id, vals, 1);
    size_t plen = (70 + filler() % 40) * (size_t)G.ptime / 20; /* Opus at about 32 kbit/s */
    pkt[n] = 0x78; /* TOC: SILK+CELT wideband 20 ms (longer ptimes: the size, not the frames) */
    for (size_t i = 1; i < plen; i++)
        pkt[n + i] = (uint8_t)filler();
    x->ats += (uint32_t)(48 * G.ptime);
    x->apkts++;
    x->aoctets += (uint32_t)plen;
    send_rtp(x, pkt, n + plen);
}

/* VP8 payload descriptor (RFC 7741 §4.2) with a 15-bit PictureID; the first
 * packet of a frame carries the frame header (a key frame's with its start
 * code and the layer's size). */
static size_t vp8_prefix(const struct vlayer *v, int layer, uint8_t *p, int first, int key)
{
    size_t n = 0;
    p[n++] = (uint8_t)(0x80 | (first ? 0x10 : 0));
    p[n++] = 0x80;
    p[n++] = (uint8_t)(0x80 | ((v->picid >> 8) & 0x7F));
    p[n++] = (uint8_t)v->picid;
    if (!first)
        return n;
    p[n++] = (uint8_t)(key ? 0x10 : 0x11); /* P bit 0 = key frame; show_frame */
    p[n++] = 0x02;
    p[n++] = 0x00;
    if (key) {
        unsigned w = LAYER[layer].w, h = LAYER[layer].h;
        const uint8_t sc[7] = { 0x9d, 0x01, 0x2a, (uint8_t)w, (uint8_t)(w >> 8), (uint8_t)h, (uint8_t)(h >> 8) };
        memcpy(p + n, sc, sizeof(sc));
        n += sizeof(sc);
    }
    return n;
}

/* One frame of video stream l: the plain track (l 0, full size) or a
 * simulcast layer. */
static void send_frame(struct xport *x, int l, uint64_t now)
{
    struct vlayer *v = &x->v[l];
    int size_of = x->nv == 1 ? LAYERS - 1 : l;
    int key = v->want_key && (v->last_key == 0 || now - v->last_key >= KEY_MIN_GAP_MS);
    size_t size = key ? LAYER[size_of].key : LAYER[size_of].delta + filler() % LAYER[size_of].spread;
    size_t npkt = (size + RTP_PAYLOAD_MAX - 1) / RTP_PAYLOAD_MAX, per = size / npkt;
    if (key) {
        v->want_key = 0;
        v->last_key = now;
        G.key_frames++;
    }
    const uint8_t ids[2] = { x->nv > 1 ? x->mid_id : 0, x->nv > 1 ? x->rid_id : 0 };
    const char *vals[2] = { "1", LAYER[l].rid };
    for (size_t i = 0; i < npkt; i++) {
        uint8_t pkt[PKT_CAP];
        size_t n = rtp_header(pkt, VIDEO_PT, i + 1 == npkt, v->seq++, x->vts, v->ssrc);
        n = rtp_ext(pkt, ids, vals, 2);
        size_t h = n;
        n += vp8_prefix(v, size_of, pkt + n, i == 0, key);
        for (size_t j = 0; j < per; j++)
            pkt[n + j] = (uint8_t)(j * 131 + i);
        v->pkts++;
        v->octets += (uint32_t)(n - h + per);
        send_rtp(x, pkt, n + per);
    }
    v->picid = (uint16_t)((v->picid + 1) & 0x7FFF);
}

/* Sends what is due; returns the next time something is. */
static uint64_t pump_media(struct xport *x, uint64_t now)
{
    /* Start, or more than a second behind (the generator is overloaded):
     * from now on, rather than a burst that keeps it behind. */
    if (!x->next_audio || x->next_audio + 1000 < now) {
        G.behind += x->next_audio != 0;
        x->next_audio = now;
        x->next_video = now;
        x->video_from = now;
        x->frames = 0;
    }
    while (x->next_audio <= now) {
        send_audio(x);
        x->next_audio += (uint64_t)G.ptime;
    }
    while (x->next_video <= now) {
        for (int l = 0; l < x->nv; l++)
            send_frame(x, l, now);
        x->vts += (uint32_t)(90000 / G.fps);
        x->frames++;
        G.frames++;
        x->next_video = x->video_from + (uint64_t)x->frames * 1000 / (uint64_t)G.fps;
    }
    return x->next_audio < x->next_video ? x->next_audio : x->next_video;
}

/* --- RTCP out: what a browser sends about once a second --- */

static void send_rtcp(struct xport *x, uint8_t *pkt, size_t len)
{
    if (sfu_srtp_protect_rtcp(x->tx, pkt, &len, PKT_CAP) != SFU_SRTP_OK)
        return;
    send_to_remote(x, pkt, len);
    G.rtcp_out++;
}

/* Publishers: a sender report per track; subscribers: a receiver report
 * with a block per SSRC received. */
static void rtcp_tick(struct xport *x, uint64_t now)
{
    uint8_t pkt[PKT_CAP];
    int n = 0;
    if (x->role == PUB) {
        struct rtcp_sr sr = { .ssrc = x->assrc, .ntp_sec = (uint32_t)(now / 1000 + 2208988800u),
                              .rtp_ts = x->ats, .packet_count = x->apkts, .octet_count = x->aoctets };
        size_t cap = sizeof(pkt) - SFU_SRTP_TRAILER_MAX;
        n = rtcp_build_sr(pkt, cap, &sr);
        for (int l = 0; l < x->nv && n > 0; l++) {
            sr.ssrc = x->v[l].ssrc, sr.rtp_ts = x->vts, sr.packet_count = x->v[l].pkts;
            sr.octet_count = x->v[l].octets;
            int m = rtcp_build_sr(pkt + n, cap - (size_t)n, &sr);
            n = m > 0 ? n + m : -1;
        }
    } else {
        static struct rtcp_rr rr;
        memset(&rr, 0, sizeof(rr));
        rr.ssrc = x->assrc;
        for (int i = 0; i < x->nrx && rr.nblocks < RTCP_MAX_BLOCKS; i++) {
            const struct rxtrack *t = &x->rxt[i];
            uint64_t exp = t->started ? (uint64_t)(t->max - t->first) + 1 : 0;
            if (t->started)
                rr.blocks[rr.nblocks++] = (struct rtcp_report_block){
                    .ssrc = t->ssrc, .highest_seq = t->max,
                    .cumulative_lost = exp > t->recv ? (int32_t)(exp - t->recv) : 0 };
        }
        n = rtcp_build_rr(pkt, sizeof(pkt) - SFU_SRTP_TRAILER_MAX, &rr);
    }
    if (n > 0)
        send_rtcp(x, pkt, (size_t)n);
    x->next_rtcp = now + 1000;
}

/* --- timers --- */

static uint64_t run_timers(uint64_t now)
{
    uint64_t next = now + 50;
    for (int i = 0; i < G.nx; i++) {
        struct xport *x = G.x[i];
        if (x->have_remote && x->rufrag[0] && !x->failed) {
            if (x->next_check <= now)
                send_check(x, now);
            if (x->next_check < next)
                next = x->next_check;
        }
        if (x->dtls && dtls_session_state(x->dtls) == DTLS_HANDSHAKING) {
            int64_t d = dtls_session_deadline(x->dtls, (int64_t)now);
            if (d >= 0 && (uint64_t)d <= now && dtls_session_on_timer(x->dtls) == DTLS_FAILED && !x->failed) {
                x->failed = 1;
                emit(json_pack("{s:s,s:i,s:s}", "ev", "failed", "id", x->id, "why", "dtls timeout"));
            } else if (d >= 0 && (uint64_t)d < next) {
                next = (uint64_t)d;
            }
        }
        if (G.sending && x->connected) {
            if (x->next_rtcp <= now)
                rtcp_tick(x, now);
            uint64_t t = x->role == PUB ? pump_media(x, now) : x->next_rtcp;
            if (t < next)
                next = t;
        }
    }
    return next;
}

/* --- commands --- */

static json_t *track_stats(const struct xport *x, uint64_t *lost, uint64_t *expected)
{
    json_t *arr = json_array();
    for (int i = 0; i < x->nrx; i++) {
        const struct rxtrack *t = &x->rxt[i];
        uint64_t exp = t->started ? (uint64_t)(t->max - t->first) + 1 : 0;
        uint64_t l = exp > t->recv ? exp - t->recv : 0;
        *lost += l;
        *expected += exp;
        json_array_append_new(arr, json_pack("{s:I,s:b,s:I,s:I,s:I}", "ssrc", (json_int_t)t->ssrc, "video", t->video,
                                             "recv", (json_int_t)t->recv, "bytes", (json_int_t)t->bytes, "lost",
                                             (json_int_t)l));
    }
    return arr;
}

static void cmd_stats(int detail)
{
    uint64_t lost = 0, expected = 0;
    json_t *subs = json_array();
    for (int i = 0; i < G.nx; i++) {
        if (G.x[i]->role != SUB)
            continue;
        json_t *t = track_stats(G.x[i], &lost, &expected);
        if (detail)
            json_array_append_new(subs, json_pack("{s:i,s:o}", "id", G.x[i]->id, "tracks", t));
        else
            json_decref(t);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    json_t *o = json_pack("{s:s,s:I,s:f}", "ev", "stats", "t_ms", (json_int_t)now_ms(), "gen_cpu", cpu);
    const struct { const char *k; uint64_t v; } f[] = {
        { "pub_rtp", G.pub_rtp }, { "pub_bytes", G.pub_bytes }, { "pub_rtcp", G.pub_rtcp },
        { "sub_rtp", G.sub_rtp }, { "sub_bytes", G.sub_bytes }, { "sub_rtcp", G.sub_rtcp },
        { "plis", G.plis }, { "firs", G.firs }, { "nacks", G.nacks }, { "remb", G.remb },
        { "sr_rr", G.sr_rr }, { "auth_fail", G.auth_fail }, { "bad", G.bad },
        { "unknown_ssrc", G.unknown_ssrc }, { "frames", G.frames }, { "key_frames", G.key_frames }, { "rtcp_out", G.rtcp_out },
        { "unverified", G.unverified }, { "behind", G.behind }, { "lost", lost }, { "expected", expected },
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        json_object_set_new(o, f[i].k, json_integer((json_int_t)f[i].v));
    json_object_set_new(o, "subs", subs);
    emit(o);
}

static struct sdp *parse_sdp(const char *text)
{
    static struct sdp d;
    memset(&d, 0, sizeof(d));
    if (sdp_parse(text, strlen(text), &d) != 0) {
        emit(json_pack("{s:s,s:s,s:i}", "ev", "error", "msg", "sdp does not parse", "line", d.err_line));
        return NULL;
    }
    return &d;
}

static void cmd_offer(int id, const char *text)
{
    struct xport *x = find(id);
    if (!x)
        x = xport_new(id, SUB);
    struct sdp *d = x ? parse_sdp(text) : NULL;
    if (!d || take_remote(x, d, text) != 0) {
        emit(json_pack("{s:s,s:i,s:s}", "ev", "failed", "id", id, "why", "offer without ICE, fingerprint or candidate"));
        return;
    }
    for (size_t i = 0; i < d->nmedia; i++) {
        const struct sdp_media *m = &d->media[i];
        if (m->port && m->nssrcs)
            add_rx(x, m->fid[0] ? m->fid[0] : m->ssrcs[0].ssrc, m->kind == SDP_VIDEO);
    }
    static char out[65536];
    sub_answer(x, d, out, sizeof(out));
    emit(json_pack("{s:s,s:i,s:s}", "ev", "answer", "id", id, "sdp", out));
}

static void cmd_line(const char *line)
{
    json_error_t e;
    json_t *o = json_loads(line, 0, &e);
    const char *op = o ? json_string_value(json_object_get(o, "op")) : NULL;
    int id = o ? (int)json_integer_value(json_object_get(o, "id")) : 0;
    const char *sdp = o ? json_string_value(json_object_get(o, "sdp")) : NULL;
    if (!op) {
        emit(json_pack("{s:s,s:s}", "ev", "error", "msg", "bad command"));
    } else if (strcmp(op, "pub") == 0) {
        static char out[16384];
        struct xport *x = find(id) ? NULL : xport_new(id, PUB);
        if (x) {
            pub_offer(x, out, sizeof(out));
            emit(json_pack("{s:s,s:i,s:s}", "ev", "offer", "id", id, "sdp", out));
        }
    } else if (strcmp(op, "answer") == 0 && sdp && find(id)) {
        struct sdp *d = parse_sdp(sdp);
        if (d)
            take_ext_ids(find(id), d);
        if (!d || take_remote(find(id), d, sdp) != 0)
            emit(json_pack("{s:s,s:i,s:s}", "ev", "failed", "id", id, "why", "answer without ICE or candidate"));
    } else if (strcmp(op, "offer") == 0 && sdp) {
        cmd_offer(id, sdp);
    } else if (strcmp(op, "start") == 0 || strcmp(op, "stop") == 0) {
        G.sending = op[2] == 'a';
        for (int i = 0; i < G.nx; i++)
            G.x[i]->next_audio = G.x[i]->next_video = 0;
    } else if (strcmp(op, "level") == 0) {
        int level = (int)json_integer_value(json_object_get(o, "level"));
        for (int i = 0; i < G.nx; i++)
            if (G.x[i]->role == PUB && (id == 0 || G.x[i]->id == id))
                G.x[i]->level = (uint8_t)(level < 0 ? 0 : level > 127 ? 127 : level);
    } else if (strcmp(op, "stats") == 0) {
        cmd_stats(json_is_true(json_object_get(o, "detail")));
    } else if (strcmp(op, "quit") == 0) {
        exit(0);
    } else {
        emit(json_pack("{s:s,s:s}", "ev", "error", "msg", "unknown command"));
    }
    json_decref(o);
}

static void on_stdin(void)
{
    static char buf[1 << 20];
    static size_t have;
    G.kick = 1;
    ssize_t n = read(0, buf + have, sizeof(buf) - 1 - have);
    if (n <= 0)
        exit(0);
    have += (size_t)n;
    buf[have] = '\0';
    char *start = buf, *nl;
    while ((nl = strchr(start, '\n'))) {
        *nl = '\0';
        if (nl > start)
            cmd_line(start);
        start = nl + 1;
    }
    have -= (size_t)(start - buf);
    memmove(buf, start, have);
    if (have == sizeof(buf) - 1) {
        fprintf(stderr, "sfuload: command line too long\n");
        exit(1);
    }
}

static void parse_args(int argc, char **argv, unsigned *offer)
{
    *offer = DTLS_OFFER_AES_128_GCM | DTLS_OFFER_CM_SHA1_80;
    snprintf(G.bind_text, sizeof(G.bind_text), "127.0.0.1");
    G.level = 127;
    G.fps = 30;
    G.ptime = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--bind") == 0)
            snprintf(G.bind_text, sizeof(G.bind_text), "%s", argv[i + 1]);
        else if (strcmp(argv[i], "--verify") == 0)
            G.verify = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--simulcast") == 0)
            G.simulcast = atoi(argv[i + 1]) != 0;
        else if (strcmp(argv[i], "--fps") == 0)
            G.fps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--ptime") == 0)
            G.ptime = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--level") == 0)
            G.level = (uint8_t)(atoi(argv[i + 1]) & 127);
        else if (strcmp(argv[i], "--srtp") == 0)
            *offer = strcmp(argv[i + 1], "gcm") == 0 ? DTLS_OFFER_AES_128_GCM
                     : strcmp(argv[i + 1], "cm") == 0 ? DTLS_OFFER_CM_SHA1_80
                                                      : *offer;
        else {
            fprintf(stderr, "usage: sfuload [--bind IPv4] [--srtp gcm|cm|both] [--verify N] [--simulcast 0|1] [--level 0-127] [--fps 1-30] [--ptime 20-120]\n");
            exit(2);
        }
    }
    if (G.fps < 1 || G.fps > 30 || G.ptime < 20 || G.ptime > 120 || G.ptime % 20 != 0) {
        fprintf(stderr, "sfuload: --fps takes 1-30, --ptime 20-120 in steps of 20\n");
        exit(2);
    }
    if (inet_pton(AF_INET, G.bind_text, &G.bind) != 1) {
        fprintf(stderr, "sfuload: --bind needs an IPv4 address\n");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    unsigned offer;
    char err[128];
    parse_args(argc, argv, &offer);
    G.dtls = dtls_client_new(offer & sfu_srtp_profiles(), err, sizeof(err));
    if (!G.dtls) {
        fprintf(stderr, "sfuload: %s\n", err);
        return 1;
    }
    G.ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(G.ep, EPOLL_CTL_ADD, 0, &ev);
    /* The timers walk every transport: only when one is due, or after a
     * command or a handshake packet may have moved one. */
    uint64_t next = 0;
    for (;;) {
        uint64_t now = now_ms();
        if (now >= next || G.kick) {
            G.kick = 0;
            next = run_timers(now);
            now = now_ms();
        }
        int timeout = next > now ? (int)(next - now) : 0;
        struct epoll_event evs[256];
        int n = epoll_wait(G.ep, evs, 256, timeout);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr)
                on_readable(evs[i].data.ptr);
            else
                on_stdin();
        }
    }
}
