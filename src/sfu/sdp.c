/*
 * sdp — parsing the browsers' SDP subset into struct sdp (see sdp.h).
 * Choosing an answer and writing text are in sdp_write.c.
 *
 * Lines are dispatched on their attribute name through one table; each
 * handler reads its value between two pointers and never past the end.
 */
#include "sdp.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"

/* The state of one parse: the m-section being read (NULL at session
 * level) and session-level ICE and DTLS values for sections without them. */
struct parse {
    struct sdp *s;
    struct sdp_media *m;
    struct sdp_media sess;
};

static int copy_tok(char *dst, size_t cap, const char *p, size_t n)
{
    if (n >= cap)
        return -EINVAL;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 0;
}

/* Length of the token at p: up to a space or end. */
static size_t tok_len(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && *q != ' ')
        q++;
    return (size_t)(q - p);
}

/* Skips one space; -EINVAL if there is none. */
static int space(const char **p, const char *end)
{
    if (*p >= end || **p != ' ')
        return -EINVAL;
    (*p)++;
    return 0;
}

/* A decimal number of at most 10 digits, at most max. */
static int num(const char **p, const char *end, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    const char *q = *p;
    while (q < end && *q >= '0' && *q <= '9' && q - *p < 10)
        v = v * 10 + (uint64_t)(*q++ - '0');
    if (q == *p || v > max)
        return -EINVAL;
    *p = q;
    *out = (uint32_t)v;
    return 0;
}

static int tok_is(const char *p, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(p, word, n) == 0;
}

const struct sdp_codec *sdp_codec_by_pt(const struct sdp_media *m, uint8_t pt)
{
    for (size_t i = 0; i < m->ncodecs; i++)
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    return NULL;
}

uint8_t sdp_extmap_id(const struct sdp_media *m, const char *uri)
{
    for (size_t i = 0; i < m->nextmaps; i++)
        if (strcmp(m->extmaps[i].uri, uri) == 0)
            return m->extmaps[i].id;
    return 0;
}

/* The codec whose payload type starts the value ("111 ..."); *p moves past
 * the type and one space. NULL (not an error) for types not on the m-line
 * or past capacity; -EINVAL in *rc if the number is bad. */
static struct sdp_codec *codec_at(struct sdp_media *m, const char **p, const char *end, int *rc)
{
    uint32_t pt;
    *rc = num(p, end, 127, &pt);
    if (*rc == 0)
        *rc = space(p, end);
    return *rc ? NULL : (struct sdp_codec *)sdp_codec_by_pt(m, (uint8_t)pt);
}

/* --- m-line --- */

static enum sdp_kind kind_of(const char *p, size_t n)
{
    if (tok_is(p, n, "audio"))
        return SDP_AUDIO;
    if (tok_is(p, n, "video"))
        return SDP_VIDEO;
    return tok_is(p, n, "application") ? SDP_APPLICATION : SDP_OTHER;
}

static int media_formats(struct sdp_media *m, const char *p, const char *end)
{
    if (!strstr(m->proto, "RTP"))
        return 0; /* SCTP and others: formats are not payload types */
    while (p < end) {
        uint32_t pt;
        if (space(&p, end) || num(&p, end, 127, &pt))
            return -EINVAL;
        if (m->ncodecs < SDP_MAX_CODECS && !sdp_codec_by_pt(m, (uint8_t)pt))
            m->codecs[m->ncodecs++] = (struct sdp_codec){ .pt = (uint8_t)pt, .apt = -1 };
    }
    return 0;
}

