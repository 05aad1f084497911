/*
 * dtls — the SFU's DTLS 1.2 server (RFC 6347) for DTLS-SRTP (RFC 5764),
 * OpenSSL over memory, no sockets.
 *
 * One struct dtls_server per process (or per loop) holds a self-signed
 * ECDSA P-256 certificate made at start and its SHA-256 fingerprint, which
 * goes into every SDP we send (a=fingerprint:sha-256 ...). We always take
 * the passive role (a=setup:passive), so every session is a DTLS server.
 *
 * A struct dtls_session is one peer's handshake and record layer. The glue
 * feeds it each datagram whose first byte is 20-63 (RFC 7983); whatever
 * OpenSSL wants to send comes out through the send callback, one datagram
 * per call, at most DTLS_MTU bytes. Retransmission timers are OpenSSL's:
 * the glue asks for the next deadline on its clock (monotonic milliseconds)
 * and calls dtls_session_on_timer() when it passes. The peer's certificate
 * must match the fingerprint from its SDP, or the handshake fails with a
 * bad_certificate alert. dtls_client_new() makes the client role for
 * tools and tests that play the browser. Once connected, the SRTP keys (RFC 5764 §4.2) are
 * exported for the srtp module, and application data (SCTP, later) flows
 * through the data callback and dtls_session_send().
 */
#ifndef TINCAN_SFU_DTLS_H
#define TINCAN_SFU_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define DTLS_FP_LEN (64 * 3)   /* "AB:CD:..." of up to SHA-512, with NUL */
#define DTLS_MTU 1200          /* largest datagram the session sends */
#define DTLS_KEY_MAX 16        /* master key bytes of the supported profiles */
#define DTLS_SALT_MAX 14       /* master salt bytes */

/* SRTP protection profiles (IANA "DTLS-SRTP Protection Profiles" values). */
enum dtls_srtp_profile {
    DTLS_SRTP_AES128_CM_SHA1_80 = 0x0001, /* 16-byte key, 14-byte salt */
    DTLS_SRTP_AEAD_AES_128_GCM = 0x0007,  /* 16-byte key, 12-byte salt */
};
/* Bits for dtls_server_new(): which profiles to offer. */
#define DTLS_OFFER_CM_SHA1_80 1u
#define DTLS_OFFER_AES_128_GCM 2u

enum dtls_state {
    DTLS_HANDSHAKING,
    DTLS_CONNECTED,  /* keys can be exported */
    DTLS_FAILED,     /* handshake or record error, wrong fingerprint: drop the session */
    DTLS_CLOSED,     /* the peer sent close_notify */
};

/* The keying material of RFC 5764 §4.2, split. The client is the browser:
 * we receive with client_key/client_salt and send with server_*. */
struct dtls_srtp_keys {
    enum dtls_srtp_profile profile;
    size_t key_len, salt_len;
    uint8_t client_key[DTLS_KEY_MAX], server_key[DTLS_KEY_MAX];
    uint8_t client_salt[DTLS_SALT_MAX], server_salt[DTLS_SALT_MAX];
};

/* --- certificates (also for tests that play the browser) --- */

/* Makes an ECDSA P-256 key and a self-signed certificate for it (SHA-256
 * signature, CN "tincan", valid from a day ago for 30 days, random serial).
 * Returns 0 with both owned by the caller, or -1. */
int dtls_cert_generate(X509 **cert, EVP_PKEY **key);
/* Writes the fingerprint of cert with the named hash ("sha-256", "sha-1",
 * "sha-384", "sha-512": RFC 8122's names) as uppercase hex pairs joined by
 * ':' into out. Returns 0, or -1 for an unknown hash. */
int dtls_cert_fingerprint(X509 *cert, const char *hash, char out[DTLS_FP_LEN]);

/* --- the server --- */

struct dtls_server;

/* Makes a server with a fresh certificate offering the profiles in `offer`
 * (DTLS_OFFER_* bits; AES-GCM is preferred when both are offered). Returns
 * NULL with a message in err on failure. */
struct dtls_server *dtls_server_new(unsigned offer, char *err, size_t errlen);
/* The same for the client role (the load generator in bench/sfu and tests
 * that play the browser): its sessions send the ClientHello on
 * dtls_session_connect() and check the server's certificate against the
 * fingerprint from the server's SDP. The struct keeps its server name. */
struct dtls_server *dtls_client_new(unsigned offer, char *err, size_t errlen);
/* Frees the server; its sessions must be freed first. NULL is a no-op. */
void dtls_server_free(struct dtls_server *srv);
/* "AB:CD:..." SHA-256 fingerprint of the server's certificate, owned by it. */
const char *dtls_server_fingerprint(const struct dtls_server *srv);

/* --- sessions --- */

/* Called with each datagram to send to the peer (send) or each piece of
 * application data received (data); both only from inside the session's
 * functions, never later. */
typedef void (*dtls_send_fn)(void *ud, const uint8_t *buf, size_t len);
typedef void (*dtls_data_fn)(void *ud, const uint8_t *buf, size_t len);

struct dtls_session;

/* Starts a session whose peer must present a certificate with the given
 * fingerprint (hash name and hex as in the SDP's a=fingerprint line, case
 * ignored). data may be NULL. Returns NULL for an unknown hash or a
 * fingerprint of the wrong length or form. */
struct dtls_session *dtls_session_new(struct dtls_server *srv, const char *fp_hash, const char *fp_hex,
                                      dtls_send_fn send, dtls_data_fn data, void *ud);
/* Frees the session without sending anything. NULL is a no-op. */
void dtls_session_free(struct dtls_session *s);

/* Client sessions: sends the first flight through send (once; lost flights
 * are sent again by dtls_session_on_timer()). A no-op for server sessions
 * and after the first call. Returns the state. */
enum dtls_state dtls_session_connect(struct dtls_session *s);
/* Handles one received datagram; may call send (handshake flights, alerts)
 * and data. Returns the state after it. Datagrams fed after FAILED or
 * CLOSED are ignored. */
enum dtls_state dtls_session_feed(struct dtls_session *s, const uint8_t *dgram, size_t len);
enum dtls_state dtls_session_state(const struct dtls_session *s);
/* Why the session failed, for logs ("" if it has not). */
const char *dtls_session_error(const struct dtls_session *s);

/* The deadline for the next retransmission on the caller's clock: now_ms
 * plus what OpenSSL's timer has left, or -1 when no timer runs. */
int64_t dtls_session_deadline(const struct dtls_session *s, int64_t now_ms);
/* Retransmits the last flight if OpenSSL's timer has expired (it doubles
 * the timeout each time, RFC 6347 §4.2.4.1). Returns the state; a handshake
 * that keeps timing out fails. */
enum dtls_state dtls_session_on_timer(struct dtls_session *s);

/* Once CONNECTED: the negotiated profile and exported keys. Returns 0, or
 * -1 before the handshake completed. */
int dtls_session_keys(const struct dtls_session *s, struct dtls_srtp_keys *out);
/* Sends application data in one record. Returns 0, or -1 if not connected
 * or OpenSSL refused. */
int dtls_session_send(struct dtls_session *s, const uint8_t *buf, size_t len);
/* Sends close_notify; the session is CLOSED afterwards. */
void dtls_session_close(struct dtls_session *s);

#endif
