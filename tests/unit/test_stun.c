/*
 * test_stun — the STUN codec (src/stun/stun.c, stun_build.c, stun_frame.c,
 * crc32.c).
 *
 * The four sample messages of RFC 5769 are typed from the RFC: each must
 * decode, pass its MESSAGE-INTEGRITY and FINGERPRINT checks, fail them with
 * a wrong key or a changed byte, and come out of the builder byte for byte
 * (RFC 8489 Appendix B.1 is in test_stun_auth.c, next to its key). Malformed
 * messages are decoded at the very end of a page followed by an
 * inaccessible one, so reading a byte past the input crashes the test.
 * ChannelData is framed over UDP and over TCP with its padding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "stun/auth.h"
#include "stun/crc32.h"
#include "stun/stun.h"
#include "unhex.h"

/* RFC 5769 §2.1: a Binding request, short-term password below. */
static const char rfc_request[] =
    "00010058 2112a442 b7e7a701 bc34d686 fa87dfae"          /* header */
    "80220010 5354554e 20746573 7420636c 69656e74"          /* SOFTWARE "STUN test client" */
    "00240004 6e0001ff"                                     /* PRIORITY */
    "80290008 932ff9b1 51263b36"                            /* ICE-CONTROLLED */
    "00060009 6576746a 3a683676 59202020"                   /* USERNAME "evtj:h6vY", padding */
    "00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2" /* MESSAGE-INTEGRITY */
    "80280004 e57a3bcf";                                    /* FINGERPRINT */

/* RFC 5769 §2.2: the IPv4 response, 192.0.2.1 port 32853. */
static const char rfc_response_v4[] =
    "0101003c 2112a442 b7e7a701 bc34d686 fa87dfae"
    "8022000b 74657374 20766563 746f7220"                   /* SOFTWARE "test vector" */
    "00200008 0001a147 e112a643"                            /* XOR-MAPPED-ADDRESS */
    "00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7"
    "80280004 c07d4c96";

/* RFC 5769 §2.3: the IPv6 response, 2001:db8:1234:5678:11:2233:4455:6677 port 32853. */
static const char rfc_response_v6[] =
    "01010048 2112a442 b7e7a701 bc34d686 fa87dfae"
    "8022000b 74657374 20766563 746f7220"
    "00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9"
    "00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41"
    "80280004 c8fb0b4c";

/* RFC 5769 §2.4: a request with long-term credentials, no FINGERPRINT. */
static const char rfc_request_lt[] =
    "00010060 2112a442 78ad3433 c6ad72c0 29da412e"
    "00060012 e3839ee3 8388e383 aae38383 e382afe3 82b90000" /* USERNAME "マトリックス" */
    "0015001c 662f2f34 39396b39 35346436 4f4c3334 6f4c3946 53547679 36347341" /* NONCE */
    "0014000b 6578616d 706c652e 6f726700"                   /* REALM "example.org" */
    "00080014 f6702465 6dd64a3e 02b8e071 2e85c9a2 8ca89666";

