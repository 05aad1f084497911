/*
 * srtp — SRTP and SRTCP contexts (RFC 3711, RFC 7714) over libsrtp2, made
 * from the keys a DTLS-SRTP handshake exported (dtls.h).
 *
 * A session has two contexts: inbound, keyed with the browser's (client's)
 * key and salt, unprotects what it sends; outbound, keyed with ours
 * (server's), protects what we send it. Both accept any SSRC: libsrtp2
 * makes a stream per SSRC on first sight. Packets are changed in place:
 * protect appends the authentication tag (and SRTCP index), so the buffer
 * needs SFU_SRTP_TRAILER_MAX bytes of room after the packet.
 *
 * Names carry the sfu_srtp_ prefix because libsrtp2 owns srtp_.
 * No I/O; one allocation per context (libsrtp2's own).
 */
#ifndef TINCAN_SFU_SRTP_H
#define TINCAN_SFU_SRTP_H

#include <stddef.h>
#include <stdint.h>

#include "sfu/dtls.h"

#define SFU_SRTP_TRAILER_MAX 148 /* libsrtp2's SRTP_MAX_TRAILER_LEN + the SRTCP index */

enum sfu_srtp_dir {
    SFU_SRTP_INBOUND,  /* unprotect what the peer sent */
    SFU_SRTP_OUTBOUND, /* protect what we send */
};

enum sfu_srtp_status {
    SFU_SRTP_OK,
    SFU_SRTP_AUTH_FAIL,  /* the tag did not verify: drop */
    SFU_SRTP_REPLAY,     /* seen already or too old for the replay window: drop */
    SFU_SRTP_NO_ROOM,    /* protect: cap - len < SFU_SRTP_TRAILER_MAX */
    SFU_SRTP_BAD_PACKET, /* too short or not RTP/RTCP-shaped */
    SFU_SRTP_ERROR,      /* anything else libsrtp2 reported */
};

struct sfu_srtp;

/* Which profiles this build of libsrtp2 can run, as DTLS_OFFER_* bits for
 * dtls_server_new(): AES-CM with HMAC-SHA1-80 always, AES-GCM only when
 * libsrtp2 was built with a crypto library that has it. */
unsigned sfu_srtp_profiles(void);

/* A context for the profile with master key key[0..key_len) and salt
 * salt[0..salt_len) (from struct dtls_srtp_keys). Returns NULL if the
 * profile is not supported or the lengths are wrong for it. */
struct sfu_srtp *sfu_srtp_new(enum dtls_srtp_profile profile, const uint8_t *key, size_t key_len,
                              const uint8_t *salt, size_t salt_len, enum sfu_srtp_dir dir);
/* The context for one direction of a DTLS-SRTP session: inbound from the
 * client's key and salt, outbound from the server's. */
struct sfu_srtp *sfu_srtp_from_dtls(const struct dtls_srtp_keys *k, enum sfu_srtp_dir dir);
/* Frees the context. NULL is a no-op. */
void sfu_srtp_free(struct sfu_srtp *c);

/* Protects the RTP packet buf[0..*len) in place (outbound contexts);
 * buf has cap bytes. On SFU_SRTP_OK *len is the SRTP length. The same
 * packet may be protected again (a retransmission): repeats are allowed. */
enum sfu_srtp_status sfu_srtp_protect(struct sfu_srtp *c, uint8_t *buf, size_t *len, size_t cap);
/* Unprotects the SRTP packet buf[0..*len) in place (inbound contexts); on
 * SFU_SRTP_OK *len is the RTP length. On any failure the bytes in buf are
 * undefined (AES-GCM decrypts in place before the tag is checked): drop
 * the packet. A packet that failed does not enter the replay window. */
enum sfu_srtp_status sfu_srtp_unprotect(struct sfu_srtp *c, uint8_t *buf, size_t *len);
/* The same for RTCP and SRTCP. */
enum sfu_srtp_status sfu_srtp_protect_rtcp(struct sfu_srtp *c, uint8_t *buf, size_t *len, size_t cap);
enum sfu_srtp_status sfu_srtp_unprotect_rtcp(struct sfu_srtp *c, uint8_t *buf, size_t *len);

/* A constant name for a status, for logs and counters. */
const char *sfu_srtp_strerror(enum sfu_srtp_status s);

/* 1 if AES-GCM runs on OpenSSL (srtp_ossl.h), 0 if on libsrtp2's own
 * backend. */
int sfu_srtp_gcm_openssl(void);

#endif
