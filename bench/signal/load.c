/*
 * bench/signal/load.c — the signaling load generator in C (the default one;
 * load.mjs is the same generator in Node, kept to cross-check it).
 *
 * N WebSocket-over-TLS clients in 2-person rooms exchange offer / answer /
 * ice-candidate messages through a signaling server (the rooms part of
 * docs/protocol.md) at a fixed aggregate rate; it reports the relay latency
 * and the server's CPU time per message. Why C: on a two-core machine the
 * generator shares the CPUs with the server, and the Node generator costs
 * about as much CPU per message as the server it measures and stalls its
 * event loop for milliseconds (GC), which is the size of the p99 it is meant
 * to check. This one costs a fraction of that and does not stall.
 *
 *   load --port P [--pid SERVER_PID] [--clients 1000] [--rate 10000]
 *        [--duration 10] [--warmup 3] [--threads 1] [--tick-us 250]
 *        [--offer-bytes 2000] [--answer-bytes 1500] [--ice-bytes 300]
 *        [--host 127.0.0.1] [--label NAME]
 *
 * Build: cc -O2 -pthread load.c -o load $(pkg-config --cflags --libs openssl jansson) -lm
 * (run.sh does this in its temporary directory).
 *
 * How it works (the same as load.mjs):
 * - Pair k of clients joins room `sb<run>-<k>`, A first, then B (B gets
 *   `joined` with A in `peers`, A gets `peer-joined`). Setup is blocking and
 *   sequential per thread; then every socket is made non-blocking and the
 *   thread runs an epoll loop. Both ends of a pair live in one thread.
 * - Each pair repeats: A offer, B answer, 4 ICE candidates from each side,
 *   in turn. A timerfd ticks every --tick-us; on each tick the thread sends
 *   the messages that are due at its share of --rate, taking the pairs in
 *   turn (open loop: replies are not awaited). What is over 50 ms behind is
 *   skipped and counted, not fired as a burst.
 * - Every message carries its send time (CLOCK_MONOTONIC, 16 digits of
 *   100 ns) in the SDP's o= session id or the candidate's foundation.
 *   Latency = time the receiving client's socket was reported readable −
 *   send time. Frames are built from a masked template per client and kind
 *   (one masking key per connection; the server unmasks every byte anyway).
 * - Measurement window: --warmup s after the start, --duration s long.
 *   Messages received in it give the rate; messages sent in it give the
 *   latencies (received up to 5 s later). The server's utime/stime from
 *   /proc/PID/stat and this process's getrusage across the window give CPU.
 * - Integrity: the first 3 messages of each kind on each connection and every
 *   512th are parsed (jansson) and compared with what the partner sent, minus
 *   `target`, plus `from` = the partner's id.
 *
 * Prints a summary on stderr and `RESULT {json}` on stdout (the same fields
 * as load.mjs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#define TS_DIGITS 16
#define LIN_BUCKETS 100000 /* 0.1 µs each, to 10 ms */
#define LOG_BUCKETS 12000  /* ×1.001 each above that */
#define NBUCKETS (LIN_BUCKETS + LOG_BUCKETS)
#define MAX_SAMPLES 5
#define DRAIN_NS 5000000000LL

static const char TS_PLACEHOLDER[] = "0000000000000000";
static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* --- options ----------------------------------------------------------------- */

static struct {
	const char *host, *label;
	int port, pid, clients, threads, tick_us;
	double rate, duration, warmup;
	int offer_bytes, answer_bytes, ice_bytes;
} opt = { "127.0.0.1", "", 0, 0, 1000, 1, 250, 10000, 10, 3, 2000, 1500, 300 };

static int64_t t0_ns, tstart_ns, tend_ns; /* set by main before the start barrier */
static char room_prefix[16];
static pthread_barrier_t ready_barrier, go_barrier;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "signal%s%s: ", *opt.label ? "/" : "", opt.label);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* --- latency histogram (same buckets as load.mjs) ------------------------------ */

static int bucket_of(double us)
{
	if (us < 0)
		us = 0;
	double lin = floor(us * 10);
	if (lin < LIN_BUCKETS)
		return (int)lin;
	int i = (int)floor(log(us / 1e4) / log(1.001));
	return LIN_BUCKETS + (i < LOG_BUCKETS - 1 ? i : LOG_BUCKETS - 1);
}

static double bucket_value(int i)
{
	if (i < LIN_BUCKETS)
		return (i + 0.5) / 10;
	return 1e4 * exp((i - LIN_BUCKETS + 0.5) * log(1.001));
}

static double percentile(const uint32_t *h, uint64_t total, double p)
{
	if (!total)
		return -1;
	uint64_t want = (uint64_t)ceil(total * p), seen = 0;
	for (int i = 0; i < NBUCKETS; i++) {
		seen += h[i];
		if (seen >= want)
			return bucket_value(i);
	}
	return -1;
}

/* --- message templates ---------------------------------------------------------- */