static const char short_pw[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const char lt_user[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
static const uint8_t txid0[STUN_TXID_LEN] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae };

static uint8_t *guard;
static size_t page;

static int setup(void **state)
{
    (void)state;
    page = (size_t)sysconf(_SC_PAGESIZE);
    void *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    guard = m;
    return mprotect(guard + page, page, PROT_NONE);
}

static int teardown(void **state)
{
    (void)state;
    return munmap(guard, 2 * page);
}

/* Decodes a copy of p[0..n) that ends where the readable memory ends. */
static enum stun_status decode(const uint8_t *p, size_t n, struct stun_msg *m)
{
    assert_true(n <= page);
    uint8_t *at = guard + page - n;
    memmove(at, p, n);
    return stun_msg_decode(at, n, m);
}

static void assert_addr(const struct stun_addr *a, const struct stun_addr *b)
{
    assert_int_equal(a->family, b->family);
    assert_int_equal(a->port, b->port);
    assert_memory_equal(a->ip, b->ip, a->family == STUN_IPV4 ? 4 : 16);
}

static void assert_view(struct stun_str s, const void *p, size_t n)
{
    assert_int_equal(s.len, n);
    assert_memory_equal(s.p, p, n);
}

/* Builds the message again from its decoded attributes, computing the
 * integrity attributes and FINGERPRINT afresh. */
static int rebuild(const struct stun_msg *m, uint8_t pad, const void *key, size_t keylen, uint8_t *out)
{
    struct stun_builder b;
    stun_builder_init(&b, out, 512, m->type, m->txid);
    b.pad = pad;
    for (size_t i = 0; i < m->nattrs; i++) {
        const struct stun_attr *a = &m->attrs[i];
        if (a->type == STUN_ATTR_MESSAGE_INTEGRITY)
            stun_builder_add_integrity(&b, key, keylen);
        else if (a->type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
            stun_builder_add_integrity_sha256(&b, key, keylen);
        else if (a->type == STUN_ATTR_FINGERPRINT)
            stun_builder_add_fingerprint(&b);
        else
            stun_builder_add(&b, a->type, stun_attr_value(m, a), a->len);
    }
    return stun_builder_finish(&b);
}

/* Every byte changed in turn: the message must no longer decode, or fail
 * its check: FINGERPRINT if it had one (wrong, or gone when its type byte
 * changed), else integrity. */
static void assert_tamper_evident(const uint8_t *v, size_t n, const void *key, size_t keylen)
{
    uint8_t x[256];
    struct stun_msg m;
    assert_int_equal(decode(v, n, &m), STUN_OK);
    int had_fp = m.fp >= 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(x, v, n);
        x[i] ^= 0x01;
        if (decode(x, n, &m) != STUN_OK)
            continue;
        if (had_fp)
            assert_int_not_equal(stun_check_fingerprint(&m), 0);
        else
            assert_int_not_equal(stun_check_integrity(&m, key, keylen), 0);
    }
    for (size_t k = 0; k < n; k++) /* every prefix fails to decode */
        assert_int_not_equal(decode(v, k, &m), STUN_OK);
}

static void test_rfc5769_request(void **state)
{
    (void)state;
    uint8_t v[256], out[512];
    size_t n = unhex(rfc_request, v);
    struct stun_msg m;
    struct stun_str s;
    uint32_t u;
    assert_int_equal(n, 108);
    assert_int_equal(decode(v, n, &m), STUN_OK);
    assert_int_equal(m.type, stun_type(STUN_BINDING, STUN_REQUEST));
    assert_memory_equal(m.txid, txid0, STUN_TXID_LEN);
    assert_int_equal(m.nattrs, 6);
    assert_int_equal(stun_msg_str(&m, STUN_ATTR_SOFTWARE, &s), 0);
    assert_view(s, "STUN test client", 16);
    assert_int_equal(stun_msg_str(&m, STUN_ATTR_USERNAME, &s), 0);
    assert_view(s, "evtj:h6vY", 9);
    assert_int_equal(stun_msg_u32(&m, STUN_ATTR_PRIORITY, &u), 0);
    assert_int_equal(u, 0x6e0001ff);
    assert_int_equal(stun_msg_integrity_type(&m), STUN_ATTR_MESSAGE_INTEGRITY);
    assert_int_equal(stun_check_integrity(&m, (const uint8_t *)short_pw, strlen(short_pw)), 0);
    assert_int_equal(stun_check_integrity(&m, (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBT", 22), -EACCES);
    assert_int_equal(stun_check_fingerprint(&m), 0);
    /* The RFC pads with spaces; with that padding byte the bytes are the same. */
    assert_int_equal(rebuild(&m, ' ', short_pw, strlen(short_pw), out), (int)n);
    assert_memory_equal(out, v, n);
    assert_tamper_evident(v, n, short_pw, strlen(short_pw));
}

/* Builds the RFC 5769 response for addr the way a server would. */
static int build_response(const struct stun_addr *addr, uint8_t *out)
{
    struct stun_builder b;
    stun_builder_init(&b, out, 512, stun_type(STUN_BINDING, STUN_SUCCESS), txid0);
    b.pad = ' ';
    stun_builder_add(&b, STUN_ATTR_SOFTWARE, "test vector", 11);
    stun_builder_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, addr);
    stun_builder_add_integrity(&b, (const uint8_t *)short_pw, strlen(short_pw));
    stun_builder_add_fingerprint(&b);
    return stun_builder_finish(&b);
}

static void check_response(const char *hex, size_t want_len, const struct stun_addr *want)
{
    uint8_t v[256], out[512];
    size_t n = unhex(hex, v);
    struct stun_msg m;
    struct stun_addr a;
    struct stun_str s;
    assert_int_equal(n, want_len);
    assert_int_equal(decode(v, n, &m), STUN_OK);
    assert_int_equal(stun_class_of(m.type), STUN_SUCCESS);
    assert_int_equal(stun_method_of(m.type), STUN_BINDING);
    assert_int_equal(stun_msg_str(&m, STUN_ATTR_SOFTWARE, &s), 0);
    assert_view(s, "test vector", 11);
    assert_int_equal(stun_msg_xor_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &a), 0);
    assert_addr(&a, want);
    assert_int_equal(stun_check_integrity(&m, (const uint8_t *)short_pw, strlen(short_pw)), 0);
    assert_int_equal(stun_check_fingerprint(&m), 0);
    assert_int_equal(build_response(&a, out), (int)n);
    assert_memory_equal(out, v, n);
    assert_tamper_evident(v, n, short_pw, strlen(short_pw));
}

static void test_rfc5769_responses(void **state)
{
    (void)state;
    struct stun_addr v4 = { .family = STUN_IPV4, .port = 32853, .ip = { 192, 0, 2, 1 } };
    struct stun_addr v6 = { .family = STUN_IPV6, .port = 32853,
                            .ip = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                                    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 } };
    check_response(rfc_response_v4, 80, &v4);
    check_response(rfc_response_v6, 92, &v6);
}

static void test_rfc5769_long_term(void **state)
{
    (void)state;
    uint8_t v[256], out[512], key[AUTH_KEY_MD5_LEN];
    size_t n = unhex(rfc_request_lt, v);
    struct stun_msg m;
    struct stun_str s;
    assert_int_equal(n, 116);
    assert_int_equal(decode(v, n, &m), STUN_OK);
    assert_int_equal(stun_msg_str(&m, STUN_ATTR_USERNAME, &s), 0);
    assert_view(s, lt_user, 18);
    assert_int_equal(stun_msg_str(&m, STUN_ATTR_NONCE, &s), 0);
    assert_view(s, "f//499k954d6OL34oL9FSTvy64sA", 28);
    assert_int_equal(stun_msg_str(&m, STUN_ATTR_REALM, &s), 0);
    assert_view(s, "example.org", 11);
    /* The RFC gives the password after SASLprep: "TheMatrIX". */
    assert_int_equal(auth_key_md5(auth_cstr(lt_user), auth_cstr("example.org"), auth_cstr("TheMatrIX"), key), 0);
    assert_int_equal(stun_check_integrity(&m, key, sizeof(key)), 0);
    assert_int_equal(stun_check_fingerprint(&m), -ENOENT);
    assert_int_equal(rebuild(&m, 0, key, sizeof(key), out), (int)n);
    assert_memory_equal(out, v, n);
    assert_tamper_evident(v, n, key, sizeof(key));
}

static void test_malformed_framing(void **state)
{
    (void)state;
    uint8_t v[256], x[256];
    size_t n = unhex(rfc_response_v4, v);
    struct stun_msg m;
    memcpy(x, v, n);
    x[23] = 0x40; /* SOFTWARE claims 64 bytes: longer than the message */
    assert_int_equal(decode(x, n, &m), STUN_MALFORMED);
    memcpy(x, v, n);
    x[n - 5] = 0x08; /* FINGERPRINT claims 8 bytes, 4 are left */
    assert_int_equal(decode(x, n, &m), STUN_MALFORMED);
    memcpy(x, v, n);
    x[3] = 0x3d; /* length not a multiple of 4, even with the byte present */
    x[n] = 0;
    assert_int_equal(decode(x, n + 1, &m), STUN_MALFORMED);
    memcpy(x, v, n);
    memset(x + 4, 0, 4); /* no magic cookie (RFC 3489 style) */
    assert_int_equal(decode(x, n, &m), STUN_MALFORMED);
    memcpy(x, v, n);
    memset(x + n, 0, 4); /* trailing bytes after the message */
    assert_int_equal(decode(x, n + 4, &m), STUN_MALFORMED);
    assert_int_equal(decode(v, n - 4, &m), STUN_MALFORMED); /* truncated */
    assert_int_equal(decode(v, 19, &m), STUN_NOT_STUN);
    assert_int_equal(decode(v, 0, &m), STUN_NOT_STUN);
    for (int bits = 1; bits < 4; bits++) {
        memcpy(x, v, n);
        x[0] |= (uint8_t)(bits << 6);
        assert_int_equal(decode(x, n, &m), STUN_NOT_STUN);
    }
    /* A header alone is a valid message without attributes. */
    memcpy(x, v, 20);
    x[2] = x[3] = 0;
    assert_int_equal(decode(x, 20, &m), STUN_OK);
    assert_int_equal(m.nattrs, 0);
}

static void test_bad_fingerprint(void **state)
{
    (void)state;
    uint8_t x[256];
    size_t n = unhex(rfc_response_v4, x);
    struct stun_msg m;
    x[n - 1] ^= 0xff;
    assert_int_equal(decode(x, n, &m), STUN_OK);
    assert_int_equal(stun_check_fingerprint(&m), -EBADMSG);
    /* MESSAGE-INTEGRITY does not cover FINGERPRINT. */
    assert_int_equal(stun_check_integrity(&m, (const uint8_t *)short_pw, strlen(short_pw)), 0);
}

/* A message with the attributes given as (type, length, value) triples. */
static size_t raw_msg(uint8_t *out, size_t count, const uint16_t *types, const uint16_t *lens, const void *const *vals)
{
    struct stun_builder b;
    stun_builder_init(&b, out, 2048, stun_type(STUN_ALLOCATE, STUN_REQUEST), txid0);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(stun_builder_add(&b, types[i], vals[i], lens[i]), 0);
    return (size_t)stun_builder_finish(&b);
}

static void test_bad_addresses(void **state)
{
    (void)state;
    static const uint8_t v6_short[8] = { 0, 2, 0x11, 0x22, 1, 2, 3, 4 };
    static const uint8_t v4_long[20] = { 0, 1, 0x11, 0x22, 1, 2, 3, 4 };
    static const uint8_t fam3[8] = { 0, 3, 0x11, 0x22, 1, 2, 3, 4 };
    static const uint8_t tiny[2] = { 0, 1 }, v6_19[19] = { 0, 2 };
    const void *vals[] = { v6_short, v4_long, fam3, tiny, v6_19 };
    const uint16_t lens[] = { 8, 20, 8, 2, 19 };
    uint8_t buf[2048];
    struct stun_msg m;
    struct stun_addr a;
    for (size_t i = 0; i < 5; i++) {
        uint16_t t = STUN_ATTR_XOR_PEER_ADDRESS;
        size_t n = raw_msg(buf, 1, &t, &lens[i], &vals[i]);
        assert_int_equal(decode(buf, n, &m), STUN_OK);
        assert_int_equal(stun_msg_xor_addr(&m, t, &a), -EINVAL);
    }
    assert_int_equal(stun_msg_xor_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &a), -ENOENT);
    struct stun_builder b;
    struct stun_addr bad = { .family = 3 };
    stun_builder_init(&b, buf, sizeof(buf), 0x0001, txid0);
    assert_int_equal(stun_builder_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &bad), -EINVAL);
}

