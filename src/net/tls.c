/*
 * tls — server contexts and the self-signed certificate (see tls.h).
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SELF_SIGNED_DAYS 397

/* TLS 1.2 suites: forward secrecy (ECDHE) and an AEAD only, for ECDSA and
 * RSA certificates. TLS 1.3 suites are OpenSSL's (all of them are AEADs with
 * (EC)DHE). Anything else (RSA key exchange, DHE, CBC, CCM, SHA-1 MACs) is
 * refused with a handshake failure. */
#define TLS12_CIPHERS                                                                    \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                         \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                         \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define RENEW_BEFORE_S (30L * 86400)

static void ssl_error(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char detail[256] = "";
    if (e)
        ERR_error_string_n(e, detail, sizeof(detail));
    snprintf(err, errlen, "%s%s%s", what, e ? ": " : "", detail);
    ERR_clear_error();
}

static tls_challenge_fn challenge_hook;
static long long served_not_after = -1;

void tls_set_challenge_hook(tls_challenge_fn fn)
{
    challenge_hook = fn;
}

int tls_is_acme_challenge(SSL *ssl)
{
    const unsigned char *p = NULL;
    unsigned int n = 0;
    SSL_get0_alpn_selected(ssl, &p, &n);
    return n == 10 && memcmp(p, "acme-tls/1", 10) == 0;
}

void tls_note_served(SSL_CTX *ctx)
{
    served_not_after = tls_ctx_not_after(ctx);
}

long long tls_cert_not_after(void)
{
    return served_not_after;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)arg;
    /* RFC 8737 §3: the validation client offers "acme-tls/1" and nothing
     * else; the certificate is switched before it is sent. */
    if (challenge_hook && inlen == 11 && memcmp(in, "\x0a" "acme-tls/1", 11) == 0 &&
        challenge_hook(ssl, SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) == 0) {
        *out = in + 1;
        *outlen = 10;
        return SSL_TLSEXT_ERR_OK;
    }
    static const unsigned char http11[] = "\x08http/1.1";
    if (SSL_select_next_proto((unsigned char **)out, outlen, http11, sizeof(http11) - 1, in, inlen) ==
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK; /* e.g. a TURN client offering "stun.turn": go on without ALPN */
}

