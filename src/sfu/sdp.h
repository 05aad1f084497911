/*
 * sdp — the subset of SDP (RFC 8866) that browsers send for WebRTC
 * (JSEP, RFC 8829: Unified Plan, BUNDLE, one m-section per transceiver),
 * parsed into fixed-capacity structs, an answer chosen from an offer, and
 * our own descriptions written back as text.
 *
 * Parsing keeps what the SFU acts on: BUNDLE group, per m-section the mid,
 * direction, ICE credentials, DTLS fingerprint and setup role, rtcp-mux,
 * codecs (rtpmap, fmtp, rtcp-fb) per payload type, header extensions
 * (extmap), SSRCs with CNAME and ssrc-group FID/SIM, rid and simulcast
 * lines, msid, bundle-only. Session-level ICE and fingerprint lines (Firefox) are
 * copied into m-sections that have none. Anything else is skipped.
 * Capacity limits are below; past them extra codecs, extensions, SSRCs
 * and rids are ignored (the answer needs none of them), while too many
 * m-sections or an over-long value make the description malformed.
 *
 * Writing: sdp_write() turns a struct sdp into text with our ICE-lite
 * credentials, host candidates and certificate fingerprint, with
 * a=setup:passive in answers and a=setup:actpass in offers: the SFU is
 * always the DTLS server, so whoever answers its offers must take the
 * active role (sfu_signal refuses an answer that says passive). Where an
 * offer lists several fingerprints, the first SHA-256 one is kept (else
 * the last). sdp_answer() fills
 * that struct from an offer: per m-section one codec from our supported
 * list (Opus, VP8, VP9, H264, AV1) with its RTX, the header extensions we
 * use, the mirrored direction, and simulcast rids to receive.
 *
 * struct sdp is large (about 100 KB): allocate it, do not put it on the
 * stack of the event loop. No I/O.
 */
#ifndef TINCAN_SFU_SDP_H
#define TINCAN_SFU_SDP_H

#include <stddef.h>
#include <stdint.h>

#define SDP_MAX_MEDIA 64     /* a subscriber of 32 publishers' audio and video */
#define SDP_MAX_CODECS 32
#define SDP_MAX_EXTMAPS 16
#define SDP_MAX_SSRCS 8
#define SDP_MAX_RIDS 4
#define SDP_MAX_BUNDLE SDP_MAX_MEDIA
#define SDP_TOKEN_MAX 64     /* mid, ufrag, rid, cname, msid parts */
#define SDP_PWD_MAX 128
#define SDP_FP_MAX 192       /* "AB:CD:..." up to SHA-512 */
#define SDP_FMTP_MAX 128
#define SDP_URI_MAX 128
#define SDP_NAME_MAX 16      /* codec names */
#define SDP_SIMULCAST_MAX 64 /* the rid list of a=simulcast */

enum sdp_kind { SDP_AUDIO, SDP_VIDEO, SDP_APPLICATION, SDP_OTHER };
enum sdp_dir { SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };
enum sdp_setup { SDP_SETUP_NONE, SDP_SETUP_ACTPASS, SDP_SETUP_ACTIVE, SDP_SETUP_PASSIVE };

/* rtcp-fb values we recognise, as bits. */
enum sdp_fb {
    SDP_FB_NACK = 1,         /* "nack" */
    SDP_FB_PLI = 2,          /* "nack pli" */
    SDP_FB_FIR = 4,          /* "ccm fir" */
    SDP_FB_REMB = 8,         /* "goog-remb" */
    SDP_FB_TRANSPORT_CC = 16 /* "transport-cc" */
};

struct sdp_codec {
    uint8_t pt;
    char name[SDP_NAME_MAX];   /* as written: "opus", "VP8", "rtx" ... */
    uint32_t clock;
    uint8_t channels;          /* 0 when the rtpmap has none */
    char fmtp[SDP_FMTP_MAX];   /* the parameters after "a=fmtp:PT ", or "" */
    uint8_t fb;                /* enum sdp_fb bits */
    int apt;                   /* rtx: the payload type it repairs (fmtp apt=), else -1 */
};

struct sdp_extmap {
    uint8_t id;
    char uri[SDP_URI_MAX];
};

struct sdp_ssrc {
    uint32_t ssrc;
    char cname[SDP_TOKEN_MAX];
};

struct sdp_rid {
    char id[SDP_TOKEN_MAX];
    uint8_t send;              /* 1: "send", 0: "recv" */
};

