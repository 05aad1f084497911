/*
 * chall — pending ACME challenges and TLS-ALPN-01 certificates (see chall.h).
 */
#include "chall.h"

#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "msg.h"

struct entry {
    int used;
    char token[ACME_TOKEN_MAX];
    char domain[ACME_NAME_MAX + 1];
    char keyauth[ACME_TOKEN_MAX + 64];
    X509 *cert;      /* TLS-ALPN-01 only */
    EVP_PKEY *key;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry table[CHALL_MAX];

static void entry_clear(struct entry *e)
{
    X509_free(e->cert);
    EVP_PKEY_free(e->key);
    memset(e, 0, sizeof(*e));
}

/* Takes a free slot; the lock is held. */
static struct entry *slot(void)
{
    for (int i = 0; i < CHALL_MAX; i++) {
        if (!table[i].used)
            return &table[i];
    }
    return NULL;
}

int chall_add_http(const char *token, const char *key_authorization)
{
    if (strlen(token) >= ACME_TOKEN_MAX || strlen(key_authorization) >= ACME_TOKEN_MAX + 64)
        return -1;
    pthread_mutex_lock(&lock);
    struct entry *e = slot();
    if (e) {
        e->used = 1;
        strcpy(e->token, token);
        strcpy(e->keyauth, key_authorization);
    }
    pthread_mutex_unlock(&lock);
    return e ? 0 : -1;
}

static int add_acme_identifier(X509 *cert, const char *key_authorization)
{
    /* extnValue holds the DER of an OCTET STRING of the 32-byte digest. */
    uint8_t der[2 + SHA256_DIGEST_LENGTH] = { 0x04, SHA256_DIGEST_LENGTH };
    SHA256((const uint8_t *)key_authorization, strlen(key_authorization), der + 2);
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    int rc = -1;
    if (oid && val && ASN1_OCTET_STRING_set(val, der, sizeof(der)) &&
        (ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, val)) != NULL && X509_add_ext(cert, ext, -1))
        rc = 0;
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(val);
    ASN1_OBJECT_free(oid);
    return rc;
}

static int add_san(X509 *cert, const char *domain)
{
    GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    int rc = -1;
    if (names && gn && ia5 && ASN1_STRING_set(ia5, domain, -1)) {
        GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
        ia5 = NULL;
        sk_GENERAL_NAME_push(names, gn);
        gn = NULL;
        rc = X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, 0) == 1 ? 0 : -1;
    }
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(names);
    return rc;
}

int chall_alpn_cert(const char *domain, const char *key_authorization, X509 **cert_out, EVP_PKEY **key_out)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    int rc = -1;
    if (!key || !cert)
        goto out;
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 7 * 86400);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"tincan acme challenge", -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_set_pubkey(cert, key);
    if (add_san(cert, domain) < 0 || add_acme_identifier(cert, key_authorization) < 0 ||
        !X509_sign(cert, key, EVP_sha256()))
        goto out;
    *cert_out = cert;
    *key_out = key;
    cert = NULL;
    key = NULL;
    rc = 0;
out:
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

int chall_add_alpn(const char *domain, const char *key_authorization)
{
    if (strlen(domain) > ACME_NAME_MAX || strlen(key_authorization) >= ACME_TOKEN_MAX + 64)
        return -1;
    X509 *cert;
    EVP_PKEY *key;
    if (chall_alpn_cert(domain, key_authorization, &cert, &key) < 0)
        return -1;
    pthread_mutex_lock(&lock);
    struct entry *e = slot();
    if (e) {
        e->used = 1;
        strcpy(e->domain, domain);
        strcpy(e->keyauth, key_authorization);
        e->cert = cert;
        e->key = key;
    }
    pthread_mutex_unlock(&lock);
    if (!e) {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    return e ? 0 : -1;
}

void chall_remove(const char *token, const char *domain)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < CHALL_MAX; i++) {
        struct entry *e = &table[i];
        if (e->used && ((token && strcmp(e->token, token) == 0) || (domain && e->cert && strcmp(e->domain, domain) == 0)))
            entry_clear(e);
    }
    pthread_mutex_unlock(&lock);
}

void chall_clear(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < CHALL_MAX; i++)
        entry_clear(&table[i]);
    pthread_mutex_unlock(&lock);
}

int chall_http_lookup(const char *token, char *out, size_t cap)
{
    int n = -1;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < CHALL_MAX && n < 0; i++) {
        struct entry *e = &table[i];
        if (e->used && !e->cert && e->token[0] && strcmp(e->token, token) == 0 && strlen(e->keyauth) < cap) {
            strcpy(out, e->keyauth);
            n = (int)strlen(out);
        }
    }
    pthread_mutex_unlock(&lock);
    return n;
}

int chall_alpn_use(SSL *ssl, const char *servername)
{
    int rc = -1;
    if (!servername)
        return -1;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < CHALL_MAX && rc < 0; i++) {
        struct entry *e = &table[i];
        /* DNS names compare without regard to case (RFC 4343). */
        if (e->used && e->cert && strcasecmp(e->domain, servername) == 0 && SSL_use_certificate(ssl, e->cert) == 1 &&
            SSL_use_PrivateKey(ssl, e->key) == 1)
            rc = 0;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}
