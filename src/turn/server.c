/*
 * server — TURN requests: Binding, Allocate, Refresh, CreatePermission,
 * ChannelBind, Send indications and ChannelData, with long-term
 * authentication (see server.h). Relay sockets and the data path are in
 * relay.c.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "../base/alloc.h"
#include "../base/clock.h"
#include "../base/log.h"
#include "../net/sock.h"
#include "turn.h"

#define SWEEP_MS 60000

/* --- addresses --- */

/* The client's address as STUN shows it: IPv4-mapped IPv6 as IPv4. */
static void source_addr(const struct turn_source *src, struct stun_addr *out)
{
    stun_addr_from_sockaddr(out, (const struct sockaddr *)&src->addr);
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (out->family == STUN_IPV6 && memcmp(out->ip, mapped, 12) == 0) {
        out->family = STUN_IPV4;
        memmove(out->ip, out->ip + 12, 4);
        memset(out->ip + 4, 0, 12);
    }
}

/* Writes a (normalised: IPv4-mapped as IPv4) address as family, port, IP. */
static uint8_t *key_addr(uint8_t *p, const struct sockaddr_storage *ss)
{
    struct stun_addr a;
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (stun_addr_from_sockaddr(&a, (const struct sockaddr *)ss) < 0)
        memset(&a, 0, sizeof(a)); /* no local address known: all zero */
    if (a.family == STUN_IPV6 && memcmp(a.ip, mapped, 12) == 0) {
        a.family = STUN_IPV4;
        memmove(a.ip, a.ip + 12, 4);
    }
    size_t n = a.family == STUN_IPV4 ? 4 : 16;
    *p++ = a.family;
    *p++ = (uint8_t)(a.port >> 8);
    *p++ = (uint8_t)a.port;
    memcpy(p, a.ip, n);
    return p + n;
}

/* The binary key of a client's 5-tuple: the transport, then for UDP the
 * client's address and the local address it sent to (the server side of
 * the 5-tuple), for streams the connection. Returns its length. */
static size_t tuple_key(const struct turn_source *src, uint8_t out[KEYMAP_KEY_MAX])
{
    out[0] = (uint8_t)src->transport;
    if (src->transport != TURN_UDP) {
        memcpy(out + 1, &src->ctx, sizeof(src->ctx));
        return 1 + sizeof(src->ctx);
    }
    uint8_t *p = key_addr(out + 1, &src->addr);
    p = key_addr(p, &src->local);
    return (size_t)(p - out);
}

struct turn_alloc *turn_find_alloc(struct turn_server *ts, const struct turn_source *src)
{
    uint8_t key[KEYMAP_KEY_MAX];
    size_t n = tuple_key(src, key);
    struct keymap_entry *e = keymap_get(&ts->allocs, key, n);
    return e ? container_of(e, struct turn_alloc, by_tuple) : NULL;
}

void turn_send_client(struct turn_alloc *a, const uint8_t *buf, size_t len)
{
    a->src.send(&a->src, buf, len);
}

/* --- replies --- */

struct reply {
    struct stun_builder b;
    uint8_t buf[TURN_MAX_DATAGRAM];
};

static void reply_start(struct reply *r, const struct stun_msg *req, enum stun_class cls)
{
    stun_builder_init(&r->b, r->buf, sizeof(r->buf), stun_type(stun_method_of(req->type), cls), req->txid);
}