static void test_attribute_order_rules(void **state)
{
    (void)state;
    static const uint8_t z[40];
    uint8_t buf[2048];
    struct stun_msg m;
    struct stun_builder b;
    const uint8_t *key = (const uint8_t *)"k";
    /* Attributes after MESSAGE-INTEGRITY are ignored, except -SHA256 and
     * FINGERPRINT; after -SHA256 only FINGERPRINT counts. */
    stun_builder_init(&b, buf, sizeof(buf), 0x0001, txid0);
    stun_builder_add(&b, STUN_ATTR_USERNAME, "u", 1);
    stun_builder_add_integrity(&b, key, 1);
    stun_builder_add(&b, STUN_ATTR_SOFTWARE, "late", 4);
    stun_builder_add_integrity_sha256(&b, key, 1);
    stun_builder_add_u32(&b, STUN_ATTR_LIFETIME, 0);
    stun_builder_add_fingerprint(&b);
    assert_int_equal(decode(buf, (size_t)stun_builder_finish(&b), &m), STUN_OK);
    assert_int_equal(m.nattrs, 4);
    assert_null(stun_msg_find(&m, STUN_ATTR_SOFTWARE));
    assert_null(stun_msg_find(&m, STUN_ATTR_LIFETIME));
    assert_int_equal(stun_check_integrity(&m, key, 1), 0);
    assert_int_equal(stun_check_fingerprint(&m), 0);
    /* FINGERPRINT must be last; integrity values must have their sizes. */
    uint16_t t[2] = { STUN_ATTR_FINGERPRINT, STUN_ATTR_SOFTWARE };
    uint16_t l[2] = { 4, 4 };
    const void *vals[2] = { z, z };
    assert_int_equal(decode(buf, raw_msg(buf, 2, t, l, vals), &m), STUN_MALFORMED);
    static const struct { uint16_t type, len; enum stun_status want; } sizes[] = {
        { STUN_ATTR_MESSAGE_INTEGRITY, 16, STUN_MALFORMED },
        { STUN_ATTR_MESSAGE_INTEGRITY, 20, STUN_OK },
        { STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 12, STUN_MALFORMED },
        { STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 18, STUN_MALFORMED },
        { STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 36, STUN_MALFORMED },
        { STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 16, STUN_OK },
        { STUN_ATTR_FINGERPRINT, 8, STUN_MALFORMED },
    };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        assert_int_equal(decode(buf, raw_msg(buf, 1, &sizes[i].type, &sizes[i].len, vals), &m), sizes[i].want);
}

