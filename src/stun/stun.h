/*
 * stun — the STUN message codec (RFC 8489) with the attributes TURN needs
 * (RFC 8656), and the framing around it. No I/O, and no allocation but
 * OpenSSL's own (its HMAC contexts).
 *
 * Four parts, each pure:
 *  - decoding (stun.c): stun_msg_decode() checks the framing of one whole
 *    message and indexes its attributes. struct stun_msg points into the
 *    caller's buffer, which must outlive it. Typed accessors read attribute
 *    values and report a malformed value (-EINVAL: the server answers 400)
 *    apart from a framing error (STUN_MALFORMED: the message is dropped).
 *  - checking (stun.c): MESSAGE-INTEGRITY (HMAC-SHA1), MESSAGE-INTEGRITY-
 *    SHA256 and FINGERPRINT (CRC-32 XOR 0x5354554e), RFC 8489 §14.5-14.7.
 *  - building (stun_build.c): struct stun_builder writes a message into a
 *    caller's buffer of fixed capacity and ends it with the integrity
 *    attributes and FINGERPRINT; running out of room is reported, never
 *    written past.
 *  - framing (stun_frame.c): ChannelData (RFC 8656 §12.5) in datagrams and
 *    in streams, the length of the next frame on a TURN stream, and
 *    conversion between struct stun_addr and struct sockaddr. (What a
 *    datagram on the UDP port is, is net/udp_demux's to say.)
 *
 * Multi-byte fields are big-endian on the wire; struct fields are host order
 * except addresses, which keep network byte order in stun_addr.ip.
 */
#ifndef TINCAN_STUN_H
#define TINCAN_STUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HEADER_LEN 20
#define STUN_COOKIE 0x2112A442u
#define STUN_TXID_LEN 12
#define STUN_MAX_ATTRS 32             /* more attributes → STUN_MALFORMED */
#define STUN_MAX_LEN (STUN_HEADER_LEN + 0xFFFC) /* header + longest body */
#define STUN_FINGERPRINT_XOR 0x5354554eu
#define STUN_SHA1_LEN 20
#define STUN_SHA256_LEN 32
/* Channel numbers: RFC 8656 §12 says 0x4000-0x4FFF, RFC 5766 clients
 * (coturn's among them) draw from 0x4000-0x7FFF; coturn accepts both, and
 * so do we. First bytes 0x40-0x7F fall between DTLS and RTP (RFC 7983). */
#define STUN_CHANNEL_MIN 0x4000
#define STUN_CHANNEL_MAX 0x7FFF
#define STUN_CHANNELDATA_HEADER 4
#define STUN_PROTO_UDP 17             /* REQUESTED-TRANSPORT value for UDP */

enum stun_class {
    STUN_REQUEST = 0,
    STUN_INDICATION = 1,
    STUN_SUCCESS = 2,
    STUN_ERROR = 3,
};

enum stun_method {
    STUN_BINDING = 0x001,
    STUN_ALLOCATE = 0x003,
    STUN_REFRESH = 0x004,
    STUN_SEND = 0x006,
    STUN_DATA = 0x007,
    STUN_CREATE_PERMISSION = 0x008,
    STUN_CHANNEL_BIND = 0x009,
};

/* Attribute types; below 0x8000 a receiver must understand them
 * (comprehension-required), from 0x8000 it may ignore them. */
enum stun_attr_type {
    STUN_ATTR_MAPPED_ADDRESS = 0x0001,
    STUN_ATTR_USERNAME = 0x0006,
    STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    STUN_ATTR_ERROR_CODE = 0x0009,
    STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
    STUN_ATTR_CHANNEL_NUMBER = 0x000C,
    STUN_ATTR_LIFETIME = 0x000D,
    STUN_ATTR_XOR_PEER_ADDRESS = 0x0012,
    STUN_ATTR_DATA = 0x0013,
    STUN_ATTR_REALM = 0x0014,
    STUN_ATTR_NONCE = 0x0015,
    STUN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
    STUN_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
    STUN_ATTR_EVEN_PORT = 0x0018,
    STUN_ATTR_REQUESTED_TRANSPORT = 0x0019,
    STUN_ATTR_DONT_FRAGMENT = 0x001A,
    STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
    STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
    STUN_ATTR_USERHASH = 0x001E,
    STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    STUN_ATTR_RESERVATION_TOKEN = 0x0022,
    STUN_ATTR_PRIORITY = 0x0024,
    STUN_ATTR_USE_CANDIDATE = 0x0025,
    STUN_ATTR_PASSWORD_ALGORITHMS = 0x8002,
    STUN_ATTR_ALTERNATE_DOMAIN = 0x8003,
    STUN_ATTR_SOFTWARE = 0x8022,
    STUN_ATTR_ALTERNATE_SERVER = 0x8023,
    STUN_ATTR_FINGERPRINT = 0x8028,
    STUN_ATTR_ICE_CONTROLLED = 0x8029,
    STUN_ATTR_ICE_CONTROLLING = 0x802A,
};