static int media_line(struct parse *ps, const char *p, const char *end)
{
    struct sdp *s = ps->s;
    if (s->nmedia == SDP_MAX_MEDIA)
        return -E2BIG;
    struct sdp_media *m = &s->media[s->nmedia++];
    memset(m, 0, sizeof(*m));
    ps->m = m;
    size_t n = tok_len(p, end);
    m->kind = kind_of(p, n);
    p += n;
    uint32_t port;
    if (space(&p, end) || num(&p, end, 65535, &port))
        return -EINVAL;
    m->port = (uint16_t)port;
    if (p < end && *p == '/') { /* port count: skip */
        uint32_t count;
        p++;
        if (num(&p, end, 65535, &count))
            return -EINVAL;
    }
    if (space(&p, end))
        return -EINVAL;
    n = tok_len(p, end);
    if (n == 0 || copy_tok(m->proto, sizeof(m->proto), p, n))
        return -EINVAL;
    return media_formats(m, p + n, end);
}

/* --- attributes --- */

/* The section ICE and DTLS values go to: the m-section, or the session. */
static struct sdp_media *target(struct parse *ps)
{
    return ps->m ? ps->m : &ps->sess;
}

static int a_group(struct parse *ps, const char *p, const char *end)
{
    if (end - p < 6 || memcmp(p, "BUNDLE", 6) != 0)
        return 0;
    p += 6;
    struct sdp *s = ps->s;
    while (p < end) {
        if (space(&p, end))
            return -EINVAL;
        size_t n = tok_len(p, end);
        if (n == 0 || s->nbundle == SDP_MAX_BUNDLE || copy_tok(s->bundle[s->nbundle++], SDP_TOKEN_MAX, p, n))
            return -EINVAL;
        p += n;
    }
    return 0;
}

static int a_ice_lite(struct parse *ps, const char *p, const char *end)
{
    (void)p, (void)end;
    ps->s->ice_lite = 1;
    return 0;
}

static int a_ufrag(struct parse *ps, const char *p, const char *end)
{
    return copy_tok(target(ps)->ice_ufrag, SDP_TOKEN_MAX, p, (size_t)(end - p));
}

static int a_pwd(struct parse *ps, const char *p, const char *end)
{
    return copy_tok(target(ps)->ice_pwd, SDP_PWD_MAX, p, (size_t)(end - p));
}

/* "sha-256 AB:CD:..."; with several lines (aiortc may list one per hash),
 * a SHA-256 one already read is kept. */
static int a_fingerprint(struct parse *ps, const char *p, const char *end)
{
    struct sdp_media *t = target(ps);
    size_t n = tok_len(p, end);
    if (t->fp[0] && strcasecmp(t->fp_hash, "sha-256") == 0)
        return 0;
    if (copy_tok(t->fp_hash, sizeof(t->fp_hash), p, n))
        return -EINVAL;
    p += n;
    if (space(&p, end))
        return -EINVAL;
    return copy_tok(t->fp, SDP_FP_MAX, p, (size_t)(end - p));
}

static int a_setup(struct parse *ps, const char *p, const char *end)
{
    size_t n = (size_t)(end - p);
    enum sdp_setup *setup = &target(ps)->setup;
    if (tok_is(p, n, "actpass"))
        *setup = SDP_SETUP_ACTPASS;
    else if (tok_is(p, n, "active"))
        *setup = SDP_SETUP_ACTIVE;
    else if (tok_is(p, n, "passive"))
        *setup = SDP_SETUP_PASSIVE;
    else
        return -EINVAL;
    return 0;
}

static int a_mid(struct parse *ps, const char *p, const char *end)
{
    size_t n = (size_t)(end - p);
    for (size_t i = 0; i + 1 < ps->s->nmedia; i++)
        if (tok_is(p, n, ps->s->media[i].mid))
            return -EINVAL;
    return n == 0 ? -EINVAL : copy_tok(ps->m->mid, SDP_TOKEN_MAX, p, n);
}