static void test_attribute_count_limit(void **state)
{
    (void)state;
    uint16_t t[STUN_MAX_ATTRS + 1], l[STUN_MAX_ATTRS + 1] = { 0 };
    const void *vals[STUN_MAX_ATTRS + 1] = { 0 };
    uint8_t buf[2048];
    struct stun_msg m;
    for (size_t i = 0; i <= STUN_MAX_ATTRS; i++)
        t[i] = STUN_ATTR_DONT_FRAGMENT;
    assert_int_equal(decode(buf, raw_msg(buf, STUN_MAX_ATTRS, t, l, vals), &m), STUN_OK);
    assert_true(stun_msg_has(&m, STUN_ATTR_DONT_FRAGMENT));
    assert_int_equal(decode(buf, raw_msg(buf, STUN_MAX_ATTRS + 1, t, l, vals), &m), STUN_MALFORMED);
}

static void test_builder_roundtrip(void **state)
{
    (void)state;
    uint8_t buf[1024];
    static const uint16_t unknown[3] = { 0x0031, 0x0032, 0x8033 };
    struct stun_addr p4 = { .family = STUN_IPV4, .port = 5004, .ip = { 203, 0, 113, 9 } };
    struct stun_addr p6 = { .family = STUN_IPV6, .port = 1, .ip = { 0xfe, 0x80, [15] = 1 } };
    struct stun_builder b;
    stun_builder_init(&b, buf, sizeof(buf), stun_type(STUN_ALLOCATE, STUN_ERROR), txid0);
    assert_int_equal(stun_builder_add_requested_transport(&b, STUN_PROTO_UDP), 0);
    assert_int_equal(stun_builder_add_u32(&b, STUN_ATTR_LIFETIME, 600), 0);
    assert_int_equal(stun_builder_add(&b, STUN_ATTR_DONT_FRAGMENT, NULL, 0), 0);
    assert_int_equal(stun_builder_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &p4), 0);
    assert_int_equal(stun_builder_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &p6), 0);
    assert_int_equal(stun_builder_add_channel_number(&b, 0x4001), 0);
    assert_int_equal(stun_builder_add(&b, STUN_ATTR_DATA, "hello", 5), 0);
    assert_int_equal(stun_builder_add_error(&b, 438, NULL), 0);
    assert_int_equal(stun_builder_add_error(&b, 299, NULL), -EINVAL);
    assert_int_equal(stun_builder_add_error(&b, 700, "x"), -EINVAL);
    assert_int_equal(stun_builder_add_unknown(&b, unknown, 3), 0);
    assert_int_equal(stun_builder_add_integrity(&b, (const uint8_t *)"pw", 2), 0);
    assert_int_equal(stun_builder_add_integrity_sha256(&b, (const uint8_t *)"pw", 2), 0);
    assert_int_equal(stun_builder_add_fingerprint(&b), 0);
    int n = stun_builder_finish(&b);
    assert_true(n > 0 && n % 4 == 0);

    struct stun_msg m;
    struct stun_addr a;
    struct stun_str s;
    uint32_t u;
    uint8_t proto;
    uint16_t ch, list[8];
    int code;
    assert_int_equal(decode(buf, (size_t)n, &m), STUN_OK);
    assert_int_equal(m.type, 0x0113);
    assert_int_equal(stun_msg_requested_transport(&m, &proto), 0);
    assert_int_equal(proto, 17);
    assert_int_equal(stun_msg_u32(&m, STUN_ATTR_LIFETIME, &u), 0);
    assert_int_equal(u, 600);
    assert_true(stun_msg_has(&m, STUN_ATTR_DONT_FRAGMENT));
    assert_int_equal(stun_msg_xor_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, &a), 0);
    assert_addr(&a, &p4);
    assert_int_equal(stun_attr_xor_addr(&m, &m.attrs[4], &a), 0); /* the second one */
    assert_addr(&a, &p6);
    assert_int_equal(stun_msg_channel_number(&m, &ch), 0);
    assert_int_equal(ch, 0x4001);
    assert_int_equal(stun_msg_str(&m, STUN_ATTR_DATA, &s), 0);
    assert_view(s, "hello", 5);
    assert_int_equal(stun_msg_error_code(&m, &code, &s), 0);
    assert_int_equal(code, 438);
    assert_view(s, "Stale Nonce", 11);
    assert_int_equal(stun_msg_unknown_attributes(&m, list, 8), 3);
    assert_memory_equal(list, unknown, sizeof(unknown));
    assert_int_equal(stun_msg_unknown_attributes(&m, list, 2), 2);
    assert_int_equal(stun_check_integrity(&m, (const uint8_t *)"pw", 2), 0);
    assert_int_equal(stun_check_integrity(&m, (const uint8_t *)"pW", 2), -EACCES);
    assert_int_equal(stun_check_fingerprint(&m), 0);
    assert_int_equal(stun_msg_u32(&m, STUN_ATTR_PRIORITY, &u), -ENOENT);
}

