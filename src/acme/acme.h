/*
 * acme — obtains a certificate from an ACME CA (RFC 8555), such as Let's
 * Encrypt, and keeps it in files.
 *
 * acme_obtain() runs a whole order with blocking I/O, so it belongs on a
 * thread of its own: directory, nonce, account (created or found again by
 * its key), order, one challenge per authorization (TLS-ALPN-01, or HTTP-01
 * when the caller serves it), finalize with a CSR for a fresh P-256 key,
 * polling with Retry-After, download. Challenges are published through
 * chall.h for the event loop to answer. Files are written atomically, keys
 * with mode 0600.
 */
#ifndef TINCAN_ACME_ACME_H
#define TINCAN_ACME_ACME_H

#include <stddef.h>

#define ACME_LE_PRODUCTION "https://acme-v02.api.letsencrypt.org/directory"
#define ACME_LE_STAGING "https://acme-staging-v02.api.letsencrypt.org/directory"

struct acme_params {
    const char *directory;        /* directory URL */
    const char *ca_file;          /* extra CA bundle to trust for it, or NULL */
    const char *email;            /* account contact, or NULL */
    char *const *domains;         /* first one is the certificate's CN */
    int ndomains;
    const char *account_key_path; /* created (0600) if missing */
    const char *cert_path, *key_path;
    int http01;                   /* HTTP-01 is answered (--http-port) */
    int timeout_s;                /* per HTTPS request */
    int poll_max_s;               /* give up waiting for the CA after this */
};

/* Runs one order. Returns 0 once cert_path and key_path hold the new
 * certificate chain and key, or -1 with a message in err. */
int acme_obtain(const struct acme_params *p, char *err, size_t errlen);
/* Checks the stored certificate: readable, matching key, covering every
 * domain. Writes its notAfter (seconds since the epoch). Returns 0 if
 * usable, -1 if not (missing, other names, broken). Expiry is the caller's
 * decision. */
int acme_cert_check(const char *cert_path, const char *key_path, char *const *domains, int ndomains,
                    long long *not_after);

#endif