/* Adds SOFTWARE, the integrity the request used (if key), FINGERPRINT; sends. */
static void reply_send(struct turn_server *ts, const struct turn_source *src, struct reply *r,
                       const struct stun_msg *req, const uint8_t *key)
{
    if (ts->opt.software)
        stun_builder_add(&r->b, STUN_ATTR_SOFTWARE, ts->opt.software, strlen(ts->opt.software));
    if (key && stun_msg_integrity_type(req) == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
        stun_builder_add_integrity_sha256(&r->b, key, AUTH_KEY_MD5_LEN);
    else if (key)
        stun_builder_add_integrity(&r->b, key, AUTH_KEY_MD5_LEN);
    stun_builder_add_fingerprint(&r->b);
    int n = stun_builder_finish(&r->b);
    if (n > 0)
        src->send(src, r->buf, (size_t)n);
}

static void add_nonce(struct turn_server *ts, const struct turn_source *src, struct reply *r)
{
    char nonce[AUTH_NONCE_LEN + 1];
    struct stun_addr a;
    source_addr(src, &a);
    struct stun_str secret = { ts->nonce_secret, sizeof(ts->nonce_secret) };
    if (auth_nonce_make(secret, (uint64_t)clock_unix_s(), a.ip, a.family == STUN_IPV4 ? 4 : 16, nonce) == 0)
        stun_builder_add(&r->b, STUN_ATTR_NONCE, nonce, AUTH_NONCE_LEN);
    stun_builder_add(&r->b, STUN_ATTR_REALM, ts->opt.realm, strlen(ts->opt.realm));
}

static int unauth_allowed(struct turn_server *ts, const struct turn_source *src, int binding);

/* An error answer. key NULL: to a request not authenticated (401 and 438
 * carry REALM and NONCE), rate-limited per source. */
static void send_error(struct turn_server *ts, const struct turn_source *src, const struct stun_msg *req, int code,
                       const uint8_t *key)
{
    if (!key && !unauth_allowed(ts, src, 0))
        return;
    struct reply r;
    reply_start(&r, req, STUN_ERROR);
    stun_builder_add_error(&r.b, code, NULL);
    if (code == 401 || code == 438)
        add_nonce(ts, src, &r);
    reply_send(ts, src, &r, req, key);
}

/* --- authentication --- */

/* The key of a source for per-source limits: tincan's one rule
 * (sock_ip_source: IPv4 as itself, IPv6 by its /64, which one host holds
 * whole). Returns the key length. */
static size_t source_key(const struct turn_source *src, uint8_t out[16])
{
    struct sock_ip ip;
    sock_ip_source(&src->addr, &ip);
    memcpy(out, ip.b, sizeof(ip.b));
    return sizeof(ip.b);
}

static int unauth_allowed(struct turn_server *ts, const struct turn_source *src, int binding)
{
    uint8_t key[16];
    size_t klen = source_key(src, key);
    uint64_t shared = ts->unauth.shared;
    int ok = unauth_take(&ts->unauth, key, klen, binding ? UNAUTH_BINDING : UNAUTH_ERROR, loop_now(ts->loop));
    ts->stats.unauth_shared += ts->unauth.shared - shared;
    if (ok)
        return 1;
    if (binding)
        ts->stats.binding_limited++;
    else
        ts->stats.unauth_limited++;
    return 0;
}

static void challenge(struct turn_server *ts, const struct turn_source *src, const struct stun_msg *req)
{
    ts->stats.auth_failures++;
    send_error(ts, src, req, 401, NULL);
}

/* Finds the long-term key of username; -1 if unknown or expired. */
static int user_key(struct turn_server *ts, struct stun_str user, uint8_t key[AUTH_KEY_MD5_LEN])
{
    for (int i = 0; i < ts->nstatic; i++) {
        if (strlen(ts->static_users[i].name) == user.len && memcmp(ts->static_users[i].name, user.p, user.len) == 0) {
            memcpy(key, ts->static_users[i].key, AUTH_KEY_MD5_LEN);
            return 0;
        }
    }
    if (!ts->opt.secret)
        return -1;
    return auth_rest_key(auth_cstr(ts->opt.secret), user, auth_cstr(ts->opt.realm), (uint64_t)clock_unix_s(), key) ==
                   AUTH_OK
               ? 0
               : -1;
}

/* Checks a request's credentials; fills key and user. Returns 0, or -1
 * after answering (401, 438, 400). */
static int authenticate(struct turn_server *ts, const struct turn_source *src, const struct stun_msg *req,
                        uint8_t key[AUTH_KEY_MD5_LEN], struct stun_str *user)
{
    struct stun_str realm, nonce;
    if (stun_msg_integrity_type(req) == 0) {
        challenge(ts, src, req);
        return -1;
    }
    if (stun_msg_str(req, STUN_ATTR_USERNAME, user) || stun_msg_str(req, STUN_ATTR_REALM, &realm) ||
        stun_msg_str(req, STUN_ATTR_NONCE, &nonce)) {
        send_error(ts, src, req, 400, NULL);
        return -1;
    }
    struct stun_addr a;
    source_addr(src, &a);
    struct stun_str secret = { ts->nonce_secret, sizeof(ts->nonce_secret) };
    /* auth_nonce_check() ages nonces by its own TTL (the longest allowed);
     * shift the clock so a shorter configured TTL applies. */
    uint64_t ttl = ts->opt.nonce_ttl < AUTH_NONCE_TTL ? (uint64_t)ts->opt.nonce_ttl : AUTH_NONCE_TTL;
    uint64_t now = (uint64_t)clock_unix_s() + AUTH_NONCE_TTL - ttl;
    enum auth_status st = auth_nonce_check(secret, nonce, now, a.ip, a.family == STUN_IPV4 ? 4 : 16);
    if (st == AUTH_STALE) {
        ts->stats.stale_nonces++;
        send_error(ts, src, req, 438, NULL);
        return -1;
    }
    if (st != AUTH_OK || realm.len != strlen(ts->opt.realm) || memcmp(realm.p, ts->opt.realm, realm.len) != 0 ||
        user_key(ts, *user, key) < 0 || stun_check_integrity(req, key, AUTH_KEY_MD5_LEN) != 0) {
        ts->stats.bad_credentials++;
        challenge(ts, src, req);
        return -1;
    }
    return 0;
}

/* --- allocations --- */

/* The allocation quota counts per user: for a REST username
 * "<expiry>:<user>" that is the part after the colon, so fetching fresh
 * credentials does not buy a fresh quota. */
static struct turn_user_count *user_count(struct turn_server *ts, struct stun_str user)
{
    uint64_t expiry;
    const uint8_t *colon = memchr(user.p, ':', user.len);
    if (colon && auth_rest_expiry(user, &expiry) == 0) {
        user.len -= (size_t)(colon + 1 - user.p);
        user.p = colon + 1;
    }
    char name[TURN_USER_MAX];
    size_t n = user.len < sizeof(name) - 1 ? user.len : sizeof(name) - 1;
    memcpy(name, user.p, n);
    name[n] = '\0';
    struct strmap_entry *e = strmap_get(&ts->users, name);
    if (e)
        return container_of(e, struct turn_user_count, entry);
    struct turn_user_count *u = xcalloc(1, sizeof(*u));
    memcpy(u->name, name, n + 1);
    strmap_put(&ts->users, &u->entry, u->name);
    return u;
}

/* The allocation count of src's source, created at 0 when absent. */
static struct source_count *source_count(struct turn_server *ts, const struct turn_source *src)
{
    uint8_t key[16];
    size_t klen = source_key(src, key);
    struct keymap_entry *e = keymap_get(&ts->sources, key, klen);
    if (e)
        return container_of(e, struct source_count, entry);
    struct source_count *sc = xcalloc(1, sizeof(*sc));
    keymap_put(&ts->sources, &sc->entry, key, klen);
    return sc;
}

static void source_put(struct turn_server *ts, struct source_count *sc)
{
    if (sc->count == 0) {
        keymap_del(&ts->sources, &sc->entry);
        xfree(sc);
    }
}

static void alloc_free(struct turn_server *ts, struct turn_alloc *a)
{
    relay_close(ts, a);
    ts->nallocs--;
    a->source->count--;
    source_put(ts, a->source);
    loop_timer_stop(ts->loop, &a->expiry);
    keymap_del(&ts->allocs, &a->by_tuple);
    if (--a->user->count == 0) {
        strmap_del(&ts->users, &a->user->entry);
        xfree(a->user);
    }
    xfree(a);
}

static void on_expiry(struct loop *loop, struct loop_timer *t)
{
    (void)loop;
    struct turn_alloc *a = container_of(t, struct turn_alloc, expiry);
    alloc_free(a->ts, a);
}

static uint32_t requested_lifetime(const struct stun_msg *req)
{
    uint32_t lt = 0;
    stun_msg_u32(req, STUN_ATTR_LIFETIME, &lt);
    return lt;
}

static void send_allocated(struct turn_server *ts, const struct turn_source *src, const struct stun_msg *req,
                           struct turn_alloc *a, uint32_t lifetime)
{
    struct reply r;
    struct stun_addr mapped;
    source_addr(src, &mapped);
    reply_start(&r, req, STUN_SUCCESS);
    stun_builder_add_xor_addr(&r.b, STUN_ATTR_XOR_RELAYED_ADDRESS, &a->relayed);
    stun_builder_add_u32(&r.b, STUN_ATTR_LIFETIME, lifetime);
    stun_builder_add_xor_addr(&r.b, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped);
    reply_send(ts, src, &r, req, a->key);
}

/* The checks of an Allocate request's attributes: 0, or the error code. */
static int allocate_request_code(struct turn_server *ts, const struct turn_source *src, const struct stun_msg *req)
{
    uint8_t proto;
    struct stun_str family;
    if (turn_find_alloc(ts, src))
        return 437;
    if (stun_msg_requested_transport(req, &proto) != 0)
        return 400;
    if (proto != STUN_PROTO_UDP)
        return 442;
    if (stun_msg_str(req, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &family) == 0 &&
        (family.len < 1 || family.p[0] != ts->relay_public.family))
        return 440; /* only relays of the relay address's family */
    if (stun_msg_has(req, STUN_ATTR_RESERVATION_TOKEN))
        return 508; /* reserved port pairs are not offered */
    return 0;
}

/* The limits on allocations: in all (508), per source and per user (486).
 * 0 with *scp and *up counted in, or the error code. */
static int allocate_quota_code(struct turn_server *ts, const struct turn_source *src, struct stun_str user,
                               struct source_count **scp, struct turn_user_count **up)
{
    if (ts->opt.max_allocations && ts->nallocs >= ts->opt.max_allocations) {
        ts->stats.capacity_refused++;
        return 508;
    }
    struct source_count *sc = source_count(ts, src);
    if (ts->opt.source_quota && sc->count >= ts->opt.source_quota) {
        source_put(ts, sc);
        ts->stats.source_quota_refused++;
        return 486;
    }
    struct turn_user_count *u = user_count(ts, user);
    if (u->count >= ts->opt.quota) {
        source_put(ts, sc);
        if (u->count == 0) {
            strmap_del(&ts->users, &u->entry);
            xfree(u);
        }
        ts->stats.quota_refused++;
        return 486;
    }
    sc->count++;
    u->count++;
    *scp = sc;
    *up = u;
    return 0;
}

static void on_allocate(struct turn_server *ts, const struct turn_source *src, const struct stun_msg *req,
                        const uint8_t *key, struct stun_str user)
{
    struct source_count *sc;
    struct turn_user_count *u;
    int code = allocate_request_code(ts, src, req);
    if (!code)
        code = allocate_quota_code(ts, src, user, &sc, &u);
    if (code) {
        send_error(ts, src, req, code, key);
        return;
    }
    struct turn_alloc *a = xcalloc(1, sizeof(*a));
    a->ts = ts;
    a->src = *src;
    a->user = u;
    a->source = sc;
    ts->nallocs++;
    memcpy(a->key, key, AUTH_KEY_MD5_LEN);
    uint8_t tkey[KEYMAP_KEY_MAX];
    size_t tlen = tuple_key(src, tkey);
    keymap_put(&ts->allocs, &a->by_tuple, tkey, tlen);
    /* EVEN-PORT gets an even port; its reserve-the-next bit is not honoured. */
    if (relay_open(ts, a, stun_msg_has(req, STUN_ATTR_DONT_FRAGMENT), stun_msg_has(req, STUN_ATTR_EVEN_PORT)) < 0) {
        alloc_free(ts, a);
        send_error(ts, src, req, 508, key);
        return;
    }
    uint32_t lifetime = alloc_lifetime(requested_lifetime(req));
    a->st.expires = loop_now(ts->loop) + (uint64_t)lifetime * 1000;
    a->bw_tokens = (double)ts->opt.bandwidth;
    a->bw_last = loop_now(ts->loop);
    loop_timer_start(ts->loop, &a->expiry, (uint64_t)lifetime * 1000, on_expiry);
    ts->stats.allocations++;
    send_allocated(ts, src, req, a, lifetime);
}

static void on_refresh(struct turn_server *ts, const struct turn_source *src, const struct stun_msg *req,
                       struct turn_alloc *a)
{
    uint32_t want = 0;
    int has = stun_msg_u32(req, STUN_ATTR_LIFETIME, &want) == 0;
    uint32_t lifetime = (has && want == 0) ? 0 : alloc_lifetime(want);
    struct reply r;
    reply_start(&r, req, STUN_SUCCESS);
    stun_builder_add_u32(&r.b, STUN_ATTR_LIFETIME, lifetime);
    uint8_t key[AUTH_KEY_MD5_LEN];
    memcpy(key, a->key, sizeof(key));
    if (lifetime == 0) {
        alloc_free(ts, a);
    } else {
        a->st.expires = loop_now(ts->loop) + (uint64_t)lifetime * 1000;
        loop_timer_start(ts->loop, &a->expiry, (uint64_t)lifetime * 1000, on_expiry);
        alloc_prune(&a->st, loop_now(ts->loop));
    }
    reply_send(ts, src, &r, req, key);
}

/* Checks one peer address: 0, or the error code to answer. */
static int peer_check(struct turn_server *ts, const struct turn_alloc *a, const struct stun_addr *peer)
{
    /* The policy comes first: a refused address is 403 in any family. */
    if (policy_peer(&ts->opt.policy, peer) == POLICY_REFUSED) {
        if (policy_is_local(&ts->opt.policy, peer))
            ts->stats.own_refused++;
        else
            ts->stats.policy_refused++;
        return 403;
    }
    return peer->family != a->relayed.family ? 443 : 0;
}

static void on_create_permission(struct turn_server *ts, const struct turn_source *src, const struct stun_msg *req,
                                 struct turn_alloc *a)
{
    struct stun_addr peers[STUN_MAX_ATTRS];
    int n = 0;
    for (size_t i = 0; i < req->nattrs; i++) {
        if (req->attrs[i].type != STUN_ATTR_XOR_PEER_ADDRESS)
            continue;
        if (stun_attr_xor_addr(req, &req->attrs[i], &peers[n]) < 0) {
            send_error(ts, src, req, 400, a->key);
            return;
        }
        int code = peer_check(ts, a, &peers[n]);
        if (code) {
            send_error(ts, src, req, code, a->key);
            return;
        }
        n++;
    }
    if (n == 0) {
        send_error(ts, src, req, 400, a->key);
        return;
    }
    uint64_t now = loop_now(ts->loop);
    for (int i = 0; i < n; i++) {
        if (alloc_permit(&a->st, &peers[i], now) < 0) {
            send_error(ts, src, req, 508, a->key);
            return;
        }
    }
    struct reply r;
    reply_start(&r, req, STUN_SUCCESS);
    reply_send(ts, src, &r, req, a->key);
}

static void on_channel_bind(struct turn_server *ts, const struct turn_source *src, const struct stun_msg *req,
                            struct turn_alloc *a)
{
    uint16_t number;
    struct stun_addr peer;
    int rc1 = stun_msg_channel_number(req, &number), rc2 = stun_msg_xor_addr(req, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
    if (rc1 || rc2) {
        log_debug("turn_bad_channel_bind", "number=%d peer=%d", rc1, rc2);
        send_error(ts, src, req, 400, a->key);
        return;
    }
    int code = peer_check(ts, a, &peer);
    if (code) {
        send_error(ts, src, req, code, a->key);
        return;
    }
    int rc = alloc_bind(&a->st, number, &peer, loop_now(ts->loop));
    if (rc) {
        log_debug("turn_channel_conflict", "number=%u rc=%d", number, rc);
        send_error(ts, src, req, rc == -ENOSPC ? 508 : 400, a->key);
        return;
    }
    struct reply r;
    reply_start(&r, req, STUN_SUCCESS);
    reply_send(ts, src, &r, req, a->key);
}

static void on_binding(struct turn_server *ts, const struct turn_source *src, const struct stun_msg *req)
{
    if (!unauth_allowed(ts, src, 1))
        return;
    struct reply r;
    struct stun_addr mapped;
    source_addr(src, &mapped);
    reply_start(&r, req, STUN_SUCCESS);
    stun_builder_add_xor_addr(&r.b, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped);
    reply_send(ts, src, &r, req, NULL);
}

static const uint16_t known_attrs[] = {
    STUN_ATTR_USERNAME, STUN_ATTR_REALM, STUN_ATTR_NONCE, STUN_ATTR_LIFETIME, STUN_ATTR_REQUESTED_TRANSPORT,
    STUN_ATTR_DONT_FRAGMENT, STUN_ATTR_XOR_PEER_ADDRESS, STUN_ATTR_CHANNEL_NUMBER, STUN_ATTR_DATA,
    STUN_ATTR_EVEN_PORT, STUN_ATTR_RESERVATION_TOKEN, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_ATTR_PRIORITY,
    STUN_ATTR_USE_CANDIDATE,
};

static void on_request(struct turn_server *ts, const struct turn_source *src, const struct stun_msg *req)
{
    unsigned method = stun_method_of(req->type);
    if (method != STUN_BINDING && method != STUN_ALLOCATE && method != STUN_REFRESH &&
        method != STUN_CREATE_PERMISSION && method != STUN_CHANNEL_BIND) {
        ts->stats.unknown_method++; /* no answer: it would go to an unverified address */
        return;
    }
    uint16_t unknown[8];
    size_t nunknown = stun_msg_unknown_required(req, known_attrs, sizeof(known_attrs) / sizeof(known_attrs[0]),
                                                unknown, 8);
    if (nunknown) {
        if (!unauth_allowed(ts, src, 0))
            return;
        struct reply r;
        reply_start(&r, req, STUN_ERROR);
        stun_builder_add_error(&r.b, 420, NULL);
        stun_builder_add_unknown(&r.b, unknown, nunknown);
        reply_send(ts, src, &r, req, NULL);
        return;
    }
    if (method == STUN_BINDING) {
        on_binding(ts, src, req);
        return;
    }
    uint8_t key[AUTH_KEY_MD5_LEN];
    struct stun_str user;
    if (authenticate(ts, src, req, key, &user) < 0)
        return;
    if (method == STUN_ALLOCATE) {
        on_allocate(ts, src, req, key, user);
        return;
    }
    struct turn_alloc *a = turn_find_alloc(ts, src);
    if (!a) {
        send_error(ts, src, req, 437, key);
        return;
    }
    if (memcmp(a->key, key, sizeof(key)) != 0) {
        send_error(ts, src, req, 441, key);
        return;
    }
    if (method == STUN_REFRESH)
        on_refresh(ts, src, req, a);
    else if (method == STUN_CREATE_PERMISSION)
        on_create_permission(ts, src, req, a);
    else
        on_channel_bind(ts, src, req, a);
}

static void on_send_indication(struct turn_server *ts, const struct turn_source *src, const struct stun_msg *msg)
{
    struct turn_alloc *a = turn_find_alloc(ts, src);
    struct stun_addr peer;
    struct stun_str data;
    if (!a || stun_msg_xor_addr(msg, STUN_ATTR_XOR_PEER_ADDRESS, &peer) != 0 ||
        stun_msg_str(msg, STUN_ATTR_DATA, &data) != 0)
        return;
    relay_to_peer(ts, a, &peer, data.p, data.len);
}

void turn_server_input(struct turn_server *ts, const struct turn_source *src, const uint8_t *buf, size_t len)
{
    if (len == 0 || (src->transport == TURN_UDP && len > TURN_MAX_DATAGRAM))
        return;
    if (buf[0] >= (STUN_CHANNEL_MIN >> 8) && buf[0] <= (STUN_CHANNEL_MAX >> 8)) {
        struct turn_alloc *a = turn_find_alloc(ts, src);
        if (a)
            relay_channel_from_client(ts, a, buf, len);
        return;
    }
    struct stun_msg msg;
    if (stun_msg_decode(buf, len, &msg) != STUN_OK)
        return;
    if (msg.fp >= 0 && stun_check_fingerprint(&msg) != 0)
        return;
    enum stun_class cls = stun_class_of(msg.type);
    if (cls == STUN_REQUEST)
        on_request(ts, src, &msg);
    else if (cls == STUN_INDICATION && stun_method_of(msg.type) == STUN_SEND)
        on_send_indication(ts, src, &msg);
}

void turn_server_stream_closed(struct turn_server *ts, void *ctx)
{
    /* TCP and TLS keys are the same but for the transport byte. */
    for (int tr = TURN_TCP; tr <= TURN_TLS; tr++) {
        struct turn_source src = { .transport = (enum turn_transport)tr, .ctx = ctx };
        struct turn_alloc *a = turn_find_alloc(ts, &src);
        if (a)
            alloc_free(ts, a);
    }
}

int turn_server_relay_input(struct turn_server *ts, uint16_t port, const struct stun_addr *peer, const uint8_t *data,
                            size_t len)
{
    if (port < ts->opt.port_lo || port > ts->opt.port_hi)
        return -1;
    struct turn_alloc *a = ts->by_port[port - ts->opt.port_lo];
    if (!a)
        return -1;
    if (len <= TURN_MAX_DATAGRAM)
        relay_deliver(ts, a, peer, data, len, 0);
    return ts->by_port[port - ts->opt.port_lo] == a ? 0 : -1;
}

int turn_server_credential(struct turn_server *ts, const char *user, int ttl, char *username, size_t cap,
                           char password[29])
{
    if (!ts->opt.secret)
        return -1;
    uint64_t expiry = (uint64_t)clock_unix_s() + (uint64_t)ttl;
    return auth_rest_credential(auth_cstr(ts->opt.secret), user, expiry, username, cap, password) == 0 ? 0 : -1;
}

static void count_alloc(struct keymap_entry *e, void *arg)
{
    struct turn_stats *st = arg;
    st->active[container_of(e, struct turn_alloc, by_tuple)->src.transport]++;
}

struct turn_stats turn_server_stats(const struct turn_server *ts)
{
    struct turn_stats st = ts->stats;
    memset(st.active, 0, sizeof(st.active));
    keymap_each((struct keymap *)&ts->allocs, count_alloc, &st);
    return st;
}

/* --- setup --- */

static void on_sweep(struct loop *loop, struct loop_timer *t)
{
    struct turn_server *ts = container_of(t, struct turn_server, sweep);
    unauth_sweep(&ts->unauth, loop_now(loop));
    loop_timer_start(loop, t, SWEEP_MS, on_sweep);
}

static int parse_ip(const char *text, struct stun_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->ip) == 1) {
        out->family = STUN_IPV4;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out->ip) == 1) {
        out->family = STUN_IPV6;
        return 0;
    }
    return -1;
}

