/*
 * cookie — finds one cookie in a Cookie request header (RFC 6265 §5.4:
 * "name=value; name2=value2"), and writes Set-Cookie values.
 *
 * Pure and zero-copy: the value found points into the header.
 */
#ifndef TINCAN_COOKIE_H
#define TINCAN_COOKIE_H

#include <stddef.h>

#define COOKIE_VALUE_MAX 512 /* longer values are ignored */

/* Looks for the cookie called name (exact, case-sensitive) in the header
 * value hdr (len bytes). Returns 1 and sets *val and *val_len to its value
 * (without surrounding double quotes) when found with a value of at most
 * COOKIE_VALUE_MAX bytes made of cookie-octets; 0 otherwise. With several
 * cookies of that name the first wins (the browser sends the one with the
 * longest path first). */
int cookie_find(const char *hdr, size_t len, const char *name, const char **val, size_t *val_len);
/* Writes "name=value; Path=/; Max-Age=N; HttpOnly; Secure; SameSite=Strict"
 * into out (value "" and max_age 0 clear the cookie). Returns the length,
 * or -1 if it does not fit in cap. */
int cookie_format(char *out, size_t cap, const char *name, const char *value, long max_age);

#endif
