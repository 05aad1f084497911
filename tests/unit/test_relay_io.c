/*
 * test_relay_io — the real relay sockets of the TURN server
 * (src/server/relay_io.c) on a real loop, with the TURN server in process:
 * clients are fake turn_sources that hand requests to turn_server_input()
 * and keep the answers; peers are real UDP sockets on 127.0.0.1.
 *
 * Data goes client -> relay socket -> peer and back, with sends through
 * io_uring and, with TINCAN_IO_URING=0, through sendto; a send queued just
 * before its allocation ends still leaves; and a relay socket closed by an
 * event early in an epoll batch (a Refresh with lifetime 0 on the main
 * port) while it is itself readable later in the same batch is not touched
 * after it is freed (ASan in build/asan/unit says so).
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
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/loop.h"
#include "server/relay_io.h"
#include "stun/auth.h"
#include "stun/stun.h"
#include "turn/server.h"

#define REALM "tincan"
#define USER "u"
#define PASS "p"
#define PORT_LO 47610 /* 32 ports; taken ones are skipped by the server */
#define PORT_HI 47641
#define CHANNEL 0x4001

struct client {
    struct turn_source src;
    uint8_t ans[2048];           /* the last message the server sent it */
    size_t anslen;
    int nans;
    uint8_t key[AUTH_KEY_MD5_LEN];
    char nonce[AUTH_NONCE_LEN + 1];
    uint8_t txid[STUN_TXID_LEN];
    struct stun_addr relayed;
};

static struct loop *loop;
static struct turn_server *ts;
static struct client clients[2];
static char *users[] = { (char[]){ USER ":" PASS } };

static void on_answer(const struct turn_source *src, const uint8_t *buf, size_t len)
{
    struct client *c = src->ctx;
    assert_true(len <= sizeof(c->ans));
    memcpy(c->ans, buf, len);
    c->anslen = len;
    c->nans++;
    loop_stop(loop); /* what run_loop() waits for; nothing outside it */
}

static int setup(void **state)
{
    (void)state;
    char err[200] = "";
    assert_non_null(loop = loop_new());
    struct turn_options o = { .realm = REALM, .users = users, .nusers = 1, .relay_ip = "127.0.0.1",
                              .port_lo = PORT_LO, .port_hi = PORT_HI, .quota = 10, .nonce_ttl = 600 };
    o.policy.allow_loopback = 1;
    assert_int_equal(relay_io_ops(loop, "127.0.0.1", &o.relay), 0);
    if (!(ts = turn_server_new(loop, &o, err, sizeof(err))))
        fail_msg("turn_server_new: %s", err);
    relay_io_attach(&o.relay, ts);
    memset(clients, 0, sizeof(clients));
    for (int i = 0; i < 2; i++) {
        struct client *c = &clients[i];
        struct sockaddr_in *a = (struct sockaddr_in *)&c->src.addr;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(0x7f000001);
        a->sin_port = htons((uint16_t)(40000 + i));
        c->src = (struct turn_source){ .transport = TURN_UDP, .addr = c->src.addr, .addrlen = sizeof(*a),
                                       .send = on_answer, .ctx = c };
        assert_int_equal(auth_key_md5(auth_cstr(USER), auth_cstr(REALM), auth_cstr(PASS), c->key), 0);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    turn_server_free(ts);
    loop_free(loop);
    ts = NULL;
    loop = NULL;
    unsetenv("TINCAN_IO_URING");
    return 0;
}

/* Sends c a request (authenticated once it has a nonce); returns the
 * answer's error code, 0 for a success. A 401 fetches the nonce and the
 * request goes again. */
static int request(struct client *c, unsigned method, int64_t lifetime, const struct stun_addr *peer)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        uint8_t out[1024];
        struct stun_builder b;
        c->txid[0]++;
        stun_builder_init(&b, out, sizeof(out), stun_type(method, STUN_REQUEST), c->txid);
        if (method == STUN_ALLOCATE)
            stun_builder_add_requested_transport(&b, STUN_PROTO_UDP);
        if (lifetime >= 0)
            stun_builder_add_u32(&b, STUN_ATTR_LIFETIME, (uint32_t)lifetime);
        if (method == STUN_CHANNEL_BIND)
            stun_builder_add_channel_number(&b, CHANNEL);
        if (peer)
            stun_builder_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
        if (c->nonce[0]) {
            stun_builder_add(&b, STUN_ATTR_USERNAME, USER, strlen(USER));
            stun_builder_add(&b, STUN_ATTR_REALM, REALM, strlen(REALM));
            stun_builder_add(&b, STUN_ATTR_NONCE, c->nonce, strlen(c->nonce));
            stun_builder_add_integrity(&b, c->key, sizeof(c->key));
        }
        stun_builder_add_fingerprint(&b);
        int n = stun_builder_finish(&b);
        assert_true(n > 0);
        c->nans = 0;
        turn_server_input(ts, &c->src, out, (size_t)n);
        assert_int_equal(c->nans, 1);
        struct stun_msg m;
        assert_int_equal(stun_msg_decode(c->ans, c->anslen, &m), STUN_OK);
        int code = 0;
        struct stun_str reason, nonce;
        if (stun_class_of(m.type) == STUN_SUCCESS) {
            if (method == STUN_ALLOCATE)
                assert_int_equal(stun_msg_xor_addr(&m, STUN_ATTR_XOR_RELAYED_ADDRESS, &c->relayed), 0);
            return 0;
        }
        assert_int_equal(stun_msg_error_code(&m, &code, &reason), 0);
        if (code != 401 || stun_msg_str(&m, STUN_ATTR_NONCE, &nonce) < 0 || nonce.len >= sizeof(c->nonce))
            return code;
        memcpy(c->nonce, nonce.p, nonce.len);
        c->nonce[nonce.len] = 0;
    }
    return 401;
}