static int load_static_users(struct turn_server *ts, char *err, size_t errlen)
{
    ts->static_users = xcalloc((size_t)(ts->opt.nusers ? ts->opt.nusers : 1), sizeof(*ts->static_users));
    for (int i = 0; i < ts->opt.nusers; i++) {
        const char *spec = ts->opt.users[i];
        const char *colon = strchr(spec, ':');
        if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= TURN_USER_MAX) {
            snprintf(err, errlen, "invalid value for turn-user: expected name:password");
            return -1;
        }
        struct static_user *u = &ts->static_users[ts->nstatic++];
        memcpy(u->name, spec, (size_t)(colon - spec));
        struct stun_str name = { (const uint8_t *)spec, (size_t)(colon - spec) };
        if (auth_key_md5(name, auth_cstr(ts->opt.realm), auth_cstr(colon + 1), u->key) != 0) {
            snprintf(err, errlen, "cannot derive TURN keys (MD5 unavailable)");
            return -1;
        }
    }
    return 0;
}

struct turn_server *turn_server_new(struct loop *loop, const struct turn_options *o, char *err, size_t errlen)
{
    struct turn_server *ts = xcalloc(1, sizeof(*ts));
    ts->loop = loop;
    ts->opt = *o;
    strmap_init(&ts->users);
    RAND_bytes(ts->nonce_secret, sizeof(ts->nonce_secret));
    uint8_t hash_secret[16];
    RAND_bytes(hash_secret, sizeof(hash_secret));
    unauth_init(&ts->unauth, hash_secret);
    keymap_init(&ts->allocs, hash_secret);
    keymap_init(&ts->sources, hash_secret);
    if (parse_ip(o->relay_ip, &ts->relay_local) < 0) {
        snprintf(err, errlen, "invalid value for relay-ip: '%s'", o->relay_ip);
        goto fail;
    }
    ts->relay_public = ts->relay_local;
    if (o->external_ip && parse_ip(o->external_ip, &ts->relay_public) < 0) {
        snprintf(err, errlen, "invalid value for external-ip: '%s'", o->external_ip);
        goto fail;
    }
    if (load_static_users(ts, err, errlen) < 0)
        goto fail;
    ts->opt.policy.relay_lo = (uint16_t)o->port_lo;
    ts->opt.policy.relay_hi = (uint16_t)o->port_hi;
    if (policy_add_local(&ts->opt.policy, &ts->relay_local) < 0 ||
        policy_add_local(&ts->opt.policy, &ts->relay_public) < 0) {
        snprintf(err, errlen, "too many local addresses");
        goto fail;
    }
    ts->by_port = xcalloc((size_t)(o->port_hi - o->port_lo + 1), sizeof(*ts->by_port));
    loop_timer_start(loop, &ts->sweep, SWEEP_MS, on_sweep);
    return ts;
fail:
    turn_server_free(ts);
    return NULL;
}

static void free_alloc_entry(struct keymap_entry *e, void *arg)
{
    alloc_free(arg, container_of(e, struct turn_alloc, by_tuple));
}

void turn_server_free(struct turn_server *ts)
{
    if (!ts)
        return;
    loop_timer_stop(ts->loop, &ts->sweep);
    if (ts->by_port)
        keymap_each(&ts->allocs, free_alloc_entry, ts);
    keymap_cleanup(&ts->allocs);
    strmap_cleanup(&ts->users);
    unauth_cleanup(&ts->unauth);
    keymap_cleanup(&ts->sources);
    xfree(ts->by_port);
    xfree(ts->static_users);
    if (ts->opt.relay.free)
        ts->opt.relay.free(ts->opt.relay.ctx);
    xfree(ts);
}
