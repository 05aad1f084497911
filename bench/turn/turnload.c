/*
 * turnload — the TURN relay load generator of bench/turn (see bench/README.md).
 *
 * Opens N TURN allocations over UDP with long-term credentials, binds one
 * channel on each, and pushes ChannelData at a fixed rate per channel through
 * the relay and back, one rate step after another on the same allocations.
 * Each step prints one line `RESULT {json}`: packets sent and received in the
 * measured window, loss, round-trip times, and the CPU time (utime + stime
 * from /proc/<pid>/stat) the measured process used in that window.
 *
 * Modes (--mode):
 *   turn    client -> server (ChannelData) -> echo peer -> server (Data on
 *           the channel) -> client. The echo peer is a child process that
 *           answers with recvmmsg/sendmmsg in batches of up to 64. Measured:
 *           the server (--pid). Relayed packets = packets that reached the
 *           echo peer + packets that came back to the clients, so one round
 *           trip is two relayed packets, one each way.
 *   r2r     pairs of allocations on the same server talk to each other
 *           through their relayed addresses: A -> server -> B, the generator
 *           echoes on B, B -> server -> A. Measured: the server. Relayed
 *           packets = arrivals at B + arrivals back at A (two per round trip).
 *   direct  no TURN server: the same flows send the bare payload straight to
 *           the echo child, which is what is measured: the kernel's loopback
 *           floor for receiving a datagram and sending it on. Relayed
 *           packets = datagrams the echo received and sent back (one per
 *           round trip, since that is one receive and one send, as a relay
 *           does for each packet it relays).
 *
 * Timing: a timerfd ticks every --tick-us on average; on each tick every
 * sending flow sends what its schedule says is due (up to 64 per flow and
 * tick, with sendmmsg). Each interval is drawn from 0.5-1.5 x --tick-us: with
 * a fixed period the load would run in step with the kernel's scheduler tick,
 * which is what samples utime and stime (CONFIG_TICK_CPU_ACCOUNTING), and
 * the CPU figures could be biased by the phase between the two. A step is
 * --warmup seconds at the rate, --duration seconds measured, then sending
 * stops and late packets are awaited for --drain-ms. Loss counts the packets
 * sent in the measured window that never came back.
 *
 * Setup (Allocate with the 401 exchange, ChannelBind) is checked by sending
 * one packet on every flow before the first step; TURNLOAD_DEBUG=1 prints
 * every request and answer of the setup.
 *
 * One file, no dependencies but OpenSSL (MD5 and HMAC-SHA1 for the
 * long-term credential), Linux only (recvmmsg, sendmmsg, timerfd, epoll).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/sock_diag.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define BATCH 64                /* packets per recvmmsg/sendmmsg */
#define PKT_MAX 1500
#define COOKIE 0x2112A442u
#define RTT_BUCKET_US 2         /* round-trip histogram resolution */
#define RTT_BUCKETS 50000       /* up to 100 ms; slower ones land in the last */
#define PAYLOAD_MIN 24          /* struct payload */

enum mode { MODE_TURN, MODE_R2R, MODE_DIRECT };

enum {
    METHOD_ALLOCATE = 0x003,
    METHOD_REFRESH = 0x004,
    METHOD_CHANNEL_BIND = 0x009,
    ATTR_USERNAME = 0x0006,
    ATTR_MESSAGE_INTEGRITY = 0x0008,
    ATTR_ERROR_CODE = 0x0009,
    ATTR_CHANNEL_NUMBER = 0x000C,
    ATTR_LIFETIME = 0x000D,
    ATTR_XOR_PEER_ADDRESS = 0x0012,
    ATTR_REALM = 0x0014,
    ATTR_NONCE = 0x0015,
    ATTR_XOR_RELAYED_ADDRESS = 0x0016,
    ATTR_REQUESTED_TRANSPORT = 0x0019,
    ATTR_FINGERPRINT = 0x8028,
};

/* The head of every payload; the rest of it is filler. */
struct payload {
    uint32_t flow;      /* index of the sending flow */
    uint32_t step;      /* rate step it was sent in; 0 = the probe */
    uint64_t seq;       /* per flow and step, from 0 */
    uint64_t sent_ns;   /* CLOCK_MONOTONIC when it was sent */
};

struct opts {
    enum mode mode;
    struct sockaddr_in server;
    pid_t pid;              /* measured process (turn, r2r) */
    int flows;
    long rates[32];
    int nrates;
    double duration, warmup;
    int drain_ms;
    int payload;
    int tick_us;
    int lifetime;
    int echo_cpu;           /* -1: the echo child keeps the generator's CPUs */
    char user[128], password[128];
    const char *label;
};

/* Counters the echo child keeps in memory shared with the generator. */
struct echo_stats {
    uint64_t rx;
    uint64_t batches;
    uint64_t tx_errors;
};

struct flow {
    int fd;                 /* UDP socket connected to the server (or echo) */
    int peer_flow;          /* r2r: the other end of the pair; else -1 */
    bool sender;            /* sends on the schedule (r2r: the A side) */
    uint16_t chan;
    struct sockaddr_in relayed;
    uint64_t next_seq;      /* packets sent in this step */
    uint64_t seq_w0, seq_w1;/* next_seq when the window opened / closed */
    uint64_t *seen;         /* bitmap of seqs received back, this step */
    uint64_t seen_cap;      /* bits */
    bool probed;
    uint8_t *tx;            /* BATCH packet buffers */
    struct iovec txv[BATCH];
    struct mmsghdr txm[BATCH];
    int txn;                /* r2r B side: echoes queued in tx */
};

struct snapshot {
    uint64_t t_ns;
    double cpu_s;           /* measured process utime + stime */
    double gen_cpu_s;       /* this process (all threads) */
    uint64_t echo_rx, echo_batches;
    uint64_t local_drops;   /* datagrams the generator's and the echo's
                             * own sockets dropped (full receive buffer) */
};