static void test_accessor_value_rules(void **state)
{
    (void)state;
    static const uint8_t err_class2[4] = { 0, 0, 2, 0 }, err_num100[4] = { 0, 0, 4, 100 };
    static const uint8_t ch_low[4] = { 0x3f, 0xff }, ch_high[4] = { 0x80, 0x00 };
    static const uint8_t five[5] = { 0 }, big[600] = { 0 };
    struct { uint16_t type, len; const void *v; } cases[] = {
        { STUN_ATTR_ERROR_CODE, 4, err_class2 }, { STUN_ATTR_ERROR_CODE, 4, err_num100 },
        { STUN_ATTR_ERROR_CODE, 3, err_class2 }, { STUN_ATTR_CHANNEL_NUMBER, 4, ch_low },
        { STUN_ATTR_CHANNEL_NUMBER, 4, ch_high }, { STUN_ATTR_CHANNEL_NUMBER, 5, five },
        { STUN_ATTR_LIFETIME, 5, five }, { STUN_ATTR_REQUESTED_TRANSPORT, 3, five },
        { STUN_ATTR_USERNAME, 513, big }, { STUN_ATTR_UNKNOWN_ATTRIBUTES, 5, five },
    };
    uint8_t buf[2048];
    struct stun_msg m;
    struct stun_str s;
    int code;
    uint16_t ch, list[4];
    uint32_t u;
    uint8_t proto;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = raw_msg(buf, 1, &cases[i].type, &cases[i].len, &cases[i].v);
        assert_int_equal(decode(buf, n, &m), STUN_OK);
        int rc = cases[i].type == STUN_ATTR_ERROR_CODE          ? stun_msg_error_code(&m, &code, &s)
                 : cases[i].type == STUN_ATTR_CHANNEL_NUMBER    ? stun_msg_channel_number(&m, &ch)
                 : cases[i].type == STUN_ATTR_LIFETIME          ? stun_msg_u32(&m, STUN_ATTR_LIFETIME, &u)
                 : cases[i].type == STUN_ATTR_REQUESTED_TRANSPORT ? stun_msg_requested_transport(&m, &proto)
                 : cases[i].type == STUN_ATTR_USERNAME          ? stun_msg_str(&m, STUN_ATTR_USERNAME, &s)
                                                                : stun_msg_unknown_attributes(&m, list, 4);
        assert_int_equal(rc, -EINVAL);
    }
    uint16_t len512 = 512, type = STUN_ATTR_USERNAME;
    const void *vb = big;
    assert_int_equal(decode(buf, raw_msg(buf, 1, &type, &len512, &vb), &m), STUN_OK);
    assert_int_equal(stun_msg_str(&m, STUN_ATTR_USERNAME, &s), 0);
}

