/*
 * ice_lite — answering connectivity checks, tracking candidate pairs and
 * nomination for one ICE-lite session (see ice_lite.h).
 */
#include "ice_lite.h"

#include <errno.h>
#include <string.h>

#include "wire.h"

static int copy_str(char *dst, size_t cap, size_t *len, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n == 0 || n > cap)
        return -EINVAL;
    memcpy(dst, src, n + 1);
    *len = n;
    return 0;
}

int ice_lite_init(struct ice_lite *ice, const char *local_ufrag, const char *local_pwd,
                  const char *remote_ufrag)
{
    memset(ice, 0, sizeof(*ice));
    ice->selected = -1;
    if (copy_str(ice->local_ufrag, ICE_UFRAG_MAX, &ice->local_ufrag_len, local_ufrag) ||
        copy_str(ice->local_pwd, ICE_PWD_MAX, &ice->local_pwd_len, local_pwd))
        return -EINVAL;
    return remote_ufrag ? ice_lite_set_remote(ice, remote_ufrag) : 0;
}

int ice_lite_set_remote(struct ice_lite *ice, const char *remote_ufrag)
{
    if (copy_str(ice->remote_ufrag, ICE_UFRAG_MAX, &ice->remote_ufrag_len, remote_ufrag))
        return -EINVAL;
    int best = -1;
    for (int i = 0; i < ICE_MAX_PAIRS; i++) {
        struct ice_pair *p = &ice->pairs[i];
        if (p->in_use && strcmp(p->ufrag, ice->remote_ufrag) != 0)
            *p = (struct ice_pair){ 0 };
        if (p->in_use && p->nominated && (best < 0 || p->priority > ice->pairs[best].priority))
            best = i;
    }
    if (ice->selected >= 0 && !ice->pairs[ice->selected].in_use)
        ice->selected = best;
    return 0;
}

int ice_lite_ufrag(const uint8_t *buf, size_t len, struct stun_str *ufrag)
{
    if (len < STUN_HEADER_LEN || wire_rd16(buf) != stun_type(STUN_BINDING, STUN_REQUEST) ||
        wire_rd32(buf + 4) != STUN_COOKIE || wire_rd16(buf + 2) + (size_t)STUN_HEADER_LEN != len)
        return -EINVAL;
    size_t off = STUN_HEADER_LEN;
    while (off + 4 <= len) {
        uint16_t type = wire_rd16(buf + off), alen = wire_rd16(buf + off + 2);
        if (off + 4 + alen > len)
            return -EINVAL;
        if (type == STUN_ATTR_USERNAME) {
            const uint8_t *colon = memchr(buf + off + 4, ':', alen);
            if (!colon)
                return -EINVAL;
            ufrag->p = buf + off + 4;
            ufrag->len = (size_t)(colon - ufrag->p);
            return 0;
        }
        off += 4 + (((size_t)alen + 3) & ~(size_t)3);
    }
    return -EINVAL;
}

int ice_lite_build_success(const uint8_t txid[STUN_TXID_LEN], const struct stun_addr *mapped,
                           const char *pwd, size_t pwd_len, uint16_t integrity_type,
                           uint8_t *resp, size_t cap)
{
    struct stun_builder b;
    stun_builder_init(&b, resp, cap, stun_type(STUN_BINDING, STUN_SUCCESS), txid);
    stun_builder_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, mapped);
    if (integrity_type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
        stun_builder_add_integrity_sha256(&b, (const uint8_t *)pwd, pwd_len);
    else
        stun_builder_add_integrity(&b, (const uint8_t *)pwd, pwd_len);
    stun_builder_add_fingerprint(&b);
    return stun_builder_finish(&b);
}

/* An error response; integrity only for requests that authenticated. */
static int build_error(const struct ice_lite *ice, const struct stun_msg *m, int code, int with_integrity,
                       const uint16_t *unknown, size_t nunknown, uint8_t *resp, size_t cap)
{
    struct stun_builder b;
    stun_builder_init(&b, resp, cap, stun_type(STUN_BINDING, STUN_ERROR), m->txid);
    stun_builder_add_error(&b, code, NULL);
    if (nunknown)
        stun_builder_add_unknown(&b, unknown, nunknown);
    const uint8_t *key = (const uint8_t *)ice->local_pwd;
    if (with_integrity && stun_msg_integrity_type(m) == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
        stun_builder_add_integrity_sha256(&b, key, ice->local_pwd_len);
    else if (with_integrity)
        stun_builder_add_integrity(&b, key, ice->local_pwd_len);
    stun_builder_add_fingerprint(&b);
    return stun_builder_finish(&b);
}

/* USERNAME must be "local:remote"; the remote half is free until known. */
static int username_ok(const struct ice_lite *ice, struct stun_str u)
{
    size_t l = ice->local_ufrag_len;
    if (u.len < l + 2 || u.p[l] != ':' || memcmp(u.p, ice->local_ufrag, l) != 0)
        return 0;
    if (ice->remote_ufrag_len == 0)
        return 1;
    return u.len == l + 1 + ice->remote_ufrag_len && memcmp(u.p + l + 1, ice->remote_ufrag, ice->remote_ufrag_len) == 0;
}

/* The authentication steps: 0, or the error code (400/401) to answer. */
static int authenticate(const struct ice_lite *ice, const struct stun_msg *m)
{
    struct stun_str user;
    if (m->fp < 0 || stun_msg_str(m, STUN_ATTR_USERNAME, &user) != 0 || stun_msg_integrity_type(m) == 0)
        return 400;
    if (!username_ok(ice, user))
        return 401;
    if (stun_check_integrity(m, (const uint8_t *)ice->local_pwd, ice->local_pwd_len) != 0)
        return 401;
    return 0;
}

/* The ICE steps after authentication: 0 with *prio, or 420/400/487. */
static int check_ice(const struct stun_msg *m, uint32_t *prio, uint16_t *unknown, size_t *nunknown)
{
    static const uint16_t known[] = { STUN_ATTR_USERNAME, STUN_ATTR_PRIORITY, STUN_ATTR_USE_CANDIDATE };
    *nunknown = stun_msg_unknown_required(m, known, sizeof(known) / sizeof(known[0]), unknown, 8);
    if (*nunknown)
        return 420;
    if (stun_msg_u32(m, STUN_ATTR_PRIORITY, prio) != 0)
        return 400;
    /* A lite agent is always controlled (RFC 8445 §6.1.1): a peer that says
     * it is controlled too has a role conflict we cannot resolve by switching. */
    if (stun_msg_has(m, STUN_ATTR_ICE_CONTROLLED))
        return 487;
    if (!stun_msg_has(m, STUN_ATTR_ICE_CONTROLLING))
        return 400;
    return 0;
}

static int same_addr(const struct stun_addr *a, const struct stun_addr *b)
{
    size_t n = a->family == STUN_IPV4 ? 4 : 16;
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, n) == 0;
}

