/*
 * session — ICE-lite + DTLS-SRTP + SRTP for one browser transport (see
 * session.h).
 */
#include "session.h"

#include <errno.h>
#include <string.h>

#include "base/alloc.h"
#include "rtp.h"
#include "srtp.h"

#define SFU_SESSION_EARLY_MAX 1500 /* a DTLS flight of a browser fits in one datagram this size */

struct sfu_session {
    struct ice_lite ice;
    struct dtls_session *dtls;
    struct sfu_srtp *in, *out;
    struct dtls_server *srv;
    struct sfu_session_ops ops;
    void *ud;
    enum sfu_session_state state;
    struct stun_addr dtls_from; /* where DTLS came from, before a nomination */
    int have_dtls_from;
    /* Before the browser's fingerprint is known (dtls NULL): the latest
     * DTLS datagram from a valid address, fed once it is. */
    uint8_t *early;
    size_t early_len;
    struct stun_addr early_from;
};

static int addr_eq(const struct stun_addr *a, const struct stun_addr *b)
{
    size_t n = a->family == STUN_IPV4 ? 4 : 16;
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, n) == 0;
}

/* Where we send: the selected pair, else where DTLS came from. */
static const struct stun_addr *media_addr(const struct sfu_session *s)
{
    const struct ice_pair *sel = ice_lite_selected(&s->ice);
    if (sel)
        return &sel->remote;
    return s->have_dtls_from ? &s->dtls_from : NULL;
}

static void on_dtls_send(void *ud, const uint8_t *buf, size_t len)
{
    struct sfu_session *s = ud;
    const struct stun_addr *to = media_addr(s);
    if (to)
        s->ops.send(s->ud, to, buf, len);
}

struct sfu_session *sfu_session_new(struct dtls_server *srv, const struct sfu_session_params *p,
                                    const struct sfu_session_ops *ops, void *ud)
{
    struct sfu_session *s = xcalloc(1, sizeof(*s));
    s->ops = *ops;
    s->ud = ud;
    s->srv = srv;
    if (ice_lite_init(&s->ice, p->local_ufrag, p->local_pwd, p->remote_ufrag) != 0)
        goto fail;
    if (!p->fp_hash) /* an offer of ours: the answer brings the rest */
        return s;
    s->dtls = dtls_session_new(srv, p->fp_hash, p->fp_hex, on_dtls_send, NULL, s);
    if (!s->dtls)
        goto fail;
    return s;
fail:
    xfree(s);
    return NULL;
}

void sfu_session_free(struct sfu_session *s)
{
    if (!s)
        return;
    dtls_session_free(s->dtls);
    xfree(s->early);
    sfu_srtp_free(s->in);
    sfu_srtp_free(s->out);
    xfree(s);
}

static void set_state(struct sfu_session *s, enum sfu_session_state st)
{
    if (s->state == st)
        return;
    s->state = st;
    if (s->ops.state)
        s->ops.state(s->ud, st);
}

/* True if an ICE check from `a` succeeded: the address passed ICE. */
static int valid_remote(const struct sfu_session *s, const struct stun_addr *a)
{
    for (int i = 0; i < ICE_MAX_PAIRS; i++)
        if (s->ice.pairs[i].in_use && addr_eq(&s->ice.pairs[i].remote, a))
            return 1;
    return 0;
}

static enum sfu_input input_stun(struct sfu_session *s, const uint8_t *buf, size_t len,
                                 const struct stun_addr *from, uint64_t now_ms)
{
    uint8_t resp[ICE_RESPONSE_MAX];
    struct ice_result res;
    int n = ice_lite_handle(&s->ice, buf, len, from, now_ms, resp, sizeof(resp), &res);
    if (n > 0)
        s->ops.send(s->ud, from, resp, (size_t)n);
    if (res.verdict != ICE_SUCCESS)
        return SFU_IN_ICE_REJECTED;
    if (s->ops.pair)
        s->ops.pair(s->ud, from);
    return SFU_IN_OK;
}

/* The handshake finished: SRTP contexts from the exported keys. */
static void start_srtp(struct sfu_session *s)
{
    struct dtls_srtp_keys k;
    if (dtls_session_keys(s->dtls, &k) == 0) {
        s->in = sfu_srtp_from_dtls(&k, SFU_SRTP_INBOUND);
        s->out = sfu_srtp_from_dtls(&k, SFU_SRTP_OUTBOUND);
    }
    set_state(s, s->in && s->out ? SFU_SESSION_CONNECTED : SFU_SESSION_FAILED);
}

static void after_dtls(struct sfu_session *s, enum dtls_state st)
{
    if (st == DTLS_CONNECTED && s->state == SFU_SESSION_NEW)
        start_srtp(s);
    else if (st == DTLS_FAILED)
        set_state(s, SFU_SESSION_FAILED);
    else if (st == DTLS_CLOSED)
        set_state(s, SFU_SESSION_CLOSED);
}

static enum sfu_input input_dtls(struct sfu_session *s, const uint8_t *buf, size_t len,
                                 const struct stun_addr *from)
{
    if (!valid_remote(s, from))
        return SFU_IN_UNKNOWN_ADDR;
    if (dtls_record_check(buf, len) != 0)
        return SFU_IN_BAD_DTLS;
    if (!s->dtls) { /* the answer with the fingerprint is on its way */
        if (!s->early)
            s->early = xmalloc(SFU_SESSION_EARLY_MAX);
        s->early_len = len < SFU_SESSION_EARLY_MAX ? len : 0;
        memcpy(s->early, buf, s->early_len);
        s->early_from = *from;
        return SFU_IN_NOT_READY;
    }
    s->dtls_from = *from;
    s->have_dtls_from = 1;
    enum dtls_state st = dtls_session_feed(s->dtls, buf, len);
    after_dtls(s, st);
    return st == DTLS_FAILED ? SFU_IN_DTLS_FAILED : SFU_IN_OK;
}