static void test_unknown_required(void **state)
{
    (void)state;
    uint16_t t[5] = { STUN_ATTR_USERNAME, 0x0031, 0x8031, 0x0031, STUN_ATTR_MESSAGE_INTEGRITY };
    uint16_t l[5] = { 1, 0, 0, 0, 20 };
    static const uint8_t z[20];
    const void *v[5] = { z, z, z, z, z };
    uint8_t buf[512];
    uint16_t out[4];
    static const uint16_t known[] = { STUN_ATTR_USERNAME };
    struct stun_msg m;
    assert_int_equal(decode(buf, raw_msg(buf, 5, t, l, v), &m), STUN_OK);
    assert_int_equal(stun_msg_unknown_required(&m, known, 1, out, 4), 1);
    assert_int_equal(out[0], 0x0031);
    assert_int_equal(stun_msg_unknown_required(&m, NULL, 0, out, 4), 2);
}

static void test_builder_overflow(void **state)
{
    (void)state;
    uint8_t v[256], x[512];
    size_t n = unhex(rfc_response_v4, v);
    struct stun_addr a = { .family = STUN_IPV4, .port = 32853, .ip = { 192, 0, 2, 1 } };
    for (size_t cap = 0; cap <= n; cap++) {
        struct stun_builder b;
        memset(x, 0xA5, sizeof(x));
        stun_builder_init(&b, x, cap, stun_type(STUN_BINDING, STUN_SUCCESS), txid0);
        stun_builder_add(&b, STUN_ATTR_SOFTWARE, "test vector", 11);
        stun_builder_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &a);
        stun_builder_add_integrity(&b, (const uint8_t *)short_pw, strlen(short_pw));
        stun_builder_add_fingerprint(&b);
        assert_int_equal(stun_builder_finish(&b), cap == n ? (int)n : -ENOBUFS);
        for (size_t i = cap; i < sizeof(x); i++)
            assert_int_equal(x[i], 0xA5); /* nothing written past cap */
    }
    /* STUN's 16-bit length fields bound a message whatever the capacity. */
    size_t big = 70000;
    uint8_t *p = malloc(big), *data = calloc(1, 65536);
    struct stun_builder b;
    stun_builder_init(&b, p, big, 0x0001, txid0);
    assert_int_equal(stun_builder_add(&b, STUN_ATTR_DATA, data, 65536), -ENOBUFS);
    stun_builder_init(&b, p, big, 0x0001, txid0);
    assert_int_equal(stun_builder_add(&b, STUN_ATTR_DATA, data, 65528), 0);
    assert_int_equal(stun_builder_add(&b, STUN_ATTR_DATA, data, 1), -ENOBUFS);
    stun_builder_init(&b, p, big, 0x0001, txid0);
    assert_int_equal(stun_builder_add(&b, STUN_ATTR_DATA, data, 65527), 0);
    assert_int_equal(stun_builder_finish(&b), STUN_MAX_LEN);
    free(data);
    free(p);
}

