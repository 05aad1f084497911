/*
 * fuzz_stun — libFuzzer target for STUN message decoding and checking
 * (src/stun/stun.c, stun_build.c).
 *
 * The input is one datagram. It is copied into a heap block of exactly its
 * size, so AddressSanitizer catches any read past the end. Besides "no
 * crash", it checks properties the TURN server relies on:
 *  - a decoded message fills the input, its indexed attributes lie inside
 *    it on 4-byte boundaries, the integrity and FINGERPRINT indexes point at
 *    attributes of those types and sizes, and FINGERPRINT is last;
 *  - the stream framer agrees: stun_frame_len() gives the same length;
 *  - every accessor answers 0, -ENOENT or -EINVAL, with views inside the
 *    message; integrity and fingerprint checks answer within their sets;
 *  - rebuilding the indexed attributes with the builder, with fresh
 *    integrity and FINGERPRINT, decodes to the same attributes and passes
 *    both checks; XOR addresses re-encode to the bytes they came from.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stun/stun.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static const uint8_t key[] = "fuzz-key";

static int is_xor_addr(uint16_t t)
{
    return t == STUN_ATTR_XOR_MAPPED_ADDRESS || t == STUN_ATTR_XOR_PEER_ADDRESS ||
           t == STUN_ATTR_XOR_RELAYED_ADDRESS;
}

static void check_index(const struct stun_msg *m, const uint8_t *buf, size_t size)
{
    CHECK(m->buf == buf && m->len == size && m->nattrs <= STUN_MAX_ATTRS);
    CHECK(m->txid == buf + 8);
    for (size_t i = 0; i < m->nattrs; i++) {
        const struct stun_attr *a = &m->attrs[i];
        CHECK(a->off >= STUN_HEADER_LEN + 4 && a->off % 4 == 0 && a->off + a->len <= size);
        CHECK(((buf[a->off - 4] << 8) | buf[a->off - 3]) == a->type);
        if (i > 0)
            CHECK(a->off > m->attrs[i - 1].off);
    }
    if (m->mi >= 0)
        CHECK(m->attrs[m->mi].type == STUN_ATTR_MESSAGE_INTEGRITY && m->attrs[m->mi].len == 20);
    if (m->mi256 >= 0) {
        const struct stun_attr *a = &m->attrs[m->mi256];
        CHECK(a->type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 && a->len >= 16 && a->len <= 32 && a->len % 4 == 0);
    }
    if (m->fp >= 0) {
        const struct stun_attr *a = &m->attrs[m->fp];
        CHECK(a->type == STUN_ATTR_FINGERPRINT && a->off + 4 == size && (size_t)m->fp == m->nattrs - 1);
    }
}

static void check_view(const struct stun_msg *m, int rc, struct stun_str s)
{
    CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL);
    if (rc == 0 && s.len)
        CHECK(s.p >= m->buf + STUN_HEADER_LEN && s.p + s.len <= m->buf + m->len);
}

/* An address's wire form, re-encoded, must match what was decoded. */
static void check_addr(const struct stun_msg *m, const struct stun_attr *a)
{
    struct stun_addr addr;
    int rc = stun_attr_xor_addr(m, a, &addr);
    CHECK(rc == 0 || rc == -EINVAL);
    if (rc)
        return;
    CHECK(addr.family == STUN_IPV4 || addr.family == STUN_IPV6);
    uint8_t out[64];
    struct stun_builder b;
    stun_builder_init(&b, out, sizeof(out), m->type, m->txid);
    CHECK(stun_builder_add_xor_addr(&b, a->type, &addr) == 0);
    CHECK(memcmp(out + STUN_HEADER_LEN + 5, stun_attr_value(m, a) + 1, a->len - 1u) == 0);
}

