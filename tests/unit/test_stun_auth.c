/*
 * test_stun_auth — TURN credentials and nonces (src/stun/auth.c).
 *
 * Long-term keys are checked against digests computed independently and
 * against RFC 8489 Appendix B.1 (the SHA-256 sample request). The TURN REST
 * scheme is driven end to end: a client mints its password from the shared
 * secret, signs an Allocate request, and the server must accept it while the
 * username has not expired and only with the same secret. Nonces must stay
 * fresh for 600 s, then go stale, and never verify when forged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "stun/auth.h"
#include "stun/stun.h"
#include "unhex.h"

static const uint8_t txid[STUN_TXID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static const char lt_user[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";

/* RFC 8489 Appendix B.1: USERHASH, NONCE, REALM, PASSWORD-ALGORITHM SHA-256
 * and MESSAGE-INTEGRITY-SHA256 for user "マトリックス", password "TheMatrIX". */
static const char rfc_request_sha256[] =
    "00010090 2112a442 78ad3433 c6ad72c0 29da412e"
    "001e0020 4a3cf38f ef6992bd a952c678 0417da0f 24819415 569e60b2 05c46e41 407f1704"
    "00150029 6f624d61 744a6f73 32414141 43662f2f 3439396b 39353464 364f4c33 346f4c39"
    "46535476 79363473 41000000"
    "0014000b 6578616d 706c652e 6f726700"
    "001d0004 00020000"
    "001c0020 b5c7bf00 5b6c52a2 1c51c5e8 92f81924 136296cb 927c4314 9309278c c6518e65";

static void assert_hex(const uint8_t *p, size_t n, const char *hex)
{
    uint8_t want[64];
    assert_int_equal(unhex(hex, want), n);
    assert_memory_equal(p, want, n);
}

static struct stun_str S(const char *s)
{
    return auth_cstr(s);
}

static void test_long_term_keys(void **state)
{
    (void)state;
    uint8_t md5[AUTH_KEY_MD5_LEN], sha[AUTH_KEY_SHA256_LEN];
    assert_int_equal(auth_key_md5(S("user"), S("realm"), S("pass"), md5), 0);
    assert_hex(md5, 16, "8493fbc53ba582fb4c044c456bdc40eb");
    assert_int_equal(auth_key_sha256(S("user"), S("realm"), S("pass"), sha), 0);
    assert_hex(sha, 32, "07e934117abd40836e7c6329b54731b2b2d2a5f9a71f544922d75e0730d8251b");
    /* RFC 5769 §2.4's key: the username as UTF-8, the password after SASLprep. */
    assert_int_equal(auth_key_md5(S(lt_user), S("example.org"), S("TheMatrIX"), md5), 0);
    assert_hex(md5, 16, "e8ca7ad59d5eb0518e312911d2dab2a9");
}