SSL_CTX *tls_ctx_load(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        ssl_error(err, errlen, "cannot create TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        ssl_error(err, errlen, "cannot set the TLS 1.2 cipher list");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* Idle connections give their 16 KiB record buffers back. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* Read whole records (and what follows) in one system call. */
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        char what[512];
        snprintf(what, sizeof(what), "cannot read certificate %s", cert_path);
        ssl_error(err, errlen, what);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        char what[512];
        snprintf(what, sizeof(what), "cannot use key %s with certificate %s", key_path, cert_path);
        ssl_error(err, errlen, what);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int tls_ctx_fingerprint(SSL_CTX *ctx, char out[TLS_FINGERPRINT_LEN])
{
    X509 *cert = SSL_CTX_get0_certificate(ctx);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!cert || X509_digest(cert, EVP_sha256(), md, &n) != 1)
        return -1;
    for (unsigned i = 0; i < n; i++)
        snprintf(out + 3 * i, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
    return 0;
}

long long tls_ctx_not_after(SSL_CTX *ctx)
{
    X509 *cert = SSL_CTX_get0_certificate(ctx);
    struct tm tm;
    if (!cert || ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
        return -1;
    return (long long)timegm(&tm);
}

/* --- the self-signed certificate --- */

/* Appends "DNS:name" or "IP:addr" to the comma-separated SAN list. */
static void san_add(char *list, size_t len, const char *name)
{
    unsigned char tmp[16];
    int is_ip = inet_pton(AF_INET, name, tmp) == 1 || inet_pton(AF_INET6, name, tmp) == 1;
    char entry[300];
    snprintf(entry, sizeof(entry), "%s:%s", is_ip ? "IP" : "DNS", name);
    /* skip duplicates */
    size_t el = strlen(entry);
    for (const char *p = list; (p = strstr(p, entry)) != NULL; p += el) {
        if ((p == list || p[-1] == ',') && (p[el] == ',' || p[el] == '\0'))
            return;
    }
    if (strlen(list) + el + 2 >= len)
        return;
    if (*list)
        strcat(list, ",");
    strcat(list, entry);
}

static void san_add_interfaces(char *list, size_t len)
{
    struct ifaddrs *ifs, *i;
    if (getifaddrs(&ifs) < 0)
        return;
    for (i = ifs; i; i = i->ifa_next) {
        char addr[INET6_ADDRSTRLEN];
        if (!i->ifa_addr)
            continue;
        if (i->ifa_addr->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, addr, sizeof(addr));
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            struct in6_addr *a6 = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
            if (IN6_IS_ADDR_LINKLOCAL(a6))
                continue; /* needs a zone; a browser cannot use it in a URL */
            inet_ntop(AF_INET6, a6, addr, sizeof(addr));
        } else {
            continue;
        }
        san_add(list, len, addr);
    }
    freeifaddrs(ifs);
}

static void build_san_list(char *list, size_t len, char *const *sans, int nsans)
{
    list[0] = '\0';
    san_add(list, len, "localhost");
    san_add(list, len, "127.0.0.1");
    san_add(list, len, "::1");
    char host[256];
    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        san_add(list, len, host);
    }
    san_add_interfaces(list, len);
    for (int i = 0; i < nsans; i++)
        san_add(list, len, sans[i]);
}

static int add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static X509 *make_cert(EVP_PKEY *key, const char *san_list)
{
    X509 *cert = X509_new();
    unsigned char serial[16];
    FILE *ur = fopen("/dev/urandom", "rb");
    if (!ur || fread(serial, 1, sizeof(serial), ur) != sizeof(serial)) {
        if (ur)
            fclose(ur);
        X509_free(cert);
        return NULL;
    }
    fclose(ur);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
    BN_free(bn);
    X509_set_version(cert, 2);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), (long)SELF_SIGNED_DAYS * 86400);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"tincan", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"tincan self-signed", -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_set_pubkey(cert, key);
    int rc = add_ext(cert, NID_subject_alt_name, san_list);
    rc |= add_ext(cert, NID_basic_constraints, "critical,CA:FALSE");
    rc |= add_ext(cert, NID_key_usage, "critical,digitalSignature");
    rc |= add_ext(cert, NID_ext_key_usage, "serverAuth");
    if (rc || !X509_sign(cert, key, EVP_sha256())) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

static int write_pem(const char *path, int mode, int (*write)(FILE *, void *), void *obj)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    unlink(tmp);
    FILE *f = NULL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0)
        f = fdopen(fd, "w");
    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int ok = write(f, obj);
    if (fclose(f) != 0 || !ok || rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int write_key(FILE *f, void *key)
{
    return PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
}

static int write_cert(FILE *f, void *cert)
{
    return PEM_write_X509(f, cert);
}

/* True if the certificate at path exists and is valid for another month. */
static int cert_still_good(const char *cert_path, const char *key_path)
{
    if (access(key_path, R_OK) != 0)
        return 0;
    FILE *f = fopen(cert_path, "r");
    if (!f)
        return 0;
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!cert)
        return 0;
    time_t soon = time(NULL) + RENEW_BEFORE_S;
    int good = X509_cmp_time(X509_get0_notAfter(cert), &soon) > 0;
    X509_free(cert);
    return good;
}

static int ensure_dir(const char *dir)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

int tls_selfsigned_ensure(const char *data_dir, char *const *sans, int nsans,
                          char *cert_path, char *key_path, size_t pathlen, char *err, size_t errlen)
{
    snprintf(cert_path, pathlen, "%s/cert.pem", data_dir);
    snprintf(key_path, pathlen, "%s/key.pem", data_dir);
    if (ensure_dir(data_dir) < 0) {
        snprintf(err, errlen, "cannot create data dir %s: %s", data_dir, strerror(errno));
        return -1;
    }
    if (cert_still_good(cert_path, key_path))
        return 0;
    char san_list[4096];
    build_san_list(san_list, sizeof(san_list), sans, nsans);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = key ? make_cert(key, san_list) : NULL;
    int rc = -1;
    if (!cert)
        ssl_error(err, errlen, "cannot create self-signed certificate");
    else if (write_pem(key_path, 0600, write_key, key) < 0 || write_pem(cert_path, 0644, write_cert, cert) < 0)
        snprintf(err, errlen, "cannot write certificate into %s: %s", data_dir, strerror(errno));
    else
        rc = 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}
