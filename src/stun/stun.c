/*
 * stun — decoding STUN messages, reading their attributes, and checking
 * MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (see stun.h).
 *
 * Decoding validates only framing: a message whose framing is wrong cannot
 * be answered (§6.3 says drop it). Values are validated by the accessors
 * when the server asks for them, so a malformed LIFETIME becomes a 400
 * answer instead of silence. Both use one table of length rules.
 */
#include "stun.h"

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crc32.h"

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Value lengths the RFCs allow for the attributes this module reads; types
 * not listed may have any length. REALM, NONCE, SOFTWARE and reason phrases
 * are "fewer than 128 characters", which RFC 8489 §14 bounds at 763 bytes. */
static const struct {
    uint16_t type, min, max;
} limits[] = {
    { STUN_ATTR_USERNAME, 0, 512 },
    { STUN_ATTR_REALM, 0, 763 },
    { STUN_ATTR_NONCE, 0, 763 },
    { STUN_ATTR_SOFTWARE, 0, 763 },
    { STUN_ATTR_ERROR_CODE, 4, 4 + 763 },
    { STUN_ATTR_LIFETIME, 4, 4 },
    { STUN_ATTR_PRIORITY, 4, 4 },
    { STUN_ATTR_CHANNEL_NUMBER, 4, 4 },
    { STUN_ATTR_REQUESTED_TRANSPORT, 4, 4 },
    { STUN_ATTR_MESSAGE_INTEGRITY, STUN_SHA1_LEN, STUN_SHA1_LEN },
    { STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 16, STUN_SHA256_LEN },
    { STUN_ATTR_FINGERPRINT, 4, 4 },
};

static int length_ok(const struct stun_attr *a)
{
    if (a->type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 && a->len % 4)
        return 0;
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        if (limits[i].type == a->type)
            return a->len >= limits[i].min && a->len <= limits[i].max;
    }
    return 1;
}

/* True if §14.5/§14.6 say the attribute must be ignored because of the
 * integrity attributes before it. */
static int ignored(const struct stun_msg *m, uint16_t type)
{
    if (type == STUN_ATTR_FINGERPRINT)
        return 0;
    if (m->mi256 >= 0)
        return 1; /* only FINGERPRINT may follow MESSAGE-INTEGRITY-SHA256 */
    return m->mi >= 0 && type != STUN_ATTR_MESSAGE_INTEGRITY_SHA256;
}