static void check_accessors(const struct stun_msg *m)
{
    static const uint16_t texts[] = { STUN_ATTR_USERNAME, STUN_ATTR_REALM, STUN_ATTR_NONCE,
                                      STUN_ATTR_SOFTWARE, STUN_ATTR_DATA };
    struct stun_str s = { 0 };
    uint32_t u;
    uint16_t ch, list[8];
    uint8_t proto;
    int code;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        check_view(m, stun_msg_str(m, texts[i], &s), s);
    check_view(m, stun_msg_u32(m, STUN_ATTR_LIFETIME, &u), s);
    check_view(m, stun_msg_requested_transport(m, &proto), s);
    int rc = stun_msg_error_code(m, &code, &s);
    check_view(m, rc, s);
    if (rc == 0)
        CHECK(code >= 300 && code <= 699);
    rc = stun_msg_channel_number(m, &ch);
    check_view(m, rc, s);
    if (rc == 0)
        CHECK(ch >= STUN_CHANNEL_MIN && ch <= STUN_CHANNEL_MAX);
    rc = stun_msg_unknown_attributes(m, list, 8);
    CHECK(rc == -ENOENT || rc == -EINVAL || (rc >= 0 && rc <= 8));
    static const uint16_t known[] = { STUN_ATTR_USERNAME, STUN_ATTR_REALM, STUN_ATTR_NONCE };
    size_t n = stun_msg_unknown_required(m, known, 3, list, 8);
    CHECK(n <= 8);
    for (size_t i = 0; i < n; i++)
        CHECK(list[i] < 0x8000 && stun_msg_has(m, list[i]));
    for (size_t i = 0; i < m->nattrs; i++) {
        if (is_xor_addr(m->attrs[i].type))
            check_addr(m, &m->attrs[i]);
    }
}

/* Rebuilds m's indexed attributes with fresh integrity and FINGERPRINT. */
static int rebuild(const struct stun_msg *m, uint8_t *out, size_t cap)
{
    struct stun_builder b;
    stun_builder_init(&b, out, cap, m->type, m->txid);
    for (size_t i = 0; i < m->nattrs; i++) {
        const struct stun_attr *a = &m->attrs[i];
        if (a->type == STUN_ATTR_MESSAGE_INTEGRITY)
            stun_builder_add_integrity(&b, key, sizeof(key));
        else if (a->type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
            stun_builder_add_integrity_sha256(&b, key, sizeof(key));
        else if (a->type == STUN_ATTR_FINGERPRINT)
            stun_builder_add_fingerprint(&b);
        else
            stun_builder_add(&b, a->type, stun_attr_value(m, a), a->len);
    }
    return stun_builder_finish(&b);
}

static void check_rebuild(const struct stun_msg *m)
{
    size_t cap = m->len + 64; /* a truncated MESSAGE-INTEGRITY-SHA256 grows to 32 */
    uint8_t *out = malloc(cap);
    int n = rebuild(m, out, cap);
    if (n < 0) { /* only when a truncated SHA-256 MAC no longer fits the length field */
        CHECK(m->mi256 >= 0 && m->len + 16 > STUN_MAX_LEN);
        free(out);
        return;
    }
    struct stun_msg r;
    CHECK(stun_msg_decode(out, (size_t)n, &r) == STUN_OK);
    CHECK(r.nattrs == m->nattrs && r.type == m->type);
    for (size_t i = 0; i < m->nattrs; i++) {
        const struct stun_attr *a = &m->attrs[i], *b = &r.attrs[i];
        CHECK(a->type == b->type);
        if (a->type == STUN_ATTR_MESSAGE_INTEGRITY || a->type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 ||
            a->type == STUN_ATTR_FINGERPRINT)
            continue;
        CHECK(a->len == b->len && memcmp(stun_attr_value(m, a), stun_attr_value(&r, b), a->len) == 0);
    }
    if (r.mi >= 0 || r.mi256 >= 0)
        CHECK(stun_check_integrity(&r, key, sizeof(key)) == 0);
    if (r.fp >= 0)
        CHECK(stun_check_fingerprint(&r) == 0);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct stun_msg m;
    enum stun_status st = stun_msg_decode(buf, size, &m);
    CHECK(st == STUN_OK || st == STUN_NOT_STUN || st == STUN_MALFORMED);
    if (st == STUN_OK) {
        check_index(&m, buf, size);
        CHECK(stun_frame_len(buf, size) == (int)size);
        check_accessors(&m);
        int rc = stun_check_integrity(&m, key, sizeof(key));
        CHECK(rc == 0 || rc == -ENOENT || rc == -EACCES);
        CHECK((rc == -ENOENT) == (stun_msg_integrity_type(&m) == 0));
        rc = stun_check_fingerprint(&m);
        CHECK(rc == 0 || rc == -ENOENT || rc == -EBADMSG);
        check_rebuild(&m);
    }
    free(buf);
    return 0;
}