struct sdp_media {
    enum sdp_kind kind;
    uint16_t port;             /* 0: rejected */
    char proto[32];            /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP" ... */
    char mid[SDP_TOKEN_MAX];
    enum sdp_dir dir;
    char ice_ufrag[SDP_TOKEN_MAX];
    char ice_pwd[SDP_PWD_MAX];
    char fp_hash[16];          /* "sha-256" */
    char fp[SDP_FP_MAX];
    enum sdp_setup setup;
    uint8_t rtcp_mux, rtcp_rsize;
    uint8_t bundle_only;       /* a=bundle-only (RFC 8843 §6): port 0 yet offered in BUNDLE */
    size_t ncodecs;            /* in m-line order */
    struct sdp_codec codecs[SDP_MAX_CODECS];
    size_t nextmaps;
    struct sdp_extmap extmaps[SDP_MAX_EXTMAPS];
    size_t nssrcs;
    struct sdp_ssrc ssrcs[SDP_MAX_SSRCS];
    uint32_t fid[2];           /* the first a=ssrc-group:FID media rtx, or 0 0 */
    size_t nfids;              /* every FID pair (Firefox simulcast: one per rid) */
    uint32_t fids[SDP_MAX_RIDS][2];
    size_t nsim;
    uint32_t sim[3];           /* a=ssrc-group:SIM */
    size_t nrids;
    struct sdp_rid rids[SDP_MAX_RIDS];
    char simulcast[SDP_SIMULCAST_MAX]; /* "send q;h;f" as written, or "" */
    char msid_stream[SDP_TOKEN_MAX], msid_track[SDP_TOKEN_MAX];
};

struct sdp {
    int ice_lite;
    size_t nbundle;
    char bundle[SDP_MAX_BUNDLE][SDP_TOKEN_MAX];
    size_t nmedia;
    struct sdp_media media[SDP_MAX_MEDIA];
    int err_line;              /* sdp_parse(): 1-based line of the error, else 0 */
};

/* Parses the description text[0..len) (lines end in CRLF or LF; the text
 * need not be NUL-terminated). Returns 0, -EINVAL if it is malformed (no
 * v=0 first, a line without "x=", an m-line or attribute we read that does
 * not parse, a value longer than its field, a=mid duplicated), or -E2BIG
 * for more than SDP_MAX_MEDIA m-sections; out->err_line says where. */
int sdp_parse(const char *text, size_t len, struct sdp *out);

/* Codec and extension lookups in a parsed m-section; NULL if absent. */
const struct sdp_codec *sdp_codec_by_pt(const struct sdp_media *m, uint8_t pt);
/* The id negotiated for a header extension URI, or 0 if absent. */
uint8_t sdp_extmap_id(const struct sdp_media *m, const char *uri);

/* Fills *answer from *offer for the SFU: each RTP m-section keeps its mid
 * and gets the first codec of `prefer` (names, case ignored, e.g. {"VP8",
 * "H264"}; NULL means Opus, VP8, VP9, H264, AV1, except that a video
 * section without simulcast then takes the first of VP8, VP9 and AV1 in
 * the offer's order) that the offer has (H264
 * only with packetization-mode=1, VP9 only profile 0), with the offer's
 * payload type, fmtp, the rtcp-fb we support, and the RTX that repairs it;
 * the extensions we read (mid, rid, repaired rid, abs-send-time,
 * transport-cc, audio level) with the offer's ids; the mirrored direction;
 * offered send rids as recv rids and a=simulcast:recv. An m-section with
 * no common codec, or not audio/video over UDP/TLS/RTP/SAVPF, or with port
 * 0 (unless it is a=bundle-only and in the offer's BUNDLE group, as
 * Firefox writes all but the first with bundlePolicy max-bundle), is
 * rejected (port 0) and left out of BUNDLE. Returns 0, or -EINVAL if no m-section
 * is accepted. */
int sdp_answer(const struct sdp *offer, const char *const *prefer, size_t nprefer, struct sdp *answer);

/* A host candidate for our side. */
struct sdp_candidate {
    const char *ip;            /* textual IPv4 or IPv6 address */
    uint16_t port;
    uint32_t priority;
};

/* What only we know about our side of a description. */
struct sdp_local {
    const char *ice_ufrag, *ice_pwd;
    const char *fingerprint;   /* SHA-256, "AB:CD:..." (dtls_server_fingerprint()) */
    const struct sdp_candidate *cands;
    size_t ncands;
    uint64_t session_id;       /* o= line; the version is always 2 */
    enum sdp_setup setup;      /* our DTLS role as written: SDP_SETUP_ACTPASS in our
                                * offers (RFC 8842 §5.2: an offerer says actpass),
                                * anything else writes passive (answers) */
};

/* Writes d as SDP text into out[0..cap) with a terminating NUL: a=ice-lite,
 * the BUNDLE group, and per m-section (rejected ones as port 0 with only
 * their mid) our ICE credentials, fingerprint, a=setup (local->setup), the mid,
 * extmaps, direction, rtcp-mux/rsize, rtpmap/rtcp-fb/fmtp per codec, rids
 * and simulcast, msid, ssrc-groups and ssrcs with cnames, and our host
 * candidates with a=end-of-candidates. Returns the text length, or
 * -ENOBUFS if it does not fit. */
int sdp_write(const struct sdp *d, const struct sdp_local *local, char *out, size_t cap);

#endif