/* Adds a to the index unless it is to be ignored; -1 if it breaks framing. */
static int index_attr(struct stun_msg *m, const struct stun_attr *a)
{
    if (ignored(m, a->type))
        return 0;
    int special = a->type == STUN_ATTR_MESSAGE_INTEGRITY || a->type == STUN_ATTR_FINGERPRINT ||
                  a->type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256;
    if ((special && !length_ok(a)) || m->nattrs == STUN_MAX_ATTRS)
        return -1;
    int idx = (int)m->nattrs;
    m->attrs[m->nattrs++] = *a;
    if (a->type == STUN_ATTR_MESSAGE_INTEGRITY)
        m->mi = idx;
    else if (a->type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
        m->mi256 = idx;
    else if (a->type == STUN_ATTR_FINGERPRINT)
        m->fp = idx;
    return 0;
}

static enum stun_status decode_attrs(struct stun_msg *m)
{
    const uint8_t *buf = m->buf;
    size_t pos = STUN_HEADER_LEN;
    while (pos < m->len) {
        if (m->len - pos < 4 || m->fp >= 0)
            return STUN_MALFORMED; /* a stray tail, or something after FINGERPRINT */
        struct stun_attr a = { rd16(buf + pos), rd16(buf + pos + 2), (uint32_t)(pos + 4) };
        size_t padded = ((size_t)a.len + 3) & ~(size_t)3;
        if (padded > m->len - pos - 4)
            return STUN_MALFORMED; /* runs past the end of the message */
        if (index_attr(m, &a) < 0)
            return STUN_MALFORMED;
        pos += 4 + padded;
    }
    return STUN_OK;
}

enum stun_status stun_msg_decode(const uint8_t *buf, size_t len, struct stun_msg *out)
{
    if (len < STUN_HEADER_LEN || (buf[0] & 0xC0))
        return STUN_NOT_STUN;
    size_t body = rd16(buf + 2);
    if (rd32(buf + 4) != STUN_COOKIE || body % 4 || len != STUN_HEADER_LEN + body)
        return STUN_MALFORMED;
    out->buf = buf;
    out->len = len;
    out->type = rd16(buf);
    out->txid = buf + 8;
    out->mi = out->mi256 = out->fp = -1;
    out->nattrs = 0;
    return decode_attrs(out);
}

const char *stun_strerror(enum stun_status s)
{
    static const char *const names[] = { "ok", "not_stun", "malformed" };
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* --- attributes --- */

const struct stun_attr *stun_msg_find(const struct stun_msg *m, uint16_t type)
{
    for (size_t i = 0; i < m->nattrs; i++) {
        if (m->attrs[i].type == type)
            return &m->attrs[i];
    }
    return NULL;
}

int stun_msg_has(const struct stun_msg *m, uint16_t type)
{
    return stun_msg_find(m, type) != NULL;
}

/* Finds the attribute and checks its length: 0, -ENOENT or -EINVAL. */
static int find_valid(const struct stun_msg *m, uint16_t type, const struct stun_attr **out)
{
    *out = stun_msg_find(m, type);
    if (!*out)
        return -ENOENT;
    return length_ok(*out) ? 0 : -EINVAL;
}

int stun_attr_xor_addr(const struct stun_msg *m, const struct stun_attr *a, struct stun_addr *out)
{
    const uint8_t *v = stun_attr_value(m, a);
    if (a->len < 4)
        return -EINVAL;
    size_t n = v[1] == STUN_IPV4 ? 4 : v[1] == STUN_IPV6 ? 16 : 0;
    if (n == 0 || a->len != 4 + n)
        return -EINVAL; /* unknown family, or an address of the wrong size */
    memset(out, 0, sizeof(*out));
    out->family = v[1];
    out->port = (uint16_t)(rd16(v + 2) ^ (STUN_COOKIE >> 16));
    /* The mask is the cookie followed by the transaction id: exactly the
     * header bytes 4..19. */
    for (size_t i = 0; i < n; i++)
        out->ip[i] = v[4 + i] ^ m->buf[4 + i];
    return 0;
}

int stun_msg_xor_addr(const struct stun_msg *m, uint16_t type, struct stun_addr *out)
{
    const struct stun_attr *a = stun_msg_find(m, type);
    return a ? stun_attr_xor_addr(m, a, out) : -ENOENT;
}

int stun_msg_str(const struct stun_msg *m, uint16_t type, struct stun_str *out)
{
    const struct stun_attr *a;
    int rc = find_valid(m, type, &a);
    if (rc)
        return rc;
    out->p = stun_attr_value(m, a);
    out->len = a->len;
    return 0;
}

int stun_msg_u32(const struct stun_msg *m, uint16_t type, uint32_t *out)
{
    const struct stun_attr *a;
    int rc = find_valid(m, type, &a);
    if (rc)
        return rc;
    if (a->len != 4)
        return -EINVAL;
    *out = rd32(stun_attr_value(m, a));
    return 0;
}

int stun_msg_error_code(const struct stun_msg *m, int *code, struct stun_str *reason)
{
    const struct stun_attr *a;
    int rc = find_valid(m, STUN_ATTR_ERROR_CODE, &a);
    if (rc)
        return rc;
    const uint8_t *v = stun_attr_value(m, a);
    int cls = v[2] & 0x07, num = v[3];
    if (cls < 3 || cls > 6 || num > 99)
        return -EINVAL;
    *code = cls * 100 + num;
    reason->p = v + 4;
    reason->len = a->len - 4u;
    return 0;
}

int stun_msg_requested_transport(const struct stun_msg *m, uint8_t *proto)
{
    const struct stun_attr *a;
    int rc = find_valid(m, STUN_ATTR_REQUESTED_TRANSPORT, &a);
    if (rc)
        return rc;
    *proto = stun_attr_value(m, a)[0]; /* then 3 bytes RFFU, ignored */
    return 0;
}

int stun_msg_channel_number(const struct stun_msg *m, uint16_t *channel)
{
    const struct stun_attr *a;
    int rc = find_valid(m, STUN_ATTR_CHANNEL_NUMBER, &a);
    if (rc)
        return rc;
    uint16_t ch = rd16(stun_attr_value(m, a));
    if (ch < STUN_CHANNEL_MIN || ch > STUN_CHANNEL_MAX)
        return -EINVAL;
    *channel = ch;
    return 0;
}

int stun_msg_unknown_attributes(const struct stun_msg *m, uint16_t *out, size_t cap)
{
    const struct stun_attr *a = stun_msg_find(m, STUN_ATTR_UNKNOWN_ATTRIBUTES);
    if (!a)
        return -ENOENT;
    if (a->len % 2)
        return -EINVAL;
    const uint8_t *v = stun_attr_value(m, a);
    size_t n = 0;
    for (; n < a->len / 2u && n < cap; n++)
        out[n] = rd16(v + 2 * n);
    return (int)n;
}

static int listed(const uint16_t *list, size_t n, uint16_t type)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i] == type)
            return 1;
    }
    return 0;
}

