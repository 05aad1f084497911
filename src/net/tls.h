/*
 * tls — OpenSSL server contexts and tincan's self-signed certificate.
 *
 * tls_ctx_load() builds a server context from PEM files. Without a
 * certificate of the user's own, tls_selfsigned_ensure() creates an ECDSA
 * P-256 certificate in the data directory (names: localhost, 127.0.0.1, ::1,
 * the host name, every local interface address and --san), and reuses it on
 * the next start until it nears expiry. Reloading (SIGHUP) builds a new
 * context; connections keep a reference to the one they started with.
 */
#ifndef TINCAN_TLS_H
#define TINCAN_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

#define TLS_FINGERPRINT_LEN (32 * 3)

/* Makes a server context from a PEM chain and key. Returns NULL with a
 * message in err on failure. The caller owns the context (SSL_CTX_free). */
SSL_CTX *tls_ctx_load(const char *cert_path, const char *key_path, char *err, size_t errlen);
/* Makes sure data_dir/cert.pem and data_dir/key.pem hold a usable
 * self-signed certificate covering the given extra names; creates the
 * directory (0700) and files (key 0600) if needed. Writes both paths.
 * Returns 1 if it created a new certificate, 0 if it reused one, -1 with a
 * message in err on failure. */
int tls_selfsigned_ensure(const char *data_dir, char *const *sans, int nsans,
                          char *cert_path, char *key_path, size_t pathlen, char *err, size_t errlen);
/* Writes the SHA-256 fingerprint of ctx's certificate as "AB:CD:..." into
 * out (TLS_FINGERPRINT_LEN bytes). Returns 0 or -1. */
int tls_ctx_fingerprint(SSL_CTX *ctx, char out[TLS_FINGERPRINT_LEN]);
/* Seconds since the epoch at which ctx's certificate expires, or -1. */
long long tls_ctx_not_after(SSL_CTX *ctx);
/* Records ctx as the context new connections get (the server calls it
 * whenever it loads one), for tls_cert_not_after(). */
void tls_note_served(SSL_CTX *ctx);
/* notAfter (seconds since the epoch) of the certificate new connections are
 * served, or -1 before one is loaded. For /metrics. */
long long tls_cert_not_after(void);

/* Answers ACME TLS-ALPN-01 (RFC 8737): when a client offers exactly the
 * "acme-tls/1" protocol, fn(ssl, servername) may put a challenge certificate
 * on ssl and return 0; the handshake then completes with that certificate
 * and protocol. NULL (the default) turns this off. fn runs on the loop
 * thread during the handshake and must not block. */
typedef int (*tls_challenge_fn)(SSL *ssl, const char *servername);
void tls_set_challenge_hook(tls_challenge_fn fn);
/* True if ssl negotiated "acme-tls/1" (such a connection carries no data). */
int tls_is_acme_challenge(SSL *ssl);

#endif