static void test_message_type(void **state)
{
    (void)state;
    assert_int_equal(stun_type(STUN_BINDING, STUN_REQUEST), 0x0001);
    assert_int_equal(stun_type(STUN_BINDING, STUN_SUCCESS), 0x0101);
    assert_int_equal(stun_type(STUN_ALLOCATE, STUN_ERROR), 0x0113);
    assert_int_equal(stun_type(STUN_SEND, STUN_INDICATION), 0x0016);
    assert_int_equal(stun_type(STUN_DATA, STUN_INDICATION), 0x0017);
    assert_int_equal(stun_type(STUN_CHANNEL_BIND, STUN_SUCCESS), 0x0109);
    for (unsigned meth = 0; meth < 0x1000; meth += 7) {
        for (int c = 0; c < 4; c++) {
            uint16_t t = stun_type(meth, (enum stun_class)c);
            assert_true(t < 0x4000);
            assert_int_equal(stun_method_of(t), meth);
            assert_int_equal(stun_class_of(t), c);
        }
    }
    assert_string_equal(stun_strerror(STUN_MALFORMED), "malformed");
    assert_string_equal(stun_reason(401), "Unauthorized");
    assert_string_equal(stun_reason(499), "Error");
}

static void test_channeldata_udp(void **state)
{
    (void)state;
    uint8_t x[64] = { 0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0 };
    struct stun_channeldata cd;
    assert_int_equal(stun_channeldata_parse(x, 9, 0, &cd), 9);
    assert_int_equal(cd.channel, 0x4001);
    assert_int_equal(cd.len, 5);
    assert_ptr_equal(cd.data, x + 4);
    assert_int_equal(stun_channeldata_parse(x, 12, 0, &cd), 12); /* optional padding */
    assert_int_equal(stun_channeldata_parse(x, 13, 0, &cd), -1);  /* more than padding */
    assert_int_equal(stun_channeldata_parse(x, 8, 0, &cd), -1);   /* shorter than claimed */
    assert_int_equal(stun_channeldata_parse(x, 3, 0, &cd), -1);
    static const uint16_t out_of_range[] = { 0x3fff, 0x8000, 0xbfff, 0x0001, 0xffff };
    for (size_t i = 0; i < 5; i++) {
        x[0] = (uint8_t)(out_of_range[i] >> 8);
        x[1] = (uint8_t)out_of_range[i];
        assert_int_equal(stun_channeldata_parse(x, 9, 0, &cd), -1);
        assert_int_equal(stun_channeldata_parse(x, 12, 1, &cd), -1);
    }
    x[0] = 0x7f, x[1] = 0xff, x[3] = 0; /* the highest channel (RFC 5766's range), no data */
    assert_int_equal(stun_channeldata_parse(x, 4, 0, &cd), 4);
    assert_int_equal(cd.channel, 0x7fff);
    x[0] = 0x50, x[1] = 0x00; /* above RFC 8656's 0x4FFF, as coturn's clients pick */
    assert_int_equal(stun_channeldata_parse(x, 4, 0, &cd), 4);
    assert_int_equal(cd.channel, 0x5000);
    assert_int_equal(cd.len, 0);
}

