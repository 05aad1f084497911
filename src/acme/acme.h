/*
 * acme — obtains a certificate from an ACME CA (RFC 8555), such as Let's
 * Encrypt, and keeps it in files.
 *
 * acme_obtain() runs a whole order with blocking I/O, so it belongs on a
 * thread of its own: directory, nonce, account (created or found again by
 * its key), order, one challenge per authorization (TLS-ALPN-01 when the
 * CA offers it, else HTTP-01 when the caller serves it, or as the caller
 * prefers), finalize with a CSR for a fresh P-256 key,
 * polling with Retry-After, download. Challenges are published through
 * chall.h for the event loop to answer. Files are written atomically, keys
 * with mode 0600.
 *
 * Layout: everything of one CA lives in <data-dir>/acme/<16 hex digits of
 * SHA-256 of the directory URL>/ (account.key, directory.url, and one
 * <domain>.pem per certificate holding the key then the chain), so that a
 * changed CA means a new account and a new certificate. The key and its
 * certificate are one file, replaced by one rename.
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
    const char *pem_path;         /* key + chain, one file */
    int http01;                   /* HTTP-01 is answered (--http-port) */
    int prefer_http01;            /* use HTTP-01 even where TLS-ALPN-01 is offered */
    int no_tlsalpn01;             /* never use TLS-ALPN-01 (--acme-challenge http-01) */
    int timeout_s;                /* per HTTPS request */
    int poll_max_s;               /* give up waiting for the CA after this */
};

#define ACME_HASH_HEX 16

/* Runs one order. Returns 0 once pem_path holds the new key and
 * certificate chain, or -1 with a message in err. */
int acme_obtain(const struct acme_params *p, char *err, size_t errlen);

enum acme_cert_fit {
    ACME_CERT_NONE = -1,   /* missing, broken, key mismatch, or not for domains[0] */
    ACME_CERT_ALL = 0,     /* covers every domain */
    ACME_CERT_FIRST = 1,   /* covers domains[0] but not every other one */
};
/* Checks the stored key + chain file: readable, matching key, which of the
 * domains it covers. Writes its notBefore and notAfter (seconds since the
 * epoch). Expiry is the caller's decision. */
enum acme_cert_fit acme_cert_check(const char *pem_path, char *const *domains, int ndomains, long long *not_before,
                                   long long *not_after);

/* The directory URL in use: custom if given, else Let's Encrypt staging
 * or production. */
const char *acme_directory_url(const char *custom, int staging);
/* <data_dir>/acme/<hash of directory> into out. Returns 0, or -1 if too long. */
int acme_ca_dir(const char *data_dir, const char *directory, char *out, size_t len);
/* Pure: seconds from now until the certificate valid from not_before to
 * not_after should be renewed (<= 0: now). Renewal is at the earlier of
 * renew_days before expiry and one third of the lifetime before expiry, so
 * short-lived certificates are not renewed as soon as they arrive. */
long long acme_renew_in(long long now, long long not_before, long long not_after, int renew_days);

#endif