size_t stun_msg_unknown_required(const struct stun_msg *m, const uint16_t *known, size_t nknown,
                                 uint16_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nattrs && n < cap; i++) {
        uint16_t t = m->attrs[i].type;
        if (t >= 0x8000 || t == STUN_ATTR_MESSAGE_INTEGRITY || t == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
            continue;
        if (!listed(known, nknown, t) && !listed(out, n, t))
            out[n++] = t;
    }
    return n;
}

/* --- integrity and fingerprint --- */

/* HMAC with the named digest over hdr[0..20) then body[0..n); out holds 32
 * bytes. Returns the MAC length, or 0 on an OpenSSL failure. */
static size_t hmac2(const char *digest, const uint8_t *key, size_t keylen, const uint8_t *hdr,
                    const uint8_t *body, size_t n, uint8_t out[STUN_SHA256_LEN])
{
    static const uint8_t empty_key[1];
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    size_t outlen = 0;
    /* A NULL key would mean "keep the previous key"; an empty one is a key. */
    int ok = ctx && EVP_MAC_init(ctx, keylen ? key : empty_key, keylen, params) &&
             EVP_MAC_update(ctx, hdr, STUN_HEADER_LEN) && EVP_MAC_update(ctx, body, n) &&
             EVP_MAC_final(ctx, out, &outlen, STUN_SHA256_LEN);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? outlen : 0;
}

/* Checks the integrity attribute at index idx with the digest. */
static int check_mac(const struct stun_msg *m, int idx, const char *digest, const uint8_t *key,
                     size_t keylen)
{
    const struct stun_attr *a = &m->attrs[idx];
    /* The length field must read as if the message ended with this
     * attribute (§14.5): its value is 4-aligned, so no padding follows. */
    size_t fake_len = a->off + a->len - STUN_HEADER_LEN;
    uint8_t hdr[STUN_HEADER_LEN];
    memcpy(hdr, m->buf, STUN_HEADER_LEN);
    hdr[2] = (uint8_t)(fake_len >> 8);
    hdr[3] = (uint8_t)fake_len;
    uint8_t mac[STUN_SHA256_LEN];
    size_t covered = a->off - 4 - STUN_HEADER_LEN; /* the attributes before this one */
    size_t n = hmac2(digest, key, keylen, hdr, m->buf + STUN_HEADER_LEN, covered, mac);
    if (n < a->len)
        return -EACCES;
    return CRYPTO_memcmp(mac, stun_attr_value(m, a), a->len) ? -EACCES : 0;
}

uint16_t stun_msg_integrity_type(const struct stun_msg *m)
{
    if (m->mi256 >= 0)
        return STUN_ATTR_MESSAGE_INTEGRITY_SHA256;
    return m->mi >= 0 ? STUN_ATTR_MESSAGE_INTEGRITY : 0;
}

int stun_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t keylen)
{
    if (m->mi256 >= 0)
        return check_mac(m, m->mi256, "SHA256", key, keylen);
    if (m->mi >= 0)
        return check_mac(m, m->mi, "SHA1", key, keylen);
    return -ENOENT;
}

int stun_check_fingerprint(const struct stun_msg *m)
{
    if (m->fp < 0)
        return -ENOENT;
    /* FINGERPRINT is last (decode made sure), so the length field already
     * covers it, as §14.7 requires. */
    const struct stun_attr *a = &m->attrs[m->fp];
    uint32_t want = crc32_ieee(m->buf, a->off - 4) ^ STUN_FINGERPRINT_XOR;
    return rd32(stun_attr_value(m, a)) == want ? 0 : -EBADMSG;
}