static const char *SDP_HEAD[] = {
	"v=0", "o=- 0000000000000000 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1 2",
	"a=extmap-allow-mixed", "a=msid-semantic: WMS 7f3c9d2e-5b1a-4c8e-9f0d-1a2b3c4d5e6f",
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126", "c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0",
	"a=ice-ufrag:Xk3v", "a=ice-pwd:9bH2kL0pQwErTyUiOpAsDfGh", "a=ice-options:trickle",
	"a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF",
	"a=setup:actpass", "a=mid:0", "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
	"a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", "a=sendrecv",
	"a=msid:7f3c9d2e-5b1a-4c8e-9f0d-1a2b3c4d5e6f 0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f", "a=rtcp-mux",
	"a=rtpmap:111 opus/48000/2", "a=rtcp-fb:111 transport-cc", "a=fmtp:111 minptime=10;useinbandfec=1",
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107", "c=IN IP4 0.0.0.0", "a=mid:1",
	"a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 goog-remb", "a=rtcp-fb:96 transport-cc", "a=rtcp-fb:96 ccm fir",
	"a=rtcp-fb:96 nack", "a=rtcp-fb:96 nack pli", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
	"a=rtpmap:102 H264/90000", "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
};
static const char *SDP_FILL[] = {
	"a=ssrc-group:FID 2231627014 632943048", "a=ssrc:2231627014 cname:4TOk42mSjXCkVIa6",
	"a=ssrc:632943048 cname:4TOk42mSjXCkVIa6", "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
	"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid", "a=rtcp-fb:102 nack pli", "a=rtpmap:103 rtx/90000",
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Appends to a growable string; dies when out of memory. */
struct str {
	char *p;
	size_t len, cap;
};

static void str_add(struct str *s, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			die("vsnprintf failed");
		if (s->len + (size_t)n < s->cap) {
			s->len += (size_t)n;
			return;
		}
		s->cap = (s->cap + (size_t)n) * 2 + 256;
		s->p = realloc(s->p, s->cap);
		if (!s->p)
			die("out of memory");
	}
}

/*
 * Returns the JSON text of an offer/answer to `target` about `bytes` long,
 * the way JSON.stringify writes it (CR LF between SDP lines as \r\n).
 * The caller frees it.
 */
static char *sdp_json(const char *type, const char *target, int bytes)
{
	const char *lines[256];
	size_t n = 0;
	for (size_t i = 0; i < NELEM(SDP_HEAD); i++)
		lines[n++] = SDP_HEAD[i];
	char pad[4096];
	struct str s = { 0 };
	for (int round = 0;; round++) {
		s.len = 0;
		str_add(&s, "{\"type\":\"%s\",\"target\":\"%s\",\"sdp\":{\"type\":\"%s\",\"sdp\":\"", type, target, type);
		for (size_t i = 0; i < n; i++)
			str_add(&s, "%s\\r\\n", lines[i]);
		str_add(&s, "\"}}");
		if ((int)s.len > bytes && n > 4 && round < 1000) {
			n--;
			continue;
		}
		if ((int)s.len >= bytes || n >= NELEM(lines) - 1)
			return s.p;
		const char *next = SDP_FILL[round % NELEM(SDP_FILL)];
		int room = bytes - (int)s.len;
		if (room > (int)strlen(next) + 4) {
			lines[n++] = next;
			continue;
		}
		int k = room - 13 > 0 ? room - 13 : 0;
		if (k > (int)sizeof(pad) - 16)
			k = (int)sizeof(pad) - 16;
		snprintf(pad, sizeof(pad), "a=x-pad:%.*s", k, "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
			"pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp");
		lines[n++] = pad;
		s.len = 0;
		str_add(&s, "{\"type\":\"%s\",\"target\":\"%s\",\"sdp\":{\"type\":\"%s\",\"sdp\":\"", type, target, type);
		for (size_t i = 0; i < n; i++)
			str_add(&s, "%s\\r\\n", lines[i]);
		str_add(&s, "\"}}");
		return s.p;
	}
}

/* Returns the JSON text of an ice-candidate to `target` about `bytes` long. */
static char *ice_json(const char *target, int bytes, int k)
{
	struct str s = { 0 };
	for (int pad = -1;;) {
		s.len = 0;
		str_add(&s, "{\"type\":\"ice-candidate\",\"target\":\"%s\",\"candidate\":{\"candidate\":\"candidate:%s 1 udp "
			"2122260223 192.168.1.%d %d typ host generation 0 ufrag Xk3v network-id 1 network-cost 10",
			target, TS_PLACEHOLDER, 20 + k, 50000 + k);
		if (pad >= 0) {
			str_add(&s, " x");
			for (int i = 0; i < pad; i++)
				str_add(&s, "x");
		}
		str_add(&s, "\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":\"Xk3v\"}}");
		if (pad >= 0 || (int)s.len >= bytes)
			return s.p;
		pad = bytes - (int)s.len - 2 > 0 ? bytes - (int)s.len - 2 : 0;
	}
}

/* --- clients --------------------------------------------------------------------- */

enum { K_OFFER, K_ANSWER, K_ICE, K_N };
static const char *KIND_TYPE[K_N] = { "offer", "answer", "ice-candidate" };

struct tmpl {
	char *json;       /* the message as sent, with the timestamp placeholder */
	uint8_t *frame;   /* masked WebSocket frame of it */
	size_t len, ts_at, mask_at;
};

