/*
 * utf8 — incremental UTF-8 validation (see utf8.h).
 *
 * The lead byte fixes how many continuation bytes follow and, for E0, ED, F0
 * and F4, narrows the range of the first of them; that single rule excludes
 * overlong encodings, surrogates and values past U+10FFFF.
 */
#include "utf8.h"

static int lead(struct utf8_state *s, uint8_t c)
{
    s->lo = 0x80;
    s->hi = 0xBF;
    if (c < 0x80) {
        s->need = 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
        s->need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        s->need = 2;
        if (c == 0xE0)
            s->lo = 0xA0;
        else if (c == 0xED)
            s->hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        s->need = 3;
        if (c == 0xF0)
            s->lo = 0x90;
        else if (c == 0xF4)
            s->hi = 0x8F;
    } else {
        return -1;
    }
    return 0;
}

int utf8_feed(struct utf8_state *s, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if (s->need == 0) {
            if (c < 0x80)
                continue;
            if (lead(s, c) < 0)
                return -1;
            continue;
        }
        if (c < s->lo || c > s->hi)
            return -1;
        s->lo = 0x80;
        s->hi = 0xBF;
        s->need--;
    }
    return 0;
}

int utf8_validate(const uint8_t *p, size_t len)
{
    struct utf8_state s;
    utf8_init(&s);
    if (utf8_feed(&s, p, len) < 0)
        return -1;
    return utf8_complete(&s) ? 0 : -1;
}