static void test_rfc8489_sha256(void **state)
{
    (void)state;
    uint8_t v[256], key[AUTH_KEY_SHA256_LEN], md5[AUTH_KEY_MD5_LEN];
    size_t n = unhex(rfc_request_sha256, v);
    struct stun_msg m;
    assert_int_equal(n, 164);
    assert_int_equal(stun_msg_decode(v, n, &m), STUN_OK);
    assert_int_equal(stun_msg_integrity_type(&m), STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
    assert_int_equal(auth_key_sha256(S(lt_user), S("example.org"), S("TheMatrIX"), key), 0);
    assert_int_equal(stun_check_integrity(&m, key, sizeof(key)), 0);
    /* PASSWORD-ALGORITHM says SHA-256: the MD5 key must not verify. */
    assert_int_equal(auth_key_md5(S(lt_user), S("example.org"), S("TheMatrIX"), md5), 0);
    assert_int_equal(stun_check_integrity(&m, md5, sizeof(md5)), -EACCES);
}

static void test_rest_password(void **state)
{
    (void)state;
    char pw[AUTH_REST_PASSWORD_LEN + 1];
    /* base64(HMAC-SHA1("north-wind", "1700000000:alice")), as coturn computes it. */
    assert_int_equal(auth_rest_password(S("north-wind"), S("1700000000:alice"), pw), 0);
    assert_string_equal(pw, "Oko4dt8u/EbTRjRUJWQDFm/zTCc=");
    char user[64];
    assert_int_equal(auth_rest_credential(S("north-wind"), "alice", 1700000000, user, sizeof(user), pw), 0);
    assert_string_equal(user, "1700000000:alice");
    assert_string_equal(pw, "Oko4dt8u/EbTRjRUJWQDFm/zTCc=");
    assert_int_equal(auth_rest_credential(S("north-wind"), "", 1700000000, user, sizeof(user), pw), 0);
    assert_string_equal(user, "1700000000");
    assert_int_equal(auth_rest_credential(S("north-wind"), "alice", 1700000000, user, 16, pw), -ENOBUFS);
    assert_int_equal(auth_rest_credential(S("north-wind"), "alice", 1700000000, user, 17, pw), 0);
}

/* What a client does with the username and password it was given: signs
 * an Allocate request with them. Returns the message length. */
static size_t client_allocate(const char *user, const char *pass, uint8_t *out, size_t cap)
{
    uint8_t key[AUTH_KEY_MD5_LEN];
    struct stun_builder b;
    assert_int_equal(auth_key_md5(S(user), S("tincan"), S(pass), key), 0);
    stun_builder_init(&b, out, cap, stun_type(STUN_ALLOCATE, STUN_REQUEST), txid);
    stun_builder_add_requested_transport(&b, STUN_PROTO_UDP);
    stun_builder_add(&b, STUN_ATTR_USERNAME, user, strlen(user));
    stun_builder_add(&b, STUN_ATTR_REALM, "tincan", 6);
    stun_builder_add(&b, STUN_ATTR_NONCE, "n", 1);
    stun_builder_add_integrity(&b, key, sizeof(key));
    stun_builder_add_fingerprint(&b);
    int n = stun_builder_finish(&b);
    assert_true(n > 0);
    return (size_t)n;
}

/* What the server does with it: 0 if accepted, else why not. */
static int server_check(const char *secret, const uint8_t *msg, size_t n, uint64_t now)
{
    struct stun_msg m;
    struct stun_str user, realm;
    uint8_t key[AUTH_KEY_MD5_LEN];
    assert_int_equal(stun_msg_decode(msg, n, &m), STUN_OK);
    assert_int_equal(stun_msg_str(&m, STUN_ATTR_USERNAME, &user), 0);
    assert_int_equal(stun_msg_str(&m, STUN_ATTR_REALM, &realm), 0);
    enum auth_status st = auth_rest_key(S(secret), user, realm, now, key);
    if (st != AUTH_OK)
        return -(int)st;
    return stun_check_integrity(&m, key, sizeof(key));
}

static void test_rest_flow(void **state)
{
    (void)state;
    char user[64], pass[AUTH_REST_PASSWORD_LEN + 1];
    uint8_t msg[512];
    uint64_t now = 1700000000, expiry = now + 3600;
    assert_int_equal(auth_rest_credential(S("north-wind"), "alice", expiry, user, sizeof(user), pass), 0);
    size_t n = client_allocate(user, pass, msg, sizeof(msg));
    assert_int_equal(server_check("north-wind", msg, n, now), 0);
    assert_int_equal(server_check("north-wind", msg, n, expiry), 0);  /* the last valid second */
    assert_int_equal(server_check("north-wind", msg, n, expiry + 1), -AUTH_EXPIRED);
    assert_int_equal(server_check("south-wind", msg, n, now), -EACCES);  /* wrong secret */
    /* A client that guessed a password instead of deriving it fails too. */
    n = client_allocate(user, "Oko4dt8u/EbTRjRUJWQDFm/zTCc=", msg, sizeof(msg));
    assert_int_equal(server_check("north-wind", msg, n, now), -EACCES);
    /* The bare-expiry form coturn's turnutils_uclient uses without -u. */
    assert_int_equal(auth_rest_credential(S("north-wind"), "", expiry, user, sizeof(user), pass), 0);
    n = client_allocate(user, pass, msg, sizeof(msg));
    assert_int_equal(server_check("north-wind", msg, n, now), 0);
}

static void test_rest_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", ":alice", "alice", "alice:1700000000", "17000x0000:alice", "-1700000000:a",
        " 1700000000:a", "+1700000000", "18446744073709551616:a", "000000000000000000001:a",
    };
    uint64_t e;
    uint8_t key[AUTH_KEY_MD5_LEN];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(auth_rest_expiry(S(bad[i]), &e), -EINVAL);
        assert_int_equal(auth_rest_key(S("s"), S(bad[i]), S("r"), 0, key), AUTH_MALFORMED);
    }
    assert_int_equal(auth_rest_expiry(S("18446744073709551615:a"), &e), 0);
    assert_true(e == UINT64_MAX);
    assert_int_equal(auth_rest_expiry(S("0042:x:y"), &e), 0);
    assert_int_equal(e, 42);
    assert_string_equal(auth_strerror(AUTH_EXPIRED), "expired");
}