struct gen {
    struct opts o;
    struct flow *flows;
    int nflows;
    int hdr;                /* 4 (ChannelData header) or 0 (direct) */
    int epfd, tfd;
    pid_t echo_pid;
    int echo_fd;            /* the generator's copy, to read its drops */
    struct echo_stats *echo;
    struct sockaddr_in echo_addr;
    /* the current step */
    uint32_t step;
    long rate;
    uint64_t t0, w0, w1;
    bool in_window, sending;
    uint64_t arrivals_w;    /* back at a sending flow, in the window */
    uint64_t b_arrivals_w;  /* r2r: at the B side, in the window */
    uint64_t dup, stale, unexpected, send_errors, recv_errors;
    uint64_t late_ticks;    /* ticks that ran over one interval late */
    uint64_t max_lag_ns, backlog_max;
    uint64_t next_tick;     /* CLOCK_MONOTONIC of the armed tick */
    uint64_t rng;
    uint32_t *rtt;          /* RTT_BUCKETS counters */
    uint64_t rtt_n;
    /* receive buffers, shared by all flows */
    uint8_t *rx;
    struct iovec rxv[BATCH];
    struct mmsghdr rxm[BATCH];
    /* STUN long-term credential state */
    char realm[256], nonce[512];
    uint8_t key[16];
    bool have_nonce;
};

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "turnload: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

/* ---- STUN messages: just what a TURN client needs ---------------------- */

struct stun {
    uint8_t b[PKT_MAX];
    size_t len;
};

/* What a request carries besides the credential; zero fields are left out. */
struct request {
    uint16_t method;
    bool transport_udp;         /* REQUESTED-TRANSPORT: UDP */
    bool has_lifetime;
    uint32_t lifetime;
    uint16_t chan;              /* CHANNEL-NUMBER */
    const struct sockaddr_in *peer; /* XOR-PEER-ADDRESS */
};

struct reply {
    int cls;                    /* 2 success, 3 error */
    int code;                   /* ERROR-CODE, 0 if none */
    char reason[128];
    char realm[256], nonce[512];
    bool has_relayed;
    struct sockaddr_in relayed;
};

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    }
    return ~c;
}

static void stun_init(struct stun *m, uint16_t type)
{
    put16(m->b, type);
    put16(m->b + 2, 0);
    put32(m->b + 4, COOKIE);
    RAND_bytes(m->b + 8, 12);
    m->len = 20;
}

static void stun_attr(struct stun *m, uint16_t type, const void *v, size_t n)
{
    uint8_t *p = m->b + m->len;
    size_t padded = (n + 3) & ~(size_t)3;

    put16(p, type);
    put16(p + 2, (uint16_t)n);
    memcpy(p + 4, v, n);
    memset(p + 4 + n, 0, padded - n);
    m->len += 4 + padded;
    put16(m->b + 2, (uint16_t)(m->len - 20));
}

static void stun_xor_addr(struct stun *m, uint16_t type, const struct sockaddr_in *a)
{
    uint8_t v[8] = { 0, 1 };

    put16(v + 2, ntohs(a->sin_port) ^ (COOKIE >> 16));
    put32(v + 4, ntohl(a->sin_addr.s_addr) ^ COOKIE);
    stun_attr(m, type, v, sizeof v);
}

/* MESSAGE-INTEGRITY covers the message with the length field already
 * counting the attribute itself (RFC 8489 §14.5); FINGERPRINT likewise. */
static void stun_integrity(struct stun *m, const uint8_t key[16])
{
    uint8_t mac[20];
    unsigned maclen = sizeof mac;

    put16(m->b + 2, (uint16_t)(m->len - 20 + 24));
    HMAC(EVP_sha1(), key, 16, m->b, m->len, mac, &maclen);
    stun_attr(m, ATTR_MESSAGE_INTEGRITY, mac, sizeof mac);
}

static void stun_fingerprint(struct stun *m)
{
    uint8_t v[4];

    put16(m->b + 2, (uint16_t)(m->len - 20 + 8));
    put32(v, crc32(m->b, m->len) ^ 0x5354554eu);
    stun_attr(m, ATTR_FINGERPRINT, v, sizeof v);
}

static void build_request(struct gen *g, const struct request *r, struct stun *m)
{
    stun_init(m, r->method);
    if (r->transport_udp)
        stun_attr(m, ATTR_REQUESTED_TRANSPORT, (uint8_t[4]){ 17, 0, 0, 0 }, 4);
    if (r->has_lifetime) {
        uint8_t v[4];
        put32(v, r->lifetime);
        stun_attr(m, ATTR_LIFETIME, v, 4);
    }
    if (r->chan)
        stun_attr(m, ATTR_CHANNEL_NUMBER, (uint8_t[4]){ r->chan >> 8, r->chan & 0xff, 0, 0 }, 4);
    if (r->peer)
        stun_xor_addr(m, ATTR_XOR_PEER_ADDRESS, r->peer);
    if (g->have_nonce) {
        stun_attr(m, ATTR_USERNAME, g->o.user, strlen(g->o.user));
        stun_attr(m, ATTR_REALM, g->realm, strlen(g->realm));
        stun_attr(m, ATTR_NONCE, g->nonce, strlen(g->nonce));
        stun_integrity(m, g->key);
    }
    stun_fingerprint(m);
}

static void copy_str(char *dst, size_t cap, const uint8_t *v, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
}

static void parse_attr(struct reply *r, uint16_t type, const uint8_t *v, uint16_t n)
{
    if (type == ATTR_ERROR_CODE && n >= 4) {
        r->code = (v[2] & 7) * 100 + v[3];
        copy_str(r->reason, sizeof r->reason, v + 4, n - 4);
    } else if (type == ATTR_REALM) {
        copy_str(r->realm, sizeof r->realm, v, n);
    } else if (type == ATTR_NONCE) {
        copy_str(r->nonce, sizeof r->nonce, v, n);
    } else if (type == ATTR_XOR_RELAYED_ADDRESS && n == 8 && v[1] == 1) {
        r->has_relayed = true;
        r->relayed.sin_family = AF_INET;
        r->relayed.sin_port = htons(get16(v + 2) ^ (COOKIE >> 16));
        r->relayed.sin_addr.s_addr = htonl(get32(v + 4) ^ COOKIE);
    }
}

