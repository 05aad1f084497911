/*
 * uname — lobby name rules and keys (see uname.h).
 */
#include "uname.h"

#include <stdint.h>
#include <string.h>

#include "../base/utf8.h"

enum uname_class { UNAME_LETTER = 1, UNAME_DIGIT, UNAME_MARK, UNAME_NONSPACING };

struct class_range {
    uint32_t lo, hi;
    enum uname_class cls;
};
struct script_range {
    uint32_t lo, hi;
    uint16_t script;
};
struct fold_entry {
    uint32_t cp, to[3];
};
struct proto_entry {
    uint32_t cp, proto;
};

#include "uname_tables.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SCRIPT_COMMON 0
#define SCRIPT_INHERITED 1

/* --- table look-ups (binary search) --- */

static enum uname_class class_of(uint32_t cp)
{
    size_t lo = 0, hi = N(class_ranges);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < class_ranges[mid].lo)
            hi = mid;
        else if (cp > class_ranges[mid].hi)
            lo = mid + 1;
        else
            return class_ranges[mid].cls;
    }
    return 0;
}

static unsigned script_of(uint32_t cp)
{
    size_t lo = 0, hi = N(script_ranges);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < script_ranges[mid].lo)
            hi = mid;
        else if (cp > script_ranges[mid].hi)
            lo = mid + 1;
        else
            return script_ranges[mid].script;
    }
    return SCRIPT_COMMON;
}

static const struct fold_entry *fold_of(uint32_t cp)
{
    size_t lo = 0, hi = N(fold_table);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp == fold_table[mid].cp)
            return &fold_table[mid];
        if (cp < fold_table[mid].cp)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static uint32_t proto_of(uint32_t cp)
{
    size_t lo = 0, hi = N(proto_table);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp == proto_table[mid].cp)
            return proto_table[mid].proto;
        if (cp < proto_table[mid].cp)
            hi = mid;
        else
            lo = mid + 1;
    }
    return cp;
}

static unsigned script_id(const char *name)
{
    for (unsigned i = 0; i < N(script_names); i++) {
        if (strcmp(script_names[i], name) == 0)
            return i;
    }
    return SCRIPT_COMMON;
}

/* --- UTF-8 --- */

/* Decodes the code point at s (valid UTF-8, checked before); returns its length. */
static size_t decode(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
    uint32_t v = s[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++)
        v = (v << 6) | (s[i] & 0x3F);
    *cp = v;
    return n;
}

static size_t encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int valid_utf8(const char *s, size_t len)
{
    return utf8_validate((const uint8_t *)s, len) == 0 && memchr(s, '\0', len) == NULL;
}

/* --- the rules --- */

static int ascii_ok(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '_' ||
           c == '.' || c == '-';
}

/* The script a character counts for (Common/Inherited count for none), or
 * -1 if names may not use it. */
static int char_script(uint32_t c)
{
    if (c < 0x80) {
        if (!ascii_ok(c))
            return -1;
        return (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? (int)script_of(c) : SCRIPT_COMMON;
    }
    enum uname_class cls = class_of(c);
    unsigned script = script_of(c);
    if (!cls)
        return -1;
    if (cls == UNAME_NONSPACING && (script == SCRIPT_COMMON || script == SCRIPT_INHERITED))
        return -1; /* generic combining marks stack onto any letter */
    return (int)script;
}

/* Whether the scripts seen (ids, n of them, none Common or Inherited) may
 * stand together in one name. */
static int scripts_ok(const unsigned *ids, size_t n)
{
    if (n <= 1)
        return 1;
    static const char *const combos[][4] = {
        { "Han", "Hiragana", "Katakana", NULL },
        { "Han", "Bopomofo", NULL, NULL },
        { "Han", "Hangul", NULL, NULL },
    };
    for (size_t k = 0; k < N(combos); k++) {
        size_t in = 0;
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < 4 && combos[k][j]; j++)
                in += ids[i] == script_id(combos[k][j]);
        }
        if (in == n)
            return 1;
    }
    return 0;
}