/* A UDP socket on 127.0.0.1; its address as STUN sees it in *a. */
static int peer_sock(struct stun_addr *a)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in s = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0);
    socklen_t len = sizeof(s);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&s, &len), 0);
    assert_int_equal(stun_addr_from_sockaddr(a, (struct sockaddr *)&s), 0);
    return fd;
}

static void send_to(int fd, const struct stun_addr *to, const char *data)
{
    struct sockaddr_storage ss;
    socklen_t sl = stun_addr_to_sockaddr(to, &ss);
    assert_int_equal(sendto(fd, data, strlen(data), 0, (struct sockaddr *)&ss, sl), (ssize_t)strlen(data));
}

/* ChannelData from c on CHANNEL, as the main port would hand it in. */
static void channel_data(struct client *c, const char *data)
{
    uint8_t out[256];
    size_t n = strlen(data);
    out[0] = CHANNEL >> 8;
    out[1] = CHANNEL & 0xff;
    out[2] = 0;
    out[3] = (uint8_t)n;
    memcpy(out + 4, data, n);
    turn_server_input(ts, &c->src, out, 4 + n);
}

/* --- the loop runs until a client gets something, a watched socket has
 * something, or 2 s; spin() runs one iteration --- */

struct watch {
    struct loop_io io;
    int fired;
    void (*then)(void);
};

