/*
 * acme — one ACME order from directory to stored certificate (see acme.h).
 */
#include "acme.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/alloc.h"
#include "../base/log.h"
#include "chall.h"
#include "https.h"
#include "jws.h"
#include "msg.h"

#define PAYLOAD_MAX 8192
#define BADNONCE_RETRIES 3

struct session {
    const struct acme_params *p;
    struct acme_directory dir;
    EVP_PKEY *key;
    char kid[ACME_URL_MAX];
    char nonce[HTTPS_HEADER_MAX];
    char thumb[JWS_THUMBPRINT_LEN + 1];
    char *err;
    size_t errlen;
};

/* --- files --- */

/* fsyncs the directory holding path, so a rename in it survives a crash. */
static void sync_dir(const char *path)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int write_file(const char *path, const void *data, size_t len, int mode)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, data, len);
    int rc = (w == (ssize_t)len && fsync(fd) == 0) ? 0 : -1;
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
    if (rc < 0)
        unlink(tmp);
    else
        sync_dir(path);
    return rc;
}

/* PEM text of a private key (caller xfrees), or NULL. */
static char *key_pem(EVP_PKEY *key, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL, *p;
    if (b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1) {
        long n = BIO_get_mem_data(b, &p);
        out = xmalloc((size_t)n + 1);
        memcpy(out, p, (size_t)n);
        out[n] = '\0';
        *len = (size_t)n;
    }
    BIO_free(b);
    return out;
}

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

static EVP_PKEY *account_key(const char *path, char *err, size_t errlen)
{
    EVP_PKEY *key = read_key(path);
    if (key)
        return key;
    if (access(path, F_OK) == 0) {
        snprintf(err, errlen, "cannot read account key %s", path);
        return NULL;
    }
    key = EVP_EC_gen("P-256");
    size_t len = 0;
    char *pem = key ? key_pem(key, &len) : NULL;
    if (!pem || write_file(path, pem, len, 0600) < 0) {
        snprintf(err, errlen, "cannot write account key %s: %s", path, strerror(errno));
        EVP_PKEY_free(key);
        key = NULL;
    } else {
        log_info("acme_account_key", "created=%s", path);
    }
    xfree(pem);
    return key;
}

/* --- requests --- */

static int fail(struct session *s, const char *fmt, const char *a, const char *b)
{
    snprintf(s->err, s->errlen, fmt, a, b);
    return -1;
}

static int fetch_nonce(struct session *s)
{
    struct https_response r;
    if (https_request("GET", s->dir.new_nonce, s->p->ca_file, NULL, NULL, &r, s->p->timeout_s, s->err, s->errlen) < 0)
        return -1;
    int ok = r.nonce[0] && r.status < 300;
    snprintf(s->nonce, sizeof(s->nonce), "%s", r.nonce);
    https_response_free(&r);
    return ok ? 0 : fail(s, "no nonce from %s%s", s->dir.new_nonce, "");
}

/* Signed POST (payload NULL: POST-as-GET). Retries a rejected nonce. On
 * success r holds a 2xx response the caller frees. */
static int post(struct session *s, const char *url, const char *payload, struct https_response *r)
{
    for (int attempt = 0; attempt < BADNONCE_RETRIES; attempt++) {
        if (!s->nonce[0] && fetch_nonce(s) < 0)
            return -1;
        char *jws = jws_sign(s->key, s->kid[0] ? s->kid : NULL, s->nonce, url, payload);
        s->nonce[0] = '\0';
        if (!jws)
            return fail(s, "cannot sign request to %s%s", url, "");
        int rc = https_request("POST", url, s->p->ca_file, "application/jose+json", jws, r, s->p->timeout_s,
                               s->err, s->errlen);
        free(jws);
        if (rc < 0)
            return -1;
        snprintf(s->nonce, sizeof(s->nonce), "%s", r->nonce);
        if (r->status >= 200 && r->status < 300)
            return 0;
        struct acme_problem prob;
        acme_parse_problem(r->body, r->body_len, &prob);
        https_response_free(r);
        if (strcmp(prob.type, "urn:ietf:params:acme:error:badNonce") == 0)
            continue;
        snprintf(s->err, s->errlen, "CA refused %.200s: %s %s", url, prob.type[0] ? prob.type : "error", prob.detail);
        return -1;
    }
    return fail(s, "CA kept rejecting nonces at %s%s", url, "");
}

