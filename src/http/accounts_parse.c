/*
 * accounts_parse — what the accounts API checks in a request before a
 * route runs (see accounts_api.h and accounts_int.h): the JSON body parsed
 * into struct accounts_body, the CSRF proof (Origin / Sec-Fetch-Site), and
 * the rules for user names, passwords and room names. Pure functions, no
 * store and no state; fuzz/fuzz_accounts.c drives the body parser.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../base/utf8.h"
#include "accounts_int.h"

/* Copies the string key of obj into out; 0 if absent, -1 if not a string,
 * too long or holding a NUL. */
static int get_string(json_t *obj, const char *key, char out[ACCOUNTS_FIELD_MAX + 1])
{
    json_t *v = json_object_get(obj, key);
    out[0] = '\0';
    if (!v)
        return 0;
    if (!json_is_string(v))
        return -1;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n > ACCOUNTS_FIELD_MAX || strlen(s) != n)
        return -1;
    memcpy(out, s, n + 1);
    return 0;
}

int accounts_parse_body(const uint8_t *body, size_t len, struct accounts_body *out)
{
    memset(out, 0, sizeof(*out));
    out->disabled = -1;
    if (len == 0)
        return 0;
    json_error_t err;
    json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &err);
    int rc = json_is_object(j) ? 0 : -1;
    if (rc == 0 && (get_string(j, "username", out->username) < 0 || get_string(j, "password", out->password) < 0 ||
                    get_string(j, "invite", out->invite) < 0 || get_string(j, "name", out->name) < 0))
        rc = -1;
    out->has_name = rc == 0 && json_object_get(j, "name") != NULL;
    out->has_password = rc == 0 && json_object_get(j, "password") != NULL;
    json_t *d = rc == 0 ? json_object_get(j, "disabled") : NULL;
    if (d && !json_is_boolean(d))
        rc = -1;
    else if (d)
        out->disabled = json_is_true(d);
    json_decref(j);
    return rc;
}

static int header_is(const char *v, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(v, lit, n) == 0;
}

int accounts_same_origin(const struct accounts_request *req)
{
    if (!req->origin && !req->fetch_site)
        return 0;
    if (req->fetch_site && !header_is(req->fetch_site, req->fetch_site_len, "same-origin"))
        return 0;
    if (req->origin) {
        char want[300];
        int n = snprintf(want, sizeof(want), "https://%s", req->host ? req->host : "");
        if (!req->host || !*req->host || n < 0 || (size_t)n >= sizeof(want) ||
            !header_is(req->origin, req->origin_len, want))
            return 0;
    }
    return 1;
}

int accounts_valid_username(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > USERS_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return 0;
    }
    return 1;
}

int accounts_valid_password(const char *pw)
{
    size_t n = strlen(pw);
    return n >= ACCOUNTS_PASSWORD_MIN && n <= ACCOUNTS_PASSWORD_MAX;
}

int accounts_valid_room_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > USERS_ROOM_NAME_MAX || utf8_validate((const uint8_t *)s, n) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    }
    return 1;
}
