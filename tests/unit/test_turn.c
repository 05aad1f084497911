/*
 * test_turn — the TURN server in process (src/turn/server.c, relay.c): fake
 * clients hand requests to turn_server_input() and keep the answers, which
 * are decoded with the STUN codec; relay sockets are a fake turn_relay_ops
 * that records what is opened and sent, and datagrams from peers go in
 * through turn_server_relay_input(). Binding, long-term credentials
 * (static, REST, SHA-256, stale nonces), every error code, silence for
 * malformed input, limits, and the relay between two allocations here
 * (Data indications, ChannelData) and to peers on the network both ways,
 * with permissions, own addresses and bandwidth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/loop.h"
#include "stun/auth.h"
#include "stun/stun.h"
#include "turn/server.h"

#define MAXMSG 8
#define REALM "tincan"
#define AUTH 1
#define SHA256 2
#define NOFP 4
#define ATTR_PADDING 0x8026 /* RFC 5780; comprehension-optional */

struct client {
    struct turn_source src;
    uint8_t msg[MAXMSG][2048];
    size_t len[MAXMSG];
    int n;                        /* messages received since anything was last sent */
    uint8_t txid[STUN_TXID_LEN];  /* of the last request */
    char user[128];
    uint8_t key[AUTH_KEY_MD5_LEN];
    char nonce[AUTH_NONCE_LEN + 1];
    struct stun_msg m;            /* the last answer, decoded */
    struct stun_builder b;        /* the request being built */
    uint8_t out[2048];
};

#define PORT_LO 50000 /* the relay range: 8 ports; nothing is bound */

/* The fake relay sockets: which ports are open, what was sent from them. */
struct fake_sent {
    uint16_t port;
    struct stun_addr peer;
    uint8_t data[2048];
    size_t len;
};
static struct {
    int open[8], df[8], closes, frees;
    uint16_t taken;               /* a port "another program" holds */
    struct fake_sent sent[16];
    int nsent;
} fake;

static void *fake_open(void *ctx, uint16_t port, int dont_fragment)
{
    assert_ptr_equal(ctx, &fake);
    assert_in_range(port, PORT_LO, PORT_LO + 7);
    assert_false(fake.open[port - PORT_LO]);
    if (port == fake.taken)
        return NULL;
    fake.open[port - PORT_LO] = 1;
    fake.df[port - PORT_LO] = dont_fragment;
    return &fake.open[port - PORT_LO];
}

static uint16_t fake_port(void *handle)
{
    return (uint16_t)(PORT_LO + ((int *)handle - fake.open));
}

static void fake_send(void *ctx, void *handle, const struct stun_addr *peer, const uint8_t *data, size_t len)
{
    (void)ctx;
    assert_true(*(int *)handle); /* never after close */
    assert_true(fake.nsent < 16 && len <= sizeof(fake.sent[0].data));
    struct fake_sent *f = &fake.sent[fake.nsent++];
    f->port = fake_port(handle);
    f->peer = *peer;
    memcpy(f->data, data, len);
    f->len = len;
}

static void fake_close(void *ctx, void *handle)
{
    (void)ctx;
    assert_true(*(int *)handle);
    *(int *)handle = 0;
    fake.closes++;
}

static void fake_free(void *ctx)
{
    (void)ctx;
    fake.frees++;
}

static int port_open(uint16_t port)
{
    return fake.open[port - PORT_LO];
}

static const int port_lo = PORT_LO;
static struct loop *loop;
static struct turn_server *ts;
static struct client pool[8];
static int npool;
static char *users[] = { (char[]){ "alice:wonderland" }, (char[]){ "bob:builder" } };

static struct turn_options opts(void)
{
    struct turn_relay_ops relay = { fake_open, fake_send, fake_close, fake_free, &fake };
    return (struct turn_options){ .realm = REALM, .users = users, .nusers = 2, .relay_ip = "127.0.0.1",
                                  .port_lo = port_lo, .port_hi = port_lo + 3, .quota = 10, .nonce_ttl = 600,
                                  .relay = relay };
}

static void start(void **state, struct turn_options o)
{
    char err[200] = "";
    (void)state;
    memset(&fake, 0, sizeof(fake));
    assert_non_null(loop = loop_new());
    if (!(ts = turn_server_new(loop, &o, err, sizeof(err))))
        fail_msg("turn_server_new: %s", err);
}

/* The teardown; it runs after a failure too, so no relay port leaks into
 * the next test. */
static int stop(void **state)
{
    (void)state;
    int had = ts != NULL;
    turn_server_free(ts);
    loop_free(loop);
    ts = NULL;
    loop = NULL;
    npool = 0;
    for (int i = 0; i < 8; i++)
        assert_false(fake.open[i]); /* every relay socket was closed */
    assert_int_equal(fake.frees, had);
    return 0;
}

static void on_send(const struct turn_source *src, const uint8_t *buf, size_t len)
{
    struct client *c = src->ctx;
    if (c->src.transport == TURN_UDP) /* answers go back where the request came from */
        assert_true(src->addrlen == c->src.addrlen && memcmp(&src->addr, &c->src.addr, src->addrlen) == 0);
    assert_true(c->n < MAXMSG && len <= sizeof(c->msg[0]));
    memcpy(c->msg[c->n], buf, len);
    c->len[c->n++] = len;
}

/* An address from text; IPv4-mapped text stays IPv6. */
static struct stun_addr addr(const char *ip, uint16_t port)
{
    struct stun_addr a = { .family = STUN_IPV4, .port = port };
    if (inet_pton(AF_INET, ip, a.ip) != 1) {
        a.family = STUN_IPV6;
        assert_int_equal(inet_pton(AF_INET6, ip, a.ip), 1);
    }
    return a;
}

static void login(struct client *c, const char *user, const char *pass)
{
    snprintf(c->user, sizeof(c->user), "%s", user);
    assert_int_equal(auth_key_md5(auth_cstr(user), auth_cstr(REALM), auth_cstr(pass), c->key), 0);
}

/* Every client forgets what it got before something new goes in. */
static void quiet(void)
{
    for (int i = 0; i < npool; i++)
        pool[i].n = 0;
}

/* --- requests: the helpers return the client --- */

