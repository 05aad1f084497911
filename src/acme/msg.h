/*
 * msg — ACME (RFC 8555) JSON messages: parsers for the directory, orders,
 * authorizations and problem documents a CA sends, and builders for the
 * payloads tincan sends. Pure: bytes in, structs or text out (jansson
 * underneath). Every string kept from the CA has a fixed ceiling and is
 * checked to be printable ASCII without quotes, so it can be logged and put
 * into a JWS header as it is.
 */
#ifndef TINCAN_ACME_MSG_H
#define TINCAN_ACME_MSG_H

#include <stddef.h>
#include <stdint.h>

#define ACME_URL_MAX 512
#define ACME_NAME_MAX 254
#define ACME_TOKEN_MAX 128
#define ACME_MAX_AUTHZ 32
#define ACME_MAX_CHALL 8

enum acme_status {
    ACME_ST_UNKNOWN, ACME_ST_PENDING, ACME_ST_READY, ACME_ST_PROCESSING,
    ACME_ST_VALID, ACME_ST_INVALID, ACME_ST_EXPIRED, ACME_ST_DEACTIVATED, ACME_ST_REVOKED,
};

enum acme_chall_type { ACME_CH_OTHER, ACME_CH_HTTP01, ACME_CH_TLSALPN01, ACME_CH_DNS01 };

struct acme_directory {
    char new_nonce[ACME_URL_MAX], new_account[ACME_URL_MAX], new_order[ACME_URL_MAX];
};

struct acme_order {
    enum acme_status status;
    char authz[ACME_MAX_AUTHZ][ACME_URL_MAX];
    int nauthz;
    char finalize[ACME_URL_MAX];
    char certificate[ACME_URL_MAX]; /* "" until the order is valid */
};

struct acme_challenge {
    enum acme_chall_type type;
    enum acme_status status;
    char url[ACME_URL_MAX];
    char token[ACME_TOKEN_MAX];
    char error[200];  /* the CA's detail once it failed, sanitized; or "" */
};

struct acme_authz {
    enum acme_status status;
    char domain[ACME_NAME_MAX + 1]; /* identifier value (type dns) */
    int wildcard;
    struct acme_challenge ch[ACME_MAX_CHALL];
    int nch;
};

struct acme_problem {
    char type[128];   /* "urn:ietf:params:acme:error:badNonce", or "" */
    char detail[256]; /* sanitized for logs: quotes and controls become '_' */
};

/* Each parser returns 0, or -1 if the bytes are not JSON of the expected
 * shape (a required member missing or too long). out is always written. */
int acme_parse_directory(const uint8_t *buf, size_t len, struct acme_directory *out);
int acme_parse_order(const uint8_t *buf, size_t len, struct acme_order *out);
int acme_parse_authz(const uint8_t *buf, size_t len, struct acme_authz *out);
/* A problem document (RFC 7807); also finds one nested in a challenge's or
 * authorization's "error" member. Returns 0 if a type was found, else -1. */
int acme_parse_problem(const uint8_t *buf, size_t len, struct acme_problem *out);
/* "valid" → ACME_ST_VALID; unknown text → ACME_ST_UNKNOWN. */
enum acme_status acme_status_parse(const char *s);
const char *acme_status_name(enum acme_status st);
/* Retry-After (RFC 9110 §10.2.3) as delay-seconds; an HTTP-date or garbage
 * gives def. The result is clamped to [1, max]. */
long acme_retry_after(const char *value, long def, long max);

/* Builders: return the length written to out, or -1 if out is too small or
 * an input is unusable (a name with characters a DNS name cannot hold). */
int acme_build_new_account(const char *email, char *out, size_t cap);
int acme_build_new_order(char *const *domains, int n, char *out, size_t cap);
int acme_build_finalize(const uint8_t *csr_der, size_t len, char *out, size_t cap);
/* True if name is a DNS name tincan will ask a certificate for: labels of
 * letters, digits and '-', dots between, at most 253 characters. */
int acme_domain_ok(const char *name);

#endif