static int a_flag(struct parse *ps, const char *name)
{
    struct sdp_media *m = ps->m;
    static const char *const dirs[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
    for (int i = 0; i < 4; i++)
        if (strcmp(name, dirs[i]) == 0)
            m->dir = (enum sdp_dir)i;
    if (strcmp(name, "rtcp-mux") == 0)
        m->rtcp_mux = 1;
    if (strcmp(name, "rtcp-rsize") == 0)
        m->rtcp_rsize = 1;
    if (strcmp(name, "bundle-only") == 0)
        m->bundle_only = 1;
    return 0;
}

/* "111 opus/48000/2" */
static int a_rtpmap(struct parse *ps, const char *p, const char *end)
{
    int rc;
    struct sdp_codec *c = codec_at(ps->m, &p, end, &rc);
    if (!c)
        return rc;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    uint32_t clock, ch = 0;
    if (!slash || copy_tok(c->name, SDP_NAME_MAX, p, (size_t)(slash - p)))
        return -EINVAL;
    p = slash + 1;
    if (num(&p, end, UINT32_MAX, &clock))
        return -EINVAL;
    if (p < end && (*p++ != '/' || num(&p, end, 255, &ch)))
        return -EINVAL;
    c->clock = clock;
    c->channels = (uint8_t)ch;
    return p == end ? 0 : -EINVAL;
}

/* "97 apt=96"; parameters too long to keep are dropped, not fatal. */
static int a_fmtp(struct parse *ps, const char *p, const char *end)
{
    int rc;
    struct sdp_codec *c = codec_at(ps->m, &p, end, &rc);
    if (!c)
        return rc;
    if (copy_tok(c->fmtp, SDP_FMTP_MAX, p, (size_t)(end - p)) != 0)
        c->fmtp[0] = '\0';
    const char *apt = strstr(c->fmtp, "apt=");
    uint32_t v;
    if (apt && (apt == c->fmtp || apt[-1] == ';' || apt[-1] == ' ')) {
        const char *q = apt + 4;
        if (num(&q, c->fmtp + strlen(c->fmtp), 127, &v) == 0)
            c->apt = (int)v;
    }
    return 0;
}

static uint8_t fb_bit(const char *p, size_t n)
{
    static const struct { const char *text; uint8_t bit; } fbs[] = {
        { "nack", SDP_FB_NACK }, { "nack pli", SDP_FB_PLI }, { "ccm fir", SDP_FB_FIR },
        { "goog-remb", SDP_FB_REMB }, { "transport-cc", SDP_FB_TRANSPORT_CC },
    };
    for (size_t i = 0; i < sizeof(fbs) / sizeof(fbs[0]); i++)
        if (tok_is(p, n, fbs[i].text))
            return fbs[i].bit;
    return 0;
}

/* "96 nack pli", or "* nack" for every payload type. */
static int a_rtcp_fb(struct parse *ps, const char *p, const char *end)
{
    struct sdp_media *m = ps->m;
    if (p < end && *p == '*') {
        p++;
        if (space(&p, end))
            return -EINVAL;
        uint8_t bit = fb_bit(p, (size_t)(end - p));
        for (size_t i = 0; i < m->ncodecs; i++)
            m->codecs[i].fb |= bit;
        return 0;
    }
    int rc;
    struct sdp_codec *c = codec_at(m, &p, end, &rc);
    if (c)
        c->fb |= fb_bit(p, (size_t)(end - p));
    return rc;
}

/* "3 http://..." or "3/sendonly urn:..."; attributes after the URI ignored. */
static int a_extmap(struct parse *ps, const char *p, const char *end)
{
    struct sdp_media *m = ps->m;
    uint32_t id;
    if (num(&p, end, 255, &id) || id == 0)
        return -EINVAL;
    p += tok_len(p, end); /* a "/direction" suffix */
    if (space(&p, end))
        return -EINVAL;
    size_t n = tok_len(p, end);
    if (n == 0)
        return -EINVAL;
    if (m->nextmaps == SDP_MAX_EXTMAPS)
        return 0;
    struct sdp_extmap *e = &m->extmaps[m->nextmaps];
    e->id = (uint8_t)id;
    if (copy_tok(e->uri, SDP_URI_MAX, p, n) != 0)
        return 0; /* an URI we have no room for is one we do not use */
    m->nextmaps++;
    return 0;
}

static struct sdp_ssrc *ssrc_entry(struct sdp_media *m, uint32_t ssrc)
{
    for (size_t i = 0; i < m->nssrcs; i++)
        if (m->ssrcs[i].ssrc == ssrc)
            return &m->ssrcs[i];
    if (m->nssrcs == SDP_MAX_SSRCS)
        return NULL;
    m->ssrcs[m->nssrcs] = (struct sdp_ssrc){ .ssrc = ssrc };
    return &m->ssrcs[m->nssrcs++];
}

/* "3133617717 cname:tsqTnOkx57JYR50V" (other attributes: the SSRC only) */
static int a_ssrc(struct parse *ps, const char *p, const char *end)
{
    uint32_t ssrc;
    if (num(&p, end, UINT32_MAX, &ssrc) || space(&p, end))
        return -EINVAL;
    struct sdp_ssrc *e = ssrc_entry(ps->m, ssrc);
    if (e && end - p > 6 && memcmp(p, "cname:", 6) == 0)
        return copy_tok(e->cname, SDP_TOKEN_MAX, p + 6, (size_t)(end - p - 6));
    return 0;
}

/* One FID pair: the first is m->fid, each is kept in m->fids (past
 * SDP_MAX_RIDS they are ignored). */
static void fid_pair(struct sdp_media *m, const uint32_t pair[2])
{
    if (!m->fid[0])
        memcpy(m->fid, pair, sizeof(m->fid));
    if (m->nfids < SDP_MAX_RIDS)
        memcpy(m->fids[m->nfids++], pair, sizeof(m->fids[0]));
}

/* "FID 2405006125 1085112279" or "SIM a b c"; other semantics ignored. */
static int a_ssrc_group(struct parse *ps, const char *p, const char *end)
{
    struct sdp_media *m = ps->m;
    size_t n = tok_len(p, end), cap, count = 0;
    uint32_t *dst, pair[2];
    if (tok_is(p, n, "FID"))
        dst = pair, cap = 2;
    else if (tok_is(p, n, "SIM"))
        dst = m->sim, cap = 3;
    else
        return 0;
    for (p += n; p < end; count++) {
        uint32_t v;
        if (count == cap || space(&p, end) || num(&p, end, UINT32_MAX, &v))
            return -EINVAL;
        dst[count] = v;
    }
    if (dst == m->sim)
        m->nsim = count;
    if (dst == pair && count == 2)
        fid_pair(m, pair);
    return count >= 2 ? 0 : -EINVAL;
}

/* "q send" or "q recv pt=96;max-width=640" */
static int a_rid(struct parse *ps, const char *p, const char *end)
{
    struct sdp_media *m = ps->m;
    size_t n = tok_len(p, end);
    if (n == 0 || m->nrids == SDP_MAX_RIDS)
        return n == 0 ? -EINVAL : 0;
    struct sdp_rid *r = &m->rids[m->nrids];
    if (copy_tok(r->id, SDP_TOKEN_MAX, p, n))
        return -EINVAL;
    p += n;
    if (space(&p, end))
        return -EINVAL;
    n = tok_len(p, end);
    if (!tok_is(p, n, "send") && !tok_is(p, n, "recv"))
        return -EINVAL;
    r->send = tok_is(p, n, "send");
    m->nrids++;
    return 0;
}

static int a_simulcast(struct parse *ps, const char *p, const char *end)
{
    return copy_tok(ps->m->simulcast, SDP_SIMULCAST_MAX, p, (size_t)(end - p));
}

/* "- a827ceb9-..." : stream id (or "-") and track id */
static int a_msid(struct parse *ps, const char *p, const char *end)
{
    struct sdp_media *m = ps->m;
    size_t n = tok_len(p, end);
    if (n == 0 || copy_tok(m->msid_stream, SDP_TOKEN_MAX, p, n))
        return -EINVAL;
    p += n;
    if (p == end)
        return 0;
    if (space(&p, end))
        return -EINVAL;
    return copy_tok(m->msid_track, SDP_TOKEN_MAX, p, tok_len(p, end));
}

typedef int (*attr_fn)(struct parse *ps, const char *p, const char *end);

/* Attributes with a value; media: only inside an m-section. */
static const struct { const char *name; attr_fn fn; int media; } attrs[] = {
    { "group", a_group, 0 },         { "ice-ufrag", a_ufrag, 0 },    { "ice-pwd", a_pwd, 0 },
    { "fingerprint", a_fingerprint, 0 }, { "setup", a_setup, 0 },    { "mid", a_mid, 1 },
    { "rtpmap", a_rtpmap, 1 },       { "fmtp", a_fmtp, 1 },          { "rtcp-fb", a_rtcp_fb, 1 },
    { "extmap", a_extmap, 1 },       { "ssrc", a_ssrc, 1 },          { "ssrc-group", a_ssrc_group, 1 },
    { "rid", a_rid, 1 },             { "simulcast", a_simulcast, 1 }, { "msid", a_msid, 1 },
    { "ice-lite", a_ice_lite, 0 },
};

/* One "a=" line's text after "a=". */
static int attribute(struct parse *ps, const char *p, const char *end)
{
    const char *colon = memchr(p, ':', (size_t)(end - p));
    const char *name_end = colon ? colon : end;
    size_t n = (size_t)(name_end - p);
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        if (!tok_is(p, n, attrs[i].name))
            continue;
        if (attrs[i].media && !ps->m)
            return 0; /* e.g. a session-level a=extmap: not ours to read */
        return attrs[i].fn(ps, colon ? colon + 1 : end, end);
    }
    char flag[16];
    if (!colon && ps->m && copy_tok(flag, sizeof(flag), p, n) == 0)
        return a_flag(ps, flag);
    return 0;
}