static struct client *req(struct client *c, unsigned method, enum stun_class cls)
{
    static uint32_t counter;
    counter++;
    for (int i = 0; i < STUN_TXID_LEN; i++)
        c->txid[i] = (uint8_t)((counter >> (8 * (i % 4))) ^ (unsigned)(i * 37));
    stun_builder_init(&c->b, c->out, sizeof(c->out), stun_type(method, cls), c->txid);
    return c;
}

/* Finishes c's request (credentials per flags) and hands it to the server. */
static struct client *req_send(struct client *c, int flags)
{
    if (flags & AUTH) {
        stun_builder_add(&c->b, STUN_ATTR_USERNAME, c->user, strlen(c->user));
        stun_builder_add(&c->b, STUN_ATTR_REALM, REALM, strlen(REALM));
        stun_builder_add(&c->b, STUN_ATTR_NONCE, c->nonce, strlen(c->nonce));
        if (flags & SHA256)
            stun_builder_add_integrity_sha256(&c->b, c->key, sizeof(c->key));
        else
            stun_builder_add_integrity(&c->b, c->key, sizeof(c->key));
    }
    if (!(flags & NOFP))
        stun_builder_add_fingerprint(&c->b);
    int n = stun_builder_finish(&c->b);
    assert_true(n > 0);
    quiet();
    turn_server_input(ts, &c->src, c->out, (size_t)n);
    return c;
}

/* A TURN request; LIFETIME when lifetime >= 0, CHANNEL-NUMBER and
 * XOR-PEER-ADDRESS when given, REQUESTED-TRANSPORT UDP in an Allocate. */
