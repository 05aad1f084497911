/*
 * utf8 — incremental UTF-8 validation (RFC 3629).
 *
 * A text message may arrive in fragments that split a character, so the
 * validator keeps state between calls. Overlong forms, surrogates
 * (U+D800..U+DFFF) and code points above U+10FFFF are invalid.
 */
#ifndef TINCAN_UTF8_H
#define TINCAN_UTF8_H

#include <stddef.h>
#include <stdint.h>

struct utf8_state {
    uint8_t need;   /* continuation bytes still expected */
    uint8_t lo, hi; /* allowed range of the next continuation byte */
};

/* Resets to "between characters". */
static inline void utf8_init(struct utf8_state *s) { s->need = 0; s->lo = 0x80; s->hi = 0xBF; }
/* Feeds len bytes; returns 0 while the input is valid so far, -1 once it is not. */
int utf8_feed(struct utf8_state *s, const uint8_t *p, size_t len);
/* True when the input so far ends on a character boundary. */
static inline int utf8_complete(const struct utf8_state *s) { return s->need == 0; }
/* Validates a whole string: 0 if valid UTF-8, -1 if not. */
int utf8_validate(const uint8_t *p, size_t len);

#endif