/* Fills r if b is the answer to the request `req`: returns 0, else -1. */
static int parse_reply(const uint8_t *b, size_t n, const struct stun *req, struct reply *r)
{
    uint16_t type, len;

    if (n < 20 || (b[0] & 0xc0) || get32(b + 4) != COOKIE || memcmp(b + 8, req->b + 8, 12))
        return -1;
    type = get16(b);
    len = get16(b + 2);
    if ((type & 0x3eef) != get16(req->b) || 20u + len > n)
        return -1;
    memset(r, 0, sizeof *r);
    r->cls = (type & 0x0100 ? 2 : 0) | (type & 0x0010 ? 1 : 0);
    for (size_t off = 20; off + 4 <= 20u + len;) {
        uint16_t at = get16(b + off), al = get16(b + off + 2);
        if (off + 4 + al > 20u + len)
            return -1;
        parse_attr(r, at, b + off + 4, al);
        off += 4 + ((al + 3u) & ~3u);
    }
    return 0;
}

/* Sends m on fd and waits for its answer, retransmitting (RFC 8489 §6.2.1,
 * shortened: 200 ms doubling to 1.6 s, `tries` sends). Returns 0 or
 * -ETIMEDOUT. */
static int transact(int fd, const struct stun *m, struct reply *r, int tries)
{
    uint8_t buf[PKT_MAX];
    int wait_ms = 200;

    for (int t = 0; t < tries; t++) {
        if (send(fd, m->b, m->len, 0) < 0 && errno != ECONNREFUSED)
            return -errno;
        uint64_t deadline = now_ns() + (uint64_t)wait_ms * 1000000u;
        for (uint64_t now = now_ns(); now < deadline; now = now_ns()) {
            struct pollfd p = { .fd = fd, .events = POLLIN };
            if (poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
                continue;
            ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0 && parse_reply(buf, (size_t)n, m, r) == 0)
                return 0;
        }
        wait_ms = wait_ms * 2 > 1600 ? 1600 : wait_ms * 2;
    }
    return -ETIMEDOUT;
}

static void set_nonce(struct gen *g, const struct reply *r)
{
    char material[1024];
    int n;

    if (r->realm[0])
        snprintf(g->realm, sizeof g->realm, "%s", r->realm);
    snprintf(g->nonce, sizeof g->nonce, "%s", r->nonce);
    n = snprintf(material, sizeof material, "%s:%s:%s", g->o.user, g->realm, g->o.password);
    EVP_Digest(material, (size_t)n, g->key, NULL, EVP_md5(), NULL);
    g->have_nonce = true;
}

/* Sends an authenticated request, taking a new nonce from a 401 or 438
 * answer and trying again. Returns 0 with the final reply in r (success or
 * another error), or -ETIMEDOUT. */
static int request(struct gen *g, int fd, const struct request *req, struct reply *r, int tries)
{
    struct stun m;
    int rc = 0;

    for (int round = 0; round < 4; round++) {
        build_request(g, req, &m);
        if (getenv("TURNLOAD_DEBUG")) {
            for (size_t i = 0; i < m.len; i++)
                fprintf(stderr, "%02x", m.b[i]);
            fprintf(stderr, "\n");
        }
        rc = transact(fd, &m, r, tries);
        if (rc)
            return rc;
        if (getenv("TURNLOAD_DEBUG"))
            fprintf(stderr, "turnload: method 0x%03x -> class %d code %d %s realm=%s nonce=%s\n",
                    req->method, r->cls, r->code, r->reason, r->realm, r->nonce);
        if (r->cls != 3 || (r->code != 401 && r->code != 438) || !r->nonce[0])
            return 0;
        set_nonce(g, r);
    }
    return 0;
}

static const char *addr_str(const struct sockaddr_in *a)
{
    static char s[4][32];
    static int i;
    char ip[INET_ADDRSTRLEN];

    i = (i + 1) % 4;
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    snprintf(s[i], sizeof s[i], "%s:%u", ip, ntohs(a->sin_port));
    return s[i];
}

static void fail_reply(const char *what, int rc, const struct reply *r)
{
    char msg[256];

    if (rc)
        snprintf(msg, sizeof msg, "%s: no answer from the server", what);
    else
        snprintf(msg, sizeof msg, "%s: error %d %s", what, r->code, r->reason);
    die("%s", msg);
}

static void release(struct gen *g, struct flow *f);

static void allocate(struct gen *g, struct flow *f)
{
    struct request req = { .method = METHOD_ALLOCATE, .transport_udp = true,
                           .has_lifetime = true, .lifetime = (uint32_t)g->o.lifetime };
    struct reply r;
    int rc = request(g, f->fd, &req, &r, 7);

    /* 437: an earlier transaction of ours (a retransmission answered late,
     * on a stalled machine) already made the allocation; we do not know its
     * relayed address, so delete it and ask again. */
    for (int again = 0; again < 2 && !rc && r.cls == 3 && r.code == 437; again++) {
        release(g, f);
        rc = request(g, f->fd, &req, &r, 7);
    }
    if (rc || r.cls != 2 || !r.has_relayed)
        fail_reply("Allocate", rc, &r);
    f->relayed = r.relayed;
}

static void channel_bind(struct gen *g, struct flow *f, const struct sockaddr_in *peer)
{
    struct request req = { .method = METHOD_CHANNEL_BIND, .chan = f->chan, .peer = peer };
    struct reply r;
    int rc = request(g, f->fd, &req, &r, 7);

    if (rc || r.cls != 2) {
        char what[96];
        snprintf(what, sizeof what, "ChannelBind 0x%04x to %s", f->chan, addr_str(peer));
        fail_reply(what, rc, &r);
    }
}