/* Gives m-sections the session-level values they lack (Firefox puts the
 * fingerprint there). */
static void inherit(struct sdp *s, const struct sdp_media *sess)
{
    for (size_t i = 0; i < s->nmedia; i++) {
        struct sdp_media *m = &s->media[i];
        if (!m->ice_ufrag[0])
            memcpy(m->ice_ufrag, sess->ice_ufrag, sizeof(m->ice_ufrag));
        if (!m->ice_pwd[0])
            memcpy(m->ice_pwd, sess->ice_pwd, sizeof(m->ice_pwd));
        if (!m->fp[0]) {
            memcpy(m->fp_hash, sess->fp_hash, sizeof(m->fp_hash));
            memcpy(m->fp, sess->fp, sizeof(m->fp));
        }
        if (m->setup == SDP_SETUP_NONE)
            m->setup = sess->setup;
    }
}

static int line(struct parse *ps, const char *p, const char *end, int first)
{
    /* RFC 8866 §5: no CR, LF or NUL inside a line */
    if (end - p < 2 || p[1] != '=' || memchr(p, '\r', (size_t)(end - p)) || memchr(p, '\0', (size_t)(end - p)))
        return -EINVAL;
    if (first)
        return (end - p == 3 && p[0] == 'v' && p[2] == '0') ? 0 : -EINVAL;
    if (p[0] == 'm')
        return media_line(ps, p + 2, end);
    if (p[0] == 'a')
        return attribute(ps, p + 2, end);
    return 0;
}

int sdp_parse(const char *text, size_t len, struct sdp *out)
{
    struct parse *ps = xcalloc(1, sizeof(*ps)); /* ~7 KB: off the loop's stack */
    memset(out, 0, sizeof(*out));
    ps->s = out;
    const char *p = text, *end = text + len;
    int rc = 0, n = 0;
    while (p < end && rc == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *le = (e > p && e[-1] == '\r') ? e - 1 : e;
        n++;
        if (le > p || n == 1)
            rc = line(ps, p, le, n == 1);
        p = nl ? nl + 1 : end;
    }
    if (rc == 0 && n == 0)
        rc = -EINVAL;
    out->err_line = rc ? (n ? n : 1) : 0;
    if (rc == 0)
        inherit(out, &ps->sess);
    xfree(ps);
    return rc;
}
