/*
 * https — blocking one-shot HTTPS requests for the ACME thread (see https.h).
 */
#include "https.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../base/alloc.h"
#include "../http/http.h"

static pthread_mutex_t cancel_lock = PTHREAD_MUTEX_INITIALIZER;
static int cancel_fd = -1;
static int cancelled;

int https_parse_url(const char *url, struct https_url *out)
{
    memset(out, 0, sizeof(*out));
    if (strncasecmp(url, "https://", 8) != 0 || strlen(url) > 2048)
        return -1;
    const char *h = url + 8, *end = h + strcspn(h, "/?#");
    out->path = *end == '/' ? end : "/";
    if (*end && *end != '/')
        return -1;
    const char *colon = NULL;
    if (*h == '[') { /* [v6]:port */
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb)
            return -1;
        if ((size_t)(rb - h - 1) >= sizeof(out->host))
            return -1;
        memcpy(out->host, h + 1, (size_t)(rb - h - 1));
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        if (rb + 1 < end && !colon)
            return -1;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        const char *hend = colon ? colon : end;
        if (hend == h || (size_t)(hend - h) >= sizeof(out->host))
            return -1;
        memcpy(out->host, h, (size_t)(hend - h));
    }
    if (!out->host[0])
        return -1;
    if (colon) {
        size_t n = (size_t)(end - colon - 1);
        if (n == 0 || n >= sizeof(out->port))
            return -1;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)colon[1 + i]))
                return -1;
        }
        memcpy(out->port, colon + 1, n);
    } else {
        strcpy(out->port, "443");
    }
    return 0;
}

/* Copies a header value (trimmed) into out if it fits; longer ones are
 * dropped, which the caller then sees as a missing header. */
static void keep_header(const char *v, size_t n, char *out, size_t cap)
{
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
        n--;
    if (n < cap) {
        memcpy(out, v, n);
        out[n] = '\0';
    }
}

/* Parses "HTTP/1.x NNN ..." and the header lines up to the empty line.
 * Returns the offset of the body, or -1. */
static long parse_head(const uint8_t *buf, size_t len, struct https_response *out, long *clen, int *chunked)
{
    const char *p = (const char *)buf;
    if (len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[9]) ||
        !isdigit((unsigned char)p[10]) || !isdigit((unsigned char)p[11]) || p[8] != ' ')
        return -1;
    out->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    const char *line = memchr(p, '\n', len);
    while (line) {
        line++;
        size_t rest = len - (size_t)(line - p);
        const char *nl = memchr(line, '\n', rest);
        if (!nl)
            return -1;
        size_t n = (size_t)(nl - line);
        if (n == 0 || (n == 1 && line[0] == '\r'))
            return (long)(nl + 1 - p);
        const char *colon = memchr(line, ':', n);
        if (!colon)
            return -1;
        size_t kn = (size_t)(colon - line), vn = n - kn - 1;
        const char *v = colon + 1;
        if (kn == 12 && strncasecmp(line, "replay-nonce", kn) == 0)
            keep_header(v, vn, out->nonce, sizeof(out->nonce));
        else if (kn == 8 && strncasecmp(line, "location", kn) == 0)
            keep_header(v, vn, out->location, sizeof(out->location));
        else if (kn == 11 && strncasecmp(line, "retry-after", kn) == 0)
            keep_header(v, vn, out->retry_after, sizeof(out->retry_after));
        else if (kn == 12 && strncasecmp(line, "content-type", kn) == 0)
            keep_header(v, vn, out->content_type, sizeof(out->content_type));
        else if (kn == 14 && strncasecmp(line, "content-length", kn) == 0) {
            char num[24] = "";
            keep_header(v, vn, num, sizeof(num));
            char *end;
            *clen = strtol(num, &end, 10);
            if (!num[0] || *end || *clen < 0)
                return -1;
        } else if (kn == 17 && strncasecmp(line, "transfer-encoding", kn) == 0) {
            char te[32] = "";
            keep_header(v, vn, te, sizeof(te));
            *chunked = strcasecmp(te, "chunked") == 0;
        }
        line = nl;
    }
    return -1;
}