struct stats {
	uint64_t sent, sent_window, recv_window, recv_total, lat_count, errors, unexpected, checked,
		mismatches, closed, pings, behind, skipped, lost;
	double lat_sum, lat_max, tick_late_max;
	uint64_t tick_count;
	int nsamples;
	char samples[MAX_SAMPLES][200];
	uint32_t *hist, *tick_hist;
};

struct client {
	int fd;
	SSL *ssl;
	uint8_t mask[4];
	char id[80];
	struct client *partner;
	struct tmpl t[K_N];
	uint8_t *rbuf, *wbuf;
	size_t rlen, rcap, wlen, wcap;
	uint64_t sent, received;
	unsigned checked_kind[2];
	int open, want_out;
	struct stats *st;
};

struct pair {
	struct client a, b;
	int step;
};

struct worker {
	int idx, npairs, first_pair, epfd;
	double rate;
	struct pair *pairs;
	struct stats st;
	pthread_t th;
};

/* The negotiation each pair repeats: 0 = A, 1 = B sends. */
static const struct {
	int who, kind;
} SCRIPT[] = {
	{ 0, K_OFFER }, { 1, K_ANSWER }, { 0, K_ICE }, { 1, K_ICE }, { 0, K_ICE },
	{ 1, K_ICE }, { 0, K_ICE }, { 1, K_ICE }, { 0, K_ICE }, { 1, K_ICE },
};
#define SCRIPT_LEN ((int)NELEM(SCRIPT))

static SSL_CTX *ssl_ctx;

static void note(struct stats *st, const char *fmt, ...)
{
	if (st->nsamples >= MAX_SAMPLES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->samples[st->nsamples++], sizeof(st->samples[0]), fmt, ap);
	va_end(ap);
}

static void grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	size_t c = *cap ? *cap : 4096;
	while (c < need)
		c *= 2;
	*buf = realloc(*buf, c);
	if (!*buf)
		die("out of memory");
	*cap = c;
}

/* Appends a masked frame of `payload` to the client's output buffer. */
static void frame_append(struct client *c, int opcode, const uint8_t *payload, size_t len)
{
	grow(&c->wbuf, &c->wcap, c->wlen + len + 14);
	uint8_t *f = c->wbuf + c->wlen;
	size_t hl;
	f[0] = 0x80 | opcode;
	if (len < 126) {
		f[1] = 0x80 | len;
		hl = 2;
	} else if (len < 65536) {
		f[1] = 0x80 | 126;
		f[2] = len >> 8;
		f[3] = len & 0xff;
		hl = 4;
	} else {
		f[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			f[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
		hl = 10;
	}
	memcpy(f + hl, c->mask, 4);
	for (size_t i = 0; i < len; i++)
		f[hl + 4 + i] = payload[i] ^ c->mask[i & 3];
	c->wlen += hl + 4 + len;
}

/*
 * Writes out as much of the output buffer as TLS takes. Returns 0, or -1
 * when the connection failed. Arms EPOLLOUT while something is left.
 */
static int flush(struct worker *w, struct client *c)
{
	while (c->wlen) {
		int n = SSL_write(c->ssl, c->wbuf, (int)c->wlen);
		if (n > 0) {
			memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
			c->wlen -= (size_t)n;
			continue;
		}
		int e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
			break;
		return -1;
	}
	int want = c->wlen > 0;
	if (w && want != c->want_out) {
		struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };
		epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
		c->want_out = want;
	}
	return 0;
}

static void build_template(struct client *c, struct tmpl *t, char *json)
{
	size_t len = strlen(json);
	t->json = json;
	size_t save = c->wlen;
	frame_append(c, 0x1, (const uint8_t *)json, len);
	t->len = c->wlen - save;
	t->frame = malloc(t->len);
	if (!t->frame)
		die("out of memory");
	memcpy(t->frame, c->wbuf + save, t->len);
	c->wlen = save;
	const char *at = strstr(json, TS_PLACEHOLDER);
	t->mask_at = (size_t)(at - json);
	t->ts_at = (t->len - len) + t->mask_at;
}

/* Sends one message from a template with the current time in it. */
static void send_from(struct worker *w, struct client *c, const struct tmpl *t, int64_t now)
{
	grow(&c->wbuf, &c->wcap, c->wlen + t->len);
	uint8_t *f = c->wbuf + c->wlen;
	memcpy(f, t->frame, t->len);
	uint64_t ts = (uint64_t)(now / 100);
	for (int i = TS_DIGITS - 1; i >= 0; i--) {
		f[t->ts_at + i] = (uint8_t)('0' + ts % 10) ^ c->mask[(t->mask_at + i) & 3];
		ts /= 10;
	}
	c->wlen += t->len;
	c->sent++;
	if (flush(w, c) < 0 && c->open) {
		c->open = 0;
		c->st->closed++;
		note(c->st, "write failed on a connection");
	}
}

/* --- setup (blocking) -------------------------------------------------------------- */

static void ssl_die(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();
	ERR_error_string_n(e, buf, sizeof(buf));
	die("%s: %s", what, e ? buf : strerror(errno));
}

/* Reads more TLS data into rbuf (blocking setup phase). */
static void read_more(struct client *c)
{
	grow(&c->rbuf, &c->rcap, c->rlen + 16384);
	int n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(c->rcap - c->rlen));
	if (n <= 0)
		ssl_die("reading during setup (timed out or closed?)");
	c->rlen += (size_t)n;
}