enum stun_status {
    STUN_OK,
    STUN_NOT_STUN,    /* shorter than a header, or the first two bits are not 0 */
    STUN_MALFORMED,   /* STUN-shaped but broken: drop it silently (§6.3) */
};

/* A view of bytes inside a message or another caller-owned buffer. */
struct stun_str {
    const uint8_t *p;
    size_t len;
};

/* One attribute of a decoded message: its value is msg->buf[off..off+len). */
struct stun_attr {
    uint16_t type;
    uint16_t len;     /* value length without padding */
    uint32_t off;     /* offset of the value from the start of the message */
};

struct stun_msg {
    const uint8_t *buf;   /* the message: the caller's bytes */
    size_t len;           /* STUN_HEADER_LEN + the header's length field */
    uint16_t type;        /* method and class, see stun_method_of/stun_class_of */
    const uint8_t *txid;  /* STUN_TXID_LEN bytes inside buf */
    int mi, mi256, fp;    /* index in attrs of MESSAGE-INTEGRITY(-SHA256), FINGERPRINT; -1 if absent */
    size_t nattrs;
    struct stun_attr attrs[STUN_MAX_ATTRS];
};

enum stun_family {
    STUN_IPV4 = 1,
    STUN_IPV6 = 2,
};

/* A transport address as STUN carries it. */
struct stun_addr {
    uint8_t family;       /* enum stun_family */
    uint16_t port;        /* host order */
    uint8_t ip[16];       /* network order; 4 bytes used for IPv4 */
};

/* --- message type --- */

/* The 16-bit message type of method m (12 bits) in class c (RFC 8489 §5). */
static inline uint16_t stun_type(unsigned m, enum stun_class c)
{
    return (uint16_t)((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) |
                      ((c & 1) << 4) | ((c & 2) << 7));
}
/* The method and the class packed in a message type. */
static inline unsigned stun_method_of(uint16_t t)
{
    return (t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2);
}
static inline enum stun_class stun_class_of(uint16_t t)
{
    return (enum stun_class)(((t >> 4) & 1) | ((t >> 7) & 2));
}

/* --- decoding (stun.c) --- */

/* Decodes the single message that fills buf[0..len) (one datagram, or one
 * frame cut from a stream with stun_frame_len()). Returns STUN_OK with *out
 * filled; STUN_NOT_STUN if len < 20 or the first two bits are set;
 * STUN_MALFORMED if the cookie is wrong, the length field is not a multiple
 * of 4 or disagrees with len (missing or trailing bytes), an attribute runs
 * past the end, there are more than STUN_MAX_ATTRS, MESSAGE-INTEGRITY is not
 * 20 bytes, MESSAGE-INTEGRITY-SHA256 not 16-32 in steps of 4, FINGERPRINT not
 * 4, or FINGERPRINT is not last. Attributes after MESSAGE-INTEGRITY other
 * than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, and after MESSAGE-INTEGRITY-
 * SHA256 other than FINGERPRINT, are skipped as §14.5-14.6 require: they are
 * not indexed. Never reads outside buf[0..len). */
enum stun_status stun_msg_decode(const uint8_t *buf, size_t len, struct stun_msg *out);
/* A constant name for a status, for logs. */
const char *stun_strerror(enum stun_status s);

/* Returns the first indexed attribute of the type, or NULL. */
const struct stun_attr *stun_msg_find(const struct stun_msg *m, uint16_t type);
/* True if an attribute of the type is present (for DONT-FRAGMENT and other
 * flags, whatever its value). */
