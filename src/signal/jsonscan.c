/*
 * jsonscan — top-level member spans of a JSON object (see jsonscan.h).
 */
#include "jsonscan.h"

#include <string.h>

static size_t skip_ws(const char *t, size_t i, size_t len)
{
    while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
        i++;
    return i;
}

/* t[i] is '"': returns the index after the closing quote (0 if none);
 * *escaped tells whether the string holds a backslash. */
static size_t skip_string(const char *t, size_t i, size_t len, int *escaped)
{
    *escaped = 0;
    for (i++; i < len; i++) {
        if (t[i] == '\\') {
            *escaped = 1;
            i++;
        } else if (t[i] == '"') {
            return i + 1;
        }
    }
    return 0;
}

/* Returns the index after the value starting at t[i] (0 if malformed). */
static size_t skip_value(const char *t, size_t i, size_t len)
{
    int depth = 0, esc;
    while (i < len) {
        char c = t[i];
        if (c == '"') {
            i = skip_string(t, i, len, &esc);
            if (!i)
                return 0;
            if (depth == 0)
                return i;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return i; /* end of a literal or number at the object's end */
            if (--depth == 0)
                return i + 1;
        } else if (c == ',' && depth == 0) {
            return i;
        }
        i++;
    }
    return 0;
}

enum jsonscan_result jsonscan_member(const char *text, size_t len, const char *key, size_t *start, size_t *end)
{
    size_t klen = strlen(key);
    size_t i = skip_ws(text, 0, len);
    if (i >= len || text[i] != '{')
        return JSONSCAN_BAD;
    size_t prev_comma = 0; /* index of the comma before the current member, 0 for the first */
    i = skip_ws(text, i + 1, len);
    while (i < len && text[i] == '"') {
        size_t member = i;
        int esc;
        size_t kend = skip_string(text, i, len, &esc);
        if (!kend)
            return JSONSCAN_BAD;
        if (esc)
            return JSONSCAN_ESCAPED;
        int match = kend - member - 2 == klen && memcmp(text + member + 1, key, klen) == 0;
        i = skip_ws(text, kend, len);
        if (i >= len || text[i] != ':')
            return JSONSCAN_BAD;
        i = skip_ws(text, i + 1, len);
        size_t vend = skip_value(text, i, len);
        if (!vend)
            return JSONSCAN_BAD;
        i = skip_ws(text, vend, len);
        int comma_after = i < len && text[i] == ',';
        if (match) {
            if (comma_after) {
                *start = member;
                *end = skip_ws(text, i + 1, len);
            } else {
                *start = prev_comma ? prev_comma : member;
                *end = vend;
            }
            return JSONSCAN_FOUND;
        }
        if (!comma_after)
            break;
        prev_comma = i;
        i = skip_ws(text, i + 1, len);
    }
    return i < len && text[i] == '}' ? JSONSCAN_ABSENT : JSONSCAN_BAD;
}