enum uname_result uname_check(const char *s, size_t len)
{
    if (!valid_utf8(s, len))
        return UNAME_BAD_UTF8;
    if (len == 0 || len > UNAME_MAX_BYTES || s[0] == ' ' || s[len - 1] == ' ')
        return UNAME_BAD_LENGTH;
    unsigned seen[UNAME_MAX_CHARS];
    size_t nseen = 0, chars = 0;
    for (size_t i = 0; i < len; chars++) {
        uint32_t c;
        i += decode((const unsigned char *)s + i, &c);
        int script = char_script(c);
        if (script < 0)
            return UNAME_BAD_CHAR;
        if (chars >= UNAME_MAX_CHARS)
            return UNAME_BAD_LENGTH;
        if (script == SCRIPT_COMMON || script == SCRIPT_INHERITED)
            continue;
        size_t k = 0;
        while (k < nseen && seen[k] != (unsigned)script)
            k++;
        if (k == nseen)
            seen[nseen++] = (unsigned)script;
    }
    return scripts_ok(seen, nseen) ? UNAME_OK : UNAME_MIXED_SCRIPTS;
}

const char *uname_strerror(enum uname_result r)
{
    switch (r) {
    case UNAME_OK:
        return "ok";
    case UNAME_BAD_LENGTH:
        return "a name is 1-32 characters, without a space at either end";
    case UNAME_BAD_UTF8:
        return "a name is UTF-8 text without NUL";
    case UNAME_BAD_CHAR:
        return "a name is letters, digits, spaces, '_', '.' or '-' (no symbols, emoji or combining marks)";
    case UNAME_MIXED_SCRIPTS:
        return "a name is written in one script (not Latin and Cyrillic, say)";
    }
    return "invalid name";
}

/* --- keys --- */

enum key_step { STEP_FOLD, STEP_PROTO };

/* Applies one step to every code point of s, writing UTF-8 to out. */
static int apply(const char *s, size_t len, enum key_step step, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t c, to[3] = { 0 };
        i += decode((const unsigned char *)s + i, &c);
        if (step == STEP_PROTO) {
            to[0] = proto_of(c);
        } else {
            const struct fold_entry *f = fold_of(c);
            if (f)
                memcpy(to, f->to, sizeof(to));
            else
                to[0] = c;
        }
        for (int k = 0; k < 3 && to[k]; k++) {
            if (o + 4 >= cap)
                return -1;
            o += encode(to[k], out + o);
        }
    }
    out[o] = '\0';
    return (int)o;
}

int uname_fold_key(const char *s, size_t len, char *out, size_t cap)
{
    if (!valid_utf8(s, len) || cap == 0)
        return -1;
    return apply(s, len, STEP_FOLD, out, cap);
}

/* One round of the skeleton: prototypes, case fold, prototypes again. */
static int skeleton_round(const char *s, size_t len, char *out, size_t cap)
{
    char a[UNAME_KEY_MAX * 2], b[UNAME_KEY_MAX * 2];
    int n = apply(s, len, STEP_PROTO, a, sizeof(a));
    if (n >= 0)
        n = apply(a, (size_t)n, STEP_FOLD, b, sizeof(b));
    if (n >= 0)
        n = apply(b, (size_t)n, STEP_PROTO, out, cap);
    return n;
}

/*
 * Folding can make a new prototype appear (U+03DA folds to U+03DB, whose
 * prototype U+03C2 folds to U+03C3, whose prototype is "o"), so rounds run
 * until the skeleton stops changing: a skeleton is its own skeleton, and two
 * names that look alike through such a chain still collide.
 */
#define SKELETON_ROUNDS 8

int uname_skeleton(const char *s, size_t len, char *out, size_t cap)
{
    char cur[UNAME_KEY_MAX * 2], next[UNAME_KEY_MAX * 2];
    if (!valid_utf8(s, len) || len > UNAME_KEY_MAX)
        return -1;
    int n = skeleton_round(s, len, cur, sizeof(cur));
    for (int round = 1; n >= 0 && round < SKELETON_ROUNDS; round++) {
        int m = skeleton_round(cur, (size_t)n, next, sizeof(next));
        if (m < 0)
            return -1;
        if (m == n && memcmp(cur, next, (size_t)n) == 0)
            break;
        memcpy(cur, next, (size_t)m + 1);
        n = m;
    }
    if (n < 0 || (size_t)n >= cap)
        return -1;
    memcpy(out, cur, (size_t)n + 1);
    return n;
}
