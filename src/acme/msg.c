/*
 * msg — ACME JSON parsers and payload builders (see msg.h).
 */
#include "msg.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/alloc.h"
#include "jws.h"

static void sanitize(const char *in, char *out, size_t cap);

static const char *const status_names[] = {
    [ACME_ST_UNKNOWN] = "unknown", [ACME_ST_PENDING] = "pending", [ACME_ST_READY] = "ready",
    [ACME_ST_PROCESSING] = "processing", [ACME_ST_VALID] = "valid", [ACME_ST_INVALID] = "invalid",
    [ACME_ST_EXPIRED] = "expired", [ACME_ST_DEACTIVATED] = "deactivated", [ACME_ST_REVOKED] = "revoked",
};

enum acme_status acme_status_parse(const char *s)
{
    for (size_t i = 1; s && i < sizeof(status_names) / sizeof(status_names[0]); i++) {
        if (strcmp(s, status_names[i]) == 0)
            return (enum acme_status)i;
    }
    return ACME_ST_UNKNOWN;
}

const char *acme_status_name(enum acme_status st)
{
    return (unsigned)st < sizeof(status_names) / sizeof(status_names[0]) ? status_names[st] : "unknown";
}

static json_t *load_object(const uint8_t *buf, size_t len)
{
    json_error_t err;
    json_t *j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* Copies the JSON string v into out if it is printable, without quotes or
 * backslashes, and shorter than cap. Returns 0 or -1 (out is then ""). */
static int copy_str(json_t *v, char *out, size_t cap)
{
    const char *s = json_string_value(v);
    out[0] = '\0';
    if (!s || strlen(s) >= cap)
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
            return -1;
    }
    strcpy(out, s);
    return 0;
}

static int get_str(json_t *obj, const char *key, char *out, size_t cap)
{
    return copy_str(json_object_get(obj, key), out, cap);
}

static enum acme_status get_status(json_t *obj)
{
    return acme_status_parse(json_string_value(json_object_get(obj, "status")));
}

int acme_parse_directory(const uint8_t *buf, size_t len, struct acme_directory *out)
{
    memset(out, 0, sizeof(*out));
    json_t *j = load_object(buf, len);
    int rc = -1;
    if (j && get_str(j, "newNonce", out->new_nonce, sizeof(out->new_nonce)) == 0 &&
        get_str(j, "newAccount", out->new_account, sizeof(out->new_account)) == 0 &&
        get_str(j, "newOrder", out->new_order, sizeof(out->new_order)) == 0)
        rc = 0;
    json_decref(j);
    return rc;
}

int acme_parse_order(const uint8_t *buf, size_t len, struct acme_order *out)
{
    memset(out, 0, sizeof(*out));
    json_t *j = load_object(buf, len);
    int rc = -1;
    if (!j)
        return -1;
    out->status = get_status(j);
    json_t *authz = json_object_get(j, "authorizations");
    if (out->status == ACME_ST_UNKNOWN || !json_is_array(authz) || json_array_size(authz) > ACME_MAX_AUTHZ ||
        get_str(j, "finalize", out->finalize, sizeof(out->finalize)) < 0)
        goto out;
    size_t i;
    json_t *v;
    json_array_foreach(authz, i, v) {
        if (copy_str(v, out->authz[i], sizeof(out->authz[i])) < 0)
            goto out;
        out->nauthz++;
    }
    /* Present once the order is valid; absent or unusable means "not yet". */
    if (json_object_get(j, "certificate") &&
        get_str(j, "certificate", out->certificate, sizeof(out->certificate)) < 0)
        goto out;
    rc = 0;
out:
    json_decref(j);
    return rc;
}

static enum acme_chall_type chall_type(const char *t)
{
    if (!t)
        return ACME_CH_OTHER;
    if (strcmp(t, "http-01") == 0)
        return ACME_CH_HTTP01;
    if (strcmp(t, "tls-alpn-01") == 0)
        return ACME_CH_TLSALPN01;
    if (strcmp(t, "dns-01") == 0)
        return ACME_CH_DNS01;
    return ACME_CH_OTHER;
}

/* Reads one challenge; ones tincan cannot use are skipped (returns 1). */
static int parse_challenge(json_t *c, struct acme_challenge *out)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(c))
        return -1;
    out->type = chall_type(json_string_value(json_object_get(c, "type")));
    out->status = get_status(c);
    json_t *e = json_object_get(c, "error");
    if (json_is_object(e))
        sanitize(json_string_value(json_object_get(e, "detail")), out->error, sizeof(out->error));
    if (get_str(c, "url", out->url, sizeof(out->url)) < 0)
        return -1;
    if (out->type == ACME_CH_OTHER)
        return 1;
    char ka[ACME_TOKEN_MAX + 64];
    if (get_str(c, "token", out->token, sizeof(out->token)) < 0 ||
        jws_key_authorization(out->token, "x", ka, sizeof(ka)) < 0)
        return -1;
    return 0;
}