static enum sfu_input srtp_verdict(enum sfu_srtp_status st)
{
    if (st == SFU_SRTP_AUTH_FAIL || st == SFU_SRTP_REPLAY)
        return SFU_IN_SRTP_AUTH;
    return SFU_IN_BAD_PACKET;
}

static enum sfu_input input_media(struct sfu_session *s, uint8_t *buf, size_t len, size_t cap,
                                  const struct stun_addr *from)
{
    if (!valid_remote(s, from))
        return SFU_IN_UNKNOWN_ADDR;
    if (s->state != SFU_SESSION_CONNECTED)
        return SFU_IN_NOT_READY;
    int rtcp = rtp_is_rtcp(buf, len);
    enum sfu_srtp_status st = rtcp ? sfu_srtp_unprotect_rtcp(s->in, buf, &len) : sfu_srtp_unprotect(s->in, buf, &len);
    if (st != SFU_SRTP_OK)
        return srtp_verdict(st);
    if (rtcp && s->ops.rtcp)
        s->ops.rtcp(s->ud, buf, len, cap);
    else if (!rtcp && s->ops.rtp)
        s->ops.rtp(s->ud, buf, len, cap);
    return SFU_IN_OK;
}

enum sfu_input sfu_session_input(struct sfu_session *s, uint8_t *buf, size_t len, size_t cap,
                                 const struct stun_addr *from, uint64_t now_ms)
{
    if (len == 0)
        return SFU_IN_BAD_PACKET;
    uint8_t b = buf[0];
    if (b <= 3)
        return input_stun(s, buf, len, from, now_ms);
    if (b >= 20 && b <= 63) {
        if (s->state == SFU_SESSION_FAILED)
            return SFU_IN_DTLS_FAILED;
        return input_dtls(s, buf, len, from);
    }
    if (b >= 128 && b <= 191 && len >= RTP_HEADER_LEN)
        return input_media(s, buf, len, cap, from);
    return SFU_IN_BAD_PACKET;
}

static int send_protected(struct sfu_session *s, uint8_t *buf, size_t len, size_t cap, int rtcp)
{
    const struct stun_addr *to = media_addr(s);
    if (s->state != SFU_SESSION_CONNECTED || !to)
        return -EAGAIN;
    enum sfu_srtp_status st = rtcp ? sfu_srtp_protect_rtcp(s->out, buf, &len, cap)
                                   : sfu_srtp_protect(s->out, buf, &len, cap);
    if (st != SFU_SRTP_OK)
        return -EIO;
    s->ops.send(s->ud, to, buf, len);
    return 0;
}

int sfu_session_send_rtp(struct sfu_session *s, uint8_t *buf, size_t len, size_t cap)
{
    return send_protected(s, buf, len, cap, 0);
}

int sfu_session_send_rtcp(struct sfu_session *s, uint8_t *buf, size_t len, size_t cap)
{
    return send_protected(s, buf, len, cap, 1);
}

int sfu_session_set_remote(struct sfu_session *s, const char *remote_ufrag, const char *fp_hash,
                           const char *fp_hex)
{
    if (s->dtls || !fp_hash || ice_lite_set_remote(&s->ice, remote_ufrag) != 0)
        return -1;
    s->dtls = dtls_session_new(s->srv, fp_hash, fp_hex, on_dtls_send, NULL, s);
    if (!s->dtls)
        return -1;
    if (s->early && s->early_len) { /* the ClientHello that came before the answer */
        s->dtls_from = s->early_from;
        s->have_dtls_from = 1;
        after_dtls(s, dtls_session_feed(s->dtls, s->early, s->early_len));
    }
    xfree(s->early);
    s->early = NULL;
    s->early_len = 0;
    return 0;
}

int sfu_session_restart_ice(struct sfu_session *s, const char *local_ufrag, const char *local_pwd,
                            const char *remote_ufrag)
{
    return ice_lite_restart(&s->ice, local_ufrag, local_pwd, remote_ufrag) == 0 ? 0 : -1;
}

uint64_t sfu_session_last_check(const struct sfu_session *s, uint64_t since)
{
    uint64_t last = since;
    for (int i = 0; i < ICE_MAX_PAIRS; i++)
        if (s->ice.pairs[i].in_use && s->ice.pairs[i].last_check_ms > last)
            last = s->ice.pairs[i].last_check_ms;
    return last;
}

enum sfu_session_state sfu_session_state(const struct sfu_session *s)
{
    return s->state;
}

const struct ice_lite *sfu_session_ice(const struct sfu_session *s)
{
    return &s->ice;
}

const char *sfu_session_error(const struct sfu_session *s)
{
    return s->dtls ? dtls_session_error(s->dtls) : "";
}

int64_t sfu_session_deadline(const struct sfu_session *s, uint64_t now_ms)
{
    if (s->state != SFU_SESSION_NEW || !s->dtls)
        return -1;
    return dtls_session_deadline(s->dtls, (int64_t)now_ms);
}

void sfu_session_on_timer(struct sfu_session *s)
{
    if (s->state != SFU_SESSION_NEW || !s->dtls)
        return;
    after_dtls(s, dtls_session_on_timer(s->dtls));
}