int https_parse_response(const uint8_t *buf, size_t len, struct https_response *out)
{
    memset(out, 0, sizeof(*out));
    long clen = -1;
    int chunked = 0;
    long off = parse_head(buf, len, out, &clen, &chunked);
    if (off < 0 || len > HTTPS_MAX_RESPONSE)
        return -1;
    const uint8_t *b = buf + off;
    size_t blen = len - (size_t)off;
    out->body = xmalloc(blen + 1);
    long n = (long)blen;
    if (chunked) {
        size_t decoded = 0;
        n = http_chunked_body(b, blen, HTTPS_MAX_RESPONSE, out->body, &decoded) > 0 ? (long)decoded : -1;
    } else if (clen >= 0 && (size_t)clen > blen)
        n = -1; /* cut short */
    else {
        if (clen >= 0)
            n = clen;
        memcpy(out->body, b, (size_t)n);
    }
    if (n < 0) {
        https_response_free(out);
        return -1;
    }
    out->body_len = (size_t)n;
    out->body[n] = '\0';
    return 0;
}

void https_response_free(struct https_response *r)
{
    xfree(r->body);
    r->body = NULL;
    r->body_len = 0;
}

void https_cancel_all(void)
{
    pthread_mutex_lock(&cancel_lock);
    cancelled = 1;
    if (cancel_fd >= 0)
        shutdown(cancel_fd, SHUT_RDWR);
    pthread_mutex_unlock(&cancel_lock);
}

int https_cancelled(void)
{
    pthread_mutex_lock(&cancel_lock);
    int c = cancelled;
    pthread_mutex_unlock(&cancel_lock);
    return c;
}

/* connect() that gives up after timeout_s or once https_cancel_all() was
 * called (checked every CANCEL_CHECK_MS), so shutdown never waits for a CA
 * that does not answer. Returns 0 or an errno value. */
#define CANCEL_CHECK_MS 200
static int connect_cancellable(int fd, const struct sockaddr *addr, socklen_t len, int timeout_s)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return errno;
    int rc = connect(fd, addr, len) == 0 ? 0 : errno;
    for (long waited = 0; rc == EINPROGRESS; waited += CANCEL_CHECK_MS) {
        if (https_cancelled())
            return ECANCELED;
        if (waited >= (long)timeout_s * 1000)
            return ETIMEDOUT;
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int n = poll(&p, 1, CANCEL_CHECK_MS);
        if (n < 0 && errno != EINTR)
            return errno;
        if (n > 0) {
            socklen_t sl = sizeof(rc);
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &rc, &sl) < 0)
                rc = errno;
        }
    }
    if (rc == 0 && fcntl(fd, F_SETFL, flags) < 0)
        rc = errno;
    return rc;
}

/* Connects to host:port with a timeout on every later read and write. */
static int dial(const struct https_url *u, int timeout_s, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    int rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", u->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *a = res; a && fd < 0 && saved != ECANCELED; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = { .tv_sec = timeout_s };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        saved = connect_cancellable(fd, a->ai_addr, a->ai_addrlen, timeout_s);
        if (saved != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "cannot connect to %s:%s: %s", u->host, u->port, strerror(saved));
    return fd;
}