/*
 * Parses one complete frame at the start of rbuf. Returns its total length
 * (0 if incomplete) and sets *op, *payload, *plen.
 */
static size_t frame_parse(const uint8_t *b, size_t n, int *op, const uint8_t **payload, size_t *plen)
{
	if (n < 2)
		return 0;
	size_t len = b[1] & 0x7f, hl = 2;
	if (len == 126) {
		if (n < 4)
			return 0;
		len = (size_t)b[2] << 8 | b[3];
		hl = 4;
	} else if (len == 127) {
		if (n < 10)
			return 0;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | b[2 + i];
		hl = 10;
	}
	if (b[1] & 0x80)
		hl += 4; /* a masked server frame is a protocol error; skipped over */
	if (n < hl + len)
		return 0;
	*op = b[0] & 0x0f;
	*payload = b + hl;
	*plen = len;
	return hl + len;
}

/* Returns the next text message (setup phase), parsed; the caller decrefs. */
static json_t *next_json(struct client *c)
{
	for (;;) {
		int op;
		const uint8_t *p;
		size_t len, used = frame_parse(c->rbuf, c->rlen, &op, &p, &len);
		if (!used) {
			read_more(c);
			continue;
		}
		json_t *j = NULL;
		if (op == 0x1) {
			j = json_loadb((const char *)p, len, 0, NULL);
			if (!j)
				die("server sent a text message that is not JSON: %.*s", (int)(len < 120 ? len : 120), p);
		} else if (op == 0x8) {
			die("server closed the connection during setup");
		}
		memmove(c->rbuf, c->rbuf + used, c->rlen - used);
		c->rlen -= used;
		if (j)
			return j;
	}
}

static const char *jstr(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return s ? s : "";
}

static void client_open(struct client *c, struct stats *st)
{
	c->st = st;
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0)
		die("socket: %s", strerror(errno));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(opt.port) };
	if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1)
		die("bad --host %s (an IPv4 address)", opt.host);
	struct timeval tv = { .tv_sec = 20 };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect to %s:%d: %s", opt.host, opt.port, strerror(errno));
	c->ssl = SSL_new(ssl_ctx);
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1)
		ssl_die("TLS handshake");
	RAND_bytes(c->mask, 4);

	uint8_t raw[16];
	char key[32], req[512];
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen;
	char accept[64], keyguid[128];
	RAND_bytes(raw, sizeof(raw));
	EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw));
	snprintf(keyguid, sizeof(keyguid), "%s%s", key, GUID);
	EVP_Digest(keyguid, strlen(keyguid), digest, &dlen, EVP_sha1(), NULL);
	EVP_EncodeBlock((unsigned char *)accept, digest, (int)dlen);
	int n = snprintf(req, sizeof(req), "GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", opt.host, opt.port, key);
	if (SSL_write(c->ssl, req, n) != n)
		ssl_die("sending the upgrade request");
	for (;;) {
		read_more(c);
		uint8_t *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
		if (!end) {
			if (c->rlen > 8192)
				die("upgrade response too long");
			continue;
		}
		size_t hlen = (size_t)(end - c->rbuf) + 4;
		char *head = strndup((const char *)c->rbuf, hlen);
		if (strncmp(head, "HTTP/1.1 101", 12))
			die("upgrade refused: %.*s", (int)strcspn(head, "\r"), head);
		char *a = strcasestr(head, "\r\nsec-websocket-accept:");
		if (!a)
			die("no Sec-WebSocket-Accept");
		a += 23;
		while (*a == ' ')
			a++;
		if (strncmp(a, accept, strlen(accept)))
			die("bad Sec-WebSocket-Accept");
		free(head);
		memmove(c->rbuf, c->rbuf + hlen, c->rlen - hlen);
		c->rlen -= hlen;
		break;
	}
	json_t *wel = next_json(c);
	if (strcmp(jstr(wel, "type"), "welcome") || !*jstr(wel, "id"))
		die("first message is not a welcome with an id");
	snprintf(c->id, sizeof(c->id), "%s", jstr(wel, "id"));
	json_decref(wel);
	c->open = 1;
}

static void send_text(struct client *c, const char *text)
{
	frame_append(c, 0x1, (const uint8_t *)text, strlen(text));
	if (flush(NULL, c) < 0 || c->wlen)
		ssl_die("sending during setup");
}