/* Deletes the allocation (Refresh with LIFETIME 0); errors are only noted. */
static void release(struct gen *g, struct flow *f)
{
    struct request req = { .method = METHOD_REFRESH, .has_lifetime = true, .lifetime = 0 };
    struct reply r;

    if (request(g, f->fd, &req, &r, 3)) {
        fprintf(stderr, "turnload: Refresh(0) of %s: no answer\n", addr_str(&f->relayed));
        return;
    }
    if (r.cls != 2)
        fprintf(stderr, "turnload: Refresh(0) of %s: %d %s\n", addr_str(&f->relayed), r.code, r.reason);
}

/* ---- the echo peer ------------------------------------------------------ */

static int udp_socket(const struct sockaddr_in *connect_to)
{
    struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int sz = 8 << 20;

    if (fd < 0)
        die("socket: %s", strerror(errno));
    /* Big buffers so bursts are never lost at the generator's or the echo's
     * end: what is measured is the server's loss. FORCE needs root. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    if (bind(fd, (struct sockaddr *)&any, sizeof any))
        die("bind 127.0.0.1: %s", strerror(errno));
    if (connect_to && connect(fd, (const struct sockaddr *)connect_to, sizeof *connect_to))
        die("connect %s", addr_str(connect_to));
    return fd;
}

/* The echo child: sends every datagram back to where it came from, in
 * batches of up to 64 (MSG_WAITFORONE: whatever is queued once one is). */
static void echo_loop(int fd, struct echo_stats *st)
{
    static uint8_t buf[BATCH][PKT_MAX];
    struct sockaddr_in from[BATCH];
    struct iovec v[BATCH];
    struct mmsghdr m[BATCH];

    memset(m, 0, sizeof m);
    for (int i = 0; i < BATCH; i++) {
        m[i].msg_hdr.msg_name = &from[i];
        m[i].msg_hdr.msg_iov = &v[i];
        m[i].msg_hdr.msg_iovlen = 1;
    }
    for (int n = BATCH;;) {
        for (int i = 0; i < n; i++) {
            v[i].iov_base = buf[i];
            v[i].iov_len = PKT_MAX;
            m[i].msg_hdr.msg_namelen = sizeof from[i];
        }
        n = recvmmsg(fd, m, BATCH, MSG_WAITFORONE, NULL);
        if (n < 0) {
            n = BATCH;
            continue;
        }
        for (int i = 0; i < n; i++)
            v[i].iov_len = m[i].msg_len;
        for (int done = 0; done < n;) {
            int s = sendmmsg(fd, m + done, (unsigned)(n - done), 0);
            if (s <= 0) {
                __atomic_add_fetch(&st->tx_errors, 1, __ATOMIC_RELAXED);
                done++;
                continue;
            }
            done += s;
        }
        __atomic_add_fetch(&st->rx, (uint64_t)n, __ATOMIC_RELAXED);
        __atomic_add_fetch(&st->batches, 1, __ATOMIC_RELAXED);
    }
}

static void start_echo(struct gen *g)
{
    socklen_t alen = sizeof g->echo_addr;
    int fd = udp_socket(NULL);

    getsockname(fd, (struct sockaddr *)&g->echo_addr, &alen);
    g->echo = mmap(NULL, sizeof *g->echo, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g->echo == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    g->echo_pid = fork();
    if (g->echo_pid < 0)
        die("fork: %s", strerror(errno));
    if (g->echo_pid == 0) {
        /* Dies with the generator, however the generator ends. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(0);
        if (g->o.echo_cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(g->o.echo_cpu, &set);
            sched_setaffinity(0, sizeof set, &set);
        }
        echo_loop(fd, g->echo);
        _exit(0);
    }
    g->echo_fd = fd;
}

static void stop_echo(struct gen *g)
{
    if (g->echo_pid > 0) {
        kill(g->echo_pid, SIGTERM);
        waitpid(g->echo_pid, NULL, 0);
        g->echo_pid = 0;
    }
}

/* ---- measuring ---------------------------------------------------------- */

/* utime + stime of a process, all its threads, in seconds; -1 if gone. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long long ut, st;
    FILE *fp;
    char *p;
    size_t n;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    fp = fopen(path, "r");
    if (!fp)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = 0;
    p = strrchr(buf, ')');
    /* After "pid (comm)": state is field 3; utime and stime are 14 and 15. */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Datagrams a socket dropped because its receive buffer was full. */
static uint64_t sock_drops(int fd)
{
    uint32_t mem[SK_MEMINFO_VARS] = { 0 };
    socklen_t len = sizeof mem;

    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) || len <= SK_MEMINFO_DROPS * 4)
        return 0;
    return mem[SK_MEMINFO_DROPS];
}

/* The drop counters of one process's UDP sockets: the `drops` column of
 * /proc/net/udp{,6} (datagrams refused with a full receive buffer) for the
 * inodes of its sockets. This tells loss at the server apart from loss
 * elsewhere. Sockets come and go (allocations), so counts are kept per
 * socket and compared socket by socket. */
struct sock_counts {
    size_t n;
    unsigned long ino[8192];
    uint64_t drops[8192];
};

static void read_udp_table(const char *file, struct sock_counts *c, const unsigned long *inodes, size_t ninodes)
{
    char line[512];
    FILE *fp = fopen(file, "r");

    while (fp && fgets(line, sizeof line, fp)) {
        unsigned long ino;
        unsigned long long dr;
        /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops */
        if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu %*s %*s %llu", &ino, &dr) != 2)
            continue;
        for (size_t i = 0; i < ninodes && c->n < 8192; i++) {
            if (inodes[i] == ino) {
                c->ino[c->n] = ino;
                c->drops[c->n++] = dr;
                break;
            }
        }
    }
    if (fp)
        fclose(fp);
}

static void proc_udp_drops(pid_t pid, struct sock_counts *c)
{
    static unsigned long inodes[8192];
    char path[64], link[64];
    struct dirent *de;
    size_t n = 0;
    DIR *d;

    c->n = 0;
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d)) && n < sizeof inodes / sizeof *inodes) {
        ssize_t len = readlinkat(dirfd(d), de->d_name, link, sizeof link - 1);
        if (len <= 0)
            continue;
        link[len] = 0;
        if (sscanf(link, "socket:[%lu]", &inodes[n]) == 1)
            n++;
    }
    closedir(d);
    read_udp_table("/proc/net/udp", c, inodes, n);
    read_udp_table("/proc/net/udp6", c, inodes, n);
}

