/*
 * cookie — Cookie header parsing and Set-Cookie writing (see cookie.h).
 */
#include "cookie.h"

#include <stdio.h>
#include <string.h>

/* RFC 6265 cookie-octet: printable ASCII but space, '"', ',', ';', '\'. */
static int cookie_octet(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
}

static int value_ok(const char *v, size_t n)
{
    if (n > COOKIE_VALUE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!cookie_octet((unsigned char)v[i]))
            return 0;
    }
    return 1;
}

/* Checks one "name=value" pair (already trimmed) against name. */
static int pair_matches(const char *p, size_t n, const char *name, const char **val, size_t *val_len)
{
    size_t nl = strlen(name);
    if (n <= nl || memcmp(p, name, nl) != 0 || p[nl] != '=')
        return 0;
    const char *v = p + nl + 1;
    size_t vl = n - nl - 1;
    if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
        v++;
        vl -= 2;
    }
    if (!value_ok(v, vl))
        return 0;
    *val = v;
    *val_len = vl;
    return 1;
}

int cookie_find(const char *hdr, size_t len, const char *name, const char **val, size_t *val_len)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && hdr[end] != ';')
            end++;
        size_t a = i, b = end;
        while (a < b && (hdr[a] == ' ' || hdr[a] == '\t'))
            a++;
        while (b > a && (hdr[b - 1] == ' ' || hdr[b - 1] == '\t'))
            b--;
        if (pair_matches(hdr + a, b - a, name, val, val_len))
            return 1;
        i = end + 1;
    }
    return 0;
}

int cookie_format(char *out, size_t cap, const char *name, const char *value, long max_age)
{
    int n = snprintf(out, cap, "%s=%s; Path=/; Max-Age=%ld; HttpOnly; Secure; SameSite=Strict", name, value,
                     max_age);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}