static void setup_pair(struct worker *w, struct pair *p, int k)
{
	struct client *a = &p->a, *b = &p->b;
	char msg[128];
	client_open(a, &w->st);
	client_open(b, &w->st);
	snprintf(msg, sizeof(msg), "{\"type\":\"join\",\"room\":\"%s-%d\"}", room_prefix, k);
	send_text(a, msg);
	json_t *j = next_json(a);
	if (strcmp(jstr(j, "type"), "joined") || strcmp(jstr(j, "peerId"), a->id) || json_array_size(json_object_get(j, "peers")))
		die("A's join: %s", json_dumps(j, JSON_COMPACT));
	json_decref(j);
	send_text(b, msg);
	j = next_json(b);
	json_t *peers = json_object_get(j, "peers");
	if (strcmp(jstr(j, "type"), "joined") || strcmp(jstr(j, "peerId"), b->id) || json_array_size(peers) != 1 ||
		strcmp(json_string_value(json_array_get(peers, 0)) ?: "", a->id))
		die("B's join: %s", json_dumps(j, JSON_COMPACT));
	json_decref(j);
	j = next_json(a);
	if (strcmp(jstr(j, "type"), "peer-joined") || strcmp(jstr(j, "peerId"), b->id))
		die("A's peer-joined: %s", json_dumps(j, JSON_COMPACT));
	json_decref(j);
	if (a->rlen || b->rlen)
		die("unexpected data after join");
	a->partner = b;
	b->partner = a;
	struct client *both[2] = { a, b };
	for (int i = 0; i < 2; i++) {
		struct client *me = both[i], *other = both[1 - i];
		build_template(me, &me->t[K_OFFER], sdp_json("offer", other->id, opt.offer_bytes));
		build_template(me, &me->t[K_ANSWER], sdp_json("answer", other->id, opt.answer_bytes));
		build_template(me, &me->t[K_ICE], ice_json(other->id, opt.ice_bytes, k % 200));
	}
	p->step = k % SCRIPT_LEN;
}

/* --- receiving (event loop) ------------------------------------------------------------ */

/* Compares a relayed message with what the partner sent. */
static void check(struct client *c, const uint8_t *p, size_t len, const uint8_t *ts)
{
	struct stats *st = c->st;
	st->checked++;
	json_t *got = json_loadb((const char *)p, len, 0, NULL);
	if (!got) {
		st->mismatches++;
		note(st, "relayed message is not JSON: %.*s", (int)(len < 100 ? len : 100), p);
		return;
	}
	const char *type = jstr(got, "type");
	int kind = -1;
	for (int k = 0; k < K_N; k++)
		if (!strcmp(type, KIND_TYPE[k]))
			kind = k;
	if (kind < 0) {
		st->mismatches++;
		note(st, "relayed message of type '%s'", type);
		json_decref(got);
		return;
	}
	char *text = strdup(c->partner->t[kind].json);
	memcpy(strstr(text, TS_PLACEHOLDER), ts, TS_DIGITS);
	json_t *want = json_loads(text, 0, NULL);
	json_object_del(want, "target");
	json_object_set_new(want, "from", json_string(c->partner->id));
	if (json_object_get(got, "target")) {
		st->mismatches++;
		note(st, "relayed %s still has target", type);
	} else if (!json_equal(got, want)) {
		st->mismatches++;
		char *g = json_dumps(got, JSON_COMPACT);
		note(st, "relayed %s differs: %.150s", type, g);
		free(g);
	}
	free(text);
	json_decref(want);
	json_decref(got);
}

static void on_text(struct client *c, const uint8_t *p, size_t len, int64_t now)
{
	struct stats *st = c->st;
	const uint8_t *at = memmem(p, len, "o=- ", 4);
	int kind = 0;
	if (at)
		at += 4;
	else if ((at = memmem(p, len, "candidate:", 10)))
		at += 10, kind = 1;
	if (!at || at + TS_DIGITS > p + len) {
		json_t *j = json_loadb((const char *)p, len, 0, NULL);
		if (j && !strcmp(jstr(j, "type"), "error"))
			st->errors++;
		else
			st->unexpected++;
		note(st, "%.*s", (int)(len < 180 ? len : 180), p);
		json_decref(j);
		return;
	}
	uint64_t ts = 0;
	for (int i = 0; i < TS_DIGITS; i++)
		ts = ts * 10 + (uint64_t)(at[i] - '0');
	int64_t sent = (int64_t)ts * 100;
	c->received++;
	st->recv_total++;
	if (now >= tstart_ns && now < tend_ns)
		st->recv_window++;
	if (sent >= tstart_ns && sent < tend_ns) {
		double lat = (double)(now - sent) / 1e3;
		st->hist[bucket_of(lat)]++;
		st->lat_count++;
		st->lat_sum += lat;
		if (lat > st->lat_max)
			st->lat_max = lat;
	}
	if (c->checked_kind[kind] < 3 || c->received % 512 == 0) {
		c->checked_kind[kind]++;
		check(c, p, len, at);
	}
}

static void client_lost(struct client *c, const char *why)
{
	if (!c->open)
		return;
	c->open = 0;
	c->st->closed++;
	note(c->st, "connection lost: %s", why);
}

