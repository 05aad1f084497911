/*
 * sniff — tells the protocols on tincan's one port apart by their first bytes.
 *
 * On the TCP port a connection starts with a TLS record (0x16), a STUN
 * message (two zero bits, then the magic cookie 0x2112A442 at bytes 4-7) or
 * an HTTP method; inside TLS the first decrypted bytes are STUN or HTTP.
 * Pure: it only looks at bytes.
 */
#ifndef TINCAN_SNIFF_H
#define TINCAN_SNIFF_H

#include <stddef.h>
#include <stdint.h>

enum sniff_result {
    SNIFF_NEED_MORE,  /* too few bytes to decide */
    SNIFF_TLS,        /* a TLS handshake record */
    SNIFF_HTTP,       /* starts like an HTTP request line */
    SNIFF_STUN,       /* a STUN message: hand it to TURN */
    SNIFF_UNKNOWN,    /* none of ours: close */
};

#define SNIFF_STUN_COOKIE 0x2112A442u
#define SNIFF_MAX_BYTES 8   /* never needs more than this */

/* Classifies the first len bytes of a stream. allow_tls: 0 inside TLS. */
enum sniff_result sniff_classify(const uint8_t *buf, size_t len, int allow_tls);
/* Name of a result for logs. */
const char *sniff_name(enum sniff_result r);

#endif