static int get_directory(struct session *s)
{
    struct https_response r;
    const char *url = s->p->directory;
    if (https_request("GET", url, s->p->ca_file, NULL, NULL, &r, s->p->timeout_s, s->err, s->errlen) < 0)
        return -1;
    int rc = r.status == 200 && acme_parse_directory(r.body, r.body_len, &s->dir) == 0 ? 0 : -1;
    https_response_free(&r);
    return rc == 0 ? 0 : fail(s, "no usable ACME directory at %.300s%s", url, "");
}

static int new_account(struct session *s)
{
    char payload[PAYLOAD_MAX];
    if (acme_build_new_account(s->p->email, payload, sizeof(payload)) < 0)
        return fail(s, "unusable contact e-mail %.200s%s", s->p->email, "");
    struct https_response r;
    if (post(s, s->dir.new_account, payload, &r) < 0)
        return -1;
    snprintf(s->kid, sizeof(s->kid), "%s", r.location);
    int created = r.status == 201;
    https_response_free(&r);
    if (!s->kid[0] || strchr(s->kid, '"') || strchr(s->kid, '\\'))
        return fail(s, "CA sent no account URL%s%s", "", "");
    log_info("acme_account", "created=%s", created ? "true" : "false");
    return 0;
}

/* Polls url (POST-as-GET) until parse() reports a status other than the
 * waiting ones; leaves the last body parsed in out. */
typedef int (*parse_fn)(const uint8_t *, size_t, void *);

static int poll_until(struct session *s, const char *url, parse_fn parse, void *out, enum acme_status (*status)(void *))
{
    time_t deadline = time(NULL) + s->p->poll_max_s;
    for (;;) {
        struct https_response r;
        if (post(s, url, NULL, &r) < 0)
            return -1;
        int bad = parse(r.body, r.body_len, out);
        long wait = acme_retry_after(r.retry_after[0] ? r.retry_after : NULL, 1, 10);
        https_response_free(&r);
        if (bad)
            return fail(s, "unexpected answer from %.300s%s", url, "");
        enum acme_status st = status(out);
        if (st != ACME_ST_PENDING && st != ACME_ST_PROCESSING)
            return 0;
        if (time(NULL) + wait > deadline)
            return fail(s, "the CA did not finish %.300s in time%s", url, "");
        for (long i = 0; i < wait; i++) {
            if (https_cancelled())
                return fail(s, "cancelled%s%s", "", "");
            sleep(1);
        }
    }
}

static int parse_authz(const uint8_t *b, size_t n, void *out)
{
    return acme_parse_authz(b, n, out);
}

static int parse_order(const uint8_t *b, size_t n, void *out)
{
    return acme_parse_order(b, n, out);
}

static enum acme_status authz_status(void *a)
{
    return ((struct acme_authz *)a)->status;
}

static enum acme_status order_status(void *o)
{
    return ((struct acme_order *)o)->status;
}

/* The challenge to answer: TLS-ALPN-01 (it needs only the main port) when
 * the CA offers it, else HTTP-01 when it is served; the caller may prefer
 * HTTP-01 or rule TLS-ALPN-01 out. */
static const struct acme_challenge *pick(const struct session *s, const struct acme_authz *a)
{
    const struct acme_challenge *alpn = NULL, *http = NULL;
    for (int i = 0; i < a->nch; i++) {
        if (a->ch[i].type == ACME_CH_HTTP01 && s->p->http01)
            http = &a->ch[i];
        if (a->ch[i].type == ACME_CH_TLSALPN01 && !s->p->no_tlsalpn01)
            alpn = &a->ch[i];
    }
    if (s->p->prefer_http01 && http)
        return http;
    return alpn ? alpn : http;
}

static int publish(const struct acme_authz *a, const struct acme_challenge *ch, const char *keyauth)
{
    if (ch->type == ACME_CH_HTTP01)
        return chall_add_http(ch->token, keyauth);
    return chall_add_alpn(a->domain, keyauth);
}