static void on_watch(struct loop *l, struct loop_io *io, unsigned events)
{
    (void)events;
    struct watch *w = (struct watch *)io;
    uint8_t b[256];
    while (recv(io->fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
        w->fired++;
    if (w->then)
        w->then();
    loop_stop(l);
}

static void on_timeout(struct loop *l, struct loop_timer *t)
{
    (void)t;
    loop_stop(l);
}

static void run_for(uint64_t ms)
{
    struct loop_timer guard = { 0 };
    loop_timer_start(loop, &guard, ms, on_timeout);
    loop_run(loop);
    loop_timer_stop(loop, &guard);
}

static void run_loop(void)
{
    run_for(2000);
}

static void spin(void)
{
    run_for(0);
}

/* The next datagram on fd within a second, as text ("" if none). */
static const char *recv_text(int fd, struct stun_addr *from)
{
    static char buf[256];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    buf[0] = 0;
    if (poll(&p, 1, 1000) != 1)
        return buf;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT, (struct sockaddr *)&ss, &len);
    buf[n > 0 ? n : 0] = 0;
    assert_int_equal(stun_addr_from_sockaddr(from, (struct sockaddr *)&ss), 0);
    return buf;
}

static void both_ways(void)
{
    struct client *c = &clients[0];
    struct stun_addr peer, from;
    int pfd = peer_sock(&peer);
    assert_int_equal(request(c, STUN_ALLOCATE, -1, NULL), 0);
    assert_int_equal(request(c, STUN_CHANNEL_BIND, -1, &peer), 0);
    /* Client to peer: queued, sent once the loop has handled its events. */
    channel_data(c, "to the peer");
    spin();
    assert_string_equal(recv_text(pfd, &from), "to the peer");
    assert_int_equal(from.port, c->relayed.port); /* from the relay socket */
    /* Peer to client: read on the relay socket, as ChannelData. */
    c->nans = 0;
    send_to(pfd, &c->relayed, "to the client");
    run_loop();
    assert_int_equal(c->nans, 1);
    assert_int_equal(c->anslen, 4 + strlen("to the client"));
    assert_int_equal((c->ans[0] << 8) | c->ans[1], CHANNEL);
    assert_memory_equal(c->ans + 4, "to the client", strlen("to the client"));
    close(pfd);
}

static void test_both_ways_io_uring(void **state)
{
    (void)state;
    both_ways();
}

static void test_both_ways_sendto(void **state)
{
    (void)state;
    /* The relay's send queue is made when the ops are: start over without it. */
    teardown(state);
    setenv("TINCAN_IO_URING", "0", 1);
    setup(state);
    both_ways();
}

/* A send queued just before its allocation ends still leaves (the queue
 * is flushed before the socket closes), and from that socket. */
static void test_queued_send_before_close(void **state)
{
    (void)state;
    struct client *c = &clients[0];
    struct stun_addr peer, from;
    int pfd = peer_sock(&peer);
    assert_int_equal(request(c, STUN_ALLOCATE, -1, NULL), 0);
    assert_int_equal(request(c, STUN_CHANNEL_BIND, -1, &peer), 0);
    channel_data(c, "last words");
    assert_int_equal(request(c, STUN_REFRESH, 0, NULL), 0);
    assert_string_equal(recv_text(pfd, &from), "last words");
    assert_int_equal(from.port, c->relayed.port);
    spin(); /* frees the closed socket */
    close(pfd);
}

static void close_b(void)
{
    /* As a Refresh with lifetime 0 from the main port would: B's relay
     * socket closes while its own readiness is still in this batch. */
    assert_int_equal(request(&clients[1], STUN_REFRESH, 0, NULL), 0);
}

static void test_close_in_same_batch(void **state)
{
    (void)state;
    struct stun_addr peer, trig_addr;
    int pfd = peer_sock(&peer), trig = peer_sock(&trig_addr);
    assert_int_equal(request(&clients[0], STUN_ALLOCATE, -1, NULL), 0);
    assert_int_equal(request(&clients[1], STUN_ALLOCATE, -1, NULL), 0);
    struct watch w = { .then = close_b };
    assert_int_equal(loop_io_add(loop, &w.io, trig, LOOP_READ, on_watch), 0);
    /* The trigger first, then B's relay socket: epoll reports them in the
     * order they became ready, so B's event comes after it is closed. */
    send_to(pfd, &trig_addr, "trigger");
    send_to(pfd, &clients[1].relayed, "for B");
    send_to(pfd, &clients[0].relayed, "for A");
    run_loop();
    assert_int_equal(w.fired, 1);
    /* B is gone, A still relays (no permission: nothing reaches the client). */
    clients[1].nans = 0;
    assert_int_equal(request(&clients[1], STUN_REFRESH, -1, NULL), 437);
    assert_int_equal(request(&clients[0], STUN_REFRESH, -1, NULL), 0);
    loop_io_del(loop, &w.io);
    spin();
    close(trig);
    close(pfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_both_ways_io_uring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_both_ways_sendto, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queued_send_before_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_in_same_batch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
