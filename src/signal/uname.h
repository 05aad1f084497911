/*
 * uname — what a lobby name may be, and when two names are the same.
 *
 * Pure: UTF-8 in, a verdict or a key out. The character rules keep names
 * readable and stop impersonation by look-alikes:
 *   - 1 to UNAME_MAX_CHARS characters, no space at either end;
 *   - ASCII letters, digits, space, '_', '.', '-';
 *   - beyond ASCII only letters, decimal digits and marks of the Unicode
 *     tables (uname_tables.h, generated from Debian's unicode-data):
 *     no unassigned code points (Cn), no enclosing marks (Me), no symbols,
 *     punctuation, format, control or other space characters; a
 *     nonspacing mark (Mn) only if it belongs to a script (a Devanagari or
 *     Thai vowel sign), never a generic combining mark of the Inherited
 *     script (U+0301 and friends);
 *   - one script per name besides Common and Inherited (UTS #39 "highly
 *     restrictive"): Latin, or Cyrillic, or Greek, ..., with the CJK
 *     combinations Han+Hiragana+Katakana, Han+Bopomofo and Han+Hangul.
 * Two names are the same when their fold keys (full Unicode case folding)
 * or their skeletons are equal. The skeleton follows UTS #39: each code
 * point is replaced by the prototype of its confusable class, then case is
 * folded and prototypes are applied again, so "Аda" (Cyrillic А), "Αda"
 * (Greek Α) and "ada" share one skeleton, as do "ǀeo" and "leo".
 */
#ifndef TINCAN_UNAME_H
#define TINCAN_UNAME_H

#include <stddef.h>

#define UNAME_MAX_CHARS 32
#define UNAME_MAX_BYTES (UNAME_MAX_CHARS * 4)
#define UNAME_KEY_MAX (UNAME_MAX_CHARS * 3 * 4 + 1) /* a fold key or skeleton, with its NUL */

enum uname_result {
    UNAME_OK = 0,
    UNAME_BAD_LENGTH,    /* empty, over UNAME_MAX_CHARS, or a space at either end */
    UNAME_BAD_UTF8,      /* not valid UTF-8 (or a NUL) */
    UNAME_BAD_CHAR,      /* a character names may not use */
    UNAME_MIXED_SCRIPTS, /* letters of two scripts */
};

/* Checks the len bytes at s against the rules above. */
enum uname_result uname_check(const char *s, size_t len);
/* A sentence for a result, for error messages. */
const char *uname_strerror(enum uname_result r);
/* Writes the full case folding of a checked name to out (NUL-terminated,
 * at most UNAME_KEY_MAX bytes with cap >= UNAME_KEY_MAX). Returns its
 * length, or -1 if s is not valid UTF-8 or out is too small. */
int uname_fold_key(const char *s, size_t len, char *out, size_t cap);
/* Writes the skeleton of a name to out, like uname_fold_key(). */
int uname_skeleton(const char *s, size_t len, char *out, size_t cap);

#endif