static int authorize(struct session *s, const char *url)
{
    struct acme_authz a;
    struct https_response r;
    if (post(s, url, NULL, &r) < 0)
        return -1;
    int bad = acme_parse_authz(r.body, r.body_len, &a);
    https_response_free(&r);
    if (bad)
        return fail(s, "unexpected authorization at %.300s%s", url, "");
    if (a.status == ACME_ST_VALID)
        return 0; /* authorized earlier (reused by the CA) */
    const struct acme_challenge *ch = pick(s, &a);
    if (a.status != ACME_ST_PENDING && a.status != ACME_ST_PROCESSING)
        ch = NULL;
    char keyauth[ACME_TOKEN_MAX + 64];
    if (!ch || jws_key_authorization(ch->token, s->thumb, keyauth, sizeof(keyauth)) < 0)
        return fail(s, "no challenge tincan can answer for %s (status %s)", a.domain, acme_status_name(a.status));
    char domain[ACME_NAME_MAX + 1], token[ACME_TOKEN_MAX], chall_url[ACME_URL_MAX];
    snprintf(domain, sizeof(domain), "%s", a.domain);
    snprintf(token, sizeof(token), "%s", ch->token);
    snprintf(chall_url, sizeof(chall_url), "%s", ch->url);
    int type = ch->type;
    if (publish(&a, ch, keyauth) < 0)
        return fail(s, "cannot prepare the challenge for %s%s", domain, "");
    log_info("acme_challenge", "domain=%s type=%s", domain, type == ACME_CH_HTTP01 ? "http-01" : "tls-alpn-01");
    int rc = post(s, chall_url, "{}", &r);
    if (rc == 0) {
        https_response_free(&r);
        rc = poll_until(s, url, parse_authz, &a, authz_status);
    }
    chall_remove(token, domain);
    if (rc < 0)
        return -1;
    if (a.status != ACME_ST_VALID) {
        const char *why = "";
        for (int i = 0; i < a.nch; i++) {
            if (strcmp(a.ch[i].token, token) == 0)
                why = a.ch[i].error;
        }
        snprintf(s->err, s->errlen, "validation of %s failed (%s): %s", domain, acme_status_name(a.status),
                 why[0] ? why : "check that the name points to this server and the port is reachable");
        return -1;
    }
    return 0;
}

/* A CSR for the domains (first one as CN, all as SANs), DER, xmalloc'd. */
static uint8_t *make_csr(EVP_PKEY *key, char *const *domains, int n, size_t *len)
{
    X509_REQ *req = X509_REQ_new();
    uint8_t *der = NULL;
    char sans[8192] = "";
    for (int i = 0; i < n; i++) {
        size_t used = strlen(sans);
        snprintf(sans + used, sizeof(sans) - used, "%sDNS:%s", i ? "," : "", domains[i]);
    }
    X509_NAME *name = X509_REQ_get_subject_name(req);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)domains[0], -1, -1, 0);
    X509_REQ_set_pubkey(req, key);
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, sans);
    if (ext && sk_X509_EXTENSION_push(exts, ext) && X509_REQ_add_extensions(req, exts) &&
        X509_REQ_sign(req, key, EVP_sha256())) {
        int dl = i2d_X509_REQ(req, NULL);
        if (dl > 0) {
            der = xmalloc((size_t)dl);
            uint8_t *p = der;
            *len = (size_t)i2d_X509_REQ(req, &p);
        }
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
    return der;
}

static int finalize(struct session *s, const char *order_url, struct acme_order *o, EVP_PKEY *cert_key)
{
    size_t csrlen = 0;
    uint8_t *csr = make_csr(cert_key, s->p->domains, s->p->ndomains, &csrlen);
    char payload[PAYLOAD_MAX];
    int n = csr ? acme_build_finalize(csr, csrlen, payload, sizeof(payload)) : -1;
    xfree(csr);
    if (n < 0)
        return fail(s, "cannot build the certificate request%s%s", "", "");
    struct https_response r;
    if (post(s, o->finalize, payload, &r) < 0)
        return -1;
    https_response_free(&r);
    if (poll_until(s, order_url, parse_order, o, order_status) < 0)
        return -1;
    if (o->status != ACME_ST_VALID || !o->certificate[0])
        return fail(s, "the order ended %s%s", acme_status_name(o->status), "");
    return 0;
}

/* Checks the chain's first certificate against key and domains, then
 * writes key and chain as one file (one rename replaces both). */
static int store(struct session *s, const struct https_response *r, EVP_PKEY *cert_key)
{
    BIO *b = BIO_new_mem_buf(r->body, (int)r->body_len);
    X509 *leaf = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    int rc = -1;
    if (!leaf || X509_check_private_key(leaf, cert_key) != 1) {
        fail(s, "the CA sent no certificate for our key%s%s", "", "");
        goto out;
    }
    for (int i = 0; i < s->p->ndomains; i++) {
        if (X509_check_host(leaf, s->p->domains[i], 0, 0, NULL) != 1) {
            fail(s, "the CA's certificate does not name %s%s", s->p->domains[i], "");
            goto out;
        }
    }
    size_t klen = 0;
    char *pem = key_pem(cert_key, &klen);
    char *both = pem ? xmalloc(klen + r->body_len + 1) : NULL;
    if (both) {
        memcpy(both, pem, klen);
        memcpy(both + klen, r->body, r->body_len);
    }
    if (!both || write_file(s->p->pem_path, both, klen + r->body_len, 0600) < 0)
        fail(s, "cannot write %s: %s", s->p->pem_path, strerror(errno));
    else
        rc = 0;
    xfree(both);
    xfree(pem);
out:
    X509_free(leaf);
    ERR_clear_error();
    return rc;
}