static struct client *turn(struct client *c, unsigned method, int64_t lifetime, uint16_t channel,
                           const struct stun_addr *peer, int flags)
{
    req(c, method, STUN_REQUEST);
    if (method == STUN_ALLOCATE)
        stun_builder_add_requested_transport(&c->b, STUN_PROTO_UDP);
    if (lifetime >= 0)
        stun_builder_add_u32(&c->b, STUN_ATTR_LIFETIME, (uint32_t)lifetime);
    if (channel)
        stun_builder_add_channel_number(&c->b, channel);
    if (peer)
        stun_builder_add_xor_addr(&c->b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
    return req_send(c, flags);
}
#define allocate_req(c, lifetime, flags) turn((c), STUN_ALLOCATE, (lifetime), 0, NULL, (flags))
#define refresh(c, lifetime) turn((c), STUN_REFRESH, (lifetime), 0, NULL, AUTH)
#define permit(c, peer) turn((c), STUN_CREATE_PERMISSION, -1, 0, (peer), AUTH)
#define bind_channel(c, number, peer) turn((c), STUN_CHANNEL_BIND, -1, (number), (peer), AUTH)

/* The single answer to c's last request, of class cls, decoded into c->m. */
static const struct stun_msg *reply(struct client *c, enum stun_class cls)
{
    int code = 0;
    struct stun_str reason;
    assert_int_equal(c->n, 1);
    assert_int_equal(stun_msg_decode(c->msg[0], c->len[0], &c->m), STUN_OK);
    assert_memory_equal(c->m.txid, c->txid, STUN_TXID_LEN);
    stun_msg_error_code(&c->m, &code, &reason);
    if (stun_class_of(c->m.type) != cls)
        fail_msg("class %d (error %d), want %d", stun_class_of(c->m.type), code, cls);
    assert_true(c->m.fp >= 0);
    assert_int_equal(stun_check_fingerprint(&c->m), 0);
    if (c->m.mi >= 0 || c->m.mi256 >= 0) /* signed with the key of the request */
        assert_int_equal(stun_check_integrity(&c->m, c->key, sizeof(c->key)), 0);
    return &c->m;
}

#define ok(c) reply((c), STUN_SUCCESS)

static void expect_error(struct client *c, int code)
{
    int got;
    struct stun_str reason;
    assert_int_equal(stun_msg_error_code(reply(c, STUN_ERROR), &got, &reason), 0);
    if (got != code)
        fail_msg("error %d, want %d", got, code);
}

/* Errors to authenticated requests carry MESSAGE-INTEGRITY. */
static void expect_signed_error(struct client *c, int code)
{
    expect_error(c, code);
    assert_true(c->m.mi >= 0);
}

static uint32_t lifetime_of(struct client *c)
{
    uint32_t v = 12345;
    assert_int_equal(stun_msg_u32(ok(c), STUN_ATTR_LIFETIME, &v), 0);
    return v;
}

/* Gets a nonce from a 401 answer, checking its REALM and NONCE. */
static void challenge(struct client *c)
{
    struct stun_str nonce, realm;
    expect_error(allocate_req(c, -1, 0), 401);
    assert_int_equal(c->m.mi, -1);
    assert_int_equal(stun_msg_str(&c->m, STUN_ATTR_NONCE, &nonce), 0);
    assert_int_equal(stun_msg_str(&c->m, STUN_ATTR_REALM, &realm), 0);
    assert_int_equal(nonce.len, AUTH_NONCE_LEN);
    assert_true(realm.len == strlen(REALM) && memcmp(realm.p, REALM, realm.len) == 0);
    memcpy(c->nonce, nonce.p, nonce.len); /* c->nonce was zeroed */
}

/* A client at ip:port; with a user, logged in and holding a nonce. */
static struct client *cl(const char *ip, uint16_t port, enum turn_transport tr, const char *user, const char *pass)
{
    assert_true(npool < 8);
    struct client *c = memset(&pool[npool++], 0, sizeof(pool[0]));
    struct stun_addr a = addr(ip, port);
    c->src = (struct turn_source){ .transport = tr, .send = on_send, .ctx = c };
    c->src.addrlen = stun_addr_to_sockaddr(&a, &c->src.addr);
    if (user) {
        login(c, user, pass);
        challenge(c);
    }
    return c;
}

/* Allocates for c; returns the relayed address. */
static struct stun_addr allocate(struct client *c)
{
    struct stun_addr relayed;
    assert_true(ok(allocate_req(c, -1, AUTH))->mi >= 0);
    assert_int_equal(stun_msg_xor_addr(&c->m, STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed), 0);
    return relayed;
}

static void send_indication(struct client *c, const struct stun_addr *peer, const char *data)
{
    req(c, STUN_SEND, STUN_INDICATION);
    stun_builder_add_xor_addr(&c->b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
    stun_builder_add(&c->b, STUN_ATTR_DATA, data, strlen(data));
    req_send(c, 0);
}

static void send_channel(struct client *c, uint16_t number, const char *data)
{
    uint8_t buf[256];
    memcpy(buf + 4, data, strlen(data));
    int n = stun_channeldata_frame(buf, sizeof(buf), number, strlen(data), c->src.transport != TURN_UDP);
    assert_true(n > 0);
    quiet();
    turn_server_input(ts, &c->src, buf, (size_t)n);
}

/* Asserts c got exactly one message: a Data indication of data from peer. */
static void expect_data(struct client *c, const struct stun_addr *peer, const char *data)
{
    struct stun_msg m;
    struct stun_addr from;
    struct stun_str d;
    assert_int_equal(c->n, 1);
    assert_int_equal(stun_msg_decode(c->msg[0], c->len[0], &m), STUN_OK);
    assert_int_equal(m.type, stun_type(STUN_DATA, STUN_INDICATION));
    assert_int_equal(stun_msg_xor_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, &from), 0);
    if (from.family != peer->family || from.port != peer->port || memcmp(from.ip, peer->ip, 4) != 0)
        fail_msg("Data indication from port %u, want %u", from.port, peer->port);
    assert_int_equal(stun_msg_str(&m, STUN_ATTR_DATA, &d), 0);
    assert_int_equal(d.len, strlen(data));
    assert_memory_equal(d.p, data, d.len);
}

/* --- sockets --- */

static void on_stop(struct loop *l, struct loop_timer *t)
{
    (void)t;
    loop_stop(l);
}

/* Runs the loop for ms milliseconds. */
static void pump(unsigned ms)
{
    struct loop_timer t = { 0 };
    loop_timer_start(loop, &t, ms, on_stop);
    loop_run(loop);
}

/* A datagram from peer arrives at the relay socket of port. */
static int from_peer(uint16_t port, const struct stun_addr *peer, const char *data)
{
    quiet();
    return turn_server_relay_input(ts, port, peer, (const uint8_t *)data, strlen(data));
}

/* Asserts the fake relay sent exactly data to peer from port, and forgets it. */
static void expect_sent(uint16_t port, const struct stun_addr *peer, const char *data)
{
    assert_int_equal(fake.nsent, 1);
    assert_int_equal(fake.sent[0].port, port);
    assert_true(fake.sent[0].peer.family == peer->family && fake.sent[0].peer.port == peer->port);
    assert_memory_equal(fake.sent[0].peer.ip, peer->ip, 16);
    assert_int_equal(fake.sent[0].len, strlen(data));
    assert_memory_equal(fake.sent[0].data, data, strlen(data));
    fake.nsent = 0;
}

static void expect_mapped(struct client *c, const char *ip, uint16_t port)
{
    struct stun_addr mapped, want = addr(ip, port);
    assert_int_equal(stun_msg_xor_addr(ok(c), STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped), 0);
    assert_true(mapped.family == want.family && mapped.port == port);
    assert_memory_equal(mapped.ip, want.ip, want.family == STUN_IPV4 ? 4 : 16);
}

static void test_binding(void **state)
{
    struct turn_options o = opts();
    start(state, o);
    struct client *c = cl("203.0.113.9", 40000, TURN_UDP, NULL, NULL);
    expect_mapped(req_send(req(c, STUN_BINDING, STUN_REQUEST), 0), "203.0.113.9", 40000);
    assert_int_equal(stun_method_of(c->m.type), STUN_BINDING);
    assert_false(stun_msg_has(&c->m, STUN_ATTR_SOFTWARE));
    assert_int_equal(c->m.mi, -1);
    /* Without FINGERPRINT in the request, over TCP, from IPv6; and an IPv4
     * client seen through a dual-stack socket is shown as IPv4. */
    c = cl("2001:db8::5", 1234, TURN_TCP, NULL, NULL);
    expect_mapped(req_send(req(c, STUN_BINDING, STUN_REQUEST), NOFP), "2001:db8::5", 1234);
    c = cl("::ffff:198.51.100.7", 5555, TURN_UDP, NULL, NULL);
    expect_mapped(req_send(req(c, STUN_BINDING, STUN_REQUEST), 0), "198.51.100.7", 5555);
    assert_int_equal(turn_server_stats(ts).allocations, 0);
    /* SOFTWARE only when configured. */
    stop(state);
    o.software = "tincan-test";
    start(state, o);
    c = cl("127.0.0.1", 40000, TURN_UDP, NULL, NULL);
    struct stun_str sw;
    assert_int_equal(stun_msg_str(ok(req_send(req(c, STUN_BINDING, STUN_REQUEST), 0)), STUN_ATTR_SOFTWARE, &sw), 0);
    assert_true(sw.len == 11 && memcmp(sw.p, "tincan-test", 11) == 0);
}

static void test_challenge_and_bad_credentials(void **state)
{
    start(state, opts());
    struct client *c = cl("127.0.0.1", 40000, TURN_UDP, "alice", "wrong"); /* 401, REALM, NONCE */
    expect_error(allocate_req(c, -1, AUTH), 401);
    assert_true(stun_msg_has(&c->m, STUN_ATTR_NONCE) && stun_msg_has(&c->m, STUN_ATTR_REALM));
    login(c, "mallory", "wonderland");
    expect_error(allocate_req(c, -1, AUTH), 401);
    /* A nonce made for another address is not accepted. */
    struct client *other = cl("127.0.0.2", 40000, TURN_UDP, NULL, NULL);
    login(other, "alice", "wonderland");
    memcpy(other->nonce, c->nonce, sizeof(c->nonce));
    expect_error(allocate_req(other, -1, AUTH), 401);
    /* MESSAGE-INTEGRITY without USERNAME, REALM and NONCE: 400. */
    req(c, STUN_ALLOCATE, STUN_REQUEST);
    stun_builder_add_requested_transport(&c->b, STUN_PROTO_UDP);
    stun_builder_add_integrity(&c->b, c->key, sizeof(c->key));
    expect_error(req_send(c, 0), 400);
    assert_true(turn_server_stats(ts).allocations == 0 && turn_server_stats(ts).auth_failures >= 4);
    /* 401 answers are rate-limited per source address (no amplifier). */
    int answered = 0;
    for (int i = 0; i < 100; i++)
        answered += allocate_req(other, -1, 0)->n;
    assert_in_range(answered, 1, 30);
    assert_int_equal(allocate_req(cl("127.0.0.3", 1, TURN_UDP, NULL, NULL), -1, 0)->n, 1);
}

static void test_allocate_success(void **state)
{
    start(state, opts());
    struct client *c = cl("127.0.0.1", 40000, TURN_UDP, "alice", "wonderland");
    struct stun_addr relayed = allocate(c), lo = addr("127.0.0.1", 0);
    assert_int_equal(stun_method_of(c->m.type), STUN_ALLOCATE);
    assert_false(stun_msg_has(&c->m, STUN_ATTR_SOFTWARE));
    assert_true(relayed.family == STUN_IPV4 && memcmp(relayed.ip, lo.ip, 4) == 0);
    assert_in_range(relayed.port, port_lo, port_lo + 3);
    assert_true(port_open(relayed.port)); /* a relay socket holds it */
    expect_mapped(c, "127.0.0.1", 40000);
    assert_int_equal(lifetime_of(c), 600);
    /* A longer lifetime is granted up to an hour; a shorter one is raised. */
    struct client *c2 = cl("127.0.0.1", 40001, TURN_UDP, "bob", "builder");
    assert_int_equal(lifetime_of(allocate_req(c2, 7200, AUTH)), 3600);
    assert_int_equal(lifetime_of(refresh(c2, 100)), 600);
    assert_int_equal(lifetime_of(refresh(c2, 1000)), 1000);
    assert_int_equal(lifetime_of(refresh(c2, -1)), 600);
    assert_int_equal(turn_server_stats(ts).allocations, 2);
    /* MESSAGE-INTEGRITY-SHA256 in the request: the answer uses it too. */
    struct client *c3 = cl("127.0.0.1", 40002, TURN_UDP, "alice", "wonderland");
    const struct stun_msg *m = ok(allocate_req(c3, -1, AUTH | SHA256));
    assert_true(m->mi256 >= 0 && m->mi < 0); /* and it verifies, see reply() */
}

static void test_stale_nonce(void **state)
{
    struct turn_options o = opts();
    o.nonce_ttl = 1;
    start(state, o);
    struct client *c = cl("127.0.0.1", 40000, TURN_UDP, "alice", "wonderland");
    char hex[17] = "", old[sizeof(c->nonce)];
    struct stun_str nonce;
    memcpy(hex, c->nonce, 16); /* the nonce starts with its issue time */
    int64_t issued = (int64_t)strtoull(hex, NULL, 16);
    assert_in_range(issued, clock_unix_s() - 1, clock_unix_s());
    while (clock_unix_s() <= issued) /* at most a second */
        usleep(10000);
    memcpy(old, c->nonce, sizeof(old));
    expect_error(allocate_req(c, -1, AUTH), 438);
    assert_int_equal(stun_msg_str(&c->m, STUN_ATTR_NONCE, &nonce), 0);
    assert_true(stun_msg_has(&c->m, STUN_ATTR_REALM));
    assert_true(nonce.len == AUTH_NONCE_LEN && memcmp(nonce.p, old, AUTH_NONCE_LEN) != 0);
    /* A TTL longer than the codec's 600 s: a fresh nonce is still fresh. */
    stop(state);
    o.nonce_ttl = 1200;
    start(state, o);
    allocate(cl("127.0.0.1", 40000, TURN_UDP, "alice", "wonderland"));
}

static void test_rest_credentials(void **state)
{
    struct turn_options o = opts();
    o.secret = "rest-secret";
    start(state, o);
    char name[128], pass[AUTH_REST_PASSWORD_LEN + 1];
    int64_t now = clock_unix_s();
    static const struct { const char *secret, *user; int64_t expiry; int code; } cases[] = {
        { "rest-secret", "carol", -3600, 401 }, /* expired an hour ago, right password */
        { "rest-secret", "carol", -2, 401 },
        { "other", "carol", 3600, 401 },        /* minted with another secret */
        { "rest-secret", "carol", 3600, 0 },
        { "rest-secret", "", 60, 0 },           /* username "<expiry>" alone */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(auth_rest_credential(auth_cstr(cases[i].secret), cases[i].user,
                                              (uint64_t)(now + cases[i].expiry), name, sizeof(name), pass), 0);
        struct client *c = allocate_req(cl("127.0.0.1", (uint16_t)(41000 + i), TURN_UDP, name, pass), -1, AUTH);
        if (cases[i].code)
            expect_error(c, cases[i].code);
        else
            assert_true(ok(c)->mi >= 0);
    }
    /* Credentials minted by the server; static users alongside. */
    assert_true(turn_server_credential(ts, "dave", 60, name, sizeof(name), pass) == 0 && strstr(name, ":dave"));
    allocate(cl("127.0.0.1", 42000, TURN_UDP, name, pass));
    allocate(cl("127.0.0.1", 42001, TURN_UDP, "bob", "builder"));
    /* Without a secret, REST usernames are unknown users. */
    stop(state);
    o.secret = NULL;
    start(state, o);
    assert_int_equal(turn_server_credential(ts, "dave", 60, name, sizeof(name), pass), -1);
    assert_int_equal(auth_rest_credential(auth_cstr("rest-secret"), "carol", (uint64_t)now + 3600, name, sizeof(name),
                                          pass), 0);
    expect_error(allocate_req(cl("127.0.0.1", 40000, TURN_UDP, name, pass), -1, AUTH), 401);
}

static void test_allocate_errors(void **state)
{
    struct turn_options o = opts();
    o.quota = 2;
    o.port_hi = port_lo + 1; /* two relay ports */
    start(state, o);
    struct client *c = cl("127.0.0.1", 40000, TURN_UDP, "alice", "wonderland");
    expect_signed_error(req_send(req(c, STUN_ALLOCATE, STUN_REQUEST), AUTH), 400); /* no REQUESTED-TRANSPORT */
    stun_builder_add_requested_transport(&req(c, STUN_ALLOCATE, STUN_REQUEST)->b, 6); /* TCP */
    expect_signed_error(req_send(c, AUTH), 442);
    struct stun_addr rc = allocate(c), pub = addr("8.8.8.8", 53);
    expect_signed_error(allocate_req(c, -1, AUTH), 437);
    login(c, "bob", "builder"); /* another user on the same 5-tuple */
    expect_signed_error(refresh(c, -1), 441);
    expect_signed_error(permit(c, &pub), 441);
    login(c, "alice", "wonderland");
    assert_int_equal(req_send(req(c, STUN_DATA, STUN_REQUEST), AUTH)->n, 0); /* not a TURN request: no answer */
    assert_int_equal(turn_server_stats(ts).unknown_method, 1);
    /* Quota: two allocations per user. */
    struct client *b = cl("127.0.0.1", 40001, TURN_UDP, "alice", "wonderland");
    struct client *d = cl("127.0.0.1", 40002, TURN_UDP, "alice", "wonderland");
    assert_int_not_equal(allocate(b).port, rc.port);
    expect_signed_error(allocate_req(d, -1, AUTH), 486);
    login(d, "bob", "builder"); /* within bob's quota, but no port is left */
    expect_signed_error(allocate_req(d, -1, AUTH), 508);
    /* Refresh with LIFETIME 0 deletes: the port comes back. */
    assert_int_equal(lifetime_of(refresh(c, 0)), 0);
    assert_false(port_open(rc.port));
    expect_signed_error(permit(c, &pub), 437);
    expect_error(refresh(c, -1), 437);
    expect_error(bind_channel(c, 0x4000, &pub), 437);
    allocate(d);
    expect_error(allocate_req(c, -1, AUTH), 508);
}

/* Allocations per source address (IPv6: per /64) and in all, whatever the
 * users: fresh REST users do not buy fresh allocations. */
static void test_source_and_global_caps(void **state)
{
    struct turn_options o = opts();
    o.source_quota = 2;
    o.max_allocations = 3;
    o.port_hi = port_lo + 7;
    start(state, o);
    allocate(cl("2001:db8:1:2::1", 1, TURN_UDP, "alice", "wonderland"));
    allocate(cl("2001:db8:1:2::2", 1, TURN_UDP, "bob", "builder")); /* same /64 */
    struct client *c = cl("2001:db8:1:2:ffff::3", 1, TURN_TCP, "bob", "builder");
    expect_signed_error(allocate_req(c, -1, AUTH), 486);
    assert_int_equal(turn_server_stats(ts).source_quota_refused, 1);
    struct client *d = cl("192.0.2.1", 1, TURN_UDP, "alice", "wonderland");
    allocate(d);
    expect_signed_error(allocate_req(cl("192.0.2.2", 1, TURN_UDP, "bob", "builder"), -1, AUTH), 508); /* full */
    assert_int_equal(turn_server_stats(ts).capacity_refused, 1);
    assert_int_equal(lifetime_of(refresh(d, 0)), 0); /* one goes: room again */
    allocate(cl("192.0.2.2", 2, TURN_UDP, "bob", "builder"));
    assert_int_equal(turn_server_stats(ts).allocations, 4);
}

static void test_odd_input(void **state)
{
    start(state, opts());
    struct client *c = cl("127.0.0.1", 40000, TURN_UDP, NULL, NULL), *t = cl("127.0.0.1", 1, TURN_TCP, NULL, NULL);
    static const struct { size_t at; uint8_t xor; int extra; const char *what; } bad[] = {
        { 35, 1, 0, "bad FINGERPRINT" }, { 5, 1, 0, "bad cookie" }, { 0, 0, -4, "truncated" },
        { 0, 0, 4, "trailing bytes" }, { 3, 2, 0, "length not a multiple of 4" },
        { 22, 0x40, 0, "attribute past the end" }, { 0, 0, -35, "one byte" },
    };
    stun_builder_add(&req(c, STUN_BINDING, STUN_REQUEST)->b, STUN_ATTR_SOFTWARE, "x", 1);
    stun_builder_add_fingerprint(&c->b);
    assert_int_equal(stun_builder_finish(&c->b), 36);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t m[64] = { 0 };
        memcpy(m, c->out, 36);
        m[bad[i].at] ^= bad[i].xor;
        quiet();
        turn_server_input(ts, &c->src, m, (size_t)(36 + bad[i].extra));
        if (c->n)
            fail_msg("%s: answered", bad[i].what);
    }
    send_channel(c, 0x4000, "zzzz"); /* ChannelData without an allocation */
    assert_int_equal(c->n, 0);
    /* A success response or an indication earns nothing. */
    assert_int_equal(req_send(req(c, STUN_BINDING, STUN_SUCCESS), 0)->n, 0);
    assert_int_equal(req_send(req(c, STUN_BINDING, STUN_INDICATION), 0)->n, 0);
    /* Datagrams over 1500 bytes are dropped; the same message on TCP is not. */
    static uint8_t pad[1480];
    stun_builder_add(&req(c, STUN_BINDING, STUN_REQUEST)->b, ATTR_PADDING, pad, sizeof(pad));
    assert_int_equal(req_send(c, 0)->n, 0);
    stun_builder_add(&req(t, STUN_BINDING, STUN_REQUEST)->b, ATTR_PADDING, pad, sizeof(pad));
    assert_int_equal(req_send(t, 0)->n, 1);
    /* Unknown comprehension-required attributes: 420 with UNKNOWN-ATTRIBUTES. */
    struct client *u = cl("127.0.0.1", 40001, TURN_UDP, "alice", "wonderland");
    uint16_t unknown[8];
    stun_builder_add_requested_transport(&req(u, STUN_ALLOCATE, STUN_REQUEST)->b, STUN_PROTO_UDP);
    stun_builder_add(&u->b, 0x7ffe, "abcd", 4);
    stun_builder_add(&u->b, ATTR_PADDING, "abcd", 4); /* optional: not listed */
    expect_error(req_send(u, AUTH), 420);
    assert_int_equal(stun_msg_unknown_attributes(&u->m, unknown, 8), 1);
    assert_int_equal(unknown[0], 0x7ffe);
    stun_builder_add_requested_transport(&req(u, STUN_ALLOCATE, STUN_REQUEST)->b, STUN_PROTO_UDP);
    stun_builder_add(&u->b, ATTR_PADDING, "abcd", 4);
    ok(req_send(u, AUTH)); /* optional attributes alone change nothing */
    stun_builder_add(&req(c, STUN_BINDING, STUN_REQUEST)->b, 0x7ffe, "abcd", 4);
    expect_error(req_send(c, 0), 420); /* RFC 8489 §6.3.1: for every request, Binding too */
}