int stun_msg_has(const struct stun_msg *m, uint16_t type);
/* Points at an attribute's value inside the message. */
static inline const uint8_t *stun_attr_value(const struct stun_msg *m, const struct stun_attr *a)
{
    return m->buf + a->off;
}

/* The accessors below return 0 with the value, -ENOENT if the attribute is
 * absent, or -EINVAL if its value is malformed. Views point into m->buf. */

/* Decodes one XOR-MAPPED-, XOR-PEER- or XOR-RELAYED-ADDRESS attribute:
 * -EINVAL unless family 1 with 8 bytes or family 2 with 20 bytes. */
int stun_attr_xor_addr(const struct stun_msg *m, const struct stun_attr *a, struct stun_addr *out);
/* The first attribute of the type, decoded as above. */
int stun_msg_xor_addr(const struct stun_msg *m, uint16_t type, struct stun_addr *out);
/* The raw value of the first attribute of the type, checked against the
 * RFC's length limits: USERNAME < 513 bytes; REALM, NONCE, SOFTWARE at most
 * 763 bytes (128 characters); other types (DATA, ...) any length. Text is
 * not checked for UTF-8 or SASLprep/OpaqueString: it is compared as bytes. */
int stun_msg_str(const struct stun_msg *m, uint16_t type, struct stun_str *out);
/* A 32-bit attribute (LIFETIME, PRIORITY): exactly 4 bytes. */
int stun_msg_u32(const struct stun_msg *m, uint16_t type, uint32_t *out);
/* ERROR-CODE: code 300-699 and the reason phrase (≤ 763 bytes). */
int stun_msg_error_code(const struct stun_msg *m, int *code, struct stun_str *reason);
/* REQUESTED-TRANSPORT: the IP protocol number (17 for UDP). */
int stun_msg_requested_transport(const struct stun_msg *m, uint8_t *proto);
/* CHANNEL-NUMBER: -EINVAL also when outside STUN_CHANNEL_MIN..MAX. */
int stun_msg_channel_number(const struct stun_msg *m, uint16_t *channel);
/* UNKNOWN-ATTRIBUTES: stores up to cap types in out; returns how many it
 * stored, -ENOENT, or -EINVAL if the value length is odd. */
int stun_msg_unknown_attributes(const struct stun_msg *m, uint16_t *out, size_t cap);
/* Lists the comprehension-required attributes (type < 0x8000) whose type is
 * not among known[0..nknown) and is not one this module handles itself
 * (MESSAGE-INTEGRITY, -SHA256). Stores up to cap of them, each once, in out
 * and returns how many: a request with any earns a 420 answer. */
size_t stun_msg_unknown_required(const struct stun_msg *m, const uint16_t *known, size_t nknown,
                                 uint16_t *out, size_t cap);

/* --- checking (stun.c) --- */

/* Which integrity attribute stun_check_integrity() verifies:
 * STUN_ATTR_MESSAGE_INTEGRITY_SHA256 when present, else
 * STUN_ATTR_MESSAGE_INTEGRITY when present, else 0. A response should carry
 * the same kind (RFC 8489 §9.2.4). */
uint16_t stun_msg_integrity_type(const struct stun_msg *m);
/* Verifies that integrity attribute with HMAC key[0..keylen) (the long-term
 * key from auth.h, or a short-term password), computed as §14.5/§14.6 say:
 * over the message up to the attribute, with the header length field
 * pretending the message ends right after it. SHA-256 values truncated to
 * 16..28 bytes compare their prefix. Constant-time comparison. Returns 0 if
 * valid, -ENOENT if the message carries neither attribute, -EACCES if the
 * value does not match. */
int stun_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t keylen);
/* Verifies FINGERPRINT (CRC-32 of everything before it, XOR 0x5354554e).
 * Returns 0, -ENOENT if absent, -EBADMSG if wrong. */
int stun_check_fingerprint(const struct stun_msg *m);

/* --- building (stun_build.c) --- */

struct stun_builder {
    uint8_t *buf;
    size_t cap;
    size_t len;       /* bytes written so far; the header's length tracks it */
    int overflow;     /* set once something did not fit; sticky */
    uint8_t pad;      /* padding byte: 0 as RFC 8489 §14 says; RFC 5769's vectors use ' ' */
};

