/*
 * test_udp — the main port's datagram batches (src/net/udp.c) over real
 * sockets on loopback: a run of datagrams of one size to one address goes
 * as one GSO message and arrives as the same datagrams in the same order;
 * a datagram of another size or to another address ends a run; the local
 * address each was queued with (IP_PKTINFO) is still where it comes from;
 * and counts add up.
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

#include "net/udp.h"

static struct udp_tx_batch tx;

/* A receiving socket on ip (port chosen by the kernel); its address in *a. */
static int receiver(const char *ip, struct sockaddr_storage *a, socklen_t *alen)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in s = { .sin_family = AF_INET };
    assert_int_equal(inet_pton(AF_INET, ip, &s.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0);
    *alen = sizeof(*a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)a, alen), 0);
    return fd;
}

static struct sockaddr_storage local_ip(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    s4->sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
    return ss;
}

/* Queues a datagram of len bytes, each byte tag. */
static void queue(int fd, const struct sockaddr_storage *local, const struct sockaddr_storage *to, socklen_t tolen,
                  uint8_t tag, size_t len)
{
    uint8_t buf[UDP_DATAGRAM_MAX];
    memset(buf, tag, len);
    udp_tx_queue(&tx, fd, local, to, tolen, buf, len);
}

/* The next datagram on fd: checks its size, its bytes and where it came from. */
static void expect(int fd, uint8_t tag, size_t len, const char *from_ip)
{
    uint8_t buf[UDP_DATAGRAM_MAX + 1];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    assert_int_equal(poll(&p, 1, 1000), 1);
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
    assert_int_equal(n, (ssize_t)len);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(buf[i], tag);
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &from.sin_addr, ip, sizeof(ip));
    assert_string_equal(ip, from_ip);
}

static int setup(void **state)
{
    (void)state;
    memset(&tx, 0, sizeof(tx));
    return 0;
}

static void test_runs_go_as_one_and_arrive_as_many(void **state)
{
    (void)state;
    char err[128];
    int fd = udp_open("127.0.0.1", 0, err, sizeof(err));
    assert_true(fd >= 0);
    struct sockaddr_storage to;
    socklen_t tolen;
    int rx = receiver("127.0.0.1", &to, &tolen);
    for (int i = 0; i < 10; i++)
        queue(fd, NULL, &to, tolen, (uint8_t)i, 204);
    queue(fd, NULL, &to, tolen, 100, 100); /* another size ends the run */
    for (int i = 0; i < 3; i++)
        queue(fd, NULL, &to, tolen, (uint8_t)(200 + i), 204);
    queue(fd, NULL, &to, tolen, 250, 1400); /* too big to be a segment */
    queue(fd, NULL, &to, tolen, 251, 1400);
    udp_tx_flush(&tx, fd);
    assert_int_equal(tx.sent, 16);
    assert_int_equal(tx.dropped, 0);
    if (tx.no_gso)
        fprintf(stderr, "this kernel refused UDP_SEGMENT: sent one by one\n");
    else
        assert_int_equal(tx.segmented, 13);
    for (int i = 0; i < 10; i++)
        expect(rx, (uint8_t)i, 204, "127.0.0.1");
    expect(rx, 100, 100, "127.0.0.1");
    for (int i = 0; i < 3; i++)
        expect(rx, (uint8_t)(200 + i), 204, "127.0.0.1");
    expect(rx, 250, 1400, "127.0.0.1");
    expect(rx, 251, 1400, "127.0.0.1");
    close(rx);
    close(fd);
}

static void test_runs_keep_their_address(void **state)
{
    (void)state;
    char err[128];
    int fd = udp_open(NULL, 0, err, sizeof(err)); /* every address: the source is chosen per datagram */
    assert_true(fd >= 0);
    struct sockaddr_storage a, b;
    socklen_t alen, blen;
    int ra = receiver("127.0.0.1", &a, &alen), rb = receiver("127.0.0.1", &b, &blen);
    struct sockaddr_storage l2 = local_ip("127.0.0.2"), l3 = local_ip("127.0.0.3");
    for (int i = 0; i < 4; i++)
        queue(fd, &l3, &a, alen, (uint8_t)i, 300);
    for (int i = 0; i < 4; i++)
        queue(fd, &l2, &a, alen, (uint8_t)(10 + i), 300); /* another source: another run */
    for (int i = 0; i < 3; i++) {
        queue(fd, &l3, &a, alen, (uint8_t)(20 + i), 300); /* alternating destinations: no runs */
        queue(fd, &l3, &b, blen, (uint8_t)(30 + i), 300);
    }
    udp_tx_flush(&tx, fd);
    assert_int_equal(tx.sent, 14);
    if (!tx.no_gso)
        assert_int_equal(tx.segmented, 8);
    for (int i = 0; i < 4; i++)
        expect(ra, (uint8_t)i, 300, "127.0.0.3");
    for (int i = 0; i < 4; i++)
        expect(ra, (uint8_t)(10 + i), 300, "127.0.0.2");
    for (int i = 0; i < 3; i++) {
        expect(ra, (uint8_t)(20 + i), 300, "127.0.0.3");
        expect(rb, (uint8_t)(30 + i), 300, "127.0.0.3");
    }
    close(ra);
    close(rb);
    close(fd);
}

static void test_full_batch_flushes(void **state)
{
    (void)state;
    char err[128];
    int fd = udp_open("127.0.0.1", 0, err, sizeof(err));
    struct sockaddr_storage to;
    socklen_t tolen;
    int rx = receiver("127.0.0.1", &to, &tolen);
    for (int i = 0; i < UDP_BATCH + 5; i++)
        queue(fd, NULL, &to, tolen, (uint8_t)i, 50);
    assert_int_equal(tx.n, 5); /* the first UDP_BATCH went when the batch was full */
    udp_tx_flush(&tx, fd);
    assert_int_equal(tx.sent, UDP_BATCH + 5);
    for (int i = 0; i < UDP_BATCH + 5; i++)
        expect(rx, (uint8_t)i, 50, "127.0.0.1");
    close(rx);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_runs_go_as_one_and_arrive_as_many, setup),
        cmocka_unit_test_setup(test_runs_keep_their_address, setup),
        cmocka_unit_test_setup(test_full_batch_flushes, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