/* Drops between two readings, socket by socket (a new socket counts whole). */
static uint64_t drops_since(const struct sock_counts *a, const struct sock_counts *b)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < b->n; i++) {
        uint64_t base = 0;
        for (size_t j = 0; j < a->n; j++) {
            if (a->ino[j] == b->ino[i]) {
                base = a->drops[j];
                break;
            }
        }
        sum += b->drops[i] >= base ? b->drops[i] - base : 0;
    }
    return sum;
}

static pid_t measured_pid(const struct gen *g)
{
    return g->o.mode == MODE_DIRECT ? g->echo_pid : g->o.pid;
}

static uint64_t local_drops(struct gen *g)
{
    /* In direct mode the echo is the measured process: its drops are the
     * "server's" (proc_udp_drops), not the generator's. */
    uint64_t n = g->o.mode == MODE_DIRECT ? 0 : sock_drops(g->echo_fd);

    for (int i = 0; i < g->nflows; i++)
        n += sock_drops(g->flows[i].fd);
    return n;
}

static void snap(struct gen *g, struct snapshot *s)
{
    s->t_ns = now_ns();
    s->cpu_s = proc_cpu_s(measured_pid(g));
    s->gen_cpu_s = self_cpu_s();
    s->echo_rx = g->echo ? __atomic_load_n(&g->echo->rx, __ATOMIC_RELAXED) : 0;
    s->echo_batches = g->echo ? __atomic_load_n(&g->echo->batches, __ATOMIC_RELAXED) : 0;
    s->local_drops = local_drops(g);
}

/* ---- the data path ------------------------------------------------------ */

static void flow_buffers(struct gen *g, struct flow *f)
{
    size_t plen = (size_t)(g->hdr + g->o.payload);

    f->tx = calloc(BATCH, plen);
    if (!f->tx)
        die("%s", "out of memory");
    memset(f->tx, 0xa5, BATCH * plen);
    for (int i = 0; i < BATCH; i++) {
        uint8_t *p = f->tx + (size_t)i * plen;
        if (g->hdr) {
            put16(p, f->chan);
            put16(p + 2, (uint16_t)g->o.payload);
        }
        f->txv[i] = (struct iovec){ p, plen };
        f->txm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &f->txv[i], .msg_iovlen = 1 } };
    }
}

static void send_batch(struct gen *g, struct flow *f, int n)
{
    for (int done = 0; done < n;) {
        int s = sendmmsg(f->fd, f->txm + done, (unsigned)(n - done), 0);
        if (s <= 0) {
            /* ECONNREFUSED (an ICMP error from an earlier datagram) or
             * ENOBUFS: this datagram is lost, the schedule goes on. */
            g->send_errors++;
            done++;
            continue;
        }
        done += s;
    }
}

static void send_packets(struct gen *g, int fi, uint64_t count, uint64_t now)
{
    struct flow *f = &g->flows[fi];

    for (uint64_t i = 0; i < count; i++) {
        struct payload pl = { (uint32_t)fi, g->step, f->next_seq + i, now };
        memcpy((uint8_t *)f->txv[i].iov_base + g->hdr, &pl, sizeof pl);
    }
    send_batch(g, f, (int)count);
    f->next_seq += count;
}

/* Sends what each sending flow's schedule says is due by now. */
static void send_due(struct gen *g)
{
    uint64_t now = now_ns();
    uint64_t due = (now - g->t0) * (uint64_t)g->rate / 1000000000u;

    for (int fi = 0; fi < g->nflows; fi++) {
        struct flow *f = &g->flows[fi];
        if (!f->sender || due <= f->next_seq)
            continue;
        uint64_t k = due - f->next_seq;
        if (k > g->backlog_max)
            g->backlog_max = k;
        send_packets(g, fi, k > BATCH ? BATCH : k, now);
    }
}

static void record_return(struct gen *g, struct flow *f, const struct payload *pl, uint64_t now)
{
    uint64_t word = pl->seq / 64, bit = 1ull << (pl->seq % 64);

    if (pl->seq >= f->seen_cap || pl->seq >= f->next_seq) {
        g->unexpected++;
        return;
    }
    if (f->seen[word] & bit) {
        g->dup++;
        return;
    }
    f->seen[word] |= bit;
    if (!g->in_window)
        return;
    g->arrivals_w++;
    uint64_t us = (now - pl->sent_ns) / 1000u / RTT_BUCKET_US;
    g->rtt[us < RTT_BUCKETS ? us : RTT_BUCKETS - 1]++;
    g->rtt_n++;
}

/* r2r, B side: counts the arrival and queues the packet to go back to A. */
static void echo_back(struct gen *g, struct flow *f, const uint8_t *p, size_t n)
{
    if (g->in_window)
        g->b_arrivals_w++;
    if (f->txn == BATCH) {
        send_batch(g, f, f->txn);
        f->txn = 0;
    }
    memcpy((uint8_t *)f->txv[f->txn].iov_base + g->hdr, p + g->hdr, n - (size_t)g->hdr);
    f->txn++;
}

static void on_packet(struct gen *g, int fi, const uint8_t *p, size_t n, uint64_t now)
{
    struct flow *f = &g->flows[fi];
    struct payload pl;

    if (n != (size_t)(g->hdr + g->o.payload) ||
        (g->hdr && (get16(p) != f->chan || get16(p + 2) != g->o.payload))) {
        g->unexpected++;        /* not our ChannelData: a Data indication? */
        return;
    }
    memcpy(&pl, p + g->hdr, sizeof pl);
    if (pl.flow != (uint32_t)(f->sender ? fi : f->peer_flow)) {
        g->unexpected++;
        return;
    }
    if (pl.step != g->step) {
        g->stale++;
        return;
    }
    if (!f->sender) {
        echo_back(g, f, p, n);
        return;
    }
    if (pl.step == 0)
        f->probed = true;
    else
        record_return(g, f, &pl, now);
}

