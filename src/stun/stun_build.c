/*
 * stun_build — writing STUN messages into a caller's buffer (see stun.h).
 *
 * Each adder reserves the attribute's header, value and padding in one
 * bounds check and keeps the header's length field current, so the message
 * is well formed after every successful call. That is also what the
 * integrity attributes need: RFC 8489 §14.5 computes MESSAGE-INTEGRITY over
 * the message with a length field that already counts the attribute itself,
 * and FINGERPRINT likewise (§14.7).
 */
#include "stun.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crc32.h"

static void wr16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, v >> 16);
    wr16(p + 2, v & 0xFFFF);
}

void stun_builder_init(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
                       const uint8_t txid[STUN_TXID_LEN])
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
    b->overflow = cap < STUN_HEADER_LEN;
    b->pad = 0;
    if (b->overflow)
        return;
    wr16(buf, type & 0x3FFF);
    wr16(buf + 2, 0);
    wr32(buf + 4, STUN_COOKIE);
    memcpy(buf + 8, txid, STUN_TXID_LEN);
    b->len = STUN_HEADER_LEN;
}

/* Appends an attribute header and room for len value bytes, padded; returns
 * where the value goes, or NULL (and the builder fails) if it does not fit. */
static uint8_t *reserve(struct stun_builder *b, uint16_t type, size_t len)
{
    size_t padded = (len + 3) & ~(size_t)3;
    if (b->overflow || len > 0xFFFF || 4 + padded > b->cap - b->len ||
        b->len - STUN_HEADER_LEN + 4 + padded > STUN_MAX_LEN - STUN_HEADER_LEN) {
        b->overflow = 1;
        return NULL;
    }
    uint8_t *p = b->buf + b->len;
    wr16(p, type);
    wr16(p + 2, (unsigned)len);
    memset(p + 4 + len, b->pad, padded - len);
    b->len += 4 + padded;
    wr16(b->buf + 2, (unsigned)(b->len - STUN_HEADER_LEN));
    return p + 4;
}

int stun_builder_add(struct stun_builder *b, uint16_t type, const void *value, size_t len)
{
    uint8_t *v = reserve(b, type, len);
    if (!v)
        return -ENOBUFS;
    if (len)
        memcpy(v, value, len);
    return 0;
}

int stun_builder_add_u32(struct stun_builder *b, uint16_t type, uint32_t value)
{
    uint8_t *v = reserve(b, type, 4);
    if (!v)
        return -ENOBUFS;
    wr32(v, value);
    return 0;
}

int stun_builder_add_xor_addr(struct stun_builder *b, uint16_t type, const struct stun_addr *a)
{
    size_t n = a->family == STUN_IPV4 ? 4 : a->family == STUN_IPV6 ? 16 : 0;
    if (n == 0)
        return -EINVAL;
    uint8_t *v = reserve(b, type, 4 + n);
    if (!v)
        return -ENOBUFS;
    v[0] = 0;
    v[1] = a->family;
    wr16(v + 2, a->port ^ (STUN_COOKIE >> 16));
    /* XOR with the cookie and then the transaction id: header bytes 4..19. */
    for (size_t i = 0; i < n; i++)
        v[4 + i] = a->ip[i] ^ b->buf[4 + i];
    return 0;
}

int stun_builder_add_error(struct stun_builder *b, int code, const char *reason)
{
    if (code < 300 || code > 699)
        return -EINVAL;
    if (!reason)
        reason = stun_reason(code);
    size_t n = strlen(reason);
    if (n > 763)
        return -EINVAL;
    uint8_t *v = reserve(b, STUN_ATTR_ERROR_CODE, 4 + n);
    if (!v)
        return -ENOBUFS;
    v[0] = v[1] = 0;
    v[2] = (uint8_t)(code / 100);
    v[3] = (uint8_t)(code % 100);
    memcpy(v + 4, reason, n);
    return 0;
}

int stun_builder_add_unknown(struct stun_builder *b, const uint16_t *types, size_t n)
{
    /* RFC 8489 §14.9: ordinary padding, not RFC 3489's repeated last type. */
    uint8_t *v = reserve(b, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n);
    if (!v)
        return -ENOBUFS;
    for (size_t i = 0; i < n; i++)
        wr16(v + 2 * i, types[i]);
    return 0;
}

int stun_builder_add_channel_number(struct stun_builder *b, uint16_t channel)
{
    return stun_builder_add_u32(b, STUN_ATTR_CHANNEL_NUMBER, (uint32_t)channel << 16);
}

int stun_builder_add_requested_transport(struct stun_builder *b, uint8_t proto)
{
    return stun_builder_add_u32(b, STUN_ATTR_REQUESTED_TRANSPORT, (uint32_t)proto << 24);
}

/* Appends an HMAC attribute of maclen bytes over everything before it. */
static int add_mac(struct stun_builder *b, uint16_t type, const EVP_MD *md, size_t maclen,
                   const uint8_t *key, size_t keylen)
{
    static const uint8_t empty_key[1];
    if (keylen > INT_MAX)
        return -EINVAL;
    uint8_t *v = reserve(b, type, maclen);
    if (!v)
        return -ENOBUFS;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    size_t covered = (size_t)(v - 4 - b->buf);
    if (!HMAC(md, keylen ? key : empty_key, (int)keylen, b->buf, covered, mac, &n) || n < maclen) {
        b->overflow = 1; /* OpenSSL failed: the message cannot be finished either */
        return -ENOBUFS;
    }
    memcpy(v, mac, maclen);
    return 0;
}

int stun_builder_add_integrity(struct stun_builder *b, const uint8_t *key, size_t keylen)
{
    return add_mac(b, STUN_ATTR_MESSAGE_INTEGRITY, EVP_sha1(), STUN_SHA1_LEN, key, keylen);
}

int stun_builder_add_integrity_sha256(struct stun_builder *b, const uint8_t *key, size_t keylen)
{
    return add_mac(b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, EVP_sha256(), STUN_SHA256_LEN, key, keylen);
}

int stun_builder_add_fingerprint(struct stun_builder *b)
{
    uint8_t *v = reserve(b, STUN_ATTR_FINGERPRINT, 4);
    if (!v)
        return -ENOBUFS;
    size_t covered = (size_t)(v - 4 - b->buf);
    wr32(v, crc32_ieee(b->buf, covered) ^ STUN_FINGERPRINT_XOR);
    return 0;
}

int stun_builder_finish(const struct stun_builder *b)
{
    return b->overflow ? -ENOBUFS : (int)b->len;
}

const char *stun_reason(int code)
{
    static const struct {
        int code;
        const char *reason;
    } reasons[] = {
        { 300, "Try Alternate" },
        { 400, "Bad Request" },
        { 401, "Unauthorized" },
        { 403, "Forbidden" },
        { 420, "Unknown Attribute" },
        { 437, "Allocation Mismatch" },
        { 438, "Stale Nonce" },
        { 440, "Address Family not Supported" },
        { 441, "Wrong Credentials" },
        { 442, "Unsupported Transport Protocol" },
        { 443, "Peer Address Family Mismatch" },
        { 486, "Allocation Quota Reached" },
        { 487, "Role Conflict" },
        { 500, "Server Error" },
        { 508, "Insufficient Capacity" },
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        if (reasons[i].code == code)
            return reasons[i].reason;
    }
    return "Error";
}
