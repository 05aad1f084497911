/*
 * chall — the challenges tincan is answering right now, shared between the
 * ACME thread (which adds and removes them) and the event loop (which
 * answers validation requests). One mutex guards the table.
 *
 * HTTP-01 (RFC 8555 §8.3): GET /.well-known/acme-challenge/<token> answers
 * the key authorization. TLS-ALPN-01 (RFC 8737): a TLS client that offers
 * only the "acme-tls/1" protocol and names a pending domain in SNI gets a
 * self-signed certificate for that domain with the critical
 * id-pe-acmeIdentifier extension holding SHA-256(key authorization).
 */
#ifndef TINCAN_ACME_CHALL_H
#define TINCAN_ACME_CHALL_H

#include <stddef.h>
#include <openssl/ssl.h>

#define CHALL_MAX 32
#define ACME_TLS_ALPN "acme-tls/1"

/* Publishes an HTTP-01 answer. Returns 0 or -1 (table full). */
int chall_add_http(const char *token, const char *key_authorization);
/* Publishes a TLS-ALPN-01 answer for domain (builds its certificate).
 * Returns 0 or -1. */
int chall_add_alpn(const char *domain, const char *key_authorization);
/* Withdraws every challenge for this token or domain (either may be NULL). */
void chall_remove(const char *token, const char *domain);
/* Withdraws everything (end of an ACME run, shutdown). */
void chall_clear(void);
/* Copies the key authorization for token into out. Returns its length, or
 * -1 if there is no such pending challenge. */
int chall_http_lookup(const char *token, char *out, size_t cap);
/* Puts the challenge certificate for servername on ssl. Returns 0, or -1 if
 * there is no pending TLS-ALPN-01 challenge for it. */
int chall_alpn_use(SSL *ssl, const char *servername);
/* Builds the RFC 8737 certificate for domain and key authorization with a
 * fresh P-256 key (exposed for tests). Returns 0 or -1; caller frees both. */
int chall_alpn_cert(const char *domain, const char *key_authorization, X509 **cert, EVP_PKEY **key);

#endif