static void on_readable(struct worker *w, struct client *c, int64_t now)
{
	for (;;) {
		grow(&c->rbuf, &c->rcap, c->rlen + 16384);
		int n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(c->rcap - c->rlen));
		if (n > 0) {
			c->rlen += (size_t)n;
			continue;
		}
		int e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			break;
		client_lost(c, e == SSL_ERROR_ZERO_RETURN ? "TLS close" : "read error or EOF");
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		break;
	}
	size_t off = 0;
	for (;;) {
		int op;
		const uint8_t *p;
		size_t len, used = frame_parse(c->rbuf + off, c->rlen - off, &op, &p, &len);
		if (!used)
			break;
		off += used;
		if (op == 0x1) {
			on_text(c, p, len, now);
		} else if (op == 0x9) {
			c->st->pings++;
			frame_append(c, 0xA, p, len);
			flush(w, c);
		} else if (op == 0x8) {
			note(c->st, "server closed with %d", len >= 2 ? p[0] << 8 | p[1] : 0);
			client_lost(c, "close frame");
		} else if (op != 0xA) {
			c->st->unexpected++;
			note(c->st, "frame opcode %d", op);
		}
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

/* --- the loop ------------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	w->st.hist = calloc(NBUCKETS, sizeof(uint32_t));
	w->st.tick_hist = calloc(NBUCKETS, sizeof(uint32_t));
	w->pairs = calloc((size_t)w->npairs, sizeof(struct pair));
	if (!w->st.hist || !w->st.tick_hist || !w->pairs)
		die("out of memory");
	for (int i = 0; i < w->npairs; i++)
		setup_pair(w, &w->pairs[i], w->first_pair + i);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < w->npairs; i++) {
		struct client *cs[2] = { &w->pairs[i].a, &w->pairs[i].b };
		for (int j = 0; j < 2; j++) {
			fcntl(cs[j]->fd, F_SETFL, fcntl(cs[j]->fd, F_GETFL) | O_NONBLOCK);
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = cs[j] };
			epoll_ctl(w->epfd, EPOLL_CTL_ADD, cs[j]->fd, &ev);
		}
	}
	pthread_barrier_wait(&ready_barrier);
	pthread_barrier_wait(&go_barrier);

	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int64_t tick = (int64_t)opt.tick_us * 1000;
	struct itimerspec its = {
		.it_value = { .tv_sec = t0_ns / 1000000000LL, .tv_nsec = t0_ns % 1000000000LL },
		.it_interval = { .tv_sec = tick / 1000000000LL, .tv_nsec = tick % 1000000000LL },
	};
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
	struct epoll_event tev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(w->epfd, EPOLL_CTL_ADD, tfd, &tev);

	double per_ns = w->rate / 1e9;
	uint64_t scheduled = 0, ticks = 0, max_burst = (uint64_t)ceil(w->rate * 0.05);
	if (max_burst < 1)
		max_burst = 1;
	int rr = 0, sending = 1;
	int64_t drain_until = 0;
	struct epoll_event evs[256];
	for (;;) {
		int n = epoll_wait(w->epfd, evs, 256, 100);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			int64_t now = now_ns();
			struct client *c = evs[i].data.ptr;
			if (c) {
				if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
					on_readable(w, c, now);
				if (c->open && (evs[i].events & EPOLLOUT) && flush(w, c) < 0)
					client_lost(c, "write error");
				continue;
			}
			uint64_t exp;
			if (read(tfd, &exp, sizeof(exp)) != sizeof(exp))
				continue;
			/* How late this tick came (against the first expiration not yet
			 * served): the generator's own delay, or another process's. */
			int64_t due_at = t0_ns + (int64_t)ticks * tick;
			ticks += exp;
			if (now >= tstart_ns && now < tend_ns) {
				double late = (double)(now - due_at) / 1e3;
				w->st.tick_hist[bucket_of(late)]++;
				w->st.tick_count++;
				if (late > w->st.tick_late_max)
					w->st.tick_late_max = late;
			}
			if (!sending)
				continue;
			if (now >= tend_ns) {
				sending = 0;
				drain_until = now + DRAIN_NS;
				continue;
			}
			uint64_t target = (uint64_t)((double)(now - t0_ns) * per_ns);
			uint64_t due = target > scheduled ? target - scheduled : 0;
			if (due > max_burst) {
				w->st.behind += due - max_burst;
				scheduled += due - max_burst;
				due = max_burst;
			}
			scheduled += due;
			for (uint64_t d = 0; d < due; d++) {
				struct pair *p = &w->pairs[rr];
				rr = rr + 1 == w->npairs ? 0 : rr + 1;
				int who = SCRIPT[p->step].who, kind = SCRIPT[p->step].kind;
				p->step = p->step + 1 == SCRIPT_LEN ? 0 : p->step + 1;
				struct client *c2 = who ? &p->b : &p->a;
				if (!c2->open) {
					w->st.skipped++;
					continue;
				}
				send_from(w, c2, &c2->t[kind], now);
				w->st.sent++;
				if (now >= tstart_ns)
					w->st.sent_window++;
			}
		}
		if (!sending) {
			uint64_t s = 0, r = 0;
			for (int i = 0; i < w->npairs; i++) {
				s += w->pairs[i].a.sent + w->pairs[i].b.sent;
				r += w->pairs[i].a.received + w->pairs[i].b.received;
			}
			if (r >= s || now_ns() >= drain_until) {
				w->st.lost = s - r;
				break;
			}
		}
	}
	close(tfd);
	return NULL;
}

/* --- main ------------------------------------------------------------------------------- */

static int cpu_ticks(int pid, long *user, long *sys)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* Fields after "pid (comm) ": state is field 3; utime 14, stime 15. */
	p += 2;
	for (int field = 3; field < 14; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	return sscanf(p, "%ld %ld", user, sys) == 2 ? 0 : -1;
}