static void on_readable(struct gen *g, int fi)
{
    struct flow *f = &g->flows[fi];

    for (;;) {
        int n = recvmmsg(f->fd, g->rxm, BATCH, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                g->recv_errors++;
            if (errno != ECONNREFUSED && errno != EINTR)
                break;
            continue;
        }
        uint64_t now = now_ns();
        for (int i = 0; i < n; i++)
            on_packet(g, fi, g->rxv[i].iov_base, g->rxm[i].msg_len, now);
        if (f->txn) {
            send_batch(g, f, f->txn);
            f->txn = 0;
        }
        if (n < BATCH)
            break;
    }
}

/* Arms the timer for the next tick, a random 0.5-1.5 intervals away. */
static void arm_tick(struct gen *g, uint64_t from)
{
    struct itimerspec it = { 0 };

    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    g->next_tick = from + (uint64_t)g->o.tick_us * (500u + g->rng % 1001u);
    it.it_value.tv_sec = (time_t)(g->next_tick / 1000000000u);
    it.it_value.tv_nsec = (long)(g->next_tick % 1000000000u);
    if (timerfd_settime(g->tfd, TFD_TIMER_ABSTIME, &it, NULL))
        die("timerfd_settime: %s", strerror(errno));
}

/* A tick: notes how late it ran (a descheduled generator) and arms the next. */
static void on_tick(struct gen *g)
{
    uint64_t expirations, now = now_ns(), lag = now > g->next_tick ? now - g->next_tick : 0;

    if (read(g->tfd, &expirations, sizeof expirations) < 0 && errno == EAGAIN)
        return;
    if (lag > (uint64_t)g->o.tick_us * 1000u)
        g->late_ticks++;
    if (lag > g->max_lag_ns)
        g->max_lag_ns = lag;
    arm_tick(g, now);
}

/* Runs the event loop until `until` (CLOCK_MONOTONIC ns) or done(g). */
static void pump(struct gen *g, uint64_t until, bool (*done)(struct gen *))
{
    struct epoll_event ev[64];

    for (uint64_t now = now_ns(); now < until; now = now_ns()) {
        int timeout = (int)((until - now) / 1000000u) + 1;
        int n = epoll_wait(g->epfd, ev, 64, timeout);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u32 == UINT32_MAX) {
                on_tick(g);
                if (g->sending)
                    send_due(g);
            } else {
                on_readable(g, (int)ev[i].data.u32);
            }
        }
        if (done && done(g))
            return;
    }
}

/* ---- setup -------------------------------------------------------------- */

static void watch(struct gen *g, int fd, uint32_t id)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = id };

    if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev))
        die("epoll_ctl: %s", strerror(errno));
}

static void setup_flows(struct gen *g)
{
    bool r2r = g->o.mode == MODE_R2R;
    const struct sockaddr_in *dst = g->o.mode == MODE_DIRECT ? &g->echo_addr : &g->o.server;

    g->nflows = r2r ? 2 * g->o.flows : g->o.flows;
    g->flows = calloc((size_t)g->nflows, sizeof *g->flows);
    if (!g->flows)
        die("%s", "out of memory");
    for (int i = 0; i < g->nflows; i++) {
        struct flow *f = &g->flows[i];
        f->fd = udp_socket(dst);
        f->sender = !r2r || i % 2 == 0;
        f->peer_flow = r2r ? (i ^ 1) : -1;
        f->chan = (uint16_t)(0x4000 + (i % 4096));
        if (g->o.mode != MODE_DIRECT)
            allocate(g, f);
    }
    for (int i = 0; i < g->nflows && g->o.mode != MODE_DIRECT; i++) {
        struct flow *f = &g->flows[i];
        channel_bind(g, f, r2r ? &g->flows[f->peer_flow].relayed : &g->echo_addr);
    }
    for (int i = 0; i < g->nflows; i++) {
        flow_buffers(g, &g->flows[i]);
        watch(g, g->flows[i].fd, (uint32_t)i);
    }
}

static bool all_probed(struct gen *g)
{
    for (int i = 0; i < g->nflows; i++)
        if (g->flows[i].sender && !g->flows[i].probed)
            return false;
    return true;
}

/* One packet per flow through the whole path before anything is measured. */
static void probe(struct gen *g)
{
    uint64_t now = now_ns();

    g->step = 0;
    for (int try = 0; try < 3 && !all_probed(g); try++) {
        for (int i = 0; i < g->nflows; i++) {
            if (g->flows[i].sender && !g->flows[i].probed) {
                g->flows[i].next_seq = 0;
                send_packets(g, i, 1, now_ns());
            }
        }
        pump(g, now_ns() + 1000000000u, all_probed);
    }
    for (int i = 0; i < g->nflows; i++) {
        struct flow *f = &g->flows[i];
        if (f->sender && !f->probed) {
            char msg[160];
            snprintf(msg, sizeof msg, "flow %d (relayed %s, channel 0x%04x): nothing came back",
                     i, addr_str(&f->relayed), f->chan);
            die("probe: %s", msg);
        }
    }
    fprintf(stderr, "turnload: %s: %d flow(s) set up, probe echoed on every one (%.0f ms)\n",
            g->o.label, g->o.flows, (double)(now_ns() - now) / 1e6);
}

/* ---- one rate step ------------------------------------------------------ */

