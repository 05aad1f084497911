/*
 * session — one browser-side transport of the SFU (one RTCPeerConnection
 * of one browser): ICE-lite checks, the DTLS-SRTP handshake and the SRTP
 * contexts both ways, over ice_lite, dtls and srtp. No sockets.
 *
 * The glue hands every datagram that belongs to the session to
 * sfu_session_input() with the address it came from and the time on its
 * clock. The session tells the kinds apart by the first byte (RFC 7983):
 * STUN goes to ice_lite and the answer goes back to the sender; DTLS is
 * taken only from an address that passed an ICE check (a ClientHello from
 * anywhere else is dropped); SRTP/SRTCP likewise, and once the handshake
 * is done it is unprotected in place and handed to the rtp/rtcp callback.
 * What we send (DTLS flights, protected media) goes through the send
 * callback to the media address: the selected (nominated) pair, or before
 * a nomination the valid pair DTLS came from.
 *
 * Timers: the DTLS retransmission deadline on the caller's clock comes from
 * sfu_session_deadline(); the caller runs sfu_session_on_timer() then.
 */
#ifndef TINCAN_SFU_SESSION_H
#define TINCAN_SFU_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "sfu/dtls.h"
#include "sfu/ice_lite.h"

enum sfu_session_state {
    SFU_SESSION_NEW,        /* no DTLS yet */
    SFU_SESSION_CONNECTED,  /* SRTP keys in place: media flows */
    SFU_SESSION_FAILED,     /* DTLS failed (bad fingerprint, timeout) or SRTP could not start */
    SFU_SESSION_CLOSED,     /* the peer sent close_notify */
};

/* What happened to one datagram. */
enum sfu_input {
    SFU_IN_OK,            /* handled (ICE answered, DTLS fed, media handed on) */
    SFU_IN_ICE_REJECTED,  /* a STUN message ice_lite dropped or answered with an error */
    SFU_IN_UNKNOWN_ADDR,  /* DTLS or media from an address that passed no ICE check */
    SFU_IN_NOT_READY,     /* media before the handshake finished */
    SFU_IN_SRTP_AUTH,     /* SRTP/SRTCP did not authenticate, or a replay */
    SFU_IN_BAD_PACKET,    /* not STUN, DTLS or RTP/RTCP shaped, or SRTP refused its form */
    SFU_IN_DTLS_FAILED,   /* the handshake failed with this datagram (or already had) */
    SFU_IN_BAD_DTLS,      /* not whole DTLS records (truncated, garbage): not fed to OpenSSL */
};

struct sfu_session_ops {
    /* Sends buf[0..len) to `to` from the session's local address. */
    void (*send)(void *ud, const struct stun_addr *to, const uint8_t *buf, size_t len);
    /* Unprotected RTP or RTCP, in the caller's buffer (cap bytes) for the
     * duration of the call; the callee may rewrite it. */
    void (*rtp)(void *ud, uint8_t *buf, size_t len, size_t cap);
    void (*rtcp)(void *ud, uint8_t *buf, size_t len, size_t cap);
    /* An ICE check succeeded from `remote`: the glue maps the address to
     * this session from now on (called for every successful check). */
    void (*pair)(void *ud, const struct stun_addr *remote);
    /* The state changed (CONNECTED, FAILED or CLOSED). */
    void (*state)(void *ud, enum sfu_session_state st);
};

struct sfu_session_params {
    const char *local_ufrag, *local_pwd; /* ours, as written in our SDP */
    const char *remote_ufrag;            /* the browser's, from its SDP; NULL: any until known */
    const char *fp_hash, *fp_hex;        /* the browser's a=fingerprint; NULL: not known yet */
};

struct sfu_session;

/* A session on DTLS server srv (which must outlive it). ops is copied; ud
 * is passed to every callback. Returns NULL if the ICE credentials or the
 * fingerprint are unusable. */
struct sfu_session *sfu_session_new(struct dtls_server *srv, const struct sfu_session_params *p,
                                    const struct sfu_session_ops *ops, void *ud);
/* Frees the session without sending anything. NULL is a no-op. */
void sfu_session_free(struct sfu_session *s);

/* Handles one datagram buf[0..len) (changed in place: SRTP is unprotected
 * where it lies; cap is the buffer's size) from `from` at now_ms. May call
 * any callback. Returns what became of it. */
enum sfu_input sfu_session_input(struct sfu_session *s, uint8_t *buf, size_t len, size_t cap,
                                 const struct stun_addr *from, uint64_t now_ms);

/* Protects the RTP (or RTCP) packet buf[0..len) in place (buf has cap
 * bytes, at least len + SFU_SRTP_TRAILER_MAX) and sends it to the media
 * address. Returns 0, -EAGAIN before the session is CONNECTED, or -EIO if
 * SRTP refused it. */
int sfu_session_send_rtp(struct sfu_session *s, uint8_t *buf, size_t len, size_t cap);
int sfu_session_send_rtcp(struct sfu_session *s, uint8_t *buf, size_t len, size_t cap);

/* For a session made from our offer (no fingerprint yet): the browser's
 * ufrag and fingerprint from its answer. Checks are answered before it
 * (USERNAME "ours:*" with our password), so the browser's ICE, which
 * starts as it sends its answer, need not wait for the answer to reach
 * us; the latest DTLS datagram before it is kept and fed now. 0, or -1
 * if the session has its fingerprint already or the values are unusable. */
int sfu_session_set_remote(struct sfu_session *s, const char *remote_ufrag, const char *fp_hash,
                           const char *fp_hex);

/* An ICE restart asked by the browser (a new ufrag in its offer): new
 * ICE credentials, the same DTLS association and SRTP keys (RFC 8445
 * §2.4, RFC 8842 §4: the fingerprint did not change). Media goes on over
 * the old pair until the new checks nominate one. 0, or -1 if the
 * credentials are unusable (the session is unchanged). */
int sfu_session_restart_ice(struct sfu_session *s, const char *local_ufrag, const char *local_pwd,
                            const char *remote_ufrag);
/* When the browser last proved it still wants our media: the latest
 * valid check on any pair, or since (the session's start) if none came. */
uint64_t sfu_session_last_check(const struct sfu_session *s, uint64_t since);

enum sfu_session_state sfu_session_state(const struct sfu_session *s);
/* The ICE state, for the glue (selected pair, consent). */
const struct ice_lite *sfu_session_ice(const struct sfu_session *s);
/* Why DTLS failed, for logs ("" if it has not). */
const char *sfu_session_error(const struct sfu_session *s);

/* The next DTLS retransmission on the caller's clock, or -1. */
int64_t sfu_session_deadline(const struct sfu_session *s, uint64_t now_ms);
/* Runs DTLS retransmission once its deadline passed; may call send/state. */
void sfu_session_on_timer(struct sfu_session *s);

#endif