/* The pair for `from`: found, a free slot, or the least recently checked
 * pair that is not selected. */
static int pair_for(struct ice_lite *ice, const struct stun_addr *from)
{
    int oldest = -1;
    for (int i = 0; i < ICE_MAX_PAIRS; i++) {
        const struct ice_pair *p = &ice->pairs[i];
        if (p->in_use && same_addr(&p->remote, from))
            return i;
    }
    for (int i = 0; i < ICE_MAX_PAIRS; i++) {
        const struct ice_pair *p = &ice->pairs[i];
        if (!p->in_use)
            return i;
        if (i != ice->selected && (oldest < 0 || p->last_check_ms < ice->pairs[oldest].last_check_ms))
            oldest = i;
    }
    ice->pairs[oldest] = (struct ice_pair){ 0 };
    return oldest;
}

static void update_pair(struct ice_lite *ice, const struct stun_msg *m, const struct stun_addr *from, uint32_t prio,
                        uint64_t now_ms, struct ice_result *res)
{
    int i = pair_for(ice, from);
    struct ice_pair *p = &ice->pairs[i];
    struct stun_str user;
    size_t l = ice->local_ufrag_len + 1; /* USERNAME is "ours:theirs" (checked) */
    if (stun_msg_str(m, STUN_ATTR_USERNAME, &user) == 0 && user.len > l && user.len - l <= ICE_UFRAG_MAX) {
        memcpy(p->ufrag, user.p + l, user.len - l);
        p->ufrag[user.len - l] = '\0';
    }
    p->remote = *from;
    p->priority = prio;
    p->last_check_ms = now_ms;
    p->in_use = 1;
    res->pair = i;
    if (!res->use_candidate)
        return;
    p->nominated = 1;
    /* After a restart the old selected pair is no longer nominated: the
     * first pair nominated with the new credentials takes over. */
    const struct ice_pair *sel = ice->selected >= 0 ? &ice->pairs[ice->selected] : NULL;
    if (!sel || !sel->nominated || (i != ice->selected && prio > sel->priority)) {
        ice->selected = i;
        res->selected_changed = 1;
    }
}

int ice_lite_handle(struct ice_lite *ice, const uint8_t *req, size_t len, const struct stun_addr *from,
                    uint64_t now_ms, uint8_t *resp, size_t cap, struct ice_result *res)
{
    struct stun_msg m;
    *res = (struct ice_result){ .verdict = ICE_DROP, .pair = -1 };
    if (stun_msg_decode(req, len, &m) != STUN_OK || m.type != stun_type(STUN_BINDING, STUN_REQUEST))
        return 0;
    if (m.fp >= 0 && stun_check_fingerprint(&m) != 0)
        return 0;
    uint16_t unknown[8];
    size_t nunknown = 0;
    uint32_t prio = 0;
    int code = authenticate(ice, &m);
    int authed = code == 0;
    if (authed)
        code = check_ice(&m, &prio, unknown, &nunknown);
    if (code) {
        res->verdict = ICE_ERROR;
        res->error_code = code;
        return build_error(ice, &m, code, authed, unknown, nunknown, resp, cap);
    }
    res->verdict = ICE_SUCCESS;
    res->use_candidate = stun_msg_has(&m, STUN_ATTR_USE_CANDIDATE);
    int n = ice_lite_build_success(m.txid, from, ice->local_pwd, ice->local_pwd_len,
                                   stun_msg_integrity_type(&m), resp, cap);
    if (n > 0)
        update_pair(ice, &m, from, prio, now_ms, res);
    return n;
}

int ice_lite_restart(struct ice_lite *ice, const char *local_ufrag, const char *local_pwd, const char *remote_ufrag)
{
    struct ice_lite fresh;
    if (ice_lite_init(&fresh, local_ufrag, local_pwd, remote_ufrag) != 0)
        return -EINVAL;
    memcpy(fresh.pairs, ice->pairs, sizeof(fresh.pairs));
    for (int i = 0; i < ICE_MAX_PAIRS; i++)
        fresh.pairs[i].nominated = 0;
    fresh.selected = ice->selected;
    *ice = fresh;
    return 0;
}

const struct ice_pair *ice_lite_selected(const struct ice_lite *ice)
{
    return ice->selected >= 0 ? &ice->pairs[ice->selected] : NULL;
}

int ice_lite_consent(const struct ice_lite *ice, uint64_t now_ms, uint64_t timeout_ms)
{
    const struct ice_pair *p = ice_lite_selected(ice);
    return p && now_ms - p->last_check_ms <= timeout_ms;
}