static int order(struct session *s)
{
    char payload[PAYLOAD_MAX], order_url[ACME_URL_MAX];
    if (acme_build_new_order(s->p->domains, s->p->ndomains, payload, sizeof(payload)) < 0)
        return fail(s, "not a domain name tincan can ask for: %s%s", s->p->domains[0], "");
    struct https_response r;
    struct acme_order o;
    if (post(s, s->dir.new_order, payload, &r) < 0)
        return -1;
    int bad = acme_parse_order(r.body, r.body_len, &o);
    snprintf(order_url, sizeof(order_url), "%s", r.location);
    https_response_free(&r);
    if (bad || !order_url[0] || strchr(order_url, '"') || strchr(order_url, '\\'))
        return fail(s, "unexpected answer to the new order%s%s", "", "");
    for (int i = 0; i < o.nauthz; i++) {
        if (authorize(s, o.authz[i]) < 0)
            return -1;
    }
    EVP_PKEY *cert_key = EVP_EC_gen("P-256");
    int rc = cert_key ? finalize(s, order_url, &o, cert_key) : -1;
    if (rc == 0)
        rc = post(s, o.certificate, NULL, &r);
    if (rc == 0) {
        rc = store(s, &r, cert_key);
        https_response_free(&r);
    }
    EVP_PKEY_free(cert_key);
    return rc;
}

int acme_obtain(const struct acme_params *p, char *err, size_t errlen)
{
    struct session s = { .p = p, .err = err, .errlen = errlen };
    char jwk[200];
    err[0] = '\0';
    s.key = account_key(p->account_key_path, err, errlen);
    if (!s.key)
        return -1;
    int rc = -1;
    if (jws_jwk(s.key, jwk, sizeof(jwk)) < 0 || jws_thumbprint(jwk, s.thumb) < 0) {
        fail(&s, "account key %s is not a P-256 key%s", p->account_key_path, "");
        goto out;
    }
    if (get_directory(&s) < 0 || new_account(&s) < 0 || order(&s) < 0)
        goto out;
    rc = 0;
out:
    chall_clear();
    EVP_PKEY_free(s.key);
    ERR_clear_error();
    return rc;
}

static long long asn1_unix(const ASN1_TIME *t, int *ok)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        *ok = 0;
        return 0;
    }
    return (long long)timegm(&tm);
}

enum acme_cert_fit acme_cert_check(const char *pem_path, char *const *domains, int ndomains, long long *not_before,
                                   long long *not_after)
{
    FILE *f = fopen(pem_path, "r");
    X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        rewind(f);
    EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    enum acme_cert_fit fit = ACME_CERT_NONE;
    int ok = 1;
    if (!cert || !key || X509_check_private_key(cert, key) != 1 || ndomains < 1)
        goto out;
    *not_before = asn1_unix(X509_get0_notBefore(cert), &ok);
    *not_after = asn1_unix(X509_get0_notAfter(cert), &ok);
    if (!ok || X509_check_host(cert, domains[0], 0, 0, NULL) != 1)
        goto out;
    fit = ACME_CERT_ALL;
    for (int i = 1; i < ndomains; i++) {
        if (X509_check_host(cert, domains[i], 0, 0, NULL) != 1)
            fit = ACME_CERT_FIRST;
    }
out:
    X509_free(cert);
    EVP_PKEY_free(key);
    ERR_clear_error();
    return fit;
}

const char *acme_directory_url(const char *custom, int staging)
{
    return custom ? custom : staging ? ACME_LE_STAGING : ACME_LE_PRODUCTION;
}

int acme_ca_dir(const char *data_dir, const char *directory, char *out, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char hex[ACME_HASH_HEX + 1];
    if (EVP_Digest(directory, strlen(directory), md, &mdlen, EVP_sha256(), NULL) != 1)
        return -1;
    for (int i = 0; i < ACME_HASH_HEX / 2; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    int n = snprintf(out, len, "%s/acme/%s", data_dir, hex);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

long long acme_renew_in(long long now, long long not_before, long long not_after, int renew_days)
{
    long long before = (long long)renew_days * 86400;
    long long life = not_after - not_before;
    if (life > 0 && life / 3 < before)
        before = life / 3;
    return not_after - before - now;
}