static void test_nonce_fresh_and_stale(void **state)
{
    (void)state;
    static const uint8_t ip[4] = { 192, 0, 2, 1 };
    char nonce[AUTH_NONCE_LEN + 1];
    uint64_t t = 1700000000;
    assert_int_equal(auth_nonce_make(S("server"), t, ip, 4, nonce), 0);
    assert_int_equal(strlen(nonce), AUTH_NONCE_LEN);
    assert_memory_equal(nonce, "000000006553f100", 16); /* the issue time, in hex */
    struct stun_str n = S(nonce);
    assert_int_equal(auth_nonce_check(S("server"), n, t, ip, 4), AUTH_OK);
    assert_int_equal(auth_nonce_check(S("server"), n, t + AUTH_NONCE_TTL - 1, ip, 4), AUTH_OK);
    assert_int_equal(auth_nonce_check(S("server"), n, t + AUTH_NONCE_TTL, ip, 4), AUTH_STALE);
    assert_int_equal(auth_nonce_check(S("server"), n, t + 86400, ip, 4), AUTH_STALE);
    assert_int_equal(auth_nonce_check(S("server"), n, t - 1, ip, 4), AUTH_STALE); /* from the future */
    /* Without an address binding. */
    assert_int_equal(auth_nonce_make(S("server"), t, NULL, 0, nonce), 0);
    assert_int_equal(auth_nonce_check(S("server"), S(nonce), t + 10, NULL, 0), AUTH_OK);
}

static void test_nonce_forged(void **state)
{
    (void)state;
    static const uint8_t ip[4] = { 192, 0, 2, 1 }, other[4] = { 192, 0, 2, 2 };
    char nonce[AUTH_NONCE_LEN + 1], x[AUTH_NONCE_LEN + 1];
    uint64_t t = 1700000000;
    assert_int_equal(auth_nonce_make(S("server"), t, ip, 4, nonce), 0);
    assert_int_equal(auth_nonce_check(S("other"), S(nonce), t, ip, 4), AUTH_FORGED);
    assert_int_equal(auth_nonce_check(S("server"), S(nonce), t, other, 4), AUTH_FORGED);
    for (size_t i = 0; i < AUTH_NONCE_LEN; i++) {
        memcpy(x, nonce, sizeof(x));
        x[i] = x[i] == '0' ? '1' : '0'; /* still hex: only the MAC can tell */
        assert_int_equal(auth_nonce_check(S("server"), S(x), t, ip, 4), AUTH_FORGED);
    }
    /* Refreshing an old nonce by rewriting its time is forgery, not staleness. */
    memcpy(x, nonce, sizeof(x));
    memcpy(x, "000000006553f2f0", 16);
    assert_int_equal(auth_nonce_check(S("server"), S(x), t + 1000, ip, 4), AUTH_FORGED);
    assert_int_equal(auth_nonce_check(S("server"), S(nonce), t + 1000, ip, 4), AUTH_STALE);
}

static void test_nonce_malformed(void **state)
{
    (void)state;
    char nonce[AUTH_NONCE_LEN + 1], x[AUTH_NONCE_LEN + 2];
    uint64_t t = 1700000000;
    assert_int_equal(auth_nonce_make(S("server"), t, NULL, 0, nonce), 0);
    struct stun_str n = S(nonce);
    n.len--;
    assert_int_equal(auth_nonce_check(S("server"), n, t, NULL, 0), AUTH_MALFORMED);
    memcpy(x, nonce, AUTH_NONCE_LEN);
    memcpy(x + AUTH_NONCE_LEN, "0", 2);
    assert_int_equal(auth_nonce_check(S("server"), S(x), t, NULL, 0), AUTH_MALFORMED);
    memcpy(x, nonce, sizeof(nonce));
    x[3] = 'G';
    assert_int_equal(auth_nonce_check(S("server"), S(x), t, NULL, 0), AUTH_MALFORMED);
    memcpy(x, nonce, sizeof(nonce));
    x[0] = 'A'; /* upper-case hex is not what we make */
    assert_int_equal(auth_nonce_check(S("server"), S(x), t, NULL, 0), AUTH_MALFORMED);
    assert_int_equal(auth_nonce_check(S("server"), S("f//499k954d6OL34oL9FSTvy64sA"), t, NULL, 0),
                     AUTH_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_term_keys),
        cmocka_unit_test(test_rfc8489_sha256),
        cmocka_unit_test(test_rest_password),
        cmocka_unit_test(test_rest_flow),
        cmocka_unit_test(test_rest_malformed),
        cmocka_unit_test(test_nonce_fresh_and_stale),
        cmocka_unit_test(test_nonce_forged),
        cmocka_unit_test(test_nonce_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