int acme_parse_authz(const uint8_t *buf, size_t len, struct acme_authz *out)
{
    memset(out, 0, sizeof(*out));
    json_t *j = load_object(buf, len);
    int rc = -1;
    if (!j)
        return -1;
    out->status = get_status(j);
    json_t *id = json_object_get(j, "identifier");
    json_t *chs = json_object_get(j, "challenges");
    const char *type = json_string_value(json_object_get(id, "type"));
    if (out->status == ACME_ST_UNKNOWN || !type || strcmp(type, "dns") != 0 || !json_is_array(chs) ||
        get_str(id, "value", out->domain, sizeof(out->domain)) < 0)
        goto out;
    out->wildcard = json_is_true(json_object_get(j, "wildcard"));
    size_t i;
    json_t *v;
    json_array_foreach(chs, i, v) {
        if (out->nch == ACME_MAX_CHALL)
            break;
        int r = parse_challenge(v, &out->ch[out->nch]);
        if (r < 0)
            goto out;
        if (r == 0)
            out->nch++;
    }
    rc = 0;
out:
    json_decref(j);
    return rc;
}

static void sanitize(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in && in[i] && i + 1 < cap; i++) {
        unsigned char ch = (unsigned char)in[i];
        out[i] = ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\' ? '_' : (char)ch;
    }
    out[i] = '\0';
}

int acme_parse_problem(const uint8_t *buf, size_t len, struct acme_problem *out)
{
    memset(out, 0, sizeof(*out));
    json_t *j = load_object(buf, len);
    if (!j)
        return -1;
    json_t *p = j;
    if (!json_object_get(p, "type") || json_is_object(json_object_get(p, "error")))
        p = json_object_get(j, "error");
    sanitize(json_string_value(json_object_get(p, "type")), out->type, sizeof(out->type));
    sanitize(json_string_value(json_object_get(p, "detail")), out->detail, sizeof(out->detail));
    json_decref(j);
    return out->type[0] ? 0 : -1;
}

long acme_retry_after(const char *value, long def, long max)
{
    long v = def;
    if (value) {
        char *end;
        errno = 0;
        long n = strtol(value, &end, 10);
        if (!errno && end != value && *end == '\0' && isdigit((unsigned char)value[0]))
            v = n;
    }
    if (v < 1)
        v = 1;
    return v > max ? max : v;
}

int acme_domain_ok(const char *name)
{
    size_t n = strlen(name), label = 0;
    if (n == 0 || n > 253 || name[0] == '.' || name[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (isalnum((unsigned char)c) || c == '-') {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return 1;
}

/* Dumps j compactly into out; -1 if it does not fit. */
static int dump(json_t *j, char *out, size_t cap)
{
    if (!j)
        return -1;
    size_t n = json_dumpb(j, out, cap, JSON_COMPACT);
    json_decref(j);
    if (n == 0 || n >= cap)
        return -1;
    out[n] = '\0';
    return (int)n;
}

int acme_build_new_account(const char *email, char *out, size_t cap)
{
    json_t *j = json_pack("{sb}", "termsOfServiceAgreed", 1);
    if (email && *email) {
        if (strchr(email, ',') || !strchr(email, '@')) {
            json_decref(j);
            return -1;
        }
        char mailto[320];
        snprintf(mailto, sizeof(mailto), "mailto:%s", email);
        json_object_set_new(j, "contact", json_pack("[s]", mailto));
    }
    return dump(j, out, cap);
}

int acme_build_new_order(char *const *domains, int n, char *out, size_t cap)
{
    json_t *ids = json_array();
    for (int i = 0; i < n; i++) {
        if (!acme_domain_ok(domains[i])) {
            json_decref(ids);
            return -1;
        }
        json_array_append_new(ids, json_pack("{ssss}", "type", "dns", "value", domains[i]));
    }
    return dump(json_pack("{so}", "identifiers", ids), out, cap);
}

int acme_build_finalize(const uint8_t *csr_der, size_t len, char *out, size_t cap)
{
    size_t b64cap = len * 4 / 3 + 4;
    char *b64 = xmalloc(b64cap);
    jws_b64url(csr_der, len, b64, b64cap);
    int n = dump(json_pack("{ss}", "csr", b64), out, cap);
    xfree(b64);
    return n;
}