/* Every answer to a request that is not authenticated may go to a spoofed
 * address: Binding (20 bytes in, 40+ out), 420 and 400 count against the
 * source's rate; unknown methods get no answer at all. IPv6 sources are
 * one source per /64. */
static void test_unauthenticated_answers_limited(void **state)
{
    start(state, opts());
    struct client *c = cl("192.0.2.1", 40000, TURN_UDP, NULL, NULL);
    int answered = 0;
    for (int i = 0; i < 400; i++)
        answered += req_send(req(c, STUN_BINDING, STUN_REQUEST), NOFP)->n;
    assert_in_range(answered, 100, 110); /* generous for ICE, but a limit */
    assert_int_equal(turn_server_stats(ts).binding_limited, (uint64_t)(400 - answered));
    answered = 0;
    for (int i = 0; i < 100; i++) {
        stun_builder_add(&req(c, STUN_ALLOCATE, STUN_REQUEST)->b, 0x7ffe, "abcd", 4);
        answered += req_send(c, 0)->n; /* 420 */
    }
    for (int i = 0; i < 100; i++)
        answered += req_send(req(c, 0x00b, STUN_REQUEST), 0)->n; /* an unknown method: silent */
    for (int i = 0; i < 100; i++)
        answered += req_send(req(c, STUN_ALLOCATE, STUN_REQUEST), 0)->n; /* 401 */
    assert_in_range(answered, 20, 22);
    assert_int_equal(turn_server_stats(ts).unknown_method, 100);
    assert_int_equal(turn_server_stats(ts).unauth_limited, (uint64_t)(200 - answered));
    /* Two addresses of one /64 share a budget; another /64 has its own. */
    answered = 0;
    for (int i = 0; i < 30; i++) {
        answered += req_send(req(cl("2001:db8:1:2::1", 1, TURN_UDP, NULL, NULL), STUN_ALLOCATE, STUN_REQUEST), 0)->n;
        answered += req_send(req(cl("2001:db8:1:2:ffff::9", 1, TURN_UDP, NULL, NULL), STUN_ALLOCATE, STUN_REQUEST), 0)->n;
        npool -= 2;
    }
    assert_in_range(answered, 20, 22);
    assert_int_equal(req_send(req(cl("2001:db8:1:3::1", 1, TURN_UDP, NULL, NULL), STUN_ALLOCATE, STUN_REQUEST), 0)->n, 1);
}

