/*
 * ice_lite — the server side of ICE-lite (RFC 8445 §2.5, §7.3) for one SFU
 * session, over the STUN codec in stun/stun.h.
 *
 * An ICE-lite agent has only host candidates, never sends checks and is
 * always the controlled agent: the browser (a full agent, controlling)
 * sends Binding requests to our candidate; we answer each one that carries
 * our credentials, and the pair it arrived on becomes valid. A request with
 * USE-CANDIDATE nominates that pair; among nominated pairs the one with the
 * highest PRIORITY is selected, and media and DTLS go to its remote address.
 * The browser keeps sending checks (consent freshness, RFC 7675): their
 * arrival time per pair tells the glue when consent has lapsed.
 *
 * Credentials: the USERNAME of a check is "ourufrag:theirufrag" and its
 * MESSAGE-INTEGRITY is keyed with our ice-pwd (short-term credentials, RFC
 * 8489 §9.1). ice_lite_ufrag() reads the first half without decoding the
 * whole message, so the UDP demultiplexer can find the session a check
 * belongs to before handing it here.
 *
 * No I/O: ice_lite_handle() writes the response into the caller's buffer
 * and the caller sends it to the address the request came from, from the
 * address it arrived on. No allocation.
 */
#ifndef TINCAN_SFU_ICE_LITE_H
#define TINCAN_SFU_ICE_LITE_H

#include <stddef.h>
#include <stdint.h>

#include "stun/stun.h"

#define ICE_UFRAG_MAX 64   /* RFC 8839 allows 4-256 characters; browsers use 4-32 */
#define ICE_PWD_MAX 128    /* RFC 8839 allows 22-256 characters */
#define ICE_MAX_PAIRS 8    /* remote addresses tracked per session */
#define ICE_RESPONSE_MAX 128 /* enough for any response ice_lite_handle() builds */

/* One candidate pair: our candidate (the session has one per socket, the
 * glue tells them apart) and the remote address checks came from. */
struct ice_pair {
    struct stun_addr remote;
    uint32_t priority;        /* the PRIORITY of its latest check */
    uint64_t last_check_ms;   /* caller's clock at its latest valid check */
    uint8_t in_use;
    uint8_t nominated;
    char ufrag[ICE_UFRAG_MAX + 1]; /* the browser's ufrag in its latest check */
};

struct ice_lite {
    char local_ufrag[ICE_UFRAG_MAX + 1];
    char local_pwd[ICE_PWD_MAX + 1];
    char remote_ufrag[ICE_UFRAG_MAX + 1]; /* empty: not known yet, any accepted */
    size_t local_ufrag_len, local_pwd_len, remote_ufrag_len;
    struct ice_pair pairs[ICE_MAX_PAIRS];
    int selected;             /* index into pairs, or -1 */
};

/* Sets up a session with our ufrag and password (as put in our SDP) and
 * the peer's ufrag from its SDP, or NULL if its description has not come
 * yet. Returns 0, or -EINVAL if a value is empty or longer than the limits
 * above. ice_lite has no resources: there is nothing to free. */
int ice_lite_init(struct ice_lite *ice, const char *local_ufrag, const char *local_pwd,
                  const char *remote_ufrag);
/* Records the peer's ufrag once its description arrives (an ICE restart
 * needs a new session); pairs whose checks came with another ufrag (a
 * client with an ICE agent per m-section checks with each before BUNDLE
 * applies) are dropped. Returns 0 or -EINVAL. */
int ice_lite_set_remote(struct ice_lite *ice, const char *remote_ufrag);

/* An ICE restart (RFC 8445 §2.4): new credentials on both sides. The
 * pairs that passed checks stay valid and the selected one stays selected
 * (media goes on) until a check with the new credentials nominates a pair,
 * which then takes over whatever its priority. 0 or -EINVAL. */
int ice_lite_restart(struct ice_lite *ice, const char *local_ufrag, const char *local_pwd, const char *remote_ufrag);

enum ice_verdict {
    ICE_DROP,    /* nothing to send: not a Binding request, or FINGERPRINT wrong */
    ICE_ERROR,   /* an error response was built: see error_code */
    ICE_SUCCESS, /* a success response was built; the pair is valid */
};

struct ice_result {
    enum ice_verdict verdict;
    int error_code;       /* 400, 401, 420 or 487 for ICE_ERROR */
    int pair;             /* index of the pair for ICE_SUCCESS, else -1 */
    int use_candidate;    /* the request nominated its pair */
    int selected_changed; /* ice->selected changed with this request */
};

/* Answers the STUN message req[0..len) that arrived from `from` at caller
 * time now_ms. Checks, in order (RFC 8489 §9.1.3, RFC 8445 §7.3):
 * a Binding request (else drop); FINGERPRINT present (400) and right (else
 * drop); USERNAME and MESSAGE-INTEGRITY(-SHA256) present (400); USERNAME is
 * "local:remote" with our ufrag and, once known, theirs (401); integrity
 * with our password (401); no unknown comprehension-required attributes
 * (420); PRIORITY present (400); ICE-CONTROLLING present (487 when the peer
 * says it is controlled too, 400 when it says neither). Error responses to
 * requests that failed authentication carry no MESSAGE-INTEGRITY; the rest
 * do, in the same kind as the request's. On success the pair for `from` is
 * created or refreshed (evicting the least recently checked unselected pair
 * when all ICE_MAX_PAIRS are in use), nominated when USE-CANDIDATE is
 * present, and the selection updated.
 * Writes the response (same transaction id) into resp[0..cap) and returns
 * its length, 0 when there is nothing to send (ICE_DROP), or -ENOBUFS if
 * cap is too small (ICE_RESPONSE_MAX always fits). *res says what happened. */
int ice_lite_handle(struct ice_lite *ice, const uint8_t *req, size_t len, const struct stun_addr *from,
                    uint64_t now_ms, uint8_t *resp, size_t cap, struct ice_result *res);

/* The selected pair, or NULL before a nomination. */
const struct ice_pair *ice_lite_selected(const struct ice_lite *ice);
/* True while the selected pair has had a valid check within timeout_ms of
 * now_ms (RFC 7675 says 30 s); false with no selected pair. */
int ice_lite_consent(const struct ice_lite *ice, uint64_t now_ms, uint64_t timeout_ms);

/* Builds a Binding success response for transaction txid: XOR-MAPPED-
 * ADDRESS `mapped`, MESSAGE-INTEGRITY (or -SHA256 when integrity_type says
 * so) keyed with pwd, FINGERPRINT. Returns its length or -ENOBUFS. */
int ice_lite_build_success(const uint8_t txid[STUN_TXID_LEN], const struct stun_addr *mapped,
                           const char *pwd, size_t pwd_len, uint16_t integrity_type,
                           uint8_t *resp, size_t cap);

/* The demultiplexer's fast path: if buf[0..len) is a STUN Binding request
 * whose header is well formed and that carries a USERNAME with a ':', sets
 * *ufrag to the part before the ':' (a view into buf) and returns 0;
 * otherwise -EINVAL. Walks attribute headers only; checks nothing else, so
 * ice_lite_handle() must still authenticate the message. */
int ice_lite_ufrag(const uint8_t *buf, size_t len, struct stun_str *ufrag);

#endif