static void reset_step(struct gen *g, long rate)
{
    uint64_t cap = (uint64_t)((double)rate * (g->o.warmup + g->o.duration + 1.0)) + 4 * BATCH;

    g->step++;
    g->rate = rate;
    g->arrivals_w = g->b_arrivals_w = 0;
    g->dup = g->stale = g->unexpected = g->send_errors = g->recv_errors = 0;
    g->late_ticks = g->max_lag_ns = g->backlog_max = 0;
    memset(g->rtt, 0, RTT_BUCKETS * sizeof *g->rtt);
    g->rtt_n = 0;
    for (int i = 0; i < g->nflows; i++) {
        struct flow *f = &g->flows[i];
        f->next_seq = 0;
        if (f->seen_cap < cap) {
            free(f->seen);
            f->seen = malloc((cap + 63) / 64 * 8);
            if (!f->seen)
                die("%s", "out of memory");
            f->seen_cap = cap;
        }
        memset(f->seen, 0, (f->seen_cap + 63) / 64 * 8);
    }
}

static void mark_window(struct gen *g, bool open)
{
    for (int i = 0; i < g->nflows; i++) {
        if (open)
            g->flows[i].seq_w0 = g->flows[i].next_seq;
        else
            g->flows[i].seq_w1 = g->flows[i].next_seq;
    }
}

static uint64_t count_bits(const uint64_t *map, uint64_t from, uint64_t to)
{
    uint64_t n = 0;

    for (uint64_t s = from; s < to; s++)
        n += (map[s / 64] >> (s % 64)) & 1;
    return n;
}

static double rtt_quantile(const struct gen *g, double q)
{
    uint64_t want = (uint64_t)((double)g->rtt_n * q), seen = 0;

    for (int i = 0; i < RTT_BUCKETS; i++) {
        seen += g->rtt[i];
        if (seen > want)
            return (double)(i * RTT_BUCKET_US) + RTT_BUCKET_US / 2.0;
    }
    return -1;
}

static const char *mode_name(enum mode m)
{
    return m == MODE_TURN ? "turn" : m == MODE_R2R ? "r2r" : "direct";
}

static void report(struct gen *g, const struct snapshot *a, const struct snapshot *b, uint64_t drops,
                   uint64_t server_drops)
{
    uint64_t sent = 0, back = 0, relayed;
    double win = (double)(b->t_ns - a->t_ns) / 1e9, cpu = b->cpu_s - a->cpu_s;
    uint64_t echo_rx = b->echo_rx - a->echo_rx, echo_batches = b->echo_batches - a->echo_batches;

    for (int i = 0; i < g->nflows; i++) {
        struct flow *f = &g->flows[i];
        if (!f->sender)
            continue;
        sent += f->seq_w1 - f->seq_w0;
        back += count_bits(f->seen, f->seq_w0, f->seq_w1);
    }
    if (g->o.mode == MODE_TURN)
        relayed = echo_rx + g->arrivals_w;
    else if (g->o.mode == MODE_R2R)
        relayed = g->b_arrivals_w + g->arrivals_w;
    else
        relayed = echo_rx;
    printf("RESULT {\"label\":\"%s\",\"mode\":\"%s\",\"flows\":%d,\"rate_per_flow\":%ld,"
           "\"target_pps\":%ld,\"payload\":%d,\"window_s\":%.3f,\"sent\":%" PRIu64 ","
           "\"received\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"achieved_pps\":%.0f,"
           "\"relayed\":%" PRIu64 ",\"relayed_pps\":%.0f,\"server_cpu_s\":%.3f,"
           "\"server_cpu_pct\":%.1f,\"cpu_us_per_pkt\":%.3f,\"cpu_s_per_mpkt\":%.3f,"
           "\"gen_cpu_pct\":%.1f,\"rtt_p50_us\":%.0f,\"rtt_p99_us\":%.0f,"
           "\"echo_batch_avg\":%.2f,\"dup\":%" PRIu64 ",\"stale\":%" PRIu64 ","
           "\"unexpected\":%" PRIu64 ",\"send_errors\":%" PRIu64 ",\"recv_errors\":%" PRIu64 ","
           "\"late_ticks\":%" PRIu64 ",\"max_tick_lag_us\":%" PRIu64 ",\"backlog_max\":%" PRIu64 ",\"local_drops\":%" PRIu64
           ",\"echo_tx_errors\":%" PRIu64 ",\"server_drops\":%" PRIu64 "}\n",
           g->o.label, mode_name(g->o.mode), g->o.flows, g->rate, g->rate * g->o.flows,
           g->o.payload, win, sent, back, sent - back, (double)sent / win, relayed,
           (double)relayed / win, cpu, 100.0 * cpu / win,
           relayed ? cpu * 1e6 / (double)relayed : 0.0, relayed ? cpu * 1e6 / (double)relayed : 0.0,
           100.0 * (b->gen_cpu_s - a->gen_cpu_s) / win, rtt_quantile(g, 0.5), rtt_quantile(g, 0.99),
           echo_batches ? (double)echo_rx / (double)echo_batches : 0.0, g->dup, g->stale,
           g->unexpected, g->send_errors, g->recv_errors, g->late_ticks, g->max_lag_ns / 1000u, g->backlog_max, drops,
           g->echo ? __atomic_load_n(&g->echo->tx_errors, __ATOMIC_RELAXED) : 0, server_drops);
    fflush(stdout);
}

static void run_step(struct gen *g, long rate)
{
    struct snapshot a, b;
    static struct sock_counts srv0, srv1;
    uint64_t drops0 = local_drops(g);

    proc_udp_drops(measured_pid(g), &srv0);

    reset_step(g, rate);
    g->t0 = now_ns();
    g->w0 = g->t0 + (uint64_t)(g->o.warmup * 1e9);
    g->w1 = g->w0 + (uint64_t)(g->o.duration * 1e9);
    g->sending = true;
    g->in_window = false;
    pump(g, g->w0, NULL);
    mark_window(g, true);
    g->in_window = true;
    snap(g, &a);
    pump(g, g->w1, NULL);
    snap(g, &b);
    g->in_window = false;
    g->sending = false;
    mark_window(g, false);
    /* Packets sent in the window and still on their way count as received
     * (for loss) if they come back; the rates use the window's arrivals. */
    pump(g, now_ns() + (uint64_t)g->o.drain_ms * 1000000u, NULL);
    if (b.cpu_s < 0)
        die("%s", "the measured process is gone");
    proc_udp_drops(measured_pid(g), &srv1);
    report(g, &a, &b, local_drops(g) - drops0, drops_since(&srv0, &srv1));
}