/* A flood of spoofed sources fills the table of unauthenticated sources:
 * a newcomer is still answered (from a shared bucket), and once the oldest
 * entries are idle they make room. */
static void test_unauth_table_full(void **state)
{
    start(state, opts());
    pump(1); /* the loop's clock starts */
    struct client *c = cl("198.51.100.1", 1, TURN_UDP, NULL, NULL);
    for (int i = 0; i < 4096; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "10.%d.%d.1", i >> 8, i & 255);
        struct stun_addr a = addr(ip, 5000);
        c->src.addrlen = stun_addr_to_sockaddr(&a, &c->src.addr);
        assert_int_equal(allocate_req(c, -1, 0)->n, 1);
    }
    assert_int_equal(turn_server_stats(ts).unauth_shared, 0);
    /* Full, and nobody is idle: newcomers share one bucket of ten sources' worth. */
    int answered = 0;
    for (int i = 0; i < 300; i++) {
        struct stun_addr a = addr("203.0.113.5", (uint16_t)(1000 + i));
        a.ip[3] = (uint8_t)i;
        c->src.addrlen = stun_addr_to_sockaddr(&a, &c->src.addr);
        answered += allocate_req(c, -1, 0)->n;
    }
    assert_int_equal(answered, 200);
    assert_int_equal(turn_server_stats(ts).unauth_shared, 300);
    /* A moment later the flood's entries are idle: a newcomer gets its own. */
    pump(100);
    struct client *d = cl("192.0.2.77", 1, TURN_UDP, NULL, NULL);
    for (int i = 0; i < 25; i++)
        answered += allocate_req(d, -1, 0)->n;
    assert_int_equal(answered, 220);
    assert_int_equal(turn_server_stats(ts).unauth_shared, 300);
}