static double cpu_self(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { .tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			die("%s needs a value", a);
		i++;
		if (!strcmp(a, "--host")) opt.host = v;
		else if (!strcmp(a, "--label")) opt.label = v;
		else if (!strcmp(a, "--port")) opt.port = atoi(v);
		else if (!strcmp(a, "--pid")) opt.pid = atoi(v);
		else if (!strcmp(a, "--clients")) opt.clients = atoi(v);
		else if (!strcmp(a, "--threads") || !strcmp(a, "--workers")) opt.threads = atoi(v);
		else if (!strcmp(a, "--tick-us")) opt.tick_us = atoi(v);
		else if (!strcmp(a, "--rate")) opt.rate = atof(v);
		else if (!strcmp(a, "--duration")) opt.duration = atof(v);
		else if (!strcmp(a, "--warmup")) opt.warmup = atof(v);
		else if (!strcmp(a, "--offer-bytes")) opt.offer_bytes = atoi(v);
		else if (!strcmp(a, "--answer-bytes")) opt.answer_bytes = atoi(v);
		else if (!strcmp(a, "--ice-bytes")) opt.ice_bytes = atoi(v);
		else die("unknown option %s", a);
	}
	if (!opt.port || opt.clients < 2 || opt.clients % 2 || !(opt.rate > 0) || !(opt.duration > 0) ||
		opt.warmup < 0 || opt.tick_us < 10)
		die("usage: load --port P [--pid PID] [--clients even N] [--rate R] [--duration S] [--warmup S] [--threads K]");
}