/* ---- options and main --------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: turnload --mode turn|r2r|direct [--server 127.0.0.1:PORT --pid PID]\n"
            "         [--flows 20] [--rates 1000,2000,5000,10000] [--duration 4] [--warmup 1]\n"
            "         [--drain-ms 300] [--payload 200] [--tick-us 1000] [--user bench:bench]\n"
            "         [--lifetime 600] [--echo-cpu N] [--label NAME]\n"
            "Rates are packets per second per flow; see the top of turnload.c.\n");
    exit(2);
}

static void parse_addr(const char *s, struct sockaddr_in *a)
{
    char host[64];
    const char *colon = strrchr(s, ':');

    if (!colon || (size_t)(colon - s) >= sizeof host)
        die("bad address %s (want IPv4:PORT)", s);
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        die("bad address %s (want IPv4:PORT)", s);
}

static void parse_rates(struct opts *o, char *s)
{
    o->nrates = 0;
    for (char *t = strtok(s, ", "); t && o->nrates < 32; t = strtok(NULL, ", ")) {
        o->rates[o->nrates] = atol(t);
        if (o->rates[o->nrates] <= 0)
            die("bad rate %s", t);
        o->nrates++;
    }
    if (!o->nrates)
        die("%s", "no rates");
}

static void parse_user(struct opts *o, const char *s)
{
    const char *colon = strchr(s, ':');

    if (!colon || (size_t)(colon - s) >= sizeof o->user || strlen(colon + 1) >= sizeof o->password)
        die("bad --user %s (want name:password)", s);
    memcpy(o->user, s, (size_t)(colon - s));
    o->user[colon - s] = 0;
    strcpy(o->password, colon + 1);
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
    char rates[] = "1000,2000,5000,10000";

    *o = (struct opts){ .mode = MODE_TURN, .flows = 20, .duration = 4, .warmup = 1, .drain_ms = 300,
                        .payload = 200, .tick_us = 1000, .lifetime = 600, .echo_cpu = -1,
                        .label = "server" };
    parse_rates(o, rates);
    parse_user(o, "bench:bench");
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        i++;
        if (!strcmp(k, "--mode"))
            o->mode = !strcmp(v, "turn") ? MODE_TURN : !strcmp(v, "r2r") ? MODE_R2R
                    : !strcmp(v, "direct") ? MODE_DIRECT : (usage(), MODE_TURN);
        else if (!strcmp(k, "--server")) parse_addr(v, &o->server);
        else if (!strcmp(k, "--pid")) o->pid = atoi(v);
        else if (!strcmp(k, "--flows")) o->flows = atoi(v);
        else if (!strcmp(k, "--rates")) parse_rates(o, argv[i]);
        else if (!strcmp(k, "--duration")) o->duration = atof(v);
        else if (!strcmp(k, "--warmup")) o->warmup = atof(v);
        else if (!strcmp(k, "--drain-ms")) o->drain_ms = atoi(v);
        else if (!strcmp(k, "--payload")) o->payload = atoi(v);
        else if (!strcmp(k, "--tick-us")) o->tick_us = atoi(v);
        else if (!strcmp(k, "--user")) parse_user(o, v);
        else if (!strcmp(k, "--lifetime")) o->lifetime = atoi(v);
        else if (!strcmp(k, "--echo-cpu")) o->echo_cpu = atoi(v);
        else if (!strcmp(k, "--label")) o->label = v;
        else usage();
    }
    if (o->flows < 1 || o->flows > 2000 || o->duration <= 0 || o->warmup < 0 || o->tick_us < 50 ||
        o->payload < PAYLOAD_MIN || o->payload > 1400)
        usage();
    if (o->mode != MODE_DIRECT && (!o->server.sin_port || o->pid <= 0))
        die("%s", "--server and --pid are needed for turn and r2r");
}

static void setup_loop(struct gen *g)
{
    g->epfd = epoll_create1(EPOLL_CLOEXEC);
    g->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (g->epfd < 0 || g->tfd < 0)
        die("epoll/timerfd: %s", strerror(errno));
    g->rng = now_ns() | 1;
    arm_tick(g, now_ns());
    watch(g, g->tfd, UINT32_MAX);
    g->rx = malloc(BATCH * PKT_MAX);
    g->rtt = calloc(RTT_BUCKETS, sizeof *g->rtt);
    if (!g->rx || !g->rtt)
        die("%s", "out of memory");
    for (int i = 0; i < BATCH; i++) {
        g->rxv[i] = (struct iovec){ g->rx + i * PKT_MAX, PKT_MAX };
        g->rxm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &g->rxv[i], .msg_iovlen = 1 } };
    }
}

static struct gen G;

static void on_signal(int sig)
{
    (void)sig;
    if (G.echo_pid > 0)
        kill(G.echo_pid, SIGKILL);
    _exit(130);
}

int main(int argc, char **argv)
{
    struct gen *g = &G;

    g->echo_fd = -1;
    parse_opts(&g->o, argc, argv);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    g->hdr = g->o.mode == MODE_DIRECT ? 0 : 4;
    setup_loop(g);
    if (g->o.mode != MODE_R2R)
        start_echo(g);
    setup_flows(g);
    probe(g);
    for (int i = 0; i < g->o.nrates; i++) {
        if (g->o.mode != MODE_DIRECT && kill(g->o.pid, 0))
            die("%s", "the server is gone");
        run_step(g, g->o.rates[i]);
    }
    for (int i = 0; i < g->nflows && g->o.mode != MODE_DIRECT; i++)
        release(g, &g->flows[i]);
    stop_echo(g);
    return 0;
}