static void test_channeldata_tcp(void **state)
{
    (void)state;
    /* Two messages back to back: 5 bytes padded to 8, then 4 bytes unpadded. */
    uint8_t s[32];
    memcpy(s + 4, "hello", 5);
    assert_int_equal(stun_channeldata_frame(s, sizeof(s), 0x4001, 5, 1), 12);
    assert_memory_equal(s + 9, "\0\0\0", 3);
    memcpy(s + 16, "ping", 4);
    assert_int_equal(stun_channeldata_frame(s + 12, 20, 0x4002, 4, 1), 8);
    struct stun_channeldata cd;
    for (size_t k = 0; k < 12; k++)
        assert_int_equal(stun_channeldata_parse(s, k, 1, &cd), 0);
    assert_int_equal(stun_channeldata_parse(s, 20, 1, &cd), 12);
    assert_int_equal(cd.len, 5);
    assert_int_equal(stun_channeldata_parse(s + 12, 8, 1, &cd), 8);
    assert_int_equal(cd.channel, 0x4002);
    assert_int_equal(stun_frame_len(s, 20), 12);
    assert_int_equal(stun_frame_len(s, 11), 0);
    /* Frames that do not fit or have bad channels are refused. */
    assert_int_equal(stun_channeldata_frame(s, 11, 0x4001, 5, 1), -1);
    assert_int_equal(stun_channeldata_frame(s, 9, 0x4001, 5, 0), 9);
    assert_int_equal(stun_channeldata_frame(s, 32, 0x3fff, 5, 0), -1);
    assert_int_equal(stun_channeldata_frame(s, 32, 0x4000, 65536, 0), -1);
}

static void test_stream_frames(void **state)
{
    (void)state;
    uint8_t v[256];
    size_t n = unhex(rfc_request, v);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(stun_frame_len(v, k), 0);
    assert_int_equal(stun_frame_len(v, n), (int)n);
    assert_int_equal(stun_frame_len(v, n + 4), (int)n);
    uint8_t x[256];
    memcpy(x, v, n);
    x[5] = 0; /* cookie wrong: known as soon as the byte arrives */
    assert_int_equal(stun_frame_len(x, 6), -1);
    memcpy(x, v, n);
    x[3] = 0x57;
    assert_int_equal(stun_frame_len(x, n), -1);
    x[0] = 0x80;
    assert_int_equal(stun_frame_len(x, 1), -1);
    x[0] = 0x80 | 0x40; /* 0xC0: neither STUN nor a channel */
    assert_int_equal(stun_frame_len(x, 1), -1);
}

static void test_sockaddr(void **state)
{
    (void)state;
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(443) };
    in6.sin6_addr.s6_addr[15] = 1;
    struct stun_addr a;
    struct sockaddr_storage ss;
    assert_int_equal(stun_addr_from_sockaddr(&a, (struct sockaddr *)&in6), 0);
    assert_int_equal(a.family, STUN_IPV6);
    assert_int_equal(a.port, 443);
    assert_int_equal(stun_addr_to_sockaddr(&a, &ss), sizeof(in6));
    assert_memory_equal(&ss, &in6, sizeof(in6));
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(3478), .sin_addr.s_addr = htonl(0x7f000001) };
    assert_int_equal(stun_addr_from_sockaddr(&a, (struct sockaddr *)&in), 0);
    assert_memory_equal(a.ip, "\x7f\0\0\x01", 4);
    assert_int_equal(stun_addr_to_sockaddr(&a, &ss), sizeof(in));
    assert_memory_equal(&ss, &in, sizeof(in));
    struct sockaddr un = { .sa_family = AF_UNIX };
    assert_int_equal(stun_addr_from_sockaddr(&a, &un), -EAFNOSUPPORT);
    a.family = 9;
    assert_int_equal(stun_addr_to_sockaddr(&a, &ss), 0);
}

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(crc32_ieee((const uint8_t *)"123456789", 9), 0xCBF43926u);
    assert_int_equal(crc32_ieee(NULL, 0), 0);
    uint32_t c = crc32_update(0, (const uint8_t *)"1234", 4);
    assert_int_equal(crc32_update(c, (const uint8_t *)"56789", 5), 0xCBF43926u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5769_request),
        cmocka_unit_test(test_rfc5769_responses),
        cmocka_unit_test(test_rfc5769_long_term),
        cmocka_unit_test(test_malformed_framing),
        cmocka_unit_test(test_bad_fingerprint),
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_attribute_order_rules),
        cmocka_unit_test(test_attribute_count_limit),
        cmocka_unit_test(test_builder_roundtrip),
        cmocka_unit_test(test_accessor_value_rules),
        cmocka_unit_test(test_unknown_required),
        cmocka_unit_test(test_builder_overflow),
        cmocka_unit_test(test_message_type),
        cmocka_unit_test(test_channeldata_udp),
        cmocka_unit_test(test_channeldata_tcp),
        cmocka_unit_test(test_stream_frames),
        cmocka_unit_test(test_sockaddr),
        cmocka_unit_test(test_crc32),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
