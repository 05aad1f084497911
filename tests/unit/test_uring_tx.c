/*
 * test_uring_tx — sends to many sockets with one system call
 * (src/net/uring_tx.c), over real UDP sockets on 127.0.0.1: nothing leaves
 * before the flush, one io_uring_enter sends the datagrams of every socket
 * in order and from the right source, a full queue flushes itself, a send on
 * a closed socket is a counted drop, freeing sends what is queued, and
 * TINCAN_IO_URING=0 turns it off. Where the kernel refuses io_uring the
 * tests that need it are skipped (the fallback is the caller's sendto).
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
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/uring_tx.h"

#define SENDERS 8
#define EACH 3

/* A UDP socket on 127.0.0.1 (port chosen by the kernel); its address in *a. */
static int udp_sock(struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    int size = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    struct sockaddr_in s = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0);
    socklen_t len = sizeof(*a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)a, &len), 0);
    return fd;
}

/* The next datagram on fd within a second; its length (-1: none came). */
static int recv_one(int fd, uint8_t *buf, size_t cap, struct sockaddr_in *from)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, 1000) != 1)
        return -1;
    socklen_t len = sizeof(*from);
    return (int)recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)from, &len);
}

static int pending(int fd)
{
    uint8_t b[64];
    return recv(fd, b, sizeof(b), MSG_DONTWAIT | MSG_PEEK) >= 0;
}

static struct uring_tx *new_or_skip(void)
{
    struct uring_tx *u = uring_tx_new();
    if (!u) {
        fprintf(stderr, "io_uring refused here (%s): skipped\n", strerror(errno));
        skip();
    }
    return u;
}

static void test_one_enter_for_every_socket(void **state)
{
    (void)state;
    struct uring_tx *u = new_or_skip();
    struct sockaddr_in to, from[SENDERS], got;
    int rx = udp_sock(&to), tx[SENDERS];
    for (int s = 0; s < SENDERS; s++)
        tx[s] = udp_sock(&from[s]);
    for (int i = 0; i < EACH; i++) {
        for (int s = 0; s < SENDERS; s++) {
            char msg[32];
            int n = snprintf(msg, sizeof(msg), "from %d, #%d", s, i);
            assert_int_equal(uring_tx_queue(u, tx[s], (struct sockaddr *)&to, sizeof(to), (uint8_t *)msg, (size_t)n), 0);
        }
    }
    assert_int_equal(uring_tx_queued(u), SENDERS * EACH);
    assert_false(pending(rx)); /* nothing leaves before the flush */
    assert_int_equal(uring_tx_flush(u), SENDERS * EACH);
    struct uring_tx_stats st = uring_tx_stats(u);
    assert_int_equal(st.submits, 1);
    assert_int_equal(st.sent, SENDERS * EACH);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(uring_tx_queued(u), 0);
    int next[SENDERS] = { 0 };
    for (int k = 0; k < SENDERS * EACH; k++) {
        uint8_t buf[64];
        int n = recv_one(rx, buf, sizeof(buf) - 1, &got);
        assert_true(n > 0);
        buf[n] = 0;
        int s = -1;
        for (int j = 0; j < SENDERS; j++)
            if (got.sin_port == from[j].sin_port)
                s = j;
        assert_true(s >= 0); /* each left from its own socket */
        char want[32];
        snprintf(want, sizeof(want), "from %d, #%d", s, next[s]++);
        assert_string_equal((char *)buf, want); /* in order per socket */
    }
    uring_tx_free(u);
    for (int s = 0; s < SENDERS; s++)
        close(tx[s]);
    close(rx);
}

static void test_full_queue_flushes_itself(void **state)
{
    (void)state;
    struct uring_tx *u = new_or_skip();
    struct sockaddr_in to, from;
    int rx = udp_sock(&to), tx = udp_sock(&from);
    const int total = URING_TX_DEPTH + 10;
    for (int i = 0; i < total; i++)
        assert_int_equal(uring_tx_queue(u, tx, (struct sockaddr *)&to, sizeof(to), (const uint8_t *)"x", 1), 0);
    assert_int_equal(uring_tx_stats(u).submits, 1); /* when the queue was full */
    assert_int_equal(uring_tx_queued(u), 10);
    uring_tx_flush(u);
    struct uring_tx_stats st = uring_tx_stats(u);
    assert_int_equal(st.sent, total);
    int n = 0;
    uint8_t b[8];
    while (recv(rx, b, sizeof(b), MSG_DONTWAIT) == 1)
        n++;
    assert_int_equal(n, total);
    uring_tx_free(u);
    close(tx);
    close(rx);
}

static void test_refusals(void **state)
{
    (void)state;
    struct uring_tx *u = new_or_skip();
    struct sockaddr_in to, from;
    int rx = udp_sock(&to), tx = udp_sock(&from);
    static uint8_t big[URING_TX_DATAGRAM_MAX + 1];
    /* Too long for a slot: the caller sends it itself. */
    assert_int_equal(uring_tx_queue(u, tx, (struct sockaddr *)&to, sizeof(to), big, sizeof(big)), -1);
    assert_int_equal(uring_tx_queue(u, tx, (struct sockaddr *)&to, sizeof(to), big, sizeof(big) - 1), 0);
    /* A send whose socket is gone is a drop, counted, and the rest go on. */
    int gone = udp_sock(&from);
    close(gone);
    assert_int_equal(uring_tx_queue(u, gone, (struct sockaddr *)&to, sizeof(to), (const uint8_t *)"y", 1), 0);
    assert_int_equal(uring_tx_queue(u, tx, (struct sockaddr *)&to, sizeof(to), (const uint8_t *)"z", 1), 0);
    uring_tx_flush(u);
    struct uring_tx_stats st = uring_tx_stats(u);
    assert_int_equal(st.sent, 2);
    assert_int_equal(st.dropped, 1);
    struct sockaddr_in got;
    uint8_t buf[URING_TX_DATAGRAM_MAX + 8];
    assert_int_equal(recv_one(rx, buf, sizeof(buf), &got), URING_TX_DATAGRAM_MAX);
    assert_int_equal(recv_one(rx, buf, sizeof(buf), &got), 1);
    assert_int_equal(buf[0], 'z');
    uring_tx_free(u);
    close(tx);
    close(rx);
}

static void test_free_sends_what_is_queued(void **state)
{
    (void)state;
    struct uring_tx *u = new_or_skip();
    struct sockaddr_in to, from, got;
    int rx = udp_sock(&to), tx = udp_sock(&from);
    assert_int_equal(uring_tx_queue(u, tx, (struct sockaddr *)&to, sizeof(to), (const uint8_t *)"last", 4), 0);
    uring_tx_free(u);
    uint8_t buf[16];
    assert_int_equal(recv_one(rx, buf, sizeof(buf), &got), 4);
    assert_memory_equal(buf, "last", 4);
    uring_tx_free(NULL);
    close(tx);
    close(rx);
}

static void test_env_turns_it_off(void **state)
{
    (void)state;
    setenv("TINCAN_IO_URING", "0", 1);
    errno = 0;
    assert_null(uring_tx_new());
    assert_int_equal(errno, ENOTSUP);
    unsetenv("TINCAN_IO_URING");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_enter_for_every_socket),
        cmocka_unit_test(test_full_queue_flushes_itself),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_free_sends_what_is_queued),
        cmocka_unit_test(test_env_turns_it_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
