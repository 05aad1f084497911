/*
 * test_acme — the pure parts of the ACME client (src/acme): base64url,
 * JWK and thumbprint (RFC 7638's example), key authorization, ES256 JWS,
 * the JSON parsers and builders, the HTTPS response parser and the
 * TLS-ALPN-01 certificate (RFC 8737).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "acme/acme.h"
#include "acme/chall.h"
#include "acme/https.h"
#include "acme/jws.h"
#include "acme/msg.h"
#include "base/conf.h"

#define P(s) (const uint8_t *)(s), strlen(s)

static void test_b64url(void **state)
{
    (void)state;
    /* RFC 4648 §10 vectors, URL alphabet, no padding. */
    static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const out[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
    char buf[16];
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        assert_int_equal(jws_b64url((const uint8_t *)in[i], strlen(in[i]), buf, sizeof(buf)), (int)strlen(out[i]));
        assert_string_equal(buf, out[i]);
    }
    const uint8_t hi[] = { 0xfb, 0xff, 0xbf };
    jws_b64url(hi, 3, buf, sizeof(buf));
    assert_string_equal(buf, "-_-_");
    assert_int_equal(jws_b64url((const uint8_t *)"foobar", 6, buf, 8), -1); /* 8 characters need 9 bytes */
}

static void test_thumbprint_rfc7638(void **state)
{
    (void)state;
    /* RFC 7638 §3.1: the canonical JWK of the example RSA key. */
    const char *jwk =
        "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1"
        "RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR"
        "0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4"
        "lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\"}";
    char tp[JWS_THUMBPRINT_LEN + 1];
    assert_int_equal(jws_thumbprint(jwk, tp), 0);
    assert_string_equal(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

static EVP_PKEY *known_p256(void)
{
    /* SubjectPublicKeyInfo of a P-256 key whose JWK x/y are published
     * alongside it (webpki test data). */
    static const char b64[] = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGRgbhKB9Mw1lDKJFMbD/HsBvHR9235X7zF2SxHkDiOWKzGmrFLHoAASZl+Avkd69Lrt6N+b/gdywHzzdNRpxyw==";
    uint8_t der[128];
    int n = EVP_DecodeBlock(der, (const uint8_t *)b64, (int)strlen(b64));
    const uint8_t *p = der;
    return d2i_PUBKEY(NULL, &p, n - 1); /* one '=' of padding decodes as a zero byte */
}

static void test_jwk_p256(void **state)
{
    (void)state;
    EVP_PKEY *key = known_p256();
    assert_non_null(key);
    char jwk[200];
    assert_true(jws_jwk(key, jwk, sizeof(jwk)) > 0);
    assert_string_equal(jwk, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"GRgbhKB9Mw1lDKJFMbD_HsBvHR9235X7zF2SxHkDiOU\","
                             "\"y\":\"isxpqxSx6AAEmZfgL5HevS67ejfm_4HcsB883TUaccs\"}");
    assert_int_equal(jws_jwk(key, jwk, 20), -1);
    EVP_PKEY_free(key);
    EVP_PKEY *rsa = EVP_RSA_gen(1024);
    assert_int_equal(jws_jwk(rsa, jwk, sizeof(jwk)), -1);
    EVP_PKEY_free(rsa);
}

static void test_key_authorization(void **state)
{
    (void)state;
    char out[256];
    /* RFC 8555 §8.1: token || '.' || base64url(Thumbprint(accountKey)). */
    assert_int_equal(jws_key_authorization("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
                                           "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", out, sizeof(out)),
                     87);
    assert_string_equal(out, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    assert_int_equal(jws_key_authorization("../etc/passwd", "x", out, sizeof(out)), -1);
    assert_int_equal(jws_key_authorization("a b", "x", out, sizeof(out)), -1);
    assert_int_equal(jws_key_authorization("", "x", out, sizeof(out)), -1);
    assert_int_equal(jws_key_authorization("abc", "x", out, 4), -1);
}

/* Decodes base64url (no padding) with OpenSSL's base64. */
static size_t b64url_decode(const char *in, size_t n, uint8_t *out)
{
    char tmp[4096] = "";
    size_t i;
    for (i = 0; i < n; i++)
        tmp[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    while (i % 4)
        tmp[i++] = '=';
    int len = EVP_DecodeBlock(out, (const uint8_t *)tmp, (int)i);
    return (size_t)len - (n % 4 == 2 ? 2 : n % 4 == 3 ? 1 : 0);
}

/* Verifies a flattened JWS with key; returns the decoded protected header. */
static json_t *verify_jws(const char *text, EVP_PKEY *key, char *payload_out)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    assert_non_null(j);
    const char *prot = json_string_value(json_object_get(j, "protected"));
    const char *pay = json_string_value(json_object_get(j, "payload"));
    const char *sig = json_string_value(json_object_get(j, "signature"));
    assert_non_null(prot);
    assert_non_null(pay);
    assert_non_null(sig);
    uint8_t raw[128], head[2048];
    assert_int_equal(b64url_decode(sig, strlen(sig), raw), 64);
    ECDSA_SIG *es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
    uint8_t *der = NULL;
    int derlen = i2d_ECDSA_SIG(es, &der);
    char input[4096];
    snprintf(input, sizeof(input), "%s.%s", prot, pay);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestVerify(md, der, (size_t)derlen, (const uint8_t *)input, strlen(input)), 1);
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    size_t pl = b64url_decode(pay, strlen(pay), (uint8_t *)payload_out);
    payload_out[pl] = '\0';
    size_t hl = b64url_decode(prot, strlen(prot), head);
    json_t *h = json_loadb((const char *)head, hl, 0, &err);
    assert_non_null(h);
    json_decref(j);
    return h;
}

static void test_jws_sign(void **state)
{
    (void)state;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    char payload[1024];
    char *jws = jws_sign(key, NULL, "nonce-1", "https://ca.test/new-acct", "{\"termsOfServiceAgreed\":true}");
    assert_non_null(jws);
    json_t *h = verify_jws(jws, key, payload);
    assert_string_equal(payload, "{\"termsOfServiceAgreed\":true}");
    assert_string_equal(json_string_value(json_object_get(h, "alg")), "ES256");
    assert_string_equal(json_string_value(json_object_get(h, "nonce")), "nonce-1");
    assert_string_equal(json_string_value(json_object_get(h, "url")), "https://ca.test/new-acct");
    assert_string_equal(json_string_value(json_object_get(json_object_get(h, "jwk"), "crv")), "P-256");
    assert_null(json_object_get(h, "kid"));
    json_decref(h);
    free(jws);
    /* With a kid and an empty payload (POST-as-GET). */
    jws = jws_sign(key, "https://ca.test/acct/1", "n2", "https://ca.test/order/1", NULL);
    h = verify_jws(jws, key, payload);
    assert_string_equal(payload, "");
    assert_string_equal(json_string_value(json_object_get(h, "kid")), "https://ca.test/acct/1");
    assert_null(json_object_get(h, "jwk"));
    json_decref(h);
    free(jws);
    /* A nonce that would break out of the header is refused. */
    assert_null(jws_sign(key, NULL, "a\"b", "https://ca.test/x", NULL));
    EVP_PKEY_free(key);
}

static void test_es256_raw(void **state)
{
    (void)state;
    uint8_t out[64];
    const uint8_t der[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02 };
    assert_int_equal(jws_es256_raw(der, sizeof(der), out), 0);
    assert_int_equal(out[31], 1);
    assert_int_equal(out[63], 2);
    assert_int_equal(out[0], 0);
    const uint8_t trailing[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00 };
    assert_int_equal(jws_es256_raw(trailing, sizeof(trailing), out), -1);
    assert_int_equal(jws_es256_raw(der, 5, out), -1);
}

static void test_parse_directory(void **state)
{
    (void)state;
    struct acme_directory d;
    /* What pebble 2.4 answers on /dir. */
    const char *dir = "{\"keyChange\":\"https://127.0.0.1:14000/rollover-account-key\",\"meta\":{\"externalAccountRequired\":"
                      "false,\"termsOfService\":\"data:text/plain,Do%20what%20thou%20wilt\"},\"newAccount\":"
                      "\"https://127.0.0.1:14000/sign-me-up\",\"newNonce\":\"https://127.0.0.1:14000/nonce-plz\","
                      "\"newOrder\":\"https://127.0.0.1:14000/order-plz\",\"revokeCert\":\"https://127.0.0.1:14000/revoke-cert\"}";
    assert_int_equal(acme_parse_directory(P(dir), &d), 0);
    assert_string_equal(d.new_nonce, "https://127.0.0.1:14000/nonce-plz");
    assert_string_equal(d.new_account, "https://127.0.0.1:14000/sign-me-up");
    assert_string_equal(d.new_order, "https://127.0.0.1:14000/order-plz");
    assert_int_equal(acme_parse_directory(P("{\"newNonce\":\"https://x/n\",\"newAccount\":\"https://x/a\"}"), &d), -1);
    assert_int_equal(acme_parse_directory(P("[1,2]"), &d), -1);
    assert_int_equal(acme_parse_directory(P("{\"newNonce\":\"https://x/\\\"\",\"newAccount\":\"a\",\"newOrder\":\"o\"}"), &d), -1);
    assert_int_equal(acme_parse_directory(P("{\"newNonce\":1,\"newAccount\":\"a\",\"newOrder\":\"o\"}"), &d), -1);
}

static void test_parse_order(void **state)
{
    (void)state;
    struct acme_order o;
    /* RFC 8555 §7.1.3, trimmed. */
    const char *pending = "{\"status\":\"pending\",\"expires\":\"2016-01-05T14:09:07.99Z\",\"identifiers\":[{\"type\":\"dns\","
                          "\"value\":\"www.example.org\"},{\"type\":\"dns\",\"value\":\"example.org\"}],\"authorizations\":"
                          "[\"https://example.com/acme/authz/PAniVnsZcis\",\"https://example.com/acme/authz/r4HqLzrSrpI\"],"
                          "\"finalize\":\"https://example.com/acme/order/TOlocE8rfgo/finalize\"}";
    assert_int_equal(acme_parse_order(P(pending), &o), 0);
    assert_int_equal(o.status, ACME_ST_PENDING);
    assert_int_equal(o.nauthz, 2);
    assert_string_equal(o.authz[1], "https://example.com/acme/authz/r4HqLzrSrpI");
    assert_string_equal(o.finalize, "https://example.com/acme/order/TOlocE8rfgo/finalize");
    assert_string_equal(o.certificate, "");
    const char *valid = "{\"status\":\"valid\",\"authorizations\":[],\"finalize\":\"https://x/f\",\"certificate\":\"https://x/cert/1\"}";
    assert_int_equal(acme_parse_order(P(valid), &o), 0);
    assert_int_equal(o.status, ACME_ST_VALID);
    assert_string_equal(o.certificate, "https://x/cert/1");
    assert_int_equal(acme_parse_order(P("{\"status\":\"bogus\",\"authorizations\":[],\"finalize\":\"https://x/f\"}"), &o), -1);
    assert_int_equal(acme_parse_order(P("{\"status\":\"ready\",\"authorizations\":[1],\"finalize\":\"https://x/f\"}"), &o), -1);
    assert_int_equal(acme_parse_order(P("{\"status\":\"ready\",\"authorizations\":[]}"), &o), -1);
    char many[8192] = "{\"status\":\"ready\",\"finalize\":\"https://x/f\",\"authorizations\":[";
    for (int i = 0; i <= ACME_MAX_AUTHZ; i++)
        strcat(many, i ? ",\"https://x/a\"" : "\"https://x/a\"");
    strcat(many, "]}");
    assert_int_equal(acme_parse_order(P(many), &o), -1);
}

static void test_parse_authz(void **state)
{
    (void)state;
    struct acme_authz a;
    /* RFC 8555 §7.1.4 with a tls-alpn-01 challenge added and one unknown type. */
    const char *authz = "{\"status\":\"pending\",\"expires\":\"2016-01-02T14:09:30Z\",\"identifier\":{\"type\":\"dns\","
                        "\"value\":\"www.example.org\"},\"challenges\":[{\"type\":\"http-01\",\"url\":"
                        "\"https://example.com/acme/chall/prV_B7yEyA4\",\"token\":\"DGyRejmCefe7v4NfDGDKfA\"},"
                        "{\"type\":\"x-future-01\",\"url\":\"https://example.com/acme/chall/zzz\"},"
                        "{\"type\":\"tls-alpn-01\",\"url\":\"https://example.com/acme/chall/alpn\",\"token\":"
                        "\"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA\",\"status\":\"invalid\",\"error\":{\"type\":"
                        "\"urn:ietf:params:acme:error:connection\",\"detail\":\"Connection \\\"refused\\\"\\n\"}}]}";
    assert_int_equal(acme_parse_authz(P(authz), &a), 0);
    assert_int_equal(a.status, ACME_ST_PENDING);
    assert_string_equal(a.domain, "www.example.org");
    assert_int_equal(a.nch, 2);
    assert_int_equal(a.ch[0].type, ACME_CH_HTTP01);
    assert_string_equal(a.ch[0].token, "DGyRejmCefe7v4NfDGDKfA");
    assert_int_equal(a.ch[1].type, ACME_CH_TLSALPN01);
    assert_int_equal(a.ch[1].status, ACME_ST_INVALID);
    assert_string_equal(a.ch[1].error, "Connection _refused__");
    /* A token that is not base64url could reach a file name or a path. */
    const char *bad = "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},\"challenges\":"
                      "[{\"type\":\"http-01\",\"url\":\"https://x/c\",\"token\":\"../../x\"}]}";
    assert_int_equal(acme_parse_authz(P(bad), &a), -1);
    const char *ip = "{\"status\":\"pending\",\"identifier\":{\"type\":\"ip\",\"value\":\"1.2.3.4\"},\"challenges\":[]}";
    assert_int_equal(acme_parse_authz(P(ip), &a), -1);
    assert_int_equal(acme_parse_authz(P("{\"status\":\"valid\"}"), &a), -1);
}

static void test_parse_problem(void **state)
{
    (void)state;
    struct acme_problem p;
    assert_int_equal(acme_parse_problem(P("{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":\"JWS has an invalid anti-replay nonce\",\"status\":400}"), &p), 0);
    assert_string_equal(p.type, "urn:ietf:params:acme:error:badNonce");
    assert_string_equal(p.detail, "JWS has an invalid anti-replay nonce");
    assert_int_equal(acme_parse_problem(P("{\"status\":\"invalid\",\"error\":{\"type\":\"urn:x\",\"detail\":\"d\"}}"), &p), 0);
    assert_string_equal(p.type, "urn:x");
    assert_int_equal(acme_parse_problem(P("not json"), &p), -1);
    assert_string_equal(p.type, "");
}

static void test_retry_after(void **state)
{
    (void)state;
    assert_int_equal(acme_retry_after("5", 1, 10), 5);
    assert_int_equal(acme_retry_after("120", 1, 10), 10);
    assert_int_equal(acme_retry_after("0", 3, 10), 1);
    assert_int_equal(acme_retry_after("Fri, 31 Dec 1999 23:59:59 GMT", 2, 10), 2);
    assert_int_equal(acme_retry_after("-4", 2, 10), 2);
    assert_int_equal(acme_retry_after("4x", 2, 10), 2);
    assert_int_equal(acme_retry_after(NULL, 2, 10), 2);
}

static void test_builders(void **state)
{
    (void)state;
    char out[512];
    assert_true(acme_build_new_account("me@example.com", out, sizeof(out)) > 0);
    assert_string_equal(out, "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:me@example.com\"]}");
    assert_true(acme_build_new_account(NULL, out, sizeof(out)) > 0);
    assert_string_equal(out, "{\"termsOfServiceAgreed\":true}");
    assert_int_equal(acme_build_new_account("no-at-sign", out, sizeof(out)), -1);
    char *domains[] = { "call.example.com", "www.example.com" };
    assert_true(acme_build_new_order(domains, 2, out, sizeof(out)) > 0);
    assert_string_equal(out, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"call.example.com\"},{\"type\":\"dns\","
                             "\"value\":\"www.example.com\"}]}");
    char *bad[] = { "a..b" };
    assert_int_equal(acme_build_new_order(bad, 1, out, sizeof(out)), -1);
    assert_int_equal(acme_build_new_order(domains, 2, out, 20), -1);
    const uint8_t csr[] = { 0xfb, 0xff, 0x00 };
    assert_true(acme_build_finalize(csr, sizeof(csr), out, sizeof(out)) > 0);
    assert_string_equal(out, "{\"csr\":\"-_8A\"}");
    assert_true(acme_domain_ok("xn--bcher-kva.example"));
    assert_false(acme_domain_ok("*.example.com"));
    assert_false(acme_domain_ok("example.com."));
    assert_false(acme_domain_ok("a_b.example"));
    assert_false(acme_domain_ok(""));
}

static void test_https_url(void **state)
{
    (void)state;
    struct https_url u;
    assert_int_equal(https_parse_url("https://acme-v02.api.letsencrypt.org/directory", &u), 0);
    assert_string_equal(u.host, "acme-v02.api.letsencrypt.org");
    assert_string_equal(u.port, "443");
    assert_string_equal(u.path, "/directory");
    assert_int_equal(https_parse_url("https://127.0.0.1:14000", &u), 0);
    assert_string_equal(u.port, "14000");
    assert_string_equal(u.path, "/");
    assert_int_equal(https_parse_url("https://[::1]:14000/dir", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(https_parse_url("http://x/dir", &u), -1);
    assert_int_equal(https_parse_url("https://x:99a/dir", &u), -1);
    assert_int_equal(https_parse_url("https://:1/dir", &u), -1);
    assert_int_equal(https_parse_url("https://x?y", &u), -1);
}

static void test_https_response(void **state)
{
    (void)state;
    struct https_response r;
    const char *cl = "HTTP/1.1 201 Created\r\nReplay-Nonce: abc_DEF\r\nlocation:  https://x/acct/1 \r\n"
                     "Retry-After: 3\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    assert_int_equal(https_parse_response(P(cl), &r), 0);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.nonce, "abc_DEF");
    assert_string_equal(r.location, "https://x/acct/1");
    assert_string_equal(r.retry_after, "3");
    assert_string_equal((char *)r.body, "{}");
    https_response_free(&r);
    const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n6;x=y\r\npedia \r\n0\r\n\r\n";
    assert_int_equal(https_parse_response(P(chunked), &r), 0);
    assert_int_equal(r.body_len, 10);
    assert_string_equal((char *)r.body, "Wikipedia ");
    https_response_free(&r);
    const char *eof = "HTTP/1.0 204 No Content\nReplay-Nonce: n\n\n";
    assert_int_equal(https_parse_response(P(eof), &r), 0);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.body_len, 0);
    https_response_free(&r);
    assert_int_equal(https_parse_response(P("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"), &r), -1);
    assert_int_equal(https_parse_response(P("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nab"), &r), -1);
    assert_int_equal(https_parse_response(P("HTTP/1.1 200 OK\r\nno colon\r\n\r\n"), &r), -1);
    assert_int_equal(https_parse_response(P("SSH-2.0-x\r\n\r\n"), &r), -1);
    assert_int_equal(https_parse_response(P("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"), &r), -1);
}

static void test_alpn_cert(void **state)
{
    (void)state;
    X509 *cert;
    EVP_PKEY *key;
    const char *ka = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    assert_int_equal(chall_alpn_cert("call.example.com", ka, &cert, &key), 0);
    assert_int_equal(X509_check_host(cert, "call.example.com", 0, 0, NULL), 1);
    assert_int_equal(X509_check_private_key(cert, key), 1);
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    int at = X509_get_ext_by_OBJ(cert, oid, -1);
    assert_true(at >= 0);
    X509_EXTENSION *ext = X509_get_ext(cert, at);
    assert_int_equal(X509_EXTENSION_get_critical(ext), 1);
    ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
    uint8_t want[34] = { 0x04, 0x20 };
    SHA256((const uint8_t *)ka, strlen(ka), want + 2);
    assert_int_equal(ASN1_STRING_length(v), 34);
    assert_memory_equal(ASN1_STRING_get0_data(v), want, 34);
    ASN1_OBJECT_free(oid);
    X509_free(cert);
    EVP_PKEY_free(key);
}

static void test_chall_table(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(chall_http_lookup("tok", out, sizeof(out)), -1);
    assert_int_equal(chall_add_http("tok", "tok.thumb"), 0);
    assert_int_equal(chall_http_lookup("tok", out, sizeof(out)), 9);
    assert_string_equal(out, "tok.thumb");
    assert_int_equal(chall_http_lookup("tok", out, 4), -1);
    assert_int_equal(chall_add_alpn("a.test", "tok2.thumb"), 0);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL *ssl = SSL_new(ctx);
    assert_int_equal(chall_alpn_use(ssl, "A.TEST"), 0);
    assert_int_equal(chall_alpn_use(ssl, "b.test"), -1);
    assert_int_equal(chall_alpn_use(ssl, NULL), -1);
    chall_remove("tok", NULL);
    assert_int_equal(chall_http_lookup("tok", out, sizeof(out)), -1);
    assert_int_equal(chall_alpn_use(ssl, "a.test"), 0);
    chall_clear();
    assert_int_equal(chall_alpn_use(ssl, "a.test"), -1);
    for (int i = 0; i < CHALL_MAX; i++)
        assert_int_equal(chall_add_http("t", "t.x"), 0);
    assert_int_equal(chall_add_http("t", "t.x"), -1);
    chall_clear();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

/* The ACME options (src/base/conf.c rows): lists, defaults, ranges. */
static void test_conf_options(void **state)
{
    (void)state;
    struct conf c;
    char err[256];
    conf_init(&c);
    assert_int_equal(c.acme_renew_days, 30);
    assert_int_equal(c.http_port, 0);
    assert_null(c.acme_directory);
    char *argv[] = { "tincan", "--domain", "call.example.com", "--domain=www.example.com", "--acme-email",
                     "me@example.com", "--acme-staging", "--http-port", "80", "--acme-renew-days", "60",
                     "--acme-ca-cert", "/tmp/ca.pem", "--acme-directory", "https://ca.test/dir" };
    assert_int_equal(conf_parse_args(&c, sizeof(argv) / sizeof(argv[0]), argv, err, sizeof(err)), 0);
    assert_int_equal(c.domain.count, 2);
    assert_string_equal(c.domain.items[0], "call.example.com");
    assert_string_equal(c.domain.items[1], "www.example.com");
    assert_string_equal(c.acme_email, "me@example.com");
    assert_int_equal(c.acme_staging, 1);
    assert_int_equal(c.http_port, 80);
    assert_int_equal(c.acme_renew_days, 60);
    assert_string_equal(c.acme_ca_cert, "/tmp/ca.pem");
    assert_string_equal(c.acme_directory, "https://ca.test/dir");
    assert_int_equal(conf_set(&c, "acme-renew-days", "0", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "acme-renew-days"));
    assert_int_equal(conf_set(&c, "http-port", "65536", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "http-port"));
    assert_int_equal(conf_parse_file_text(&c, "domain = a.example, b.example\n", "f", err, sizeof(err)), 0);
    assert_int_equal(c.domain.count, 4);
    conf_cleanup(&c);
}

static void test_renew_schedule(void **state)
{
    (void)state;
    const long long day = 86400, t0 = 1700000000;
    /* Let's Encrypt's 90 days, --acme-renew-days 30: renew 30 days before. */
    assert_int_equal(acme_renew_in(t0, t0, t0 + 90 * day, 30), 60 * day);
    /* 10-day certificate: one third of the lifetime before expiry, not at once. */
    assert_true(acme_renew_in(t0, t0, t0 + 10 * day, 30) > 6 * day);
    assert_int_equal(acme_renew_in(t0, t0, t0 + 9 * day, 30), 6 * day);
    /* LE's 6-day profile, a day in. */
    assert_int_equal(acme_renew_in(t0 + day, t0, t0 + 6 * day, 30), 3 * day);
    /* Overdue and expired are <= 0. */
    assert_true(acme_renew_in(t0 + 70 * day, t0, t0 + 90 * day, 30) <= 0);
    assert_true(acme_renew_in(t0 + 91 * day, t0, t0 + 90 * day, 30) < 0);
    /* A short --acme-renew-days wins over one third. */
    assert_int_equal(acme_renew_in(t0, t0, t0 + 90 * day, 7), 83 * day);
    /* Broken validity (notBefore after notAfter): renew-days only. */
    assert_int_equal(acme_renew_in(t0, t0 + 90 * day, t0 + 60 * day, 30), 30 * day);
}

static void test_ca_dir(void **state)
{
    (void)state;
    char a[256], b[256], c[256];
    assert_int_equal(acme_ca_dir("/d", acme_directory_url(NULL, 0), a, sizeof(a)), 0);
    assert_int_equal(acme_ca_dir("/d", acme_directory_url(NULL, 1), b, sizeof(b)), 0);
    assert_int_equal(acme_ca_dir("/d", "https://127.0.0.1:14000/dir", c, sizeof(c)), 0);
    assert_int_equal(strlen(a), strlen("/d/acme/") + ACME_HASH_HEX);
    assert_memory_equal(a, "/d/acme/", 8);
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_equal(acme_directory_url("https://x/dir", 1), "https://x/dir");
    assert_int_equal(acme_ca_dir("/d", "https://x/dir", a, 10), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url),         cmocka_unit_test(test_thumbprint_rfc7638),
        cmocka_unit_test(test_jwk_p256),       cmocka_unit_test(test_key_authorization),
        cmocka_unit_test(test_jws_sign),       cmocka_unit_test(test_es256_raw),
        cmocka_unit_test(test_parse_directory), cmocka_unit_test(test_parse_order),
        cmocka_unit_test(test_parse_authz),    cmocka_unit_test(test_parse_problem),
        cmocka_unit_test(test_retry_after),    cmocka_unit_test(test_builders),
        cmocka_unit_test(test_https_url),      cmocka_unit_test(test_https_response),
        cmocka_unit_test(test_alpn_cert),      cmocka_unit_test(test_chall_table),
        cmocka_unit_test(test_conf_options),   cmocka_unit_test(test_renew_schedule),
        cmocka_unit_test(test_ca_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