static SSL_CTX *client_ctx(const char *ca_file, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_default_verify_paths(ctx);
    if (ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        snprintf(err, errlen, "cannot read CA file %s", ca_file);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static int write_all(SSL *ssl, const char *p, size_t n)
{
    while (n > 0) {
        int w = SSL_write(ssl, p, n > 65536 ? 65536 : (int)n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads until the server closes; NULL if it sends too much or fails. */
static uint8_t *read_all(SSL *ssl, size_t *len)
{
    size_t cap = 16384, n = 0;
    uint8_t *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= HTTPS_MAX_RESPONSE)
                break;
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        int r = SSL_read(ssl, buf + n, (int)(cap - n));
        if (r > 0) {
            n += (size_t)r;
            continue;
        }
        int e = SSL_get_error(ssl, r);
        /* Some servers close without close_notify; the framing (length or
         * chunks) is checked by the parser anyway. */
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && n > 0) || (e == SSL_ERROR_SSL && n > 0)) {
            *len = n;
            ERR_clear_error();
            return buf;
        }
        break;
    }
    ERR_clear_error();
    xfree(buf);
    return NULL;
}

static int set_cancel_fd(int fd)
{
    pthread_mutex_lock(&cancel_lock);
    int ok = !cancelled;
    cancel_fd = ok ? fd : -1;
    pthread_mutex_unlock(&cancel_lock);
    return ok ? 0 : -1;
}

/* Writes the request head and body; 0, or -1 if the connection failed. */
static int write_request(SSL *ssl, const char *method, const char *url, const struct https_url *u,
                         const char *content_type, const char *body)
{
    size_t blen = body ? strlen(body) : 0;
    size_t hcap = strlen(url) + 512;
    char *head = xmalloc(hcap);
    int v6 = strchr(u->host, ':') != NULL;
    int hn = snprintf(head, hcap,
                      "%s %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUser-Agent: tincan-acme\r\nAccept: */*\r\n"
                      "Connection: close\r\n%s%s%sContent-Length: %zu\r\n\r\n",
                      method, u->path, v6 ? "[" : "", u->host, v6 ? "]" : "", strcmp(u->port, "443") ? ":" : "",
                      strcmp(u->port, "443") ? u->port : "",
                      content_type ? "Content-Type: " : "", content_type ? content_type : "", content_type ? "\r\n" : "",
                      blen);
    int wr = write_all(ssl, head, (size_t)hn) < 0 || (blen && write_all(ssl, body, blen) < 0);
    xfree(head);
    return wr ? -1 : 0;
}

int https_request(const char *method, const char *url, const char *ca_file, const char *content_type,
                  const char *body, struct https_response *out, int timeout_s, char *err, size_t errlen)
{
    struct https_url u;
    memset(out, 0, sizeof(*out));
    if (https_parse_url(url, &u) < 0) {
        snprintf(err, errlen, "not an https URL: %.200s", url);
        return -1;
    }
    int rc = -1, fd = dial(&u, timeout_s, err, errlen);
    if (fd < 0)
        return -1;
    SSL_CTX *ctx = client_ctx(ca_file, err, errlen);
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    if (!ssl || set_cancel_fd(fd) < 0) {
        if (ctx)
            snprintf(err, errlen, "%s", ssl ? "cancelled" : "cannot create TLS client");
        goto out;
    }
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, u.host);
    SSL_set1_host(ssl, u.host);
    if (SSL_connect(ssl) != 1) {
        unsigned long e = ERR_get_error();
        long v = SSL_get_verify_result(ssl);
        snprintf(err, errlen, "TLS with %s:%s failed: %s", u.host, u.port,
                 v != X509_V_OK ? X509_verify_cert_error_string(v) : e ? ERR_reason_error_string(e) : "closed");
        goto out;
    }
    if (write_request(ssl, method, url, &u, content_type, body) < 0 || !(raw = read_all(ssl, &rawlen))) {
        snprintf(err, errlen, "%s %.200s: no complete response", method, url);
        goto out;
    }
    if (https_parse_response(raw, rawlen, out) < 0) {
        snprintf(err, errlen, "%s %.200s: malformed response", method, url);
        goto out;
    }
    rc = 0;
out:
    set_cancel_fd(-1);
    ERR_clear_error();
    xfree(raw);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return rc;
}