static void test_permission_and_channel_rules(void **state)
{
    start(state, opts());
    struct client *a = cl("127.0.0.1", 40000, TURN_UDP, "alice", "wonderland");
    struct stun_addr rb = allocate(cl("127.0.0.1", 40001, TURN_UDP, "bob", "builder"));
    struct stun_addr pub = addr("8.8.8.8", 53), v6 = addr("2606:4700::1", 9), mapped = addr("::ffff:8.8.8.8", 9);
    static const char *const refused[] = { "127.0.0.1", "10.0.0.1", "169.254.169.254", "0.0.0.0", "192.168.1.1" };
    allocate(a);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        struct stun_addr p = addr(refused[i], 9);
        expect_signed_error(permit(a, &p), 403);
        expect_signed_error(bind_channel(a, 0x4000, &p), 403);
    }
    expect_error(permit(a, &v6), 443); /* an IPv6 peer for an IPv4 relay */
    reply(permit(a, &mapped), STUN_ERROR);
    assert_true(ok(permit(a, &pub))->mi >= 0);
    ok(permit(a, &rb)); /* another allocation here, though on loopback */
    expect_error(permit(a, NULL), 400);
    expect_error(bind_channel(a, 0x3FFF, &rb), 400);
    expect_error(bind_channel(a, 0x8000, &rb), 400);
    expect_error(bind_channel(a, 0x4000, NULL), 400);
    ok(bind_channel(a, 0x4000, &rb));
    ok(bind_channel(a, 0x4000, &rb)); /* a refresh */
    expect_error(bind_channel(a, 0x4000, &pub), 400);
    expect_error(bind_channel(a, 0x4001, &rb), 400);
}