/* Starts a message of the given type and transaction id in buf[0..cap).
 * The builder borrows buf; it does not need cleanup. */
void stun_builder_init(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
                       const uint8_t txid[STUN_TXID_LEN]);
/* The adders append one attribute and return 0, -ENOBUFS when it does not
 * fit in the capacity or in a STUN length field (the builder then fails
 * from here on), or -EINVAL for a value they cannot encode. */
int stun_builder_add(struct stun_builder *b, uint16_t type, const void *value, size_t len);
int stun_builder_add_u32(struct stun_builder *b, uint16_t type, uint32_t v);
/* XOR-MAPPED-, XOR-PEER- or XOR-RELAYED-ADDRESS; -EINVAL for an unknown family. */
int stun_builder_add_xor_addr(struct stun_builder *b, uint16_t type, const struct stun_addr *a);
/* ERROR-CODE 300-699 with reason, or stun_reason(code) when reason is NULL. */
int stun_builder_add_error(struct stun_builder *b, int code, const char *reason);
int stun_builder_add_unknown(struct stun_builder *b, const uint16_t *types, size_t n);
int stun_builder_add_channel_number(struct stun_builder *b, uint16_t channel);
int stun_builder_add_requested_transport(struct stun_builder *b, uint8_t proto);
/* MESSAGE-INTEGRITY (HMAC-SHA1) over everything so far, with key[0..keylen). */
int stun_builder_add_integrity(struct stun_builder *b, const uint8_t *key, size_t keylen);
/* MESSAGE-INTEGRITY-SHA256, untruncated (32 bytes). */
int stun_builder_add_integrity_sha256(struct stun_builder *b, const uint8_t *key, size_t keylen);
/* FINGERPRINT; add it last. */
int stun_builder_add_fingerprint(struct stun_builder *b);
/* Returns the length of the finished message in buf, or -ENOBUFS if
 * anything did not fit (the bytes in buf are then not a message). */
int stun_builder_finish(const struct stun_builder *b);
/* The RFC's reason phrase for an error code, "Error" for codes it has none for. */
const char *stun_reason(int code);

/* --- framing (stun_frame.c) --- */

/* A ChannelData message: data points into the caller's buffer. */
struct stun_channeldata {
    uint16_t channel;
    const uint8_t *data;
    size_t len;
};

/* Parses a ChannelData message at buf[0..len). stream = 0 for a datagram:
 * the datagram must hold the claimed length and at most 3 bytes of padding
 * after it; returns len, or -1 if malformed. stream = 1 for TCP/TLS, where
 * each message is padded to a multiple of 4 (RFC 8656 §12.5): returns the
 * bytes the message takes including padding, 0 if more bytes are needed, or
 * -1 if malformed. Malformed also means a channel number outside
 * STUN_CHANNEL_MIN..STUN_CHANNEL_MAX. */
int stun_channeldata_parse(const uint8_t *buf, size_t len, int stream, struct stun_channeldata *out);
/* Frames len bytes of data already at buf + 4 as ChannelData on the
 * channel: writes the header and, when stream is set, zero padding.
 * Returns the frame length, or -1 if it does not fit in cap or len > 65535. */
int stun_channeldata_frame(uint8_t *buf, size_t cap, uint16_t channel, size_t len, int stream);

/* For a TURN stream (TCP or TLS): returns the length of the STUN message or
 * padded ChannelData message at the start of buf[0..len) once all of it is
 * there, 0 if more bytes are needed, -1 if the bytes are neither (bad first
 * bits, bad cookie, STUN length not a multiple of 4, channel out of range).
 * Cut that many bytes and hand them to stun_msg_decode() or
 * stun_channeldata_parse(..., 1, ...). */
int stun_frame_len(const uint8_t *buf, size_t len);

/* Fills *out from an AF_INET or AF_INET6 socket address; IPv4-mapped IPv6
 * addresses stay IPv6. Returns 0, or -EAFNOSUPPORT for other families. */
int stun_addr_from_sockaddr(struct stun_addr *out, const struct sockaddr *sa);
/* Writes a into *ss; returns the socket address length, 0 for a bad family. */
socklen_t stun_addr_to_sockaddr(const struct stun_addr *a, struct sockaddr_storage *ss);

#endif