static void jnum(const char *key, double v, int decimals, int last)
{
	if (v < 0 || isnan(v))
		printf("\"%s\":null%s", key, last ? "" : ",");
	else
		printf("\"%s\":%.*f%s", key, decimals, v, last ? "" : ",");
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	const char *tag = *opt.label ? opt.label : "";
	int npairs = opt.clients / 2;
	if (opt.threads < 1)
		opt.threads = 1;
	if (opt.threads > npairs)
		opt.threads = npairs;
	if (opt.rate / opt.clients > 150)
		fprintf(stderr, "signal%s%s: warning: %.0f messages/s per client; tincan allows 200/s per connection\n",
			*tag ? "/" : "", tag, opt.rate / opt.clients);
	uint8_t r[3];
	RAND_bytes(r, 3);
	snprintf(room_prefix, sizeof(room_prefix), "sb%02x%02x%02x", r[0], r[1], r[2]);
	ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (!ssl_ctx)
		ssl_die("SSL_CTX_new");
	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

	struct worker *ws = calloc((size_t)opt.threads, sizeof(*ws));
	pthread_barrier_init(&ready_barrier, NULL, (unsigned)opt.threads + 1);
	pthread_barrier_init(&go_barrier, NULL, (unsigned)opt.threads + 1);
	int64_t setup0 = now_ns();
	for (int i = 0, first = 0; i < opt.threads; i++) {
		ws[i].idx = i;
		ws[i].npairs = npairs / opt.threads + (i < npairs % opt.threads);
		ws[i].first_pair = first;
		ws[i].rate = opt.rate * ws[i].npairs / npairs;
		first += ws[i].npairs;
		if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]))
			die("pthread_create failed");
	}
	pthread_barrier_wait(&ready_barrier);
	fprintf(stderr, "signal%s%s: %d clients in %d rooms ready in %.1f s; %.0f msg/s for %.0f s warm-up + %.0f s\n",
		*tag ? "/" : "", tag, opt.clients, npairs, (now_ns() - setup0) / 1e9, opt.rate, opt.warmup, opt.duration);
	t0_ns = now_ns() + 20000000LL;
	tstart_ns = t0_ns + (int64_t)(opt.warmup * 1e9);
	tend_ns = tstart_ns + (int64_t)(opt.duration * 1e9);
	pthread_barrier_wait(&go_barrier);

	long u0 = 0, s0 = 0, u1 = 0, s1 = 0;
	sleep_until(tstart_ns);
	if (opt.pid && cpu_ticks(opt.pid, &u0, &s0))
		die("cannot read /proc/%d/stat", opt.pid);
	double g0 = cpu_self();
	int64_t w0 = now_ns();
	sleep_until(tend_ns);
	if (opt.pid && cpu_ticks(opt.pid, &u1, &s1))
		die("server %d is gone", opt.pid);
	double gcpu = cpu_self() - g0;
	double window = (now_ns() - w0) / 1e9;
	for (int i = 0; i < opt.threads; i++)
		pthread_join(ws[i].th, NULL);

	/* Merge the threads' statistics into ws[0].st. */
	struct stats *t = &ws[0].st;
	for (int i = 1; i < opt.threads; i++) {
		struct stats *s = &ws[i].st;
		for (int b = 0; b < NBUCKETS; b++) {
			t->hist[b] += s->hist[b];
			t->tick_hist[b] += s->tick_hist[b];
		}
		t->sent += s->sent, t->sent_window += s->sent_window, t->recv_window += s->recv_window;
		t->recv_total += s->recv_total, t->lat_count += s->lat_count, t->errors += s->errors;
		t->unexpected += s->unexpected, t->checked += s->checked, t->mismatches += s->mismatches;
		t->closed += s->closed, t->pings += s->pings, t->behind += s->behind, t->skipped += s->skipped;
		t->lost += s->lost, t->lat_sum += s->lat_sum, t->tick_count += s->tick_count;
		if (s->lat_max > t->lat_max)
			t->lat_max = s->lat_max;
		if (s->tick_late_max > t->tick_late_max)
			t->tick_late_max = s->tick_late_max;
		for (int k = 0; k < s->nsamples && t->nsamples < MAX_SAMPLES; k++)
			memcpy(t->samples[t->nsamples++], s->samples[k], sizeof(t->samples[0]));
	}
	long hz = sysconf(_SC_CLK_TCK);
	double su = (double)(u1 - u0) / hz, ss = (double)(s1 - s0) / hz, scpu = su + ss;
	double p50 = percentile(t->hist, t->lat_count, 0.5), p90 = percentile(t->hist, t->lat_count, 0.9);
	double p99 = percentile(t->hist, t->lat_count, 0.99), p999 = percentile(t->hist, t->lat_count, 0.999);
	double tick99 = percentile(t->tick_hist, t->tick_count, 0.99);
	if (getenv("SIGNAL_CDF")) {
		static const double ps[] = { 0.5, 0.75, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999 };
		for (size_t k = 0; k < NELEM(ps); k++)
			fprintf(stderr, "  p%g %.1f µs\n", ps[k] * 100, percentile(t->hist, t->lat_count, ps[k]));
	}
	double rate = t->recv_window / window;

	fprintf(stderr, "signal%s%s: %.0f msg/s received (target %.0f), latency p50 %.1f µs p99 %.1f µs p99.9 %.1f µs "
		"max %.1f µs; server CPU %.1f %% (%.2f µs/msg, user %.2f s sys %.2f s), generator CPU %.1f %%, "
		"its tick delay p99 %.1f µs max %.1f µs\n", *tag ? "/" : "", tag, rate, opt.rate, p50, p99, p999,
		t->lat_max, 100 * scpu / window, t->recv_window ? scpu * 1e6 / t->recv_window : 0, su, ss,
		100 * gcpu / window, tick99, t->tick_late_max);
	if (t->lost || t->errors || t->unexpected || t->closed || t->mismatches || t->behind || t->skipped) {
		fprintf(stderr, "signal%s%s: PROBLEMS lost=%lu errors=%lu unexpected=%lu closed=%lu mismatches=%lu "
			"behind=%lu skipped=%lu\n", *tag ? "/" : "", tag, t->lost, t->errors, t->unexpected, t->closed,
			t->mismatches, t->behind, t->skipped);
		for (int k = 0; k < t->nsamples; k++)
			fprintf(stderr, "signal%s%s:   %s\n", *tag ? "/" : "", tag, t->samples[k]);
	}

	json_t *samples = json_array();
	for (int k = 0; k < t->nsamples; k++)
		json_array_append_new(samples, json_string(t->samples[k]));
	char *samples_text = json_dumps(samples, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_t *label = json_string(opt.label);
	char *label_text = json_dumps(label, JSON_ENCODE_ANY);
	printf("RESULT {\"generator\":\"c\",\"label\":%s,\"clients\":%d,\"rooms\":%d,\"workers\":%d,",
		label_text, opt.clients, npairs, opt.threads);
	jnum("rate_target", opt.rate, 0, 0);
	jnum("window_s", window, 3, 0);
	printf("\"sent\":%lu,\"received\":%lu,", t->sent_window, t->recv_window);
	jnum("achieved_rate", rate, 0, 0);
	jnum("p50_us", p50, 1, 0);
	jnum("p90_us", p90, 1, 0);
	jnum("p99_us", p99, 1, 0);
	jnum("p999_us", p999, 1, 0);
	jnum("max_us", t->lat_max, 1, 0);
	jnum("mean_us", t->lat_count ? t->lat_sum / t->lat_count : -1, 1, 0);
	printf("\"latency_samples\":%lu,", t->lat_count);
	if (opt.pid) {
		jnum("server_cpu_s", scpu, 2, 0);
		jnum("server_user_s", su, 2, 0);
		jnum("server_sys_s", ss, 2, 0);
		jnum("server_cpu_pct", 100 * scpu / window, 1, 0);
		jnum("server_cpu_us_per_msg", t->recv_window ? scpu * 1e6 / t->recv_window : -1, 2, 0);
		jnum("msgs_per_server_cpu_s", scpu > 0 ? t->recv_window / scpu : -1, 0, 0);
	}
	jnum("gen_cpu_s", gcpu, 3, 0);
	jnum("gen_cpu_pct", 100 * gcpu / window, 1, 0);
	jnum("gen_loop_delay_p99_us", tick99, 1, 0);
	jnum("gen_loop_delay_max_us", t->tick_late_max, 1, 0);
	printf("\"lost\":%lu,\"errors\":%lu,\"unexpected\":%lu,\"closed\":%lu,\"checked\":%lu,\"mismatches\":%lu,"
		"\"behind\":%lu,\"skipped\":%lu,\"pings\":%lu,\"samples\":%s,"
		"\"bytes\":{\"offer\":%d,\"answer\":%d,\"ice\":%d},\"tick_us\":%d}\n",
		t->lost, t->errors, t->unexpected, t->closed, t->checked, t->mismatches, t->behind, t->skipped,
		t->pings, samples_text, opt.offer_bytes, opt.answer_bytes, opt.ice_bytes, opt.tick_us);
	fflush(stdout);
	_exit(0); /* sockets close with the process */
}