/* Two allocations here, A's client on UDP and B's on TCP: data between them
 * goes in process, with the same permission and channel checks. */
static void test_relay_in_process(void **state)
{
    start(state, opts());
    struct client *a = cl("127.0.0.1", 40000, TURN_UDP, "alice", "wonderland");
    struct client *b = cl("127.0.0.1", 40000, TURN_TCP, "alice", "wonderland"); /* another 5-tuple */
    struct stun_addr ra = allocate(a), rb = allocate(b);
    struct stun_channeldata cd;
    send_indication(a, &rb, "nope"); /* no permission on A */
    assert_int_equal(b->n, 0);
    ok(permit(a, &rb));
    send_indication(a, &rb, "nope"); /* none on B */
    assert_int_equal(b->n, 0);
    ok(permit(b, &ra));
    send_indication(a, &rb, "hello");
    assert_int_equal(a->n, 0);
    expect_data(b, &ra, "hello");
    send_indication(b, &ra, "hi");
    expect_data(a, &rb, "hi");
    /* Channels: ChannelData, padded to a multiple of 4 on B's stream only. */
    ok(bind_channel(b, 0x4FFF, &ra));
    ok(bind_channel(a, 0x4000, &rb));
    send_indication(a, &rb, "abcde");
    assert_int_equal(b->n, 1);
    assert_int_equal(stun_channeldata_parse(b->msg[0], b->len[0], 1, &cd), 12);
    assert_true(cd.channel == 0x4FFF && cd.len == 5 && memcmp(cd.data, "abcde", 5) == 0);
    send_channel(b, 0x4FFF, "xyzzy");
    assert_int_equal(a->n, 1);
    assert_int_equal(stun_channeldata_parse(a->msg[0], a->len[0], 0, &cd), 9);
    assert_true(cd.channel == 0x4000 && cd.len == 5 && memcmp(cd.data, "xyzzy", 5) == 0);
    send_channel(b, 0x4002, "lost"); /* an unbound channel */
    assert_int_equal(a->n, 0);
    assert_true(turn_server_stats(ts).relayed_packets >= 4);
    /* B's connection closes: its allocation ends with it. */
    turn_server_stream_closed(ts, b);
    assert_false(port_open(rb.port));
    send_channel(a, 0x4000, "gone");
    assert_int_equal(b->n, 0);
}

/* The SFU in this process as a peer: data to the main port of an own
 * address goes to it in process, with the allocation's relayed address as
 * the source; its answers to that relayed address come back as Data
 * indications. Without the SFU plugged in, the main port is refused. */
static struct {
    int n;
    struct stun_addr from, to;
    char data[16];
} sfu_got;

static void sfu_input(void *ctx, const struct stun_addr *from, const struct stun_addr *to, const uint8_t *data,
                      size_t len)
{
    (void)ctx;
    sfu_got.n++;
    sfu_got.from = *from;
    sfu_got.to = *to;
    snprintf(sfu_got.data, sizeof(sfu_got.data), "%.*s", (int)len, (const char *)data);
}

static void test_relay_to_sfu(void **state)
{
    struct turn_options o = opts();
    o.policy.main_port = 3478;
    start(state, o);
    memset(&sfu_got, 0, sizeof(sfu_got));
    struct client *a = cl("198.51.100.9", 40000, TURN_UDP, "alice", "wonderland");
    struct stun_addr ra = allocate(a), sfu = addr("127.0.0.1", 3478);
    /* No SFU: the main port is no peer. */
    expect_error(permit(a, &sfu), 403);
    struct turn_sfu_ops ops = { .input = sfu_input, .ctx = NULL };
    turn_server_set_sfu(ts, &ops);
    ok(permit(a, &sfu));
    send_indication(a, &sfu, "check");
    assert_int_equal(sfu_got.n, 1);
    assert_string_equal(sfu_got.data, "check");
    assert_int_equal(sfu_got.from.port, ra.port);
    assert_int_equal(sfu_got.to.port, 3478);
    assert_int_equal(fake.nsent, 0); /* nothing went through a socket */
    /* The SFU answers the relayed address: to the client as a Data indication from the SFU. */
    assert_int_equal(turn_server_from_sfu(ts, &sfu, &ra, (const uint8_t *)"answer", 6), 0);
    expect_data(a, &sfu, "answer");
    /* Another address is not ours to deliver: the SFU sends it itself. */
    struct stun_addr elsewhere = addr("203.0.113.5", ra.port);
    assert_int_equal(turn_server_from_sfu(ts, &sfu, &elsewhere, (const uint8_t *)"x", 1), -1);
    /* Unplugged: refused again, per packet. */
    turn_server_set_sfu(ts, NULL);
    send_indication(a, &sfu, "late");
    assert_int_equal(sfu_got.n, 1);
}

/* A peer on the network, both ways through the fake relay socket; only
 * permitted peers get through; a peer on this host's own address is not a
 * network peer (even at a relay port: those are delivered in process). */
static void test_relay_network_peer(void **state)
{
    start(state, opts());
    struct client *a = cl("198.51.100.9", 40000, TURN_UDP, "alice", "wonderland");
    struct stun_addr ra = allocate(a), pa = addr("8.8.8.8", 3478), stranger = addr("8.8.4.4", 3478);
    ok(permit(a, &pa));
    send_indication(a, &pa, "out");
    expect_sent(ra.port, &pa, "out");
    send_indication(a, &stranger, "no permission");
    assert_int_equal(fake.nsent, 0);
    assert_int_equal(from_peer(ra.port, &stranger, "no"), 0); /* dropped */
    assert_int_equal(a->n, 0);
    assert_int_equal(from_peer(ra.port, &pa, "back"), 0);
    expect_data(a, &pa, "back");
    ok(bind_channel(a, 0x7123, &pa));
    assert_int_equal(from_peer(ra.port, &pa, "chan"), 0);
    struct stun_channeldata cd;
    assert_int_equal(stun_channeldata_parse(a->msg[0], a->len[0], 0, &cd), 8);
    assert_true(cd.channel == 0x7123 && cd.len == 4 && memcmp(cd.data, "chan", 4) == 0);
    send_channel(a, 0x7123, "up");
    expect_sent(ra.port, &pa, "up");
    /* Own addresses: the relay IP off the relay ports, loopback, and a relay
     * port coming in from the network (in-process data never does). */
    uint16_t unowned = (uint16_t)(ra.port == port_lo + 3 ? port_lo + 2 : port_lo + 3);
    struct stun_addr svc = addr("127.0.0.1", 5353), own_relay = addr("127.0.0.1", unowned);
    ok(permit(a, &own_relay));
    assert_int_equal(from_peer(ra.port, &svc, "from a local service"), 0);
    assert_int_equal(from_peer(ra.port, &own_relay, "spoofed relay port"), 0);
    assert_int_equal(a->n, 0);
    send_indication(a, &svc, "to a local service");
    send_indication(a, &own_relay, "to an unowned relay port");
    assert_int_equal(fake.nsent, 0);
    assert_true(turn_server_stats(ts).own_refused >= 3);
    /* Datagrams for ports nobody holds. */
    assert_int_equal(from_peer(unowned, &pa, "x"), -1);
    assert_int_equal(from_peer(1234, &pa, "x"), -1);
}

/* The relay ports: a taken one is skipped; DONT-FRAGMENT reaches the socket;
 * none left → 508; the server frees its relay backend once. */
static void test_relay_ports(void **state)
{
    start(state, opts());
    fake.taken = (uint16_t)(port_lo + 1);
    struct client *c[4];
    for (int i = 0; i < 3; i++) {
        c[i] = cl("198.51.100.9", (uint16_t)(40000 + i), TURN_UDP, "alice", "wonderland");
        req(c[i], STUN_ALLOCATE, STUN_REQUEST);
        stun_builder_add_requested_transport(&c[i]->b, STUN_PROTO_UDP);
        stun_builder_add(&c[i]->b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
        ok(req_send(c[i], AUTH));
    }
    assert_false(port_open((uint16_t)(port_lo + 1)));
    for (int p = 0; p < 4; p++)
        assert_int_equal(fake.df[p], p != 1);
    c[3] = cl("198.51.100.9", 40003, TURN_UDP, "alice", "wonderland");
    expect_signed_error(allocate_req(c[3], -1, AUTH), 508);
    assert_int_equal(lifetime_of(refresh(c[0], 0)), 0);
    assert_int_equal(fake.closes, 1);
}

/* A slow stream client: its send callback ends the allocation (the glue
 * closes it) while a datagram for it is handed in. The caller learns the
 * relay is gone; nothing freed is touched (run under ASan). */
static struct client *victim;
static int armed;
static void send_and_close(const struct turn_source *src, const uint8_t *buf, size_t len)
{
    on_send(src, buf, len);
    if (armed)
        turn_server_stream_closed(ts, victim);
}

static void test_delivery_ends_allocation(void **state)
{
    start(state, opts());
    victim = cl("198.51.100.9", 40000, TURN_TCP, "alice", "wonderland");
    victim->src.send = send_and_close; /* the allocation keeps the source it was made with */
    armed = 0;
    struct stun_addr rv = allocate(victim), pa = addr("8.8.8.8", 3478);
    ok(permit(victim, &pa));
    armed = 1;
    assert_int_equal(from_peer(rv.port, &pa, "one too many"), -1);
    assert_int_equal(victim->n, 1);
    assert_false(port_open(rv.port));
    assert_int_equal(from_peer(rv.port, &pa, "the rest of the batch"), -1);
    assert_int_equal(turn_server_stats(ts).active[TURN_TCP], 0);
}

/* --turn-bandwidth: bytes a second per allocation, both ways, one second of
 * burst; the rest is dropped and counted. */
static void test_bandwidth(void **state)
{
    struct turn_options o = opts();
    o.bandwidth = 1000;
    start(state, o);
    pump(1);
    struct client *a = cl("198.51.100.9", 40000, TURN_UDP, "alice", "wonderland");
    struct stun_addr ra = allocate(a), pa = addr("8.8.8.8", 3478);
    ok(permit(a, &pa));
    char big[401];
    memset(big, 'b', 400);
    big[400] = '\0';
    send_indication(a, &pa, big);
    expect_sent(ra.port, &pa, big);
    assert_int_equal(from_peer(ra.port, &pa, big), 0);
    assert_int_equal(a->n, 1);
    assert_int_equal(from_peer(ra.port, &pa, big), 0); /* 1200 > 1000: dropped */
    assert_int_equal(a->n, 0);
    send_indication(a, &pa, big);
    assert_int_equal(fake.nsent, 0);
    assert_int_equal(turn_server_stats(ts).bandwidth_dropped, 2);
    pump(500); /* half a second: 500 bytes more */
    send_indication(a, &pa, big);
    expect_sent(ra.port, &pa, big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_binding, stop),
        cmocka_unit_test_teardown(test_relay_to_sfu, stop),
        cmocka_unit_test_teardown(test_challenge_and_bad_credentials, stop),
        cmocka_unit_test_teardown(test_allocate_success, stop),
        cmocka_unit_test_teardown(test_stale_nonce, stop),
        cmocka_unit_test_teardown(test_rest_credentials, stop),
        cmocka_unit_test_teardown(test_allocate_errors, stop),
        cmocka_unit_test_teardown(test_source_and_global_caps, stop),
        cmocka_unit_test_teardown(test_odd_input, stop),
        cmocka_unit_test_teardown(test_unauthenticated_answers_limited, stop),
        cmocka_unit_test_teardown(test_unauth_table_full, stop),
        cmocka_unit_test_teardown(test_permission_and_channel_rules, stop),
        cmocka_unit_test_teardown(test_relay_in_process, stop),
        cmocka_unit_test_teardown(test_relay_network_peer, stop),
        cmocka_unit_test_teardown(test_relay_ports, stop),
        cmocka_unit_test_teardown(test_delivery_ends_allocation, stop),
        cmocka_unit_test_teardown(test_bandwidth, stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
